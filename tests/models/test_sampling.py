"""Sampling filters and next-token choice, against transformers' logits warpers and statistics."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers.generation.logits_process import TopKLogitsWarper, TopPLogitsWarper

from groundup.models.sampling import filter_top_k, filter_top_p, sample_next

NO_IDS = torch.zeros(1, 1, dtype=torch.long)  # the warpers ignore input_ids


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 4),
    vocab=st.integers(1, 40),
    k=st.integers(1, 45),
    levels=st.sampled_from([3, 1000]),  # 3 levels: many ties; 1000: almost none
    seed=st.integers(0, 2**16),
)
def test_matches_transformers_top_k(batch, vocab, k, levels, seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randint(0, levels, (batch, vocab), generator=g).float() / 7
    expected = TopKLogitsWarper(top_k=k)(NO_IDS, logits.clone())
    assert torch.equal(filter_top_k(logits, k), expected)


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 4),
    vocab=st.integers(1, 40),
    p=st.floats(0.01, 1.0),
    scale=st.sampled_from([0.5, 3.0]),
    seed=st.integers(0, 2**16),
)
def test_matches_transformers_top_p(batch, vocab, p, scale, seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch, vocab, generator=g) * scale
    expected = TopPLogitsWarper(top_p=p)(NO_IDS, logits.clone())
    assert torch.equal(filter_top_p(logits, p), expected)


def test_top_k_keeps_ties_with_the_kth_value():
    logits = torch.tensor([[1.0, 3.0, 2.0, 2.0, 0.0]])
    kept = filter_top_k(logits, 2).isfinite()
    assert kept.tolist() == [[False, True, True, True, False]]


def test_top_p_keeps_the_token_that_crosses_p_and_at_least_one():
    probs = torch.tensor([0.05, 0.5, 0.15, 0.3])
    logits = probs.log()
    assert filter_top_p(logits, 0.6).isfinite().tolist() == [False, True, False, True]
    assert filter_top_p(logits, 0.85).isfinite().tolist() == [False, True, True, True]
    assert filter_top_p(logits, 0.01).isfinite().tolist() == [False, True, False, False]
    assert filter_top_p(logits, 1.0).isfinite().all()
    # Exactly representable probabilities 1/4, 1/2, 1/4: the top token alone reaches p = 0.5.
    exact = torch.tensor([0.0, math.log(2), 0.0])
    assert filter_top_p(exact, 0.5).isfinite().tolist() == [False, True, False]
    # With a tiny p, float rounding can make the whole sorted cumulative sum <= 1 - p; the
    # most likely token must still survive.
    many = torch.randn(1000, 50, generator=torch.Generator().manual_seed(0)) * 3
    kept = filter_top_p(many, 1e-9).isfinite()
    assert (kept.sum(-1) == 1).all() and kept.gather(1, many.argmax(-1, keepdim=True)).all()


def test_filters_work_on_any_leading_shape_and_do_not_change_their_input():
    logits = torch.randn(2, 3, 10)
    copy = logits.clone()
    assert filter_top_k(logits, 4).shape == logits.shape
    assert filter_top_p(logits, 0.5).shape == logits.shape
    assert (filter_top_k(logits, 4).isfinite().sum(-1) == 4).all()
    sample_next(logits[0], temperature=0.5, top_k=3, top_p=0.9)
    assert torch.equal(logits, copy)


def test_bad_arguments_raise_clear_errors():
    logits = torch.randn(2, 5)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        sample_next(logits, temperature=0.0)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        sample_next(logits, temperature=-1.0)
    with pytest.raises(ValueError, match="top_k"):
        filter_top_k(logits, 0)
    with pytest.raises(ValueError, match="top_p"):
        filter_top_p(logits, 0.0)
    with pytest.raises(ValueError, match="top_p"):
        filter_top_p(logits, 1.5)


def test_greedy_is_argmax():
    logits = torch.randn(16, 50, generator=torch.Generator().manual_seed(0))
    assert torch.equal(sample_next(logits, greedy=True), logits.argmax(-1))
    # Filters never remove the argmax, so they do not change the greedy choice.
    assert torch.equal(sample_next(logits, greedy=True, top_k=1, top_p=0.1), logits.argmax(-1))


def test_small_temperature_is_greedy():
    g = torch.Generator().manual_seed(1)
    # Each row is a shuffled 0, 0.01, ..., 0.29: the runner-up trails the best by 0.01, so at
    # T = 1e-4 its probability is below e^-100 and sampling must pick the argmax.
    logits = torch.stack([torch.randperm(30, generator=g) * 0.01 for _ in range(64)])
    gen = torch.Generator().manual_seed(2)
    assert torch.equal(sample_next(logits, temperature=1e-4, generator=gen), logits.argmax(-1))
    # At T = 1 the same rows are far from greedy (the control that makes this test mean something).
    assert not torch.equal(sample_next(logits, generator=gen), logits.argmax(-1))


def chi_square(counts: torch.Tensor, probs: torch.Tensor) -> float:
    expected = probs * counts.sum()
    keep = expected > 0
    assert counts[~keep].sum() == 0, "sampled a token of probability zero"
    return float(((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum())


@pytest.mark.parametrize(
    ("temperature", "top_k", "top_p"),
    [(1.0, None, None), (0.5, None, None), (2.0, None, None), (1.0, 4, None), (0.7, None, 0.8)],
)
def test_sample_frequencies_match_the_filtered_softmax(temperature, top_k, top_p):
    # 40,000 draws over 8 tokens; with a fixed generator the statistic is deterministic. The
    # bound is the chi-square critical value at significance 0.001 for (kept tokens - 1) dof.
    critical_0_001 = {1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52, 6: 22.46, 7: 24.32}
    logits = torch.tensor([2.0, 1.5, 1.0, 0.6, 0.2, -0.3, -1.0, -2.0])
    n = 40_000
    gen = torch.Generator().manual_seed(3)
    draws = sample_next(
        logits.expand(n, -1), temperature, top_k, top_p, generator=gen
    )  # (n,), one draw per row
    counts = torch.bincount(draws, minlength=8).double()
    probs = logits / temperature
    if top_k is not None:
        probs = TopKLogitsWarper(top_k)(NO_IDS, probs[None])[0]
    if top_p is not None:
        probs = TopPLogitsWarper(top_p)(NO_IDS, probs[None])[0]
    probs = probs.double().softmax(-1)
    dof = int((probs > 0).sum()) - 1
    assert chi_square(counts, probs) < critical_0_001[dof]
    # And it is not the unscaled softmax when T != 1 (the test can tell them apart).
    if temperature != 1.0:
        assert chi_square(counts, logits.double().softmax(-1)) > 100 * critical_0_001[dof]


def test_generator_makes_sampling_reproducible():
    logits = torch.randn(32, 100)
    a = sample_next(logits, generator=torch.Generator().manual_seed(7))
    b = sample_next(logits, generator=torch.Generator().manual_seed(7))
    c = sample_next(logits, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == (32,) and a.dtype == torch.long


def test_filtered_tokens_are_never_sampled():
    logits = torch.randn(2000, 20, generator=torch.Generator().manual_seed(4))
    gen = torch.Generator().manual_seed(5)
    draws = sample_next(logits, top_k=3, generator=gen)
    allowed = filter_top_k(logits, 3).isfinite()
    assert allowed.gather(1, draws[:, None]).all()
    draws = sample_next(logits, top_p=0.3, generator=gen)
    allowed = filter_top_p(logits, 0.3).isfinite()
    assert allowed.gather(1, draws[:, None]).all()
