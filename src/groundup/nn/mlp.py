"""The multilayer perceptron from tensor operations: linear layers, activations, initialisation.

A linear (fully connected) layer is an affine map. With PyTorch's layout, weight (out, in)
and bias (out,), a batch x (..., in) becomes

    y = x @ W.T + b                                   (..., out)

An MLP stacks such layers with a nonlinearity between them; without it the stack would
collapse into one affine map. The last layer has no activation: it returns logits.

Initialisation decides whether a signal survives many layers. If the weights of a layer
have variance Var(W) and the layer sees fan_in inputs of variance v, its outputs have
variance about fan_in * Var(W) * v. Keeping that product at 1 gives

    Xavier/Glorot (Glorot & Bengio 2010): Var(W) = gain^2 * 2 / (fan_in + fan_out)
    Kaiming/He    (He et al. 2015):       Var(W) = gain^2 / fan_in,  gain^2 = 2 for ReLU

(ReLU zeroes half of its inputs, hence the 2.) A uniform draw on [-a, a] has variance
a^2 / 3, so the uniform versions use a = sqrt(3) * std. torch.nn.Linear's default is
kaiming_uniform with a = sqrt(5), i.e. bound 1/sqrt(fan_in), and a bias uniform in
[-1/sqrt(fan_in), 1/sqrt(fan_in)]. The random draws themselves are tensor.uniform_ and
tensor.normal_ with an explicit generator, so the same seed gives the same numbers as
torch.nn.init and torch.nn.Linear.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

# ---------------------------------------------------------------- the affine map


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x (..., in) @ weight (out, in).T + bias (out,) -> (..., out), as F.linear."""
    y = x @ weight.T
    return y if bias is None else y + bias  # bias broadcasts over the last axis


# ---------------------------------------------------------------- activations


def relu(x: Tensor) -> Tensor:
    """max(x, 0); the gradient at exactly 0 is 0, as in torch."""
    return torch.where(x > 0, x, torch.zeros_like(x))


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise: negative inputs keep a small gradient."""
    return torch.where(x > 0, x, negative_slope * x)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x) without overflow: each branch only ever exponentiates a number <= 0."""
    positive = 1 / (1 + torch.exp(-x.clamp(min=0)))
    e = torch.exp(x.clamp(max=0))
    return torch.where(x >= 0, positive, e / (1 + e))


def tanh(x: Tensor) -> Tensor:
    """tanh(x) = 2 * sigmoid(2x) - 1 (a rescaled sigmoid, centred at zero)."""
    return 2 * sigmoid(2 * x) - 1


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x), also called swish."""
    return x * sigmoid(x)


def gelu(x: Tensor) -> Tensor:
    """x * Phi(x), Phi the standard normal CDF: 0.5 * x * (1 + erf(x / sqrt(2)))."""
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2.0)))


def gelu_tanh(x: Tensor) -> Tensor:
    """The tanh approximation of GELU (GPT-2, F.gelu(approximate='tanh'))."""
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    return 0.5 * x * (1 + torch.tanh(inner))


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along dim. Subtracting the max changes nothing (softmax is
    shift invariant) but keeps exp from overflowing; detached since its gradient is zero."""
    shifted = x - x.amax(dim=dim, keepdim=True).detach()
    e = torch.exp(shifted)
    return e / e.sum(dim=dim, keepdim=True)


def identity(x: Tensor) -> Tensor:
    return x


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "gelu": gelu,
    "gelu_tanh": gelu_tanh,
    "silu": silu,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "identity": identity,
}


# ---------------------------------------------------------------- initialisation


