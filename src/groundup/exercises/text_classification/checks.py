"""Checks for the text-classification exercise, against groundup.finetune.schedule
(linear_warmup_decay = transformers.get_linear_schedule_with_warmup, layerwise_lr_groups),
groundup.models.bert.collate (dynamic padding) and groundup.models.bert.mean_pool.
"""

from __future__ import annotations

from types import ModuleType

import torch

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    call,
    check,
    excerpt,
    require,
)
from groundup.finetune.classification import BertClassifier
from groundup.finetune.schedule import layerwise_lr_groups, linear_warmup_decay
from groundup.i18n import Msg
from groundup.models.bert import Bert, BertConfig, collate, mean_pool
from groundup.text.wordpiece import Encoding

FUNCTIONS = ["warmup_linear_factor", "layer_lr", "pad_batch", "mean_pooled_logits"]

REFERENCE = """import torch

from groundup.finetune.schedule import linear_warmup_decay as warmup_linear_factor
from groundup.models.bert import mean_pool


def layer_lr(name, num_layers, base_lr, decay):
    parts = name.split(".")
    if parts[:2] == ["bert", "embeddings"]:
        return base_lr * decay**num_layers
    if parts[:2] == ["bert", "layers"]:
        return base_lr * decay ** (num_layers - 1 - int(parts[2]))
    return base_lr


def pad_batch(sequences, pad_id):
    longest = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), longest), pad_id, dtype=torch.long)
    mask = torch.zeros(len(sequences), longest, dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = torch.tensor(sequence, dtype=torch.long)
        mask[row, : len(sequence)] = 1
    return ids, mask


def mean_pooled_logits(hidden, attention_mask, weight, bias):
    return mean_pool(hidden, attention_mask) @ weight.T + bias
"""


def msg(text: str) -> Msg:
    return Msg(text, text)


def same(compared: Msg, got: object, expected: object) -> None:
    if got != expected:
        raise Mismatch(compared, expected=excerpt(expected), got=excerpt(got))


def close(compared: Msg, got: object, expected: float) -> None:
    if not isinstance(got, int | float) or abs(float(got) - expected) > 1e-12 * max(
        1.0, abs(expected)
    ):
        raise Mismatch(compared, expected=repr(expected), got=excerpt(got))


# ---------------------------------------------------------------- the warm-up schedule


def factor(module: ModuleType, step: int, warmup: int, total: int) -> object:
    fn = require(module, "warmup_linear_factor")
    compared = msg(f"warmup_linear_factor({step}, {warmup}, {total})")
    return compared, call(compared, fn, step, warmup, total)


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def warmup_corners(module: ModuleType) -> None:
    for step, warmup, total, expected in [(0, 10, 100, 0.0), (5, 10, 100, 0.5),
                                          (10, 10, 100, 1.0), (100, 10, 100, 0.0)]:  # fmt: skip
        compared, got = factor(module, step, warmup, total)
        close(compared, got, expected)


def warmup_matches_library(module: ModuleType) -> None:
    for warmup, total in [(4, 20), (1, 7), (30, 31), (6, 6), (13, 200)]:
        for step in range(0, total + 3):
            compared, got = factor(module, step, warmup, total)
            close(compared, got, linear_warmup_decay(step, warmup, total))


def warmup_without_warmup(module: ModuleType) -> None:
    for step, total in [(0, 10), (3, 10), (10, 10), (12, 10), (0, 1)]:
        compared, got = factor(module, step, 0, total)
        close(compared, got, linear_warmup_decay(step, 0, total))


# ---------------------------------------------------------------- layer-wise learning rates


def library_rates(num_layers: int, base_lr: float, decay: float) -> dict[str, float]:
    config = BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=num_layers,
                        num_attention_heads=2, intermediate_size=8, max_position_embeddings=8)  # fmt: skip
    model = BertClassifier(Bert(config), 2)
    groups = layerwise_lr_groups(model, base_lr, decay, weight_decay=0.01)
    return {name: group["lr"] for group in groups for name in group["names"]}


def compare_rates(module: ModuleType, num_layers: int, base_lr: float, decay: float,
                  names: list[str] | None = None) -> None:  # fmt: skip
    fn = require(module, "layer_lr")
    rates = library_rates(num_layers, base_lr, decay)
    for name in names or sorted(rates):
        compared = msg(f"layer_lr({name!r}, {num_layers}, {base_lr}, {decay})")
        close(compared, call(compared, fn, name, num_layers, base_lr, decay), rates[name])


def layer_lr_head_and_top(module: ModuleType) -> None:
    names = ["classifier.weight", "classifier.bias", "bert.pooler.weight",
             "bert.layers.3.ffn_in.weight", "bert.layers.3.attention_norm.bias"]  # fmt: skip
    compare_rates(module, 4, 1e-3, 0.5, names)


def layer_lr_matches_library(module: ModuleType) -> None:
    for num_layers, base_lr, decay in [(4, 1e-3, 0.5), (1, 2e-5, 0.9), (12, 5e-5, 0.8)]:
        compare_rates(module, num_layers, base_lr, decay)


