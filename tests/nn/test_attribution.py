"""Attribution methods against Captum 0.9: Saliency, InputXGradient, NoiseTunnel (smoothgrad)
and IntegratedGradients, on random small CNNs and MLPs in float64.

Tolerances: the gradient methods compute the same backward pass as Captum, atol 1e-12 and
rtol 1e-10. Integrated gradients: Captum builds its Riemann points with torch.linspace in
float32, so its alphas are off by up to 6e-8 from ours (float64); atol 1e-7 and rtol 1e-6.
Captum's trapezoid weights are 1/steps with halved ends and add up to 1 - 1/steps, ours are
1/(steps - 1) and add up to 1, so ours equal Captum's times steps / (steps - 1) exactly.
"""

from __future__ import annotations

import pytest
import torch
from captum.attr import InputXGradient, IntegratedGradients, NoiseTunnel, Saliency
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor, nn

from groundup.nn.attribution import (
    BASELINES,
    METHODS,
    completeness_gap,
    gaussian_blur,
    gradient,
    input_x_gradient,
    integrated_gradients,
    integration_points,
    make_baseline,
    saliency,
    saliency_map,
    smoothgrad,
)

EXACT = {"atol": 1e-12, "rtol": 1e-10}
IG_TOL = {"atol": 1e-7, "rtol": 1e-6}
FAST = settings(max_examples=12, deadline=None)

pytestmark = [
    pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require"),
    pytest.mark.filterwarnings("ignore:Internal batch size cannot be less"),
]


def random_model(kind: str, channels: int, size: int, classes: int, seed: int) -> nn.Module:
    """A small smooth (tanh, softplus) or piecewise-linear (ReLU) network in float64, eval mode."""
    torch.manual_seed(seed)
    if kind == "cnn":
        model = nn.Sequential(
            nn.Conv2d(channels, 4, 3, padding=1),
            nn.Tanh(),
            nn.Conv2d(4, 3, 3),
            nn.Softplus(),
            nn.Flatten(),
            nn.Linear(3 * (size - 2) ** 2, classes),
        )
    else:
        model = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * size * size, 12),
            nn.ReLU(),
            nn.Linear(12, classes),
        )
    return model.double().eval()


@st.composite
def cases(draw: st.DrawFn) -> dict:
    size, classes = draw(st.integers(3, 6)), draw(st.integers(2, 5))
    n = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    per_example = draw(st.booleans())
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(classes, (n,), generator=g) if per_example else int(seed % classes)
    channels = draw(st.integers(1, 3))
    return {
        "model": random_model(draw(st.sampled_from(["cnn", "mlp"])), channels, size, classes, seed),
        "x": torch.rand(n, channels, size, size, generator=g, dtype=torch.float64),
        "target": target,
    }


def captum_target(target: int | Tensor) -> int | list[int]:
    return target if isinstance(target, int) else target.tolist()


# ---------------------------------------------------------------- gradient methods


@FAST
@given(case=cases(), absolute=st.booleans())
def test_matches_captum_saliency(case: dict, absolute: bool) -> None:
    model, x, target = case["model"], case["x"], case["target"]
    expected = Saliency(model).attribute(x.clone(), target=captum_target(target), abs=absolute)
    torch.testing.assert_close(saliency(model, x, target, absolute=absolute), expected, **EXACT)


@FAST
@given(case=cases())
def test_matches_captum_input_x_gradient(case: dict) -> None:
    model, x, target = case["model"], case["x"], case["target"]
    expected = InputXGradient(model).attribute(x.clone(), target=captum_target(target))
    torch.testing.assert_close(input_x_gradient(model, x, target), expected.detach(), **EXACT)


@FAST
@given(case=cases(), samples=st.integers(1, 5), absolute=st.booleans())
def test_matches_captum_noise_tunnel_smoothgrad(case: dict, samples: int, absolute: bool) -> None:
    """Same noise: Captum draws torch.normal(0, stdev repeated to the expanded input shape)
    from the global generator, example n's copies in rows n*samples ... (n+1)*samples - 1."""
    model, x, target = case["model"], case["x"], case["target"]
    sigma = 0.2
    torch.manual_seed(1234)
    noise = torch.normal(0, torch.tensor(sigma).repeat((len(x) * samples, *x.shape[1:])))
    torch.manual_seed(1234)
    expected = NoiseTunnel(Saliency(model)).attribute(
        x.clone(),
        nt_type="smoothgrad",
        nt_samples=samples,
        stdevs=sigma,
        target=captum_target(target),
        abs=absolute,
    )
    got = smoothgrad(model, x, target, samples, sigma, absolute=absolute, noise=noise)
    torch.testing.assert_close(got, expected, **EXACT)


