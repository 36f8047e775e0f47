"""Checks for the bpe exercise, against groundup.text.bpe (pair_counts, merge, learn_merges
and BPETokenizer.encode_piece, whose ids equal Hugging Face tokenizers' and tiktoken's).

Words are drawn from a seeded generator over a small alphabet with multi-byte characters
("ä", "日"), so pairs repeat and merges build on merges.
"""

from __future__ import annotations

import random
from types import ModuleType

from groundup.exercises.checking import Check, Mismatch, call, check, excerpt, require
from groundup.i18n import Msg
from groundup.text.bpe import BPETokenizer, learn_merges, merge, pair_counts, pretokenize

FUNCTIONS = ["get_stats", "merge_pair", "train_merges", "encode_word"]

REFERENCE = """from groundup.text.bpe import BPETokenizer, learn_merges, merge, pair_counts


def get_stats(words):
    return dict(pair_counts(words))


def merge_pair(ids, pair, new_id):
    return merge(ids, pair, new_id)


def train_merges(word_counts, n_merges):
    return learn_merges(word_counts, n_merges)


def encode_word(word, merges):
    return BPETokenizer(list(merges)).encode_piece(word)
"""

ALPHABET = "aabbcdeä日 "


def word_counts(seed: int, n_words: int = 30) -> dict[str, int]:
    rng = random.Random(seed)
    words = {}
    for _ in range(n_words):
        word = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 7)))
        words[word] = rng.randint(1, 9)
    return words


def as_ids(counts: dict[str, int]) -> list[tuple[list[int], int]]:
    return [(list(w.encode("utf-8")), c) for w, c in counts.items()]


def same(compared: Msg, got: object, expected: object) -> None:
    if got != expected:
        raise Mismatch(compared, expected=excerpt(expected), got=excerpt(got))


def msg(text: str) -> Msg:
    return Msg(text, text)


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def stats_counts(module: ModuleType) -> None:
    fn = require(module, "get_stats")
    same(msg("get_stats([([1, 2, 3], 1)])"), call(msg("get_stats"), fn, [([1, 2, 3], 1)]),
         {(1, 2): 1, (2, 3): 1})  # fmt: skip
    for seed in (0, 1, 2):
        words = as_ids(word_counts(seed))
        compared = Msg(f"get_stats(words of seed {seed})", f"get_stats(Wörter zu Seed {seed})")
        got = call(compared, fn, [(list(ids), c) for ids, c in words])
        same(compared, dict(got), dict(pair_counts(words)))


def stats_overlap(module: ModuleType) -> None:
    fn = require(module, "get_stats")
    compared = msg("get_stats([([7, 7, 7], 3), ([7, 7, 8, 7, 7], 1)])")
    got = call(compared, fn, [([7, 7, 7], 3), ([7, 7, 8, 7, 7], 1)])
    same(compared, dict(got), {(7, 7): 8, (7, 8): 1, (8, 7): 1})


def merges_pairs(module: ModuleType) -> None:
    fn = require(module, "merge_pair")
    cases = [
        ([1, 2, 3, 1, 2], (1, 2), 300),
        ([7, 7, 7], (7, 7), 9),
        ([7, 7, 7, 7], (7, 7), 9),
        ([5, 1, 2], (1, 2), 256),
        ([1], (1, 2), 256),
        ([], (1, 2), 256),
        ([2, 1, 2, 1], (1, 2), 256),
    ]
    rng = random.Random(3)
    for _ in range(20):
        ids = [rng.randint(0, 3) for _ in range(rng.randint(0, 12))]
        cases.append((ids, (rng.randint(0, 3), rng.randint(0, 3)), 256))
    for ids, pair, new_id in cases:
        compared = msg(f"merge_pair({ids}, {pair}, {new_id})")
        original = list(ids)
        got = call(compared, fn, ids, pair, new_id)
        same(compared, list(got), merge(original, pair, new_id))
        if ids != original:
            raise Mismatch(
                compared, expected=f"ids left as {original}", got=f"ids changed to {ids}"
            )


def training(module: ModuleType) -> None:
    fn = require(module, "train_merges")
    for seed, n, size in ((4, 5, 30), (5, 20, 30), (6, 40, 30), (9, 40, 6)):
        counts = word_counts(seed, size)
        compared = Msg(f"train_merges(words of seed {seed}, {n})",
                       f"train_merges(Wörter zu Seed {seed}, {n})")  # fmt: skip
        got = call(compared, fn, dict(counts), n)
        same(compared, [tuple(p) for p in got], learn_merges(counts, n))


def training_ties_and_stop(module: ModuleType) -> None:
    fn = require(module, "train_merges")
    cases = (({"cd": 5, "ab": 5, "ef": 2}, 4), ({"yx": 2, "xy": 2, "xyz": 1}, 5))
    for counts, n in cases:
        compared = msg(f"train_merges({counts}, {n})")
        got = call(compared, fn, dict(counts), n)
        same(compared, [tuple(p) for p in got], learn_merges(counts, n))


def encoding(module: ModuleType) -> None:
    fn = require(module, "encode_word")
    for seed in (7, 8):
        counts = word_counts(seed, n_words=60)
        merges = learn_merges(counts, 30)
        tokenizer = BPETokenizer(merges)
        rng = random.Random(seed)
        words = [*counts, *("".join(rng.choice(ALPHABET) for _ in range(9)) for _ in range(20))]
        for word in words:
            compared = msg(f"encode_word({word!r}, merges of seed {seed})")
            got = call(compared, fn, word, list(merges))
            same(compared, list(got), tokenizer.encode_piece(word))


