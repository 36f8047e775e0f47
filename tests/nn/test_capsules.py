"""Capsules against a literal NumPy transcription of Sabour, Frosst & Hinton (2017).

No library ships dynamic routing, so the oracle is written here, loop by loop, from the
paper: Eq. 1 (squash), Eq. 2 (u_hat = W u, s = sum c u_hat), Eq. 3 (softmax over the
parents), Procedure 1 (b = 0; r times: c = softmax(b_i), s, v = squash(s), b += u_hat . v)
and Eq. 4 (margin loss). The vectorised torch code must match it in float64 to 1e-10 where
only the order of additions differs, and to 1e-7 after routing, where squash's eps (1e-8)
enters too. Gradients are checked by
torch.autograd.gradcheck in float64 (central differences, eps 1e-6, atol 1e-5, rtol 1e-3).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor

from groundup.nn.capsules import (
    CapsNet,
    PrimaryCapsules,
    RoutingCapsules,
    margin_loss,
    route,
    squash,
)

F64 = {"atol": 1e-10, "rtol": 1e-10}
# squash's eps (1e-8) changes |v| by |v| eps / (2 |s|^2) <= eps / 2 in absolute terms, and
# the routing passes that on through u_hat . v: routed values agree to 1e-7, not 1e-10.
ROUTED = {"atol": 1e-7, "rtol": 1e-7}
FAST = settings(max_examples=25, deadline=None)


# ---------------------------------------------------------------- the literal oracle


def squash_np(s: np.ndarray) -> np.ndarray:
    """Eq. 1 for one vector, exactly as printed (0 for the zero vector)."""
    norm2 = float(np.dot(s, s))
    if norm2 == 0.0:
        return np.zeros_like(s)
    return norm2 / (1.0 + norm2) * s / np.sqrt(norm2)


def routing_np(u_hat: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Procedure 1 for one example: u_hat[i, j] is the prediction of child i for parent j.

    Returns v (n_out, d) and the c (n_in, n_out) used in the last iteration."""
    n_in, n_out, d = u_hat.shape
    b = np.zeros((n_in, n_out))
    for _ in range(r):
        c = np.zeros((n_in, n_out))
        for i in range(n_in):  # c_i = softmax(b_i), over the parents j
            e = np.exp(b[i] - b[i].max())
            c[i] = e / e.sum()
        v = np.zeros((n_out, d))
        for j in range(n_out):
            s_j = np.zeros(d)
            for i in range(n_in):
                s_j += c[i, j] * u_hat[i, j]
            v[j] = squash_np(s_j)
        for i in range(n_in):
            for j in range(n_out):
                b[i, j] += np.dot(u_hat[i, j], v[j])
    return v, c


def margin_loss_np(lengths: np.ndarray, targets: np.ndarray) -> float:
    """Eq. 4 with m+ = 0.9, m- = 0.1, lambda = 0.5, summed over k, averaged over examples."""
    total = 0.0
    for n in range(lengths.shape[0]):
        for k in range(lengths.shape[1]):
            t = 1.0 if targets[n] == k else 0.0
            total += t * max(0.0, 0.9 - lengths[n, k]) ** 2
            total += 0.5 * (1.0 - t) * max(0.0, lengths[n, k] - 0.1) ** 2
    return total / lengths.shape[0]


def randn(seed: int, *shape: int, scale: float = 1.0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=torch.float64)


# ---------------------------------------------------------------- squash


@FAST
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    scale=st.sampled_from([0.01, 0.3, 1.0, 5.0]),
    seed=st.integers(0, 2**16),
)
def test_matches_literal_squash_on_random_vectors(
    shape: list[int], scale: float, seed: int
) -> None:
    s = randn(seed, *shape, scale=scale)
    expected = np.apply_along_axis(squash_np, -1, s.numpy())
    torch.testing.assert_close(squash(s, eps=0.0), torch.from_numpy(expected), **F64)


