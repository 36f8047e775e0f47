"""Checks for the `autoencoders_gans` exercise, against torch.distributions (Normal.rsample,
kl_divergence, Bernoulli.log_prob) and torch.nn.functional.binary_cross_entropy_with_logits.

Inputs are float64 with fixed seeds unless a check says float32, so a correct answer matches
the reference to about 1e-15; the tolerance (atol 1e-10, rtol 1e-8 in float64; atol 1e-5,
rtol 1e-4 in float32) leaves room only for rounding. logvar is drawn with a spread of 2, so
sigma ranges from about 0.1 to 10 and confusing sigma, sigma^2 and log sigma^2 always shows.
"""

from __future__ import annotations

from types import ModuleType

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    assert_true,
    call,
    check,
    describe,
    require,
)
from groundup.i18n import Msg

FUNCTIONS = ["reparameterize", "gaussian_kl", "vae_loss", "discriminator_loss", "generator_loss"]

REFERENCE = """from groundup.models.autoencoder import gaussian_kl, reparameterize
from groundup.models.autoencoder import vae_loss as _vae_loss
from groundup.models.gan import discriminator_loss, generator_loss


def vae_loss(logits, x, mu, logvar):
    return _vae_loss(logits, x, mu, logvar)
"""

TOL = {torch.float64: {"atol": 1e-10, "rtol": 1e-8}, torch.float32: {"atol": 1e-5, "rtol": 1e-4}}
SHAPES = [(5, 2), (3, 7), (1, 1), (16, 4)]


def _gaussian(seed: int, shape: tuple[int, ...]) -> tuple[Tensor, Tensor, Tensor]:
    """mu, logvar and the noise eps that Normal(mu, sigma).rsample() draws after
    torch.manual_seed(seed); the global random state is restored afterwards."""
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(shape, generator=g, dtype=torch.float64)
    logvar = 2 * torch.randn(shape, generator=g, dtype=torch.float64)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        eps = torch.empty(shape, dtype=torch.float64).normal_()  # as rsample draws it
    return mu, logvar, eps


