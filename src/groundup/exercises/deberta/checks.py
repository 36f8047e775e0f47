"""Checks for the `deberta` exercise, against groundup.models.deberta.

The library is the oracle; tests/models/test_deberta.py compares it with transformers'
DebertaV2 attention, layer and model (importing transformers would take longer than a check
may). Bucket ids must be equal exactly; attention values are compared in float64 with atol
1e-9, gradients with atol 1e-8. The last two checks run your function inside DeBERTa's
attention layer (random weights, padded batches, shared and separate position projections)
and compare the layer's output and the gradients of its weights.
"""

from __future__ import annotations

from types import ModuleType

import torch
from torch import Tensor

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    assert_true,
    call,
    check,
    describe,
    require,
)
from groundup.i18n import Msg
from groundup.models import deberta as library

FUNCTIONS = ["log_bucket_position", "relative_position", "position_scores",
             "disentangled_attention"]  # fmt: skip

REFERENCE = """import math

import torch

from groundup.models.deberta import (
    build_relative_position,
    content_to_position,
    make_log_bucket_position,
    position_to_content,
)


def log_bucket_position(relative_pos, bucket_size, max_position):
    return make_log_bucket_position(relative_pos, bucket_size, max_position)


def relative_position(query_size, key_size, bucket_size=-1, max_position=-1):
    return build_relative_position(query_size, key_size, bucket_size, max_position)[0]


def position_scores(q, k, pos_key, pos_query, relative_pos):
    return (content_to_position(q, pos_key, relative_pos),
            position_to_content(k, pos_query, relative_pos))


def disentangled_attention(q, k, v, pos_key, pos_query, relative_pos, mask):
    c2p, p2c = position_scores(q, k, pos_key, pos_query, relative_pos)
    scores = (q @ k.transpose(-1, -2) + c2p + p2c) / math.sqrt(3 * q.shape[-1])
    scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    return scores.softmax(dim=-1) @ v
"""

VALUES = {"atol": 1e-9, "rtol": 1e-7}
GRADIENTS = {"atol": 1e-8, "rtol": 1e-6}
# (bucket_size, max_position): pairs where float32 and float64 logs give the same ids
BUCKETS = [(4, 10), (6, 20), (8, 24), (16, 64), (32, 128), (12, 50), (256, 512)]


def _same(text: str) -> Msg:
    """A label that reads the same in both languages (code and shapes)."""
    return Msg(text, text)


def _tensor(label: Msg, value: object) -> Tensor:
    if not isinstance(value, Tensor):
        raise Mismatch(label, expected="a torch.Tensor", got=describe(value))
    return value


def _equal_ids(label: Msg, got: object, expected: Tensor) -> None:
    got = _tensor(label, got)
    assert_shape(label, got, tuple(expected.shape))
    assert_close(label, got, expected, atol=0, rtol=0)


def _inputs(seed: int, B: int, heads: int, T: int, d: int, span: int) -> dict[str, Tensor]:
    g = torch.Generator().manual_seed(seed)

    def randn(*shape: int) -> Tensor:
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    return {"q": randn(B, heads, T, d), "k": randn(B, heads, T, d), "v": randn(B, heads, T, d),
            "pos_key": randn(heads, 2 * span, d), "pos_query": randn(heads, 2 * span, d)}  # fmt: skip


def _padding_mask(B: int, T: int, seed: int) -> Tensor:
    """pair_mask of a batch whose rows have random real lengths (the first row is full)."""
    g = torch.Generator().manual_seed(seed)
    real = torch.ones(B, T, dtype=torch.long)
    for b in range(1, B):
        real[b, int(torch.randint(2, T, (1,), generator=g)) :] = 0
    return library.pair_mask(real)


def _library_attention(x: dict[str, Tensor], relative_pos: Tensor, mask: Tensor) -> Tensor:
    c2p = library.content_to_position(x["q"], x["pos_key"], relative_pos)
    p2c = library.position_to_content(x["k"], x["pos_query"], relative_pos)
    scores = (x["q"] @ x["k"].transpose(-1, -2) + c2p + p2c) / (3 * x["q"].shape[-1]) ** 0.5
    scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    return scores.softmax(dim=-1) @ x["v"]


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_relative_position_plain(module: ModuleType) -> None:
    fn = require(module, "relative_position")
    for query_size, key_size in ((5, 5), (3, 7), (8, 2), (1, 4)):
        label = _same(f"relative_position({query_size}, {key_size})")
        got = _tensor(label, call(label, fn, query_size, key_size))
        assert_true(label, got.dtype == torch.long, "dtype torch.int64", f"dtype {got.dtype}")
        expected = library.build_relative_position(query_size, key_size)[0]
        _equal_ids(label, got, expected)


