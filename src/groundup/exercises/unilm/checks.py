"""Checks for the unilm exercise, against groundup.models.unilm (whose seq2seq mask is the
rule of unilm-v1's data loader, and whose left-to-right mode equals a causal BERT from
transformers), plus the leak test: a one-layer encoder run under the learner's mask, where
changing a token must move exactly the outputs of the positions allowed to see it.
"""

from __future__ import annotations

import random
from functools import cache
from types import ModuleType

import torch

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_shape,
    call,
    check,
    excerpt,
    require,
)
from groundup.i18n import Msg
from groundup.models.bert import Bert, BertConfig
from groundup.models.unilm import MODES, attention_masks, encode, segment_layout

FUNCTIONS = ["segment_layout", "attention_masks"]

REFERENCE = "from groundup.models.unilm import attention_masks, segment_layout\n"


def msg(text: str) -> Msg:
    return Msg(text, text)


def random_rows(seed: int, count: int = 5) -> tuple[list[int], list[int], int]:
    """Random S1 and S2 lengths (0 included) and a T with room for padding."""
    rng = random.Random(seed)
    first = [rng.randint(0, 6) for _ in range(count)]
    second = [rng.randint(0, 6) for _ in range(count)]
    T = max(a + b + 3 for a, b in zip(first, second, strict=True)) + rng.randint(0, 3)
    return first, second, T


def learner_layout(module: ModuleType, first: list[int], second: list[int], T: int):
    fn = require(module, "segment_layout")
    compared = msg(f"segment_layout({first}, {second}, T={T})")
    out = call(compared, fn, first, second, T)
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise Mismatch(
            compared, expected="a pair (token_type_ids, attention_mask)", got=excerpt(out)
        )
    return compared, out


def compare_layout(module: ModuleType, first: list[int], second: list[int], T: int) -> None:
    compared, (types, real) = learner_layout(module, first, second, T)
    expected = segment_layout(first, second, T)
    for name, got, want in zip(
        ("token_type_ids", "attention_mask"), (types, real), expected, strict=True
    ):
        assert_shape(compared, got, tuple(want.shape))
        if not torch.equal(torch.as_tensor(got).long(), want):
            row = int((torch.as_tensor(got).long() != want).any(1).nonzero()[0])
            raise Mismatch(
                compared,
                expected=f"{name}[{row}] = {want[row].tolist()}",
                got=f"{name}[{row}] = {torch.as_tensor(got)[row].tolist()}",
                where=f"row {row}: S1 {first[row]} tokens, S2 {second[row]} tokens",
            )


def learner_mask(module: ModuleType, first: list[int], second: list[int], T: int, mode: str):
    fn = require(module, "attention_masks")
    types, real = segment_layout(first, second, T)
    compared = msg(f'attention_masks(...) for rows S1 {first}, S2 {second}, T={T}, "{mode}"')
    mask = call(compared, fn, types.clone(), real.clone(), mode)
    assert_shape(compared, mask, (len(first), T, T))
    if mask.dtype != torch.bool:
        raise Mismatch(compared, expected="dtype torch.bool", got=f"dtype {mask.dtype}")
    return compared, mask


def describe_row(row: torch.Tensor) -> str:
    return "".join("1" if v else "." for v in row.tolist())


def compare_mask(module: ModuleType, mode: str, seeds: tuple[int, ...]) -> None:
    for seed in seeds:
        first, second, T = random_rows(seed)
        compared, mask = learner_mask(module, first, second, T, mode)
        expected = attention_masks(*segment_layout(first, second, T), mode)
        if not torch.equal(mask, expected):
            b, i = (int(v) for v in (mask != expected).any(-1).nonzero()[0])
            n1, n2 = first[b], second[b]
            role = position_role(n1, n2, i)
            raise Mismatch(
                compared,
                expected=f"row {b}, query {i}: {describe_row(expected[b, i])}",
                got=f"row {b}, query {i}: {describe_row(mask[b, i])}",
                where=f"row {b} is [SOS] S1({n1}) [EOS] S2({n2}) [EOS] + padding; "
                f"position {i} is {role} (1 = visible key)",
            )


def position_role(n1: int, n2: int, i: int) -> str:
    if i == 0:
        return "[SOS]"
    if i <= n1:
        return "in S1"
    if i == n1 + 1:
        return "the [EOS] of S1"
    if i < n1 + n2 + 2:
        return "in S2"
    return "the [EOS] of S2" if i == n1 + n2 + 2 else "padding"


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def layout_basic(module: ModuleType) -> None:
    compare_layout(module, [2], [1], 6)
    compare_layout(module, [3, 0], [2, 4], 8)


