"""Logistic regression against scikit-learn's LogisticRegression and torch autograd.

Trained to convergence (our max |gradient| <= 1e-9, scikit-learn with tol=1e-10), both
minimise the same convex objective, so coefficients agree within 1e-4 and probabilities
within 1e-5 (what is left is the two solvers' stopping points), for two classes (one
sigmoid) and for four (multinomial softmax), with C from 0.1 to 10, on dense and on sparse
TF-IDF features. The hand-written gradient equals torch autograd's to 1e-10 (float64).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from groundup.text.classify import LogisticRegression, lbfgs, loss_and_gradient, sigmoid
from groundup.text.vectorize import TfidfVectorizer


def data(n_classes: int, seed: int = 0, n: int = 120, d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    x, y = make_classification(n, d, n_informative=4, n_classes=n_classes, random_state=seed)
    return x, y


def fit_both(x, y, c: float) -> tuple[LogisticRegression, SkLogisticRegression]:
    ours = LogisticRegression(C=c, tol=1e-9, max_iter=5000).fit(x, y)
    theirs = SkLogisticRegression(C=c, tol=1e-10, max_iter=10_000).fit(x, y)
    return ours, theirs


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("c", [0.1, 1.0, 10.0])
def test_matches_sklearn_logistic_regression(n_classes: int, c: float) -> None:
    x, y = data(n_classes, seed=n_classes)
    ours, theirs = fit_both(x, y, c)
    assert ours.coef.shape == theirs.coef_.shape == ((1 if n_classes == 2 else n_classes), 6)
    np.testing.assert_allclose(ours.coef, theirs.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept, theirs.intercept_, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(x), theirs.predict_proba(x), atol=1e-5)
    np.testing.assert_array_equal(ours.predict(x), theirs.predict(x))


def test_matches_sklearn_on_sparse_tfidf_with_string_labels() -> None:
    rng = np.random.default_rng(0)
    words = {"pos": "good great fine superb fun", "neg": "bad awful dull boring poor",
             "neu": "film movie plot actor scene"}  # fmt: skip
    docs, labels = [], []
    for i in range(90):
        label = list(words)[i % 3]
        mix = list(rng.choice(words[label].split(), 4)) + list(rng.choice(words["neu"].split(), 3))
        docs.append(" ".join(mix))
        labels.append(label)
    x = TfidfVectorizer().fit_transform(docs)
    assert sp.issparse(x)
    ours, theirs = fit_both(x, np.array(labels), c=2.0)
    assert list(ours.classes) == list(theirs.classes_) == ["neg", "neu", "pos"]
    np.testing.assert_allclose(ours.coef, theirs.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(x), theirs.predict_proba(x), atol=1e-5)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_matches_torch_autograd_gradient(n_classes: int) -> None:
    rng = np.random.default_rng(n_classes)
    n, d, c = 17, 5, 0.7
    x = rng.standard_normal((n, d))
    y = rng.integers(0, n_classes, n)
    shape = (d,) if n_classes == 2 else (d, n_classes)
    w, b = rng.standard_normal(shape), rng.standard_normal(shape[1:])
    loss, grad_w, grad_b = loss_and_gradient(w, b, sp.csr_matrix(x), y, c)

    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    z = torch.tensor(x) @ tw + tb
    target = torch.tensor(y)
    if n_classes == 2:
        data_loss = torch.nn.functional.binary_cross_entropy_with_logits(z, target.double())
    else:
        data_loss = torch.nn.functional.cross_entropy(z, target)
    reference = data_loss + (tw**2).sum() / (2 * c * n)
    reference.backward()
    assert loss == pytest.approx(reference.item(), abs=1e-12)
    np.testing.assert_allclose(grad_w, tw.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(grad_b, tb.grad.numpy(), atol=1e-10)


def test_lbfgs_minimises_a_quadratic_and_the_loss_never_rises() -> None:
    rng = np.random.default_rng(0)
    m = rng.standard_normal((10, 10))
    a, b = m @ m.T + np.eye(10), rng.standard_normal(10)
    theta, losses = lbfgs(lambda t: (0.5 * t @ a @ t - b @ t, a @ t - b), np.zeros(10), tol=1e-10)
    np.testing.assert_allclose(theta, np.linalg.solve(a, b), atol=1e-8)
    assert all(later <= earlier + 1e-15 for earlier, later in zip(losses, losses[1:], strict=False))


def test_training_reports_each_step_and_sigmoid_does_not_overflow() -> None:
    x, y = data(2)
    seen: list[tuple[int, float]] = []
    model = LogisticRegression(C=1.0).fit(x, y, callback=lambda i, loss: seen.append((i, loss)))
    assert [i for i, _ in seen] == list(range(1, len(seen) + 1))
    assert seen[-1][1] == model.losses[-1] < model.losses[0] == pytest.approx(np.log(2))
    np.testing.assert_allclose(sigmoid(np.array([-800.0, 0.0, 800.0])), [0.0, 0.5, 1.0])


def test_one_class_is_refused() -> None:
    with pytest.raises(ValueError, match="two classes"):
        LogisticRegression().fit(np.ones((3, 2)), np.zeros(3))
