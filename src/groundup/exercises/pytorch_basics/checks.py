"""Checks for the `pytorch_basics` exercise, against groundup.train.loop.

WindowDataset is compared example by example with SlidingWindowDataset and through
torch.utils.data.DataLoader. train_epoch is compared with the library's train_epoch on the
same model, data and SGD optimizer: parameters after the epoch (atol 1e-12 in float64) and
the returned weighted mean loss (rtol 1e-10). A model that records its mode catches a loop
that does not switch to training mode.
"""

from __future__ import annotations

from types import ModuleType

import torch
from torch.utils.data import DataLoader, TensorDataset

from groundup.exercises.checking import Check, assert_close, assert_true, call, check, require
from groundup.i18n import Msg
from groundup.train.loop import SlidingWindowDataset
from groundup.train.loop import train_epoch as reference_train_epoch

FUNCTIONS = ["WindowDataset", "train_epoch"]

REFERENCE = """from groundup.train.loop import SlidingWindowDataset as WindowDataset
from groundup.train.loop import train_epoch
"""


def _series(seed: int, n: int) -> torch.Tensor:
    return torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def _window_length(module: ModuleType) -> None:
    for n, window in [(10, 3), (25, 1), (7, 6)]:
        label = Msg(
            f"len(WindowDataset(series of {n}, {window}))",
            f"len(WindowDataset(Reihe mit {n}, {window}))",
        )
        dataset = call(label, require(module, "WindowDataset"), _series(0, n), window)
        got = call(label, len, dataset)
        assert_true(label, got == n - window, expected=str(n - window), got=str(got))


def _window_examples(module: ModuleType) -> None:
    for seed, n, window in [(1, 12, 4), (2, 9, 1)]:
        series = _series(seed, n)
        dataset = call(
            Msg("WindowDataset(...)", "WindowDataset(...)"),
            require(module, "WindowDataset"),
            series,
            window,
        )
        reference = SlidingWindowDataset(series, window)
        for i in range(len(reference)):
            label = Msg(f"dataset[{i}] (window {window})", f"dataset[{i}] (Fenster {window})")
            x, y = call(label, dataset.__getitem__, i)
            assert_close(
                Msg(label.en + " input", label.de + " Eingabe"),
                x,
                reference[i][0],
                atol=0,
                rtol=0,
            )
            assert_close(
                Msg(label.en + " target", label.de + " Ziel"),
                y,
                reference[i][1],
                atol=0,
                rtol=0,
            )


def _window_loader(module: ModuleType) -> None:
    series = _series(3, 20)
    dataset = call(
        Msg("WindowDataset(...)", "WindowDataset(...)"), require(module, "WindowDataset"), series, 5
    )
    label = Msg(
        "batches of DataLoader(WindowDataset(series, 5), batch_size=4)",
        "Batches von DataLoader(WindowDataset(series, 5), batch_size=4)",
    )
    ours = call(label, lambda: list(DataLoader(dataset, batch_size=4)))
    expected = list(DataLoader(SlidingWindowDataset(series, 5), batch_size=4))
    assert_true(
        label,
        len(ours) == len(expected),
        expected=f"{len(expected)} batches",
        got=f"{len(ours)} batches",
    )
    for (x, y), (ex, ey) in zip(ours, expected, strict=True):
        assert_close(label, x, ex, atol=0, rtol=0)
        assert_close(label, y, ey, atol=0, rtol=0)


