"""Checks for the `seq2seq-attention` exercise, against groundup.models.seq2seq.Attention.

The library's Attention is itself checked against the papers' equations and against
torch.nn.functional.scaled_dot_product_attention (tests/models/test_seq2seq.py). Here its
weights are copied from random tensors, every input is float64 with a fixed seed, and query
and key widths differ wherever the score allows it, so that a transposed weight cannot pass.
A correct answer agrees to about 1e-15; the tolerance (atol 1e-10, rtol 1e-8) is for rounding.
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
from groundup.models.seq2seq import Attention, length_mask

FUNCTIONS = ["additive_scores", "dot_scores", "general_scores", "attend"]

REFERENCE = """import torch

from groundup.models.seq2seq import Attention


def _use(layer, weight):
    # a plain tensor instead of the layer's parameter, so gradients reach the caller's weight
    del layer.weight
    layer.weight = weight


def additive_scores(query, keys, w_query, w_key, v):
    attention = Attention("additive", query.shape[-1], keys.shape[-1], w_query.shape[0])
    _use(attention.w_query, w_query)
    _use(attention.w_key, w_key)
    _use(attention.v, v[None])
    return attention.scores(query, keys)


def dot_scores(query, keys):
    return Attention("dot", query.shape[-1], keys.shape[-1]).scores(query, keys)


def general_scores(query, keys, w):
    attention = Attention("general", query.shape[-1], keys.shape[-1])
    _use(attention.w, w)
    return attention.scores(query, keys)


def attend(scores, keys, mask):
    if mask is not None:
        scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ keys, weights
"""

TOL = {"atol": 1e-10, "rtol": 1e-8}
B, T, S, Q, K, A = 3, 4, 5, 6, 7, 8  # all different: a swapped axis shows as a shape error


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _inputs(seed: int, q_size: int = Q, k_size: int = K) -> tuple[Tensor, Tensor]:
    g = _generator(seed)
    query = torch.randn(B, T, q_size, generator=g, dtype=torch.float64)
    keys = torch.randn(B, S, k_size, generator=g, dtype=torch.float64)
    return query, keys


def _weights(seed: int) -> dict[str, Tensor]:
    g = _generator(1000 + seed)
    return {
        "w_query": torch.randn(A, Q, generator=g, dtype=torch.float64) / Q**0.5,
        "w_key": torch.randn(A, K, generator=g, dtype=torch.float64) / K**0.5,
        "v": torch.randn(A, generator=g, dtype=torch.float64),
        "w": torch.randn(Q, K, generator=g, dtype=torch.float64) / K**0.5,
    }


def _library(score: str, weights: dict[str, Tensor], q_size: int = Q) -> Attention:
    """groundup's Attention holding the given weights (nn.Linear stores (out, in))."""
    k_size = q_size if score == "dot" else K
    attention = Attention(score, q_size, k_size, attention_size=A).double()
    with torch.no_grad():
        if score == "additive":
            attention.w_query.weight.copy_(weights["w_query"])
            attention.w_key.weight.copy_(weights["w_key"])
            attention.v.weight.copy_(weights["v"][None])
        elif score == "general":
            attention.w.weight.copy_(weights["w"])  # Linear(K, Q) holds W as (Q, K)
    return attention


def _mask(lengths: list[int]) -> Tensor:
    return length_mask(torch.tensor(lengths), S)


def _learner_scores(module: ModuleType, score: str, label: Msg, query, keys, weights) -> Tensor:
    if score == "additive":
        fn = require(module, "additive_scores")
        return call(label, fn, query, keys, weights["w_query"], weights["w_key"], weights["v"])
    if score == "dot":
        return call(label, require(module, "dot_scores"), query, keys)
    return call(label, require(module, "general_scores"), query, keys, weights["w"])


