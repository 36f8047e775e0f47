"""A small trainer for language models: the loop of nanoGPT's train.py, as a class.

One step: draw a random batch, forward, backward, clip the gradient norm, take an AdamW step
at the learning rate of the warm-up + cosine schedule. Every `eval_interval` steps it
measures the mean loss on train and validation batches, logs it, and writes a checkpoint
from which `resume` continues exactly: on the CPU, a run stopped and resumed ends with
bit-identical weights to a run that never stopped.

What a larger run needs on top:

- gradient accumulation: `grad_accum_steps` = k runs k micro-batches of `batch_size` before
  each optimizer step, with each micro-batch's loss divided by k, so the step sees the
  gradient of one batch of k * batch_size (the memory of one micro-batch, the time of k);
- bf16 autocast on CUDA, and `compile` (torch.compile) for fused kernels;
- several processes (groundup.train.distributed): every rank draws the same global batch
  from the same generator and trains on its own rows; DDP or FSDP averages the gradients,
  so the step equals the single-process step at the same global batch;
- a JSONL metrics file (`metrics_path`), one record per line, readable after a crash.

The model is any nn.Module with `forward(idx, targets) -> (logits, loss)`; the data are two
1-D tensors of token ids. The trainer prints nothing itself: progress goes to a bar object
(`update(advance, info, completed)`) and records to a `log(**record)` callable and the
metrics file, so a lab, a benchmark and a test can each decide where they end up.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.distributed as dist
from torch import Tensor, nn

from groundup.data.text import get_batch
from groundup.files import atomic_write_text
from groundup.train.checkpoint import load_checkpoint, save_checkpoint
from groundup.train.schedule import WarmupCosine


@dataclass
class TrainConfig:
    max_iters: int = 2000
    batch_size: int = 12  # per micro-batch; a step sees batch_size * grad_accum_steps rows
    block_size: int = 64
    grad_accum_steps: int = 1
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup_iters: int = 100
    lr_decay_iters: int | None = None  # None: decay until max_iters
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # 0 turns clipping off
    eval_interval: int = 250
    eval_iters: int = 200
    log_interval: int = 10  # steps between train-loss records in the log
    seed: int = 0  # draws the training batches
    eval_seed: int = 1234  # every evaluation draws the same batches, so points compare fairly
    device: str = "cpu"
    compile: bool = False  # torch.compile the model (the first steps pay for compiling)
    compile_backend: str = "inductor"  # "eager" only traces: checks the path, no speed-up

    def __post_init__(self) -> None:
        if self.grad_accum_steps < 1:
            raise ValueError(f"grad_accum_steps must be >= 1, got {self.grad_accum_steps}")


@dataclass
class TrainResult:
    steps: int
    train_loss: float
    val_loss: float
    tokens_per_s: float
    ms_per_iter: float  # median over the steps of this run
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)  # one entry per evaluation


class Bar(Protocol):
    def update(
        self, advance: int = 1, info: str | None = None, completed: int | None = None
    ) -> None: ...


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices and embeddings (dim >= 2) but not on biases and
    LayerNorm gains: shrinking those towards zero has no regularizing purpose."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    betas = (cfg.beta1, cfg.beta2)
    try:  # the fused kernel does the whole update in one pass: about twice as fast on CPU
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=betas, fused=True)
    except (RuntimeError, ValueError, TypeError):
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=betas)


def autocast(device: torch.device) -> AbstractContextManager[Any]:
    """bf16 autocast on CUDA (matmuls in bf16, reductions in fp32); fp32 everywhere else."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return nullcontext()


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line with a single write to a file opened for appending: the line
    lands whole at the end, so a killed run leaves every earlier line intact."""
    line = (json.dumps(record) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The records of a metrics file; a torn last line (power cut mid-write) is skipped."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break  # only the last line can be torn: appends never interleave
    return records


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside a DDP or torch.compile wrapper (its state_dict has no prefix)."""
    while True:
        inner = getattr(model, "module", None) or getattr(model, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return model
        model = inner


class Trainer:
    def __init__(
        self,
        model: nn.Module,
        train_data: Tensor,
        val_data: Tensor,
        cfg: TrainConfig,
        checkpoint_path: str | Path | None = None,
        log: Callable[..., None] | None = None,
        run_config: dict[str, Any] | None = None,  # stored in checkpoints, e.g. the lab config
        metrics_path: str | Path | None = None,  # JSONL: every log record, one per line
    ) -> None:
        self.cfg = cfg
        self.device = torch.device(cfg.device)
        self.model = model.to(self.device)  # may be wrapped in DDP or sharded by FSDP
        self.module = unwrap(self.model)  # what checkpoints hold
        # the callable for forward passes: compiled code shares the parameters of the model
        self.forward = (
            torch.compile(self.model, backend=cfg.compile_backend) if cfg.compile else self.model
        )
        distributed = dist.is_available() and dist.is_initialized()
        self.rank = dist.get_rank() if distributed else 0
        self.world_size = dist.get_world_size() if distributed else 1
        if cfg.batch_size % self.world_size:
            raise ValueError(
                f"batch_size {cfg.batch_size} must divide evenly among {self.world_size} ranks"
            )
        self.train_data, self.val_data = train_data, val_data
        self.optimizer = make_optimizer(self.model, cfg)
        decay_iters = cfg.lr_decay_iters or cfg.max_iters
        warmup_iters = min(cfg.warmup_iters, decay_iters)  # a short run still gets a schedule
        self.schedule = WarmupCosine(cfg.lr, cfg.min_lr, warmup_iters, decay_iters)
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.user_log = log or (lambda **record: None)
        self.metrics_path = Path(metrics_path) if metrics_path and self.rank == 0 else None
        self.run_config = run_config or {}
        self.step = 0  # optimizer steps taken so far
        self.history: list[dict[str, float]] = []
        self.step_ms: list[float] = []  # wall time of each step of this run

    def log(self, **record: Any) -> None:
        self.user_log(**record)
        if self.metrics_path is not None:
            append_record(self.metrics_path, record)

    # ------------------------------------------------------------------ one step
    def train_step(self) -> Tensor:
        lr = self.schedule(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        # the whole global batch, drawn the same way whatever k and the number of ranks
        rows = self.cfg.batch_size * self.cfg.grad_accum_steps
        x, y = get_batch(self.train_data, self.cfg.block_size, rows, self.generator)
        loss = self.backward(x, y)
        if self.cfg.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return loss

    def backward(self, x: Tensor, y: Tensor) -> Tensor:
        """Accumulate into .grad the gradient of the mean loss over the batch (x, y), in
        grad_accum_steps micro-batches of which this rank takes its share of rows; returns
        that mean loss (averaged over the ranks too)."""
        k = self.cfg.grad_accum_steps
        total = torch.zeros((), device=self.device)
        for i, (xs, ys) in enumerate(zip(x.chunk(k), y.chunk(k), strict=True)):
            # each micro-batch is split evenly: the mean over ranks is the batch mean
            xs, ys = xs.chunk(self.world_size)[self.rank], ys.chunk(self.world_size)[self.rank]
            # DDP and FSDP average gradients across ranks in every backward; the last one is
            # enough, since only the sum over the micro-batches matters
            last = i == k - 1
            if hasattr(self.model, "set_requires_gradient_sync"):  # FSDP
                self.model.set_requires_gradient_sync(last)
            skip_sync = not last and hasattr(self.model, "no_sync")  # DDP
            with self.model.no_sync() if skip_sync else nullcontext():
                with autocast(self.device):
                    _, loss = self.forward(xs.to(self.device), ys.to(self.device))
                loss = loss / k  # equal micro-batches: the mean of means is the batch mean
                loss.backward()
            total += loss.detach().float()
        if self.world_size > 1:
            dist.all_reduce(total)  # gradients are averaged by DDP/FSDP; the loss here
            total /= self.world_size
        return total

    @torch.no_grad()
    def evaluate(
        self, iters: int | None = None, splits: tuple[str, ...] = ("train", "val")
    ) -> dict[str, float]:
        """Mean loss over `iters` random batches of each split (model in eval mode: no
        dropout). The batches come from a generator of their own, so evaluating leaves the
        training run's random stream untouched."""
        iters = iters or self.cfg.eval_iters
        generator = torch.Generator().manual_seed(self.cfg.eval_seed)
        data = {"train": self.train_data, "val": self.val_data}
        was_training = self.model.training
        self.model.eval()
        losses = {}
        for split in splits:
            total = torch.zeros((), device=self.device)
            for _ in range(iters):
                x, y = get_batch(data[split], self.cfg.block_size, self.cfg.batch_size, generator)
                with autocast(self.device):
                    _, loss = self.forward(x.to(self.device), y.to(self.device))
                total += loss.float()
            losses[split] = total.item() / iters  # one device sync per split, not per batch
        self.model.train(was_training)
        return losses

    # ------------------------------------------------------------------ the loop
    def fit(self, bar: Bar | None = None) -> TrainResult:
        """Train until `max_iters` steps; call `resume` first to continue a checkpoint."""
        cfg = self.cfg
        self.model.train()
        if bar is not None:
            bar.update(advance=0, completed=self.step)
        if self.step == 0 and not self.history:
            if self.metrics_path is not None:
                atomic_write_text(self.metrics_path, "")  # a new run: a new file
            self._record_eval()  # the loss before training: about ln(vocab size)
        start, tokens, train_seconds = time.perf_counter(), 0, 0.0
        last_val = self.history[-1]["val_loss"] if self.history else float("nan")
        while self.step < cfg.max_iters:
            t0 = time.perf_counter()
            loss = self.train_step().item()  # .item() waits for the device: honest timing
            dt = time.perf_counter() - t0
            self.step_ms.append(1000 * dt)
            train_seconds += dt
            tokens += cfg.batch_size * cfg.grad_accum_steps * cfg.block_size
            lr = self.optimizer.param_groups[0]["lr"]
            if self.step % cfg.log_interval == 0:
                self.log(kind="train", step=self.step, loss=loss, lr=lr, ms=1000 * dt)
            if self.step % cfg.eval_interval == 0 or self.step == cfg.max_iters:
                last_val = self._record_eval()["val_loss"]
                self.save()
            if bar is not None:
                speed = tokens / max(train_seconds, 1e-9) / 1000
                info = f"loss {loss:.3f} | val {last_val:.3f} | {speed:.1f}k tok/s | lr {lr:.1e}"
                bar.update(advance=1, info=info)
        last = self.history[-1]
        return TrainResult(
            steps=self.step,
            train_loss=last["train_loss"],
            val_loss=last["val_loss"],
            tokens_per_s=tokens / train_seconds if train_seconds else 0.0,
            ms_per_iter=statistics.median(self.step_ms) if self.step_ms else 0.0,
            seconds=time.perf_counter() - start,
            history=list(self.history),
        )

    def _record_eval(self) -> dict[str, float]:
        losses = self.evaluate()
        record = {
            "step": self.step,
            "train_loss": losses["train"],
            "val_loss": losses["val"],
            "lr": self.schedule(self.step),
        }
        self.history.append(record)
        self.log(kind="eval", **record)
        return record

    # ------------------------------------------------------------------ checkpoints
    def save(self, path: str | Path | None = None) -> Path | None:
        path = Path(path) if path else self.checkpoint_path
        if path is None or self.rank != 0:  # every rank holds the same weights: one writes
            return None
        return save_checkpoint(
            path,
            self.module,
            self.optimizer,
            step=self.step,
            config={"train": asdict(self.cfg), "run": self.run_config},
            generators={"batches": self.generator},
            extra={"history": self.history},
        )

    def resume(self, path: str | Path | None = None) -> int:
        """Load weights, optimizer, step, history and random states; returns the step."""
        path = Path(path) if path else self.checkpoint_path
        if path is None:
            raise ValueError("no checkpoint path to resume from")
        checkpoint = load_checkpoint(
            path, self.module, self.optimizer, generators={"batches": self.generator}
        )
        self.step = checkpoint["step"]
        self.history = list(checkpoint["extra"].get("history", []))
        if self.metrics_path is not None and self.metrics_path.is_file():
            # drop what the interrupted run logged after its last checkpoint: it comes again
            kept = [r for r in read_metrics(self.metrics_path) if r.get("step", 0) <= self.step]
            atomic_write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in kept))
        return self.step
