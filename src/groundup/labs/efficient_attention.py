"""Lab: what efficient attention saves, and what it gives up.

Every attention here is groundup.nn.efficient_attention (ours) or groundup.nn.attention, next
to torch's fused scaled_dot_product_attention.

1. Cost. For causal self-attention of one head (batch 1, head width `head_dim`) at growing
   sequence lengths T, the lab times one forward + backward pass (best of `repeats`, wall
   clock) and measures its peak memory: the CPU allocator's allocations minus its frees, in
   time order, as torch.profiler records them (profile_memory=True), maximum over the pass,
   the inputs not counted. Methods: full attention written out (the (T, T) score matrix),
   torch's scaled_dot_product_attention (on CPU a fused kernel in the style of FlashAttention:
   exact, but it never stores the (T, T) matrix), sliding window, block-sparse (local + one
   global block), linear attention (elu + 1 features) with one prefix-sum state per position,
   and chunked causal linear attention. Two panels, log-log, and a table.
2. Quality. Associative recall: a sequence holds T - 1 (key, value) pairs, each pair one
   position (key embedding + value embedding), and the last position holds a query key; the
   answer is the value stored with that key. The pair can sit at any distance 1 .. T - 1
   from the query. Tiny one-layer models, identical except for the attention, train on the
   same batches; the lab scores them on fresh sequences, per distance. A sliding window can
   only answer when the pair lies inside its window; block-sparse attention sees its local
   blocks and the global first block, with a hole between them; full attention sees all.
   Linear attention sees everything too, but squeezes all pairs into one (d, d) state per
   head, so its recall is limited by the head width rather than by distance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.nn.attention import attention, causal_mask
from groundup.nn.efficient_attention import (
    block_sparse_attention,
    linear_attention,
    local_global_layout,
    sliding_window_attention,
)

LAB = "efficient_attention"

COST_METHODS = ("full", "sdpa", "sliding", "block_sparse", "linear", "linear_chunked")
QUALITY_KINDS = ("full", "sliding", "block_sparse", "linear")


@dataclass
class Config(LabConfig):
    # 1. cost
    cost_lengths: str = "256,512,1024,2048,4096"  # sequence lengths T to measure
    head_dim: int = 32
    cost_window: int = 64  # window, block and chunk size of the efficient methods
    repeats: int = 3
    # 2. quality on associative recall
    kinds: str = "full,sliding,block_sparse,linear"
    seq_len: int = 64  # T - 1 (key, value) pairs and the query
    n_values: int = 16  # chance = 1 / n_values
    window: int = 16  # sliding window and block size of the quality models
    d_model: int = 64
    n_heads: int = 4
    steps: int = 1000
    batch_size: int = 64
    lr: float = 3e-3
    eval_size: int = 2000


PRESETS: dict[str, dict] = {
    "micro": {
        "cost_lengths": "128,256,512",
        "cost_window": 32,
        "repeats": 1,
        "kinds": "full,sliding,linear",
        "seq_len": 32,
        "window": 8,
        "d_model": 32,
        "steps": 300,
        "eval_size": 1000,
    },
    "tiny": {},
    "full": {"cost_lengths": "256,512,1024,2048,4096,8192", "seq_len": 128, "steps": 3000},
}

FIELD_HELP: dict[str, Msg] = {
    "cost_lengths": Msg(
        "comma-separated sequence lengths at which time and memory are measured",
        "kommagetrennte Sequenzlängen, bei denen Zeit und Speicher gemessen werden",
    ),
    "head_dim": Msg(
        "width of queries, keys and values in the cost measurement",
        "Breite von Queries, Keys und Values bei der Kostenmessung",
    ),
    "cost_window": Msg(
        "window, block and chunk size of the efficient methods in the cost measurement",
        "Fenster-, Block- und Chunk-Größe der effizienten Verfahren bei der Kostenmessung",
    ),
    "repeats": Msg(
        "timed runs per method and length; the fastest counts",
        "gemessene Durchläufe pro Verfahren und Länge; der schnellste zählt",
    ),
    "kinds": Msg(
        "attention kinds trained on the recall task: full, sliding, block_sparse, linear",
        "Attention-Arten, die auf der Abrufaufgabe trainiert werden: full, sliding, "
        "block_sparse, linear",
    ),
    "n_values": Msg(
        "distinct values a key can store; guessing scores 1 / n_values",
        "verschiedene Werte, die ein Key speichern kann; Raten erreicht 1 / n_values",
    ),
    "window": Msg(
        "sliding-window width and block size of the models on the recall task",
        "Fensterbreite und Blockgröße der Modelle auf der Abrufaufgabe",
    ),
}

TEXT = {
    "cost": Msg("measuring cost", "Kosten messen"),
    "training": Msg("training {kind}", "Training {kind}"),
    "no_data": Msg(
        "this lab generates its sequences itself and takes no --data file",
        "dieses Lab erzeugt seine Sequenzen selbst und nimmt keine --data-Datei",
    ),
    "too_small": Msg(
        "{field} must be at least {least}, got {value}",
        "{field} muss mindestens {least} sein, ist aber {value}",
    ),
    "bad_list": Msg(
        "{field} must be a comma-separated list of {what}, got {value!r}",
        "{field} muss eine kommagetrennte Liste von {what} sein, ist aber {value!r}",
    ),
    "heads": Msg(
        "d_model ({d_model}) must be divisible by n_heads ({n_heads})",
        "d_model ({d_model}) muss durch n_heads ({n_heads}) teilbar sein",
    ),
    "time_title": Msg("Forward + backward time", "Zeit für Vorwärts- und Rückwärtsdurchlauf"),
    "memory_title": Msg(
        "Peak memory (torch.profiler, CPU allocator)", "Spitzenspeicher (torch.profiler, CPU)"
    ),
    "length": Msg("sequence length T", "Sequenzlänge T"),
    "recall_title": Msg(
        "Associative recall: accuracy by distance to the query",
        "Assoziativer Abruf: Genauigkeit nach Abstand zur Query",
    ),
    "distance": Msg(
        "distance of the (key, value) pair from the query", "Abstand des Paars zur Query"
    ),
    "accuracy": Msg("accuracy", "Genauigkeit"),
    "chance": Msg("chance", "Zufall"),
    "window_edge": Msg("window reach", "Reichweite des Fensters"),
}


def parse_list(cfg: Config, field: str, convert: Callable[[str], object], what: str) -> list:
    text = getattr(cfg, field)
    try:
        items = [convert(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError:
        items = []
    if not items:
        raise LabError(TEXT["bad_list"].get(field=field, what=what, value=text))
    return items


def validate(cfg: Config) -> tuple[list[int], list[str]]:
    if cfg.data is not None:
        raise LabError(TEXT["no_data"].get())
    for field, least in [("head_dim", 1), ("cost_window", 1), ("repeats", 1), ("seq_len", 4),
                         ("n_values", 2), ("window", 1), ("d_model", 1), ("n_heads", 1),
                         ("steps", 1), ("batch_size", 1), ("eval_size", 1)]:  # fmt: skip
        if getattr(cfg, field) < least:
            raise LabError(
                TEXT["too_small"].get(field=field, least=least, value=getattr(cfg, field))
            )
    if cfg.d_model % cfg.n_heads != 0:
        raise LabError(TEXT["heads"].get(d_model=cfg.d_model, n_heads=cfg.n_heads))
    lengths = parse_list(cfg, "cost_lengths", int, "positive integers")
    if min(lengths) < 1:
        raise LabError(TEXT["bad_list"].get(field="cost_lengths", what="positive integers",
                                            value=cfg.cost_lengths))  # fmt: skip
    kinds = parse_list(cfg, "kinds", str, ", ".join(QUALITY_KINDS))
    if any(kind not in QUALITY_KINDS for kind in kinds):
        raise LabError(TEXT["bad_list"].get(field="kinds", what=", ".join(QUALITY_KINDS),
                                            value=cfg.kinds))  # fmt: skip
    return lengths, kinds


def run(cfg: Config) -> LabReport:
    lengths, kinds = validate(cfg)
    device = runner.resolve_device(cfg.device)  # for the recall models; costs stay on the CPU
    timer = runner.Timer()
    out = runner.start(cfg, LAB)
    with runner.one_torch_thread():  # one head of small width: a second thread mostly waits
        rows = measure_costs(cfg, lengths)
        cost_png = save_cost_plot(out / "cost.png", rows, cfg)
        log = runner.MetricsLog(out / "metrics.jsonl")
        for row in rows:
            log.log(part="cost", **row)
        accuracy = {kind: train_and_score(cfg, kind, log, device) for kind in kinds}
        log.close()
        recall_png = save_recall_plot(out / "recall.png", accuracy, cfg)

    metrics: dict[str, float | int | str] = {}
    longest = max(lengths)
    for row in rows:
        if row["T"] == longest:
            metrics[f"{row['method']}_peak_MiB_T{longest}"] = row["peak_bytes"] / 2**20
    metrics.update(growth_metrics(rows))
    reach = cfg.window - 1  # a causal window of w positions reaches pairs 1 .. w - 1 back
    for kind, (distances, correct) in accuracy.items():
        metrics[f"{kind}_accuracy"] = correct.mean().item()
        metrics[f"{kind}_accuracy_near"] = correct[distances <= reach].mean().item()
        metrics[f"{kind}_accuracy_far"] = correct[distances > reach].mean().item()
    metrics["chance"] = 1 / cfg.n_values
    return LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts={"cost": cost_png, "recall": recall_png, "metrics": out / "metrics.jsonl"},
        text=cost_table(rows),
        seconds=timer.seconds,
    )


# ---------------------------------------------------------------- 1. cost


def cost_methods(T: int, window: int) -> dict[str, Callable[[Tensor, Tensor, Tensor], Tensor]]:
    """Causal self-attention, six ways; all take and return (1, 1, T, d) tensors."""
    layout = local_global_layout(math.ceil(T / window), local=2, global_blocks=(0,))
    return {
        "full": lambda q, k, v: attention(q, k, v, causal_mask(T)),
        # 4-D float32 input with is_causal: torch picks its fused CPU kernel
        "sdpa": lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        "sliding": lambda q, k, v: sliding_window_attention(q, k, v, window),
        "block_sparse": lambda q, k, v: block_sparse_attention(q, k, v, window, layout),
        "linear": lambda q, k, v: linear_attention(q, k, v, causal=True),
        "linear_chunked": lambda q, k, v: linear_attention(q, k, v, causal=True, chunk=window),
    }


def peak_bytes(fn: Callable[[Tensor, Tensor, Tensor], Tensor], inputs: list[Tensor]) -> int:
    """Peak of (bytes allocated - bytes freed) during fn's forward and backward pass, from the
    CPU allocator's events as torch.profiler records them. The inputs exist before and count 0."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn(*inputs).sum().backward()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    live, peak = 0, 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        live += event.nbytes()  # negative for a free
        peak = max(peak, live)
    return peak


