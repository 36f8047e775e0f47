"""Text normalisation: make strings that mean the same thing look the same before counting.

Four independent steps, each a choice that loses information on purpose:
1. Unicode NFKC: compatibility characters become their plain forms (the ligature "ﬁ" -> "fi",
   full-width "Ａ" -> "A", superscript "²" -> "2", "①" -> "1") and letters with accents are
   stored one way (composed). The Unicode tables live in Python's `unicodedata`; we use it,
   and the tests show what it folds.
2. Case: `str.casefold` folds more than `lower` ("Straße" -> "strasse", so it matches
   "STRASSE"); `lower` keeps "ß".
3. Accents: decompose (NFD: "é" -> "e" + a combining acute accent), drop the combining marks.
   Good for "café" -> "cafe", harmful for German, where "schon" (already) and "schön"
   (beautiful) are different words; transliteration ("ö" -> "oe") keeps them apart.
4. Whitespace: every run of whitespace becomes one space; invisible characters (zero-width
   space, soft hyphen, byte-order mark) are removed.
"""

from __future__ import annotations

import re
import unicodedata

UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ẞ": "SS"}
# zero-width space, zero-width (non-)joiner, word joiner, byte-order mark, soft hyphen
INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
WHITESPACE = re.compile(r"\s+")


def nfkc(text: str) -> str:
    """Compatibility decomposition, then canonical composition (Unicode normal form KC)."""
    return unicodedata.normalize("NFKC", text)


def fold_case(text: str, method: str = "casefold") -> str:
    """ "casefold" (for matching: "ß" -> "ss", "ﬃ" -> "ffi") or "lower" (keeps "ß")."""
    if method == "casefold":
        return text.casefold()
    if method == "lower":
        return text.lower()
    raise ValueError(f"case method must be 'casefold' or 'lower', got {method!r}")


def strip_accents(text: str) -> str:
    """Remove every combining mark after canonical decomposition: "Crème brûlée" -> "Creme
    brulee", "Müller" -> "Muller". Letters without a decomposition ("ø", "ß", "ł") stay."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", kept)


def transliterate_umlauts(text: str) -> str:
    """German spelling without umlauts: "Müller" -> "Mueller", "Straße" -> "Strasse".

    Applied to NFC text, so an "ü" written as u + combining diaeresis is found too."""
    text = unicodedata.normalize("NFC", text)
    return "".join(UMLAUTS.get(char, char) for char in text)


def clean_whitespace(text: str) -> str:
    """Invisible characters removed, each whitespace run one space, no space at either end."""
    return WHITESPACE.sub(" ", INVISIBLE.sub("", text)).strip()


def normalize(
    text: str,
    unicode_form: str | None = "NFKC",
    case: str | None = "casefold",
    accents: str | None = None,
    whitespace: bool = True,
) -> str:
    """All steps in the order that works: Unicode first (so "ﬁ" and "Ａ" can be case-folded),
    umlauts before accents (stripping would turn "ü" into "u" first), whitespace last.

    unicode_form: "NFKC", "NFC", ... or None; case: "casefold", "lower" or None;
    accents: None (keep), "strip" or "transliterate" (German umlauts and ß, then strip the rest).
    """
    if unicode_form is not None:
        text = unicodedata.normalize(unicode_form, text)
    if accents == "transliterate":
        text = transliterate_umlauts(text)
    if accents in ("strip", "transliterate"):
        text = strip_accents(text)
    elif accents is not None:
        raise ValueError(f"accents must be None, 'strip' or 'transliterate', got {accents!r}")
    if case is not None:
        text = fold_case(text, case)
    return clean_whitespace(text) if whitespace else text
