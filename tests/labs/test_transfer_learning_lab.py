"""The transfer-learning lab at the micro preset: pre-trained features pay off with few labels.

Micro thresholds on the test digits 5-9 (five classes, chance 20 %), means over the two
repetitions, measured at seed 0 (in brackets):
- with 1 label per class, the linear probe on the pre-trained body and the fine-tuned network
  each beat the LeNet trained from scratch by at least 10 points (70 % and 72 % against 53 %);
- the pre-trained body beats an untrained body of the same shape under the same probe by at
  least 8 points at 1 label (70 % against 57 %) and at 5 labels (90 % against 73 %);
- depth: with 5 labels, the features entering fc1 beat those entering fc3 by at least 15
  points (90 % against 67 %): the fully connected layers are specific to the digits 0-4;
- pre-training itself works: at least 90 % on the held-out digits 0-4 (96 %).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from groundup.labs import runner, transfer_learning


def micro(tmp_path: Path, **overrides) -> transfer_learning.Config:
    return runner.make_config(
        transfer_learning.Config,
        transfer_learning.PRESETS,
        "micro",
        out=str(tmp_path),
        quiet=True,
        **overrides,
    )


def test_micro_transfer_beats_scratch_with_few_labels(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    report = transfer_learning.run(micro(tmp_path))
    m = report.metrics
    assert m["source_test_accuracy"] >= 0.90
    assert m["probe_k1"] >= m["scratch_k1"] + 0.10
    assert m["finetune_k1"] >= m["scratch_k1"] + 0.10
    assert m["probe_k1"] >= m["untrained_k1"] + 0.08
    assert m["probe_into_fc1_k5"] >= m["probe_into_untrained_k5"] + 0.08
    assert m["probe_into_fc1_k5"] >= m["probe_into_fc3_k5"] + 0.15
    assert m["target_test_examples"] + m["target_train_pool"] == 896  # all images of 5-9
    assert torch.get_num_threads() == threads  # the lab gives its thread setting back

    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    runs = [r for r in records if r["run"] == "transfer"]
    assert [(r["labels_per_class"], r["repeat"]) for r in runs] == [
        ("1", 0),
        ("1", 1),
        ("5", 0),
        ("5", 1),
    ]
    assert report.artifacts["accuracy"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (tmp_path / "results.md").read_text()
    assert table.count("\n") == 4 and "from scratch" in table  # header, rule, k = 1 and 5


def test_task_relabels_and_keeps_only_its_classes() -> None:
    x = torch.arange(10.0).view(10, 1, 1, 1)
    y = torch.tensor([0, 5, 9, 1, 7, 5, 3, 8, 6, 2])
    images, labels = transfer_learning.task(x, y, transfer_learning.TARGET_CLASSES)
    assert labels.tolist() == [0, 4, 2, 0, 3, 1]
    assert images.flatten().tolist() == [1.0, 2.0, 4.0, 5.0, 7.0, 8.0]


def test_conv_net_reuses_the_lenet_body() -> None:
    lenet = transfer_learning.LeNet(channels=4, hidden=10, classes=5)
    model = transfer_learning.ConvNet(lenet, classes=3)
    assert model.conv1 is lenet.conv1 and model.conv2 is lenet.conv2
    x = torch.rand(2, 1, 8, 8)
    assert model(x).shape == (2, 3)
    with torch.no_grad():
        body = lenet.pool(lenet.features(x)[1]).flatten(1)  # what enters the LeNet's fc1
        torch.testing.assert_close(model(x), model.head(body))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"labels": "1,x"}, "labels"),
        ({"labels": "0"}, "labels"),
        ({"labels": "500"}, "smallest target class"),
        ({"repeats": 0}, "repeats"),
        ({"layer_factor": 0.5}, "layer_factor"),
        ({"test_fraction": 0.9}, "test_fraction"),
        ({"data": "/nonexistent/digits.npz"}, "npz"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        transfer_learning.run(micro(tmp_path, **overrides))


def test_data_without_the_target_digits_is_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "digits.npz"
    np.savez(path, X=rng.integers(0, 17, (200, 64)), y=np.arange(200) % 5)  # only 0-4
    with pytest.raises(runner.LabError, match="every digit"):
        transfer_learning.run(micro(tmp_path, data=str(path)))
