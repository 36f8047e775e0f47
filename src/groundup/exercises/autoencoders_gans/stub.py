"""Exercise `autoencoders_gans`: the pieces of a VAE and a GAN that are easy to get subtly wrong.

Write
- `reparameterize(mu, logvar, eps)`: a sample of N(mu, exp(logvar)) that autograd can
  differentiate with respect to mu and logvar;
- `gaussian_kl(mu, logvar)`: KL(N(mu, exp(logvar)) || N(0, I)) in closed form, per example;
- `vae_loss(logits, x, mu, logvar)`: the negative ELBO with a Bernoulli likelihood;
- `discriminator_loss(real_logits, fake_logits)` and `generator_loss(fake_logits)`: the GAN
  losses, with the non-saturating generator loss.
`groundup check autoencoders-gans` compares values and gradients with torch.distributions
(Normal.rsample, kl_divergence, Bernoulli.log_prob) and with
torch.nn.functional.binary_cross_entropy_with_logits, also at logits of +-100. Do not call
torch.distributions yourself; F.softplus and F.binary_cross_entropy_with_logits are fine.

DE: Übung `autoencoders_gans`: die Teile eines VAE und eines GAN, die man leicht unbemerkt
falsch macht. Schreiben Sie `reparameterize(mu, logvar, eps)` (eine Stichprobe aus
N(mu, exp(logvar)), die Autograd nach mu und logvar ableiten kann), `gaussian_kl(mu, logvar)`
(KL(N(mu, exp(logvar)) || N(0, I)) in geschlossener Form, pro Beispiel),
`vae_loss(logits, x, mu, logvar)` (die negative ELBO mit Bernoulli-Likelihood) sowie
`discriminator_loss(real_logits, fake_logits)` und `generator_loss(fake_logits)` (die
GAN-Verluste, mit dem nicht sättigenden Generatorverlust). `groundup check autoencoders-gans`
vergleicht Werte und Gradienten mit torch.distributions (Normal.rsample, kl_divergence,
Bernoulli.log_prob) und mit torch.nn.functional.binary_cross_entropy_with_logits, auch bei
Logits von +-100. Rufen Sie torch.distributions nicht selbst auf; F.softplus und
F.binary_cross_entropy_with_logits dürfen Sie verwenden.
"""

from __future__ import annotations

import torch  # noqa: F401 - imported for you: torch.exp, torch.randn_like, ...
import torch.nn.functional as F  # noqa: F401 - F.softplus, F.binary_cross_entropy_with_logits
from torch import Tensor


def reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor) -> Tensor:
    """z = mu + sigma * eps, the reparameterisation trick.

    mu, logvar, eps: tensors of the same shape (N, d). logvar is log sigma^2, the log of the
    VARIANCE, so sigma = exp(logvar / 2). eps is standard normal noise, given to you so the
    result can be checked; use it, do not draw your own.
    Returns z of shape (N, d). Gradients must reach mu and logvar (the noise has none).

    DE: z = mu + sigma * eps, der Reparametrisierungstrick. mu, logvar, eps: gleiche Form
    (N, d). logvar ist log sigma^2, der Logarithmus der VARIANZ, also sigma = exp(logvar / 2).
    eps ist Standardnormal-Rauschen, das Sie bekommen, damit das Ergebnis prüfbar ist:
    verwenden Sie es, ziehen Sie kein eigenes. Rückgabe: z der Form (N, d). Gradienten
    müssen mu und logvar erreichen.
    """
    raise NotImplementedError("TODO: reparameterize")


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL( N(mu, diag(sigma^2)) || N(0, I) ) for each example, in closed form.

    mu, logvar: (N, d). Per dimension the KL is 0.5 * (mu^2 + sigma^2 - 1 - log sigma^2);
    add it up over the d latent dimensions. Returns shape (N,): one number per example.

    DE: KL( N(mu, diag(sigma^2)) || N(0, I) ) pro Beispiel, in geschlossener Form.
    mu, logvar: (N, d). Pro Dimension ist die KL 0.5 * (mu^2 + sigma^2 - 1 - log sigma^2);
    summieren Sie über die d latenten Dimensionen. Rückgabe: Form (N,), eine Zahl pro Beispiel.
    """
    raise NotImplementedError("TODO: gaussian_kl")


def vae_loss(logits: Tensor, x: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """The negative ELBO, averaged over the batch: a 0-dim tensor, in nats per image.

    logits: (N, D) the decoder's output for one sample z per image; p(pixel = 1) is
    sigmoid(logits). x: (N, D) the images, values in [0, 1]. mu, logvar: (N, d).
    Per image: -log p(x | z) = binary cross-entropy SUMMED over the D pixels, plus the KL
    term of `gaussian_kl`. Then the mean over the N images.

    DE: Die negative ELBO, gemittelt über den Batch: ein 0-dimensionaler Tensor, in Nats pro
    Bild. logits: (N, D), die Ausgabe des Decoders für ein z pro Bild; p(Pixel = 1) ist
    sigmoid(logits). x: (N, D), die Bilder mit Werten in [0, 1]. mu, logvar: (N, d).
    Pro Bild: -log p(x | z) = binäre Kreuzentropie, über die D Pixel SUMMIERT, plus der
    KL-Term aus `gaussian_kl`. Dann der Mittelwert über die N Bilder.
    """
    raise NotImplementedError("TODO: vae_loss")


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-mean log D(x) over real images  -  mean log(1 - D(G(z))) over fakes.

    real_logits: (N,) the discriminator's logits for real images; fake_logits: (M,) for
    generated ones; D = sigmoid(logit). Returns a 0-dim tensor. Must be finite and exact for
    logits of +-100: use log sigmoid(a) = -softplus(-a), log(1 - sigmoid(a)) = -softplus(a).

    DE: -Mittelwert von log D(x) über echte Bilder minus Mittelwert von log(1 - D(G(z)))
    über erzeugte. real_logits: (N,), fake_logits: (M,), D = sigmoid(Logit). Rückgabe: ein
    0-dimensionaler Tensor, endlich und genau auch bei Logits von +-100: nutzen Sie
    log sigmoid(a) = -softplus(-a) und log(1 - sigmoid(a)) = -softplus(a).
    """
    raise NotImplementedError("TODO: discriminator_loss")


def generator_loss(fake_logits: Tensor) -> Tensor:
    """The NON-SATURATING generator loss: -mean log D(G(z)).

    fake_logits: (M,) the discriminator's logits for generated images. Returns a 0-dim
    tensor. (The minimax loss, mean log(1 - D(G(z))), is the wrong answer here: its gradient
    vanishes when D rejects the fakes.)

    DE: Der NICHT SÄTTIGENDE Generatorverlust: -Mittelwert von log D(G(z)). fake_logits: (M,).
    Rückgabe: ein 0-dimensionaler Tensor. (Der Minimax-Verlust, Mittelwert von
    log(1 - D(G(z))), ist hier falsch: sein Gradient verschwindet, wenn D die Fälschungen
    zurückweist.)
    """
    raise NotImplementedError("TODO: generator_loss")
