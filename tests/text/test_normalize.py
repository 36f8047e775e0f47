"""Normalisation: NFKC against unicodedata, accent stripping against scikit-learn.

unicodedata holds the Unicode tables, so it is the oracle for NFKC and the tests show what
NFKC folds. scikit-learn's strip_accents_unicode (NFKD, then drop combining marks) is the
oracle for accent stripping: after NFKC, ours (NFD, drop the marks, NFC) gives the same
letters, recomposed.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import strip_accents_unicode

from groundup.text.normalize import (
    clean_whitespace,
    fold_case,
    nfkc,
    normalize,
    strip_accents,
    transliterate_umlauts,
)

LATIN = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x24F, exclude_categories=("Cs",)),
    max_size=30,
)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [("ﬁnd", "find"), ("Ｇｒｏｕｎｄ", "Ground"), ("x²", "x2"), ("①", "1"), ("½", "1⁄2"),
     ("Å", "Å"), ("e\u0301", "é"), ("\u00a0", " "), ("™", "TM"), ("ﬀ", "ff")],
)  # fmt: skip
def test_nfkc_folds_compatibility_characters(raw: str, folded: str) -> None:
    assert nfkc(raw) == folded


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=30))
def test_matches_unicodedata_nfkc_and_is_idempotent(text: str) -> None:
    assert nfkc(text) == unicodedata.normalize("NFKC", text)
    assert nfkc(nfkc(text)) == nfkc(text)


@settings(max_examples=200, deadline=None)
@given(text=LATIN)
def test_matches_sklearn_strip_accents_unicode(text: str) -> None:
    expected = unicodedata.normalize("NFC", strip_accents_unicode(text))
    assert strip_accents(nfkc(text)) == expected
    assert not any(unicodedata.combining(c) for c in strip_accents(text))


def test_strip_accents_and_what_it_cannot_do() -> None:
    assert strip_accents("Crème brûlée à la café") == "Creme brulee a la cafe"
    assert strip_accents("Müller, schön, Ärger") == "Muller, schon, Arger"
    assert strip_accents("Øresund Łódź Straße") == "Øresund Łodz Straße"  # no decomposition


def test_casefold_versus_lower_on_german() -> None:
    assert fold_case("Straße") == "strasse" == fold_case("STRASSE")
    assert fold_case("Straße", "lower") == "straße" != fold_case("STRASSE", "lower")
    assert fold_case("ΣΊΣΥΦΟΣ") == "σίσυφοσ"  # casefold ignores the final-sigma rule
    with pytest.raises(ValueError, match="case"):
        fold_case("x", "upper")


def test_umlaut_transliteration_keeps_german_words_apart() -> None:
    assert transliterate_umlauts("schön Müller Straße Ärger") == "schoen Mueller Strasse Aerger"
    assert transliterate_umlauts("Mu\u0308ller") == "Mueller"  # decomposed ü is found too
    # stripping merges two words; transliteration does not
    assert strip_accents("schön") == strip_accents("schon")
    assert transliterate_umlauts("schön") != transliterate_umlauts("schon")


def test_clean_whitespace() -> None:
    text = "  a\t\tb\n\nc\u00a0d Zero\u200bwidth soft\u00adhyphen\ufeff "
    assert clean_whitespace(text) == "a b c d Zerowidth softhyphen"


@pytest.mark.parametrize(
    ("options", "expected"),
    [({}, "die strasse final café 2"),
     ({"unicode_form": None, "case": None}, "Die Straße ﬁnal Café ²"),
     ({"accents": "strip"}, "die strasse final cafe 2"),
     ({"accents": "transliterate", "case": "lower"}, "die strasse final cafe 2"),
     ({"case": "lower", "whitespace": False}, "die  straße final café 2")],
)  # fmt: skip
def test_normalize_pipeline(options: dict, expected: str) -> None:
    assert normalize("Die  Straße ﬁnal Café ²", **options) == expected


def test_normalize_refuses_unknown_accent_option() -> None:
    with pytest.raises(ValueError, match="accents"):
        normalize("x", accents="remove")