# ---------------------------------------------------------------- dynamic padding


def run_pad(module: ModuleType, sequences: list[list[int]], pad_id: int) -> tuple:
    fn = require(module, "pad_batch")
    compared = msg(f"pad_batch({sequences}, pad_id={pad_id})")
    out = call(compared, fn, [list(s) for s in sequences], pad_id)
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise Mismatch(compared, expected="a pair (input_ids, attention_mask)", got=excerpt(out))
    return compared, out[0], out[1]


def library_pad(sequences: list[list[int]], pad_id: int) -> dict[str, torch.Tensor]:
    encodings = [Encoding(s, [0] * len(s), [1] * len(s), [(0, 0)] * len(s), [""] * len(s))
                 for s in sequences]  # fmt: skip
    return collate(encodings, pad_id)


def pad_shapes(module: ModuleType) -> None:
    sequences = [[2, 7, 8, 3], [2, 9, 3], [2, 5, 6, 7, 8, 3]]
    compared, ids, mask = run_pad(module, sequences, 0)
    for tensor in (ids, mask):
        assert_shape(compared, tensor, (3, 6))
        if not isinstance(tensor, torch.Tensor) or tensor.dtype != torch.long:
            raise Mismatch(compared, expected="torch.int64 tensors",
                           got=str(getattr(tensor, "dtype", type(tensor))))  # fmt: skip


def pad_matches_collate(module: ModuleType) -> None:
    g = torch.Generator().manual_seed(0)
    batches = [[[2, 7, 8, 3], [2, 9, 3], [2, 5, 6, 7, 8, 3]], [[4, 4], [4]], [[1, 2, 3]]]
    for _ in range(4):
        lengths = torch.randint(1, 12, (int(torch.randint(1, 7, (1,), generator=g)),), generator=g)
        batches.append([torch.randint(1, 90, (int(n),), generator=g).tolist() for n in lengths])
    for index, sequences in enumerate(batches):
        pad_id = 0 if index % 2 == 0 else 99  # a pad id other than 0 must be used as given
        compared, ids, mask = run_pad(module, sequences, pad_id)
        want = library_pad(sequences, pad_id)
        assert_shape(compared, ids, tuple(want["input_ids"].shape))
        same(compared, torch.as_tensor(ids).tolist(), want["input_ids"].tolist())
        same(msg(f"attention_mask of {compared.en}"), torch.as_tensor(mask).tolist(),
             want["attention_mask"].tolist())  # fmt: skip


# ---------------------------------------------------------------- the mean-pooled head


def head_inputs(seed: int, B: int = 4, T: int = 7, H: int = 6, C: int = 3) -> tuple:
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(B, T, H, generator=g, dtype=torch.float64)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0] = T
    mask = (torch.arange(T)[None, :] < lengths[:, None]).long()
    weight = torch.randn(C, H, generator=g, dtype=torch.float64)
    bias = torch.randn(C, generator=g, dtype=torch.float64)
    return hidden, mask, weight, bias


def expected_logits(hidden, mask, weight, bias) -> torch.Tensor:
    return mean_pool(hidden, mask) @ weight.T + bias


def run_head(module: ModuleType, compared: Msg, *inputs: torch.Tensor) -> torch.Tensor:
    fn = require(module, "mean_pooled_logits")
    return call(compared, fn, *inputs)


def head_values(module: ModuleType) -> None:
    for seed in (1, 2, 3):
        inputs = head_inputs(seed)
        compared = msg(
            f"mean_pooled_logits(hidden (4, 7, 6), mask, weight (3, 6), bias), seed {seed}"
        )
        got = run_head(module, compared, *inputs)
        assert_shape(compared, got, (4, 3))
        assert_close(compared, got, expected_logits(*inputs), atol=1e-9, rtol=1e-9)


def head_ignores_padding(module: ModuleType) -> None:
    hidden, mask, weight, bias = head_inputs(4)
    compared = msg("mean_pooled_logits with 5 extra padding positions holding large values")
    extra = torch.full((hidden.shape[0], 5, hidden.shape[2]), 100.0, dtype=hidden.dtype)
    padded = torch.cat([hidden, extra], dim=1)
    padded_mask = torch.cat([mask, torch.zeros(mask.shape[0], 5, dtype=mask.dtype)], dim=1)
    got = run_head(module, compared, padded, padded_mask, weight, bias)
    assert_close(compared, got, expected_logits(hidden, mask, weight, bias), atol=1e-9, rtol=1e-9)


