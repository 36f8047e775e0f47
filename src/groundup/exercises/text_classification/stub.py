"""Fine-tuning for text classification: four small pieces of the recipe.
DE: Feinabstimmung für Textklassifikation: vier kleine Bausteine des Rezepts.

Fill in the four functions. `groundup check text-classification` compares them with
groundup.finetune (schedule.py, classification.py) and groundup.models.bert.
DE: Füllen Sie die vier Funktionen aus. `groundup check text-classification` vergleicht sie
mit groundup.finetune (schedule.py, classification.py) und groundup.models.bert.
"""

import torch


def warmup_linear_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Factor on the peak learning rate at optimizer step `step` (0-based).

    Rises linearly from 0 (at step 0) to 1 (at step = warmup_steps), then falls linearly to
    0 at step = total_steps and stays 0 after. warmup_steps = 0 means: start at 1.
    (Equal to transformers.get_linear_schedule_with_warmup.)

    DE: Faktor auf die höchste Lernrate im Optimierungsschritt `step` (ab 0 gezählt).
    Steigt linear von 0 (Schritt 0) auf 1 (Schritt warmup_steps), fällt dann linear auf 0
    bei total_steps und bleibt danach 0. warmup_steps = 0 heißt: bei 1 beginnen.
    """
    raise NotImplementedError("TODO: warm-up, then linear decay")


def layer_lr(name: str, num_layers: int, base_lr: float, decay: float) -> float:
    """Learning rate of one parameter of a BERT classifier under layer-wise decay.

    `name` is a parameter name of groundup.finetune.classification.BertClassifier:
      "bert.embeddings.<...>"          -> base_lr * decay ** num_layers   (lowest)
      "bert.layers.<i>.<...>"          -> base_lr * decay ** (num_layers - 1 - i)
      anything else ("bert.pooler.weight", "classifier.bias", ...) -> base_lr
    So the top layer (i = num_layers - 1) learns as fast as the head.

    DE: Lernrate eines Parameters eines BERT-Klassifikators bei schichtweisem Abfall.
    `name` ist ein Parametername von BertClassifier (siehe oben): Embeddings bekommen
    base_lr * decay ** num_layers, Schicht i bekommt base_lr * decay ** (num_layers - 1 - i),
    alles andere (Pooler, Klassifikator) base_lr.
    """
    raise NotImplementedError("TODO: parse the name, count the layers below the top")


def pad_batch(sequences: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Dynamic padding: token id lists of different lengths -> (input_ids, attention_mask).

    Both are int64 tensors of shape (B, T) with T = the longest sequence of this batch (not
    a global maximum). Sequences keep their order and are padded on the right with pad_id;
    the mask is 1 at real tokens and 0 at padding.

    DE: Dynamisches Padding: Listen von Token-IDs unterschiedlicher Länge ->
    (input_ids, attention_mask), beide int64 der Form (B, T), T = die längste Sequenz dieses
    Batches. Rechts mit pad_id auffüllen; die Maske ist 1 bei echten Tokens, 0 beim Padding.
    """
    raise NotImplementedError("TODO: pad to the longest sequence of the batch")


def mean_pooled_logits(
    hidden: torch.Tensor, attention_mask: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """Classification head on token vectors: mean pooling over real tokens, then linear.

    hidden (B, T, H) float, attention_mask (B, T) with 1 = real token, 0 = padding,
    weight (C, H), bias (C,). Returns logits (B, C) = mean_t(hidden[b, t] over real t)
    @ weight.T + bias. Padding must not change the result; gradients must flow to all inputs.

    DE: Klassifikationskopf auf Token-Vektoren: Mittelwert über die echten Tokens, dann
    linear. Rückgabe: Logits (B, C). Padding darf das Ergebnis nicht ändern; Gradienten
    müssen zu allen Eingaben fließen.
    """
    raise NotImplementedError("TODO: masked mean over tokens, then a linear layer")
