"""Checks for the `positional_encodings` exercise, against groundup.nn.positions.

The library functions are the oracle here; tests/nn/test_positions.py compares them with
transformers' Llama and GPT-NeoX rotary code and BLOOM's ALiBi tensor (importing transformers
would take longer than a check may). Inputs are float64 with fixed seeds; RoPE and the
sinusoidal table are compared with atol 1e-5, which leaves room for angles computed in
float32 but not for a wrong frequency, layout or sign.
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
    call,
    check,
    describe,
    require,
)
from groundup.i18n import Msg
from groundup.nn import positions as library

FUNCTIONS = ["sinusoidal_table", "apply_rope", "alibi_slopes", "alibi_bias"]

REFERENCE = (
    "from groundup.nn.positions import alibi_bias, alibi_slopes, apply_rope, sinusoidal_table\n"
)

TOL = {"atol": 1e-5, "rtol": 1e-5}


def _randn(seed: int, *shape: int) -> Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _same(text: str) -> Msg:
    """A label that reads the same in both languages (code and shapes)."""
    return Msg(text, text)


def _tensor(label: Msg, value: object) -> Tensor:
    if not isinstance(value, Tensor):
        raise Mismatch(label, expected="a torch.Tensor", got=describe(value))
    return value


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_sinusoidal_first_rows(module: ModuleType) -> None:
    table_fn = require(module, "sinusoidal_table")
    for length, dim in ((5, 8), (3, 6), (12, 2)):
        label = _same(f"sinusoidal_table({length}, {dim})")
        table = _tensor(label, call(label, table_fn, length, dim))
        assert_shape(label, table, (length, dim))
        row0 = torch.tensor([0.0, 1.0] * (dim // 2))
        assert_close(_same(f"sinusoidal_table({length}, {dim})[0]"), table[0], row0, **TOL)
    # Row 1, column pair 0 has frequency 1: sin(1), cos(1).
    label = _same("sinusoidal_table(4, 8)[1, :2]")
    table = _tensor(label, call(label, table_fn, 4, 8))
    assert_close(label, table[1, :2], torch.tensor([0.8414710, 0.5403023]), **TOL)


def check_sinusoidal_matches_formula(module: ModuleType) -> None:
    table_fn = require(module, "sinusoidal_table")
    for length, dim, base in ((50, 16, 10000.0), (7, 6, 10000.0), (30, 10, 100.0)):
        label = _same(f"sinusoidal_table({length}, {dim}, base={base:g})")
        got = call(label, table_fn, length, dim, base=base)
        expected = library.sinusoidal_table(length, dim, base=base)
        assert_close(label, got, expected, **TOL)


def check_rope_shape_and_position_zero(module: ModuleType) -> None:
    rope = require(module, "apply_rope")
    x = _randn(0, 2, 3, 5, 8)
    label = _same("apply_rope(x (2, 3, 5, 8), positions [0, 1, 2, 3, 4])")
    out = _tensor(label, call(label, rope, x.clone(), torch.arange(5)))
    assert_shape(label, out, (2, 3, 5, 8))
    label = Msg(
        "apply_rope(x, positions [0, 0, 0]): position 0 turns by angle 0, so x comes back",
        "apply_rope(x, positions [0, 0, 0]): Position 0 dreht um den Winkel 0, x bleibt gleich",
    )
    x = _randn(1, 3, 6)
    assert_close(label, call(label, rope, x.clone(), torch.zeros(3, dtype=torch.long)), x, **TOL)


ROPE_CASES = [  # (shape of x, first position, theta)
    ((4, 6), 0, 10000.0),
    ((2, 3, 7, 16), 0, 10000.0),
    ((2, 5, 8), 37, 10000.0),
    ((3, 4, 32), 5, 500000.0),
    ((6, 12), 2, 100.0),
]


def check_rope_matches_llama_layout(module: ModuleType) -> None:
    rope = require(module, "apply_rope")
    for seed, (shape, first, theta) in enumerate(ROPE_CASES):
        x = _randn(10 + seed, *shape)
        positions = torch.arange(first, first + shape[-2])
        label = _same(
            f"apply_rope(x {shape}, positions {first}..{first + shape[-2] - 1}, theta={theta:g})"
            " against the rotate-half layout of Llama/GPT-NeoX"
        )
        got = call(label, rope, x.clone(), positions, theta=theta)
        expected = library.apply_rope(x, positions, theta=theta, layout="half")
        assert_close(label, got, expected, **TOL)


def check_rope_preserves_norms(module: ModuleType) -> None:
    rope = require(module, "apply_rope")
    x = _randn(20, 3, 9, 12)
    positions = torch.tensor([0, 1, 2, 5, 9, 17, 40, 100, 1000])
    label = Msg(
        "||apply_rope(x, positions)|| per vector against ||x|| (a rotation keeps lengths)",
        "||apply_rope(x, positions)|| pro Vektor verglichen mit ||x|| (eine Drehung erhält Längen)",
    )
    out = _tensor(label, call(label, rope, x.clone(), positions))
    assert_close(label, out.norm(dim=-1), x.norm(dim=-1), **TOL)


def check_rope_relative_scores(module: ModuleType) -> None:
    rope = require(module, "apply_rope")
    q, k = _randn(30, 16), _randn(31, 16)
    label = Msg(
        "rope(q, p) . rope(k, p - 3) for p = 3, 10, 50, 400: the score must depend only on "
        "the offset 3",
        "rope(q, p) . rope(k, p - 3) für p = 3, 10, 50, 400: der Score darf nur vom Abstand "
        "3 abhängen",
    )
    scores = []
    for p in (3, 10, 50, 400):
        rq = _tensor(label, call(label, rope, q[None].clone(), torch.tensor([p])))
        rk = _tensor(label, call(label, rope, k[None].clone(), torch.tensor([p - 3])))
        scores.append((rq * rk).sum())
    got = torch.stack(scores)
    assert_close(label, got, got[:1].expand(4), **TOL)
    label = Msg(
        "the score at offset 3 against the score at offset 0 (they must differ: positions "
        "have to change something)",
        "der Score bei Abstand 3 verglichen mit dem bei Abstand 0 (sie müssen sich "
        "unterscheiden: Positionen müssen etwas bewirken)",
    )
    same = (q * k).sum()
    if abs(float(got[0] - same)) < 1e-3:
        raise Mismatch(
            label, expected=f"a score other than {float(same):.4f}", got=f"{float(got[0]):.4f}"
        )


def check_rope_gradients(module: ModuleType) -> None:
    rope = require(module, "apply_rope")
    x = _randn(40, 2, 6, 8)
    upstream = _randn(41, 2, 6, 8)
    positions = torch.arange(3, 9)
    mine, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    label = Msg(
        "gradient of sum(apply_rope(x, positions) * g) with respect to x",
        "Gradient von sum(apply_rope(x, positions) * g) nach x",
    )
    out = call(label, rope, mine, positions)
    if not isinstance(out, Tensor) or out.grad_fn is None:
        raise Mismatch(
            label,
            expected="a tensor connected to x by autograd (it has a grad_fn)",
            got=describe(out) + ("" if not isinstance(out, Tensor) else ", grad_fn None"),
        )
    call(label, (out * upstream).sum().backward)
    (library.apply_rope(theirs, positions) * upstream).sum().backward()
    if mine.grad is None:
        raise Mismatch(label, expected="a gradient for x", got="None")
    assert_close(label, mine.grad, theirs.grad, **TOL)


def check_alibi_slopes_power_of_two(module: ModuleType) -> None:
    slopes_fn = require(module, "alibi_slopes")
    for n in (1, 2, 4, 8, 16):
        label = _same(f"alibi_slopes({n}) (2^(-8h/{n}), h = 1..{n})")
        expected = torch.tensor([2.0 ** (-8 * h / n) for h in range(1, n + 1)])
        assert_close(label, call(label, slopes_fn, n), expected, atol=1e-7, rtol=1e-6)


def check_alibi_slopes_other_counts(module: ModuleType) -> None:
    slopes_fn = require(module, "alibi_slopes")
    for n in (3, 5, 6, 12, 20):
        label = Msg(
            f"alibi_slopes({n}): a head count that is not a power of two",
            f"alibi_slopes({n}): eine Kopfzahl, die keine Zweierpotenz ist",
        )
        got = call(label, slopes_fn, n)
        assert_close(label, got, library.alibi_slopes(n), atol=1e-7, rtol=1e-6)


def check_alibi_bias(module: ModuleType) -> None:
    bias_fn = require(module, "alibi_bias")
    for heads, length in ((4, 7), (3, 5), (8, 12)):
        label = _same(f"alibi_bias({heads}, {length}) where key j <= query i")
        got = _tensor(label, call(label, bias_fn, heads, length))
        assert_shape(label, got, (heads, length, length))
        causal = library.causal_mask(length, length)
        expected = library.alibi_bias(heads, length)
        assert_close(
            label, got.masked_fill(~causal, 0.0), expected.masked_fill(~causal, 0.0), **TOL
        )


def check_alibi_attention(module: ModuleType) -> None:
    bias_fn = require(module, "alibi_bias")
    heads, length = 6, 9
    q, k, v = (
        _randn(50, 2, heads, length, 8),
        _randn(51, 2, heads, length, 8),
        _randn(52, 2, heads, length, 4),
    )
    mask = library.causal_mask(length, length)
    label = Msg(
        "causal attention with your ALiBi bias (6 heads, 9 tokens) against the library's",
        "kausale Attention mit Ihrem ALiBi-Bias (6 Köpfe, 9 Tokens) verglichen mit der Bibliothek",
    )
    bias = _tensor(label, call(label, bias_fn, heads, length)).to(torch.float64)
    got = library.biased_attention(q, k, v, bias, mask)
    expected = library.biased_attention(q, k, v, library.alibi_bias(heads, length).double(), mask)
    assert_close(label, got, expected, **TOL)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions sinusoidal_table, apply_rope, alibi_slopes and alibi_bias",
            "Funktionen sinusoidal_table, apply_rope, alibi_slopes und alibi_bias",
        ),
        (
            "Define all four functions at the top level of your file, with the names and "
            "arguments of the stub.",
            "Definieren Sie alle vier Funktionen auf oberster Ebene Ihrer Datei, mit Namen und "
            "Argumenten wie im Stub.",
        ),
        check_exists,
    ),
    check(
        "sinusoidal_first_rows",
        (
            "sinusoidal_table has shape (length, dim), row 0 is 0, 1, 0, 1, ... and row 1 "
            "starts sin(1), cos(1)",
            "sinusoidal_table hat die Form (length, dim), Zeile 0 ist 0, 1, 0, 1, ... und "
            "Zeile 1 beginnt mit sin(1), cos(1)",
        ),
        (
            "Sines go to the even columns (0::2) and cosines to the odd ones (1::2): "
            "interleave them, do not put all sines first. Column pair 0 has frequency "
            "base^0 = 1.",
            "Sinus gehört in die geraden Spalten (0::2), Kosinus in die ungeraden (1::2): "
            "verschränken Sie beide, statt alle Sinuswerte vorn hinzustellen. Spaltenpaar 0 "
            "hat die Frequenz base^0 = 1.",
        ),
        check_sinusoidal_first_rows,
    ),
    check(
        "sinusoidal_matches_formula",
        (
            "sinusoidal_table equals PE(pos, 2i) = sin(pos / base^(2i/dim)), "
            "PE(pos, 2i+1) = cos(...) for several sizes and bases",
            "sinusoidal_table entspricht PE(pos, 2i) = sin(pos / base^(2i/dim)), "
            "PE(pos, 2i+1) = cos(...) für mehrere Größen und Basen",
        ),
        (
            "The exponent is 2i/dim with i counting column pairs (i = 0 .. dim/2 - 1), which "
            "is torch.arange(0, dim, 2) / dim. Use the `base` argument, not a fixed 10000.",
            "Der Exponent ist 2i/dim, wobei i die Spaltenpaare zählt (i = 0 .. dim/2 - 1), "
            "also torch.arange(0, dim, 2) / dim. Verwenden Sie das Argument `base`, keine "
            "feste 10000.",
        ),
        check_sinusoidal_matches_formula,
    ),
    check(
        "rope_shape_and_position_zero",
        (
            "apply_rope keeps the shape of x and leaves position 0 unchanged",
            "apply_rope behält die Form von x und lässt Position 0 unverändert",
        ),
        (
            "Build cos and sin of shape (T, d) and let them broadcast over the leading axes "
            "of x. At position 0 every angle is 0: cos = 1, sin = 0.",
            "Bilden Sie cos und sin der Form (T, d) und lassen Sie sie über die vorderen "
            "Achsen von x broadcasten. An Position 0 ist jeder Winkel 0: cos = 1, sin = 0.",
        ),
        check_rope_shape_and_position_zero,
    ),
    check(
        "rope_matches_llama_layout",
        (
            "apply_rope equals the rotate-half RoPE of Llama/GPT-NeoX for several shapes, "
            "positions and thetas",
            "apply_rope entspricht dem Rotate-half-RoPE von Llama/GPT-NeoX für mehrere "
            "Formen, Positionen und Thetas",
        ),
        (
            "Pair i is (x[i], x[i + d/2]), not (x[2i], x[2i+1]): cos and sin are the d/2 "
            "angles concatenated twice (torch.cat([a, a], -1)), not repeat_interleave. "
            "Angle = position * theta^(-2i/d); use the positions and theta you are given.",
            "Paar i ist (x[i], x[i + d/2]), nicht (x[2i], x[2i+1]): cos und sin sind die d/2 "
            "Winkel zweimal hintereinander (torch.cat([a, a], -1)), nicht repeat_interleave. "
            "Winkel = Position * theta^(-2i/d); verwenden Sie die übergebenen Positionen und "
            "theta.",
        ),
        check_rope_matches_llama_layout,
    ),
    check(
        "rope_preserves_norms",
        (
            "apply_rope keeps the length of every vector, also at large positions",
            "apply_rope erhält die Länge jedes Vektors, auch bei großen Positionen",
        ),
        (
            "A rotation keeps lengths only with the minus sign: rotate_half(x1, x2) is "
            "(-x2, x1). Check that you use sin and cos of the same angles.",
            "Eine Drehung erhält Längen nur mit dem Minuszeichen: rotate_half(x1, x2) ist "
            "(-x2, x1). Prüfen Sie, dass sin und cos zu denselben Winkeln gehören.",
        ),
        check_rope_preserves_norms,
    ),
    check(
        "rope_relative_scores",
        (
            "with RoPE, q . k depends only on the offset between the two positions",
            "mit RoPE hängt q . k nur vom Abstand der beiden Positionen ab",
        ),
        (
            "Rotating q by angle a and k by angle b gives a score that depends on a - b only "
            "if both use the same frequencies and the angle is proportional to the position "
            "(no constant added, no other function of the position).",
            "Dreht man q um den Winkel a und k um b, hängt der Score nur dann allein von a - b "
            "ab, wenn beide dieselben Frequenzen nutzen und der Winkel proportional zur "
            "Position ist (keine Konstante dazu, keine andere Funktion der Position).",
        ),
        check_rope_relative_scores,
    ),
    check(
        "rope_gradients",
        (
            "gradients flow through apply_rope back to x and equal the library's",
            "Gradienten fließen durch apply_rope zu x zurück und stimmen mit der Bibliothek "
            "überein",
        ),
        (
            "Stay in torch: no .detach(), .numpy() or torch.no_grad(), and do not write into "
            "x in place.",
            "Bleiben Sie in torch: kein .detach(), .numpy() oder torch.no_grad(), und "
            "schreiben Sie nicht in x hinein (keine In-place-Operationen).",
        ),
        check_rope_gradients,
    ),
    check(
        "alibi_slopes_power_of_two",
        (
            "alibi_slopes(n) = 2^(-8h/n), h = 1..n, for n = 1, 2, 4, 8, 16",
            "alibi_slopes(n) = 2^(-8h/n), h = 1..n, für n = 1, 2, 4, 8, 16",
        ),
        (
            "h starts at 1, not 0 (the first slope of 8 heads is 1/2), and the exponent is "
            "-8h/n: 8 heads halve the slope from head to head.",
            "h beginnt bei 1, nicht bei 0 (die erste Steigung bei 8 Köpfen ist 1/2), und der "
            "Exponent ist -8h/n: bei 8 Köpfen halbiert sich die Steigung von Kopf zu Kopf.",
        ),
        check_alibi_slopes_power_of_two,
    ),
    check(
        "alibi_slopes_other_counts",
        (
            "alibi_slopes for head counts that are not powers of two (3, 5, 6, 12, 20), as in "
            "the paper's code and BLOOM",
            "alibi_slopes für Kopfzahlen, die keine Zweierpotenz sind (3, 5, 6, 12, 20), wie "
            "im Code des Papers und in BLOOM",
        ),
        (
            "Take p = 2^floor(log2(n)); the first p slopes are those for p heads; the rest are "
            "the slopes of 2p heads at h = 1, 3, 5, ... (every other one, starting with the "
            "first), cut to n - p of them.",
            "Nehmen Sie p = 2^floor(log2(n)); die ersten p Steigungen sind die für p Köpfe; "
            "der Rest sind die Steigungen für 2p Köpfe bei h = 1, 3, 5, ... (jede zweite, "
            "beginnend mit der ersten), gekürzt auf n - p Stück.",
        ),
        check_alibi_slopes_other_counts,
    ),
    check(
        "alibi_bias",
        (
            "alibi_bias(h, T)[head, i, j] = -m_head * (i - j) for every key j <= query i",
            "alibi_bias(h, T)[Kopf, i, j] = -m_Kopf * (i - j) für jeden Key j <= Query i",
        ),
        (
            "The shape is (heads, T, T): slopes[:, None, None] times the distance matrix "
            "(i - j) of shape (T, T), with a minus sign so that far-away keys are penalised.",
            "Die Form ist (heads, T, T): slopes[:, None, None] mal die Abstandsmatrix (i - j) "
            "der Form (T, T), mit Minuszeichen, damit weit entfernte Keys bestraft werden.",
        ),
        check_alibi_bias,
    ),
    check(
        "alibi_attention",
        (
            "causal attention with your bias gives the same output as with the library's",
            "kausale Attention mit Ihrem Bias liefert dieselbe Ausgabe wie mit dem der Bibliothek",
        ),
        (
            "Softmax ignores a constant added to a whole row, but not a bias that changes "
            "along the row differently from -m (i - j): check the slope of each head and "
            "the direction of the distance.",
            "Softmax ignoriert eine Konstante, die auf eine ganze Zeile addiert wird, aber "
            "keinen Bias, der sich entlang der Zeile anders als -m (i - j) ändert: prüfen Sie "
            "die Steigung jedes Kopfes und die Richtung des Abstands.",
        ),
        check_alibi_attention,
    ),
]
