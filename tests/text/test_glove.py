"""GloVe: co-occurrence counts against a brute-force loop, loss and gradients against torch
autograd (float64, atol 1e-10, rtol 1e-8), AdaGrad against torch.optim.Adagrad's rule."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.text.glove import GloVe, adagrad_rows, cooccurrence, glove_loss_and_grads, weighting

TOL = {"atol": 1e-10, "rtol": 1e-8}


def brute_force(sentences: list[list[int]], v: int, window: int, symmetric: bool) -> np.ndarray:
    x = np.zeros((v, v))
    for s in sentences:
        for i, word in enumerate(s):
            for d in range(1, window + 1):
                if i - d < 0:
                    break
                x[word, s[i - d]] += 1.0 / d
                if symmetric:
                    x[s[i - d], word] += 1.0 / d
    return x


@settings(max_examples=20, deadline=None)
@given(
    sentences=st.lists(
        st.lists(st.integers(0, 6), min_size=1, max_size=12), min_size=1, max_size=5
    ),
    window=st.integers(1, 4),
    symmetric=st.booleans(),
)
def test_cooccurrence_matches_brute_force(
    sentences: list[list[int]], window: int, symmetric: bool
) -> None:
    got = cooccurrence([np.array(s) for s in sentences], 7, window, symmetric).toarray()
    np.testing.assert_allclose(got, brute_force(sentences, 7, window, symmetric), rtol=1e-12)


def test_weighting() -> None:
    x = np.array([1.0, 50.0, 100.0, 1000.0])
    np.testing.assert_allclose(weighting(x, 100, 0.75), [0.01**0.75, 0.5**0.75, 1.0, 1.0])


@settings(max_examples=15, deadline=None)
@given(b=st.integers(1, 8), d=st.integers(1, 6), seed=st.integers(0, 99))
def test_matches_torch_glove_loss_and_gradients(b: int, d: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    w, wt = rng.normal(size=(b, d)), rng.normal(size=(b, d))
    bias, bias_t = rng.normal(size=b), rng.normal(size=b)
    x = rng.uniform(0.2, 300, size=b)  # both sides of x_max = 100
    loss, gw, gwt, gb, gbt = glove_loss_and_grads(w, wt, bias, bias_t, x, 100.0, 0.75)
    t = [torch.tensor(a, requires_grad=True) for a in (w, wt, bias, bias_t)]
    tx = torch.tensor(x)
    f = torch.clamp((tx / 100.0) ** 0.75, max=1.0)
    ref = 0.5 * (f * ((t[0] * t[1]).sum(-1) + t[2] + t[3] - torch.log(tx)) ** 2).sum()
    ref.backward()
    np.testing.assert_allclose(loss, ref.item(), **TOL)
    for got, tensor in zip((gw, gwt, gb, gbt), t, strict=True):
        np.testing.assert_allclose(got, tensor.grad.numpy(), **TOL)


def test_matches_torch_adagrad_rule() -> None:
    """One row updated twice: torch Adagrad with initial_accumulator_value=1 (glove.c's 1)."""
    rng = np.random.default_rng(0)
    table, squares = rng.normal(size=(3, 4)), np.ones((3, 4))
    param = torch.tensor(table[1].copy(), requires_grad=True)
    opt = torch.optim.Adagrad([param], lr=0.05, initial_accumulator_value=1.0, eps=0.0)
    for _ in range(2):
        g = rng.normal(size=(2, 4))
        adagrad_rows(table, squares, np.array([1, 1]), g, 0.05)  # same row twice: summed
        param.grad = torch.tensor(g.sum(0))
        opt.step()
    np.testing.assert_allclose(table[1], param.detach().numpy(), rtol=1e-12)


def test_fit_lowers_loss_and_separates_topics() -> None:
    rng = np.random.default_rng(0)
    groups = [np.arange(0, 6), np.arange(6, 12)]
    sentences = [rng.choice(groups[i % 2], size=8) for i in range(300)]
    model = GloVe(dim=8, x_max=10, epochs=30, lr=0.05, batch_size=16)
    model.fit(cooccurrence(sentences, 12, window=3))
    assert model.losses[-1] < 0.2 * model.losses[0]
    unit = model.vectors / np.linalg.norm(model.vectors, axis=1, keepdims=True)
    sim = unit @ unit.T
    group = np.arange(12) < 6
    same = sim[group[:, None] == group[None, :]].mean()
    other = sim[group[:, None] != group[None, :]].mean()
    assert same - other > 0.5, (same, other)


@pytest.mark.parametrize("window", [1, 3])
def test_cooccurrence_is_symmetric(window: int) -> None:
    x = cooccurrence([np.array([0, 1, 2, 1, 0])], 3, window).toarray()
    np.testing.assert_allclose(x, x.T)
