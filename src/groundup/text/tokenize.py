"""Rule-based tokenization: words with character offsets, sentences, n-grams, a vocabulary.

Words: one regular expression whose alternatives are tried in order at each position, so
the specific patterns (a URL, an e-mail address, a number with decimal separators) win over
the general ones (a word, one punctuation mark). Every token keeps its (start, end) offsets
in the original text, so text[start:end] == token always holds: the offsets let you
highlight a token, map a label back to the text, or undo the tokenization.

Contractions are split the way the Penn Treebank does it: "don't" -> "do" + "n't",
"she's" -> "she" + "'s". On sentences of words, hyphenated words, contractions, numbers and
punctuation the tokens equal those of NLTK's TreebankWordTokenizer (the tests show it).

Sentences: a sentence ends at ".", "!" or "?" followed by space, unless the period belongs
to an abbreviation ("Dr.", "e.g.", "z. B.", "u. a."), to an initial ("J. Smith"), to a
German ordinal before a month ("3. Mai"), or the next word starts in lower case.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

CLITICS = r"(?:s|m|d|re|ve|ll)"  # 's 'm 'd 're 've 'll, the Treebank's list
WORD_PATTERN = re.compile(
    rf"""
      (?:https?://|www\.)[^\s<>"]*[^\s<>".,;:!?'()\[\]{{}}]  # URL, without trailing punctuation
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                          # e-mail address
    | \d+(?:[.,]\d+)*(?!\w)                                 # 42, 3.14, 1,000.5, 1.000,5
    | \w+(?=n't\b)                                          # do|n't, ca|n't
    | n't\b | '{CLITICS}\b                                  # the clitic itself
    | \w+(?:-\w+|'(?!{CLITICS}\b)\w+)*                      # words, state-of-the-art, O'Brien
    | \.\.\. | -- | [^\w\s]                                 # ellipsis, dash, one punctuation mark
    """,
    re.VERBOSE | re.IGNORECASE,
)


class Token(NamedTuple):
    text: str
    start: int
    end: int  # exclusive: text[start:end] == token.text


def word_tokens(text: str, pattern: re.Pattern[str] | str = WORD_PATTERN) -> list[Token]:
    """Tokens with offsets; any regular expression can stand in for the default pattern.

    With pattern r"(?u)\\b\\w\\w+\\b" the token texts equal those of scikit-learn's
    CountVectorizer(lowercase=False).build_tokenizer()."""
    pattern = re.compile(pattern) if isinstance(pattern, str) else pattern
    return [Token(m.group(), m.start(), m.end()) for m in pattern.finditer(text)]


def words(text: str) -> list[str]:
    return [token.text for token in word_tokens(text)]


# ---------------------------------------------------------------- sentences

ABBREVIATIONS = (
    # English
    "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "St.", "Jr.", "Sr.", "vs.", "e.g.", "i.e.", "cf.",
    "approx.", "Fig.", "Inc.", "Ltd.", "Co.", "Corp.", "Vol.", "pp.", "Mt.", "U.S.",
    # German
    "z. B.", "u. a.", "d. h.", "z. T.", "u. U.", "s. o.", "s. u.", "o. Ä.", "bzw.", "ca.",
    "vgl.", "Nr.", "Str.", "Hr.", "Fr.", "evtl.", "ggf.", "inkl.", "Jh.", "Mio.", "Mrd.",
    "Abb.", "Tel.", "sog.", "zzgl.", "bspw.",
)  # fmt: skip
MONTHS_DE = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
             "September", "Oktober", "November", "Dezember")  # fmt: skip


def abbreviation_pattern(abbreviations: Iterable[str]) -> re.Pattern[str]:
    """Finds the listed abbreviations in a text; "z. B." also matches "z.B." (the space after
    an inner period is optional)."""
    alternatives = [r"\.\s?".join(map(re.escape, a.rstrip(".").split(". "))) for a in abbreviations]
    alternatives.sort(key=len, reverse=True)  # the longest first: "u. U." before "U.S."
    return re.compile(rf"(?<![\w.])(?:{'|'.join(alternatives)})\.", re.IGNORECASE)


ABBREVIATION = abbreviation_pattern(ABBREVIATIONS)
SENTENCE_END = re.compile(r"[.!?…]+[\"'”’“‘»«›‹)\]]*(?=\s|\Z)")
INITIAL = re.compile(r"(?<![\w.])[A-ZÄÖÜ]\.\Z")
ORDINAL_BEFORE_MONTH = re.compile(rf"\d+\.\s+(?:{'|'.join(MONTHS_DE)})\b")


def sentence_spans(
    text: str, abbreviation: re.Pattern[str] = ABBREVIATION
) -> list[tuple[int, int]]:
    """(start, end) of every sentence, without the whitespace around it."""
    # every period inside an abbreviation, so "z." in "z. B." is known before "B." is read
    protected = {
        match.start() + i
        for match in abbreviation.finditer(text)
        for i, char in enumerate(match.group())
        if char == "."
    }
    spans, start = [], 0
    for match in SENTENCE_END.finditer(text):
        if is_boundary(text, match, protected):
            spans.append((start, match.end()))
            start = match.end()
    spans.append((start, len(text)))
    stripped = []
    for begin, end in spans:
        piece = text[begin:end]
        if piece.strip():  # whitespace-only pieces are no sentences
            left = len(piece) - len(piece.lstrip())
            stripped.append((begin + left, begin + len(piece.rstrip())))
    return stripped


def is_boundary(text: str, match: re.Match[str], protected: set[int]) -> bool:
    rest = text[match.end() :].lstrip()
    if not rest:
        return True
    if rest[0].islower():
        return False  # "z. B. der", "etc. and": a sentence does not start in lower case
    if not match.group().startswith("."):
        return True  # "!", "?" and "…" always end a sentence before a capital
    if match.start() in protected or INITIAL.search(text, 0, match.start() + 1):
        return False
    word_start = text.rfind(" ", 0, match.start()) + 1
    return not ORDINAL_BEFORE_MONTH.match(text, word_start)  # "am 3. Mai" is one sentence


def split_sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


# ---------------------------------------------------------------- n-grams


def ngrams(items: Sequence, n: int) -> list[tuple]:
    """Every run of n consecutive items: ngrams("abcd", 2) -> [("a","b"), ("b","c"), ("c","d")]."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return [tuple(items[i : i + n]) for i in range(len(items) - n + 1)]


def everygrams(items: Sequence, min_n: int = 1, max_n: int | None = None) -> list[tuple]:
    """All n-grams with min_n <= n <= max_n, by start position, then by length (NLTK's order)."""
    max_n = len(items) if max_n is None else max_n
    return [
        tuple(items[i : i + n])
        for i in range(len(items))
        for n in range(min_n, max_n + 1)
        if i + n <= len(items)
    ]


def char_ngrams(text: str, min_n: int, max_n: int, word_boundaries: bool = False) -> list[str]:
    """Character n-grams as scikit-learn's CountVectorizer(analyzer="char" or "char_wb").

    "char": all n-grams of the text (runs of 2+ whitespace become one space), n by n.
    "char_wb" (word_boundaries): each word padded with one space on both sides, n-grams only
    inside it; a padded word no longer than n is taken whole, once."""
    text = re.sub(r"\s\s+", " ", text)
    if not word_boundaries:
        return [text[i : i + n] for n in range(min_n, max_n + 1) for i in range(len(text) - n + 1)]
    grams = []
    for word in text.split():
        padded = f" {word} "
        for n in range(min_n, max_n + 1):
            grams += [padded[i : i + n] for i in range(max(1, len(padded) - n + 1))]
            if len(padded) <= n:
                break
    return grams


# ---------------------------------------------------------------- stop words and ids

STOP_WORDS_EN = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "he",
    "her", "his", "i", "in", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our",
    "she", "so", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "to", "was", "we", "were", "what", "when", "which", "who", "will", "with", "you",
    "your",
})  # fmt: skip
STOP_WORDS_DE = frozenset({
    "aber", "als", "am", "an", "auch", "auf", "aus", "bei", "bin", "bis", "da", "das", "dass",
    "dem", "den", "der", "des", "die", "doch", "du", "ein", "eine", "einem", "einen", "einer",
    "es", "für", "hat", "ich", "ihr", "im", "in", "ist", "ja", "kein", "man", "mit", "nach",
    "nicht", "noch", "nur", "oder", "sein", "sich", "sie", "sind", "so", "um", "und", "uns",
    "von", "vor", "war", "wie", "wir", "wird", "zu", "zum", "zur", "über",
})  # fmt: skip


def remove_stop_words(tokens: Iterable[str], stop_words: frozenset[str]) -> list[str]:
    """Tokens whose lower-case form is not a stop word."""
    return [token for token in tokens if token.lower() not in stop_words]


class Vocabulary:
    """Token <-> id. Ids 0.. are the special tokens, then the kept tokens by falling count
    (ties alphabetical); any other token encodes as the unknown token "<unk>"."""

    def __init__(self, tokens: Sequence[str], unknown: str = "<unk>") -> None:
        self.itos = [unknown, *(t for t in tokens if t != unknown)]
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        self.unknown_id = 0

    @classmethod
    def build(
        cls, tokens: Iterable[str], min_count: int = 1, max_size: int | None = None
    ) -> Vocabulary:
        counts = Counter(tokens)
        kept = sorted(
            (t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t)
        )
        return cls(kept[: None if max_size is None else max_size - 1])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return [self.stoi.get(token, self.unknown_id) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[i] for i in ids]
