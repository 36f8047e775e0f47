"""Lab: autoencoders, a VAE and a GAN learn handwritten digits.

Data: scikit-learn's bundled digits (1797 grey images of 8x8 pixels, values scaled to
[0, 1]; no download), split into a stratified training and held-out test set. All models are
small MLPs from groundup.models.autoencoder and groundup.models.gan.

1. A plain autoencoder and a denoising one (same architecture, same initial weights, same
   batches; the second sees corrupted inputs) compress each digit to `code` numbers. Their
   test reconstruction error is compared with PCA at the same code size and with the
   "mean image" that knows nothing about the digit, on clean and on corrupted inputs.
2. A VAE with a `latent`-dimensional code (2 by default, so it can be drawn) is trained on
   the negative ELBO; the lab plots the codes of the test digits, coloured by class, and the
   images the decoder makes from an even grid of codes.
3. A GAN draws digits from noise. After every epoch it draws the same 100 noise vectors, so
   the pictures show one set of samples improving. Its samples are scored by a logistic
   regression trained on the real training digits: how confident it is (mean max
   probability), how many classes it sees, the entropy of the predicted classes and the
   "classifier score" exp(E_x KL(p(y|x) || p(y))), which is high only when each sample looks
   like one clear digit and all ten digits occur (the Inception score of Salimans et al.
   2016, with a small classifier). The same figures for real test digits and for uniform
   noise frame the numbers.

Artefacts: metrics.jsonl, reconstructions.png, latent.png, gan_progress.png (a montage over
epochs), gan_epochs/epoch_NNN.png (every epoch's samples), gan_samples.png (the last epoch,
larger) and curves.png (training losses of all four models).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.models.autoencoder import (
    NOISES,
    VAE,
    Autoencoder,
    corrupt,
    gaussian_kl,
    latent_grid,
    reconstruction_loss,
    vae_loss,
)
from groundup.models.gan import Discriminator, Generator, train_step

LAB = "autoencoders-gans"


@dataclass
class Config(runner.LabConfig):
    code: int = 8  # numbers per digit in the (denoising) autoencoder and in PCA
    latent: int = 2  # the VAE's latent dimensions (2 can be drawn as a plane)
    hidden: int = 128
    epochs: int = 60  # for each of the autoencoder, the denoising one and the VAE
    batch_size: int = 64
    lr: float = 2e-3
    noise: str = "mask"  # corruption for the denoising autoencoder: mask or gaussian
    noise_level: float = 0.3  # mask: share of pixels set to 0; gaussian: noise std
    beta: float = 1.0  # weight of the KL term in the VAE loss (1: the true ELBO)
    gan_epochs: int = 100
    gan_latent: int = 16
    gan_lr: float = 5e-4
    test_fraction: float = 0.25


PRESETS: dict[str, dict] = {
    "micro": {"epochs": 10, "gan_epochs": 12, "gan_lr": 1e-3},
    "tiny": {},
    "full": {"hidden": 256, "epochs": 200, "gan_epochs": 400, "gan_lr": 2e-4},
}

FIELD_HELP: dict[str, Msg] = {
    "code": Msg(
        "size of the autoencoders' code, and PCA components of the baseline",
        "Größe des Codes der Autoencoder und Anzahl der PCA-Komponenten der Vergleichsbasis",
    ),
    "latent": Msg(
        "latent dimensions of the VAE (2 can be drawn as a plane)",
        "latente Dimensionen des VAE (2 lassen sich als Ebene zeichnen)",
    ),
    "noise": Msg(
        "corruption for the denoising autoencoder: mask (pixels set to 0) or gaussian",
        "Störung für den entrauschenden Autoencoder: mask (Pixel auf 0) oder gaussian",
    ),
    "noise_level": Msg(
        "mask: share of pixels set to 0; gaussian: standard deviation of the noise",
        "mask: Anteil der auf 0 gesetzten Pixel; gaussian: Standardabweichung des Rauschens",
    ),
    "beta": Msg(
        "weight of the KL term in the VAE loss (1 is the true ELBO)",
        "Gewicht des KL-Terms im VAE-Verlust (1 ist die echte ELBO)",
    ),
    "gan_epochs": Msg(
        "passes over the training data for the GAN", "Durchläufe durch die Trainingsdaten (GAN)"
    ),
    "gan_latent": Msg(
        "length of the generator's noise vector", "Länge des Rauschvektors des Generators"
    ),
    "gan_lr": Msg(
        "learning rate of both GAN networks (Adam, beta1 = 0.5)",
        "Lernrate beider GAN-Netze (Adam, beta1 = 0,5)",
    ),
}

TEXT = {
    "training": Msg("Training {model}", "Training {model}"),
    "bad_setting": Msg("Invalid setting: {detail}", "Ungültige Einstellung: {detail}"),
    "original": Msg("original", "Original"),
    "noisy": Msg("corrupted", "gestört"),
    "from_noisy": Msg("from corrupted", "aus gestörtem"),
    "latent": Msg("VAE codes of the test digits (mean)", "VAE-Codes der Testziffern (Mittelwert)"),
    "grid": Msg("decoded from a grid of codes", "aus einem Raster von Codes dekodiert"),
    "epoch": Msg("epoch", "Epoche"),
    "progress": Msg(
        "GAN samples of the same noise, by epoch", "GAN-Bilder desselben Rauschens, nach Epoche"
    ),
    "table": Msg(
        "| images | confidence | classes | class entropy | classifier score |",
        "| Bilder | Konfidenz | Klassen | Klassenentropie | Klassifikator-Score |",
    ),
    "real": Msg("real test digits", "echte Testziffern"),
    "gan": Msg("GAN samples", "GAN-Bilder"),
    "uniform": Msg("uniform noise", "gleichverteiltes Rauschen"),
}


# ---------------------------------------------------------------- data


def load_data(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """Images as rows (N, side*side) in [0, 1], and labels (N,)."""
    if cfg.data is None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        return digits.data / 16.0, digits.target
    x, y = runner.load_labelled_arrays(cfg.data)
    side = math.isqrt(x.shape[1])
    if side * side != x.shape[1] or x.min() < 0 or x.max() <= 0:
        raise runner.LabError(
            runner.BAD_ARRAYS.get(
                file=cfg.data, detail="X needs square images as rows, values >= 0, not all 0"
            )
        )
    return x / x.max(), y


def split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int) -> tuple[Tensor, ...]:
    from sklearn.model_selection import train_test_split

    parts = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    x_train, x_test, y_train, y_test = parts
    as_float = {"dtype": torch.float32}
    return (
        torch.tensor(x_train, **as_float),
        torch.tensor(y_train),
        torch.tensor(x_test, **as_float),
        torch.tensor(y_test),
    )


# ---------------------------------------------------------------- training


def batches(n: int, batch_size: int, generator: torch.Generator) -> list[Tensor]:
    order = torch.randperm(n, generator=generator)
    return list(order.split(batch_size))


def train_autoencoder(
    cfg: Config, model: nn.Module, x: Tensor, kind: str, log: runner.MetricsLog
) -> list[float]:
    """Train an autoencoder ("ae", "dae") or a VAE ("vae"); the mean loss of every epoch."""
    torch.manual_seed(cfg.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    order_gen = torch.Generator().manual_seed(cfg.seed + 1)  # the same batches for every model
    noise_gen = torch.Generator().manual_seed(cfg.seed + 2)
    steps = math.ceil(len(x) / cfg.batch_size)
    history: list[float] = []
    with runner.progress(
        cfg.epochs * steps, TEXT["training"].get(model=kind.upper()), cfg.quiet
    ) as bar:
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            total = 0.0
            for batch in batches(len(x), cfg.batch_size, order_gen):
                clean = x[batch]
                if kind == "vae":
                    output, mu, logvar = model(clean)
                    loss = vae_loss(output, clean, mu, logvar, beta=cfg.beta)
                else:
                    seen = clean
                    if kind == "dae":
                        seen = corrupt(clean, cfg.noise, cfg.noise_level, noise_gen)
                    loss = reconstruction_loss(model(seen), clean)  # target: the clean image
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
                bar.update(info=f"loss {loss.item():.2f} nats/image")
            history.append(total / len(x))
            log.log(model=kind, epoch=epoch, loss=history[-1])
    return history


@torch.no_grad()
def pixel_mse(images: Tensor, target: Tensor) -> float:
    return (images - target).pow(2).mean().item()


@torch.no_grad()
def bernoulli_nll(probs: Tensor, x: Tensor) -> float:
    """-log p(x) in nats per image when every pixel is a coin with P(ink) = probs: the
    mean image as a model with no code at all, the baseline for the VAE's -ELBO."""
    return reconstruction_loss(torch.logit(probs.clamp(1e-6, 1 - 1e-6)), x).item()


