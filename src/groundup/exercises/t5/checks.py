"""Checks for the t5 exercise, against groundup.text.span_corruption (whose masks, inputs and
targets equal those of transformers' run_t5_mlm_flax.py collator) and against the properties
span corruption promises: the right number of noise tokens and spans, one sentinel per span
counting down from the top of the vocabulary, EOS, and inputs + targets giving back the text.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from groundup.exercises.checking import Check, Mismatch, call, check, excerpt, require
from groundup.i18n import Msg
from groundup.text import span_corruption as library

FUNCTIONS = ["random_segmentation", "noise_mask", "span_corrupt"]

REFERENCE = """import numpy as np

from groundup.text import span_corruption


def random_segmentation(num_items, num_segments, rng):
    return span_corruption.random_segmentation(num_items, num_segments, rng)


def noise_mask(length, noise_density, mean_noise_span_length, rng):
    return span_corruption.random_spans_noise_mask(
        length, noise_density, mean_noise_span_length, rng
    )


def span_corrupt(tokens, mask, vocab_size, eos_id=1):
    mask = np.asarray(mask, dtype=bool)
    return (
        span_corruption.replace_spans(tokens, mask, vocab_size, eos_id),
        span_corruption.replace_spans(tokens, ~mask, vocab_size, eos_id),
    )