class _ModeRecorder(torch.nn.Module):
    """A linear model that remembers whether it was in training mode at each forward call."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.linear = torch.nn.Linear(3, 2, dtype=torch.float64)
        self.modes: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        return self.linear(x)


def _setup(seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(10, 3, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (10,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)  # batches of 4, 4 and 2
    model = _ModeRecorder()
    model.linear.reset_parameters()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    return model, loader, optimizer


def _run_both(module: ModuleType, seed: int):
    label = Msg(
        "train_epoch(model, loader, cross_entropy, SGD)",
        "train_epoch(model, loader, cross_entropy, SGD)",
    )
    model, loader, optimizer = _setup(seed)
    got = call(
        label,
        require(module, "train_epoch"),
        model,
        loader,
        torch.nn.functional.cross_entropy,
        optimizer,
    )
    ref_model, ref_loader, ref_optimizer = _setup(seed)
    expected = reference_train_epoch(
        ref_model, ref_loader, torch.nn.functional.cross_entropy, ref_optimizer
    )
    return label, model, got, ref_model, expected


def _train_epoch_steps(module: ModuleType) -> None:
    for seed in (0, 1):
        label, model, _, ref_model, _ = _run_both(module, seed)
        for name, p in model.named_parameters():
            ref = dict(ref_model.named_parameters())[name]
            assert_close(
                Msg(f"{name} after one epoch", f"{name} nach einer Epoche"),
                p,
                ref,
                atol=1e-12,
                rtol=1e-10,
            )


def _train_epoch_mean(module: ModuleType) -> None:
    for seed in (0, 1):
        label, _, got, _, expected = _run_both(module, seed)
        assert_true(
            label,
            isinstance(got, float | int) or getattr(got, "ndim", 1) == 0,
            expected="a Python float",
            got=repr(got),
        )
        assert_close(
            Msg(
                "mean loss per example (batches 4, 4, 2)",
                "mittlerer Verlust pro Beispiel (Batches 4, 4, 2)",
            ),
            float(got),
            expected,
            atol=1e-12,
            rtol=1e-10,
        )


def _train_mode(module: ModuleType) -> None:
    label = Msg(
        "model.training during train_epoch's forward calls",
        "model.training während der Vorwärtsrechnungen in train_epoch",
    )
    model, loader, optimizer = _setup(0)
    model.eval()  # as after an evaluation
    call(
        label,
        require(module, "train_epoch"),
        model,
        loader,
        torch.nn.functional.cross_entropy,
        optimizer,
    )
    assert_true(
        label,
        model.modes == [True, True, True],
        expected="[True, True, True]",
        got=str(model.modes),
    )


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "a class WindowDataset(series, window) and a function train_epoch(model, loader, loss_fn, optimizer)",
            "eine Klasse WindowDataset(series, window) und eine Funktion train_epoch(model, loader, loss_fn, optimizer)",
        ),
        (
            "Define both names at the top level of your file.",
            "Definieren Sie beide Namen auf oberster Ebene Ihrer Datei.",
        ),
        _exists,
    ),
    check(
        "window_length",
        (
            "len(dataset) is the number of windows with a value after them",
            "len(dataset) ist die Anzahl der Fenster, nach denen noch ein Wert kommt",
        ),
        (
            "A series of n values has n - window windows whose target exists.",
            "Eine Reihe mit n Werten hat n - window Fenster, deren Ziel existiert.",
        ),
        _window_length,
    ),
    check(
        "window_examples",
        (
            "dataset[i] is (series[i:i+window], series[i+window])",
            "dataset[i] ist (series[i:i+window], series[i+window])",
        ),
        (
            "The window ends just before the target; the target must not be inside its own window.",
            "Das Fenster endet direkt vor dem Ziel; das Ziel darf nicht im eigenen Fenster liegen.",
        ),
        _window_examples,
    ),
    check(
        "window_loader",
        (
            "DataLoader batches your dataset like the reference",
            "DataLoader bildet aus Ihrem Dataset dieselben Batches wie die Referenz",
        ),
        (
            "Return tensors (not lists) so default_collate can stack them.",
            "Geben Sie Tensoren (keine Listen) zurück, damit default_collate sie stapeln kann.",
        ),
        _window_loader,
    ),
    check(
        "train_epoch_steps",
        (
            "the parameters after one epoch equal the reference loop's",
            "die Parameter nach einer Epoche gleichen denen der Referenzschleife",
        ),
        (
            "Per batch: optimizer.zero_grad(), forward, loss, loss.backward(), optimizer.step(), in this order.",
            "Pro Batch: optimizer.zero_grad(), Vorwärtsrechnung, Verlust, loss.backward(), optimizer.step(), in dieser Reihenfolge.",
        ),
        _train_epoch_steps,
    ),
    check(
        "train_epoch_mean",
        (
            "the returned loss is the mean per example, weighted by batch size",
            "der zurückgegebene Verlust ist der Mittelwert pro Beispiel, gewichtet mit der Batchgröße",
        ),
        (
            "Add loss.item() * len(inputs) per batch and divide by the number of examples; the last batch is shorter.",
            "Addieren Sie pro Batch loss.item() * len(inputs) und teilen Sie durch die Anzahl der Beispiele; der letzte Batch ist kürzer.",
        ),
        _train_epoch_mean,
    ),
    check(
        "train_mode",
        (
            "train_epoch puts the model in training mode",
            "train_epoch versetzt das Modell in den Trainingsmodus",
        ),
        (
            "Call model.train() at the start: after an evaluation the model is still in eval mode.",
            "Rufen Sie zu Beginn model.train() auf: nach einer Auswertung ist das Modell noch im Eval-Modus.",
        ),
        _train_mode,
    ),
]
