"""Planted bugs for the `gpt` exercise, each a full learner file that one check must catch.

They start from SOLUTION, a correct answer written the way a learner would (sorting in
descending order for top-p, unlike the library), and change one thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import torch
from torch import Tensor


def filter_top_k(logits: Tensor, k: int) -> Tensor:
    k = min(k, logits.size(-1))
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def filter_top_p(logits: Tensor, p: float) -> Tensor:
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs
    remove_sorted = mass_before >= p
    remove_sorted[..., 0] = False
    remove = remove_sorted.scatter(-1, order, remove_sorted)
    return logits.masked_fill(remove, float("-inf"))


def sample_next(logits, temperature=1.0, top_k=None, top_p=None, greedy=False, generator=None):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    if greedy:
        return logits.argmax(dim=-1)
    logits = logits / temperature
    if top_k is not None:
        logits = filter_top_k(logits, top_k)
    if top_p is not None:
        logits = filter_top_p(logits, top_p)
    probs = logits.softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "top_k_off_by_one",
        catches="top_k_matches_reference",
        source=_plant("logits < kth", "logits <= kth"),
        note="drops the k-th token itself, so only k - 1 survive",
    ),
    Mutant(
        "top_k_exactly_k_indices",
        catches="top_k_keeps_ties",
        source=_plant(
            "    kth = torch.topk(logits, k, dim=-1).values[..., -1:]\n"
            '    return logits.masked_fill(logits < kth, float("-inf"))\n',
            "    keep = torch.zeros_like(logits, dtype=torch.bool)\n"
            "    keep.scatter_(-1, torch.topk(logits, k, dim=-1).indices, True)\n"
            '    return logits.masked_fill(~keep, float("-inf"))\n',
        ),
        note="keeps exactly k positions, dropping tokens tied with the k-th value",
    ),
    Mutant(
        "top_p_drops_crossing_token",
        catches="top_p_keeps_crossing_token",
        source=_plant(
            "    mass_before = probs.cumsum(dim=-1) - probs\n    remove_sorted = mass_before >= p\n",
            "    remove_sorted = probs.cumsum(dim=-1) > p\n",
        ),
        note="removes the token whose probability carries the total across p",
    ),
    Mutant(
        "top_p_shift_forgets_first",
        catches="top_p_keeps_at_least_one",
        source=_plant(
            "    mass_before = probs.cumsum(dim=-1) - probs\n"
            "    remove_sorted = mass_before >= p\n"
            "    remove_sorted[..., 0] = False\n",
            "    remove_sorted = probs.cumsum(dim=-1) > p\n"
            "    remove_sorted[..., 1:] = remove_sorted[..., :-1].clone()\n",
        ),
        note="shifts the mask right to keep the crossing token but leaves position 0 as it was",
    ),
    Mutant(
        "top_p_unsorted_back",
        catches="top_p_matches_reference",
        source=_plant(
            "    remove = remove_sorted.scatter(-1, order, remove_sorted)\n",
            "    remove = remove_sorted\n",
        ),
        note="applies the decision in sorted order to the unsorted vocabulary",
    ),
    Mutant(
        "temperature_multiplied",
        catches="temperature_distribution",
        source=_plant("logits = logits / temperature", "logits = logits * temperature"),
    ),
    Mutant(
        "greedy_samples",
        catches="greedy_is_argmax",
        source=_plant(
            "    if greedy:\n        return logits.argmax(dim=-1)\n",
            "",
        ),
        note="ignores greedy=True and samples",
    ),
    Mutant(
        "filters_modify_input_in_place",
        catches="input_not_mutated",
        source=_plant(
            '    return logits.masked_fill(logits < kth, float("-inf"))\n',
            '    logits.masked_fill_(logits < kth, float("-inf"))\n    return logits\n',
        ),
    ),
    Mutant(
        "sampling_ignores_filters",
        catches="sampling_uses_filters",
        source=_plant(
            "    logits = logits / temperature\n"
            "    if top_k is not None:\n"
            "        logits = filter_top_k(logits, top_k)\n"
            "    if top_p is not None:\n"
            "        logits = filter_top_p(logits, top_p)\n"
            "    probs = logits.softmax(dim=-1)\n",
            "    logits = logits / temperature\n"
            "    filtered = logits\n"
            "    if top_k is not None:\n"
            "        filtered = filter_top_k(filtered, top_k)\n"
            "    if top_p is not None:\n"
            "        filtered = filter_top_p(filtered, top_p)\n"
            "    probs = logits.softmax(dim=-1)\n",
        ),
        note="computes the filtered logits, then samples from the unfiltered ones",
    ),
    Mutant(
        "no_temperature_check",
        catches="rejects_bad_temperature",
        source=_plant(
            '    if temperature <= 0:\n        raise ValueError("temperature must be > 0")\n', ""
        ),
    ),
    Mutant(
        "global_random_state",
        catches="generator_reproducible",
        source=_plant(
            "torch.multinomial(probs, 1, generator=generator)", "torch.multinomial(probs, 1)"
        ),
    ),
    Mutant(
        "keeps_sample_dimension",
        catches="shapes",
        source=_plant(
            "torch.multinomial(probs, 1, generator=generator).squeeze(-1)",
            "torch.multinomial(probs, 1, generator=generator)",
        ),
        note="returns (B, 1) instead of (B,)",
    ),
]
