"""Planted bugs for the text-classification exercise, each a full learner file one check
catches. They start from SOLUTION, a correct answer written the way a learner would, and
change one thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """import torch


def warmup_linear_factor(step, warmup_steps, total_steps):
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def layer_lr(name, num_layers, base_lr, decay):
    parts = name.split(".")
    if name.startswith("bert.embeddings."):
        depth = num_layers
    elif name.startswith("bert.layers."):
        depth = num_layers - 1 - int(parts[2])
    else:
        depth = 0
    return base_lr * decay**depth


def pad_batch(sequences, pad_id):
    longest = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), longest), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = torch.tensor(sequence)
        mask[row, : len(sequence)] = 1
    return ids, mask


def mean_pooled_logits(hidden, attention_mask, weight, bias):
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
    pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1)
    return pooled @ weight.T + bias
"""


def mutant(name: str, catches: str, old: str, new: str, note: str) -> Mutant:
    assert SOLUTION.count(old) == 1, old
    return Mutant(name=name, catches=catches, source=SOLUTION.replace(old, new), note=note)


MUTANTS: list[Mutant] = [
    mutant("warmup_off_by_one", "warmup_corners",
           "return step / max(1, warmup_steps)", "return (step + 1) / max(1, warmup_steps)",
           "warm-up counts from 1, so it is never 0 and peaks one step early"),
    mutant("decay_over_all_steps", "warmup_matches_library",
           "(total_steps - step) / max(1, total_steps - warmup_steps)",
           "(total_steps - step) / max(1, total_steps)",
           "the decay divides by all steps: it jumps down right after warm-up"),
    mutant("no_zero_guard", "warmup_without_warmup",
           "    if step < warmup_steps:\n        return step / max(1, warmup_steps)",
           "    if step <= warmup_steps:\n        return step / warmup_steps",
           "warm-up of length 0 divides by zero"),
    mutant("top_layer_decayed", "layer_lr_head_and_top",
           "depth = num_layers - 1 - int(parts[2])", "depth = num_layers - int(parts[2])",
           "the top layer already gets one factor of decay"),
    mutant("embeddings_like_layer_0", "layer_lr_matches_library",
           "        depth = num_layers\n", "        depth = num_layers - 1\n",
           "the embeddings learn as fast as the bottom layer"),
    mutant("layer_number_as_character", "layer_lr_matches_library",
           "int(parts[2])", "int(name[len('bert.layers.')])",
           "reads only the first digit: layer 10 becomes layer 1"),
    mutant("pad_to_fixed_length", "pad_shapes",
           "longest = max(len(s) for s in sequences)", "longest = 16",
           "pads every batch to a global maximum instead of its own longest sequence"),
    mutant("pad_on_the_left", "pad_matches_collate",
           "        ids[row, : len(sequence)] = torch.tensor(sequence)\n",
           "        ids[row, longest - len(sequence) :] = torch.tensor(sequence)\n",
           "left padding, with the mask still on the left"),
    mutant("pad_with_zero", "pad_matches_collate",
           "torch.full((len(sequences), longest), pad_id, dtype=torch.long)",
           "torch.zeros((len(sequences), longest), dtype=torch.long)",
           "ignores pad_id"),
    mutant("cls_instead_of_mean", "head_values",
           "pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1)",
           "pooled = hidden[:, 0]",
           "the first token's vector instead of the average"),
    mutant("mean_over_padding", "head_ignores_padding",
           "pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1)",
           "pooled = hidden.mean(dim=1)",
           "averages over padding too"),
    mutant("detached_hidden", "head_gradients",
           "weights = attention_mask.to(hidden.dtype).unsqueeze(-1)",
           "weights = attention_mask.to(hidden.dtype).unsqueeze(-1)\n"
           "    hidden = hidden.detach()",
           "no gradient reaches the encoder"),
]  # fmt: skip
