"""Classification metrics equal sklearn.metrics on random labels and scores.

Hypothesis draws labels from small alphabets so that the edge cases come up often: a class
that is never predicted, a class that only appears in the predictions, a single class,
and scores with many ties (drawn from a handful of values). Tolerance: 1e-12 absolute,
which leaves room only for the order of floating-point sums.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.metrics import classification as cm

SETTINGS = settings(max_examples=60, deadline=None)
ATOL = 1e-12


@st.composite
def label_pairs(draw, classes: int = 4):
    n = draw(st.integers(1, 40))
    labels = st.integers(0, classes - 1)
    y_true = draw(st.lists(labels, min_size=n, max_size=n))
    y_pred = draw(st.lists(labels, min_size=n, max_size=n))
    return np.array(y_true), np.array(y_pred)


@st.composite
def scored(draw):
    """Binary truth with both classes present, and scores with frequent ties."""
    n = draw(st.integers(2, 40))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(lambda v: 0 < sum(v) < n))
    tied = draw(st.booleans())
    values = st.sampled_from([0.1, 0.2, 0.5, 0.9]) if tied else st.floats(-5, 5)
    scores = draw(st.lists(values, min_size=n, max_size=n))
    return np.array(y), np.array(scores)


def close(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), atol=ATOL, rtol=0)


@pytest.mark.filterwarnings("ignore:A single label was found")
@SETTINGS
@given(label_pairs())
def test_matches_sklearn_accuracy_and_confusion_matrix(pair) -> None:
    y_true, y_pred = pair
    assert cm.accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    np.testing.assert_array_equal(
        cm.confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred)
    )
    labels = [3, 0, 2, 1, 5]  # an order of our choosing, one label that never occurs
    np.testing.assert_array_equal(
        cm.confusion_matrix(y_true, y_pred, labels=labels),
        skm.confusion_matrix(y_true, y_pred, labels=labels),
    )


@SETTINGS
@given(
    label_pairs(),
    st.sampled_from([None, "micro", "macro", "weighted"]),
    st.sampled_from([0.0, 1.0, np.nan]),
)
def test_matches_sklearn_precision_recall_f1(pair, average, zero_division) -> None:
    y_true, y_pred = pair
    ours = cm.precision_recall_f1(y_true, y_pred, average=average, zero_division=zero_division)
    theirs = skm.precision_recall_fscore_support(
        y_true, y_pred, average=average, zero_division=zero_division
    )
    for a, b in zip(ours, theirs, strict=True):
        if b is None:
            assert a is None
        else:
            close(a, b)


@SETTINGS
@given(label_pairs(classes=2), st.sampled_from([0.0, 1.0]))
def test_matches_sklearn_binary_scores(pair, zero_division) -> None:
    y_true, y_pred = pair
    for ours, theirs in [
        (cm.precision, skm.precision_score),
        (cm.recall, skm.recall_score),
        (cm.f1, skm.f1_score),
    ]:
        got = ours(y_true, y_pred, average="binary", zero_division=zero_division)
        close(got, theirs(y_true, y_pred, average="binary", zero_division=zero_division))


def test_a_class_never_predicted_uses_zero_division() -> None:
    y_true, y_pred = np.array([0, 1, 2, 2]), np.array([0, 1, 1, 1])  # 2 is never predicted
    precision, recall, f1, support = cm.precision_recall_f1(y_true, y_pred)
    close(precision, [1.0, 1 / 3, 0.0])
    close(recall, [1.0, 1.0, 0.0])
    assert support.tolist() == [1, 1, 2]
    nan_macro = cm.precision(y_true, y_pred, average="macro", zero_division=np.nan)
    close(nan_macro, (1.0 + 1 / 3) / 2)  # the undefined class is left out of the mean


def test_strings_and_explicit_labels() -> None:
    y_true = ["cat", "dog", "dog", "bird", "cat"]
    y_pred = ["cat", "cat", "dog", "dog", "cat"]
    labels = ["dog", "cat", "fish"]
    ours = cm.precision_recall_f1(y_true, y_pred, labels=labels)
    theirs = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    for a, b in zip(ours, theirs, strict=True):
        close(a, b)


@SETTINGS
@given(scored(), st.booleans())
def test_matches_sklearn_roc_curve_with_ties(data, drop) -> None:
    y, scores = data
    for a, b in zip(
        cm.roc_curve(y, scores, drop_intermediate=drop),
        skm.roc_curve(y, scores, drop_intermediate=drop),
        strict=True,
    ):
        close(a, b)
    assert cm.roc_auc(y, scores) == pytest.approx(skm.roc_auc_score(y, scores), abs=ATOL)


@SETTINGS
@given(scored())
def test_matches_sklearn_precision_recall_curve_and_average_precision(data) -> None:
    y, scores = data
    for a, b in zip(
        cm.precision_recall_curve(y, scores), skm.precision_recall_curve(y, scores), strict=True
    ):
        close(a, b)
    got = cm.average_precision(y, scores)
    assert got == pytest.approx(skm.average_precision_score(y, scores), abs=ATOL)


@SETTINGS
@given(scored())
def test_auc_is_the_probability_that_a_positive_outranks_a_negative(data) -> None:
    y, scores = data
    pos, neg = scores[y == 1], scores[y == 0]
    wins = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert cm.roc_auc(y, scores) == pytest.approx(wins, abs=ATOL)
    assert cm.roc_auc(y, -scores) == pytest.approx(1 - wins, abs=ATOL)


def test_all_tied_scores_give_auc_one_half() -> None:
    assert cm.roc_auc([0, 1, 0, 1, 1], [0.3] * 5) == 0.5


def test_matches_sklearn_pos_label_zero() -> None:
    y, scores = np.array([0, 0, 1, 1, 0]), np.array([0.9, 0.4, 0.35, 0.1, 0.4])
    assert cm.roc_auc(y, -scores, pos_label=0) == pytest.approx(skm.roc_auc_score(1 - y, -scores))
    for a, b in zip(cm.roc_curve(y, scores, 0), skm.roc_curve(y, scores, pos_label=0), strict=True):
        close(a, b)


def test_single_class() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(cm.roc_auc([1, 1, 1], [0.2, 0.5, 0.7]))
        assert np.isnan(skm.roc_auc_score([1, 1, 1], [0.2, 0.5, 0.7]))
        fpr, tpr, _ = cm.roc_curve([1, 1, 1], [0.2, 0.5, 0.7])
        sk_fpr, sk_tpr, _ = skm.roc_curve([1, 1, 1], [0.2, 0.5, 0.7])
    np.testing.assert_array_equal(np.isnan(fpr), np.isnan(sk_fpr))
    close(tpr, sk_tpr)
    # precision/recall on a single class: every other score is undefined or perfect
    for average in (None, "micro", "macro", "weighted"):
        for a, b in zip(
            cm.precision_recall_f1([2, 2, 2], [2, 2, 2], average=average),
            skm.precision_recall_fscore_support([2, 2, 2], [2, 2, 2], average=average),
            strict=True,
        ):
            assert (a is None) == (b is None)
            if b is not None:
                close(a, b)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["macro", "weighted"]))
def test_matches_sklearn_one_vs_rest_auc(seed, average) -> None:
    rng = np.random.default_rng(seed)
    y = np.r_[np.arange(4), rng.integers(0, 4, size=26)]  # every class present
    logits = rng.standard_normal((30, 4)) + 1.5 * np.eye(4)[y]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    probs = np.round(probs, 1)  # ties
    probs /= probs.sum(axis=1, keepdims=True)
    expected = skm.roc_auc_score(y, probs, multi_class="ovr", average=average)
    assert cm.roc_auc_ovr(y, probs, average=average) == pytest.approx(expected, abs=ATOL)


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="equal length"):
        cm.accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="average"):
        cm.precision_recall_f1([0, 1], [0, 1], average="mean")
    with pytest.raises(ValueError, match="binary"):
        cm.precision_recall_f1([0, 1, 2], [0, 1, 2], average="binary")
    with pytest.raises(ValueError, match="finite"):
        cm.roc_curve([0, 1], [0.1, np.nan])
