"""The GNN lab at the micro preset: the GCN beats a graph-blind MLP on both graphs.

Margins asserted (measured over seeds 0-3 in parentheses):
- karate club, four communities, one labelled member each: the GCN's accuracy on the other
  30 members is at least 30 points above the MLP's (GCN 77-93 %, MLP 10-43 %: with identity
  features the MLP can only guess one class for every unseen member);
- block model, 5 % labels: the GCN at least 8 points above the MLP (GCN 64-83 %,
  MLP 52-60 %, margins 12-24 points);
- the karate training loss ends below half of its first value.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from groundup.labs import graph_neural_networks as lab
from groundup.labs import runner


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


def test_micro_gcn_beats_the_mlp_on_both_graphs(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    report = lab.run(micro(tmp_path))
    m = report.metrics
    assert m["karate_classes"] == 4 and m["karate_labelled"] == 4
    assert m["karate_gcn_accuracy"] >= m["karate_mlp_accuracy"] + 0.30
    assert m["karate_final_loss"] < 0.5 * m["karate_initial_loss"]
    assert m["sbm_gcn_accuracy"] >= m["sbm_mlp_accuracy"] + 0.08
    assert torch.get_num_threads() == threads  # the lab gives its thread setting back

    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["part"] for r in records] == ["karate"] + ["label_rate"] * 2 + ["layers"] * 3
    for name in ("karate_graph", "karate_embeddings", "sbm_label_rate", "sbm_layers"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(report.text.splitlines()) == 4  # header, rule, karate, block model


def test_karate_classes_and_labelled_members() -> None:
    club = lab.karate("communities")
    assert club.x.shape == (34, 34) and club.edge_index.shape == (2, 156)
    assert torch.bincount(club.y).tolist() == [11, 5, 14, 4]
    assert lab.best_connected(club, 1).nonzero().flatten().tolist() == [0, 5, 31, 33]
    factions = lab.karate("club")
    assert torch.bincount(factions.y).tolist() == [17, 17]
    assert factions.y[0] == 0 and factions.y[33] == 1  # Mr. Hi and the officer


def test_block_model_and_masks() -> None:
    cfg = lab.Config(blocks=3, block_size=20, feature_dim=5)
    graph = lab.block_model(cfg, seed=1)
    assert graph.x.shape == (60, 5) and graph.classes == 3
    source, target = graph.edge_index
    same = graph.y[source] == graph.y[target]
    assert same.float().mean() > 0.5  # p_in = 4 p_out: most edges stay inside a group
    mask = lab.training_mask(graph.y, 4, torch.Generator().manual_seed(0))
    assert torch.bincount(graph.y[mask]).tolist() == [4, 4, 4]


def test_own_graph_from_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    pairs = [(i, j) for i in range(60) for j in range(i) if y[i] == y[j]]
    edges = np.array(pairs)[rng.choice(len(pairs), 200, replace=False)]
    path = tmp_path / "graph.npz"
    np.savez(path, edges=edges, y=y, X=rng.normal(size=(60, 3)))
    small = {"block_size": 20, "max_layers": 1, "label_rates": "0.2", "epochs": 60}
    report = lab.run(micro(tmp_path, data=str(path), **small))
    # two groups that no edge connects, random features: only the GCN can tell them apart
    # (measured: GCN 90 %, MLP 40 %)
    assert report.metrics["own_gcn_accuracy"] >= 0.8
    assert report.metrics["own_gcn_accuracy"] >= report.metrics["own_mlp_accuracy"] + 0.25
    assert "graph" in report.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"labels": "factions"}, "labels"),
        ({"blocks": 1}, "blocks"),
        ({"p_in": 1.5}, "p_in"),
        ({"label_rates": "0.0,0.5"}, "label rates"),
        ({"label_rates": "a,b"}, "label rates"),
        ({"repeats": 0}, "repeats"),
        ({"data": "/nonexistent/graph.npz"}, "npz"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        lab.run(micro(tmp_path, **overrides))