def fresh(qkv: list[Tensor]) -> list[Tensor]:
    """Leaf copies that collect their own gradients, so every run starts alike."""
    return [x.clone().requires_grad_() for x in qkv]


def seconds(fn: Callable[[Tensor, Tensor, Tensor], Tensor], inputs: list[Tensor]) -> float:
    timer = runner.Timer()
    fn(*inputs).sum().backward()
    return timer.seconds


def measure_costs(cfg: Config, lengths: list[int]) -> list[dict]:
    generator = torch.Generator().manual_seed(cfg.seed)
    # The profiler's first use costs seconds of setup: pay it outside the measurements.
    warm = [torch.randn(1, 1, 8, 4, requires_grad=True) for _ in range(3)]
    peak_bytes(cost_methods(8, 4)["full"], warm)

    rows = []
    total = len(lengths) * len(COST_METHODS)
    with runner.progress(total, TEXT["cost"].get(), quiet=cfg.quiet) as bar:
        for T in lengths:
            qkv = [torch.randn(1, 1, T, cfg.head_dim, generator=generator) for _ in range(3)]
            for method, fn in cost_methods(T, cfg.cost_window).items():
                best = min(seconds(fn, fresh(qkv)) for _ in range(cfg.repeats))
                peak = peak_bytes(fn, fresh(qkv))
                rows.append({"method": method, "T": T, "seconds": best, "peak_bytes": peak})
                bar.update(info=f"T={T} {method} {best * 1e3:.1f} ms")
    return rows