def layout_padding(module: ModuleType) -> None:
    for seed in range(4):
        compare_layout(module, *random_rows(seed))
    fn = require(module, "segment_layout")
    compared = msg("segment_layout([3], [2], T=7): the row needs 8 positions")
    try:
        fn([3], [2], 7)
    except ValueError:
        return
    except Exception as error:  # a crash of the learner's code, reported as such
        raise Mismatch(compared, expected="ValueError", got=type(error).__name__) from None
    raise Mismatch(compared, expected="ValueError", got="no exception")


def mask_shape(module: ModuleType) -> None:
    for mode in MODES:
        learner_mask(module, [2, 1], [1, 3], 9, mode)
    fn = require(module, "attention_masks")
    types, real = segment_layout([1], [1], 5)
    compared = msg('attention_masks(..., mode="causal")')
    try:
        fn(types, real, "causal")
    except ValueError:
        return
    except Exception as error:
        raise Mismatch(compared, expected="ValueError", got=type(error).__name__) from None
    raise Mismatch(compared, expected="ValueError", got="no exception")


def no_empty_rows(module: ModuleType) -> None:
    for mode in MODES:
        first, second, T = random_rows(10)
        compared, mask = learner_mask(module, first, second, T, mode)
        empty = ~mask.any(-1)
        if empty.any():
            b, i = (int(v) for v in empty.nonzero()[0])
            raise Mismatch(
                compared,
                expected="every query row sees at least one key",
                got=f"row {b}, query {i} ({position_role(first[b], second[b], i)}) sees nothing",
                where="softmax over nothing but -inf is 0/0 = NaN",
            )


def bidirectional_matches(module: ModuleType) -> None:
    compare_mask(module, "bidirectional", (20, 21, 22))


def left_to_right_matches(module: ModuleType) -> None:
    compare_mask(module, "left-to-right", (30, 31, 32))


def seq2seq_matches(module: ModuleType) -> None:
    compare_mask(module, "seq2seq", (40, 41, 42, 43))


@cache
def one_layer_encoder() -> Bert:
    """One layer, so a position's output depends on exactly the tokens its row of the mask
    lets it attend to (and on its own token, through the residual connection)."""
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=32, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, initializer_range=0.3,
    )  # fmt: skip
    return Bert(config, add_pooling_layer=False).eval()


def allowed(n1: int, n2: int, i: int, j: int, mode: str) -> bool:
    """May the real query i read the token at j? Written out from the objectives."""
    real_end, first_end = n1 + n2 + 3, n1 + 2
    if j >= real_end:
        return False  # padding
    if mode == "bidirectional" or j == i:
        return True
    if mode == "left-to-right":
        return j < i
    if j < first_end:
        return True  # S1 is the condition everyone reads
    return first_end <= i and j < i  # S2 reads S2 only leftwards; S1 never reads S2


def leak_test(module: ModuleType) -> None:
    """For each key position j, a copy of the row with token j changed; the output of each
    real query i must move if and only if i is allowed to see j."""
    bert = one_layer_encoder()
    for mode in MODES:
        for n1, n2, T in ((3, 3, 11), (0, 4, 8), (5, 0, 9)):
            compared, mask = learner_mask(module, [n1] * T, [n2] * T, T, mode)
            types, real = segment_layout([n1] * T, [n2] * T, T)
            base = torch.randint(1, 40, (T,), generator=torch.Generator().manual_seed(T))
            changed = base.repeat(T + 1, 1)  # row j (< T): token j replaced; row T: unchanged
            changed[torch.arange(T), torch.arange(T)] = (base % 39) + 1
            mask = torch.cat([mask, mask[:1]])
            types, real = torch.cat([types, types[:1]]), torch.cat([real, real[:1]])
            with torch.no_grad():
                out = encode(bert, changed, types, mask)
            moved = (out[:T] - out[T]).abs().amax(-1)  # (j, i): how far query i moved
            for j in range(T):
                for i in range(n1 + n2 + 3):
                    may = allowed(n1, n2, i, j, mode)
                    if torch.isnan(moved[j, i]) or (moved[j, i] > 1e-4) != may:
                        did = "NaN" if torch.isnan(moved[j, i]) else f"{moved[j, i]:.2g}"
                        raise Mismatch(
                            compared,
                            expected=f"query {i} ({position_role(n1, n2, i)}) "
                            + ("changes" if may else "stays the same")
                            + f" when token {j} ({position_role(n1, n2, j)}) changes",
                            got=f"its output moved by {did}",
                            where=f'"{mode}", one encoder layer, S1 {n1} and S2 {n2} tokens, T={T}',
                        )


