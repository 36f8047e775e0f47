"""Tokenization: offsets always point back into the text; tokens, n-grams and character
n-grams equal NLTK's and scikit-learn's where those define the same thing.

Oracles (all offline, nothing needs nltk.download):
- TreebankWordTokenizer (tokens and spans) on sentences made of words, hyphenated words,
  contractions, numbers with decimal separators and punctuation, ending in a period. Not
  claimed: double quotes (Treebank rewrites them to `` and ''), periods inside a sentence
  (Treebank keeps "Dr." and "end." whole), "cannot"/"gonna" (Treebank splits them), slashes.
- CountVectorizer(lowercase=False).build_tokenizer() with its default pattern.
- nltk.util.ngrams and everygrams; CountVectorizer's "char" and "char_wb" analyzers.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.tokenize import TreebankWordTokenizer
from nltk.util import everygrams as nltk_everygrams
from nltk.util import ngrams as nltk_ngrams
from sklearn.feature_extraction.text import CountVectorizer

from groundup.text.tokenize import (
    STOP_WORDS_DE,
    STOP_WORDS_EN,
    Token,
    Vocabulary,
    char_ngrams,
    everygrams,
    ngrams,
    remove_stop_words,
    sentence_spans,
    split_sentences,
    word_tokens,
    words,
)

FAST = settings(max_examples=150, deadline=None)
PIECES = [
    "The", "cat", "sat", "don't", "can't", "won't", "isn't", "it's", "we'll", "they're", "I'm",
    "you've", "she'd", "state-of-the-art", "e-mail", "3.14", "1,000", "42", "1,000.50", "7",
    "O'Brien", "naïve", "Straße", "über", ",", ";", ":", "?", "!", "(", ")", "$", "%", "&",
    "--", "...", "x_1", "3rd",
]  # fmt: skip


@FAST
@given(text=st.text(max_size=60))
def test_offsets_point_back_into_the_text(text: str) -> None:
    tokens = word_tokens(text)
    covered = set()
    for token, (start, end) in zip(tokens, [(t.start, t.end) for t in tokens], strict=True):
        assert (
            text[start:end] == token.text
            and token.text
            and not any(c.isspace() for c in token.text)
        )
        covered |= set(range(start, end))
    assert all(a.end <= b.start for a, b in pairwise(tokens))  # in order, no overlap
    assert covered == {i for i, c in enumerate(text) if not c.isspace()}  # nothing is lost


@FAST
@given(pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=12))
def test_matches_treebank_tokens_and_spans(pieces: list[str]) -> None:
    text = " ".join(pieces) + "."
    treebank = TreebankWordTokenizer()
    assert words(text) == treebank.tokenize(text)
    assert [(t.start, t.end) for t in word_tokens(text)] == list(treebank.span_tokenize(text))


@FAST
@given(text=st.text(alphabet="ab1_ é-.,'\n", max_size=40))
def test_matches_sklearn_countvectorizer_pattern(text: str) -> None:
    pattern = CountVectorizer().token_pattern
    sklearn_tokenize = CountVectorizer(lowercase=False).build_tokenizer()
    assert [t.text for t in word_tokens(text, pattern)] == sklearn_tokenize(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Mail jane.doe@example.com, see https://example.org/a?b=1.",
      ["Mail", "jane.doe@example.com", ",", "see", "https://example.org/a?b=1", "."]),
     ("Visit www.uni-heidelberg.de (today)!",
      ["Visit", "www.uni-heidelberg.de", "(", "today", ")", "!"]),
     ("Pi is 3.14159, e is 2,718 auf Deutsch; 1.000,5 kg",
      ["Pi", "is", "3.14159", ",", "e", "is", "2,718", "auf", "Deutsch", ";", "1.000,5", "kg"]),
     ("He didn't say it's the well-known co-author's idea...",
      ["He", "did", "n't", "say", "it", "'s", "the", "well-known", "co-author", "'s", "idea",
       "..."]),
     ("Die Straßenbahn fährt um 7.30 Uhr – pünktlich.",
      ["Die", "Straßenbahn", "fährt", "um", "7.30", "Uhr", "–", "pünktlich", "."]),
     ("I'M SURE HE'LL COME", ["I", "'M", "SURE", "HE", "'LL", "COME"])],
)  # fmt: skip
def test_word_tokens_on_examples(text: str, expected: list[str]) -> None:
    assert words(text) == expected
    assert word_tokens(text)[0] == Token(expected[0], 0, len(expected[0]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Dr. Smith arrived at 5 p.m. on Monday. He left e.g. at noon. Mr. J. R. Brown stayed!",
      ["Dr. Smith arrived at 5 p.m. on Monday.", "He left e.g. at noon.",
       "Mr. J. R. Brown stayed!"]),
     ("Er kam z. B. am 3. Mai an. Das war u. a. gut, d. h. sehr gut. Wirklich?  Ja.",
      ["Er kam z. B. am 3. Mai an.", "Das war u. a. gut, d. h. sehr gut.", "Wirklich?",
       "Ja."]),
     ("Es gibt z.B. Äpfel bzw. Birnen. Prof. Dr. Weber sagt: „Gut.“ Dann ging er.",
      ["Es gibt z.B. Äpfel bzw. Birnen.", "Prof. Dr. Weber sagt: „Gut.“", "Dann ging er."]),
     ("It costs 3.50 dollars. Wait... What? (Really.) Yes",
      ["It costs 3.50 dollars.", "Wait...", "What?", "(Really.)", "Yes"]),
     ("  ", []), ("no period at the end", ["no period at the end"])],
)  # fmt: skip
def test_split_sentences_english_and_german(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected
    assert [text[a:b] for a, b in sentence_spans(text)] == expected


@FAST
@given(items=st.lists(st.integers(0, 5), max_size=12), n=st.integers(1, 5))
def test_matches_nltk_ngrams(items: list[int], n: int) -> None:
    assert ngrams(items, n) == list(nltk_ngrams(items, n))


@FAST
@given(items=st.lists(st.integers(0, 5), max_size=10), lo=st.integers(1, 3), span=st.integers(0, 3))
def test_matches_nltk_everygrams(items: list[int], lo: int, span: int) -> None:
    hi = lo + span
    assert everygrams(items, lo, hi) == list(nltk_everygrams(items, lo, hi))
    assert everygrams(items) == list(nltk_everygrams(items))


@FAST
@given(
    text=st.text(alphabet="ab c\t\nä", max_size=25), lo=st.integers(1, 4), span=st.integers(0, 3)
)
def test_matches_sklearn_char_ngrams(text: str, lo: int, span: int) -> None:
    for analyzer, boundaries in (("char", False), ("char_wb", True)):
        vectorizer = CountVectorizer(
            analyzer=analyzer, ngram_range=(lo, lo + span), lowercase=False
        )
        assert char_ngrams(text, lo, lo + span, boundaries) == vectorizer.build_analyzer()(text)


def test_ngrams_refuses_n_below_one() -> None:
    with pytest.raises(ValueError):
        ngrams([1, 2], 0)


def test_stop_words_in_english_and_german() -> None:
    assert remove_stop_words(words("The cat and the hat"), STOP_WORDS_EN) == ["cat", "hat"]
    assert remove_stop_words(words("Die Katze und der Hut"), STOP_WORDS_DE) == ["Katze", "Hut"]


def test_vocabulary_orders_by_count_and_maps_unknown_tokens() -> None:
    vocab = Vocabulary.build(["b", "a", "c", "a", "b", "a", "d"], min_count=2)
    assert vocab.itos == ["<unk>", "a", "b"] and len(vocab) == 3
    assert vocab.encode(["a", "b", "zebra", "c"]) == [1, 2, 0, 0]
    assert vocab.decode([2, 0, 1]) == ["b", "<unk>", "a"]
    capped = Vocabulary.build(["b", "a", "c", "a", "b", "a", "d"], max_size=3)
    assert capped.itos == ["<unk>", "a", "b"]
    ties = Vocabulary.build(["z", "y", "x"])
    assert ties.itos == ["<unk>", "x", "y", "z"]  # equal counts: alphabetical
