"""Exercise `regularization`: batch normalization, running statistics included.

Write `batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)`,
the function behind torch.nn.BatchNorm1d and BatchNorm2d:

    y = (x - mean) / sqrt(var + eps) * weight + bias        (one mean and var per channel)

`groundup check regularization` grades it against torch.nn.functional.batch_norm: output
shapes, values and gradients in training mode, the running statistics (unbiased variance!),
eval mode, and 4-D images. Do not call torch.nn.functional.batch_norm or nn.BatchNorm* yourself;
use .mean, .var, torch.sqrt and in-place updates such as .mul_ and .add_.

DE: Übung `regularization`: Batch-Normalisierung samt laufender Statistiken.
Schreiben Sie `batch_norm(...)`, die Funktion hinter torch.nn.BatchNorm1d und BatchNorm2d.
`groundup check regularization` vergleicht sie mit torch.nn.functional.batch_norm: Formen,
Werte und Gradienten im Trainingsmodus, die laufenden Statistiken (erwartungstreue Varianz!),
den Auswertungsmodus und 4-D-Bilder. Rufen Sie torch.nn.functional.batch_norm oder
nn.BatchNorm* nicht selbst auf; nehmen Sie .mean, .var, torch.sqrt und In-place-Operationen
wie .mul_ und .add_.
"""

from __future__ import annotations

import torch  # noqa: F401 - imported for you: torch.sqrt, torch.no_grad, ...
from torch import Tensor


def batch_norm(
    x: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization over the channel axis 1, like torch.nn.functional.batch_norm.

    x: (N, C) features, or (N, C, *) such as (N, C, L) sequences or (N, C, H, W) images.
       Channel c gets one mean and one variance, taken over the batch axis 0 AND every axis
       after the channel axis, i.e. over all N * H * W values of that channel.
    running_mean, running_var: (C,) float tensors, changed IN PLACE (the caller keeps them).
    weight, bias: (C,) tensors (gamma and beta) or None (then 1 and 0).
    training=True:
       - normalise with the batch mean and the BIASED batch variance (divide by n,
         n = number of values per channel);
       - then update the running statistics in place, without autograd history
         (inside `with torch.no_grad():`):
             running_mean <- (1 - momentum) * running_mean + momentum * batch_mean
             running_var  <- (1 - momentum) * running_var  + momentum * unbiased_batch_var
         where unbiased_batch_var divides by n - 1 (n >= 2 is guaranteed).
    training=False:
       - normalise with running_mean and running_var instead; do not change them.
    eps goes INSIDE the square root: sqrt(var + eps).
    Returns y with the shape of x. It must stay differentiable with respect to x, weight and
    bias.

    DE: Batch-Normalisierung über die Kanalachse 1, wie torch.nn.functional.batch_norm.
    x: (N, C) oder (N, C, *), z. B. (N, C, H, W). Kanal c bekommt einen Mittelwert und eine
    Varianz über die Batch-Achse 0 UND alle Achsen nach der Kanalachse (alle N * H * W Werte).
    running_mean, running_var: (C,), werden IN PLACE geändert. weight, bias: (C,) oder None.
    training=True: mit Batch-Mittelwert und VERZERRTER Batch-Varianz (geteilt durch n)
    normalisieren; danach die laufenden Statistiken in place und ohne Autograd-Historie
    (in `with torch.no_grad():`) nachführen:
    laufend <- (1 - momentum) * laufend + momentum * Batch-Wert, für die Varianz mit der
    ERWARTUNGSTREUEN Batch-Varianz (geteilt durch n - 1).
    training=False: mit running_mean und running_var normalisieren und sie nicht ändern.
    eps steht IN der Wurzel: sqrt(var + eps). Rückgabe: y mit der Form von x, differenzierbar
    nach x, weight und bias.
    """
    # 1. the axes to reduce over: 0 and 2, 3, ... (every axis but the channel axis 1)
    # 2. a shape like (1, C, 1, 1) to broadcast (C,) vectors over x
    # 3. training: batch mean and biased variance; update the running statistics in place
    #    eval: use the running statistics
    # 4. y = (x - mean) / sqrt(var + eps), then * weight and + bias if given
    raise NotImplementedError("TODO: batch_norm")
