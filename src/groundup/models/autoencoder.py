"""Autoencoders: a plain one, a denoising one, and a variational one (VAE).

An autoencoder squeezes an input x through a narrow code z = encode(x) and is trained to
rebuild x from it: x_hat = decode(z). The narrow code forces it to keep what matters most.

    plain       minimise  loss(decode(encode(x)), x)
    denoising   minimise  loss(decode(encode(corrupt(x))), x)     (Vincent et al. 2008)
    variational maximise  ELBO = E_q(z|x)[log p(x|z)] - KL(q(z|x) || p(z))
                                                                   (Kingma & Welling 2013)

With one linear layer each way and mean squared error, the best autoencoder spans exactly
the subspace of the top principal components (Baldi & Hornik 1989): PCA is the linear
autoencoder, and a nonlinear one can only do better at the same code size.

Conventions: images are flattened to vectors with pixel values in [0, 1]. The decoder
returns logits; sigmoid(logits) is the reconstruction. Losses are summed over pixels (and
latent dimensions) and averaged over the batch, so they are "nats per image", the unit of
the ELBO.

Likelihood: Bernoulli. Each pixel is modelled as a coin with P(ink) = sigmoid(logit), so
-log p(x|z) is binary cross-entropy. It suits pixels that sit near 0 or 1, needs no variance
to choose, and gives the sigmoid-output reconstruction for free. A Gaussian likelihood with
fixed variance s^2 gives ||x - x_hat||^2 / (2 s^2) instead, and s then silently sets how much
reconstruction weighs against the KL term. Grey pixels make the Bernoulli "likelihood" not a
normalised density (its minimum over logits is the pixel's entropy, not 0); that shifts the
ELBO by a constant and does not change what is learned.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from groundup.nn.losses import binary_cross_entropy_with_logits, mse_loss
from groundup.nn.mlp import MLP

LIKELIHOODS = ("bernoulli", "gaussian")
NOISES = ("gaussian", "mask")


# ---------------------------------------------------------------- reconstruction losses


def reconstruction_loss(output: Tensor, x: Tensor, likelihood: str = "bernoulli") -> Tensor:
    """-log p(x | z) summed over pixels, averaged over the batch.

    bernoulli: `output` are logits; binary cross-entropy.
    gaussian:  `output` is the mean; 0.5 ||x - output||^2 (variance 1, constant dropped).
    """
    if likelihood == "bernoulli":
        per_pixel = binary_cross_entropy_with_logits(output, x, reduction="none")
    elif likelihood == "gaussian":
        per_pixel = 0.5 * mse_loss(output, x, reduction="none")
    else:
        raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
    return per_pixel.flatten(1).sum(1).mean()


def reconstruct(output: Tensor, likelihood: str = "bernoulli") -> Tensor:
    """The image the decoder means: sigmoid of the logits, or the Gaussian mean itself."""
    return torch.sigmoid(output) if likelihood == "bernoulli" else output


# ---------------------------------------------------------------- plain autoencoder


class Autoencoder(nn.Module):
    """encoder MLP [n_in, *hidden, code] and decoder MLP [code, *reversed(hidden), n_in].

    ReLU between layers, none on the code or the output. With hidden=() both are a single
    linear layer: the linear autoencoder that PCA solves in closed form.
    """

    def __init__(self, n_in: int = 64, hidden: Sequence[int] = (128,), code: int = 8) -> None:
        super().__init__()
        self.encoder = MLP([n_in, *hidden, code], activation="relu")
        self.decoder = MLP([code, *reversed(hidden), n_in], activation="relu")

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


# ---------------------------------------------------------------- denoising


def corrupt(x: Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> Tensor:
    """A noisy copy of x for the denoising autoencoder; x itself is left alone.

    gaussian: add N(0, level^2) noise to every pixel, then clip back into [0, 1].
    mask:     set each pixel to 0 with probability `level` ("masking noise", Vincent et al.):
              the network must fill in strokes it cannot see from the ones it can.
    """
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        return (x + level * noise).clamp(0.0, 1.0)
    if kind == "mask":
        keep = torch.rand(x.shape, generator=generator).to(x.device) >= level
        return x * keep.to(x.dtype)
    raise ValueError(f"noise must be one of {NOISES}, got {kind!r}")


# ---------------------------------------------------------------- variational autoencoder


def reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor | None = None) -> Tensor:
    """z = mu + sigma * eps with sigma = exp(logvar / 2) and eps ~ N(0, I).

    The randomness sits in eps, which depends on no parameter, so z is a differentiable
    function of mu and logvar and backpropagation reaches the encoder. The same as
    torch.distributions.Normal(mu, sigma).rsample() when eps is the same noise.
    """
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per example, summed over the last axis.

    Closed form per dimension: 0.5 * (mu^2 + sigma^2 - 1 - log sigma^2). Zero exactly when
    mu = 0 and sigma = 1; it grows as the code moves away from the prior.
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def vae_loss(
    output: Tensor,
    x: Tensor,
    mu: Tensor,
    logvar: Tensor,
    beta: float = 1.0,
    likelihood: str = "bernoulli",
) -> Tensor:
    """The negative ELBO per image, averaged over the batch (nats):
    -log p(x|z) summed over pixels  +  beta * KL summed over latent dimensions.

    One sample of z per image estimates the expectation; beta = 1 is the true bound.
    """
    return reconstruction_loss(output, x, likelihood) + beta * gaussian_kl(mu, logvar).mean()


class VAE(nn.Module):
    """The encoder outputs 2 * latent numbers per input: mu and logvar of q(z | x).

    Predicting log sigma^2 rather than sigma keeps the variance positive without a
    constraint, and exp never returns 0 for a finite logvar.
    """

    def __init__(self, n_in: int = 64, hidden: Sequence[int] = (128,), latent: int = 2) -> None:
        super().__init__()
        self.latent = latent
        self.encoder = MLP([n_in, *hidden, 2 * latent], activation="relu")
        self.decoder = MLP([latent, *reversed(hidden), n_in], activation="relu")

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def forward(self, x: Tensor, eps: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """(logits of the reconstruction, mu, logvar); z is drawn anew unless eps is given."""
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, eps)), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n new images: z from the prior N(0, I), decoded, sigmoid applied."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent, generator=generator).to(device)
        return torch.sigmoid(self.decode(z))


def latent_grid(side: int, span: float = 2.0) -> Tensor:
    """(side * side, 2) points on an even grid over [-span, span]^2, row by row, top (high
    second coordinate) to bottom, for decoding a 2-D latent space into a picture."""
    values = torch.linspace(-span, span, side)
    second, first = torch.meshgrid(values.flip(0), values, indexing="ij")
    return torch.stack([first.flatten(), second.flatten()], dim=1)
