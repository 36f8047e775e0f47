"""The number-translation task: German and English spellings against a hand-written table."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.data import numbers
from groundup.data.numbers import DE_VOCAB, EN_VOCAB, english, german

# Written by hand from German orthography, not from the code under test.
TRICKY = {
    0: ("zero", "null"),
    1: ("one", "eins"),
    7: ("seven", "sieben"),
    11: ("eleven", "elf"),
    12: ("twelve", "zwölf"),
    16: ("sixteen", "sechzehn"),
    17: ("seventeen", "siebzehn"),
    21: ("twenty-one", "einundzwanzig"),
    30: ("thirty", "dreißig"),
    31: ("thirty-one", "einunddreißig"),
    70: ("seventy", "siebzig"),
    99: ("ninety-nine", "neunundneunzig"),
    100: ("one hundred", "einhundert"),
    101: ("one hundred one", "einhunderteins"),
    111: ("one hundred eleven", "einhundertelf"),
    321: ("three hundred twenty-one", "dreihunderteinundzwanzig"),
    1000: ("one thousand", "eintausend"),
    1001: ("one thousand one", "eintausendeins"),
    1011: ("one thousand eleven", "eintausendelf"),
    1100: ("one thousand one hundred", "eintausendeinhundert"),
    2021: ("two thousand twenty-one", "zweitausendeinundzwanzig"),
    16017: ("sixteen thousand seventeen", "sechzehntausendsiebzehn"),
    21000: ("twenty-one thousand", "einundzwanzigtausend"),
    100000: ("one hundred thousand", "einhunderttausend"),
    101001: ("one hundred one thousand one", "einhunderteintausendeins"),
    999999: (
        "nine hundred ninety-nine thousand nine hundred ninety-nine",
        "neunhundertneunundneunzigtausendneunhundertneunundneunzig",
    ),
    1000000: ("one million", "eine Million"),
    1000001: ("one million one", "eine Million eins"),
    2000000: ("two million", "zwei Millionen"),
    21000000: ("twenty-one million", "einundzwanzig Millionen"),
    101000000: ("one hundred one million", "einhunderteine Millionen"),
    3500070: (
        "three million five hundred thousand seventy",
        "drei Millionen fünfhunderttausendsiebzig",
    ),
}


@pytest.mark.parametrize("n", sorted(TRICKY))
def test_hand_written_table(n: int) -> None:
    assert (english(n), german(n)) == TRICKY[n]


def test_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        german(-1)
    with pytest.raises(ValueError):
        english(numbers.MAX_NUMBER + 1)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, numbers.MAX_NUMBER))
def test_pieces_join_back_and_fit_the_vocabularies(n: int) -> None:
    en, de = numbers.english_pieces(n), numbers.german_pieces(n)
    assert numbers.join_german(de) == german(n)
    assert EN_VOCAB.decode(EN_VOCAB.encode(en)) == en
    assert DE_VOCAB.decode(DE_VOCAB.encode(de) + [2, 5]) == de  # stops at EOS
    # Below a million German is one word: no spaces, a single capital-free compound.
    if n < 1_000_000:
        assert " " not in german(n) and german(n).islower()


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 999_999))
def test_every_number_ends_in_eins_only_when_its_last_two_digits_are_01(n: int) -> None:
    assert german(n).endswith("eins") == (n % 100 == 1)


def test_split_is_disjoint_and_reproducible() -> None:
    train, held = numbers.split_numbers(500, 100, seed=3)
    assert len(set(train)) == 500 and len(set(held)) == 100
    assert not set(train) & set(held)
    assert numbers.split_numbers(500, 100, seed=3) == (train, held)
    with pytest.raises(ValueError):
        numbers.split_numbers(10, 5, max_number=9)


def test_tensors_pad_and_frame_the_target() -> None:
    src, tgt = numbers.to_tensors([21, 1000])
    assert src.shape == (2, 3)  # "twenty - one" vs "one thousand" + padding
    assert tgt[:, 0].tolist() == [1, 1]  # BOS
    assert DE_VOCAB.decode(tgt[0, 1:].tolist()) == ["ein", "und", "zwanzig"]
    assert tgt[1].tolist()[-1] == 0 and 2 in tgt[1].tolist()
    assert src.dtype == torch.long
