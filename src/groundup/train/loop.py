"""The PyTorch training loop from its parts: datasets, a batch iterator, one epoch, evaluation.

A `Dataset` is anything with `__len__` and `__getitem__(i) -> example`. `ArrayDataset` holds
tensors in memory (what `torch.utils.data.TensorDataset` does); `SlidingWindowDataset` keeps
one 1-D series and cuts each example out of it when asked, so no copy of every window is ever
stored.

`batches` is the part of `torch.utils.data.DataLoader` that matters on one process: it orders
the indices (a permutation from a `torch.Generator` when shuffling, exactly the one
`RandomSampler` draws), cuts them into batches, fetches the examples and stacks them with
`collate` (what `default_collate` does for tensors, numbers and tuples of them).

`train_epoch` is the loop every PyTorch program repeats: zero the gradients, forward, loss,
backward, step. Its mean loss weights each batch by its size, so a short last batch counts as
much as its examples and not as much as a full batch. `evaluate` averages a metric the same
way, in eval mode and without recording a graph.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset


class ArrayDataset(Dataset):
    """Tensors of equal length, indexed together: example i is (t[i] for t in tensors)."""

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("ArrayDataset needs at least one array")
        self.tensors = tuple(torch.as_tensor(t) for t in tensors)
        lengths = {len(t) for t in self.tensors}
        if len(lengths) != 1:
            raise ValueError(f"all arrays must have the same length, got {sorted(lengths)}")

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)


class SlidingWindowDataset(Dataset):
    """Example i of a 1-D series: input series[i : i + window], target series[i + window].

    The last window must leave one value after it for its target, hence
    len = len(series) - window. The target is never part of its own input.
    """

    def __init__(self, series: Tensor | np.ndarray, window: int) -> None:
        self.series = torch.as_tensor(series)
        if self.series.ndim != 1:
            raise ValueError(f"series must be 1-D, got shape {tuple(self.series.shape)}")
        if not 1 <= window < len(self.series):
            raise ValueError(f"window must lie in 1..{len(self.series) - 1}, got {window}")
        self.window = window

    def __len__(self) -> int:
        return len(self.series) - self.window

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} windows")
        index %= len(self)
        # A slice is a view into the series: no copy until collate stacks the batch.
        return self.series[index : index + self.window], self.series[index + self.window]


def collate(examples: Sequence[Any]) -> Any:
    """Stack a list of examples into one batch, field by field (like `default_collate`).

    Tensors get a new leading batch axis, Python numbers become a 1-D tensor, NumPy arrays
    become tensors, and tuples/lists are collated per position.
    """
    first = examples[0]
    if isinstance(first, Tensor):
        return torch.stack(list(examples))
    if isinstance(first, np.ndarray | np.number):
        return torch.stack([torch.as_tensor(e) for e in examples])
    if isinstance(first, bool | int | float):
        # default_collate: floats become float64, ints int64
        return torch.tensor(examples, dtype=torch.float64 if isinstance(first, float) else None)
    if isinstance(first, tuple | list):
        if len({len(e) for e in examples}) != 1:
            raise ValueError("every example in a batch must have the same number of fields")
        return tuple(collate(field) for field in zip(*examples, strict=True))
    raise TypeError(f"collate cannot batch examples of type {type(first).__name__}")


def batch_indices(
    n: int,
    batch_size: int,
    shuffle: bool = False,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[list[int]]:
    """The index lists of one epoch: 0..n-1 in order, or permuted, cut into batch_size pieces."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    # RandomSampler draws exactly this permutation from its generator.
    order = torch.randperm(n, generator=generator).tolist() if shuffle else list(range(n))
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


def batches(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool = False,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
    collate_fn: Callable[[list[Any]], Any] = collate,
) -> Iterator[Any]:
    """One epoch of collated batches; the last one is shorter unless drop_last."""
    for indices in batch_indices(len(dataset), batch_size, shuffle, drop_last, generator):
        yield collate_fn([dataset[i] for i in indices])


def train_epoch(
    model: nn.Module,
    batches: Iterable[tuple[Tensor, Tensor]],
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    optimizer: torch.optim.Optimizer,
) -> float:
    """One pass of gradient steps over `batches` of (inputs, targets); the mean loss per example.

    `loss_fn` must return the mean over its batch (PyTorch's default reduction), so
    loss * batch size is the batch's total.
    """
    model.train()  # dropout and batch norm behave as in training
    total, count = 0.0, 0
    for inputs, targets in batches:
        optimizer.zero_grad()  # gradients add up across backward() calls otherwise
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(inputs)
        count += len(inputs)
    if count == 0:
        raise ValueError("train_epoch got no batches")
    return total / count


def evaluate(
    model: nn.Module,
    batches: Iterable[tuple[Tensor, Tensor]],
    metric: Callable[[Tensor, Tensor], Tensor | float],
) -> float:
    """The mean of a per-batch mean `metric(outputs, targets)` over all examples, no gradients."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for inputs, targets in batches:
            total += float(metric(model(inputs), targets)) * len(inputs)
            count += len(inputs)
    if count == 0:
        raise ValueError("evaluate got no batches")
    return total / count


def accuracy(logits: Tensor, targets: Tensor) -> Tensor:
    """Share of rows whose highest logit is the target class."""
    return (logits.argmax(dim=1) == targets).double().mean()
