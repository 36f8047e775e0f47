"""ROUGE-1/2/L/Lsum against rouge_score.rouge_scorer.RougeScorer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer
from rouge_score import tokenize as rouge_tokenize
from rouge_score.tokenizers import DefaultTokenizer

from groundup.metrics.rouge import lcs_table, rouge, rouge_multi, rouge_n, tokenize

TOL = 1e-12  # the same counts divided in the same order
TYPES = ["rouge1", "rouge2", "rouge3", "rougeL", "rougeLsum"]


def assert_same(ours, theirs, types=TYPES) -> None:
    for rouge_type in types:
        mine, ref = ours[rouge_type], theirs[rouge_type]
        assert mine.precision == pytest.approx(ref.precision, abs=TOL), rouge_type
        assert mine.recall == pytest.approx(ref.recall, abs=TOL), rouge_type
        assert mine.fmeasure == pytest.approx(ref.fmeasure, abs=TOL), rouge_type


PAIRS = [
    ("The quick brown fox jumps over the lazy dog.", "The quick brown dog jumps on the log."),
    ("Police killed the gunman.\nThe gunman was armed.", "The gunman killed police.\nArmed men."),
    ("", "something"),
    ("something", ""),
    ("Running runners ran; they were running quickly!", "The runner runs and ran quickly."),
    ("Résumé: 3.14 is π, naïve café-owners' generalizations", "resume 3 14 pi naive cafe owner"),
    ("a a a b b c", "a b a b a c c"),
    ("Connected connections connecting.\n\nHopeful hopefulness.", "connect\nhope hopes hoping"),
    ("It's 2024 -- the year of LLMs & RAG", "in 2024 LLMs and RAG were popular"),
    # two LCS of equal length: which one is read back changes the Lsum union
    ("cat sat", "cat mat\nsat cat dog\nmat"),
]


@pytest.mark.parametrize("use_stemmer", [False, True])
@pytest.mark.parametrize("target,prediction", PAIRS)
def test_matches_rouge_score_hand_made(target: str, prediction: str, use_stemmer: bool) -> None:
    scorer = rouge_scorer.RougeScorer(TYPES, use_stemmer=use_stemmer)
    ours = rouge(target, prediction, TYPES, use_stemmer=use_stemmer)
    assert_same(ours, scorer.score(target, prediction))


@pytest.mark.parametrize("use_stemmer", [False, True])
@pytest.mark.parametrize("text", [t for pair in PAIRS for t in pair])
def test_matches_rouge_score_tokenizer(text: str, use_stemmer: bool) -> None:
    assert tokenize(text, use_stemmer) == DefaultTokenizer(use_stemmer).tokenize(text)
    assert tokenize(text) == rouge_tokenize.tokenize(text, None)


WORDS = ["cat", "cats", "running", "runs", "ran", "the", "The", "a", "generously", "mat",
         "happiness", "happy", "was", "its", ",", ".", "!", "42", "x-ray", "über", "caring", "cares"]  # fmt: skip
sentence = st.lists(st.sampled_from(WORDS), max_size=10).map(" ".join)
text = st.lists(sentence, max_size=4).map("\n".join)


@settings(max_examples=60, deadline=None)
@given(target=text, prediction=text, use_stemmer=st.booleans())
def test_matches_rouge_score_generated(target: str, prediction: str, use_stemmer: bool) -> None:
    scorer = rouge_scorer.RougeScorer(TYPES, use_stemmer=use_stemmer)
    assert_same(rouge(target, prediction, TYPES, use_stemmer), scorer.score(target, prediction))


@settings(max_examples=20, deadline=None)
@given(targets=st.lists(text, min_size=1, max_size=3), prediction=text)
def test_matches_rouge_score_multi_reference(targets: list[str], prediction: str) -> None:
    types = ["rouge1", "rouge2", "rougeL"]
    theirs = rouge_scorer.RougeScorer(types).score_multi(targets, prediction)
    assert_same(rouge_multi(targets, prediction, types), theirs, types)


def test_rouge_1_by_hand() -> None:
    # overlap of {the:2, cat:1} with {the:1, cat:1, sat:1}: the 1 + cat 1 = 2
    score = rouge_n(["the", "cat", "the"], ["the", "cat", "sat"], 1)
    assert (score.precision, score.recall) == (2 / 3, 2 / 3)


def test_lcs_table_length() -> None:
    assert lcs_table(list("ABCBDAB"), list("BDCABA"))[-1][-1] == 4  # CLRS's example


def test_unknown_type_is_rejected() -> None:
    with pytest.raises(ValueError):
        rouge("a", "a", ["rougeW"])
    with pytest.raises(ValueError):
        rouge("a", "a", ["rouge0"])
