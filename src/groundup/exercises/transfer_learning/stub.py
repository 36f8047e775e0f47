"""Exercise `transfer-learning`: the three small functions every fine-tuning recipe needs.

1. `freeze(module)`: switch off learning in a part of a network. Two things: no parameter of
   the module (nested ones included) requires a gradient any more, and the module goes into
   eval mode, so that its batch-norm layers stop updating their running statistics.
2. `layerwise_param_groups(blocks, lr, factor, **options)`: discriminative learning rates as
   torch.optim parameter groups. Blocks come in forward order (input first, head last); the
   head gets `lr`, and every block further down gets `factor` times less:
   lr_i = lr / factor ** (len(blocks) - 1 - i). Frozen parameters are left out, blocks
   without trainable parameters give no group, `options` go into every group.
3. `few_shot_indices(labels, k, seed)`: the positions of k examples of every class, drawn
   at random without replacement from a torch.Generator seeded with `seed`, sorted
   ascending; k=None means all positions; a class with fewer than k examples is a
   ValueError.

`groundup check transfer-learning` grades them: flags and modes after freezing, training
steps that leave the frozen part bit-identical, batch-norm statistics, the learning rates of
the groups, optimizer steps against hand-built groups, and the sampler's counts, order,
seeding and edge cases. Use torch; do not import groundup.nn.transfer.

DE: Übung `transfer-learning`: die drei kleinen Funktionen, die jedes Fine-Tuning braucht.
1. `freeze(module)`: keinem Parameter des Moduls (auch verschachtelten) wird mehr ein
   Gradient berechnet, und das Modul geht in den Eval-Modus, damit seine
   Batch-Norm-Schichten ihre laufenden Statistiken nicht mehr ändern.
2. `layerwise_param_groups(blocks, lr, factor, **options)`: schichtweise Lernraten als
   Parametergruppen von torch.optim. Die Blöcke stehen in Vorwärtsreihenfolge (Eingabe
   zuerst, Kopf zuletzt); der Kopf bekommt `lr`, jeder tiefere Block `factor`-mal weniger:
   lr_i = lr / factor ** (len(blocks) - 1 - i). Eingefrorene Parameter fallen weg, Blöcke
   ohne trainierbare Parameter ergeben keine Gruppe, `options` kommen in jede Gruppe.
3. `few_shot_indices(labels, k, seed)`: die Positionen von k Beispielen jeder Klasse,
   zufällig ohne Zurücklegen mit einem durch `seed` initialisierten torch.Generator gezogen,
   aufsteigend sortiert; k=None heißt alle Positionen; eine Klasse mit weniger als k
   Beispielen ist ein ValueError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch  # noqa: F401 - torch.Generator, torch.randperm, torch.unique, ...
from torch import Tensor, nn


def freeze(module: nn.Module) -> nn.Module:
    """Make `module` untrainable: requires_grad False for every parameter inside it
    (recursively), and eval mode for the module and everything in it. Returns the module.

    DE: Macht `module` untrainierbar: requires_grad False für jeden Parameter darin
    (rekursiv) und Eval-Modus für das Modul und alles darin. Gibt das Modul zurück.
    """
    # 1. every parameter: no gradient
    # 2. eval mode, so batch norm uses (and keeps) its running statistics
    raise NotImplementedError("TODO: freeze")


def layerwise_param_groups(
    blocks: Sequence[nn.Module], lr: float, factor: float = 2.6, **options: Any
) -> list[dict[str, Any]]:
    """One parameter group {"params": [...], "lr": ..., **options} per block that has
    trainable parameters, in the order of `blocks` (input first, head last).
    Block i gets lr / factor ** (len(blocks) - 1 - i): the last block exactly lr.
    Only parameters with requires_grad=True go into the groups.

    DE: Eine Parametergruppe {"params": [...], "lr": ..., **options} pro Block mit
    trainierbaren Parametern, in der Reihenfolge von `blocks` (Eingabe zuerst, Kopf
    zuletzt). Block i bekommt lr / factor ** (len(blocks) - 1 - i), der letzte genau lr.
    Nur Parameter mit requires_grad=True kommen in die Gruppen.
    """
    raise NotImplementedError("TODO: layerwise_param_groups")


def few_shot_indices(labels: Tensor, k: int | None, seed: int) -> Tensor:
    """Positions (a 1-D integer tensor, sorted ascending, no repeats) of exactly k
    examples of every class that occurs in `labels` (a 1-D integer tensor), drawn at
    random without replacement with torch.Generator().manual_seed(seed): the same seed
    gives the same draw, different seeds (almost always) different draws, and the global
    random state is not used. k=None: every position, torch.arange(len(labels)). A class
    with fewer than k examples: raise ValueError.

    DE: Positionen (1-D-Integer-Tensor, aufsteigend sortiert, ohne Wiederholung) von genau
    k Beispielen jeder Klasse in `labels`, zufällig ohne Zurücklegen mit
    torch.Generator().manual_seed(seed) gezogen: gleicher Seed, gleiche Auswahl; der globale
    Zufallszustand wird nicht benutzt. k=None: alle Positionen. Eine Klasse mit weniger als
    k Beispielen: ValueError.
    """
    # for every class: its positions (torch.nonzero(labels == c)), a random permutation
    # from your generator, the first k; then all classes together, sorted
    raise NotImplementedError("TODO: few_shot_indices")
