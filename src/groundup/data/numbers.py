"""A generated translation task: English number words -> German number words.

    321      "three hundred twenty-one"  ->  "dreihunderteinundzwanzig"
    1001     "one thousand one"          ->  "eintausendeins"
    1000000  "one million"               ->  "eine Million"

The languages disagree in just the ways that make translation need attention: German says
the units before the tens ("einundzwanzig", one-and-twenty), so the model must look ahead in
the source; "one" becomes "eins" at the very end, "ein" inside a compound and "eine" before
"Million"; and German glues everything below a million into one long word.

Both sides are split into word pieces: English at spaces and hyphens, German at the pieces it
is glued from (drei|hundert|ein|und|zwanzig). A piece sequence joins back into the exact text,
so "exact match" compares the real German spelling. Train and held-out sets are split by
number: no held-out number, in any form, is seen in training.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch
from torch import Tensor

EN_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
DE_ONES = [
    "null",
    "eins",
    "zwei",
    "drei",
    "vier",
    "fünf",
    "sechs",
    "sieben",
    "acht",
    "neun",
    "zehn",
    "elf",
    "zwölf",
    "dreizehn",
    "vierzehn",
    "fünfzehn",
    "sechzehn",
    "siebzehn",
    "achtzehn",
    "neunzehn",
]
DE_TENS = [
    "_",
    "_",
    "zwanzig",
    "dreißig",
    "vierzig",
    "fünfzig",
    "sechzig",
    "siebzig",
    "achtzig",
    "neunzig",
]

MAX_NUMBER = 999_999_999


def _check(n: int) -> None:
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"numbers from 0 to {MAX_NUMBER} are supported, got {n}")


# ---------------------------------------------------------------- English


def _english_below_1000(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [EN_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words += [EN_TENS[tens], "-", EN_ONES[ones]] if ones else [EN_TENS[tens]]
    elif rest:
        words.append(EN_ONES[rest])
    return words


def english_pieces(n: int) -> list[str]:
    """["three", "hundred", "twenty", "-", "one"] for 321 (American style, no "and")."""
    _check(n)
    if n == 0:
        return ["zero"]
    millions, rest = divmod(n, 1_000_000)
    thousands, below = divmod(rest, 1000)
    words: list[str] = []
    if millions:
        words += _english_below_1000(millions) + ["million"]
    if thousands:
        words += _english_below_1000(thousands) + ["thousand"]
    return words + _english_below_1000(below)


def join_english(pieces: list[str]) -> str:
    return " ".join(pieces).replace(" - ", "-")


def english(n: int) -> str:
    return join_english(english_pieces(n))


# ---------------------------------------------------------------- German


def _german_below_1000(n: int, final: bool) -> list[str]:
    """Pieces for 1..999. `final`: nothing follows, so a lone 1 at the end is "eins"."""
    pieces: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        pieces += ["ein" if hundreds == 1 else DE_ONES[hundreds], "hundert"]
    if rest == 1:
        pieces.append("eins" if final else "ein")  # hunderteins, but einhunderteintausend
    elif rest < 20 and rest:
        pieces.append(DE_ONES[rest])
    elif rest:
        tens, ones = divmod(rest, 10)
        if ones:  # units first, joined by "und": einundzwanzig = one-and-twenty
            pieces += ["ein" if ones == 1 else DE_ONES[ones], "und"]
        pieces.append(DE_TENS[tens])
    return pieces


def german_pieces(n: int) -> list[str]:
    """["drei", "hundert", "ein", "und", "zwanzig"] for 321; "eine", " ", "Million" for 10^6."""
    _check(n)
    if n == 0:
        return ["null"]
    millions, rest = divmod(n, 1_000_000)
    thousands, below = divmod(rest, 1000)
    pieces: list[str] = []
    if millions:
        # "Million" is a feminine noun: eine Million, zwei Millionen, written apart.
        count = _german_below_1000(millions, final=False)
        if millions % 100 == 1:
            count[-1] = "eine"  # eine Million, hunderteine Millionen
        pieces += count + [" ", "Million" if millions == 1 else "Millionen"]
        if rest:
            pieces.append(" ")
    if thousands:
        pieces += _german_below_1000(thousands, final=False) + ["tausend"]
    if below:
        pieces += _german_below_1000(below, final=True)
    return pieces


def join_german(pieces: list[str]) -> str:
    return "".join(pieces)


def german(n: int) -> str:
    return join_german(german_pieces(n))


# ---------------------------------------------------------------- vocabulary and tensors

PAD, BOS, EOS = "<pad>", "<s>", "</s>"


@dataclass(frozen=True)
class Vocab:
    """Piece <-> id. Id 0 is padding, 1 begin-of-sequence, 2 end-of-sequence."""

    pieces: tuple[str, ...]

    @classmethod
    def build(cls, sequences: list[list[str]]) -> Vocab:
        seen = sorted({p for seq in sequences for p in seq})
        return cls((PAD, BOS, EOS, *seen))

    def __len__(self) -> int:
        return len(self.pieces)

    @property
    def index(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.pieces)}

    def encode(self, pieces: list[str]) -> list[int]:
        index = self.index
        return [index[p] for p in pieces]

    def decode(self, ids: list[int]) -> list[str]:
        """Ids to pieces, stopping at the first EOS and dropping padding and BOS."""
        out = []
        for i in ids:
            if i == 2:
                break
            if i > 2:
                out.append(self.pieces[i])
        return out


# Every piece either language can produce, so vocabularies never depend on the sample drawn.
ALL_EN = sorted({*EN_ONES, *EN_TENS[2:], "-", "hundred", "thousand", "million"})
ALL_DE = sorted({*DE_ONES, *DE_TENS[2:], "ein", "eine", "und", "hundert", "tausend", " "}
                | {"Million", "Millionen"})  # fmt: skip
EN_VOCAB = Vocab((PAD, BOS, EOS, *ALL_EN))
DE_VOCAB = Vocab((PAD, BOS, EOS, *ALL_DE))


def split_numbers(
    count: int, held_out: int, max_number: int = 999_999, seed: int = 0
) -> tuple[list[int], list[int]]:
    """Draw count + held_out distinct numbers from 0..max_number; disjoint train/held-out."""
    if count + held_out > max_number + 1:
        raise ValueError(f"cannot draw {count + held_out} distinct numbers from 0..{max_number}")
    drawn = random.Random(seed).sample(range(max_number + 1), count + held_out)
    return drawn[:count], drawn[count:]


def to_tensors(numbers: list[int]) -> tuple[Tensor, Tensor]:
    """Source ids (N, S) and target ids (N, T) with BOS ... EOS, both padded with 0."""
    sources = [EN_VOCAB.encode(english_pieces(n)) for n in numbers]
    targets = [[1, *DE_VOCAB.encode(german_pieces(n)), 2] for n in numbers]
    return _pad(sources), _pad(targets)


def _pad(rows: list[list[int]]) -> Tensor:
    out = torch.zeros(len(rows), max(len(r) for r in rows), dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row)
    return out