def _pair(label: Msg, got: object) -> tuple[Tensor, Tensor]:
    if not isinstance(got, tuple) or len(got) != 2:
        raise Mismatch(label, expected="a tuple (context, weights)", got=describe(got))
    return got


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_shapes(module: ModuleType) -> None:
    weights = _weights(0)
    for score in ("additive", "dot", "general"):
        query, keys = _inputs(0, k_size=Q if score == "dot" else K)
        label = Msg(
            f"{score}_scores with query ({B}, {T}, {Q}) and keys {tuple(keys.shape)}",
            f"{score}_scores mit query ({B}, {T}, {Q}) und keys {tuple(keys.shape)}",
        )
        assert_shape(label, _learner_scores(module, score, label, query, keys, weights), (B, T, S))
    _, keys = _inputs(0)
    scores = torch.randn(B, T, S, generator=_generator(0), dtype=torch.float64)
    label = Msg(
        f"attend with scores ({B}, {T}, {S}) and keys ({B}, {S}, {K})",
        f"attend mit scores ({B}, {T}, {S}) und keys ({B}, {S}, {K})",
    )
    context, attn = _pair(label, call(label, require(module, "attend"), scores, keys, None))
    assert_shape(Msg(label.en + ": context", label.de + ": context"), context, (B, T, K))
    assert_shape(Msg(label.en + ": weights", label.de + ": weights"), attn, (B, T, S))


def _compare_scores(module: ModuleType, score: str, seeds: tuple[int, ...]) -> None:
    for seed in seeds:
        weights = _weights(seed)
        query, keys = _inputs(seed, k_size=Q if score == "dot" else K)
        label = Msg(
            f"{score}_scores (seed {seed}) against groundup's Attention('{score}')",
            f"{score}_scores (Seed {seed}) verglichen mit groundups Attention('{score}')",
        )
        got = _learner_scores(module, score, label, query, keys, weights)
        want = _library(score, weights).scores(query, keys)
        assert_close(label, got, want.detach(), **TOL)


def check_additive(module: ModuleType) -> None:
    _compare_scores(module, "additive", (1, 2, 3))


def check_luong(module: ModuleType) -> None:
    _compare_scores(module, "dot", (4, 5))
    _compare_scores(module, "general", (6, 7))


def check_attend(module: ModuleType) -> None:
    attend = require(module, "attend")
    for seed in (8, 9):
        query, keys = _inputs(seed, k_size=Q)
        attention = _library("dot", {})
        label = Msg(
            f"attend(dot scores, keys, None) (seed {seed}) against groundup's Attention",
            f"attend(dot-Scores, keys, None) (Seed {seed}) verglichen mit groundups Attention",
        )
        got = _pair(label, call(label, attend, attention.scores(query, keys), keys, None))
        want = attention(query, keys, None)
        for name, ours, theirs in zip(("context", "weights"), got, want, strict=True):
            assert_close(Msg(f"{label.en}: {name}", f"{label.de}: {name}"), ours, theirs, **TOL)


def check_mask(module: ModuleType) -> None:
    attend = require(module, "attend")
    for seed, lengths in ((10, [5, 2, 1]), (11, [3, 5, 4])):
        query, keys = _inputs(seed, k_size=Q)
        mask = _mask(lengths)
        # garbage at the padding: a weight that is not exactly 0 lets it into the context
        keys = keys.masked_fill(~mask[..., None], 1e6)
        attention = _library("dot", {})
        scores = attention.scores(query, keys.masked_fill(~mask[..., None], 0.0))
        label = Msg(
            f"attend with source lengths {lengths} (mask False at padding, keys 1e6 there)",
            f"attend mit Quelllängen {lengths} (mask False am Padding, keys dort 1e6)",
        )
        context, weights = _pair(label, call(label, attend, scores, keys, mask))
        want_context, want_weights = attention(query, keys, mask)
        padded = ~mask[:, None, :].expand(B, T, S)
        assert_true(
            label,
            bool(torch.all(weights[padded] == 0)),
            expected="weight exactly 0 at every padded position",
            got=f"largest weight at padding: {weights[padded].abs().max().item():.3g}",
        )
        for name, ours, theirs in (("weights", weights, want_weights),
                                   ("context", context, want_context)):  # fmt: skip
            assert_close(Msg(f"{label.en}: {name}", f"{label.de}: {name}"), ours, theirs, **TOL)


def check_stable(module: ModuleType) -> None:
    attend = require(module, "attend")
    g = _generator(12)
    scores = 1000.0 * torch.randn(B, T, S, generator=g, dtype=torch.float64)
    keys = torch.randn(B, S, K, generator=g, dtype=torch.float64)
    mask = _mask([5, 4, 2])
    label = Msg(
        "attend with scores around +-1000 (exp(1000) overflows float64)",
        "attend mit Scores um +-1000 (exp(1000) läuft in float64 über)",
    )
    context, weights = _pair(label, call(label, attend, scores, keys, mask))
    want = torch.softmax(scores.masked_fill(~mask[:, None], float("-inf")), dim=-1)
    assert_close(Msg(label.en + ": weights", label.de + ": weights"), weights, want, **TOL)
    assert_close(Msg(label.en + ": context", label.de + ": context"), context, want @ keys, **TOL)


