from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.train.trainer import (
    TrainConfig,
    Trainer,
    autocast,
    make_optimizer,
    read_metrics,
)

VOCAB = 12


class TinyLM(nn.Module):
    """Predicts the next token from the last two: enough to learn a periodic sequence. It has
    dropout (so resuming must restore the global RNG), a LayerNorm and biases."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 16)
        self.prev = nn.Embedding(VOCAB, 16)
        self.norm = nn.LayerNorm(16)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(16, VOCAB)

    def forward(self, idx: Tensor, targets: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        previous = F.pad(idx, (1, 0))[:, :-1]
        logits = self.head(self.drop(self.norm(self.embed(idx) + self.prev(previous))))
        loss = None if targets is None else F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


def periodic_data(n: int = 3000) -> tuple[Tensor, Tensor]:
    pattern = torch.tensor([0, 1, 2, 3, 1, 4, 5, 2, 6, 7, 8, 9, 10, 11, 3, 3])
    data = pattern.repeat(n // len(pattern) + 1)[:n].to(torch.uint8)
    return data[: int(0.9 * n)], data[int(0.9 * n) :]


def config(**overrides: object) -> TrainConfig:
    values = dict(
        max_iters=60,
        batch_size=8,
        block_size=16,
        lr=1e-2,
        min_lr=1e-3,
        warmup_iters=5,
        eval_interval=20,
        eval_iters=4,
        log_interval=5,
    )
    values.update(overrides)
    return TrainConfig(**values)


def make_trainer(seed: int = 0, **kwargs: object) -> Trainer:
    torch.manual_seed(seed)
    train, val = periodic_data()
    return Trainer(TinyLM(), train, val, config(), **kwargs)


def test_weight_decay_goes_to_matrices_and_embeddings_only() -> None:
    model = TinyLM()
    decay, no_decay = make_optimizer(model, config(weight_decay=0.3)).param_groups
    assert decay["weight_decay"] == 0.3 and no_decay["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {
        id(model.embed.weight),
        id(model.prev.weight),
        id(model.head.weight),
    }
    assert {id(p) for p in no_decay["params"]} == {
        id(model.norm.weight),
        id(model.norm.bias),
        id(model.head.bias),
    }


def test_fit_learns_and_logs_evaluations_and_train_records(tmp_path: Path) -> None:
    records: list[dict[str, object]] = []
    trainer = make_trainer(log=lambda **r: records.append(r))
    result = trainer.fit()
    evals = [r for r in records if r["kind"] == "eval"]
    assert [r["step"] for r in evals] == [0, 20, 40, 60]
    assert evals[0]["val_loss"] == pytest.approx(math.log(VOCAB), abs=0.6)  # untrained
    # the sequence is deterministic given two tokens: the loss must fall far below ln(12)
    assert result.val_loss < 0.5 * math.log(VOCAB)
    assert result.steps == 60 and result.history == [
        {k: r[k] for k in ("step", "train_loss", "val_loss", "lr")} for r in evals
    ]
    train_records = [r for r in records if r["kind"] == "train"]
    assert [r["step"] for r in train_records] == list(range(5, 61, 5))
    assert train_records[0]["lr"] == pytest.approx(1e-2 * 5 / 6)  # the lr of step 4
    assert result.tokens_per_s > 0 and result.ms_per_iter > 0


def test_evaluation_is_repeatable_and_leaves_the_training_randomness_alone() -> None:
    trainer = make_trainer()
    state, global_state = trainer.generator.get_state(), torch.get_rng_state()
    first = trainer.evaluate()
    assert trainer.evaluate() == first  # the same batches every time
    assert torch.equal(trainer.generator.get_state(), state)
    assert torch.equal(torch.get_rng_state(), global_state)
    assert trainer.model.training  # back in training mode


class StopAt:
    """A progress bar that pulls the plug at a given step, like Ctrl-C or a power cut."""

    def __init__(self, trainer: Trainer, step: int) -> None:
        self.trainer, self.step = trainer, step

    def update(self, advance: int = 1, info: str | None = None, completed: int | None = None):
        if self.trainer.step >= self.step:
            raise KeyboardInterrupt


def test_resumed_run_is_bit_identical_to_an_uninterrupted_one(tmp_path: Path) -> None:
    straight = make_trainer(checkpoint_path=tmp_path / "a.pt", metrics_path=tmp_path / "a.jsonl")
    straight.fit()

    interrupted = make_trainer(checkpoint_path=tmp_path / "b.pt", metrics_path=tmp_path / "b.jsonl")
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(StopAt(interrupted, 33))  # the last checkpoint is from step 20
    assert read_metrics(tmp_path / "b.jsonl")[-1]["step"] == 30  # logged after the checkpoint
    torch.rand(10)  # whatever happens in between must not matter

    # other init weights; the log is continued, without the records after step 20
    resumed = make_trainer(
        seed=99, checkpoint_path=tmp_path / "b.pt", metrics_path=tmp_path / "b.jsonl"
    )
    assert resumed.resume() == 20
    assert read_metrics(tmp_path / "b.jsonl")[-1] == {"kind": "eval", **resumed.history[-1]}
    resumed.fit()

    def without_timing(records: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k != "ms"} for r in records]

    want = without_timing(read_metrics(tmp_path / "a.jsonl"))
    assert without_timing(read_metrics(tmp_path / "b.jsonl")) == want
    assert want[-1]["kind"] == "eval" and want[-1]["step"] == 60
    for (name, got), want in zip(
        resumed.model.named_parameters(), straight.model.parameters(), strict=True
    ):
        assert torch.equal(got, want), name
    assert resumed.history == straight.history
    for got, want in zip(
        resumed.optimizer.state_dict()["state"].values(),
        straight.optimizer.state_dict()["state"].values(),
        strict=True,
    ):
        assert all(torch.equal(got[k], want[k]) for k in want)


def test_autocast_is_off_on_cpu() -> None:
    with autocast(torch.device("cpu")):
        assert not torch.is_autocast_enabled("cpu")
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_a_run_shorter_than_the_warmup_still_has_a_schedule() -> None:
    train, val = periodic_data()
    trainer = Trainer(TinyLM(), train, val, config(max_iters=3, warmup_iters=100))
    assert trainer.schedule.warmup_iters == 3
    assert trainer.fit().steps == 3


def test_the_metrics_file_holds_every_record_and_survives_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text("left over from an earlier run\n")
    records: list[dict[str, object]] = []
    trainer = make_trainer(log=lambda **r: records.append(r), metrics_path=path)
    trainer.cfg.max_iters = 20
    trainer.fit()
    assert read_metrics(path) == records and len(records) == 2 + 4  # evals at 0, 20; 4 train
    with path.open("a") as f:
        f.write('{"kind": "train", "step": 2')  # the power went out mid-line
    assert read_metrics(path) == records


def no_dropout_trainer(**overrides: object) -> Trainer:
    torch.manual_seed(0)
    model = TinyLM()
    model.drop.p = 0.0  # dropout masks are drawn per micro-batch: switch them off to compare
    return Trainer(model, *periodic_data(), config(**overrides))


def test_accumulating_k_micro_batches_equals_one_batch_k_times_larger() -> None:
    big = no_dropout_trainer(batch_size=16)
    accumulated = no_dropout_trainer(batch_size=4, grad_accum_steps=4)
    x = torch.randint(0, VOCAB, (16, 16))
    y = torch.randint(0, VOCAB, (16, 16))
    big_loss, accumulated_loss = big.backward(x, y), accumulated.backward(x, y)
    # fp32 sums in another order: equal to a few ulps (tolerance 1e-6 on O(1) values)
    assert accumulated_loss.item() == pytest.approx(big_loss.item(), abs=1e-6)
    pairs = zip(big.model.named_parameters(), accumulated.model.parameters(), strict=True)
    for (name, p), q in pairs:
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-5, atol=1e-6, msg=name)
    big.optimizer.zero_grad()
    accumulated.optimizer.zero_grad()

    # whole runs draw the same global batches, so they take the same steps: the same weights
    # at the end, and the same training loss at every logged step (the mean over all rows)
    logs: dict[str, list[dict[str, object]]] = {"big": [], "accumulated": []}
    big.user_log = lambda **r: logs["big"].append(r)
    accumulated.user_log = lambda **r: logs["accumulated"].append(r)
    big.fit()
    accumulated.fit()
    big_losses, accumulated_losses = (
        [r["loss"] for r in logs[name] if r["kind"] == "train"] for name in logs
    )
    for p, q in zip(big.model.parameters(), accumulated.model.parameters(), strict=True):
        torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-5)
    assert len(big_losses) == 12
    assert accumulated_losses == pytest.approx(big_losses, abs=1e-5)


def test_grad_accum_steps_must_be_positive() -> None:
    with pytest.raises(ValueError, match="grad_accum_steps"):
        TrainConfig(grad_accum_steps=0)


def test_compiled_model_trains_to_the_same_loss_as_eager() -> None:
    """The "eager" backend runs the torch.compile path (graph capture, guards, the compiled
    wrapper) without generating kernels: inductor needs minutes of C++ compiling here."""
    eager = no_dropout_trainer(max_iters=6, eval_interval=6, eval_iters=2)
    compiled = no_dropout_trainer(
        max_iters=6, eval_interval=6, eval_iters=2, compile=True, compile_backend="eager"
    )
    assert compiled.forward is not compiled.model
    want, got = eager.fit(), compiled.fit()
    assert got.val_loss == pytest.approx(want.val_loss, abs=1e-5)
    assert got.train_loss == pytest.approx(want.train_loss, abs=1e-5)
    assert set(compiled.module.state_dict()) == set(eager.model.state_dict())  # no prefix


def test_each_rank_trains_on_its_own_rows_and_their_mean_is_the_whole_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What DDP relies on, without processes: rank r takes the r-th share of every
    micro-batch, and the mean of the ranks' gradients is the gradient of the whole batch."""
    x = torch.randint(0, VOCAB, (16, 16))
    y = torch.randint(0, VOCAB, (16, 16))
    whole = no_dropout_trainer(batch_size=8, grad_accum_steps=2)
    whole.backward(x, y)
    monkeypatch.setattr("torch.distributed.all_reduce", lambda tensor: None)  # one process
    grads = []
    for rank in range(2):
        trainer = no_dropout_trainer(batch_size=8, grad_accum_steps=2)
        trainer.rank, trainer.world_size = rank, 2
        trainer.backward(x, y)
        grads.append([p.grad for p in trainer.model.parameters()])
    for want, g0, g1 in zip([p.grad for p in whole.model.parameters()], *grads, strict=True):
        assert not torch.allclose(g0, g1)  # different rows
        torch.testing.assert_close((g0 + g1) / 2, want, rtol=1e-5, atol=1e-6)