def fans(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (out, in, *kernel): inputs and outputs per unit."""
    if tensor.dim() < 2:
        raise ValueError("fan_in and fan_out need a tensor with at least two dimensions")
    receptive = math.prod(tensor.shape[2:])  # 1 for a linear layer
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that makes up for how much an activation shrinks the variance."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"no gain known for nonlinearity {nonlinearity!r}")


@torch.no_grad()
def uniform_(
    tensor: Tensor, low: float, high: float, generator: torch.Generator | None = None
) -> Tensor:
    return tensor.uniform_(low, high, generator=generator)


@torch.no_grad()
def normal_(tensor: Tensor, std: float, generator: torch.Generator | None = None) -> Tensor:
    return tensor.normal_(0.0, std, generator=generator)


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> Tensor:
    fan_in, fan_out = fans(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std  # Var(U[-a, a]) = a^2 / 3
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(
    tensor: Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> Tensor:
    fan_in, fan_out = fans(tensor)
    return normal_(tensor, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> Tensor:
    fan = fans(tensor)[0 if mode == "fan_in" else 1]
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Normal with std = gain / sqrt(fan): fan_in keeps forward activations at unit scale,
    fan_out keeps backward gradients at unit scale."""
    fan = fans(tensor)[0 if mode == "fan_in" else 1]
    return normal_(tensor, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def default_init_(
    weight: Tensor, bias: Tensor | None, generator: torch.Generator | None = None
) -> None:
    """torch.nn.Linear.reset_parameters: kaiming_uniform(a=sqrt(5)), i.e. U(+-1/sqrt(fan_in)),
    then the bias from U(+-1/sqrt(fan_in)), drawn in this order."""
    kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        fan_in = fans(weight)[0]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound, generator)


INITS = ("default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal")


def init_linear_(
    weight: Tensor,
    bias: Tensor | None,
    init: str = "default",
    nonlinearity: str = "relu",
    generator: torch.Generator | None = None,
) -> None:
    """Initialise one layer by name; all but "default" set the bias to zero."""
    if init == "default":
        default_init_(weight, bias, generator)
        return
    gain_name = nonlinearity if nonlinearity in ("relu", "leaky_relu", "tanh") else "linear"
    if init == "xavier_uniform":
        xavier_uniform_(weight, calculate_gain(gain_name), generator)
    elif init == "xavier_normal":
        xavier_normal_(weight, calculate_gain(gain_name), generator)
    elif init == "kaiming_uniform":
        kaiming_uniform_(weight, nonlinearity=gain_name, generator=generator)
    elif init == "kaiming_normal":
        kaiming_normal_(weight, nonlinearity=gain_name, generator=generator)
    else:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    if bias is not None:
        with torch.no_grad():
            bias.zero_()


# ---------------------------------------------------------------- modules


class Linear(nn.Module):
    """A fully connected layer with torch.nn.Linear's parameter layout and default init."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str = "default",
        nonlinearity: str = "relu",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        init_linear_(self.weight, self.bias, init, nonlinearity, generator)

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Zero each entry with probability p and scale the rest by 1/(1-p) (inverted dropout),
    so the expected value is unchanged and evaluation needs no rescaling."""
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    keep = (torch.rand_like(x) >= p).to(x.dtype)
    return x * keep / (1 - p)


class MLP(nn.Module):
    """sizes = [in, hidden..., out]: Linear -> activation -> dropout for every hidden layer,
    then a last Linear that returns logits (no activation, no dropout)."""

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        dropout: float = 0.0,
        init: str = "default",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if len(sizes) < 2:
            raise ValueError("an MLP needs at least an input and an output size")
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; choose one of {list(ACTIVATIONS)}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        self.activation_name, self.p = activation, dropout
        self.activation = ACTIVATIONS[activation]
        self.layers = nn.ModuleList(
            Linear(n_in, n_out, init=init, nonlinearity=activation, generator=generator)
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
        )

    def hidden_states(self, x: Tensor) -> list[Tensor]:
        """The output of every hidden layer after its activation (before dropout)."""
        states = []
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
            states.append(x)
            x = dropout(x, self.p, self.training)
        return states

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers[:-1]:
            x = dropout(self.activation(layer(x)), self.p, self.training)
        return self.layers[-1](x)