def test_squash_along_another_axis() -> None:
    s = randn(0, 4, 3, 5)
    moved = squash(s.transpose(1, 2), dim=1).transpose(1, 2)
    torch.testing.assert_close(moved, squash(s), **F64)


def test_squash_closed_form_and_properties() -> None:
    directions = F.normalize(randn(1, 200, 6), dim=-1)
    s = directions * torch.logspace(-3, 2, 200, dtype=torch.float64)[:, None]  # |s| grows
    v = squash(s, eps=0.0)
    norm_s, norm_v = s.norm(dim=-1), v.norm(dim=-1)
    torch.testing.assert_close(norm_v, norm_s**2 / (1 + norm_s**2), **F64)
    assert (norm_v < 1).all() and (norm_v > 0).all()
    cosine = (s * v).sum(-1) / (norm_s * norm_v)
    torch.testing.assert_close(cosine, torch.ones_like(cosine), atol=1e-12, rtol=0)  # direction
    assert (norm_v.diff() > 0).all()  # longer in, longer out
    assert norm_v[0] < 1e-5 and norm_v[-1] > 0.999  # short vectors vanish, long ones near 1


def test_squash_default_eps_changes_the_length_by_at_most_eps_over_2_norm_squared() -> None:
    s = randn(2, 500, 4) * torch.logspace(-3, 1, 500, dtype=torch.float64)[:, None]
    exact, ours = squash(s, eps=0.0).norm(dim=-1), squash(s).norm(dim=-1)
    bound = 1e-8 / (2 * s.norm(dim=-1) ** 2)  # sqrt(x + eps) = sqrt(x) (1 + eps / 2x + ...)
    assert ((exact - ours).abs() <= bound * exact * 1.01).all()


def test_squash_of_a_zero_vector_is_zero_with_a_zero_gradient() -> None:
    for dtype in (torch.float32, torch.float64):
        s = torch.zeros(3, 8, dtype=dtype, requires_grad=True)
        v = squash(s)
        (v * torch.ones_like(v)).sum().backward()
        assert torch.equal(v.detach(), torch.zeros_like(v))
        assert torch.equal(s.grad, torch.zeros_like(s))  # finite, and the true derivative
    # The pitfall: without eps the same backward pass returns NaN.
    s = torch.zeros(1, 8, dtype=torch.float64, requires_grad=True)
    squash(s, eps=0.0).sum().backward()
    assert torch.isnan(s.grad).all()


def test_squash_gradcheck() -> None:
    s = randn(3, 5, 4).requires_grad_()
    assert torch.autograd.gradcheck(squash, (s,))
    tiny = randn(4, 5, 4, scale=1e-3).requires_grad_()  # near zero, where eps matters most
    assert torch.autograd.gradcheck(squash, (tiny,))


# ---------------------------------------------------------------- routing


@FAST
@given(
    batch=st.integers(1, 3),
    n_in=st.integers(1, 6),
    n_out=st.integers(1, 5),
    d=st.integers(1, 4),
    iterations=st.integers(1, 5),
    scale=st.sampled_from([0.1, 1.0, 3.0]),
    seed=st.integers(0, 2**16),
)
def test_matches_literal_procedure_1(
    batch: int, n_in: int, n_out: int, d: int, iterations: int, scale: float, seed: int
) -> None:
    u_hat = randn(seed, batch, n_in, n_out, d, scale=scale)
    v, c = route(u_hat, iterations)
    for n in range(batch):
        v_np, c_np = routing_np(u_hat[n].numpy(), iterations)
        torch.testing.assert_close(v[n], torch.from_numpy(v_np), **ROUTED)
        torch.testing.assert_close(c[n], torch.from_numpy(c_np), **ROUTED)


def test_coupling_coefficients_are_a_distribution_over_the_parents() -> None:
    u_hat = randn(5, 3, 9, 6, 4, scale=2.0)
    for iterations in (1, 2, 3, 5):
        _, c = route(u_hat, iterations)
        assert c.shape == (3, 9, 6) and (c > 0).all()
        torch.testing.assert_close(c.sum(dim=2), torch.ones(3, 9, dtype=torch.float64), **F64)
    # one iteration: no agreement yet, every child splits itself evenly
    _, c = route(u_hat, 1)
    torch.testing.assert_close(c, torch.full_like(c, 1 / 6), **F64)


