"""The autoencoders-and-GANs lab at the micro preset learns what it claims.

Micro thresholds, with the figures measured over seeds 0-3 in brackets:
- the autoencoder's test pixel MSE is below half the mean-image baseline (0.31-0.34 of it);
- the denoising autoencoder, fed corrupted test digits, lands closer to the clean digits
  than its input was (about half the input's error);
- the VAE's -ELBO on the test set falls below 0.7 of its value at initialisation
  (0.56-0.57) and below the exact -log-likelihood of the mean image, a model without a code
  (by 1.1-1.4 nats);
- the GAN's samples, judged by a logistic regression trained on real digits, reach a
  classifier score 1.3 times that of uniform noise (1.5-2.0 times) and six or more classes
  (8-10).
The tiny preset is measured in the lesson, not here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from groundup.labs import autoencoders_gans as lab
from groundup.labs import runner

PNG = b"\x89PNG\r\n\x1a\n"


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> runner.LabReport:
    threads = torch.get_num_threads()
    result = lab.run(micro(tmp_path_factory.mktemp("micro")))
    assert torch.get_num_threads() == threads  # the lab gives its thread setting back
    return result


def test_autoencoders_beat_the_mean_image_and_the_dae_denoises(report) -> None:
    m = report.metrics
    assert m["ae_mse"] < 0.5 * m["mean_image_mse"]
    assert m["pca_mse"] < 0.5 * m["mean_image_mse"]  # the baseline itself is sensible
    assert m["dae_noisy_mse"] < 0.7 * m["noisy_input_mse"]
    assert m["train_examples"] + m["test_examples"] == 1797


def test_vae_elbo_improves_past_a_model_without_a_code(report) -> None:
    m = report.metrics
    assert m["vae_neg_elbo"] < 0.7 * m["vae_initial_neg_elbo"]
    assert m["vae_neg_elbo"] < m["mean_image_neg_loglik"]
    assert m["vae_neg_elbo"] == pytest.approx(m["vae_recon"] + m["vae_kl"])
    assert m["vae_kl"] > 0


def test_gan_samples_look_like_digits_to_a_classifier(report) -> None:
    m = report.metrics
    assert m["classifier_accuracy"] > 0.9
    assert m["real_classes"] == 10 and m["real_score"] > 5
    assert m["gan_score"] > 1.3 * m["uniform_score"]
    assert m["gan_classes"] >= 6
    assert "GAN samples" in report.text and len(report.text.splitlines()) == 5


def test_artifacts_and_metrics_log(report) -> None:
    out = report.out_dir
    for name in ("reconstructions", "latent", "gan_progress", "gan_samples", "curves"):
        assert report.artifacts[name].read_bytes()[:8] == PNG
    epochs = sorted((out / "gan_epochs").glob("epoch_*.png"))
    assert [p.name for p in epochs] == [f"epoch_{i:03d}.png" for i in range(1, 13)]
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["model"] for r in records] == ["ae"] * 10 + ["dae"] * 10 + ["vae"] * 10 + ["gan"] * 12
    vae = [r["loss"] for r in records if r["model"] == "vae"]
    assert vae[-1] < vae[0]
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(records[-1])


def test_gan_training_skips_a_last_batch_of_one(tmp_path: Path) -> None:
    """Batch norm in the generator cannot normalise a single image."""
    cfg = micro(tmp_path, batch_size=2, gan_epochs=2, hidden=8, gan_latent=3)
    log = runner.MetricsLog(tmp_path / "metrics.jsonl")
    x = torch.rand(5, 4)  # batches of 2, 2 and 1
    gen, snapshots, curves = lab.train_gan(cfg, x, torch.randn(3, 3), tmp_path, log)
    log.close()
    assert len(snapshots) == 2 and snapshots[-1].shape == (3, 4)
    assert all(0 < d < 1 for d in curves["d_real"])


def test_tile_places_images_row_by_row() -> None:
    images = torch.zeros(3, 4)
    images[1] = 1.0  # the second image is all ink
    picture = lab.tile(images, columns=2, gap=1)
    assert picture.shape == (2 * 3 + 1, 2 * 3 + 1)
    assert (picture[1:3, 4:6] == 0).all() and (picture[1:3, 1:3] == 1).all()


def test_sample_scores_of_a_perfect_and_a_collapsed_set() -> None:
    class Oracle:  # sees the class in the first pixel, with certainty
        def predict_proba(self, x):
            import numpy as np

            return np.eye(10)[x[:, 0].astype(int)]

    varied = torch.arange(10.0).repeat(10)[:, None].expand(100, 4)
    scores = lab.sample_scores(Oracle(), varied)
    assert scores["classes"] == 10 and scores["score"] == pytest.approx(10.0)
    collapsed = lab.sample_scores(Oracle(), torch.full((100, 4), 3.0))
    assert collapsed["classes"] == 1 and collapsed["score"] == pytest.approx(1.0)
    assert collapsed["confidence"] == pytest.approx(1.0)  # confident, and yet one digit


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": 0}, "code"),
        ({"latent": 1}, "latent"),
        ({"noise": "salt"}, "noise"),
        ({"noise_level": 1.0}, "noise_level"),
        ({"test_fraction": 0.9}, "test_fraction"),
        ({"code": 64}, "code"),
        ({"data": "/nonexistent/digits.npz"}, "npz"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        lab.run(micro(tmp_path, **overrides))
