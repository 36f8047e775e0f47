"""Planted bugs for the t5 exercise, each a full learner file one check catches.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """import numpy as np


def random_segmentation(num_items, num_segments, rng):
    is_cut = np.arange(num_items - 1) < num_segments - 1
    rng.shuffle(is_cut)
    lengths = []
    current = 1
    for cut in is_cut:
        if cut:
            lengths.append(current)
            current = 1
        else:
            current += 1
    lengths.append(current)
    return np.array(lengths)


def noise_mask(length, noise_density, mean_noise_span_length, rng):
    num_noise = int(round(length * noise_density))
    num_noise = min(max(num_noise, 1), length - 1)
    num_kept = length - num_noise
    num_spans = int(round(min(num_noise, num_kept) / mean_noise_span_length))
    num_spans = max(num_spans, 1)
    noise_lengths = random_segmentation(num_noise, num_spans, rng)
    kept_lengths = random_segmentation(num_kept, num_spans, rng)
    mask = []
    for kept, noise in zip(kept_lengths, noise_lengths):
        mask += [False] * kept + [True] * noise
    return np.array(mask)


def replace_runs(tokens, mask, vocab_size, eos_id):
    out = []
    sentinel = vocab_size - 1
    for i, token in enumerate(tokens):
        if not mask[i]:
            out.append(int(token))
        elif i == 0 or not mask[i - 1]:
            out.append(sentinel)
            sentinel -= 1
    out.append(eos_id)
    return np.array(out)


def span_corrupt(tokens, mask, vocab_size, eos_id=1):
    mask = np.asarray(mask, dtype=bool)
    inputs = replace_runs(tokens, mask, vocab_size, eos_id)
    targets = replace_runs(tokens, ~mask, vocab_size, eos_id)
    return inputs, targets
"""


def _plant(*changes: tuple[str, str]) -> str:
    source = SOLUTION
    for old, new in changes:
        assert source.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
        source = source.replace(old, new)
    return source


MUTANTS: list[Mutant] = [
    Mutant(
        "segmentation_last_dropped",
        catches="segmentation_lengths",
        source=_plant(
            (
                "            current += 1\n    lengths.append(current)\n",
                "            current += 1\n",
            )
        ),  # fmt: skip
        note="the final span is dropped: the segment after the last cut never gets appended",
    ),
    Mutant(
        "segmentation_one_cut_too_many",
        catches="segmentation_lengths",
        source=_plant(("< num_segments - 1\n", "< num_segments\n")),
        note="num_segments cuts give num_segments + 1 pieces",
    ),
    Mutant(
        "mask_kept_segmented_first",
        catches="mask_exact",
        source=_plant(
            (
                "    noise_lengths = random_segmentation(num_noise, num_spans, rng)\n"
                "    kept_lengths = random_segmentation(num_kept, num_spans, rng)\n",
                "    kept_lengths = random_segmentation(num_kept, num_spans, rng)\n"
                "    noise_lengths = random_segmentation(num_noise, num_spans, rng)\n",
            ),
        ),  # fmt: skip
        note="the same distribution, but the random numbers go to the other kind first",
    ),
    Mutant(
        "mask_density_truncated",
        catches="mask_counts",
        source=_plant(("int(round(length * noise_density))", "int(length * noise_density)")),
        note="the noise count is truncated, not rounded: too little noise",
    ),
    Mutant(
        "mask_spans_truncated",
        catches="mask_counts",
        source=_plant(
            (
                "int(round(min(num_noise, num_kept) / mean_noise_span_length))",
                "int(min(num_noise, num_kept) // mean_noise_span_length)",
            )
        ),  # fmt: skip
        note="the span count is floored: spans come out too long",
    ),
    Mutant(
        "mask_noise_first",
        catches="mask_counts",
        source=_plant(("[False] * kept + [True] * noise", "[True] * noise + [False] * kept")),
        note="the mask starts with noise, so the first sentinel of the targets has no place",
    ),
    Mutant(
        "sentinels_count_up",
        catches="corrupt_sentinels",
        source=_plant(
            ("    sentinel = vocab_size - 1\n", "    sentinel = vocab_size - 100\n"),
            ("            sentinel -= 1\n", "            sentinel += 1\n"),
        ),  # fmt: skip
        note="sentinels count up from the bottom of the reserved range",
    ),
    Mutant(
        "sentinel_per_token",
        catches="corrupt_example",
        source=_plant(("        elif i == 0 or not mask[i - 1]:\n", "        else:\n")),
        note="consecutive noise tokens each get their own sentinel",
    ),
    Mutant(
        "no_eos",
        catches="corrupt_eos",
        source=_plant(("    out.append(eos_id)\n", "")),
        note="the sequences end without EOS",
    ),
    Mutant(
        "first_run_missed",
        catches="corrupt_exact",
        source=_plant(
            (
                "        elif i == 0 or not mask[i - 1]:\n",
                "        elif i > 0 and not mask[i - 1]:\n",
            )
        ),  # fmt: skip
        note="a run at position 0 gets no sentinel (its tokens vanish)",
    ),
    Mutant(
        "targets_same_mask",
        catches="corrupt_roundtrip",
        source=_plant(
            (
                "replace_runs(tokens, ~mask, vocab_size, eos_id)",
                "np.array([int(t) for t in tokens[mask]] + [eos_id])",
            )
        ),  # fmt: skip
        note="the targets list the noise tokens without sentinels: spans cannot be told apart",
    ),
]