@torch.no_grad()
def vae_test_figures(model: VAE, x: Tensor, seed: int) -> dict[str, float]:
    """Negative ELBO (one sample of z per image, fixed noise), its two parts, and pixel MSE."""
    model.eval()
    mu, logvar = model.encode(x)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(seed))
    output, _, _ = model(x, eps)
    recon = reconstruction_loss(output, x).item()
    kl = gaussian_kl(mu, logvar).mean().item()
    return {
        "neg_elbo": recon + kl,
        "recon": recon,
        "kl": kl,
        "mse": pixel_mse(torch.sigmoid(model.decode(mu)), x),
    }


def train_gan(
    cfg: Config, x: Tensor, fixed_z: Tensor, out: Path, log: runner.MetricsLog
) -> tuple[Generator, list[Tensor], dict[str, list[float]]]:
    """Train the GAN; returns G, the samples of `fixed_z` after every epoch, and curves."""
    torch.manual_seed(cfg.seed)
    gen = Generator(cfg.gan_latent, cfg.hidden, x.shape[1])
    disc = Discriminator(x.shape[1], cfg.hidden)
    # Adam with beta1 = 0.5, as DCGAN: less momentum follows the moving target better.
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.gan_lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.gan_lr, betas=(0.5, 0.999))
    order_gen = torch.Generator().manual_seed(cfg.seed + 3)
    noise_gen = torch.Generator().manual_seed(cfg.seed + 4)
    full, rest = divmod(len(x), cfg.batch_size)
    steps = full + (rest > 1)  # a last batch of one image is skipped (see below)
    (out / "gan_epochs").mkdir(exist_ok=True)
    snapshots: list[Tensor] = []
    curves: dict[str, list[float]] = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
    with runner.progress(
        cfg.gan_epochs * steps, TEXT["training"].get(model="GAN"), cfg.quiet
    ) as bar:
        for epoch in range(1, cfg.gan_epochs + 1):
            gen.train()
            disc.train()
            sums = dict.fromkeys(curves, 0.0)
            for batch in batches(len(x), cfg.batch_size, order_gen):
                if len(batch) < 2:  # batch norm in G needs two samples to normalise over
                    continue
                stats = train_step(gen, disc, opt_g, opt_d, x[batch], noise_gen)
                for name in sums:
                    sums[name] += getattr(stats, name) / steps
                bar.update(info=f"D {stats.d_loss:.2f} | G {stats.g_loss:.2f}")
            for name, value in sums.items():
                curves[name].append(value)
            log.log(model="gan", epoch=epoch, **sums)
            gen.eval()
            with torch.no_grad():
                snapshots.append(gen(fixed_z))
            save_grid(out / "gan_epochs" / f"epoch_{epoch:03d}.png", snapshots[-1])
    return gen, snapshots, curves


