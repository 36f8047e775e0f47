"""Transfer learning: reuse a trained network for a new task, in the pieces every recipe needs.

A network trained on one task (the *source*) has learned features: edges and strokes in its
first layers, parts of objects further up, and in its last layer a map from features to the
source's classes. For a new task (the *target*) with few labels we keep the body and change
what has to change:

- replace the head, the last layer, by a fresh one with the target's number of classes;
- either freeze the body and train only the head (a *linear probe*, or "feature extraction"),
- or fine-tune everything, the body with a smaller learning rate than the new head
  (*discriminative learning rates*, Howard & Ruder 2018), possibly unfreezing the body
  block by block from the top (*gradual unfreezing*, same paper).

Freezing means two things, and forgetting the second is a classic bug: the parameters get
no gradient (`requires_grad = False`, so the optimizer never moves them), and the frozen
layers run in eval mode. A batch-norm layer in train mode updates its running mean and
variance on every forward pass, gradient or not, so a "frozen" body would still drift
towards the statistics of the new data and no longer compute the features it learned. And
`model.train()` at the start of every epoch silently switches the frozen layers back to
train mode; `train_mode(model)` below is the version that keeps them in eval mode.

The few-shot subset sampler is here too: k labelled examples per class, drawn with a seed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# ---------------------------------------------------------------- freezing


def freeze(module: nn.Module) -> nn.Module:
    """No gradients for any parameter of `module`, and eval mode for all of it (batch norm
    keeps its running statistics, dropout is off). Returns the module."""
    for param in module.parameters():
        param.requires_grad_(False)
    return module.eval()


def unfreeze(module: nn.Module) -> nn.Module:
    """The inverse of `freeze`: every parameter trainable again, train mode."""
    for param in module.parameters():
        param.requires_grad_(True)
    return module.train()


def is_frozen(module: nn.Module) -> bool:
    """True if the module has parameters and none of them is trainable."""
    params = list(module.parameters())
    return bool(params) and not any(p.requires_grad for p in params)


def train_mode(model: nn.Module) -> nn.Module:
    """`model.train()` that leaves frozen parts in eval mode: use it instead, every epoch.

    Walks the modules from the top; a module whose parameters are all frozen is put (with
    everything inside it) into eval mode, its children need no further look.
    """
    model.train()

    def visit(module: nn.Module) -> None:
        if is_frozen(module):
            module.eval()
            return
        for child in module.children():
            visit(child)

    visit(model)
    return model


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters the optimizer should get. torch's optimizers skip a parameter whose
    .grad is None, but one that decays every parameter it holds would shrink frozen ones."""
    return [p for p in model.parameters() if p.requires_grad]


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) numbers of parameter values."""
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in trainable_parameters(model)), total


# ---------------------------------------------------------------- the head


def replace_head(
    model: nn.Module, name: str, classes: int, generator: torch.Generator | None = None
) -> nn.Linear:
    """Swap the linear layer at `name` (e.g. "fc3", "classifier.1") for a new, freshly
    initialised one with `classes` outputs and the same inputs. Returns the new head.

    The new head has torch's default initialisation of nn.Linear; with a `generator` the
    draw is reproducible without touching the global random state.
    """
    old = model.get_submodule(name)
    if not isinstance(old, nn.Linear):
        raise TypeError(f"{name} is a {type(old).__name__}, expected nn.Linear")
    shape = {"in_features": old.in_features, "out_features": classes, "bias": old.bias is not None}
    if generator is None:
        head = nn.Linear(**shape, dtype=old.weight.dtype).to(old.weight.device)
    else:  # nn.Linear's own rule, uniform in +-1/sqrt(fan_in), drawn from `generator`
        head = nn.Linear(**shape, device="meta").to_empty(device=old.weight.device)
        bound = old.in_features**-0.5
        with torch.no_grad():
            for param in head.parameters():
                param.copy_((torch.rand(param.shape, generator=generator) * 2 - 1) * bound)
        head.to(old.weight.dtype)
    parent_name, _, attr = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, attr, head)
    return head


# ---------------------------------------------------------------- features from a frozen body


@torch.no_grad()
def extract_features(model: nn.Module, head_name: str, x: Tensor, batch_size: int = 512) -> Tensor:
    """What the body hands to the head at `head_name`, for every row of x: (N, in_features).

    A forward pre-hook on the head catches its input, so this works for any architecture
    without rewriting its forward. The model runs in eval mode and without autograd: the
    features are computed once and reused for every epoch of the head's training.
    """
    head = model.get_submodule(head_name)
    caught: list[Tensor] = []
    hook = head.register_forward_pre_hook(lambda _module, args: caught.append(args[0]))
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(x), batch_size):
            model(x[start : start + batch_size])
    finally:
        hook.remove()
        model.train(was_training)
    return torch.cat(caught).flatten(1)


def fit_linear_probe(
    features: Tensor,
    labels: Tensor,
    classes: int,
    l2: float = 1e-3,
    max_iter: int = 500,
    tolerance: float = 1e-9,
) -> nn.Linear:
    """The head that minimises, on fixed features h_i and labels y_i,

        L(W, b) = 1/n * sum_i cross_entropy(W h_i + b, y_i) + l2/2 * ||W||^2

    (the bias is not penalised), by full-batch L-BFGS from zero until no entry of the
    gradient exceeds `tolerance` (or after `max_iter` steps). The objective is convex,
    and strictly so in W, so there is one best W; this is multinomial logistic regression,
    the same problem as scikit-learn's LogisticRegression(C=1 / (l2 * n)), whose objective
    is C * sum_i cross_entropy + 1/2 * ||W||^2, n*C times ours.
    """
    head = nn.Linear(features.size(1), classes).to(features.device, features.dtype)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    optimizer = torch.optim.LBFGS(
        head.parameters(),
        lr=1.0,
        max_iter=max_iter,
        history_size=20,
        tolerance_grad=tolerance,  # stop when no gradient entry is larger than this
        tolerance_change=0.0,  # not on a small change of the loss: that stops too early
        line_search_fn="strong_wolfe",
    )

    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(head(features), labels) + 0.5 * l2 * head.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return head


# ---------------------------------------------------------------- learning rates per layer


def layerwise_param_groups(
    blocks: Sequence[nn.Module], lr: float, factor: float = 2.6, **options: Any
) -> list[dict[str, Any]]:
    """One optimizer parameter group per block, the learning rate divided by `factor` for
    every step away from the top: blocks are in forward order (input first, head last), so

        lr of block i = lr / factor ** (len(blocks) - 1 - i)

    (2.6 is the factor ULMFiT used). Frozen parameters are left out, and a block with no
    trainable parameter gives no group. `options` (weight_decay, momentum, ...) go into every
    group. Pass the result to any torch.optim optimizer.
    """
    groups = []
    for i, block in enumerate(blocks):
        params = trainable_parameters(block)
        if params:
            depth = len(blocks) - 1 - i
            groups.append({"params": params, "lr": lr / factor**depth, **options})
    return groups


def unfreeze_top(blocks: Sequence[nn.Module], n: int) -> None:
    """Gradual unfreezing: the last n blocks trainable, the others frozen. Call it with
    n = 1, 2, 3, ... at the start of successive epochs (ULMFiT, section 3.2)."""
    for i, block in enumerate(blocks):
        if i >= len(blocks) - n:
            unfreeze(block)
        else:
            freeze(block)


# ---------------------------------------------------------------- few labels


def few_shot_indices(labels: Tensor | Iterable[int], k: int | None, seed: int) -> Tensor:
    """Positions of k examples of every class in `labels`, drawn without replacement with a
    generator seeded by `seed`, sorted ascending. k=None takes every example.

    Every class present gets exactly k (stratified), so a few-shot result is not a matter
    of which classes the draw happened to favour. A class with fewer than k examples is an
    error rather than a silently smaller class.
    """
    labels = torch.as_tensor(labels)
    if k is None:
        return torch.arange(len(labels))
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for cls in torch.unique(labels):  # sorted, so the draw does not depend on label order
        members = torch.nonzero(labels == cls).flatten()
        if len(members) < k:
            raise ValueError(f"class {cls.item()} has {len(members)} examples, fewer than {k}")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:k]])
    return torch.cat(chosen).sort().values
