"""Exercise `pytorch_basics`: a custom Dataset and the training loop.

Write
- `WindowDataset(series, window)`: a torch Dataset over a 1-D tensor `series`; example i is
  (series[i : i + window], series[i + window]), the window and the value right after it;
- `train_epoch(model, loader, loss_fn, optimizer)`: one pass over `loader`, returning the
  mean loss per example (each batch's mean loss weighted by its batch size).

DE: Übung `pytorch_basics`: ein eigenes Dataset und die Trainingsschleife. Schreiben Sie
`WindowDataset(series, window)`: ein torch-Dataset über einen 1-D-Tensor `series`; Beispiel i
ist (series[i : i + window], series[i + window]), das Fenster und der Wert direkt danach;
und `train_epoch(model, loader, loss_fn, optimizer)`: ein Durchlauf über `loader`, der den
mittleren Verlust pro Beispiel zurückgibt (der Mittelwert jedes Batches, gewichtet mit
seiner Größe).
"""

from __future__ import annotations

import torch  # noqa: F401
from torch.utils.data import Dataset


class WindowDataset(Dataset):
    """Sliding windows over a 1-D series.

    len(dataset) = number of windows that still have a value after them.
    dataset[i] = (x, y): x = series[i : i + window] (shape (window,)), y = series[i + window]
    (a 0-dim tensor). The target must never be part of its own window.

    DE: Gleitende Fenster über eine 1-D-Reihe. len(dataset) = Anzahl der Fenster, nach denen
    noch ein Wert kommt. dataset[i] = (x, y) mit x = series[i : i + window] (Form (window,)) und
    y = series[i + window] (0-dimensional). Das Ziel darf nie im eigenen Fenster stehen.
    """

    def __init__(self, series, window: int) -> None:
        self.series = series
        self.window = window

    def __len__(self) -> int:
        raise NotImplementedError("TODO: number of windows")

    def __getitem__(self, index: int):
        raise NotImplementedError("TODO: (window, next value)")


def train_epoch(model, loader, loss_fn, optimizer) -> float:
    """One epoch: for every (inputs, targets) batch: zero_grad, forward, loss, backward, step.

    Put the model in training mode first. `loss_fn` returns the mean over its batch.
    Return sum(loss_b * batch_size_b) / number of examples as a Python float.

    DE: Eine Epoche: für jeden Batch (inputs, targets): zero_grad, Vorwärtsrechnung, Verlust,
    backward, step. Setzen Sie das Modell zuerst in den Trainingsmodus. `loss_fn` liefert den
    Mittelwert über den Batch. Rückgabe: sum(loss_b * batch_size_b) / Anzahl der Beispiele als
    Python-float.
    """
    raise NotImplementedError("TODO: train_epoch")