# ---------------------------------------------------------------- scoring samples


def sample_scores(classifier, images: Tensor) -> dict[str, float]:
    """How a digit classifier sees a set of images.

    confidence: mean over images of the largest class probability.
    classes: how many of the ten classes are predicted at least once per 1 % of the images.
    class_entropy: entropy (nats) of the predicted-class histogram; ln 10 = 2.30 is even.
    score: exp(mean KL(p(y|x) || p(y))), between 1 and 10: high only for confident AND
    varied predictions.
    """
    probs = classifier.predict_proba(images.double().numpy())
    predicted = probs.argmax(1)
    counts = np.bincount(predicted, minlength=probs.shape[1])
    share = counts / counts.sum()
    marginal = probs.mean(0)
    kl = (probs * (np.log(probs + 1e-12) - np.log(marginal + 1e-12))).sum(1)
    return {
        "confidence": float(probs.max(1).mean()),
        "classes": int((share >= 0.01).sum()),
        "class_entropy": float(-(share[share > 0] * np.log(share[share > 0])).sum()),
        "score": float(np.exp(kl.mean())),
    }


# ---------------------------------------------------------------- the experiment


def validate(cfg: Config) -> None:
    problems = [
        f"{name} must be at least 1, got {getattr(cfg, name)}"
        for name in ("code", "hidden", "epochs", "batch_size", "gan_epochs", "gan_latent")
        if getattr(cfg, name) < 1
    ]
    if cfg.latent < 2:
        problems.append(f"latent must be at least 2 (the plot needs a plane), got {cfg.latent}")
    if cfg.noise not in NOISES:
        problems.append(f"noise must be one of {', '.join(NOISES)}, got {cfg.noise!r}")
    if cfg.noise == "mask" and not 0.0 <= cfg.noise_level < 1.0:
        problems.append(f"noise_level must lie in [0, 1) for mask, got {cfg.noise_level}")
    if cfg.noise_level < 0:
        problems.append(f"noise_level cannot be negative, got {cfg.noise_level}")
    if not 0.05 <= cfg.test_fraction <= 0.5:
        problems.append(f"test_fraction must lie in [0.05, 0.5], got {cfg.test_fraction}")
    if cfg.lr <= 0 or cfg.gan_lr <= 0 or cfg.beta < 0:
        problems.append("lr and gan_lr must be positive, beta not negative")
    if problems:
        raise runner.LabError(TEXT["bad_setting"].get(detail="; ".join(problems)))


