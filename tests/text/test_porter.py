"""The Porter stemmer equals nltk.stem.PorterStemmer word for word, in all three modes.

The word list: every distinct word of the embedded corpus (Python's standard-library
docstrings, about 7,400 lower-case words), each again with two suffixes drawn from the
ones the rules look at (about 15,000 made-up words such as "parsealli" that reach rare
branches), and random strings over an alphabet rich in vowels, y and doubled consonants.
Agreement must be 100 %: a stemmer is a function, so one different word is a bug.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.stem import PorterStemmer as NltkPorterStemmer

from groundup.data.corpus import build_corpus
from groundup.text import porter

SUFFIXES = [
    "s", "es", "ies", "sses", "ss", "ed", "ied", "eed", "ing", "ly", "y", "e", "ll", "ness",
    "ful", "fulli", "alli", "abli", "bli", "entli", "eli", "ousli", "ational", "tional", "enci",
    "anci", "izer", "ization", "ation", "ator", "alism", "iveness", "fulness", "ousness",
    "aliti", "iviti", "biliti", "logi", "icate", "ative", "alize", "iciti", "ical", "al",
    "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "sion",
    "tion", "ou", "ism", "ate", "iti", "ous", "ive", "ize", "at", "bl", "iz",
]  # fmt: skip


@pytest.fixture(scope="module")
def word_list() -> list[str]:
    words = sorted({w.lower() for w in re.findall(r"[A-Za-z]+", build_corpus())})
    assert len(words) > 5000  # the corpus really is the source
    rng = random.Random(0)
    made_up = [w + rng.choice(SUFFIXES) for w in words for _ in range(2)]
    noise = ["".join(rng.choices("aeiouybcdlmnprstz", k=rng.randint(1, 10))) for _ in range(3000)]
    return words + made_up + noise


@pytest.mark.parametrize("mode", porter.MODES)
def test_matches_nltk_porter_on_corpus_and_generated_words(word_list, mode: str) -> None:
    reference = NltkPorterStemmer(mode)
    ours = [porter.stem(w, mode) for w in word_list]
    theirs = [reference.stem(w) for w in word_list]
    different = [(w, a, b) for w, a, b in zip(word_list, ours, theirs, strict=True) if a != b]
    assert different == [], f"{len(different)} of {len(word_list)} words differ"


@settings(max_examples=300, deadline=None)
@given(
    word=st.text(alphabet="abcdeghilmnoprstuvyz", max_size=14), mode=st.sampled_from(porter.MODES)
)
def test_matches_nltk_porter_on_random_lowercase_words(word: str, mode: str) -> None:
    assert porter.stem(word, mode) == NltkPorterStemmer(mode).stem(word)


def test_matches_nltk_porter_on_mixed_case_and_short_words() -> None:
    for word in ["Running", "CATS", "a", "is", "As", "DYING", "Skies", "y", "yy", ""]:
        for mode in porter.MODES:
            assert porter.stem(word, mode) == NltkPorterStemmer(mode).stem(word), (word, mode)


@pytest.mark.parametrize(
    ("stem", "m"),
    [("tr", 0), ("ee", 0), ("tree", 0), ("y", 0), ("by", 0), ("trouble", 1), ("oats", 1),
     ("trees", 1), ("ivy", 1), ("troubles", 2), ("private", 2), ("oaten", 2), ("orrery", 2),
     ("syzygy", 2), ("toy", 1), ("", 0)],
)  # fmt: skip
def test_measure_matches_the_papers_examples(stem: str, m: int) -> None:
    assert porter.measure(stem) == m


@pytest.mark.parametrize(
    ("step", "word", "expected"),
    [(porter.step1a, "caresses", "caress"), (porter.step1a, "ponies", "poni"),
     (porter.step1a, "ties", "tie"), (porter.step1a, "caress", "caress"),
     (porter.step1a, "cats", "cat"), (porter.step1b, "feed", "feed"),
     (porter.step1b, "agreed", "agree"), (porter.step1b, "plastered", "plaster"),
     (porter.step1b, "bled", "bled"), (porter.step1b, "motoring", "motor"),
     (porter.step1b, "sing", "sing"), (porter.step1b, "conflated", "conflate"),
     (porter.step1b, "troubled", "trouble"), (porter.step1b, "sized", "size"),
     (porter.step1b, "hopping", "hop"), (porter.step1b, "tanned", "tan"),
     (porter.step1b, "falling", "fall"), (porter.step1b, "hissing", "hiss"),
     (porter.step1b, "fizzed", "fizz"), (porter.step1b, "failing", "fail"),
     (porter.step1b, "filing", "file"), (porter.step2, "relational", "relate"),
     (porter.step2, "conditional", "condition"), (porter.step2, "rational", "rational"),
     (porter.step3, "triplicate", "triplic"), (porter.step3, "hopeful", "hope"),
     (porter.step4, "adoption", "adopt"), (porter.step4, "revival", "reviv"),
     (porter.step5, "probate", "probat"), (porter.step5, "rate", "rate"),
     (porter.step5, "controll", "control"), (porter.step5, "roll", "roll")],
)  # fmt: skip
def test_each_step_on_the_papers_examples(step, word: str, expected: str) -> None:
    assert step(word) == expected


def test_stems_are_not_always_words() -> None:
    stems = [porter.stem(w) for w in ["studies", "studying", "relational", "happiness", "argue"]]
    assert stems == ["studi", "studi", "relat", "happi", "argu"]


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        porter.stem("cats", "SNOWBALL")
    with pytest.raises(ValueError, match="mode"):
        porter.PorterStemmer("snowball")
    assert porter.PorterStemmer().stem("Running") == "run"
