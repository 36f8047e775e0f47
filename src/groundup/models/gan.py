"""A generative adversarial network (Goodfellow et al. 2014): two networks in a game.

The generator G turns noise z ~ N(0, I) into an image. The discriminator D looks at an
image and returns a logit: its belief that the image is real. D is trained to tell real from
generated; G is trained to fool D. The game's value (eq. 1 of the paper) is

    V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],     min_G max_D V

With D(x) = sigmoid(logit), both terms are binary cross-entropies, which is how they are
written here (log sigmoid(a) = -softplus(-a), log(1 - sigmoid(a)) = -softplus(a): exact
and finite for any logit):

    discriminator:               BCE(D(x), 1) + BCE(D(G(z)), 0)   = -V
    generator, minimax:          -BCE(D(G(z)), 0) = E log(1 - D(G(z)))     ("saturating")
    generator, non-saturating:   BCE(D(G(z)), 1)  = -E log D(G(z))

The minimax generator loss has the right fixed point but almost no gradient early on, when
D rejects every fake with confidence: log(1 - D) is flat where D is near 0. The paper's
non-saturating loss has the same fixed point and its steepest slope exactly there, so
everyone uses it. Losses are means over the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from groundup.nn.losses import softplus
from groundup.nn.mlp import Linear, leaky_relu, relu
from groundup.nn.normalization import BatchNorm1d

# ---------------------------------------------------------------- losses


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-log D(x) averaged over real images plus -log(1 - D(G(z))) averaged over fakes."""
    return softplus(-real_logits).mean() + softplus(fake_logits).mean()


def generator_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating: -log D(G(z)), averaged. Steep where D rejects the fakes."""
    return softplus(-fake_logits).mean()


def saturating_generator_loss(fake_logits: Tensor) -> Tensor:
    """Minimax: log(1 - D(G(z))), averaged. Its gradient vanishes as D(G(z)) goes to 0."""
    return -softplus(fake_logits).mean()


# ---------------------------------------------------------------- the two networks


class Generator(nn.Module):
    """z (N, latent) -> image (N, n_out) in [0, 1]: two layers of Linear, batch norm and
    ReLU, then a sigmoid.

    Batch norm in the generator is DCGAN's main stabiliser. On the digits, six runs without
    it (learning rates 2e-4 to 1e-3) still drew only one to four kinds of digit halfway
    through training (mode collapse); six runs with it drew all ten within 25 epochs.
    """

    def __init__(self, latent: int = 16, hidden: int = 128, n_out: int = 64) -> None:
        super().__init__()
        self.latent = latent
        self.fc1, self.norm1 = Linear(latent, hidden), BatchNorm1d(hidden)
        self.fc2, self.norm2 = Linear(hidden, hidden), BatchNorm1d(hidden)
        self.out = Linear(hidden, n_out)

    def forward(self, z: Tensor) -> Tensor:
        h = relu(self.norm1(self.fc1(z)))
        h = relu(self.norm2(self.fc2(h)))
        return torch.sigmoid(self.out(h))

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        device = self.out.weight.device
        return torch.randn(n, self.latent, generator=generator).to(device)


class Discriminator(nn.Module):
    """image (N, n_in) -> one logit per image. Leaky ReLU (slope 0.2, as in DCGAN) keeps a
    gradient for every input, which the generator needs: it learns only through D."""

    def __init__(self, n_in: int = 64, hidden: int = 128) -> None:
        super().__init__()
        self.fc1 = Linear(n_in, hidden)
        self.fc2 = Linear(hidden, hidden)
        self.out = Linear(hidden, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = leaky_relu(self.fc2(leaky_relu(self.fc1(x), 0.2)), 0.2)
        return self.out(h).squeeze(-1)


# ---------------------------------------------------------------- one round of the game


@dataclass
class StepStats:
    d_loss: float
    g_loss: float
    d_real: float  # mean D(x): the discriminator's belief that real images are real
    d_fake: float  # mean D(G(z)) before the discriminator's update


def train_step(
    gen: Generator,
    disc: Discriminator,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    generator: torch.Generator | None = None,
) -> StepStats:
    """One update of D, then one of G, on a batch of real images and as many fakes."""
    fake = gen(gen.noise(len(real), generator))

    # D's step: the fakes are detached, so this loss does not reach into G at all.
    real_logits, fake_logits = disc(real), disc(fake.detach())
    d_loss = discriminator_loss(real_logits, fake_logits)
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()

    # G's step, against the D just updated. Gradients also land in D's parameters; they
    # are thrown away by D's next zero_grad and never applied, as only opt_g steps here.
    g_loss = generator_loss(disc(fake))
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()

    return StepStats(
        d_loss=d_loss.item(),
        g_loss=g_loss.item(),
        d_real=torch.sigmoid(real_logits).mean().item(),
        d_fake=torch.sigmoid(fake_logits).mean().item(),
    )