def run(cfg: Config) -> runner.LabReport:
    validate(cfg)
    with runner.one_torch_thread():  # small tensors: a second thread only waits
        return experiment(cfg)


def experiment(cfg: Config) -> runner.LabReport:
    timer = runner.Timer()
    cpu_start = time.process_time()
    runner.resolve_device(cfg.device)  # the models are tiny: the lab always runs on the CPU
    out = runner.start(cfg, LAB)
    x, y = load_data(cfg)
    if cfg.code >= x.shape[1]:
        raise runner.LabError(
            TEXT["bad_setting"].get(detail=f"code must be below {x.shape[1]} pixels")
        )
    x_train, y_train, x_test, y_test = split(x, y, cfg.test_fraction, cfg.seed)
    n_in = x_train.shape[1]
    noisy_test = corrupt(
        x_test, cfg.noise, cfg.noise_level, torch.Generator().manual_seed(cfg.seed + 5)
    )
    log = runner.MetricsLog(out / "metrics.jsonl")

    # 1. plain and denoising autoencoder from the same initial weights, and PCA
    torch.manual_seed(cfg.seed)
    ae = Autoencoder(n_in, (cfg.hidden,), cfg.code)
    dae = Autoencoder(n_in, (cfg.hidden,), cfg.code)
    dae.load_state_dict(ae.state_dict())
    histories = {
        "ae": train_autoencoder(cfg, ae, x_train, "ae", log),
        "dae": train_autoencoder(cfg, dae, x_train, "dae", log),
    }
    from sklearn.decomposition import PCA

    pca = PCA(cfg.code).fit(x_train.double().numpy())

    def pca_recon(images: Tensor) -> Tensor:
        coded = pca.inverse_transform(pca.transform(images.double().numpy()))
        return torch.tensor(coded, dtype=torch.float32)

    with torch.no_grad():
        ae.eval()
        dae.eval()
        recon = {
            "ae": torch.sigmoid(ae(x_test)),
            "dae": torch.sigmoid(dae(x_test)),
            "pca": pca_recon(x_test),
            "ae_noisy": torch.sigmoid(ae(noisy_test)),
            "dae_noisy": torch.sigmoid(dae(noisy_test)),
            "pca_noisy": pca_recon(noisy_test),
        }
    mean_image = x_train.mean(0, keepdim=True).expand_as(x_test)

    # 2. the VAE
    torch.manual_seed(cfg.seed)
    vae = VAE(n_in, (cfg.hidden,), cfg.latent)
    vae_before = vae_test_figures(vae, x_test, cfg.seed)
    histories["vae"] = train_autoencoder(cfg, vae, x_train, "vae", log)
    vae_after = vae_test_figures(vae, x_test, cfg.seed)

    # 3. the GAN, scored by a classifier of real digits
    fixed_z = torch.randn(100, cfg.gan_latent, generator=torch.Generator().manual_seed(cfg.seed))
    gen, snapshots, gan_curves = train_gan(cfg, x_train, fixed_z, out, log)
    log.close()
    classifier = fit_classifier(x_train, y_train)
    classifier_accuracy = float(classifier.score(x_test.double().numpy(), y_test.numpy()))
    with torch.no_grad():
        gen.eval()
        samples = gen(gen.noise(1000, torch.Generator().manual_seed(cfg.seed + 6)))
    uniform = torch.rand(1000, n_in, generator=torch.Generator().manual_seed(cfg.seed + 7))
    scores = {
        "real": sample_scores(classifier, x_test),
        "gan": sample_scores(classifier, samples),
        "uniform": sample_scores(classifier, uniform),
    }

    with torch.no_grad():
        vae.eval()
        mu_test = vae.encode(x_test)[0]
        vae_recon = torch.sigmoid(vae.decode(mu_test))
    artifacts = {
        "reconstructions": save_reconstructions(
            out / "reconstructions.png", x_test, y_test, noisy_test, recon, vae_recon
        ),
        "latent": save_latent(out / "latent.png", vae, mu_test, y_test),
        "gan_progress": save_progress(out / "gan_progress.png", snapshots),
        "gan_samples": save_grid(out / "gan_samples.png", snapshots[-1], scale=6),
        "gan_epochs": out / "gan_epochs",
        "curves": save_curves(out / "curves.png", histories, gan_curves),
        "metrics": out / "metrics.jsonl",
    }
    metrics: dict[str, float | int | str] = {
        "mean_image_mse": pixel_mse(mean_image, x_test),
        "pca_mse": pixel_mse(recon["pca"], x_test),
        "ae_mse": pixel_mse(recon["ae"], x_test),
        "dae_mse": pixel_mse(recon["dae"], x_test),
        "noisy_input_mse": pixel_mse(noisy_test, x_test),
        "pca_noisy_mse": pixel_mse(recon["pca_noisy"], x_test),
        "ae_noisy_mse": pixel_mse(recon["ae_noisy"], x_test),
        "dae_noisy_mse": pixel_mse(recon["dae_noisy"], x_test),
        "mean_image_neg_loglik": bernoulli_nll(mean_image, x_test),
        "vae_initial_neg_elbo": vae_before["neg_elbo"],
        "vae_neg_elbo": vae_after["neg_elbo"],
        "vae_recon": vae_after["recon"],
        "vae_kl": vae_after["kl"],
        "vae_mse": vae_after["mse"],
        "classifier_accuracy": classifier_accuracy,
        "gan_d_real": gan_curves["d_real"][-1],
        "gan_d_fake": gan_curves["d_fake"][-1],
    }
    for name, figures in scores.items():
        for figure, value in figures.items():
            metrics[f"{name}_{figure}"] = value
    metrics.update(
        train_examples=len(y_train),
        test_examples=len(y_test),
        cpu_seconds=round(time.process_time() - cpu_start, 1),
    )
    return runner.LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts=artifacts,
        text=score_table(scores),
        seconds=timer.seconds,
    )