CHECKS: list[Check] = [
    check(
        "exists",
        ("functions segment_layout and attention_masks",
         "Funktionen segment_layout und attention_masks"),
        ("Define both functions at the top level of your file, with these names.",
         "Definieren Sie beide Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei."),
        defines_functions,
    ),
    check(
        "layout_basic",
        ("segment_layout marks the segments and the real tokens",
         "segment_layout markiert die Segmente und die echten Tokens"),
        ("[SOS] S1 [EOS] is segment 0 (n1 + 2 positions); S2 [EOS] is segment 1 (n2 + 1).",
         "[SOS] S1 [EOS] ist Segment 0 (n1 + 2 Positionen); S2 [EOS] ist Segment 1 (n2 + 1)."),
        layout_basic,
    ),
    check(
        "layout_padding",
        ("segment_layout with padding and empty segments; a row that does not fit raises",
         "segment_layout mit Padding und leeren Segmenten; eine zu lange Zeile löst aus"),
        ("Padding has segment 0 and mask 0. A row needs n1 + n2 + 3 positions: raise ValueError "
         "if that is more than T.",
         "Padding hat Segment 0 und Maske 0. Eine Zeile braucht n1 + n2 + 3 Positionen: "
         "ValueError, wenn das mehr als T ist."),
        layout_padding,
    ),
    check(
        "mask_shape",
        ("attention_masks returns (B, T, T) booleans and rejects unknown modes",
         "attention_masks liefert (B, T, T)-Boolesche Werte und lehnt unbekannte Modi ab"),
        ("Build the mask from comparisons (==, &, |, torch.tril on a bool tensor); raise "
         "ValueError for a mode other than the three.",
         "Bauen Sie die Maske aus Vergleichen (==, &, |, torch.tril auf einem bool-Tensor); "
         "ValueError für einen anderen mode als die drei."),
        mask_shape,
    ),
    check(
        "no_empty_rows",
        ("every query, padding included, sees at least one key",
         "jede Query, auch Padding, sieht mindestens einen Key"),
        ("A padding query sees the real keys: a row with nothing visible makes the softmax "
         "NaN, and NaN spreads through the gradients.",
         "Eine Padding-Query sieht die echten Keys: Eine Zeile ohne sichtbaren Key macht die "
         "Softmax zu NaN, und NaN breitet sich über die Gradienten aus."),
        no_empty_rows,
    ),
    check(
        "bidirectional_matches",
        ("the bidirectional mask equals the library's on random rows",
         "die bidirektionale Maske stimmt auf zufälligen Zeilen mit der Bibliothek überein"),
        ("Every real query sees every real key; padding keys are hidden from everyone.",
         "Jede echte Query sieht jeden echten Key; Padding-Keys sind für alle verborgen."),
        bidirectional_matches,
    ),
    check(
        "left_to_right_matches",
        ("the left-to-right mask equals the library's on random rows",
         "die Links-nach-rechts-Maske stimmt auf zufälligen Zeilen mit der Bibliothek überein"),
        ("Query i sees the real keys j <= i: the diagonal belongs to the triangle "
         "(torch.tril, not diagonal=-1).",
         "Query i sieht die echten Keys j <= i: Die Diagonale gehört zum Dreieck "
         "(torch.tril, nicht diagonal=-1)."),
        left_to_right_matches,
    ),
    check(
        "seq2seq_matches",
        ("the seq2seq mask equals the library's on random rows",
         "die Seq2seq-Maske stimmt auf zufälligen Zeilen mit der Bibliothek überein"),
        ("Keys of segment 0 are visible to every real query; keys of segment 1 only to "
         "segment-1 queries at or after them. S1 never sees S2.",
         "Keys aus Segment 0 sind für jede echte Query sichtbar; Keys aus Segment 1 nur für "
         "Queries aus Segment 1 an oder nach ihrer Position. S1 sieht S2 nie."),
        seq2seq_matches,
    ),
    check(
        "leak_test",
        ("under each mask, an encoder's output at each position depends on exactly the "
         "tokens its objective allows",
         "unter jeder Maske hängt die Ausgabe eines Encoders an jeder Position genau von den "
         "Tokens ab, die ihr Trainingsziel erlaubt"),
        ("A changed token must move the outputs that may see it and no other. Look at the "
         "query and key named above and at which rule of your mask connects them.",
         "Ein geändertes Token muss die Ausgaben bewegen, die es sehen dürfen, und keine "
         "andere. Sehen Sie sich die genannte Query und den Key an und welche Regel Ihrer "
         "Maske sie verbindet."),
        leak_test,
    ),
]  # fmt: skip