def check_log_buckets_near(module: ModuleType) -> None:
    fn = require(module, "log_bucket_position")
    for bucket_size, max_position in ((8, 24), (16, 64), (256, 512)):
        mid = bucket_size // 2
        near = torch.arange(-mid, mid + 1)
        label = _same(f"log_bucket_position({near.tolist()[:3]}...{near.tolist()[-1]}, "
                      f"{bucket_size}, {max_position}): |d| <= {mid} stays d")  # fmt: skip
        _equal_ids(label, call(label, fn, near.clone(), bucket_size, max_position), near)


def check_log_buckets_far(module: ModuleType) -> None:
    fn = require(module, "log_bucket_position")
    distances = torch.arange(-1500, 1501)
    for bucket_size, max_position in BUCKETS:
        label = _same(f"log_bucket_position(-1500..1500, {bucket_size}, {max_position})")
        got = call(label, fn, distances.clone(), bucket_size, max_position)
        expected = library.make_log_bucket_position(distances, bucket_size, max_position)
        _equal_ids(label, got, expected)


def check_relative_position_bucketed(module: ModuleType) -> None:
    fn = require(module, "relative_position")
    for query_size, key_size, bucket_size, max_position in (
        (40, 40, 8, 24), (100, 70, 16, 64), (600, 600, 256, 512), (30, 30, 0, 24)
    ):  # fmt: skip
        label = _same(f"relative_position({query_size}, {key_size}, {bucket_size}, {max_position})")
        got = call(label, fn, query_size, key_size, bucket_size, max_position)
        expected = library.build_relative_position(query_size, key_size, bucket_size, max_position)
        _equal_ids(label, got, expected[0])


def _terms(module: ModuleType, seed: int, T: int, span: int, buckets: tuple[int, int] | None,
           which: int) -> None:  # fmt: skip
    fn = require(module, "position_scores")
    x = _inputs(seed, 2, 3, T, 4, span)
    relative_pos = library.build_relative_position(T, T, *(buckets or (-1, -1)))[0]
    name = ("c2p", "p2c")[which]
    label = _same(f"position_scores(q, k, pos_key, pos_query, relative_pos)[{which}] ({name}); "
                  f"B=2, heads=3, T={T}, d=4, span={span}, buckets={buckets}")  # fmt: skip
    got = call(label, fn, x["q"], x["k"], x["pos_key"], x["pos_query"], relative_pos)
    if not isinstance(got, tuple | list) or len(got) != 2:
        raise Mismatch(label, expected="a pair (c2p, p2c)", got=describe(got))
    term = _tensor(label, got[which])
    assert_shape(label, term, (2, 3, T, T))
    if which == 0:
        expected = library.content_to_position(x["q"], x["pos_key"], relative_pos)
    else:
        expected = library.position_to_content(x["k"], x["pos_query"], relative_pos)
    assert_close(label, term, expected, **VALUES)


def check_c2p_term(module: ModuleType) -> None:
    _terms(module, 1, 6, 8, None, 0)
    _terms(module, 2, 9, 16, (8, 24), 0)


def check_p2c_term(module: ModuleType) -> None:
    _terms(module, 3, 6, 8, None, 1)
    _terms(module, 4, 9, 16, (8, 24), 1)


def check_clipped_distances(module: ModuleType) -> None:
    """T well beyond the table: distances below -span and above span - 1 share the edge rows."""
    for which in (0, 1):
        _terms(module, 5 + which, 20, 4, None, which)
        _terms(module, 7 + which, 40, 4, (8, 16), which)


def _attention(module: ModuleType, seed: int, masked: bool) -> None:
    fn = require(module, "disentangled_attention")
    B, heads, T, d, span = 3, 2, 12, 5, 4
    x = _inputs(seed, B, heads, T, d, span)
    relative_pos = library.build_relative_position(T, T, 4, 16)[0]
    if masked:
        mask = _padding_mask(B, T, seed)
        g = torch.Generator().manual_seed(seed + 1)
        mask = mask & ((torch.rand(B, 1, T, T, generator=g) > 0.3) | torch.eye(T, dtype=bool))
    else:
        mask = torch.ones(B, 1, T, T, dtype=torch.bool)
    what = "padding and random holes" if masked else "nothing masked"
    label = _same(f"disentangled_attention(...), B={B}, heads={heads}, T={T}, d={d}, {what}")
    got = _tensor(label, call(label, fn, *(x[n].clone() for n in x), relative_pos, mask))
    assert_shape(label, got, (B, heads, T, d))
    assert_close(label, got, _library_attention(x, relative_pos, mask), **VALUES)