def encoding_by_rank(module: ModuleType) -> None:
    """A word where merging left to right, or in any order but by rank, gives other tokens."""
    fn = require(module, "encode_word")
    a, b, c = ord("a"), ord("b"), ord("c")
    merges = [(b, c), (a, b), (a, 256)]  # "bc" first, then "ab", then "a" + "bc"
    for word in ("abc", "abcab", "aabc", "ababc"):
        compared = msg(f"encode_word({word!r}, [(98, 99), (97, 98), (97, 256)])")
        got = call(compared, fn, word, list(merges))
        same(compared, list(got), BPETokenizer(merges).encode_piece(word))


def encodes_text(module: ModuleType) -> None:
    """Real text: a tokenizer trained on a paragraph, every pre-token of another one."""
    fn = require(module, "encode_word")
    train = " ".join(["the cat sat on the mat, the dog sat on the log."] * 4)
    tokenizer = BPETokenizer.train(train, 300, special_tokens=())
    for word in pretokenize("The cats sat on mats; the dogs catalogued the log."):
        compared = msg(f"encode_word({word!r}, merges learned on a short text)")
        got = call(compared, fn, word, list(tokenizer.merges))
        same(compared, list(got), tokenizer.encode_piece(word))


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions get_stats, merge_pair, train_merges and encode_word",
            "Funktionen get_stats, merge_pair, train_merges und encode_word",
        ),
        (
            "Define all four functions at the top level of your file, with these names.",
            "Definieren Sie alle vier Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        defines_functions,
    ),
    check(
        "stats_counts",
        (
            "get_stats counts pairs weighted by word counts",
            "get_stats zählt Paare, gewichtet mit der Worthäufigkeit",
        ),
        (
            "Loop over zip(ids, ids[1:]) for each word and add the word's count, not 1.",
            "Laufen Sie für jedes Wort über zip(ids, ids[1:]) und addieren Sie die Häufigkeit "
            "des Wortes, nicht 1.",
        ),
        stats_counts,
    ),
    check(
        "stats_overlap",
        ("get_stats counts overlapping pairs", "get_stats zählt überlappende Paare"),
        (
            "[7, 7, 7] holds (7, 7) at positions 0 and 1: count every position, do not use a set.",
            "[7, 7, 7] enthält (7, 7) an Position 0 und 1: Zählen Sie jede Position, nehmen Sie "
            "keine Menge (set).",
        ),
        stats_overlap,
    ),
    check(
        "merge_pair",
        (
            "merge_pair replaces the pair left to right without overlaps",
            "merge_pair ersetzt das Paar von links nach rechts ohne Überlappung",
        ),
        (
            "After a merge skip both positions (i += 2), else copy ids[i] (i += 1); check "
            "i + 1 < len(ids) before looking at ids[i + 1], and keep the last element.",
            "Überspringen Sie nach einem Merge beide Positionen (i += 2), sonst kopieren Sie "
            "ids[i] (i += 1); prüfen Sie i + 1 < len(ids), bevor Sie ids[i + 1] lesen, und "
            "behalten Sie das letzte Element.",
        ),
        merges_pairs,
    ),
    check(
        "training",
        (
            "train_merges learns the library's merges on random words",
            "train_merges lernt auf zufälligen Wörtern dieselben Merges wie die Bibliothek",
        ),
        (
            "Each round: count pairs over all words, take the most frequent, stop if it occurs "
            "fewer than 2 times, merge it in every word into 256 + len(merges).",
            "Jede Runde: Paare über alle Wörter zählen, das häufigste nehmen, aufhören, wenn es "
            "seltener als 2-mal vorkommt, es in jedem Wort zu 256 + len(merges) verschmelzen.",
        ),
        training,
    ),
    check(
        "training_ties",
        (
            "train_merges breaks ties by the smallest pair and stops below count 2",
            "train_merges nimmt bei Gleichstand das kleinste Paar und stoppt unter Anzahl 2",
        ),
        (
            "max(stats, key=stats.get) keeps the first pair seen, which depends on the order of "
            "the words; use min(stats, key=lambda p: (-stats[p], p)).",
            "max(stats, key=stats.get) behält das zuerst gesehene Paar, das von der Reihenfolge "
            "der Wörter abhängt; nehmen Sie min(stats, key=lambda p: (-stats[p], p)).",
        ),
        training_ties_and_stop,
    ),
    check(
        "encoding",
        (
            "encode_word equals the library on random words",
            "encode_word stimmt auf zufälligen Wörtern mit der Bibliothek überein",
        ),
        (
            "Start from list(word.encode('utf-8')); the merge at index r makes token 256 + r.",
            "Beginnen Sie mit list(word.encode('utf-8')); der Merge mit Index r erzeugt das "
            "Token 256 + r.",
        ),
        encoding,
    ),
    check(
        "encoding_by_rank",
        (
            "encode_word merges the lowest rank first, not left to right",
            "encode_word verschmilzt den niedrigsten Rang zuerst, nicht von links nach rechts",
        ),
        (
            "Among all adjacent pairs that are in merges, take the one with the smallest index "
            "in merges, merge it, and look again; a pair further right may go first.",
            "Nehmen Sie unter allen benachbarten Paaren, die in merges stehen, das mit dem "
            "kleinsten Index, verschmelzen Sie es und suchen Sie erneut; ein Paar weiter rechts "
            "kann zuerst dran sein.",
        ),
        encoding_by_rank,
    ),
    check(
        "encodes_text",
        (
            "encode_word on the pre-tokens of an English sentence",
            "encode_word auf den Prä-Tokens eines englischen Satzes",
        ),
        (
            "Words here begin with a space (' cat'); encode exactly the bytes given.",
            "Wörter beginnen hier mit einem Leerzeichen (' cat'); kodieren Sie genau die "
            "gegebenen Bytes.",
        ),
        encodes_text,
    ),
]