def test_routing_moves_coupling_towards_agreeing_parents() -> None:
    # Parent 0 gets the same prediction from every child; parent 1 gets scattered ones.
    agree = torch.ones(1, 6, 1, 4, dtype=torch.float64)
    scatter = randn(6, 1, 6, 1, 4)
    u_hat = torch.cat([agree, scatter], dim=2)
    couplings = [route(u_hat, r)[1][0, :, 0].mean().item() for r in (1, 2, 3, 4)]
    assert couplings[0] == pytest.approx(0.5)
    assert all(a < b for a, b in zip(couplings, couplings[1:], strict=False))


@pytest.mark.parametrize("iterations", [1, 2, 3])
def test_routing_gradcheck(iterations: int) -> None:
    u_hat = randn(20 + iterations, 2, 4, 3, 3).requires_grad_()
    assert torch.autograd.gradcheck(lambda u: route(u, iterations), (u_hat,))


def test_detached_agreement_keeps_values_and_treats_the_coupling_as_constant() -> None:
    u_hat = randn(7, 2, 5, 4, 3)
    upstream = randn(8, 2, 4, 3)

    def grad(detach: bool, iterations: int) -> Tensor:
        leaf = u_hat.clone().requires_grad_()
        v, _ = route(leaf, iterations, detach_agreement=detach)
        return torch.autograd.grad(v, leaf, upstream)[0]

    for iterations in (1, 3):
        full, stopped = route(u_hat, iterations), route(u_hat, iterations, detach_agreement=True)
        torch.testing.assert_close(stopped[0], full[0], atol=0, rtol=0)  # same forward pass
    # one iteration never reads the agreement, so both give the same gradient ...
    torch.testing.assert_close(grad(True, 1), grad(False, 1), atol=0, rtol=0)
    # ... three do, and the detached gradient is that of v = squash(sum_i c_ij u_hat) with
    # c held fixed: not the derivative of the routed function, which gradcheck confirms.
    _, c_fixed = route(u_hat, 3)
    leaf = u_hat.clone().requires_grad_()
    v = squash(torch.einsum("nij,nijd->njd", c_fixed, leaf))
    fixed_grad = torch.autograd.grad(v, leaf, upstream)[0]
    torch.testing.assert_close(grad(True, 3), fixed_grad, **F64)
    assert (grad(True, 3) - grad(False, 3)).abs().max() > 1e-3
    leaf = u_hat.clone().requires_grad_()
    detached = torch.autograd.gradcheck(
        lambda u: route(u, 3, detach_agreement=True)[0], (leaf,), raise_exception=False
    )
    assert not detached


def test_routing_needs_an_iteration() -> None:
    with pytest.raises(ValueError, match="at least one"):
        route(torch.zeros(1, 2, 3, 4), 0)


# ---------------------------------------------------------------- margin loss


def test_margin_loss_matches_literal_formula_and_torch_ops() -> None:
    for seed, (n, k) in enumerate([(1, 2), (5, 10), (16, 4)]):
        lengths = torch.rand(n, k, generator=torch.Generator().manual_seed(seed)).double()
        targets = torch.randint(0, k, (n,), generator=torch.Generator().manual_seed(seed))
        got = margin_loss(lengths, targets)
        assert got.shape == ()
        expected_np = margin_loss_np(lengths.numpy(), targets.numpy())
        assert got.item() == pytest.approx(expected_np, rel=1e-12, abs=1e-14)
        t = F.one_hot(targets, k).double()
        from_torch = (
            (
                t * torch.clamp(0.9 - lengths, min=0) ** 2
                + 0.5 * (1 - t) * torch.clamp(lengths - 0.1, min=0) ** 2
            )
            .sum(1)
            .mean()
        )
        torch.testing.assert_close(got, from_torch, **F64)


