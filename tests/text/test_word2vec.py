"""word2vec against torch autograd (losses, gradients) and gensim's formulas (subsampling,
noise distribution). float64 inputs: tolerance atol 1e-10, rtol 1e-8 (rounding only)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.text.word2vec import (
    Word2Vec,
    cbow_loss_and_grads,
    cbow_windows,
    keep_probabilities,
    negative_distribution,
    sgns_loss_and_grads,
    skipgram_pairs,
)

TOL = {"atol": 1e-10, "rtol": 1e-8}


@settings(max_examples=15, deadline=None)
@given(b=st.integers(1, 6), k=st.integers(1, 5), d=st.integers(1, 8), seed=st.integers(0, 99))
def test_matches_torch_sgns_loss_and_gradients(b: int, k: int, d: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    v, u, n = rng.normal(size=(b, d)), rng.normal(size=(b, d)), rng.normal(size=(b, k, d))
    loss, gv, gu, gn = sgns_loss_and_grads(v, u, n)
    tv, tu, tn = (torch.tensor(a, requires_grad=True) for a in (v, u, n))
    pos = (tv * tu).sum(-1)
    neg = torch.einsum("bkd,bd->bk", tn, tv)
    ref = -(F.logsigmoid(pos).sum() + F.logsigmoid(-neg).sum())
    ref.backward()
    np.testing.assert_allclose(loss, ref.item(), **TOL)
    for got, t in ((gv, tv), (gu, tu), (gn, tn)):
        np.testing.assert_allclose(got, t.grad.numpy(), **TOL)


def test_sgns_loss_finite_for_huge_scores() -> None:
    v = np.full((1, 2), 30.0)
    loss, gv, _, _ = sgns_loss_and_grads(v, -v, v[:, None, :])  # scores -1800 and +1800
    assert np.isclose(loss, 3600.0) and np.isfinite(gv).all()


@settings(max_examples=15, deadline=None)
@given(b=st.integers(1, 5), c=st.integers(1, 6), k=st.integers(1, 4), seed=st.integers(0, 99))
def test_matches_torch_cbow_loss_and_gradients(b: int, c: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = 4
    ctx, tgt, neg = rng.normal(size=(b, c, d)), rng.normal(size=(b, d)), rng.normal(size=(b, k, d))
    mask = rng.random((b, c)) < 0.7
    mask[:, 0] = True  # every window has at least one word
    loss, gc, gt, gn = cbow_loss_and_grads(ctx, mask, tgt, neg)
    tc, tt, tn = (torch.tensor(a, requires_grad=True) for a in (ctx, tgt, neg))
    m = torch.tensor(mask, dtype=torch.float64)
    h = (tc * m[:, :, None]).sum(1) / m.sum(1, keepdim=True)
    ref = -(
        F.logsigmoid((h * tt).sum(-1)).sum()
        + F.logsigmoid(-torch.einsum("bkd,bd->bk", tn, h)).sum()
    )
    ref.backward()
    np.testing.assert_allclose(loss, ref.item(), **TOL)
    for got, t in ((gc, tc), (gt, tt), (gn, tn)):
        np.testing.assert_allclose(got, t.grad.numpy(), **TOL)


def gensim_keep(counts: np.ndarray, sample: float) -> np.ndarray:
    """gensim.models.word2vec.Word2Vec.prepare_vocab, transcribed (word by word)."""
    threshold_count = sample * counts.sum()
    out = []
    for v in counts:
        p = (np.sqrt(v / threshold_count) + 1) * (threshold_count / v)
        out.append(min(p, 1.0))
    return np.array(out)


@pytest.mark.parametrize("sample", [1e-3, 1e-4, 1e-5])
def test_matches_gensim_formula_subsampling(sample: float) -> None:
    counts = np.array([50_000, 9000, 1200, 300, 40, 5, 1])
    np.testing.assert_allclose(keep_probabilities(counts, sample), gensim_keep(counts, sample))
    assert (keep_probabilities(counts, 0) == 1).all()
    # with the C code's t = sample * total, a word making up exactly a share s of the text
    # is kept with probability sqrt(sample/s) + sample/s
    share = counts[0] / counts.sum()
    expected = np.sqrt(sample / share) + sample / share
    assert np.isclose(keep_probabilities(counts, sample)[0], min(expected, 1.0))


def test_matches_gensim_formula_negative_distribution() -> None:
    counts = np.array([100, 10, 1, 0])
    # gensim make_cum_table: cumulative count**0.75 / sum count**0.75
    expected = np.array([100**0.75, 10**0.75, 1.0, 0.0]) / (100**0.75 + 10**0.75 + 1)
    np.testing.assert_allclose(negative_distribution(counts), expected, rtol=1e-12)
    # the 0.75 power gives rare words more than their share
    assert negative_distribution(counts)[2] > counts[2] / counts.sum()


def test_negative_draws_follow_distribution() -> None:
    model = Word2Vec(min_count=1, sample=0)
    model.build([["a"] * 80 + ["b"] * 15 + ["c"] * 5])
    draws = model.draw_negatives(np.random.default_rng(0), (200_000,))
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, negative_distribution(model.counts), atol=0.005)
    assert freq[0] == 0  # "<unk>" is never noise


def test_skipgram_pairs_dynamic_window_brute_force() -> None:
    ids = np.arange(10, 22)
    sentence = np.array([0] * 7 + [1] * 5)
    window = 3
    rng = np.random.default_rng(5)
    centers, contexts = skipgram_pairs(ids, sentence, window, rng)
    reduced = np.random.default_rng(5).integers(1, window + 1, size=len(ids))
    expected = sorted(
        (ids[i], ids[j])
        for i in range(len(ids))
        for j in range(len(ids))
        if i != j and abs(i - j) <= reduced[i] and sentence[i] == sentence[j]
    )
    assert sorted(zip(centers.tolist(), contexts.tolist(), strict=True)) == expected


def test_cbow_windows_brute_force() -> None:
    ids = np.arange(9)
    sentence = np.array([0] * 4 + [1] * 4 + [2])
    targets, contexts, mask = cbow_windows(ids, sentence, 2, np.random.default_rng(1))
    reduced = np.random.default_rng(1).integers(1, 3, size=9)
    got = {int(t): sorted(c[m].tolist()) for t, c, m in zip(targets, contexts, mask, strict=True)}
    expected = {
        i: sorted(
            j
            for j in range(9)
            if j != i and abs(i - j) <= reduced[i] and sentence[i] == sentence[j]
        )
        for i in range(9)
    }
    assert got == {i: c for i, c in expected.items() if c}  # the lone word 8 has no context


def toy_sentences(n: int = 400, seed: int = 0) -> list[list[str]]:
    """Two topics that never mix: words of a sentence come from one group only."""
    rng = np.random.default_rng(seed)
    groups = [[f"a{i}" for i in range(6)], [f"b{i}" for i in range(6)]]
    return [list(rng.choice(groups[i % 2], size=8)) for i in range(n)]


@pytest.mark.parametrize("cbow", [False, True])
def test_learns_topics_and_lowers_loss(cbow: bool) -> None:
    model = Word2Vec(dim=10, window=3, min_count=1, sample=0, epochs=5, cbow=cbow,
                     lr=0.2, batch_size=64).fit(toy_sentences())  # fmt: skip
    centred = model.vectors - model.vectors.mean(axis=0)  # without the direction all share
    unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    group = np.array([w[0] == "a" for w in model.words])
    sim = unit @ unit.T
    same = sim[group[:, None] == group[None, :]].mean()
    other = sim[group[:, None] != group[None, :]].mean()
    assert same - other > 0.5, (same, other)
    assert np.mean(model.losses[-10:]) < 0.7 * model.losses[0]


def test_learning_rate_decays_linearly(monkeypatch: pytest.MonkeyPatch) -> None:
    rates: list[float] = []
    model = Word2Vec(dim=4, window=2, min_count=1, sample=0, epochs=2, lr=0.1, batch_size=8)
    original = model.skipgram_step

    def spy(centers, contexts, lr, rng):  # type: ignore[no-untyped-def]
        rates.append(lr)
        return original(centers, contexts, lr, rng)

    monkeypatch.setattr(model, "skipgram_step", spy)
    model.fit(toy_sentences(20))
    assert rates[0] == pytest.approx(0.1) and rates[-1] < 0.1 * 0.1
    steps = np.diff(rates)
    assert (steps < 0).all() and np.allclose(steps, steps.mean(), rtol=0.1)