def check_attention_unmasked(module: ModuleType) -> None:
    _attention(module, 10, masked=False)
    _attention(module, 11, masked=False)


def check_attention_masked(module: ModuleType) -> None:
    _attention(module, 12, masked=True)
    _attention(module, 13, masked=True)


def check_gradients(module: ModuleType) -> None:
    fn = require(module, "disentangled_attention")
    B, heads, T, d, span = 2, 2, 10, 4, 4
    x = _inputs(20, B, heads, T, d, span)
    relative_pos = library.build_relative_position(T, T, 4, 12)[0]
    mask = _padding_mask(B, T, 21)
    weight = torch.randn(B, heads, T, d, generator=torch.Generator().manual_seed(22),
                         dtype=torch.float64)  # fmt: skip
    grads = []
    for learner in (True, False):
        leaves = {n: t.clone().requires_grad_() for n, t in x.items()}
        if learner:
            label = _same("disentangled_attention(...) for the gradients")
            out = _tensor(label, call(label, fn, *leaves.values(), relative_pos, mask))
        else:
            out = _library_attention(leaves, relative_pos, mask)
        (out * weight).sum().backward()
        grads.append({n: t.grad for n, t in leaves.items()})
    for name in x:
        label = Msg(f"d loss / d {name}", f"d Loss / d {name}")
        if grads[0][name] is None:
            raise Mismatch(label, expected="a gradient", got="None (no gradient reached it)")
        assert_close(label, grads[0][name], grads[1][name], **GRADIENTS)


def _layer_run(fn: object, layer: library.DisentangledSelfAttention, x: Tensor, mask: Tensor,
               relative_pos: Tensor, table: Tensor) -> Tensor:  # fmt: skip
    """DeBERTa's attention layer with the learner's function in place of its core."""
    q, k, v = (layer.split_heads(p(x)) for p in (layer.query_proj, layer.key_proj,
                                                  layer.value_proj))  # fmt: skip
    rel = table[: 2 * layer.span]
    pos_key = layer.split_heads(
        (layer.key_proj if layer.share_att_key else layer.pos_key_proj)(rel)
    )
    pos_query = layer.split_heads(
        (layer.query_proj if layer.share_att_key else layer.pos_query_proj)(rel)
    )
    label = _same("disentangled_attention inside DeBERTa's attention layer")
    out = _tensor(label, call(label, fn, q, k, v, pos_key, pos_query, relative_pos[0], mask))
    B, T, H = x.shape
    return out.transpose(1, 2).reshape(B, T, H)


def check_matches_deberta_layer(module: ModuleType) -> None:
    fn = require(module, "disentangled_attention")
    for seed, share, buckets in ((30, True, 8), (31, False, 0)):
        torch.manual_seed(seed)
        config = library.DebertaV2Config(
            vocab_size=10, hidden_size=24, num_attention_heads=3, max_position_embeddings=20,
            position_buckets=buckets, max_relative_positions=20 if buckets else 6,
            share_att_key=share, attention_probs_dropout_prob=0.0, hidden_dropout_prob=0.0,
        )  # fmt: skip
        layer = library.DisentangledSelfAttention(config).double().eval()
        g = torch.Generator().manual_seed(seed)
        B, T = 3, 18
        x = torch.randn(B, T, 24, generator=g, dtype=torch.float64)
        table = torch.randn(2 * layer.span, 24, generator=g, dtype=torch.float64)
        mask = _padding_mask(B, T, seed)
        relative_pos = library.build_relative_position(T, T, config.position_buckets,
                                                       config.max_distance)  # fmt: skip
        weight = torch.randn(B, T, 24, generator=g, dtype=torch.float64)
        results = []
        for learner in (True, False):
            layer.zero_grad(set_to_none=True)
            x_in, table_in = x.clone().requires_grad_(), table.clone().requires_grad_()
            if learner:
                out = _layer_run(fn, layer, x_in, mask, relative_pos, table_in)
            else:
                out = layer(x_in, mask, relative_pos, table_in)
            (out * weight).sum().backward()
            params = {n: p.grad for n, p in layer.named_parameters()}
            results.append((out, x_in.grad, table_in.grad, params))
        kind = "shared keys, 8 log buckets" if share else "own position projections, no buckets"
        mine, ref = results
        assert_close(_same(f"attention layer output ({kind})"), mine[0], ref[0], **VALUES)
        assert_close(_same(f"d loss / d x ({kind})"), mine[1], ref[1], **GRADIENTS)
        assert_close(_same(f"d loss / d relative table ({kind})"), mine[2], ref[2], **GRADIENTS)
        for name, grad in ref[3].items():
            label = _same(f"d loss / d {name} ({kind})")
            if mine[3][name] is None:
                raise Mismatch(label, expected="a gradient", got="None")
            assert_close(label, mine[3][name], grad, **GRADIENTS)


