"""Autoencoders and the VAE against torch.distributions, torch's BCE and scikit-learn's PCA.

Tolerances: float64 throughout; the closed forms match torch.distributions to 1e-10 (only
the order of operations differs). The linear autoencoder is trained, so it matches PCA only
as far as the optimiser converged: on 300 digits after 400 L-BFGS iterations the largest
principal angle to PCA's subspace must be below 5e-3 rad (measured 3e-4; 7e-4 after 300
iterations) and the reconstruction error within 1e-4 of PCA's.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import subspace_angles
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from groundup.labs.runner import one_torch_thread
from groundup.models.autoencoder import (
    VAE,
    Autoencoder,
    corrupt,
    gaussian_kl,
    latent_grid,
    reconstruct,
    reconstruction_loss,
    reparameterize,
    vae_loss,
)

TOL = {"atol": 1e-10, "rtol": 1e-10}
shapes = st.tuples(st.integers(1, 6), st.integers(1, 5))


def gaussian_params(seed: int, shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(shape, generator=g, dtype=torch.float64).requires_grad_()
    logvar = (2 * torch.randn(shape, generator=g, dtype=torch.float64)).requires_grad_()
    return mu, logvar


def grads(out: torch.Tensor, inputs: tuple[torch.Tensor, ...], seed: int) -> tuple:
    upstream = torch.randn(
        out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype
    )
    return torch.autograd.grad(out, inputs, upstream)


@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 10_000))
def test_matches_torch_distributions_kl_values_and_gradients(shape, seed) -> None:
    mu, logvar = gaussian_params(seed, shape)
    ours = gaussian_kl(mu, logvar)
    q, prior = Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros_like(mu), 1.0)
    theirs = kl_divergence(q, prior).sum(-1)
    torch.testing.assert_close(ours, theirs, **TOL)
    for a, b in zip(
        grads(ours, (mu, logvar), seed), grads(theirs, (mu, logvar), seed), strict=True
    ):
        torch.testing.assert_close(a, b, **TOL)


@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 10_000))
def test_matches_normal_rsample_under_the_same_noise(shape, seed) -> None:
    mu, logvar = gaussian_params(seed, shape)
    torch.manual_seed(seed)
    ours = reparameterize(mu, logvar)  # draws its own eps with randn_like
    torch.manual_seed(seed)
    theirs = Normal(mu, torch.exp(0.5 * logvar)).rsample()
    torch.testing.assert_close(ours, theirs, **TOL)
    for a, b in zip(
        grads(ours, (mu, logvar), seed), grads(theirs, (mu, logvar), seed), strict=True
    ):
        torch.testing.assert_close(a, b, **TOL)


def test_reparameterized_gradients_are_one_and_half_sigma_eps() -> None:
    mu, logvar = gaussian_params(1, (4, 3))
    eps = torch.randn(4, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    d_mu, d_logvar = torch.autograd.grad(reparameterize(mu, logvar, eps).sum(), (mu, logvar))
    torch.testing.assert_close(d_mu, torch.ones_like(mu), **TOL)
    torch.testing.assert_close(d_logvar, 0.5 * torch.exp(0.5 * logvar.detach()) * eps, **TOL)


def test_reparameterized_samples_have_the_right_mean_and_variance() -> None:
    n = 200_000
    mu = torch.tensor([-1.0, 0.0, 2.5], dtype=torch.float64)
    logvar = torch.tensor([0.0, -2.0, 1.5], dtype=torch.float64)
    torch.manual_seed(0)
    z = reparameterize(mu.expand(n, 3), logvar.expand(n, 3))
    var = logvar.exp()
    # Five standard errors: a correct sampler fails this about once in a million runs.
    assert ((z.mean(0) - mu).abs() < 5 * (var / n).sqrt()).all()
    assert ((z.var(0) - var).abs() < 5 * var * math.sqrt(2 / (n - 1))).all()


@settings(max_examples=20, deadline=None)
@given(shape=shapes, seed=st.integers(0, 10_000))
def test_kl_is_zero_at_the_prior_and_positive_elsewhere(shape, seed) -> None:
    zeros = torch.zeros(shape, dtype=torch.float64)
    assert torch.equal(gaussian_kl(zeros, zeros), torch.zeros(shape[:-1], dtype=torch.float64))
    mu, logvar = gaussian_params(seed, shape)
    assert (gaussian_kl(mu.detach(), logvar.detach()) > 0).all()


def test_matches_bce_with_logits_reconstruction_loss() -> None:
    g = torch.Generator().manual_seed(3)
    logits = (3 * torch.randn(5, 64, generator=g, dtype=torch.float64)).requires_grad_()
    x = torch.rand(5, 64, generator=g, dtype=torch.float64)  # grey pixels, as in the digits
    ours = reconstruction_loss(logits, x)
    theirs = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 5
    torch.testing.assert_close(ours, theirs, **TOL)
    (a,), (b,) = torch.autograd.grad(ours, logits), torch.autograd.grad(theirs, logits)
    torch.testing.assert_close(a, b, **TOL)


def test_matches_torch_distributions_gaussian_likelihood_up_to_its_constant() -> None:
    g = torch.Generator().manual_seed(4)
    mean = torch.randn(6, 10, generator=g, dtype=torch.float64).requires_grad_()
    x = torch.rand(6, 10, generator=g, dtype=torch.float64)
    ours = reconstruction_loss(mean, x, likelihood="gaussian")
    nll = -Independent(Normal(mean, 1.0), 1).log_prob(x).mean()
    theirs = nll - 10 * 0.5 * math.log(2 * math.pi)  # the constant that 0.5 ||x - mean||^2 drops
    torch.testing.assert_close(ours, theirs, **TOL)
    (a,), (b,) = torch.autograd.grad(ours, mean), torch.autograd.grad(theirs, mean)
    torch.testing.assert_close(a, b, **TOL)
    assert torch.equal(reconstruct(mean, "gaussian"), mean)


@pytest.mark.parametrize("beta", [1.0, 0.25])
def test_matches_torch_distributions_negative_elbo(beta: float) -> None:
    """-ELBO = -log p(x|z) + beta KL(q || p), with p(x|z) a product of Bernoullis."""
    g = torch.Generator().manual_seed(5)
    logits = torch.randn(7, 64, generator=g, dtype=torch.float64).requires_grad_()
    x = torch.rand(7, 64, generator=g, dtype=torch.float64)
    mu, logvar = gaussian_params(6, (7, 3))
    ours = vae_loss(logits, x, mu, logvar, beta=beta)
    likelihood = Independent(Bernoulli(logits=logits, validate_args=False), 1)
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    theirs = (-likelihood.log_prob(x) + beta * kl_divergence(q, prior)).mean()
    torch.testing.assert_close(ours, theirs, **TOL)
    inputs = (logits, mu, logvar)
    for a, b in zip(
        torch.autograd.grad(ours, inputs), torch.autograd.grad(theirs, inputs), strict=True
    ):
        torch.testing.assert_close(a, b, **TOL)


def test_matches_sklearn_pca_linear_autoencoder_spans_the_principal_subspace() -> None:
    """Baldi & Hornik (1989): a linear autoencoder trained with squared error to its minimum
    reconstructs through the span of the top-k principal components."""
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    x = torch.tensor(load_digits().data[:300] / 16.0)
    k = 4
    torch.manual_seed(0)
    model = Autoencoder(64, hidden=(), code=k).double()
    optimizer = torch.optim.LBFGS(
        model.parameters(),
        max_iter=400,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        history_size=50,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = reconstruction_loss(model(x), x, likelihood="gaussian")
        loss.backward()
        return loss

    with one_torch_thread():  # 300 x 64 floats: a second thread only waits
        optimizer.step(closure)
    pca = PCA(k).fit(x.numpy())
    decoder = model.decoder.layers[-1].weight.detach().numpy()  # (64, k): its columns span
    angles = subspace_angles(decoder, pca.components_.T)
    assert angles.max() < 5e-3, angles
    random_angles = subspace_angles(torch.randn(64, k, dtype=torch.float64).numpy(), decoder)
    assert random_angles.max() > 0.5  # the test can tell subspaces apart
    with torch.no_grad():
        ours = (model(x) - x).pow(2).mean().item()
    theirs = ((pca.inverse_transform(pca.transform(x.numpy())) - x.numpy()) ** 2).mean()
    assert abs(ours / theirs - 1) < 1e-4


def test_masking_noise_zeroes_the_stated_share_and_leaves_the_input_alone() -> None:
    x = torch.rand(200, 64, generator=torch.Generator().manual_seed(7)) * 0.9 + 0.1  # no zeros
    original = x.clone()
    noisy = corrupt(x, "mask", 0.3, torch.Generator().manual_seed(8))
    assert torch.equal(x, original)
    masked = noisy == 0
    assert abs(masked.float().mean().item() - 0.3) < 0.02  # 12 800 pixels: SE 0.004
    assert torch.equal(noisy[~masked], x[~masked])
    assert torch.equal(corrupt(x, "mask", 0.0), x)


def test_gaussian_noise_has_the_stated_spread_and_stays_in_range() -> None:
    x = torch.full((400, 64), 0.5)
    noisy = corrupt(x, "gaussian", 0.1, torch.Generator().manual_seed(9))
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert abs((noisy - x).std().item() - 0.1) < 0.005  # 5 sigma away from 0.5: no clipping
    with pytest.raises(ValueError, match="noise"):
        corrupt(x, "salt", 0.1)


def test_shapes_of_autoencoder_and_vae() -> None:
    x = torch.rand(5, 64)
    ae = Autoencoder(64, (32, 16), code=3)
    assert ae.encode(x).shape == (5, 3) and ae(x).shape == (5, 64)
    vae = VAE(64, (32,), latent=2)
    output, mu, logvar = vae(x)
    assert output.shape == (5, 64) and mu.shape == logvar.shape == (5, 2)
    eps = torch.zeros(5, 2)
    torch.testing.assert_close(vae(x, eps)[0], vae.decode(mu))  # eps = 0: z is the mean
    samples = vae.sample(4, torch.Generator().manual_seed(0))
    assert samples.shape == (4, 64) and samples.min() >= 0 and samples.max() <= 1


def test_latent_grid_runs_left_to_right_then_top_to_bottom() -> None:
    grid = latent_grid(3, span=1.0)
    expected = [[-1, 1], [0, 1], [1, 1], [-1, 0], [0, 0], [1, 0], [-1, -1], [0, -1], [1, -1]]
    torch.testing.assert_close(grid, torch.tensor(expected, dtype=torch.float32))


def test_bad_likelihood_is_refused() -> None:
    with pytest.raises(ValueError, match="likelihood"):
        reconstruction_loss(torch.zeros(2, 3), torch.zeros(2, 3), likelihood="poisson")
