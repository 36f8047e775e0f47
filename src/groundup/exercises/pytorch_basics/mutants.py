"""Planted bugs for the `pytorch_basics` exercise, each a full learner file one check must catch."""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
from torch.utils.data import Dataset


class WindowDataset(Dataset):
    def __init__(self, series, window):
        self.series = series
        self.window = window

    def __len__(self):
        return len(self.series) - self.window

    def __getitem__(self, i):
        return self.series[i : i + self.window], self.series[i + self.window]


def train_epoch(model, loader, loss_fn, optimizer):
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
        count += len(x)
    return total / count
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "length_off_by_one",
        catches="window_length",
        source=_plant("len(self.series) - self.window", "len(self.series) - self.window + 1"),
        note="one window too many: its target lies past the end",
    ),
    Mutant(
        "target_inside_window",
        catches="window_examples",
        source=_plant("self.series[i + self.window]\n", "self.series[i + self.window - 1]\n"),
        note="the target is the window's own last value",
    ),
    Mutant(
        "window_shifted_onto_target",
        catches="window_examples",
        source=_plant(
            "self.series[i : i + self.window]", "self.series[i + 1 : i + self.window + 1]"
        ),
        note="the window ends with the value it should predict",
    ),
    Mutant(
        "missing_zero_grad",
        catches="train_epoch_steps",
        source=_plant("        optimizer.zero_grad()\n", ""),
        note="gradients of earlier batches add up",
    ),
    Mutant(
        "step_before_backward",
        catches="train_epoch_steps",
        source=_plant(
            "        loss.backward()\n        optimizer.step()\n",
            "        optimizer.step()\n        loss.backward()\n",
        ),
        note="each step uses no gradient or a stale one",
    ),
    Mutant(
        "mean_of_batch_means",
        catches="train_epoch_mean",
        source=_plant("loss.item() * len(x)", "loss.item()").replace(
            "count += len(x)", "count += 1"
        ),
        note="a short last batch counts as much as a full one",
    ),
    Mutant(
        "last_batch_loss",
        catches="train_epoch_mean",
        source=_plant("    return total / count\n", "    return loss.item()\n"),
        note="returns the loss of the last batch only",
    ),
    Mutant(
        "no_train_mode",
        catches="train_mode",
        source=_plant("    model.train()\n", ""),
        note="a model left in eval mode trains without dropout",
    ),
    Mutant(
        "eval_mode",
        catches="train_mode",
        source=_plant("    model.train()\n", "    model.eval()\n"),
        note="eval mode switches dropout and batch norm statistics off",
    ),
]