def check_gradients(module: ModuleType) -> None:
    """d/d(inputs and weights) of a random linear function of scores, context and weights."""
    attend = require(module, "attend")
    mask = _mask([5, 3, 2])
    for score in ("additive", "dot", "general"):
        seed = {"additive": 13, "dot": 14, "general": 15}[score]
        weights = {k: w.clone().requires_grad_() for k, w in _weights(seed).items()}
        query, keys = (x.requires_grad_() for x in _inputs(seed, k_size=Q if score == "dot" else K))
        label = Msg(
            f"gradients through {score}_scores and attend (with padding) w.r.t. query, keys "
            "and the weights",
            f"Gradienten durch {score}_scores und attend (mit Padding) nach query, keys und "
            "den Gewichten",
        )
        scores = _learner_scores(module, score, label, query, keys, weights)
        context, attn = _pair(label, call(label, attend, scores, keys, mask))
        for name, out in (("scores", scores), ("context", context), ("weights", attn)):
            if not isinstance(out, Tensor) or out.grad_fn is None:
                raise Mismatch(
                    Msg(f"{label.en}: {name}", f"{label.de}: {name}"),
                    expected="a tensor with a grad_fn",
                    got=describe(out) + " without grad_fn (detached?)",
                )
        g = _generator(seed)
        up_context = torch.randn(context.shape, generator=g, dtype=torch.float64)
        up_weights = torch.randn(attn.shape, generator=g, dtype=torch.float64)
        used = {"additive": ["w_query", "w_key", "v"], "dot": [], "general": ["w"]}[score]
        inputs = [query, keys, *(weights[k] for k in used)]
        loss = (context * up_context).sum() + (attn * up_weights).sum()
        ours = call(label, torch.autograd.grad, loss, inputs, allow_unused=True)

        library = _library(score, {k: w.detach() for k, w in weights.items()})
        q2, k2 = query.detach().requires_grad_(), keys.detach().requires_grad_()
        want_context, want_weights = library(q2, k2, mask)
        params = {}
        if score == "additive":
            w_query, w_key, v = library.w_query.weight, library.w_key.weight, library.v.weight
            params = {"w_query": w_query, "w_key": w_key, "v": v}
        if score == "general":
            params["w"] = library.w.weight
        loss = (want_context * up_context).sum() + (want_weights * up_weights).sum()
        theirs = torch.autograd.grad(loss, [q2, k2, *(params[k] for k in used)])
        for name, a, b in zip(["query", "keys", *used], ours, theirs, strict=True):
            part = Msg(f"{label.en}: d/d {name}", f"{label.de}: d/d {name}")
            if a is None:
                raise Mismatch(part, expected="a gradient", got="None (not used, or detached)")
            if name == "v":
                b = b[0]  # the library's layer holds v as (1, A)
            assert_close(part, a, b, **TOL)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions additive_scores, dot_scores, general_scores and attend",
            "Funktionen additive_scores, dot_scores, general_scores und attend",
        ),
        (
            "Define all four at the top level of your file, with these names.",
            "Definieren Sie alle vier mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "shapes",
        (
            "scores have shape (B, T, S); attend returns context (B, T, K) and weights (B, T, S)",
            "Scores haben die Form (B, T, S); attend gibt context (B, T, K) und weights "
            "(B, T, S) zurück",
        ),
        (
            "One score per (target step, source position) pair: rows are queries, columns "
            "keys. For the dot score, query @ keys.transpose(1, 2) gives exactly that. Return "
            "the context first, then the weights.",
            "Ein Score je Paar (Zielschritt, Quellposition): Zeilen sind Queries, Spalten "
            "Keys. Für den dot-Score liefert query @ keys.transpose(1, 2) genau das. Geben "
            "Sie zuerst den Kontext, dann die Gewichte zurück.",
        ),
        check_shapes,
    ),
    check(
        "additive",
        (
            "additive_scores equals v . tanh(W_q q + W_k k) (Bahdanau)",
            "additive_scores gleich v . tanh(W_q q + W_k k) (Bahdanau)",
        ),
        (
            "Project with query @ w_query.T (B, T, A) and keys @ w_key.T (B, S, A), add them "
            "as [:, :, None] + [:, None] to get (B, T, S, A), apply tanh to the sum, then "
            "multiply by v and sum over A (or @ v). tanh comes before v, not after.",
            "Projizieren Sie mit query @ w_query.T (B, T, A) und keys @ w_key.T (B, S, A), "
            "addieren Sie als [:, :, None] + [:, None] zu (B, T, S, A), wenden Sie tanh auf "
            "die Summe an, dann mit v multiplizieren und über A summieren (oder @ v). tanh "
            "kommt vor v, nicht danach.",
        ),
        check_additive,
    ),
    check(
        "luong",
        (
            "dot_scores equals q . k and general_scores equals q . (W k) (Luong)",
            "dot_scores gleich q . k und general_scores gleich q . (W k) (Luong)",
        ),
        (
            "No scaling by sqrt(d): that is the Transformer's choice, not Luong's. With w of "
            "shape (Q, K), W k is keys @ w.T, so the scores are query @ (keys @ w.T)"
            ".transpose(1, 2).",
            "Keine Skalierung mit sqrt(d): das macht der Transformer, nicht Luong. Mit w der "
            "Form (Q, K) ist W k gleich keys @ w.T, die Scores also query @ (keys @ w.T)"
            ".transpose(1, 2).",
        ),
        check_luong,
    ),
    check(
        "attend",
        (
            "attend without a mask: softmax over the source positions, then weights @ keys",
            "attend ohne Maske: Softmax über die Quellpositionen, dann weights @ keys",
        ),
        (
            "The softmax runs over the last axis (S, the source positions): each target step "
            "distributes one unit of attention over the source. Then context = weights @ keys.",
            "Die Softmax läuft über die letzte Achse (S, die Quellpositionen): jeder "
            "Zielschritt verteilt eine Einheit Aufmerksamkeit über die Quelle. Dann "
            "context = weights @ keys.",
        ),
        check_attend,
    ),
    check(
        "mask",
        (
            "padded source positions get weight exactly 0; the rest still sum to 1",
            "Gepaddete Quellpositionen bekommen Gewicht exakt 0; der Rest summiert sich zu 1",
        ),
        (
            "Mask the scores before the softmax: scores.masked_fill(~mask[:, None, :], "
            "float('-inf')). True in mask means a real token, so fill where it is False. "
            "Filling with 0 is not enough (exp(0) = 1), and zeroing weights after the "
            "softmax leaves rows that no longer sum to 1.",
            "Maskieren Sie die Scores vor der Softmax: scores.masked_fill(~mask[:, None, :], "
            "float('-inf')). True in mask heißt echtes Token, also dort füllen, wo es False "
            "ist. Mit 0 zu füllen reicht nicht (exp(0) = 1), und Gewichte nach der Softmax "
            "auf 0 zu setzen hinterlässt Zeilen, die sich nicht mehr zu 1 summieren.",
        ),
        check_mask,
    ),
    check(
        "stable",
        (
            "attend stays exact for scores in the thousands",
            "attend bleibt exakt bei Scores in den Tausendern",
        ),
        (
            "exp(1000) is inf, and inf / inf is nan. Subtract each row's maximum before exp "
            "(the softmax does not change), or use torch.softmax, which does it for you.",
            "exp(1000) ist inf, und inf / inf ist nan. Ziehen Sie vor exp das Maximum jeder "
            "Zeile ab (die Softmax ändert sich nicht), oder nehmen Sie torch.softmax, das es "
            "für Sie tut.",
        ),
        check_stable,
    ),
    check(
        "gradients",
        (
            "gradients w.r.t. query, keys and every weight equal the library's",
            "Gradienten nach query, keys und allen Gewichten gleich denen der Bibliothek",
        ),
        (
            "Use only differentiable tensor operations; no .detach(), .data, .numpy() or "
            "torch.no_grad(). The keys enter twice (in the scores and as the values): both "
            "paths must carry gradients.",
            "Nur differenzierbare Tensor-Operationen; kein .detach(), .data, .numpy() oder "
            "torch.no_grad(). Die Keys gehen zweimal ein (in die Scores und als Values): "
            "beide Wege müssen Gradienten tragen.",
        ),
        check_gradients,
    ),
]