def growth_metrics(rows: list[dict]) -> dict[str, float]:
    """How peak memory and time grow from the shortest to the longest T, as the exponent p of
    cost ~ T^p (2 for quadratic, 1 for linear)."""
    lengths = sorted({row["T"] for row in rows})
    if len(lengths) < 2:
        return {}
    short, long = lengths[0], lengths[-1]
    by_key = {(row["method"], row["T"]): row for row in rows}
    metrics = {}
    for method in COST_METHODS:
        for quantity in ("peak_bytes", "seconds"):
            ratio = by_key[(method, long)][quantity] / max(by_key[(method, short)][quantity], 1e-12)
            name = "memory" if quantity == "peak_bytes" else "time"
            metrics[f"{method}_{name}_exponent"] = math.log(ratio) / math.log(long / short)
    return metrics


def cost_table(rows: list[dict]) -> str:
    lengths = sorted({row["T"] for row in rows})
    by_key = {(row["method"], row["T"]): row for row in rows}
    header = f"{'method':<15}" + "".join(f"{'T=' + str(T):>18}" for T in lengths)
    lines = [header, f"{'':<15}" + "".join(f"{'ms / MiB':>18}" for _ in lengths)]
    for method in COST_METHODS:
        cells = [by_key[(method, T)] for T in lengths]
        lines.append(
            f"{method:<15}"
            + "".join(f"{c['seconds'] * 1e3:>9.1f} /{c['peak_bytes'] / 2**20:>6.2f}" for c in cells)
        )
    return "\n".join(lines)