def _rsample(mu: Tensor, logvar: Tensor, seed: int) -> Tensor:
    """torch.distributions.Normal(mu, exp(logvar / 2)).rsample() with the noise of `seed`."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Normal(mu, torch.exp(0.5 * logvar)).rsample()


def _images(seed: int, n: int, pixels: int) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(n, pixels, generator=g, dtype=torch.float64)
    return logits, torch.rand(n, pixels, generator=g, dtype=torch.float64)  # grey pixels


def _gan_logits(seed: int, n: int, m: int, scale: float = 3.0) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    real = scale * torch.randn(n, generator=g, dtype=torch.float64)
    return real, scale * torch.randn(m, generator=g, dtype=torch.float64)


def _reference_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    q = Normal(mu, torch.exp(0.5 * logvar))
    return kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)


def _reference_vae_loss(logits: Tensor, x: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    likelihood = Independent(Bernoulli(logits=logits, validate_args=False), 1)
    return (-likelihood.log_prob(x) + _reference_kl(mu, logvar)).mean()


def _reference_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    ones, zeros = torch.ones_like(real), torch.zeros_like(fake)
    return F.binary_cross_entropy_with_logits(real, ones) + F.binary_cross_entropy_with_logits(
        fake, zeros
    )


def _reference_g_loss(fake: Tensor) -> Tensor:
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))


def _tensor(label: Msg, out: object, connected: bool = False) -> Tensor:
    if not isinstance(out, Tensor):
        raise Mismatch(label, expected="a torch.Tensor", got=describe(out))
    if connected and out.grad_fn is None:
        raise Mismatch(
            label,
            expected="a tensor connected to the inputs by autograd (it has a grad_fn)",
            got=describe(out) + ", grad_fn None (.detach(), .item(), numpy or no_grad?)",
        )
    return out


def _values_and_grads(
    label: Msg, fn, leaves: list[Tensor], *others: Tensor
) -> tuple[Tensor, list[Tensor]]:
    """The learner's output and its gradients with respect to `leaves` for a fixed random
    upstream gradient (so every output element counts, with its own weight)."""
    leaves = [leaf.clone().requires_grad_() for leaf in leaves]
    out = _tensor(label, call(label, fn, *leaves, *others), connected=True)
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(99), dtype=out.dtype)
    grads = call(
        label, torch.autograd.grad, out, leaves, upstream, allow_unused=True, materialize_grads=True
    )
    return out.detach(), list(grads)


def _reference_values_and_grads(fn, leaves: list[Tensor], *others: Tensor):
    leaves = [leaf.clone().requires_grad_() for leaf in leaves]
    out = fn(*leaves, *others)
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(99), dtype=out.dtype)
    return out.detach(), list(torch.autograd.grad(out, leaves, upstream))


def _compare(label: Msg, got: Tensor, expected: Tensor) -> None:
    assert_true(
        label,
        bool(torch.isfinite(torch.as_tensor(got)).all()),
        expected=f"finite numbers, about {expected.flatten()[:4].tolist()}",
        got=str(torch.as_tensor(got).flatten()[:6].tolist()),
    )
    assert_close(label, got, expected, **TOL[expected.dtype])


def _compare_grads(label: Msg, names: list[str], got: list[Tensor], expected: list[Tensor]) -> None:
    for name, a, b in zip(names, got, expected, strict=True):
        _compare(Msg(f"{label.en}: gradient for {name}", f"{label.de}: Gradient nach {name}"), a, b)


# ---------------------------------------------------------------- the VAE


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_reparameterize_values(module: ModuleType) -> None:
    fn = require(module, "reparameterize")
    for seed, shape in enumerate(SHAPES):
        mu, logvar, eps = _gaussian(seed, shape)
        label = Msg(
            f"reparameterize(mu {shape}, logvar {shape}, eps {shape}) against "
            "Normal(mu, exp(logvar / 2)) with the same noise",
            f"reparameterize(mu {shape}, logvar {shape}, eps {shape}) verglichen mit "
            "Normal(mu, exp(logvar / 2)) bei demselben Rauschen",
        )
        got = _tensor(label, call(label, fn, mu.clone(), logvar.clone(), eps.clone()))
        assert_shape(label, got, shape)
        _compare(label, got, _rsample(mu, logvar, seed))


def check_reparameterize_gradients(module: ModuleType) -> None:
    fn = require(module, "reparameterize")
    for seed, shape in enumerate(SHAPES[:3]):
        mu, logvar, eps = _gaussian(10 + seed, shape)
        label = Msg(
            f"gradients of reparameterize(mu {shape}, logvar {shape}, eps) against Normal.rsample",
            f"Gradienten von reparameterize(mu {shape}, logvar {shape}, eps) verglichen mit "
            "Normal.rsample",
        )
        _, grads = _values_and_grads(label, fn, [mu, logvar], eps)
        _, expected = _reference_values_and_grads(
            lambda mu, logvar, seed=10 + seed: _rsample(mu, logvar, seed), [mu, logvar]
        )
        _compare_grads(label, ["mu", "logvar"], grads, expected)


def check_kl_shape(module: ModuleType) -> None:
    fn = require(module, "gaussian_kl")
    for seed, shape in enumerate(SHAPES):
        mu, logvar, _ = _gaussian(20 + seed, shape)
        label = Msg(
            f"gaussian_kl(mu {shape}, logvar {shape}).shape: one KL per example",
            f"gaussian_kl(mu {shape}, logvar {shape}).shape: eine KL pro Beispiel",
        )
        assert_shape(label, _tensor(label, call(label, fn, mu, logvar)), shape[:1])


def check_kl_values(module: ModuleType) -> None:
    fn = require(module, "gaussian_kl")
    for seed, shape in enumerate(SHAPES):
        mu, logvar, _ = _gaussian(30 + seed, shape)
        label = Msg(
            f"gaussian_kl(mu {shape}, logvar {shape}) against torch.distributions."
            "kl_divergence(Normal(mu, sigma), Normal(0, 1)).sum(-1)",
            f"gaussian_kl(mu {shape}, logvar {shape}) verglichen mit torch.distributions."
            "kl_divergence(Normal(mu, sigma), Normal(0, 1)).sum(-1)",
        )
        got = _tensor(label, call(label, fn, mu.clone(), logvar.clone()))
        _compare(label, got, _reference_kl(mu, logvar))


def check_kl_gradients(module: ModuleType) -> None:
    fn = require(module, "gaussian_kl")
    for seed, shape in enumerate(SHAPES[:3]):
        mu, logvar, _ = _gaussian(40 + seed, shape)
        label = Msg(
            f"gradients of gaussian_kl(mu {shape}, logvar {shape}) against kl_divergence",
            f"Gradienten von gaussian_kl(mu {shape}, logvar {shape}) verglichen mit kl_divergence",
        )
        _, grads = _values_and_grads(label, fn, [mu, logvar])
        _, expected = _reference_values_and_grads(_reference_kl, [mu, logvar])
        _compare_grads(label, ["mu", "logvar"], grads, expected)


def check_vae_loss_values(module: ModuleType) -> None:
    fn = require(module, "vae_loss")
    for seed, (n, pixels, d) in enumerate([(6, 64, 2), (3, 10, 5), (1, 4, 1)]):
        logits, x = _images(50 + seed, n, pixels)
        mu, logvar, _ = _gaussian(60 + seed, (n, d))
        label = Msg(
            f"vae_loss(logits ({n}, {pixels}), x ({n}, {pixels}), mu ({n}, {d}), logvar) "
            "against -(Bernoulli(logits).log_prob(x).sum(-1) - KL).mean()",
            f"vae_loss(logits ({n}, {pixels}), x ({n}, {pixels}), mu ({n}, {d}), logvar) "
            "verglichen mit -(Bernoulli(logits).log_prob(x).sum(-1) - KL).mean()",
        )
        got = _tensor(label, call(label, fn, logits.clone(), x.clone(), mu.clone(), logvar))
        assert_shape(label, got, ())
        _compare(label, got, _reference_vae_loss(logits, x, mu, logvar))


def check_vae_loss_gradients(module: ModuleType) -> None:
    fn = require(module, "vae_loss")
    logits, x = _images(70, 5, 16)
    mu, logvar, _ = _gaussian(71, (5, 3))
    label = Msg(
        "gradients of vae_loss(logits (5, 16), x, mu (5, 3), logvar (5, 3))",
        "Gradienten von vae_loss(logits (5, 16), x, mu (5, 3), logvar (5, 3))",
    )

    def learner(logits: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
        return fn(logits, x, mu, logvar)

    def reference(logits: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
        return _reference_vae_loss(logits, x, mu, logvar)

    _, grads = _values_and_grads(label, learner, [logits, mu, logvar])
    _, expected = _reference_values_and_grads(reference, [logits, mu, logvar])
    _compare_grads(label, ["logits", "mu", "logvar"], grads, expected)


# ---------------------------------------------------------------- the GAN


def check_d_loss(module: ModuleType) -> None:
    fn = require(module, "discriminator_loss")
    for seed, (n, m) in enumerate([(8, 8), (5, 12), (1, 3)]):
        real, fake = _gan_logits(80 + seed, n, m)
        label = Msg(
            f"discriminator_loss(real_logits ({n},), fake_logits ({m},)) against "
            "BCE(real, 1) + BCE(fake, 0)",
            f"discriminator_loss(real_logits ({n},), fake_logits ({m},)) verglichen mit "
            "BCE(real, 1) + BCE(fake, 0)",
        )
        got, grads = _values_and_grads(label, fn, [real, fake])
        expected, expected_grads = _reference_values_and_grads(_reference_d_loss, [real, fake])
        assert_shape(label, got, ())
        _compare(label, got, expected)
        _compare_grads(label, ["real_logits", "fake_logits"], grads, expected_grads)


def check_g_loss(module: ModuleType) -> None:
    fn = require(module, "generator_loss")
    for seed, m in enumerate([8, 13, 1]):
        _, fake = _gan_logits(90 + seed, 1, m)
        label = Msg(
            f"generator_loss(fake_logits ({m},)) against BCE(fake, 1), the non-saturating loss",
            f"generator_loss(fake_logits ({m},)) verglichen mit BCE(fake, 1), dem nicht "
            "sättigenden Verlust",
        )
        got, grads = _values_and_grads(label, fn, [fake])
        expected, expected_grads = _reference_values_and_grads(_reference_g_loss, [fake])
        assert_shape(label, got, ())
        _compare(label, got, expected)
        _compare_grads(label, ["fake_logits"], grads, expected_grads)


def check_gan_extreme_logits(module: ModuleType) -> None:
    d_loss, g_loss = require(module, "discriminator_loss"), require(module, "generator_loss")
    real = torch.tensor([100.0, -100.0, 30.0, 0.5])  # float32: sigmoid(100) == 1.0 exactly
    fake = torch.tensor([-100.0, 100.0, -30.0, 2.0])
    text = f"real_logits {real.tolist()}, fake_logits {fake.tolist()}, float32"
    label = Msg(f"discriminator_loss({text})", f"discriminator_loss({text})")
    got, grads = _values_and_grads(label, d_loss, [real, fake])
    expected, expected_grads = _reference_values_and_grads(_reference_d_loss, [real, fake])
    _compare(label, got, expected)
    _compare_grads(label, ["real_logits", "fake_logits"], grads, expected_grads)
    label = Msg(f"generator_loss(fake_logits {fake.tolist()}, float32)",
                f"generator_loss(fake_logits {fake.tolist()}, float32)")  # fmt: skip
    got, grads = _values_and_grads(label, g_loss, [fake])
    expected, expected_grads = _reference_values_and_grads(_reference_g_loss, [fake])
    _compare(label, got, expected)
    _compare_grads(label, ["fake_logits"], grads, expected_grads)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions reparameterize, gaussian_kl, vae_loss, discriminator_loss and "
            "generator_loss",
            "Funktionen reparameterize, gaussian_kl, vae_loss, discriminator_loss und "
            "generator_loss",
        ),
        (
            "Define all five at the top level of your file, with these names.",
            "Definieren Sie alle fünf mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "reparameterize_values",
        (
            "reparameterize(mu, logvar, eps) equals mu + exp(logvar / 2) * eps",
            "reparameterize(mu, logvar, eps) gleich mu + exp(logvar / 2) * eps",
        ),
        (
            "logvar is the log of the variance sigma^2, not sigma and not log sigma: the "
            "standard deviation is exp(0.5 * logvar). Use the eps you are given; drawing your "
            "own noise gives other numbers.",
            "logvar ist der Logarithmus der Varianz sigma^2, weder sigma noch log sigma: die "
            "Standardabweichung ist exp(0.5 * logvar). Verwenden Sie das übergebene eps; "
            "eigenes Rauschen ergibt andere Zahlen.",
        ),
        check_reparameterize_values,
    ),
    check(
        "reparameterize_gradients",
        (
            "gradients of reparameterize reach mu (1) and logvar (0.5 sigma eps), as with "
            "Normal.rsample",
            "Gradienten von reparameterize erreichen mu (1) und logvar (0.5 sigma eps), wie "
            "bei Normal.rsample",
        ),
        (
            "The trick is that z is a differentiable function of mu and logvar: no .detach() "
            "on sigma or z, no torch.normal(mu, sigma) (it has no gradient), no no_grad.",
            "Der Trick ist, dass z eine differenzierbare Funktion von mu und logvar ist: kein "
            ".detach() an sigma oder z, kein torch.normal(mu, sigma) (ohne Gradient), kein "
            "no_grad.",
        ),
        check_reparameterize_gradients,
    ),
    check(
        "kl_shape",
        (
            "gaussian_kl returns one number per example: shape (N,) for (N, d) inputs",
            "gaussian_kl liefert eine Zahl pro Beispiel: Form (N,) für Eingaben (N, d)",
        ),
        (
            "Sum over the latent axis only: .sum(dim=-1), not .sum() over everything.",
            "Summieren Sie nur über die latente Achse: .sum(dim=-1), nicht .sum() über alles.",
        ),
        check_kl_shape,
    ),
    check(
        "kl_values",
        (
            "gaussian_kl equals torch.distributions.kl_divergence(Normal(mu, sigma), "
            "Normal(0, 1)) summed over the latent dimensions",
            "gaussian_kl gleich torch.distributions.kl_divergence(Normal(mu, sigma), "
            "Normal(0, 1)), summiert über die latenten Dimensionen",
        ),
        (
            "Per dimension: 0.5 * (mu^2 + exp(logvar) - 1 - logvar). Mind the factor 0.5, the "
            "signs (the KL is never negative), sigma^2 = exp(logvar) (not exp(logvar / 2)), "
            "and sum the dimensions, do not average them.",
            "Pro Dimension: 0.5 * (mu^2 + exp(logvar) - 1 - logvar). Achten Sie auf den Faktor "
            "0.5, die Vorzeichen (die KL ist nie negativ), sigma^2 = exp(logvar) (nicht "
            "exp(logvar / 2)), und summieren Sie die Dimensionen, statt sie zu mitteln.",
        ),
        check_kl_values,
    ),
    check(
        "kl_gradients",
        (
            "gradients of gaussian_kl with respect to mu (mu) and logvar "
            "(0.5 (sigma^2 - 1)) equal torch's",
            "Gradienten von gaussian_kl nach mu (mu) und logvar (0.5 (sigma^2 - 1)) gleich "
            "denen von torch",
        ),
        (
            "Stay inside torch: no .detach(), .item(), numpy or no_grad in the computation.",
            "Bleiben Sie in torch: kein .detach(), .item(), numpy oder no_grad in der Rechnung.",
        ),
        check_kl_gradients,
    ),
    check(
        "vae_loss_values",
        (
            "vae_loss equals the negative ELBO: Bernoulli -log p(x|z) summed over pixels, plus "
            "the KL, averaged over the batch",
            "vae_loss gleich der negativen ELBO: Bernoulli -log p(x|z), über die Pixel "
            "summiert, plus KL, gemittelt über den Batch",
        ),
        (
            "F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(dim=1) is "
            "-log p(x|z) per image; the default reduction (mean over pixels) shrinks it by D "
            "and lets the KL win. ADD the KL (the ELBO subtracts it; its negative adds it), "
            "then take the mean over the images.",
            "F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(dim=1) ist "
            "-log p(x|z) pro Bild; die Standard-Reduktion (Mittel über Pixel) verkleinert es "
            "um den Faktor D und lässt die KL gewinnen. ADDIEREN Sie die KL (die ELBO zieht sie "
            "ab, ihr Negatives addiert sie) und mitteln Sie dann über die Bilder.",
        ),
        check_vae_loss_values,
    ),
    check(
        "vae_loss_gradients",
        (
            "gradients of vae_loss with respect to logits, mu and logvar equal torch's",
            "Gradienten von vae_loss nach logits, mu und logvar gleich denen von torch",
        ),
        (
            "Both terms must stay connected to their inputs: no .detach() or .item() on the "
            "reconstruction term or the KL.",
            "Beide Terme müssen mit ihren Eingaben verbunden bleiben: kein .detach() oder "
            ".item() am Rekonstruktionsterm oder an der KL.",
        ),
        check_vae_loss_gradients,
    ),
    check(
        "d_loss",
        (
            "discriminator_loss equals BCE(real_logits, 1) + BCE(fake_logits, 0), value and "
            "gradients",
            "discriminator_loss gleich BCE(real_logits, 1) + BCE(fake_logits, 0), Wert und "
            "Gradienten",
        ),
        (
            "D wants real images labelled 1 and fakes 0: softplus(-real).mean() + "
            "softplus(fake).mean(). Two means (the batches may differ in size), added.",
            "D will echte Bilder mit 1 und Fälschungen mit 0 bewerten: softplus(-real).mean() "
            "+ softplus(fake).mean(). Zwei Mittelwerte (die Batches können verschieden groß "
            "sein), addiert.",
        ),
        check_d_loss,
    ),
    check(
        "g_loss",
        (
            "generator_loss equals BCE(fake_logits, 1), the non-saturating loss, value and "
            "gradients",
            "generator_loss gleich BCE(fake_logits, 1), dem nicht sättigenden Verlust, Wert "
            "und Gradienten",
        ),
        (
            "Minimise -log D(G(z)) = softplus(-fake).mean(). The minimax form log(1 - D(G(z))) "
            "= -softplus(fake).mean() has the same optimum but a vanishing gradient while D "
            "rejects the fakes, which is exactly when G needs one.",
            "Minimieren Sie -log D(G(z)) = softplus(-fake).mean(). Die Minimax-Form "
            "log(1 - D(G(z))) = -softplus(fake).mean() hat dasselbe Optimum, aber einen "
            "verschwindenden Gradienten, solange D die Fälschungen zurückweist, also genau "
            "dann, wenn G ihn braucht.",
        ),
        check_g_loss,
    ),
    check(
        "gan_extreme_logits",
        (
            "both GAN losses stay finite and exact, value and gradients, at logits of +-100 "
            "in float32",
            "beide GAN-Verluste bleiben bei Logits von +-100 in float32 endlich und genau, "
            "Wert und Gradienten",
        ),
        (
            "sigmoid(100) is exactly 1.0 in float32, so log(1 - sigmoid(x)) is log(0) = -inf. "
            "Never form sigmoid first: log sigmoid(a) = -softplus(-a) and "
            "log(1 - sigmoid(a)) = -softplus(a), or F.binary_cross_entropy_with_logits.",
            "sigmoid(100) ist in float32 exakt 1.0, also ist log(1 - sigmoid(x)) = log(0) = "
            "-inf. Bilden Sie nie zuerst sigmoid: log sigmoid(a) = -softplus(-a) und "
            "log(1 - sigmoid(a)) = -softplus(a), oder F.binary_cross_entropy_with_logits.",
        ),
        check_gan_extreme_logits,
    ),
]
