"""Lab: a graph convolutional network classifies nodes from a handful of labels.

Part 1, Zachary's karate club (networkx's copy of the 1977 study: 34 members, 78
friendships). Classes: by default the four communities that Louvain modularity
maximisation (networkx, seed 0) finds, nearly the four classes of Kipf & Welling's figure;
`labels="club"` uses the two factions the club split into instead. Only `labels_per_class`
members per class are labelled (the best connected ones); the rest are to be predicted. The
features are the identity matrix: a node knows nothing but who it is, so everything the GCN
gets right it learned from the edges. An MLP on the same features, which ignores the graph,
is the baseline. A second GCN with a 2-D last hidden layer and tanh
shows the node embeddings as they move during training (Kipf's blog post used widths
4, 4, 2; 8, 2 trained more reliably from four labels in our runs).

Part 2, a stochastic block model (networkx): `blocks` groups of `block_size` nodes, edges
inside a group with probability p_in and across with p_out, and noisy features (a random
mean per group plus Gaussian noise). A GCN and an MLP are compared as the share of
labelled nodes grows, and GCNs of 1 to `max_layers` layers show what depth does.

Every model is trained full-batch with Adam and Kipf's settings (lr 0.01, weight decay
5e-4, dropout 0.5, 200 epochs), on the labelled nodes only, and scored on all the others.

Artefacts: metrics.jsonl, karate_graph.png (the club drawn with the predicted classes),
karate_embeddings.png (the 2-D embeddings at several epochs), sbm_label_rate.png
(accuracy against label rate, GCN and MLP) and sbm_layers.png (accuracy against depth).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import torch
from torch import Tensor, nn

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.nn.gcn import GCN, edges_from_networkx, masked_cross_entropy
from groundup.nn.mlp import MLP

LAB = "graph-neural-networks"


@dataclass
class Config(runner.LabConfig):
    labels: str = "communities"  # karate classes: "communities" (4, Louvain) or "club" (2)
    labels_per_class: int = 1  # karate: labelled members per class
    hidden: int = 16
    dropout: float = 0.5
    lr: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 200
    blocks: int = 4  # stochastic block model: number of groups (classes)
    block_size: int = 100
    p_in: float = 0.04  # 4 neighbours inside the group on average
    p_out: float = 0.01  # and 3 in the other groups
    feature_dim: int = 16
    noise: float = 2.0  # std of the feature noise; the group means have std 1 per entry
    label_rates: str = "0.01,0.02,0.05,0.1,0.2"  # comma-separated shares
    layer_rate: float = 0.05  # label rate of the depth experiment
    max_layers: int = 8
    repeats: int = 3  # graphs drawn per point of the block-model experiments


PRESETS: dict[str, dict] = {
    "micro": {
        "block_size": 60,
        "p_in": 0.07,  # the same 4 and 3 neighbours as tiny, in smaller groups
        "p_out": 0.017,
        "label_rates": "0.05,0.2",
        "max_layers": 3,
        "repeats": 1,
    },
    "tiny": {},
    "full": {"block_size": 500, "p_in": 0.008, "p_out": 0.002, "repeats": 10, "max_layers": 8},
}

FIELD_HELP: dict[str, Msg] = {
    "labels": Msg(
        "karate classes: communities (4 found by Louvain) or club (the 2 factions)",
        "Karate-Klassen: communities (4, per Louvain gefunden) oder club (die 2 Lager)",
    ),
    "labels_per_class": Msg(
        "karate: how many members of each class are labelled for training",
        "Karate: wie viele Mitglieder je Klasse für das Training ein Label haben",
    ),
    "blocks": Msg(
        "block model: number of groups, one class each",
        "Blockmodell: Anzahl der Gruppen, je eine Klasse",
    ),
    "block_size": Msg("block model: nodes per group", "Blockmodell: Knoten pro Gruppe"),
    "p_in": Msg(
        "block model: probability of an edge inside a group",
        "Blockmodell: Wahrscheinlichkeit einer Kante innerhalb einer Gruppe",
    ),
    "p_out": Msg(
        "block model: probability of an edge between two groups",
        "Blockmodell: Wahrscheinlichkeit einer Kante zwischen zwei Gruppen",
    ),
    "feature_dim": Msg(
        "block model: length of each node's feature vector",
        "Blockmodell: Länge des Merkmalsvektors jedes Knotens",
    ),
    "noise": Msg(
        "block model: standard deviation of the noise added to the group mean",
        "Blockmodell: Standardabweichung des Rauschens auf dem Gruppenmittel",
    ),
    "label_rates": Msg(
        "block model: shares of labelled nodes to compare, comma-separated",
        "Blockmodell: zu vergleichende Anteile gelabelter Knoten, durch Kommas getrennt",
    ),
    "layer_rate": Msg(
        "block model: share of labelled nodes in the depth experiment",
        "Blockmodell: Anteil gelabelter Knoten im Tiefen-Experiment",
    ),
    "max_layers": Msg(
        "block model: deepest GCN of the depth experiment",
        "Blockmodell: tiefstes GCN im Tiefen-Experiment",
    ),
    "repeats": Msg(
        "block model: graphs drawn (and models trained) per point",
        "Blockmodell: gezogene Graphen (und trainierte Modelle) pro Messpunkt",
    ),
}

TEXT = {
    "bad_setting": Msg("Invalid setting: {detail}", "Ungültige Einstellung: {detail}"),
    "bad_data": Msg(
        "{file} must be a .npz file with edges (E, 2) of node numbers 0..n-1, integer "
        "labels y (n,) and optionally features X (n, F): {detail}",
        "{file} muss eine .npz-Datei mit Kanten edges (E, 2) aus Knotennummern 0..n-1, "
        "ganzzahligen Labels y (n,) und optional Merkmalen X (n, F) sein: {detail}",
    ),
    "karate": Msg("Karate club", "Karateclub"),
    "label_rate": Msg("Block model: label rate", "Blockmodell: Label-Anteil"),
    "layers": Msg("Block model: depth", "Blockmodell: Tiefe"),
    "predicted": Msg(
        "Predicted classes (ring: labelled, cross: wrong)",
        "Vorhergesagte Klassen (Ring: gelabelt, Kreuz: falsch)",
    ),
    "embeddings": Msg(
        "2-D node embeddings during training (colour: true class, ring: labelled)",
        "2-D-Knoten-Embeddings während des Trainings (Farbe: wahre Klasse, Ring: gelabelt)",
    ),
    "epoch": Msg("epoch", "Epoche"),
    "accuracy": Msg("accuracy on unlabelled nodes", "Genauigkeit auf ungelabelten Knoten"),
    "rate_axis": Msg("share of labelled nodes", "Anteil gelabelter Knoten"),
    "layer_axis": Msg("GCN layers", "GCN-Schichten"),
    "table": Msg(
        "| graph | labelled nodes | GCN accuracy | MLP accuracy |",
        "| Graph | gelabelte Knoten | GCN-Genauigkeit | MLP-Genauigkeit |",
    ),
}


# ---------------------------------------------------------------- graphs


@dataclass
class Graph:
    """Everything a node classifier needs: edges both ways, features, labels, a name."""

    name: str
    edge_index: Tensor  # (2, E)
    x: Tensor  # (n, F)
    y: Tensor  # (n,)
    positions: dict | None = None  # node -> (x, y) for drawing

    @property
    def classes(self) -> int:
        return int(self.y.max()) + 1


def karate(labels: str) -> Graph:
    """The karate club with identity features; classes from Louvain or from the club split."""
    graph = nx.karate_club_graph()
    if labels == "club":
        y = [int(graph.nodes[i]["club"] != "Mr. Hi") for i in graph]
    else:
        communities = nx.community.louvain_communities(graph, seed=0)
        communities = sorted(communities, key=min)  # class 0 holds node 0, and so on
        y = [next(c for c, members in enumerate(communities) if i in members) for i in graph]
    edge_index, _ = edges_from_networkx(graph)  # unweighted: who is friends with whom
    positions = nx.spring_layout(graph, seed=3)
    return Graph("karate", edge_index, torch.eye(34), torch.tensor(y), positions)


def block_model(cfg: Config, seed: int) -> Graph:
    """A stochastic block model with features = group mean + noise."""
    sizes = [cfg.block_size] * cfg.blocks
    p = np.full((cfg.blocks, cfg.blocks), cfg.p_out)
    np.fill_diagonal(p, cfg.p_in)
    graph = nx.stochastic_block_model(sizes, p.tolist(), seed=seed)
    y = torch.arange(cfg.blocks).repeat_interleave(cfg.block_size)
    g = torch.Generator().manual_seed(seed)
    means = torch.randn(cfg.blocks, cfg.feature_dim, generator=g)
    x = means[y] + cfg.noise * torch.randn(len(y), cfg.feature_dim, generator=g)
    return Graph("block model", edges_from_networkx(graph)[0], x, y)


def load_graph(path: str) -> Graph:
    """A graph of your own from .npz: edges (E, 2), y (n,), optional X (n, F)."""
    try:
        with np.load(path) as archive:
            edges, y = np.asarray(archive["edges"]), np.asarray(archive["y"])
            x = np.asarray(archive["X"], dtype=np.float32) if "X" in archive else None
        if edges.ndim != 2 or edges.shape[1] != 2 or not np.issubdtype(edges.dtype, np.integer):
            raise ValueError(f"edges has shape {edges.shape} and dtype {edges.dtype}")
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ValueError("y must be non-negative integers, one per node")
        if edges.size and (edges.min() < 0 or edges.max() >= len(y)):
            raise ValueError(f"edge endpoints must lie in 0..{len(y) - 1}")
        if x is not None and (x.ndim != 2 or len(x) != len(y)):
            raise ValueError(f"X has shape {x.shape}, expected ({len(y)}, F)")
    except (OSError, KeyError, ValueError) as error:
        raise runner.LabError(TEXT["bad_data"].get(file=path, detail=error)) from None
    edge_index = torch.from_numpy(np.concatenate([edges, edges[:, ::-1]]).T.copy()).long()
    features = torch.eye(len(y)) if x is None else torch.from_numpy(x)
    return Graph(Path(path).stem, edge_index, features, torch.from_numpy(y).long())


def training_mask(y: Tensor, per_class: int, generator: torch.Generator | None = None) -> Tensor:
    """per_class labelled nodes of every class: random ones, or the first ones without a
    generator (used on the karate club, whose nodes are sorted by degree below)."""
    mask = torch.zeros(len(y), dtype=torch.bool)
    for c in y.unique():
        members = (y == c).nonzero().flatten()
        if generator is not None:
            members = members[torch.randperm(len(members), generator=generator)]
        mask[members[:per_class]] = True
    return mask


def best_connected(graph: Graph, per_class: int) -> Tensor:
    """The per_class nodes of highest degree in every class (ties: lower number)."""
    degree = torch.bincount(graph.edge_index[1], minlength=len(graph.y))
    mask = torch.zeros(len(graph.y), dtype=torch.bool)
    for c in graph.y.unique():
        members = (graph.y == c).nonzero().flatten()
        order = sorted(members.tolist(), key=lambda i: (-int(degree[i]), i))
        mask[order[:per_class]] = True
    return mask


# ---------------------------------------------------------------- training


class GraphMLP(nn.Module):
    """The baseline: the same widths as the GCN, but every node on its own (no edges)."""

    def __init__(self, in_features: int, classes: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.mlp = MLP([in_features, hidden, classes], dropout=dropout)

    def forward(self, x: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
        return self.mlp(x), x


def train(
    cfg: Config,
    model: nn.Module,
    graph: Graph,
    mask: Tensor,
    device: str,
    snapshots: tuple[int, ...] = (),
) -> tuple[float, dict[int, np.ndarray], list[float]]:
    """Full-batch training on the labelled nodes; accuracy on all the others at the end.

    Returns the accuracy, the hidden embeddings at the epochs in `snapshots` (0: untrained),
    and the training loss of every epoch.
    """
    model = model.to(device)
    x, edge_index, y = graph.x.to(device), graph.edge_index.to(device), graph.y.to(device)
    mask = mask.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    embeddings: dict[int, np.ndarray] = {}
    losses: list[float] = []
    for epoch in range(cfg.epochs + 1):
        if epoch in snapshots:
            model.eval()
            with torch.no_grad():
                embeddings[epoch] = model(x, edge_index)[1].cpu().numpy()
        if epoch == cfg.epochs:
            break
        model.train()
        loss = masked_cross_entropy(model(x, edge_index)[0], y, mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        predicted = model(x, edge_index)[0].argmax(-1)
    accuracy = (predicted[~mask] == y[~mask]).float().mean().item()
    return accuracy, embeddings, losses


def gcn(cfg: Config, graph: Graph, layers: int = 2) -> GCN:
    return GCN(graph.x.size(1), graph.classes, [cfg.hidden] * (layers - 1), cfg.dropout)


def mlp(cfg: Config, graph: Graph) -> GraphMLP:
    return GraphMLP(graph.x.size(1), graph.classes, cfg.hidden, cfg.dropout)


@torch.no_grad()
def predict(model: nn.Module, graph: Graph, device: str) -> Tensor:
    model.eval()
    return model(graph.x.to(device), graph.edge_index.to(device))[0].argmax(-1).cpu()


# ---------------------------------------------------------------- the experiment


def validate(cfg: Config) -> None:
    problems = [
        f"{name} must be at least 1, got {getattr(cfg, name)}"
        for name in (
            "labels_per_class",
            "hidden",
            "epochs",
            "block_size",
            "feature_dim",
            "max_layers",
            "repeats",
        )  # fmt: skip
        if getattr(cfg, name) < 1
    ]
    if cfg.labels not in ("communities", "club"):
        problems.append(f"labels must be communities or club, got {cfg.labels!r}")
    if cfg.blocks < 2:
        problems.append(f"blocks must be at least 2, got {cfg.blocks}")
    if not (0 <= cfg.p_out <= 1 and 0 <= cfg.p_in <= 1):
        problems.append("p_in and p_out are probabilities: they must lie in [0, 1]")
    try:
        rates = [*label_rates(cfg), cfg.layer_rate]
        if not rates[:-1] or any(not 0 < r < 1 for r in rates):
            problems.append(f"label rates must lie in (0, 1), got {rates}")
    except ValueError:
        problems.append(f"label rates must be numbers like 0.05,0.2, got {cfg.label_rates!r}")
    if not 0 <= cfg.dropout < 1:
        problems.append(f"dropout must lie in [0, 1), got {cfg.dropout}")
    if cfg.lr <= 0 or cfg.noise < 0:
        problems.append("lr must be positive and noise not negative")
    if problems:
        raise runner.LabError(TEXT["bad_setting"].get(detail="; ".join(problems)))


def label_rates(cfg: Config) -> list[float]:
    return [float(r) for r in cfg.label_rates.split(",") if r.strip()]


def run(cfg: Config) -> runner.LabReport:
    validate(cfg)
    with runner.one_torch_thread():  # small graphs: a second thread only waits
        return experiment(cfg)


def experiment(cfg: Config) -> runner.LabReport:
    timer = runner.Timer()
    cpu_start = time.process_time()
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, LAB)
    log = runner.MetricsLog(out / "metrics.jsonl")
    own = load_graph(cfg.data) if cfg.data else None
    rates = label_rates(cfg)
    rate_runs = len(rates) * 2 * cfg.repeats
    total = 3 + rate_runs + cfg.max_layers * cfg.repeats + (2 if own else 0)
    rows: list[tuple[str, int, float, float]] = []
    metrics: dict[str, float | int | str] = {}

    with runner.progress(total, TEXT["karate"].get(), quiet=cfg.quiet) as bar:
        # ---- part 1: the karate club, a few labels, GCN against MLP
        club = karate(cfg.labels)
        club_mask = best_connected(club, cfg.labels_per_class)
        torch.manual_seed(cfg.seed)
        club_gcn = gcn(cfg, club)
        gcn_acc, _, gcn_losses = train(cfg, club_gcn, club, club_mask, device)
        torch.manual_seed(cfg.seed)
        mlp_acc, _, _ = train(cfg, mlp(cfg, club), club, club_mask, device)
        bar.update(advance=2, info=f"karate GCN {gcn_acc:.2f} | MLP {mlp_acc:.2f}")
        # Kipf's picture: tanh layers down to a 2-D embedding, then the classifier layer
        torch.manual_seed(cfg.seed)
        embedder = GCN(34, club.classes, hidden=(8, 2), dropout=0.0, activation="tanh")
        snapshots = tuple(sorted({0, cfg.epochs // 20, cfg.epochs // 4, cfg.epochs}))
        embed_acc, embeddings, _ = train(cfg, embedder, club, club_mask, device, snapshots)
        bar.update(info=f"karate 2-D embedding GCN {embed_acc:.2f}")
        log.log(part="karate", labels=cfg.labels, labelled=int(club_mask.sum()), gcn=gcn_acc,
                mlp=mlp_acc, embedding_gcn=embed_acc, gcn_losses=gcn_losses)  # fmt: skip
        rows.append(("karate", int(club_mask.sum()), gcn_acc, mlp_acc))
        predicted = predict(club_gcn, club, device)
        metrics.update(
            karate_classes=club.classes,
            karate_labelled=int(club_mask.sum()),
            karate_gcn_accuracy=round(gcn_acc, 4),
            karate_mlp_accuracy=round(mlp_acc, 4),
            karate_embedding_gcn_accuracy=round(embed_acc, 4),
            karate_initial_loss=round(gcn_losses[0], 4),
            karate_final_loss=round(gcn_losses[-1], 4),
        )

        # ---- part 2: the block model, accuracy against label rate and against depth
        by_rate: dict[str, list[list[float]]] = {"GCN": [], "MLP": []}
        for rate in rates:
            scores: dict[str, list[float]] = {"GCN": [], "MLP": []}
            for repeat in range(cfg.repeats):
                seed = cfg.seed * 1000 + repeat
                graph = block_model(cfg, seed)
                per_class = max(1, round(rate * cfg.block_size))
                mask = training_mask(graph.y, per_class, torch.Generator().manual_seed(seed))
                for name, build in (("GCN", gcn), ("MLP", mlp)):
                    torch.manual_seed(seed)
                    accuracy, _, _ = train(cfg, build(cfg, graph), graph, mask, device)
                    scores[name].append(accuracy)
                    bar.update(info=f"block model, rate {rate:.2f}: {name} {accuracy:.2f}")
            for name in scores:
                by_rate[name].append(scores[name])
            log.log(part="label_rate", rate=rate, gcn=scores["GCN"], mlp=scores["MLP"])
        by_depth: list[list[float]] = []
        for layers in range(1, cfg.max_layers + 1):
            scores_depth = []
            for repeat in range(cfg.repeats):
                seed = cfg.seed * 1000 + repeat
                graph = block_model(cfg, seed)
                per_class = max(1, round(cfg.layer_rate * cfg.block_size))
                mask = training_mask(graph.y, per_class, torch.Generator().manual_seed(seed))
                torch.manual_seed(seed)
                accuracy, _, _ = train(cfg, gcn(cfg, graph, layers), graph, mask, device)
                scores_depth.append(accuracy)
                bar.update(info=f"block model, {layers} layers: {accuracy:.2f}")
            by_depth.append(scores_depth)
            log.log(part="layers", layers=layers, gcn=scores_depth)

        rate_index = min(range(len(rates)), key=lambda i: abs(rates[i] - cfg.layer_rate))
        rate = rates[rate_index]
        labelled = max(1, round(rate * cfg.block_size)) * cfg.blocks
        sbm_gcn, sbm_mlp = (float(np.mean(by_rate[n][rate_index])) for n in ("GCN", "MLP"))
        rows.append(("block model", labelled, sbm_gcn, sbm_mlp))
        depth_means = [float(np.mean(s)) for s in by_depth]
        metrics.update(
            sbm_nodes=cfg.blocks * cfg.block_size,
            sbm_label_rate=rate,
            sbm_gcn_accuracy=round(sbm_gcn, 4),
            sbm_mlp_accuracy=round(sbm_mlp, 4),
            sbm_best_layers=int(np.argmax(depth_means)) + 1,
            sbm_accuracy_1_layer=round(depth_means[0], 4),
            sbm_accuracy_2_layers=round(depth_means[min(1, len(depth_means) - 1)], 4),
            sbm_accuracy_deepest=round(depth_means[-1], 4),
        )

        # ---- optional: a graph of your own, 20 labels per class
        if own is not None:
            mask = training_mask(own.y, 20, torch.Generator().manual_seed(cfg.seed))
            accuracies = []
            for build in (gcn, mlp):
                torch.manual_seed(cfg.seed)
                accuracies.append(train(cfg, build(cfg, own), own, mask, device)[0])
                bar.update()
            rows.append((own.name, int(mask.sum()), *accuracies))
            metrics.update(own_gcn_accuracy=accuracies[0], own_mlp_accuracy=accuracies[1])
    log.close()

    artifacts = {
        "karate_graph": save_graph(out / "karate_graph.png", club, predicted, club_mask),
        "karate_embeddings": save_embeddings(
            out / "karate_embeddings.png", club, embeddings, club_mask
        ),
        "sbm_label_rate": save_band(
            out / "sbm_label_rate.png",
            rates,
            by_rate,
            TEXT["label_rate"].get(),
            TEXT["rate_axis"].get(),
            logx=True,
        ),
        "sbm_layers": save_band(
            out / "sbm_layers.png",
            list(range(1, cfg.max_layers + 1)),
            {"GCN": by_depth},
            TEXT["layers"].get(),
            TEXT["layer_axis"].get(),
        ),
    }
    metrics["cpu_seconds"] = round(time.process_time() - cpu_start, 1)
    return runner.LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts=artifacts,
        text=table(rows),
        seconds=timer.seconds,
    )


def table(rows: list[tuple[str, int, float, float]]) -> str:
    lines = [TEXT["table"].get(), "|---|---|---|---|"]
    lines += [f"| {name} | {n} | {g:.1%} | {m:.1%} |" for name, n, g, m in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- plots


def save_graph(path: Path, club: Graph, predicted: Tensor, mask: Tensor) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    graph = nx.karate_club_graph()
    nx.draw_networkx_edges(graph, club.positions, ax=ax, alpha=0.3)
    colours = plt.get_cmap("tab10")(predicted.numpy())
    nx.draw_networkx_nodes(
        graph,
        club.positions,
        ax=ax,
        node_color=colours,
        node_size=260,
        edgecolors=["black" if m else "white" for m in mask.tolist()],
        linewidths=[3.0 if m else 1.0 for m in mask.tolist()],
    )
    nx.draw_networkx_labels(graph, club.positions, ax=ax, font_size=7)
    wrong = (predicted != club.y).nonzero().flatten().tolist()
    for i in wrong:
        px, py = club.positions[i]
        ax.plot(px, py, "x", color="red", markersize=16, markeredgewidth=2)
    ax.set_title(TEXT["predicted"].get())
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_embeddings(
    path: Path, club: Graph, embeddings: dict[int, np.ndarray], mask: Tensor
) -> Path:
    plt = runner.pyplot()
    epochs = sorted(embeddings)
    fig, axes = plt.subplots(1, len(epochs), figsize=(3.2 * len(epochs), 3.4), dpi=110)
    colours = plt.get_cmap("tab10")(club.y.numpy())
    for ax, epoch in zip(np.atleast_1d(axes), epochs, strict=True):
        points = embeddings[epoch]
        ax.scatter(points[:, 0], points[:, 1], c=colours, s=40, edgecolors="white")
        labelled = points[mask.numpy()]
        ax.scatter(labelled[:, 0], labelled[:, 1], s=140, facecolors="none", edgecolors="black")
        ax.set_title(f"{TEXT['epoch'].get()} {epoch}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(TEXT["embeddings"].get())
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_band(
    path: Path,
    xs: list[float],
    runs: dict[str, list[list[float]]],
    title: str,
    xlabel: str,
    logx: bool = False,
) -> Path:
    """Mean accuracy over the repeats, with the lowest and highest as a band."""
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for name, scores in runs.items():
        values = np.array(scores) * 100
        ax.plot(xs, values.mean(1), marker="o", label=name)
        ax.fill_between(xs, values.min(1), values.max(1), alpha=0.2)
    if logx:
        ax.set_xscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(TEXT["accuracy"].get() + " (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
