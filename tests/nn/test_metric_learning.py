"""Metric learning against its references: torch.cdist and F.pairwise_distance for distances,
torch.nn.TripletMarginLoss for the triplet loss, a formula from torch.nn.functional ops and a
plain scalar loop for the contrastive loss, and a brute-force loop over every triplet for
batch-hard mining. Values and gradients, float64, random inputs.

Tolerances: atol 1e-12, rtol 1e-10 in float64 (the formulas agree term by term, only the
order of additions differs); torch.cdist's matrix-product mode for p = 2 is compared at
atol 1e-5 in float32, since it cancels digits by design.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.nn.metric_learning import (
    EmbeddingNet,
    batch_hard_triplet_loss,
    best_threshold,
    contrastive_loss,
    distance,
    distance_matrix,
    hardest_triplets,
    lp_norm,
    sample_pairs,
    sample_pk_batch,
    sample_triplets,
    triplet_margin_loss,
    verification_accuracy,
)

TOL = {"atol": 1e-12, "rtol": 1e-10}
NORMS = [1.0, 2.0, 3.0, math.inf]


def randn(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)


def grads(out: torch.Tensor, inputs: tuple[torch.Tensor, ...], g: torch.Generator):
    """Gradients of <out, random upstream> so every output element matters."""
    upstream = torch.randn(out.shape, generator=g, dtype=out.dtype)
    return torch.autograd.grad(out, inputs, upstream)


def assert_all_close(ours, theirs) -> None:
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, **TOL)


# ---------------------------------------------------------------- distances


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 9),
    d=st.integers(1, 7),
    p=st.sampled_from(NORMS),
    eps=st.sampled_from([0.0, 1e-6, 1e-2]),
    seed=st.integers(0, 2**16),
)
def test_matches_pairwise_distance_values_and_gradients(n, d, p, eps, seed) -> None:
    g = torch.Generator().manual_seed(seed)
    x1, x2 = randn(g, n, d), randn(g, n, d)
    ours, theirs = distance(x1, x2, p, eps), F.pairwise_distance(x1, x2, p, eps)
    torch.testing.assert_close(ours, theirs, **TOL)
    upstream = torch.randn(n, generator=g, dtype=torch.float64)
    assert_all_close(
        torch.autograd.grad(ours, (x1, x2), upstream),
        torch.autograd.grad(theirs, (x1, x2), upstream),
    )


def test_distance_adds_eps_like_torch() -> None:
    x = torch.zeros(2, 16, dtype=torch.float64)
    torch.testing.assert_close(distance(x, x), torch.full((2,), 4e-6, dtype=torch.float64))
    torch.testing.assert_close(distance(x, x), F.pairwise_distance(x, x))
    assert distance(x, x, eps=0.0).eq(0).all()


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 8),
    m=st.integers(1, 8),
    d=st.integers(1, 6),
    p=st.sampled_from(NORMS),
    seed=st.integers(0, 2**16),
)
def test_matches_cdist_values_and_gradients(n, m, d, p, seed) -> None:
    g = torch.Generator().manual_seed(seed)
    x, y = randn(g, n, d), randn(g, m, d)
    ours = distance_matrix(x, y, p)
    theirs = torch.cdist(x, y, p, compute_mode="donot_use_mm_for_euclid_dist")
    torch.testing.assert_close(ours, theirs, **TOL)
    assert_all_close(
        grads(ours, (x, y), torch.Generator().manual_seed(seed + 1)),
        grads(theirs, (x, y), torch.Generator().manual_seed(seed + 1)),
    )


def test_matches_cdist_of_a_set_with_itself_zero_diagonal_and_finite_gradient() -> None:
    # The diagonal is an exact 0: the root's slope is infinite there, torch gives gradient 0.
    g = torch.Generator().manual_seed(3)
    for p in NORMS:
        x = randn(g, 6, 4)
        ours = distance_matrix(x, p=p)
        theirs = torch.cdist(x, x, p, compute_mode="donot_use_mm_for_euclid_dist")
        assert ours.diagonal().eq(0).all()
        torch.testing.assert_close(ours, theirs, **TOL)
        mine = torch.autograd.grad(ours.sum(), x)[0]
        assert torch.isfinite(mine).all()
        torch.testing.assert_close(mine, torch.autograd.grad(theirs.sum(), x)[0], **TOL)


def test_matches_cdist_matrix_product_mode_in_float32_loosely() -> None:
    g = torch.Generator().manual_seed(4)
    x = torch.randn(40, 16, generator=g)
    y = torch.randn(30, 16, generator=g)
    # Above 25 rows torch.cdist uses |x|^2 + |y|^2 - 2 x.y, which cancels digits.
    torch.testing.assert_close(distance_matrix(x, y), torch.cdist(x, y), atol=1e-5, rtol=1e-5)


def test_lp_norm_rejects_p_below_one() -> None:
    with pytest.raises(ValueError, match="p must be >= 1"):
        lp_norm(torch.ones(3), 0.5)


# ---------------------------------------------------------------- triplet loss


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 8),
    d=st.integers(1, 6),
    margin=st.sampled_from([0.1, 1.0, 2.5]),
    p=st.sampled_from(NORMS),
    eps=st.sampled_from([0.0, 1e-6, 1e-2]),
    swap=st.booleans(),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    seed=st.integers(0, 2**16),
)
def test_matches_triplet_margin_loss_values_and_gradients(
    n, d, margin, p, eps, swap, reduction, seed
) -> None:
    g = torch.Generator().manual_seed(seed)
    a, pos, neg = randn(g, n, d), randn(g, n, d), randn(g, n, d)
    module = torch.nn.TripletMarginLoss(margin, p, eps, swap, reduction=reduction)
    ours = triplet_margin_loss(a, pos, neg, margin, p, eps, swap, reduction)
    theirs = module(a, pos, neg)
    torch.testing.assert_close(ours, theirs, **TOL)
    assert_all_close(
        grads(ours, (a, pos, neg), torch.Generator().manual_seed(seed + 1)),
        grads(theirs, (a, pos, neg), torch.Generator().manual_seed(seed + 1)),
    )


def test_triplet_swap_uses_the_harder_negative() -> None:
    # The negative is far from the anchor but close to the positive: only swap sees it.
    a = torch.tensor([[0.0, 0.0]])
    pos = torch.tensor([[1.0, 0.0]])
    neg = torch.tensor([[1.5, 0.0]])
    plain = triplet_margin_loss(a, pos, neg, margin=0.2, eps=0.0)
    swapped = triplet_margin_loss(a, pos, neg, margin=0.2, eps=0.0, swap=True)
    assert plain.item() == 0.0  # 1 - 1.5 + 0.2 < 0
    assert swapped.item() == pytest.approx(1.0 - 0.5 + 0.2)


def test_triplet_margin_must_be_positive() -> None:
    x = torch.zeros(1, 2)
    with pytest.raises(ValueError, match="margin"):
        triplet_margin_loss(x, x, x, margin=0.0)


# ---------------------------------------------------------------- contrastive loss


def contrastive_from_functional(x1, x2, same, margin, reduction="mean"):
    d = F.pairwise_distance(x1, x2, eps=0.0)
    loss = 0.5 * (same * d.pow(2) + (1 - same) * F.relu(margin - d).pow(2))
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 10),
    d=st.integers(1, 6),
    margin=st.sampled_from([0.5, 1.0, 3.0]),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    seed=st.integers(0, 2**16),
)
def test_matches_functional_contrastive_values_and_gradients(n, d, margin, reduction, seed) -> None:
    g = torch.Generator().manual_seed(seed)
    x1, x2 = randn(g, n, d), randn(g, n, d)
    same = torch.randint(0, 2, (n,), generator=g).double()
    ours = contrastive_loss(x1, x2, same, margin, reduction)
    theirs = contrastive_from_functional(x1, x2, same, margin, reduction)
    torch.testing.assert_close(ours, theirs, **TOL)
    assert_all_close(
        grads(ours, (x1, x2), torch.Generator().manual_seed(seed)),
        grads(theirs, (x1, x2), torch.Generator().manual_seed(seed)),
    )


def test_matches_scalar_loop_contrastive_in_hadsell_convention() -> None:
    # Hadsell et al. write Y = 0 for similar pairs: L = (1-Y) D^2 / 2 + Y max(0, m - D)^2 / 2.
    g = torch.Generator().manual_seed(7)
    x1, x2 = torch.randn(12, 3, generator=g).double(), torch.randn(12, 3, generator=g).double()
    same = torch.randint(0, 2, (12,), generator=g).double()
    margin = 2.0
    total = 0.0
    for a, b, s in zip(x1.tolist(), x2.tolist(), same.tolist(), strict=True):
        big_y = 1 - s
        dist = math.sqrt(sum((u - v) ** 2 for u, v in zip(a, b, strict=True)))
        total += (1 - big_y) * dist**2 / 2 + big_y * max(0.0, margin - dist) ** 2 / 2
    assert contrastive_loss(x1, x2, same, margin).item() == pytest.approx(total / 12, rel=1e-12)


def test_contrastive_ignores_different_pairs_beyond_the_margin() -> None:
    x1 = torch.zeros(2, 2, requires_grad=True)
    x2 = torch.tensor([[3.0, 0.0], [0.0, 0.5]])
    loss = contrastive_loss(x1, x2, torch.zeros(2), margin=1.0, reduction="none")
    torch.testing.assert_close(loss, torch.tensor([0.0, 0.5 * 0.5**2]))
    loss.sum().backward()
    assert x1.grad[0].eq(0).all() and x1.grad[1].abs().sum() > 0


def test_contrastive_gradient_is_finite_for_identical_points() -> None:
    x = torch.ones(3, 4, requires_grad=True)
    loss = contrastive_loss(x, x.detach().clone(), torch.tensor([1.0, 0.0, 0.0]))
    loss.backward()
    assert torch.isfinite(x.grad).all()


# ---------------------------------------------------------------- batch-hard mining


def brute_force_batch_hard(embeddings, labels, margin, p):
    """For each anchor, the largest triplet loss over every valid (positive, negative)."""
    n = len(labels)
    losses = []
    for a in range(n):
        worst = None
        for pos, neg in itertools.product(range(n), range(n)):
            if pos == a or labels[pos] != labels[a] or labels[neg] == labels[a]:
                continue
            loss = F.relu(
                margin
                + torch.linalg.vector_norm(embeddings[a] - embeddings[pos], ord=p)
                - torch.linalg.vector_norm(embeddings[a] - embeddings[neg], ord=p)
            )
            if worst is None or loss.item() > worst.item():
                worst = loss
        if worst is not None:
            losses.append(worst)
    return torch.stack(losses).mean()


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(3, 9),
    classes=st.integers(2, 4),
    p=st.sampled_from([1.0, 2.0]),
    margin=st.sampled_from([0.2, 1.0, 5.0]),
    seed=st.integers(0, 2**16),
)
def test_matches_brute_force_batch_hard_values_and_gradients(n, classes, p, margin, seed) -> None:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (n,), generator=g)
    labels[:3] = torch.tensor([0, 0, 1])  # at least one valid anchor; singletons may remain
    x = randn(g, n, 3)
    ours = batch_hard_triplet_loss(x, labels, margin, p)
    theirs = brute_force_batch_hard(x, labels.tolist(), margin, p)
    torch.testing.assert_close(ours, theirs, **TOL)
    assert_all_close(torch.autograd.grad(ours, x), torch.autograd.grad(theirs, x))


def test_hardest_triplets_skip_singletons_and_never_pick_the_anchor() -> None:
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    x = torch.tensor([[0.0], [1.0], [5.0], [2.0], [4.0], [9.0]])
    anchor, positive, negative = hardest_triplets(distance_matrix(x), labels)
    assert anchor.tolist() == [0, 1, 3, 4, 5]  # 2 is alone in its class
    assert positive.tolist() == [1, 0, 5, 5, 3]  # the farthest of the own class
    assert negative.tolist() == [3, 3, 1, 2, 2]  # the nearest of another class


def test_batch_hard_without_valid_anchor_is_zero_and_attached() -> None:
    x = torch.randn(3, 4, requires_grad=True)
    loss = batch_hard_triplet_loss(x, torch.tensor([0, 1, 2]))
    assert loss.item() == 0.0
    loss.backward()
    assert x.grad is not None and x.grad.eq(0).all()


# ---------------------------------------------------------------- sampling


@settings(max_examples=20, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5).filter(lambda s: max(s) >= 2),
    count=st.integers(1, 60),
    seed=st.integers(0, 2**16),
)
def test_pairs_and_triplets_obey_their_labels(sizes, count, seed) -> None:
    labels = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    labels = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))]
    g = torch.Generator().manual_seed(seed)
    first, second, same = sample_pairs(labels, count, g)
    assert len(first) == len(second) == len(same) == count
    assert same.sum().item() == round(count / 2)
    assert ((labels[first] == labels[second]).float() == same).all()
    assert (first != second).all()
    anchor, positive, negative = sample_triplets(labels, count, g)
    assert (labels[anchor] == labels[positive]).all() and (anchor != positive).all()
    assert (labels[anchor] != labels[negative]).all()


def test_pair_partners_are_uniform() -> None:
    # Class 0 has four members: a positive partner of index 0 is 1, 2 or 3, each a third.
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 2])
    g = torch.Generator().manual_seed(0)
    anchor, positive, negative = sample_triplets(labels, 30000, g)
    picked = positive[anchor == 0]
    shares = torch.bincount(picked, minlength=4)[1:4].double() / len(picked)
    torch.testing.assert_close(
        shares, torch.full((3,), 1 / 3, dtype=torch.float64), atol=0.02, rtol=0
    )
    others = negative[labels[anchor] == 0]
    shares = torch.bincount(others, minlength=7)[4:].double() / len(others)
    torch.testing.assert_close(
        shares, torch.full((3,), 1 / 3, dtype=torch.float64), atol=0.02, rtol=0
    )


def test_sampling_needs_two_classes_and_a_pair() -> None:
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="two classes"):
        sample_pairs(torch.zeros(5, dtype=torch.long), 4, g)
    with pytest.raises(ValueError, match="two classes"):
        sample_triplets(torch.arange(5), 4, g)


def test_pk_batch_has_p_classes_of_k_distinct_examples() -> None:
    labels = torch.arange(50) % 5
    batch = sample_pk_batch(labels, 3, 4, torch.Generator().manual_seed(1))
    assert len(batch) == 12 and len(set(batch.tolist())) == 12
    counts = torch.bincount(labels[batch], minlength=5)
    assert sorted(counts.tolist()) == [0, 0, 4, 4, 4]


# ---------------------------------------------------------------- network and verification


def test_embedding_net_shapes_and_unit_length() -> None:
    torch.manual_seed(0)
    x = torch.rand(5, 1, 8, 8)
    z = EmbeddingNet(dim=6, channels=4, hidden=10)(x)
    assert z.shape == (5, 6)
    torch.testing.assert_close(z.norm(dim=1), torch.ones(5))
    raw = EmbeddingNet(dim=6, channels=4, hidden=10, normalize=False)(x)
    assert raw.shape == (5, 6) and not torch.allclose(raw.norm(dim=1), torch.ones(5))


@settings(max_examples=30, deadline=None)
@given(
    distances=st.lists(st.integers(0, 12), min_size=1, max_size=25),
    seed=st.integers(0, 2**16),
)
def test_best_threshold_is_as_good_as_any(distances, seed) -> None:
    d = np.array(distances, dtype=np.float64) / 4  # ties on purpose
    same = np.random.default_rng(seed).random(len(d)) < 0.5
    threshold, accuracy = best_threshold(d, same)
    candidates = np.r_[d - 1e-9, d, d.max() + 1]
    best = max(verification_accuracy(d, same, t) for t in candidates)
    assert accuracy == pytest.approx(best)
    assert verification_accuracy(d, same, threshold) == pytest.approx(accuracy)


def test_best_threshold_separates_separable_pairs_midway() -> None:
    threshold, accuracy = best_threshold(np.array([0.1, 0.9, 0.3, 0.5]), np.array([1, 0, 1, 0]))
    assert (threshold, accuracy) == (pytest.approx(0.4), 1.0)