def test_smoothgrad_draws_its_own_noise_reproducibly() -> None:
    model = random_model("cnn", 1, 5, 3, seed=1)
    x = torch.rand(2, 1, 5, 5, dtype=torch.float64)
    first = smoothgrad(model, x, 1, 8, 0.1, generator=torch.Generator().manual_seed(3))
    again = smoothgrad(model, x, 1, 8, 0.1, generator=torch.Generator().manual_seed(3))
    other = smoothgrad(model, x, 1, 8, 0.1, generator=torch.Generator().manual_seed(4))
    assert torch.equal(first, again) and not torch.equal(first, other)
    # sigma 0: every copy is x itself, so SmoothGrad is the saliency
    torch.testing.assert_close(smoothgrad(model, x, 1, 4, 0.0), saliency(model, x, 1), **EXACT)


def test_gradient_leaves_the_input_alone_and_saliency_map_takes_the_channel_max() -> None:
    model = random_model("mlp", 3, 4, 2, seed=2)
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    grad = gradient(model, x, 0)
    assert not x.requires_grad and x.grad is None and grad.shape == x.shape
    heat = saliency_map(grad)
    assert heat.shape == (2, 4, 4)
    torch.testing.assert_close(heat, grad.abs().max(dim=1).values, **EXACT)


# ---------------------------------------------------------------- integrated gradients


@settings(max_examples=8, deadline=None)
@given(
    case=cases(),
    method=st.sampled_from(METHODS),
    baseline_kind=st.sampled_from(BASELINES),
    steps=st.integers(2, 12),
    batch_size=st.sampled_from([None, 1, 5]),
)
def test_matches_captum_integrated_gradients(
    case: dict, method: str, baseline_kind: str, steps: int, batch_size: int | None
) -> None:
    model, x, target = case["model"], case["x"], case["target"]
    baseline = make_baseline(x, baseline_kind, generator=torch.Generator().manual_seed(9))
    expected, delta = IntegratedGradients(model).attribute(
        x.clone(),
        baseline,
        target=captum_target(target),
        n_steps=steps,
        method=method,
        internal_batch_size=batch_size,
        return_convergence_delta=True,
    )
    got = integrated_gradients(model, x, target, baseline, steps, method, batch_size)
    scale = steps / (steps - 1) if method == "riemann_trapezoid" else 1.0
    torch.testing.assert_close(got, expected * scale, **IG_TOL)

    # Captum's delta is sum(its attributions) - (f(x) - f(x0)); ours for our attributions.
    change = expected.flatten(1).sum(1) - delta
    gap = completeness_gap(model, x, baseline, target, got)
    torch.testing.assert_close(gap, got.flatten(1).sum(1) - change, **IG_TOL)
    if method != "riemann_trapezoid":
        torch.testing.assert_close(gap, delta, **IG_TOL)


@pytest.mark.parametrize("method", METHODS)
def test_matches_captum_integrated_gradients_on_every_method_with_default_baseline(
    method: str,
) -> None:
    model = random_model("cnn", 2, 6, 4, seed=5)
    x = torch.rand(3, 2, 6, 6, dtype=torch.float64)
    target = torch.tensor([3, 0, 2])
    expected, delta = IntegratedGradients(model).attribute(
        x.clone(), target=target.tolist(), n_steps=20, method=method, return_convergence_delta=True
    )
    got = integrated_gradients(model, x, target, steps=20, method=method)
    scale = 20 / 19 if method == "riemann_trapezoid" else 1.0
    torch.testing.assert_close(got, expected * scale, **IG_TOL)
    if method != "riemann_trapezoid":
        torch.testing.assert_close(
            completeness_gap(model, x, torch.zeros_like(x), target, got), delta, **IG_TOL
        )