def test_margin_loss_is_zero_beyond_the_margins_and_weights_absent_classes() -> None:
    targets = torch.tensor([0, 2])
    good = torch.tensor([[0.95, 0.05, 0.1], [0.0, 0.1, 0.91]])
    assert margin_loss(good, targets).item() == 0.0
    # present class short by 0.4: 0.16; one absent class long by 0.4: 0.5 * 0.16
    assert margin_loss(torch.tensor([[0.5, 0.1]]), torch.tensor([0])).item() == pytest.approx(0.16)
    assert margin_loss(torch.tensor([[0.9, 0.5]]), torch.tensor([0])).item() == pytest.approx(0.08)
    assert margin_loss(
        torch.tensor([[0.5, 0.5]]), torch.tensor([1]), m_plus=0.8, m_minus=0.2, lam=1.0
    ).item() == pytest.approx(0.09 + 0.09)


def test_margin_loss_gradcheck() -> None:
    # lengths kept away from the kinks at 0.1 and 0.9, where max(0, .)^2 is not twice smooth
    lengths = torch.tensor(
        [[0.05, 0.3, 0.95, 0.5], [0.7, 0.2, 0.02, 0.6], [0.4, 0.85, 0.15, 0.99]],
        dtype=torch.float64,
        requires_grad=True,
    )
    targets = torch.tensor([1, 0, 3])
    assert torch.autograd.gradcheck(lambda x: margin_loss(x, targets), (lengths,))


# ---------------------------------------------------------------- layers


def test_predictions_match_a_loop_over_pairs() -> None:
    layer = RoutingCapsules(n_in=5, d_in=3, n_out=4, d_out=2).double()
    u = randn(30, 2, 5, 3)
    u_hat = layer.predictions(u)
    assert u_hat.shape == (2, 5, 4, 2)
    for n in range(2):
        for i in range(5):
            for j in range(4):
                expected = layer.weight[i, j].detach() @ u[n, i]  # Eq. 2: W_ij u_i
                torch.testing.assert_close(u_hat[n, i, j].detach(), expected, **F64)


def test_primary_capsules_cut_a_convolution_into_squashed_vectors() -> None:
    layer = PrimaryCapsules(in_channels=3, types=2, dim=4, kernel_size=3, stride=2).double()
    x = randn(31, 2, 3, 7, 7)
    u = layer(x).detach()
    conv = F.conv2d(x, layer.conv.weight.detach(), layer.conv.bias.detach(), stride=2)
    _, _, h, w = conv.shape
    assert u.shape == (2, 2 * h * w, 4)
    for n in range(2):
        for t in range(2):
            for y in range(h):
                for xx in range(w):
                    vector = conv[n, t * 4 : (t + 1) * 4, y, xx].numpy()
                    expected = torch.from_numpy(squash_np(vector))
                    torch.testing.assert_close(
                        u[n, t * h * w + y * w + xx], expected, atol=1e-7, rtol=1e-6
                    )


def test_capsnet_shapes_lengths_and_masked_decoder() -> None:
    torch.manual_seed(0)
    model = CapsNet(size=8, channels=8, primary_types=2, primary_dim=4, class_dim=6)
    x = torch.rand(3, 1, 8, 8)
    v, c = model.capsules(x)
    assert v.shape == (3, 10, 6) and c.shape == (3, 2 * 4 * 4, 10)
    assert (v.norm(dim=-1) < 1).all()
    labels = torch.tensor([1, 4, 9])
    recon = model.reconstruct(v, labels)
    assert recon.shape == (3, 64) and ((recon >= 0) & (recon <= 1)).all()
    # the decoder sees only the chosen capsule: changing the others changes nothing
    other = v.clone()
    other[:, 0] += 1.0
    torch.testing.assert_close(model.reconstruct(other, labels), recon)
    assert CapsNet(size=8, decoder=False).decoder is None
