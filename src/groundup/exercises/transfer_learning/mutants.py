"""Planted bugs for the `transfer-learning` exercise, each a full learner file that one check
must catch. One correct answer, written the way a learner writes it; each mutant changes one
thing in it."""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import torch
from torch import nn


def freeze(module):
    for p in module.parameters():
        p.requires_grad_(False)
    module.eval()
    return module


def layerwise_param_groups(blocks, lr, factor=2.6, **options):
    groups = []
    for i, block in enumerate(blocks):
        params = [p for p in block.parameters() if p.requires_grad]
        if not params:
            continue
        rate = lr / factor ** (len(blocks) - 1 - i)
        groups.append({"params": params, "lr": rate, **options})
    return groups


def few_shot_indices(labels, k, seed):
    labels = torch.as_tensor(labels)
    if k is None:
        return torch.arange(len(labels))
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for c in labels.unique():
        members = torch.nonzero(labels == c).flatten()
        if len(members) < k:
            raise ValueError(f"class {int(c)} has only {len(members)} examples")
        order = torch.randperm(len(members), generator=generator)
        chosen.append(members[order[:k]])
    return torch.cat(chosen).sort().values
"""


def _plant(*changes: tuple[str, str]) -> str:
    source = SOLUTION
    for old, new in changes:
        assert source.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
        source = source.replace(old, new)
    return source


MUTANTS: list[Mutant] = [
    Mutant(
        "freeze_top_level_only",
        catches="freeze_flags",
        source=_plant(("module.parameters():", "module.parameters(recurse=False):")),
        note="parameters(recurse=False): the nested layers keep learning",
    ),
    Mutant(
        "freeze_weights_only",
        catches="freeze_flags",
        source=_plant(
            (
                "    for p in module.parameters():\n        p.requires_grad_(False)",
                "    for name, p in module.named_parameters():\n"
                "        if name.endswith('weight'):\n"
                "            p.requires_grad_(False)",
            ),
        ),  # fmt: skip
        note="the biases stay trainable",
    ),
    Mutant(
        "freeze_without_eval",
        catches="freeze_batch_norm",
        source=_plant(("    module.eval()\n", "")),
        note="requires_grad only: batch norm keeps updating its running statistics",
    ),
    Mutant(
        "freeze_eval_on_torch_batch_norm_only",
        catches="freeze_batch_norm",
        source=_plant(
            (
                "    module.eval()\n",
                "    for m in module.modules():\n"
                "        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):\n"
                "            m.eval()\n",
            ),
        ),  # fmt: skip
        note="only torch's batch-norm classes go to eval mode; groundup's BatchNorm2d drifts",
    ),
    Mutant(
        "freeze_sets_grad_to_none_only",
        catches="freeze_training_steps",
        source=_plant(
            ("        p.requires_grad_(False)", "        p.grad = None"),
        ),
        note="clears today's gradient; the next backward fills it again",
    ),
    Mutant(
        "freeze_does_not_return",
        catches="freeze_flags",
        source=_plant(("    module.eval()\n    return module\n", "    module.eval()\n")),
        note="returns None",
    ),
    Mutant(
        "groups_rates_reversed",
        catches="group_rates",
        source=_plant(("lr / factor ** (len(blocks) - 1 - i)", "lr / factor ** i")),
        note="the input block gets the full rate and the head the smallest",
    ),
    Mutant(
        "groups_rates_multiplied",
        catches="group_rates",
        source=_plant(
            ("lr / factor ** (len(blocks) - 1 - i)", "lr * factor ** (len(blocks) - 1 - i)")
        ),
        note="lower layers learn faster instead of slower",
    ),
    Mutant(
        "groups_exponent_off_by_one",
        catches="group_rates",
        source=_plant(("lr / factor ** (len(blocks) - 1 - i)", "lr / factor ** (len(blocks) - i)")),
        note="even the head gets lr / factor",
    ),
    Mutant(
        "groups_keep_frozen_parameters",
        catches="group_params",
        source=_plant(
            (
                "params = [p for p in block.parameters() if p.requires_grad]",
                "params = list(block.parameters())",
            ),
        ),  # fmt: skip
        note="frozen parameters and frozen blocks go into the optimizer",
    ),
    Mutant(
        "groups_count_only_groups",
        catches="group_params",
        source=_plant(
            (
                "    for i, block in enumerate(blocks):\n"
                "        params = [p for p in block.parameters() if p.requires_grad]\n"
                "        if not params:\n"
                "            continue\n"
                "        rate = lr / factor ** (len(blocks) - 1 - i)\n",
                "    trainable = [b for b in blocks if any(p.requires_grad for p in b.parameters())]\n"
                "    for i, block in enumerate(trainable):\n"
                "        params = [p for p in block.parameters() if p.requires_grad]\n"
                "        rate = lr / factor ** (len(trainable) - 1 - i)\n",
            ),
        ),  # fmt: skip
        note="a frozen block is dropped before the exponents are counted",
    ),
    Mutant(
        "groups_drop_options",
        catches="group_steps",
        source=_plant(
            ('{"params": params, "lr": rate, **options}', '{"params": params, "lr": rate}')
        ),
        note="momentum and weight decay never reach the optimizer",
    ),
    Mutant(
        "sampler_not_stratified",
        catches="sampler_counts",
        source=_plant(
            (
                "    chosen = []\n",
                "    n = k * len(labels.unique())\n"
                "    order = torch.randperm(len(labels), generator=generator)\n"
                "    return order[:n].sort().values\n"
                "    chosen = []\n",
            ),
        ),  # fmt: skip
        note="k times the number of classes from the whole set: some classes get more",
    ),
    Mutant(
        "sampler_one_too_few",
        catches="sampler_counts",
        source=_plant(("members[order[:k]]", "members[order[: k - 1]]")),
        note="k - 1 per class",
    ),
    Mutant(
        "sampler_with_replacement",
        catches="sampler_sorted_unique",
        source=_plant(
            (
                "order = torch.randperm(len(members), generator=generator)",
                "order = torch.randint(len(members), (k,), generator=generator)",
            ),
        ),  # fmt: skip
        note="draws with replacement: the same example can come twice",
    ),
    Mutant(
        "sampler_unsorted",
        catches="sampler_sorted_unique",
        source=_plant(("torch.cat(chosen).sort().values", "torch.cat(chosen)")),
        note="grouped by class, not sorted",
    ),
    Mutant(
        "sampler_global_random_state",
        catches="sampler_seeded",
        source=_plant(
            ("torch.randperm(len(members), generator=generator)", "torch.randperm(len(members))"),
        ),
        note="the seed is ignored: two calls with one seed differ",
    ),
    Mutant(
        "sampler_first_k",
        catches="sampler_seeded",
        source=_plant(("members[order[:k]]", "members[:k]")),
        note="always the first k examples of a class: no randomness at all",
    ),
    Mutant(
        "sampler_silently_fewer",
        catches="sampler_edges",
        source=_plant(
            (
                "        if len(members) < k:\n"
                '            raise ValueError(f"class {int(c)} has only {len(members)} examples")\n',
                "",
            ),
        ),  # fmt: skip
        note="a small class gives fewer than k without a word",
    ),
    Mutant(
        "sampler_none_unsupported",
        catches="sampler_edges",
        source=_plant(("    if k is None:\n        return torch.arange(len(labels))\n", "")),
        note="k=None fails",
    ),
]
