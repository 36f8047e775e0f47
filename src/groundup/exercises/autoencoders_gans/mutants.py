"""Planted bugs for the `autoencoders_gans` exercise, each a full learner file that one check
must catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import torch
import torch.nn.functional as F


def reparameterize(mu, logvar, eps):
    std = torch.exp(0.5 * logvar)
    return mu + std * eps


def gaussian_kl(mu, logvar):
    kl = 0.5 * (mu**2 + torch.exp(logvar) - 1 - logvar)
    return kl.sum(dim=-1)


def vae_loss(logits, x, mu, logvar):
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    return (recon + gaussian_kl(mu, logvar)).mean()


def discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits):
    return F.softplus(-fake_logits).mean()
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


STD = "    std = torch.exp(0.5 * logvar)\n"
KL = "    kl = 0.5 * (mu**2 + torch.exp(logvar) - 1 - logvar)\n"
RECON = '    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)\n'
D_LOSS = "    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()\n"
G_LOSS = "    return F.softplus(-fake_logits).mean()\n"

MUTANTS: list[Mutant] = [
    Mutant(
        "logvar_used_as_std",
        catches="reparameterize_values",
        source=_plant(STD, "    std = logvar\n"),
        note="treats the log-variance as the standard deviation",
    ),
    Mutant(
        "std_missing_half",
        catches="reparameterize_values",
        source=_plant(STD, "    std = torch.exp(logvar)\n"),
        note="exp(logvar) is the variance, not the standard deviation",
    ),
    Mutant(
        "fresh_noise",
        catches="reparameterize_values",
        source=_plant(STD, STD + "    eps = torch.randn_like(mu)\n"),
        note="draws its own noise instead of using eps: right distribution, other numbers",
    ),
    Mutant(
        "std_detached",
        catches="reparameterize_gradients",
        source=_plant(STD, "    std = torch.exp(0.5 * logvar).detach()\n"),
        note="right values, but the encoder never learns its variance",
    ),
    Mutant(
        "sampled_without_the_trick",
        catches="reparameterize_gradients",
        source=_plant(
            "    return mu + std * eps\n",
            "    with torch.no_grad():\n        z = mu + std * eps\n    return z\n",
        ),
        note="the sample is right but cut off from mu and logvar, like torch.normal",
    ),
    Mutant(
        "kl_summed_over_the_batch",
        catches="kl_shape",
        source=_plant("    return kl.sum(dim=-1)\n", "    return kl.sum()\n"),
    ),
    Mutant(
        "kl_sign_flipped",
        catches="kl_values",
        source=_plant(KL, KL.replace("0.5 * (", "-0.5 * (")),
        note="the ELBO's -KL written into a loss that should add +KL",
    ),
    Mutant(
        "kl_missing_half",
        catches="kl_values",
        source=_plant(KL, KL.replace("0.5 * (", "(")),
    ),
    Mutant(
        "kl_mean_over_latent_dimensions",
        catches="kl_values",
        source=_plant("    return kl.sum(dim=-1)\n", "    return kl.mean(dim=-1)\n"),
        note="the right shape, but the KL of d independent dimensions is their sum",
    ),
    Mutant(
        "kl_sigma_for_variance",
        catches="kl_values",
        source=_plant(KL, KL.replace("torch.exp(logvar)", "torch.exp(0.5 * logvar)")),
        note="sigma where the formula has sigma^2",
    ),
    Mutant(
        "kl_variance_detached",
        catches="kl_gradients",
        source=_plant(KL, KL.replace("torch.exp(logvar)", "torch.exp(logvar.detach())")),
        note="right value; the gradient for logvar loses its sigma^2 part",
    ),
    Mutant(
        "reconstruction_mean_over_pixels",
        catches="vae_loss_values",
        source=_plant(RECON, "    recon = F.binary_cross_entropy_with_logits(logits, x)\n"),
        note="the default reduction averages over pixels: reconstruction weighs D times less",
    ),
    Mutant(
        "elbo_sign_mix_up",
        catches="vae_loss_values",
        source=_plant(
            "    return (recon + gaussian_kl(mu, logvar)).mean()\n",
            "    return (recon - gaussian_kl(mu, logvar)).mean()\n",
        ),
        note="subtracts the KL: the negative ELBO adds it",
    ),
    Mutant(
        "vae_loss_summed_over_the_batch",
        catches="vae_loss_values",
        source=_plant(
            "    return (recon + gaussian_kl(mu, logvar)).mean()\n",
            "    return (recon + gaussian_kl(mu, logvar)).sum()\n",
        ),
    ),
    Mutant(
        "mse_instead_of_bernoulli",
        catches="vae_loss_values",
        source=_plant(RECON, "    recon = ((torch.sigmoid(logits) - x) ** 2).sum(dim=1)\n"),
        note="a Gaussian likelihood (up to scale) where a Bernoulli one was asked for",
    ),
    Mutant(
        "kl_detached_in_the_loss",
        catches="vae_loss_gradients",
        source=_plant(
            "    return (recon + gaussian_kl(mu, logvar)).mean()\n",
            "    return (recon + gaussian_kl(mu, logvar).detach()).mean()\n",
        ),
        note="right value, but the prior never pulls on the encoder",
    ),
    Mutant(
        "discriminator_labels_swapped",
        catches="d_loss",
        source=_plant(
            D_LOSS, "    return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()\n"
        ),
    ),
    Mutant(
        "discriminator_one_mean_over_both",
        catches="d_loss",
        source=_plant(
            D_LOSS,
            "    return torch.cat([F.softplus(-real_logits), F.softplus(fake_logits)]).mean()\n",
        ),
        note="one mean over both batches: half the loss, and wrong when the sizes differ",
    ),
    Mutant(
        "saturating_generator_loss",
        catches="g_loss",
        source=_plant(G_LOSS, "    return -F.softplus(fake_logits).mean()\n"),
        note="the minimax form log(1 - D(G(z))): same optimum, vanishing gradient early on",
    ),
    Mutant(
        "generator_loss_sign_flipped",
        catches="g_loss",
        source=_plant(G_LOSS, "    return -F.softplus(-fake_logits).mean()\n"),
        note="helps the discriminator instead of fooling it",
    ),
    Mutant(
        "naive_log_sigmoid",
        catches="gan_extreme_logits",
        source=_plant(
            D_LOSS,
            "    d_real, d_fake = torch.sigmoid(real_logits), torch.sigmoid(fake_logits)\n"
            "    return -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())\n",
        ),
        note="sigmoid first, then log: log(0) = -inf once a logit reaches about 17 (float32)",
    ),
    Mutant(
        "clamped_log_sigmoid",
        catches="gan_extreme_logits",
        source=_plant(
            G_LOSS,
            "    return -torch.log(torch.sigmoid(fake_logits).clamp(min=1e-7)).mean()\n",
        ),
        note="the clamp hides the inf but caps the loss and zeroes the gradient",
    ),
]