@pytest.mark.parametrize("method", METHODS)
def test_linear_model_integrated_gradients_are_exactly_the_weights_times_the_distance(
    method: str,
) -> None:
    """f(x) = w.x + b has a constant gradient w, so every quadrature gives (x - x0) * w and
    completeness holds to rounding, with as few as 2 steps."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 4 * 4, 3)).double()
    x = torch.randn(4, 2, 4, 4, dtype=torch.float64)
    x0 = torch.randn(4, 2, 4, 4, dtype=torch.float64)
    w = model[1].weight[2].detach().view(2, 4, 4)
    for steps in (2, 3, 17):
        attributions = integrated_gradients(model, x, 2, x0, steps, method)
        torch.testing.assert_close(attributions, (x - x0) * w, **EXACT)
        gap = completeness_gap(model, x, x0, 2, attributions)
        assert gap.abs().max() < 1e-12


@pytest.mark.parametrize("method", METHODS)
def test_completeness_gap_shrinks_as_the_steps_grow(method: str) -> None:
    """Left and right sums converge like 1/steps, middle and trapezoid like 1/steps^2, and
    Gauss-Legendre faster still: each quadrupling of the steps cuts the mean |gap| at least
    in half, and at 256 steps it is below 1 % of the mean |f(x) - f(x0)|."""
    model = random_model("cnn", 1, 6, 3, seed=7)
    x = torch.rand(6, 1, 6, 6, dtype=torch.float64) * 3  # far from the baseline: a curved path
    x0 = torch.zeros_like(x)
    with torch.no_grad():
        change = (model(x)[:, 1] - model(x0)[:, 1]).abs().mean()
    gaps = []
    for steps in (4, 16, 64, 256):
        attributions = integrated_gradients(model, x, 1, x0, steps, method)
        gaps.append(completeness_gap(model, x, x0, 1, attributions).abs().mean().item())
    for coarse, fine in zip(gaps, gaps[1:], strict=False):
        assert fine < 0.5 * coarse or fine < 1e-12
    assert gaps[-1] < 0.01 * change


def test_baseline_equal_to_input_gives_zero_attributions() -> None:
    model = random_model("cnn", 1, 5, 3, seed=3)
    x = torch.rand(2, 1, 5, 5, dtype=torch.float64)
    assert integrated_gradients(model, x, 0, x.clone(), steps=8).abs().max() == 0


def test_batch_size_does_not_change_integrated_gradients() -> None:
    model = random_model("mlp", 1, 5, 3, seed=4)
    x = torch.rand(3, 1, 5, 5, dtype=torch.float64)
    target = torch.tensor([0, 2, 1])
    whole = integrated_gradients(model, x, target, steps=10)
    for batch_size in (1, 4, 7, 30, 1000):
        torch.testing.assert_close(
            integrated_gradients(model, x, target, steps=10, batch_size=batch_size), whole, **EXACT
        )


# ---------------------------------------------------------------- quadrature and baselines


@pytest.mark.parametrize("method", METHODS)
def test_integration_points_lie_in_the_unit_interval_and_weights_add_up_to_one(
    method: str,
) -> None:
    for steps in (2, 5, 50):
        alphas, weights = integration_points(steps, method)
        assert alphas.dtype == weights.dtype == torch.float64
        assert alphas.shape == weights.shape == (steps,)
        assert alphas.min() >= 0 and alphas.max() <= 1 and (weights > 0).all()
        assert abs(weights.sum().item() - 1) < 1e-14
    alphas, _ = integration_points(4, method)
    expected = {
        "riemann_left": [0, 0.25, 0.5, 0.75],
        "riemann_right": [0.25, 0.5, 0.75, 1],
        "riemann_middle": [0.125, 0.375, 0.625, 0.875],
        "riemann_trapezoid": [0, 1 / 3, 2 / 3, 1],
    }
    if method in expected:
        torch.testing.assert_close(alphas, torch.tensor(expected[method], dtype=torch.float64))


@pytest.mark.parametrize(
    ("method", "exact_degree"),
    [
        ("riemann_left", 0),
        ("riemann_right", 0),
        ("riemann_middle", 1),
        ("riemann_trapezoid", 1),
        ("gausslegendre", 2 * 5 - 1),
    ],
)
def test_quadrature_integrates_polynomials_up_to_its_degree(method: str, exact_degree: int) -> None:
    alphas, weights = integration_points(5, method)
    for degree in range(exact_degree + 2):
        estimate = (weights * alphas**degree).sum().item()
        exact = 1 / (degree + 1)
        if degree <= exact_degree:
            assert abs(estimate - exact) < 1e-13
        else:
            assert abs(estimate - exact) > 1e-6


def test_bad_method_or_steps_or_baseline_raise() -> None:
    with pytest.raises(ValueError, match="method"):
        integration_points(5, "simpson")
    with pytest.raises(ValueError, match="2 steps"):
        integration_points(1, "riemann_left")
    with pytest.raises(ValueError, match="baseline"):
        make_baseline(torch.zeros(1, 1, 4, 4), "grey")


def test_baselines_have_the_input_shape_and_their_meaning() -> None:
    x = torch.rand(3, 2, 8, 8, dtype=torch.float64)
    assert torch.equal(make_baseline(x, "black"), torch.zeros_like(x))
    noise = make_baseline(x, "noise", low=0.2, high=0.5, generator=torch.Generator().manual_seed(0))
    assert noise.shape == x.shape and noise.min() >= 0.2 and noise.max() <= 0.5
    blurred = make_baseline(x, "blur", blur_sigma=1.0)
    assert blurred.shape == x.shape
    assert blurred.std() < 0.6 * x.std()  # the blur evens the pixels out
    flat = torch.full((1, 1, 8, 8), 0.7, dtype=torch.float64)
    torch.testing.assert_close(gaussian_blur(flat, 2.0), flat, **EXACT)  # constants survive
    # an impulse away from the edges spreads into a normalised, symmetric Gaussian
    impulse = torch.zeros(1, 1, 15, 15, dtype=torch.float64)
    impulse[0, 0, 7, 7] = 1.0
    spread = gaussian_blur(impulse, 1.0)[0, 0]
    assert abs(spread.sum().item() - 1) < 1e-12
    torch.testing.assert_close(spread, spread.T, **EXACT)
    torch.testing.assert_close(spread, spread.flip(0), **EXACT)
    assert spread[7, 7] == spread.max()