def fit_classifier(x: Tensor, y: Tensor):
    """Logistic regression on the real training digits: the judge of the GAN's samples."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000).fit(x.double().numpy(), y.numpy())


def score_table(scores: dict[str, dict[str, float]]) -> str:
    lines = [TEXT["table"].get(), "|---|---|---|---|---|"]
    for name, s in scores.items():
        lines.append(
            f"| {TEXT[name].get()} | {s['confidence']:.3f} | {s['classes']} | "
            f"{s['class_entropy']:.3f} | {s['score']:.2f} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- pictures


def tile(images: Tensor, columns: int, gap: int = 1) -> np.ndarray:
    """Rows of flattened square images as one picture, `columns` per row, white gaps."""
    side = math.isqrt(images.shape[1])
    rows = math.ceil(len(images) / columns)
    canvas = np.ones((rows * (side + gap) + gap, columns * (side + gap) + gap))
    for i, image in enumerate(images.detach().cpu().numpy()):
        r, c = divmod(i, columns)
        top, left = gap + r * (side + gap), gap + c * (side + gap)
        canvas[top : top + side, left : left + side] = 1.0 - image.reshape(side, side)
    return canvas  # ink dark on white


def save_grid(path: Path, images: Tensor, scale: int = 3) -> Path:
    """A square grid of the images as a PNG, without a figure: fast enough for every epoch."""
    plt = runner.pyplot()
    picture = tile(images.clamp(0, 1), columns=math.ceil(math.sqrt(len(images))))
    picture = picture.repeat(scale, axis=0).repeat(scale, axis=1)
    plt.imsave(path, picture, cmap="gray", vmin=0, vmax=1)
    return path


def save_reconstructions(
    path: Path,
    x: Tensor,
    y: Tensor,
    noisy: Tensor,
    recon: dict[str, Tensor],
    vae_recon: Tensor,
) -> Path:
    """One test digit of each class per column; rows: clean-input models, then noisy ones."""
    plt = runner.pyplot()
    columns = [int((y == digit).nonzero()[0]) for digit in sorted(set(y.tolist()))]
    rows = [
        (TEXT["original"].get(), x),
        ("PCA", recon["pca"]),
        ("AE", recon["ae"]),
        ("DAE", recon["dae"]),
        ("VAE", vae_recon),
        (TEXT["noisy"].get(), noisy),
        (f"PCA {TEXT['from_noisy'].get()}", recon["pca_noisy"]),
        (f"AE {TEXT['from_noisy'].get()}", recon["ae_noisy"]),
        (f"DAE {TEXT['from_noisy'].get()}", recon["dae_noisy"]),
    ]
    # one picture and one axes: 90 small axes would take matplotlib seconds to draw
    picture = tile(torch.cat([images[columns] for _, images in rows]), columns=len(columns))
    side = math.isqrt(x.shape[1])
    fig, ax = plt.subplots(figsize=(len(columns) * 0.7 + 1.8, len(rows) * 0.7 + 0.3), dpi=110)
    ax.imshow(picture, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([1 + r * (side + 1) + side / 2 - 0.5 for r in range(len(rows))])
    ax.set_yticklabels([name for name, _ in rows], fontsize=8)
    ax.tick_params(length=0)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


@torch.no_grad()
def save_latent(path: Path, vae: VAE, mu: Tensor, y: Tensor, side: int = 12) -> Path:
    """Left: the test digits' codes (first two dimensions). Right: decoded grid of codes."""
    plt = runner.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5.2), dpi=110)
    points = left.scatter(mu[:, 0], mu[:, 1], c=y.numpy(), cmap="tab10", s=9, vmin=-0.5, vmax=9.5)
    fig.colorbar(points, ax=left, ticks=range(10))
    left.set_title(TEXT["latent"].get())
    left.set_xlabel("z1")
    left.set_ylabel("z2")
    left.grid(alpha=0.3)
    span = 2.0  # two standard deviations of the prior on each side
    codes = torch.zeros(side * side, vae.latent)
    codes[:, :2] = latent_grid(side, span)
    picture = tile(torch.sigmoid(vae.decode(codes)), columns=side)
    right.imshow(picture, cmap="gray", extent=(-span, span, -span, span), vmin=0, vmax=1)
    right.set_title(TEXT["grid"].get())
    right.set_xlabel("z1")
    right.set_ylabel("z2")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_progress(path: Path, snapshots: list[Tensor], rows: int = 10) -> Path:
    """Up to `rows` epochs, evenly spread, the first and last included: 10 samples each."""
    plt = runner.pyplot()
    picks = sorted({round(i * (len(snapshots) - 1) / max(rows - 1, 1)) for i in range(rows)})
    fig, axes = plt.subplots(len(picks), 1, figsize=(7, 0.8 * len(picks) + 0.6), dpi=110)
    for ax, index in zip(np.atleast_1d(axes), picks, strict=True):
        ax.imshow(tile(snapshots[index][:10], columns=10), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(f"{index + 1}", rotation=0, ha="right", va="center")
    fig.suptitle(TEXT["progress"].get())
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_curves(path: Path, histories: dict[str, list[float]], gan: dict[str, list[float]]) -> Path:
    plt = runner.pyplot()
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4), dpi=110)
    for name, losses in histories.items():
        left.plot(range(1, len(losses) + 1), losses, label=name.upper())
    left.set_ylabel("nats / image")
    left.set_title("AE, DAE: -log p(x|z); VAE: -ELBO")
    epochs = range(1, len(gan["d_loss"]) + 1)
    middle.plot(epochs, gan["d_loss"], label="D loss")
    middle.plot(epochs, gan["g_loss"], label="G loss (non-saturating)")
    middle.axhline(2 * math.log(2), color="grey", ls=":", label="D loss at D = 1/2: 2 ln 2")
    middle.set_title("GAN losses")
    right.plot(epochs, gan["d_real"], label="D(x)")
    right.plot(epochs, gan["d_fake"], label="D(G(z))")
    right.axhline(0.5, color="grey", ls=":")
    right.set_ylim(0, 1)
    right.set_title("GAN: the discriminator's beliefs")
    for ax in (left, middle, right):
        ax.set_xlabel(TEXT["epoch"].get())
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
