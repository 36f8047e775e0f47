"""The siamese-networks lab at the micro preset learns to verify digits it was trained on.

Micro thresholds (150 steps per loss, balanced test pairs of held-out images of the digits
0-6, where guessing gives 50 %): verification accuracy >= 90 % and ROC AUC >= 0.97 for both
the contrastive and the triplet embedding, at least 10 points above raw pixel distance, and
the contrastive loss at most half its first value (measured: 95.9 % and 98.5 % accuracy,
AUC 0.987 and 0.999, pixels 79.6 %; contrastive loss 0.075 -> 0.026; the batch-hard loss
falls less, 0.51 -> 0.31, since it always looks at the hardest triplets). The digits 7-9
are never trained on; their figures are reported, not asserted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from groundup.labs import runner
from groundup.labs import siamese_networks as lab


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


def test_micro_verifies_seen_digits_well_above_pixels(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    report = lab.run(micro(tmp_path))
    m = report.metrics
    for kind in ("contrastive", "triplet"):
        assert m[f"{kind}_accuracy_seen"] >= 0.90, kind
        assert m[f"{kind}_auc_seen"] >= 0.97, kind
        assert m[f"{kind}_accuracy_seen"] >= m["pixels_accuracy_seen"] + 0.10, kind
        assert 0.0 <= m[f"{kind}_auc_unseen"] <= 1.0
        assert 0.0 <= m[f"{kind}_one_shot_unseen"] <= 1.0
    assert m["contrastive_final_loss"] <= 0.5 * m["contrastive_initial_loss"]
    assert m["triplet_final_loss"] < m["triplet_initial_loss"]
    # classes 0-6 split 60/20/20; every image of 7, 8 and 9 is unseen
    assert m["train_images"] + m["val_images"] + m["test_images"] + m["unseen_images"] == 1797
    assert m["unseen_classes"] == 3 and m["unseen_images"] == 533
    assert torch.get_num_threads() == threads  # the lab gives its thread setting back

    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [(r["loss_kind"], r["step"]) for r in records] == [
        (kind, step) for kind in ("contrastive", "triplet") for step in (50, 100, 150)
    ]
    for name in ("curves", "embedding", "distances", "roc"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(report.text.splitlines()) == 5  # header, rule, contrastive, triplet, pixels


def test_one_shot_accuracy_on_separated_and_on_shuffled_points() -> None:
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2])
    clusters = labels[:, None].double() * 10 + torch.rand(9, 2, dtype=torch.float64)
    assert lab.one_shot_accuracy(clusters, labels, episodes=20, seed=0) == 1.0
    # every point at the same place: the nearest reference is always the first one
    same_place = torch.zeros(9, 2)
    assert lab.one_shot_accuracy(same_place, labels, episodes=20, seed=0) == pytest.approx(1 / 3)


def test_random_mining_runs(tmp_path: Path) -> None:
    report = lab.run(micro(tmp_path, mining="random", steps=2, eval_every=1, eval_pairs=20))
    assert report.metrics["triplet_initial_loss"] > 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"seen_classes": 9}, "seen_classes"),
        ({"mining": "semi_hard"}, "mining"),
        ({"triplet_margin": 0.0}, "margin"),
        ({"batch_size": 2}, "batch_size"),
        ({"val_fraction": 0.6}, "val_fraction"),
        ({"data": "/nonexistent/digits.npz"}, "npz"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        lab.run(micro(tmp_path, **overrides))