CHECKS: list[Check] = [
    check(
        "exists",
        ("the four functions exist", "die vier Funktionen existieren"),
        (
            "Define log_bucket_position, relative_position, position_scores and "
            "disentangled_attention at the top level of your file.",
            "Definieren Sie log_bucket_position, relative_position, position_scores und "
            "disentangled_attention auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "relative_position_plain",
        (
            "relative_position(Q, K)[i, j] = i - j, shape (Q, K), dtype long",
            "relative_position(Q, K)[i, j] = i - j, Form (Q, K), dtype long",
        ),
        (
            "Query index minus key index: arange(Q)[:, None] - arange(K)[None, :]. The "
            "diagonal is 0, entries left of it are positive.",
            "Query-Index minus Key-Index: arange(Q)[:, None] - arange(K)[None, :]. Die "
            "Diagonale ist 0, die Einträge links davon sind positiv.",
        ),
        check_relative_position_plain,
    ),
    check(
        "log_buckets_near",
        (
            "log_bucket_position leaves distances with |d| <= bucket_size // 2 unchanged, "
            "sign included",
            "log_bucket_position lässt Abstände mit |d| <= bucket_size // 2 unverändert, "
            "samt Vorzeichen",
        ),
        (
            "Near distances keep one bucket each; only |d| > mid is compressed. Keep the sign: "
            "d = -3 stays -3, not 3.",
            "Nahe Abstände behalten je einen eigenen Bucket; nur |d| > mid wird gestaucht. "
            "Behalten Sie das Vorzeichen: d = -3 bleibt -3, nicht 3.",
        ),
        check_log_buckets_near,
    ),
    check(
        "log_buckets_far",
        (
            "log_bucket_position equals DeBERTa-v2's buckets for every distance in "
            "-1500..1500 and seven (bucket_size, max_position) pairs",
            "log_bucket_position stimmt für jeden Abstand in -1500..1500 und sieben Paare "
            "(bucket_size, max_position) mit den Buckets von DeBERTa-v2 überein",
        ),
        (
            "Beyond mid: mid + ceil(log(|d| / mid) / log((max_position - 1) / mid) * (mid - 1)), "
            "times sign(d). ceil, not floor or round; max_position - 1, not max_position; "
            "mid - 1, not mid. Distances past max_position keep growing (they are clipped "
            "later, by the attention).",
            "Jenseits von mid: mid + ceil(log(|d| / mid) / log((max_position - 1) / mid) * "
            "(mid - 1)), mal sign(d). ceil, nicht floor oder round; max_position - 1, nicht "
            "max_position; mid - 1, nicht mid. Abstände jenseits von max_position wachsen "
            "weiter (abgeschnitten wird erst in der Attention).",
        ),
        check_log_buckets_far,
    ),
    check(
        "relative_position_bucketed",
        (
            "relative_position(Q, K, bucket_size, max_position) = the buckets of i - j",
            "relative_position(Q, K, bucket_size, max_position) = die Buckets von i - j",
        ),
        (
            "Bucket only when both bucket_size > 0 and max_position > 0 (bucket_size 0 means "
            "plain distances), and return a long tensor.",
            "Nur in Buckets einteilen, wenn bucket_size > 0 und max_position > 0 sind "
            "(bucket_size 0 heißt: reine Abstände), und einen Long-Tensor zurückgeben.",
        ),
        check_relative_position_bucketed,
    ),
    check(
        "c2p_term",
        (
            "c2p[b, h, i, j] = q_i . pos_key[row of delta(i, j)] (short sequences, no clipping)",
            "c2p[b, h, i, j] = q_i . pos_key[Zeile von delta(i, j)] (kurze Folgen, ohne "
            "Abschneiden)",
        ),
        (
            "Content to position: the query's content against the key's relative position, "
            "through pos_key (not pos_query). Row = delta + span; gather along the last axis "
            "of q @ pos_key^T.",
            "Inhalt zu Position: der Inhalt der Query gegen die relative Position des Keys, "
            "über pos_key (nicht pos_query). Zeile = delta + span; gather entlang der letzten "
            "Achse von q @ pos_key^T.",
        ),
        check_c2p_term,
    ),
    check(
        "p2c_term",
        (
            "p2c[b, h, i, j] = k_j . pos_query[row of delta(i, j)] (short sequences, no clipping)",
            "p2c[b, h, i, j] = k_j . pos_query[Zeile von delta(i, j)] (kurze Folgen, ohne "
            "Abschneiden)",
        ),
        (
            "Gather from k @ pos_query^T with rows -relative_pos + span (the minus sign: key j "
            "looks back at query i), then transpose the last two axes so queries are rows.",
            "Sammeln Sie aus k @ pos_query^T mit den Zeilen -relative_pos + span ein (das "
            "Minus: Key j blickt zurück auf Query i) und vertauschen Sie danach die letzten "
            "beiden Achsen, damit die Queries Zeilen sind.",
        ),
        check_p2c_term,
    ),
    check(
        "clipped_distances",
        (
            "both terms for sequences longer than the table: far distances use the edge rows",
            "beide Terme für Folgen, die länger als die Tabelle sind: ferne Abstände nehmen "
            "die Randzeilen",
        ),
        (
            "Clamp the row index to 0 .. 2 * span - 1 before the gather, for c2p and p2c.",
            "Begrenzen Sie den Zeilenindex vor dem gather auf 0 .. 2 * span - 1, für c2p und p2c.",
        ),
        check_clipped_distances,
    ),
    check(
        "attention_unmasked",
        (
            "disentangled_attention without a mask: softmax((qk^T + c2p + p2c) / sqrt(3d)) v",
            "disentangled_attention ohne Maske: softmax((qk^T + c2p + p2c) / sqrt(3d)) v",
        ),
        (
            "Three dot products summed have three times the variance of one: divide by "
            "sqrt(3 d), d the head size, not sqrt(d). Softmax over the keys (the last axis).",
            "Drei summierte Skalarprodukte haben die dreifache Varianz eines einzelnen: teilen "
            "Sie durch sqrt(3 d), d die Kopfgröße, nicht durch sqrt(d). Softmax über die Keys "
            "(die letzte Achse).",
        ),
        check_attention_unmasked,
    ),
    check(
        "attention_masked",
        (
            "disentangled_attention with padding and random masked places",
            "disentangled_attention mit Padding und zufällig maskierten Stellen",
        ),
        (
            "Fill the scores where mask is False with torch.finfo(scores.dtype).min before the "
            "softmax (-inf turns fully masked rows into NaN).",
            "Setzen Sie die Scores, wo mask False ist, vor der Softmax auf "
            "torch.finfo(scores.dtype).min (-inf macht ganz maskierte Zeilen zu NaN).",
        ),
        check_attention_masked,
    ),
    check(
        "gradients",
        (
            "gradients reach q, k, v, pos_key and pos_query and equal the library's",
            "Gradienten erreichen q, k, v, pos_key und pos_query und stimmen mit der Bibliothek "
            "überein",
        ),
        (
            "Stay in torch: no .detach(), .numpy(), torch.no_grad() or in-place writes into "
            "the inputs.",
            "Bleiben Sie in torch: kein .detach(), .numpy(), torch.no_grad() und keine "
            "In-place-Schreibzugriffe in die Eingaben.",
        ),
        check_gradients,
    ),
    check(
        "matches_deberta_layer",
        (
            "inside DeBERTa's attention layer (padded batches, shared keys with log buckets "
            "and own projections without): output and gradients of every weight",
            "in der Attention-Schicht von DeBERTa (gepaddete Batches, geteilte Keys mit "
            "Log-Buckets und eigene Projektionen ohne): Ausgabe und Gradienten aller Gewichte",
        ),
        (
            "The layer computes q, k, v and the projected tables and calls your function; the "
            "library layer is checked against Hugging Face's DebertaV2 attention. If the "
            "earlier checks pass, look at dtypes and at broadcasting of pos_key (heads, 2 span, "
            "d) against q (B, heads, T, d).",
            "Die Schicht berechnet q, k, v und die projizierten Tabellen und ruft Ihre "
            "Funktion auf; die Bibliotheksschicht ist gegen die DebertaV2-Attention von "
            "Hugging Face geprüft. Bestehen die früheren Checks, achten Sie auf dtypes und auf "
            "das Broadcasting von pos_key (heads, 2 span, d) gegen q (B, heads, T, d).",
        ),
        check_matches_deberta_layer,
    ),
]