def head_gradients(module: ModuleType) -> None:
    for seed in (5, 6):
        hidden, mask, weight, bias = head_inputs(seed)
        upstream = torch.randn(4, 3, generator=torch.Generator().manual_seed(seed),
                               dtype=torch.float64)  # fmt: skip
        grads = {}
        for who in ("learner", "library"):
            leaves = [t.clone().requires_grad_(True) for t in (hidden, weight, bias)]
            compared = msg(f"gradients of mean_pooled_logits, seed {seed}")
            if who == "learner":
                out = run_head(module, compared, leaves[0], mask, leaves[1], leaves[2])
            else:
                out = expected_logits(leaves[0], mask, leaves[1], leaves[2])
            if not isinstance(out, torch.Tensor) or not out.requires_grad:
                raise Mismatch(compared, expected="a result connected to the inputs' graph",
                               got="no gradient flows (detached?)")  # fmt: skip
            (out * upstream).sum().backward()
            grads[who] = [leaf.grad for leaf in leaves]
        for label, got, want in zip(("hidden", "weight", "bias"), grads["learner"],
                                    grads["library"], strict=True):  # fmt: skip
            compared = msg(f"d(loss)/d({label}), seed {seed}")
            if got is None:
                raise Mismatch(compared, expected="a gradient", got="None")
            assert_close(compared, got, want, atol=1e-9, rtol=1e-9)


CHECKS: list[Check] = [
    check("defines_functions", ("The four functions exist", "Die vier Funktionen existieren"),
          ("Define " + ", ".join(FUNCTIONS) + ".", "Definieren Sie " + ", ".join(FUNCTIONS) + "."),
          defines_functions),
    check("warmup_corners",
          ("Warm-up starts at 0, peaks at 1, ends at 0", "Warm-up beginnt bei 0, Spitze 1, Ende 0"),
          ("At step 0 the factor is 0, at step = warmup_steps it is 1, at total_steps it is 0.",
           "Bei Schritt 0 ist der Faktor 0, bei warmup_steps 1 und bei total_steps 0."),
          warmup_corners),
    check("warmup_matches_library",
          ("The factor equals transformers' linear schedule at every step",
           "Der Faktor entspricht an jedem Schritt dem linearen Schema von transformers"),
          ("After warm-up: (total - step) / (total - warmup), never below 0.",
           "Nach dem Warm-up: (total - step) / (total - warmup), nie unter 0."),
          warmup_matches_library),
    check("warmup_without_warmup",
          ("No warm-up: the factor starts at 1", "Ohne Warm-up beginnt der Faktor bei 1"),
          ("warmup_steps = 0 must not divide by zero: use max(1, warmup_steps).",
           "warmup_steps = 0 darf nicht durch null teilen: nehmen Sie max(1, warmup_steps)."),
          warmup_without_warmup),
    check("layer_lr_head_and_top",
          ("Head, pooler and top layer learn at base_lr",
           "Kopf, Pooler und oberste Schicht lernen mit base_lr"),
          ("Layer i is num_layers - 1 - i layers below the top; the top layer has exponent 0.",
           "Schicht i liegt num_layers - 1 - i Schichten unter der obersten; die oberste hat "
           "Exponent 0."),
          layer_lr_head_and_top),
    check("layer_lr_matches_library",
          ("Every parameter's rate equals layerwise_lr_groups",
           "Die Rate jedes Parameters entspricht layerwise_lr_groups"),
          ("Embeddings sit below layer 0: base_lr * decay ** num_layers. Read the layer number "
           "from the name as an integer (layer 10 is not layer 1).",
           "Die Embeddings liegen unter Schicht 0: base_lr * decay ** num_layers. Lesen Sie "
           "die Schichtnummer als ganze Zahl aus dem Namen (Schicht 10 ist nicht Schicht 1)."),
          layer_lr_matches_library),
    check("pad_shapes",
          ("Padded to the longest sequence of the batch, int64",
           "Aufgefüllt auf die längste Sequenz des Batches, int64"),
          ("Both tensors have shape (batch, longest length) and dtype torch.long.",
           "Beide Tensoren haben die Form (Batch, längste Länge) und den Typ torch.long."),
          pad_shapes),
    check("pad_matches_collate",
          ("Ids and mask equal models.bert.collate", "IDs und Maske entsprechen models.bert.collate"),
          ("Pad on the right with the given pad_id; mask 1 at real tokens, 0 at padding; keep "
           "the order of the sequences.",
           "Rechts mit der übergebenen pad_id auffüllen; Maske 1 bei echten Tokens, 0 beim "
           "Padding; die Reihenfolge der Sequenzen beibehalten."),
          pad_matches_collate),
    check("head_values",
          ("Logits equal mean pooling + linear layer", "Logits entsprechen Mittelwert + Linearschicht"),
          ("Average the token vectors of each text, then pooled @ weight.T + bias.",
           "Mitteln Sie die Token-Vektoren jedes Textes, dann pooled @ weight.T + bias."),
          head_values),
    check("head_ignores_padding",
          ("Padding positions do not change the logits", "Padding-Positionen ändern die Logits nicht"),
          ("Multiply by the mask before summing and divide by the number of real tokens, not by T.",
           "Vor dem Summieren mit der Maske multiplizieren und durch die Zahl der echten Tokens "
           "teilen, nicht durch T."),
          head_ignores_padding),
    check("head_gradients",
          ("Gradients reach hidden states, weight and bias",
           "Gradienten erreichen verborgene Zustände, Gewicht und Bias"),
          ("Use differentiable tensor operations only (no .detach(), .item() or numpy).",
           "Nur differenzierbare Tensoroperationen (kein .detach(), .item() oder NumPy)."),
          head_gradients),
]  # fmt: skip
