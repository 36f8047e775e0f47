"""BLEU against sacrebleu: same tokens, same statistics, same score."""

from __future__ import annotations

import math

import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from groundup.metrics.bleu import (
    SegmentStats,
    bleu_from_stats,
    closest_ref_length,
    corpus_bleu,
    sentence_bleu,
    tokenize_13a,
)

TOL = 1e-9  # same arithmetic in the same order: equal up to float rounding


def assert_same(ours, theirs) -> None:
    assert ours.score == pytest.approx(theirs.score, abs=TOL)
    assert ours.precisions == pytest.approx(theirs.precisions, abs=TOL)
    assert ours.bp == pytest.approx(theirs.bp, abs=TOL)
    assert ours.sys_len == theirs.sys_len
    assert ours.ref_len == theirs.ref_len
    assert list(ours.counts) == pytest.approx(list(theirs.counts))
    assert list(ours.totals) == pytest.approx(list(theirs.totals))


HYPS = [
    "The cat sat on the mat.",
    "It costs $3.50, or 1,000 yen - roughly.",
    "",
    "the the the the the the the",
    "Numbers 2-3 and 4.5 (approx.) &amp; more &quot;quoted&quot; text!",
    "A short one",
    "Er sagte: «Nein», und ging.",
]
REFS_A = [
    "The cat is sitting on the mat.",
    "It costs $3.50 or about 1,000 yen.",
    "Nothing was produced here.",
    "The cat is on the mat.",
    'Numbers 2-3 and 4.5 (approx.) & more "quoted" text.',
    "A short one indeed, but longer.",
    "Er sagte «Nein» und ging.",
]
REFS_B = [
    "A cat sat on the mat.",
    "The price is $3.50, i.e. 1,000 yen.",
    "",
    "There is a cat on the mat.",
    "numbers 2 - 3 and 4.5 approx & more quoted text!",
    "Short.",
    None,
]
REFS_C = [
    "On the mat sat the cat.",
    "About 1,000 yen.",
    "x",
    "the mat",
    "Numbers.",
    "A short one",
    "Nein, sagte er.",
]


@pytest.mark.parametrize("line", HYPS + [r for r in REFS_A + REFS_B + REFS_C if r])
def test_matches_sacrebleu_13a_tokenizer(line: str) -> None:
    assert tokenize_13a(line) == Tokenizer13a()(line)


@pytest.mark.parametrize("refs", [[REFS_A], [REFS_A, REFS_B], [REFS_A, REFS_B, REFS_C]])
@pytest.mark.parametrize("smooth", ["exp", "floor", "add-k", "none"])
@pytest.mark.parametrize("lowercase", [False, True])
def test_matches_sacrebleu_corpus_bleu_hand_made(refs, smooth: str, lowercase: bool) -> None:
    theirs = sacrebleu.corpus_bleu(HYPS, refs, smooth_method=smooth, lowercase=lowercase)
    ours = corpus_bleu(HYPS, refs, smooth_method=smooth, lowercase=lowercase)
    assert_same(ours, theirs)


@pytest.mark.parametrize("smooth,value", [("floor", 0.3), ("add-k", 2), ("exp", None)])
def test_matches_sacrebleu_corpus_bleu_smooth_value_and_effective_order(smooth, value) -> None:
    for effective in (False, True):
        kwargs = dict(smooth_method=smooth, smooth_value=value, use_effective_order=effective)
        theirs = sacrebleu.corpus_bleu(HYPS[:3], [REFS_A[:3], REFS_C[:3]], **kwargs)
        assert_same(corpus_bleu(HYPS[:3], [REFS_A[:3], REFS_C[:3]], **kwargs), theirs)


@pytest.mark.parametrize("i", range(len(HYPS)))
@pytest.mark.parametrize("smooth", ["exp", "floor", "add-k", "none"])
def test_matches_sacrebleu_sentence_bleu(i: int, smooth: str) -> None:
    refs = [r[i] for r in (REFS_A, REFS_B, REFS_C) if r[i] is not None]
    theirs = sacrebleu.sentence_bleu(HYPS[i], refs, smooth_method=smooth)
    assert_same(sentence_bleu(HYPS[i], refs, smooth_method=smooth), theirs)


WORDS = ["the", "cat", "sat", "mat", "on", "a", "dog", "3.5", "1,000", "-", ".", ",", "!",
         "(", ")", "$", "2-3", "Cat", "THE", "&amp;", "it's"]  # fmt: skip
segment = st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    n_segments=st.integers(1, 5),
    n_refs=st.integers(1, 3),
    smooth=st.sampled_from(["exp", "floor", "add-k", "none"]),
    lowercase=st.booleans(),
)
def test_matches_sacrebleu_corpus_bleu_generated(data, n_segments, n_refs, smooth, lowercase):
    hyps = data.draw(st.lists(segment, min_size=n_segments, max_size=n_segments))
    refs = [
        data.draw(st.lists(segment, min_size=n_segments, max_size=n_segments))
        for _ in range(n_refs)
    ]
    theirs = sacrebleu.corpus_bleu(hyps, refs, smooth_method=smooth, lowercase=lowercase)
    assert_same(corpus_bleu(hyps, refs, smooth_method=smooth, lowercase=lowercase), theirs)


@settings(max_examples=30, deadline=None)
@given(hyp=segment, refs=st.lists(segment, min_size=1, max_size=3))
def test_matches_sacrebleu_sentence_bleu_generated(hyp: str, refs: list[str]) -> None:
    assert_same(sentence_bleu(hyp, refs), sacrebleu.sentence_bleu(hyp, refs))


def test_perfect_match_scores_100_and_clipping_limits_repeats() -> None:
    perfect = corpus_bleu(["the cat sat on the mat"], [["the cat sat on the mat"]])
    assert perfect.score == pytest.approx(100.0)
    # 7 "the" against a reference with 2: unigram precision 2/7
    score = corpus_bleu(["the the the the the the the"], [["the cat is on the mat"]])
    assert score.counts[0] == 2 and score.totals[0] == 7


def test_closest_reference_length_prefers_the_shorter_on_a_tie() -> None:
    assert closest_ref_length(5, [7, 3]) == 3
    assert closest_ref_length(5, [3, 7]) == 3
    assert closest_ref_length(5, [9, 6, 4]) == 4


def test_brevity_penalty_and_geometric_mean_by_hand() -> None:
    stats = SegmentStats(hyp_length=8, ref_length=10, correct=[6, 4, 2, 1], total=[8, 7, 6, 5])
    expected_bp = math.exp(1 - 10 / 8)
    expected = expected_bp * (6 / 8 * 4 / 7 * 2 / 6 * 1 / 5) ** 0.25 * 100
    result = bleu_from_stats(stats, smooth_method="none")
    assert result.bp == pytest.approx(expected_bp)
    assert result.score == pytest.approx(expected)


def test_unknown_smoothing_is_rejected() -> None:
    with pytest.raises(ValueError):
        corpus_bleu(["a"], [["a"]], smooth_method="nist")
