"""The GAN losses against torch's binary cross-entropy, and one training step's bookkeeping.

Tolerances: float64 inputs, atol = rtol = 1e-10 (only rounding differs). The extreme-logit
cases use float32 logits of +-100, where a loss built from sigmoid and log returns inf.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.models.gan import (
    Discriminator,
    Generator,
    discriminator_loss,
    generator_loss,
    saturating_generator_loss,
    train_step,
)

TOL = {"atol": 1e-10, "rtol": 1e-10}


def logits(seed: int, n: int, scale: float = 3.0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    real = (scale * torch.randn(n, generator=g, dtype=torch.float64)).requires_grad_()
    fake = (scale * torch.randn(n, generator=g, dtype=torch.float64)).requires_grad_()
    return real, fake


def bce(x: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, target))


def assert_same_values_and_grads(ours, theirs, inputs) -> None:
    torch.testing.assert_close(ours, theirs, **TOL)
    for a, b in zip(
        torch.autograd.grad(ours, inputs), torch.autograd.grad(theirs, inputs), strict=True
    ):
        torch.testing.assert_close(a, b, **TOL)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 10_000), scale=st.sampled_from([0.5, 3.0, 30.0]))
def test_matches_bce_with_logits_discriminator_loss(n, seed, scale) -> None:
    real, fake = logits(seed, n, scale)
    theirs = bce(real, 1.0) + bce(fake, 0.0)
    assert_same_values_and_grads(discriminator_loss(real, fake), theirs, (real, fake))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 10_000), scale=st.sampled_from([0.5, 3.0, 30.0]))
def test_matches_bce_with_logits_generator_losses(n, seed, scale) -> None:
    _, fake = logits(seed, n, scale)
    assert_same_values_and_grads(generator_loss(fake), bce(fake, 1.0), (fake,))
    assert_same_values_and_grads(saturating_generator_loss(fake), -bce(fake, 0.0), (fake,))


def test_losses_stay_finite_at_confident_logits() -> None:
    real = torch.tensor([100.0, -100.0, 50.0], requires_grad=True)
    fake = torch.tensor([-100.0, 100.0, 0.0], requires_grad=True)
    for ours, theirs in [
        (discriminator_loss(real, fake), bce(real, 1.0) + bce(fake, 0.0)),
        (generator_loss(fake), bce(fake, 1.0)),
    ]:
        assert torch.isfinite(ours)
        torch.testing.assert_close(ours, theirs)
    naive = -(torch.log(torch.sigmoid(real)) + torch.log(1 - torch.sigmoid(fake))).mean()
    assert not torch.isfinite(naive)  # what the softplus form avoids


def test_non_saturating_loss_keeps_its_gradient_where_the_minimax_loss_loses_it() -> None:
    """Early in training D rejects fakes: logit -8, D(G(z)) = 0.0003."""
    fake = torch.tensor([-8.0], dtype=torch.float64, requires_grad=True)
    (steep,) = torch.autograd.grad(generator_loss(fake), fake)
    (flat,) = torch.autograd.grad(saturating_generator_loss(fake), fake)
    # d/dx -log sigmoid(x) = sigmoid(x) - 1;  d/dx log(1 - sigmoid(x)) = -sigmoid(x)
    torch.testing.assert_close(steep, torch.sigmoid(fake.detach()) - 1, **TOL)
    torch.testing.assert_close(flat, -torch.sigmoid(fake.detach()), **TOL)
    assert steep.abs() > 1000 * flat.abs()
    # Both push the logit up (a negative gradient), and both losses fall as D is fooled.
    assert steep < 0 and flat < 0


def test_train_step_moves_each_network_only_by_its_own_loss() -> None:
    torch.manual_seed(0)
    gen, disc = Generator(4, 16, 9), Discriminator(9, 16)
    opt_g = torch.optim.SGD(gen.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(disc.parameters(), lr=0.1)
    real = torch.rand(8, 9)
    g_before = [p.detach().clone() for p in gen.parameters()]
    d_before = [p.detach().clone() for p in disc.parameters()]
    noise = torch.Generator().manual_seed(1)
    stats = train_step(gen, disc, opt_g, opt_d, real, noise)

    # Redo D's step by hand from the same start: the fakes must not carry G's graph, and
    # D's update must come from the discriminator loss alone.
    torch.manual_seed(0)
    gen2, disc2 = Generator(4, 16, 9), Discriminator(9, 16)
    fake = gen2(gen2.noise(8, torch.Generator().manual_seed(1))).detach()
    d_loss = discriminator_loss(disc2(real), disc2(fake))
    d_grads = torch.autograd.grad(d_loss, list(disc2.parameters()))
    for before, after, grad in zip(d_before, disc.parameters(), d_grads, strict=True):
        torch.testing.assert_close(after.detach(), before - 0.1 * grad)
    assert abs(stats.d_loss - d_loss.item()) < 1e-6

    # G's step goes through the updated D and changes G by the generator loss alone.
    z = gen2.noise(8, torch.Generator().manual_seed(1))
    g_grads = torch.autograd.grad(generator_loss(disc(gen2(z))), list(gen2.parameters()))
    for before, after, grad in zip(g_before, gen.parameters(), g_grads, strict=True):
        torch.testing.assert_close(after.detach(), before - 0.1 * grad)
    assert any(grad.abs().max() > 0 for grad in g_grads)
    assert 0 < stats.d_real < 1 and 0 < stats.d_fake < 1


def test_generator_makes_images_in_the_unit_interval() -> None:
    gen = Generator(latent=5, hidden=8, n_out=64)
    images = gen(gen.noise(6, torch.Generator().manual_seed(0)))
    assert images.shape == (6, 64) and images.min() >= 0 and images.max() <= 1
    assert Discriminator(64, 8)(images).shape == (6,)