def save_cost_plot(path: Path, rows: list[dict], cfg: Config) -> Path:
    plt = runner.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    for method in COST_METHODS:
        mine = [row for row in rows if row["method"] == method]
        lengths = [row["T"] for row in mine]
        axes[0].plot(lengths, [row["seconds"] * 1e3 for row in mine], marker="o", label=method)
        axes[1].plot(lengths, [row["peak_bytes"] / 2**20 for row in mine], marker="o", label=method)
    for ax, title, unit in zip(axes, ("time_title", "memory_title"), ("ms", "MiB"), strict=True):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(TEXT[title].get())
        ax.set_xlabel(TEXT["length"].get())
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3, which="both")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"causal, one head, d = {cfg.head_dim}, window = block = {cfg.cost_window}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- 2. quality: associative recall


def recall_batch(
    n: int, seq_len: int, n_values: int, generator: torch.Generator
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """n sequences of seq_len - 1 (key, value) pairs and a query key.

    Keys are distinct within a sequence (drawn from seq_len key ids), values random. Returns
    keys, values (n, seq_len - 1), query (n,), answer (n,) and the pair's distance from the
    query position (n,), between 1 and seq_len - 1.
    """
    pairs = seq_len - 1
    keys = torch.rand(n, seq_len, generator=generator).argsort(dim=1)[:, :pairs]
    values = torch.randint(0, n_values, (n, pairs), generator=generator)
    picked = torch.randint(0, pairs, (n,), generator=generator)
    rows = torch.arange(n)
    return keys, values, keys[rows, picked], values[rows, picked], seq_len - 1 - picked


class RecallModel(nn.Module):
    """One causal self-attention layer between embeddings and a small MLP that reads the last
    position. Position i < T - 1 holds key_i + value_i embedded; position T - 1 the query key.
    No position embeddings: the task is pure lookup by content, and what each kind of
    attention can reach is set by its mask alone."""

    def __init__(
        self, kind: str, seq_len: int, n_values: int, d_model: int, n_heads: int, window: int
    ) -> None:
        super().__init__()
        self.kind, self.seq_len, self.n_heads, self.window = kind, seq_len, n_heads, window
        self.key_embedding = nn.Embedding(seq_len, d_model)
        self.value_embedding = nn.Embedding(n_values, d_model)
        self.query_embedding = nn.Embedding(seq_len, d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.head = nn.Sequential(
            nn.LayerNorm(d_model),
            nn.Linear(d_model, 2 * d_model),
            nn.GELU(),
            nn.Linear(2 * d_model, n_values),
        )
        n_blocks = math.ceil(seq_len / window)
        self.register_buffer("layout", local_global_layout(n_blocks, local=2, global_blocks=(0,)))
        self.register_buffer("mask", causal_mask(seq_len))

    def attend(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        if self.kind == "full":
            return attention(q, k, v, self.mask)
        if self.kind == "sliding":
            return sliding_window_attention(q, k, v, self.window)
        if self.kind == "block_sparse":
            return block_sparse_attention(q, k, v, self.window, self.layout)
        return linear_attention(q, k, v, causal=True, chunk=self.window)

    def forward(self, keys: Tensor, values: Tensor, query: Tensor) -> Tensor:
        pairs = self.key_embedding(keys) + self.value_embedding(values)
        x = torch.cat([pairs, self.query_embedding(query)[:, None]], dim=1)  # (B, T, d_model)
        q, k, v = self.qkv(x).unflatten(-1, (3, self.n_heads, -1)).permute(2, 0, 3, 1, 4)
        mixed = self.attend(q, k, v).transpose(1, 2).flatten(-2)  # (B, T, d_model)
        return self.head(x[:, -1] + self.proj(mixed[:, -1]))  # logits over values


def train_and_score(
    cfg: Config, kind: str, log: runner.MetricsLog, device: str = "cpu"
) -> tuple[Tensor, Tensor]:
    """Train one model; return (distance, correct) for eval_size fresh sequences, as CPU tensors.
    Every kind starts from the same seed and sees the same batches."""
    torch.manual_seed(cfg.seed)
    model = RecallModel(kind, cfg.seq_len, cfg.n_values, cfg.d_model, cfg.n_heads, cfg.window)
    model = model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    generator = torch.Generator().manual_seed(cfg.seed)
    with runner.progress(cfg.steps, TEXT["training"].get(kind=kind), quiet=cfg.quiet) as bar:
        for step in range(1, cfg.steps + 1):
            batch = recall_batch(cfg.batch_size, cfg.seq_len, cfg.n_values, generator)
            keys, values, query, answer = (x.to(device) for x in batch[:4])
            loss = F.cross_entropy(model(keys, values, query), answer)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            log.log(part="recall", kind=kind, step=step, loss=loss.item())
            bar.update(info=f"loss {loss.item():.3f}")

    test_generator = torch.Generator().manual_seed(cfg.seed + 1)
    keys, values, query, answer, distance = recall_batch(
        cfg.eval_size, cfg.seq_len, cfg.n_values, test_generator
    )
    with torch.no_grad():
        logits = model(keys.to(device), values.to(device), query.to(device)).cpu()
    correct = (logits.argmax(dim=-1) == answer).float()
    log.log(part="recall", kind=kind, accuracy=correct.mean().item())
    return distance, correct


def accuracy_by_distance(
    distance: Tensor, correct: Tensor, seq_len: int, bins: int
) -> tuple[list[float], list[float]]:
    """Mean accuracy in `bins` equal ranges of distance 1 .. seq_len - 1: (centres, accuracy)."""
    edges = torch.linspace(1, seq_len, bins + 1)
    centres, accuracy = [], []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (distance >= low) & (distance < high)
        if inside.any():
            centres.append(float((low + high - 1) / 2))
            accuracy.append(correct[inside].mean().item())
    return centres, accuracy


def save_recall_plot(path: Path, accuracy: dict[str, tuple[Tensor, Tensor]], cfg: Config) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=110)
    bins = max(1, min(16, (cfg.seq_len - 1) // max(1, cfg.window // 2)))
    for kind, (distance, correct) in accuracy.items():
        centres, values = accuracy_by_distance(distance, correct, cfg.seq_len, bins)
        ax.plot(centres, values, marker="o", label=kind)
    ax.axhline(1 / cfg.n_values, color="grey", linestyle="--", label=TEXT["chance"].get())
    ax.axvline(cfg.window - 0.5, color="black", linestyle=":", label=TEXT["window_edge"].get())
    ax.set_ylim(0, 1.05)
    ax.set_title(TEXT["recall_title"].get())
    ax.set_xlabel(TEXT["distance"].get())
    ax.set_ylabel(TEXT["accuracy"].get())
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
