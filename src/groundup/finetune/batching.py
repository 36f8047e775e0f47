"""Batches of similar length, so padding does not eat the compute.

A batch is padded to its longest row. With random batches of SQuAD windows nearly every
batch holds one full-length window, so a model cut at 384 tokens pays for 384 tokens on
rows whose mean is 176. Grouping by length keeps the randomness that SGD wants and drops
most of the padding, the idea of transformers' `group_by_length` (LengthGroupedSampler):

    1. shuffle all rows
    2. cut the shuffled list into mega-batches of `mega_batches` x batch_size rows
    3. sort each mega-batch by length, longest first, and cut it into batches
    4. shuffle the order of the batches

Each batch is then a random sample of rows of about the same length. The longest batch
comes first, so running out of memory shows at the first step and not at the last.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def cut_into_batches(order: Sequence[int], batch_size: int) -> list[list[int]]:
    """Consecutive runs of `batch_size` indices of `order` (the last may be shorter)."""
    return [list(order[i : i + batch_size]) for i in range(0, len(order), batch_size)]


def length_grouped_batches(
    lengths: Sequence[int],
    batch_size: int,
    generator: torch.Generator | None = None,
    mega_batches: int = 50,
) -> list[list[int]]:
    """Row indices in batches of `batch_size` (the last may be smaller); each row once."""
    if batch_size < 1 or mega_batches < 1:
        raise ValueError(
            f"batch_size and mega_batches must be >= 1, not {batch_size}, {mega_batches}"
        )
    order = torch.randperm(len(lengths), generator=generator).tolist()
    mega = batch_size * mega_batches
    batches = []
    for begin in range(0, len(order), mega):
        group = sorted(order[begin : begin + mega], key=lambda i: -lengths[i])
        batches += cut_into_batches(group, batch_size)
    if not batches:
        return []
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    batches = [batches[i] for i in shuffled]
    longest = max(range(len(batches)), key=lambda b: max(lengths[i] for i in batches[b]))
    batches.insert(0, batches.pop(longest))
    return batches


def shuffled_batches(
    lengths: Sequence[int],
    batch_size: int,
    generator: torch.Generator | None = None,
    group_by_length: bool = False,
) -> list[list[int]]:
    """One epoch's training batches: a random order cut into batches, or with
    group_by_length the length-grouped batches above."""
    if group_by_length:
        return length_grouped_batches(lengths, batch_size, generator)
    return cut_into_batches(torch.randperm(len(lengths), generator=generator).tolist(), batch_size)


def sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Prediction batches, longest rows first: little padding; the caller puts each result
    back at its row's index."""
    return cut_into_batches(sorted(range(len(lengths)), key=lambda i: -lengths[i]), batch_size)


def padded_tokens(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> int:
    """How many token positions the batches cost once each is padded to its longest row."""
    return sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)