"""

VOCAB = 1000
EOS = 1
# (length, noise_density, mean_noise_span_length): T5's defaults, and lengths where rounding
# matters (25 * 0.15 = 3.75 -> 4 noise tokens; 50 * 0.15 = 7.5 -> 8 noise tokens in 3 spans).
SETTINGS = [(20, 0.15, 3.0), (25, 0.15, 3.0), (38, 0.15, 3.0), (50, 0.15, 3.0), (64, 0.15, 3.0),
            (100, 0.3, 2.0), (57, 0.5, 3.0), (12, 0.25, 1.0), (7, 0.15, 3.0), (2, 0.15, 3.0)]  # fmt: skip


def msg(text: str) -> Msg:
    return Msg(text, text)


def as_list(compared: Msg, value: object) -> list:
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything that is not array-like is the learner's bug
        raise Mismatch(compared, expected="a 1-D array", got=excerpt(value)) from None
    if array.ndim != 1:
        raise Mismatch(compared, expected="a 1-D array", got=f"shape {array.shape}")
    return array.tolist()


def same(compared: Msg, got: object, expected: object) -> None:
    if got != expected:
        raise Mismatch(compared, expected=excerpt(expected), got=excerpt(got))


def runs(mask: list[bool]) -> int:
    """Number of runs of consecutive True."""
    return sum(1 for i, m in enumerate(mask) if m and (i == 0 or not mask[i - 1]))


def expected_counts(length: int, density: float, mean: float) -> tuple[int, int]:
    """(noise tokens, noise spans) the rule in the docstring gives."""
    noise = min(max(int(round(length * density)), 1), length - 1)
    spans = max(int(round(min(noise, length - noise) / mean)), 1)
    return noise, spans


def random_tokens(seed: int, length: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(2, VOCAB - 100, length)


def random_masks() -> list[np.ndarray]:
    """Masks of every shape: random, starting with noise, ending with kept, all but one."""
    rng = np.random.default_rng(11)
    masks = [rng.random(n) < p for n, p in ((15, 0.3), (30, 0.5), (40, 0.15), (9, 0.7))]
    masks += [np.array([True, True, False, False, True]), np.array([False, True, False])]
    masks += [np.array([True] * 6 + [False]), np.array([False, True, True, True, False, False])]
    return [m for m in masks if m.any() and not m.all()]


def run_corrupt(module: ModuleType, tokens: np.ndarray, mask: np.ndarray,
                vocab_size: int = VOCAB) -> tuple[list[int], list[int], Msg]:  # fmt: skip
    fn = require(module, "span_corrupt")
    compared = msg(
        f"span_corrupt(tokens {tokens.tolist()}, mask {mask.astype(int).tolist()}, "
        f"vocab_size={vocab_size}, eos_id={EOS})"
    )
    out = call(compared, fn, tokens.copy(), mask.copy(), vocab_size, EOS)
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise Mismatch(compared, expected="a pair (inputs, targets)", got=excerpt(out))
    return as_list(compared, out[0]), as_list(compared, out[1]), compared


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def segmentation_lengths(module: ModuleType) -> None:
    fn = require(module, "random_segmentation")
    cases = [(5, 1), (5, 5), (10, 3), (7, 2), (30, 4), (2, 2), (1, 1), (100, 17)]
    for seed, (items, segments) in enumerate(cases):
        compared = msg(f"random_segmentation({items}, {segments}, RandomState({seed}))")
        got = as_list(compared, call(compared, fn, items, segments, np.random.RandomState(seed)))
        if len(got) != segments or sum(got) != items or min(got) < 1:
            raise Mismatch(
                compared,
                expected=f"{segments} lengths >= 1 that add up to {items}",
                got=excerpt(got),
            )


def segmentation_exact(module: ModuleType) -> None:
    fn = require(module, "random_segmentation")
    for seed, (items, segments) in enumerate([(10, 3), (20, 5), (9, 2), (40, 13)]):
        compared = msg(f"random_segmentation({items}, {segments}, RandomState({seed}))")
        got = as_list(compared, call(compared, fn, items, segments, np.random.RandomState(seed)))
        want = library.random_segmentation(items, segments, np.random.RandomState(seed))
        same(compared, got, want.tolist())


def mask_counts(module: ModuleType) -> None:
    fn = require(module, "noise_mask")
    for seed, (length, density, mean) in enumerate(SETTINGS):
        compared = msg(f"noise_mask({length}, {density}, {mean}, RandomState({seed}))")
        got = as_list(compared, call(compared, fn, length, density, mean,
                                     np.random.RandomState(seed)))  # fmt: skip
        mask = [bool(m) for m in got]
        noise, spans = expected_counts(length, density, mean)
        found = f"{len(mask)} tokens, {sum(mask)} noise in {runs(mask)} spans"
        if len(mask) != length or sum(mask) != noise or runs(mask) != spans:
            raise Mismatch(
                compared, expected=f"{length} tokens, {noise} noise in {spans} spans", got=found
            )
        if mask[0] or not mask[-1]:
            raise Mismatch(
                compared,
                expected="kept tokens first, noise last",
                got=excerpt([int(m) for m in mask]),
            )


def mask_exact(module: ModuleType) -> None:
    fn = require(module, "noise_mask")
    for seed, (length, density, mean) in enumerate(SETTINGS[:6], start=100):
        compared = msg(f"noise_mask({length}, {density}, {mean}, RandomState({seed}))")
        got = as_list(compared, call(compared, fn, length, density, mean,
                                     np.random.RandomState(seed)))  # fmt: skip
        want = library.random_spans_noise_mask(length, density, mean, np.random.RandomState(seed))
        same(compared, [int(bool(m)) for m in got], want.astype(int).tolist())


def corrupt_example(module: ModuleType) -> None:
    tokens = np.arange(10, 17)
    mask = np.array([False, False, True, True, False, True, False])
    inputs, targets, compared = run_corrupt(module, tokens, mask, vocab_size=100)
    same(msg(f"{compared.en}: inputs"), inputs, [10, 11, 99, 14, 98, 16, 1])
    same(msg(f"{compared.en}: targets"), targets, [99, 12, 13, 98, 15, 97, 1])


def corrupt_eos(module: ModuleType) -> None:
    for seed, mask in enumerate(random_masks()):
        tokens = random_tokens(seed, len(mask))
        inputs, targets, compared = run_corrupt(module, tokens, mask)
        if inputs[-1:] != [EOS] or targets[-1:] != [EOS] or EOS in inputs[:-1] + targets[:-1]:
            raise Mismatch(
                compared,
                expected=f"inputs and targets each end with one EOS ({EOS})",
                got=f"inputs {excerpt(inputs)}, targets {excerpt(targets)}",
            )


def corrupt_sentinels(module: ModuleType) -> None:
    for seed, mask in enumerate(random_masks()):
        tokens = random_tokens(seed, len(mask))
        inputs, targets, compared = run_corrupt(module, tokens, mask)
        for name, sequence, spans in (("inputs", inputs, runs(mask.tolist())),
                                      ("targets", targets, runs((~mask).tolist()))):  # fmt: skip
            sentinels = [t for t in sequence if t >= VOCAB - 100]
            same(msg(f"{compared.en}: sentinels in the {name}"), sentinels,
                 list(range(VOCAB - 1, VOCAB - 1 - spans, -1)))  # fmt: skip


def corrupt_exact(module: ModuleType) -> None:
    for seed, mask in enumerate(random_masks()):
        tokens = random_tokens(seed, len(mask))
        inputs, targets, compared = run_corrupt(module, tokens, mask)
        same(msg(f"{compared.en}: inputs"), inputs,
             library.replace_spans(tokens, mask, VOCAB, EOS).tolist())  # fmt: skip
        same(msg(f"{compared.en}: targets"), targets,
             library.replace_spans(tokens, ~mask, VOCAB, EOS).tolist())  # fmt: skip


def corrupt_roundtrip(module: ModuleType) -> None:
    """Masks from the library (kept first, noise last, as in pre-training): the targets fill
    the sentinels' places, and the lengths are those the collator plans with."""
    for seed, length in enumerate((30, 64, 113)):
        tokens = random_tokens(seed, length)
        mask = library.random_spans_noise_mask(length, 0.15, 3.0, np.random.RandomState(seed))
        inputs, targets, compared = run_corrupt(module, tokens, mask)
        rebuilt = library.reconstruct(np.array(inputs), np.array(targets), VOCAB)
        same(msg(f"{compared.en}: targets put back into the inputs"), rebuilt.tolist(),
             tokens.tolist())  # fmt: skip
        same(msg(f"{compared.en}: (len(inputs), len(targets))"), (len(inputs), len(targets)),
             library.corrupted_lengths(length, 0.15, 3.0))  # fmt: skip


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions random_segmentation, noise_mask and span_corrupt",
            "Funktionen random_segmentation, noise_mask und span_corrupt",
        ),
        (
            "Define all three functions at the top level of your file, with these names.",
            "Definieren Sie alle drei Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        defines_functions,
    ),
    check(
        "segmentation_lengths",
        (
            "random_segmentation: num_segments lengths >= 1 adding up to num_items",
            "random_segmentation: num_segments Längen >= 1 mit Summe num_items",
        ),
        (
            "num_segments - 1 cuts among the num_items - 1 gaps give num_segments pieces; do not "
            "forget the last segment after the final cut.",
            "num_segments - 1 Schnitte in den num_items - 1 Lücken ergeben num_segments Stücke; "
            "vergessen Sie nicht den letzten Abschnitt nach dem letzten Schnitt.",
        ),
        segmentation_lengths,
    ),
    check(
        "segmentation_exact",
        (
            "random_segmentation equals the library for seeded RandomStates",
            "random_segmentation stimmt bei festen Seeds mit der Bibliothek überein",
        ),
        (
            "Shuffle the boolean array np.arange(num_items - 1) < num_segments - 1 with one "
            "rng.shuffle call and draw nothing else.",
            "Mischen Sie das bool-Array np.arange(num_items - 1) < num_segments - 1 mit einem "
            "einzigen rng.shuffle-Aufruf und ziehen Sie sonst nichts.",
        ),
        segmentation_exact,
    ),
    check(
        "mask_counts",
        (
            "noise_mask: round(length * density) noise tokens in round(noise / mean) spans, "
            "kept first, noise last",
            "noise_mask: round(length * density) verrauschte Tokens in round(noise / mean) "
            "Abschnitten, zuerst behalten, zuletzt Rauschen",
        ),
        (
            "Round (do not truncate) both counts, and interleave kept, noise, kept, noise, ...",
            "Runden Sie beide Anzahlen (nicht abschneiden) und legen Sie abwechselnd behalten, "
            "Rauschen, behalten, Rauschen, ... an.",
        ),
        mask_counts,
    ),
    check(
        "mask_exact",
        (
            "noise_mask equals the library for seeded RandomStates",
            "noise_mask stimmt bei festen Seeds mit der Bibliothek überein",
        ),
        (
            "Segment the noise tokens first, then the kept tokens, with the same rng.",
            "Zerlegen Sie zuerst die verrauschten, dann die behaltenen Tokens, mit demselben rng.",
        ),
        mask_exact,
    ),
    check(
        "corrupt_example",
        (
            "span_corrupt on the docstring's example",
            "span_corrupt am Beispiel aus dem Docstring",
        ),
        (
            "One sentinel per run of noise (not per token), vocab_size - 1 first and then "
            "counting down; the targets use the inverted mask; EOS last.",
            "Ein Sentinel pro Lauf von Rauschen (nicht pro Token), zuerst vocab_size - 1, dann "
            "abwärts; die targets nehmen die invertierte Maske; am Ende EOS.",
        ),
        corrupt_example,
    ),
    check(
        "corrupt_eos",
        (
            "inputs and targets each end with one EOS",
            "inputs und targets enden je mit genau einem EOS",
        ),
        (
            "Append eos_id to both sequences, once.",
            "Hängen Sie eos_id an beide Folgen an, genau einmal.",
        ),
        corrupt_eos,
    ),
    check(
        "corrupt_sentinels",
        (
            "one sentinel per span, counting down from vocab_size - 1",
            "ein Sentinel pro Abschnitt, abwärts ab vocab_size - 1",
        ),
        (
            "Sentinels are the LAST ids of the vocabulary: vocab_size - 1, vocab_size - 2, ...; "
            "a new one only where a run starts (the previous token was not in the run).",
            "Sentinels sind die LETZTEN IDs des Vokabulars: vocab_size - 1, vocab_size - 2, ...; "
            "ein neues nur dort, wo ein Lauf beginnt (das vorige Token gehörte nicht dazu).",
        ),
        corrupt_sentinels,
    ),
    check(
        "corrupt_exact",
        (
            "span_corrupt equals the library on random masks (also starting with noise)",
            "span_corrupt stimmt auf zufälligen Masken mit der Bibliothek überein (auch mit "
            "Rauschen am Anfang)",
        ),
        (
            "A run may start at position 0 and end at the last token; treat both ends alike.",
            "Ein Lauf kann an Position 0 beginnen und am letzten Token enden; behandeln Sie "
            "beide Enden gleich.",
        ),
        corrupt_exact,
    ),
    check(
        "corrupt_roundtrip",
        (
            "targets put into the inputs give back the tokens; lengths as planned",
            "targets in die inputs eingesetzt ergeben die Tokens; Längen wie geplant",
        ),
        (
            "The sentinel that replaces span k in the inputs must open span k in the targets.",
            "Das Sentinel, das Abschnitt k in den inputs ersetzt, muss Abschnitt k in den "
            "targets einleiten.",
        ),
        corrupt_roundtrip,
    ),
]
