"""Fine-tuning schedules: warm-up + linear decay, layer-wise learning rates, early stopping.

Oracle: transformers.get_linear_schedule_with_warmup, stepped through a whole run, gives the
same learning rate as our factor times the peak at every step (abs 1e-12).
"""

from __future__ import annotations

import math

import pytest
import torch
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from groundup.finetune.schedule import EarlyStopping, layerwise_lr_groups, linear_warmup_decay
from groundup.models.bert import Bert, BertConfig


@settings(max_examples=25, deadline=None)
@given(
    warmup=st.integers(0, 30),
    extra=st.integers(0, 60),
    peak=st.floats(1e-6, 1.0),
)
def test_matches_transformers_linear_schedule_with_warmup(warmup: int, extra: int, peak: float):
    total = warmup + extra
    parameter = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=peak)
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, warmup, total)
    for step in range(total + 5):  # a few steps past the end: stays at 0
        expected = optimizer.param_groups[0]["lr"]
        assert peak * linear_warmup_decay(step, warmup, total) == pytest.approx(expected, abs=1e-12)
        optimizer.step()
        scheduler.step()


def test_linear_warmup_decay_shape():
    factors = [linear_warmup_decay(s, 4, 12) for s in range(14)]
    assert factors[:5] == [0.0, 0.25, 0.5, 0.75, 1.0]  # up to the peak at step = warmup
    assert factors[4:13] == pytest.approx([1 - k / 8 for k in range(9)])  # down to 0 at the end
    assert factors[13] == 0.0
    assert linear_warmup_decay(0, 0, 10) == 1.0  # no warm-up: start at the peak


def tiny_bert(layers: int = 3) -> Bert:
    config = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=24,
        max_position_embeddings=20,
    )
    return Bert(config)


class WithHead(nn.Module):
    """A classifier-shaped model: the encoder as `.bert`, a dropout and a linear head."""

    def __init__(self, bert: Bert) -> None:
        super().__init__()
        self.bert = bert
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(bert.config.hidden_size, 3)


def lr_by_name(groups: list[dict]) -> dict[str, tuple[float, float]]:
    table: dict[str, tuple[float, float]] = {}
    for group in groups:
        assert len(group["names"]) == len(group["params"])
        for name in group["names"]:
            assert name not in table, f"{name} is in two groups"
            table[name] = (group["lr"], group["weight_decay"])
    return table


@pytest.mark.parametrize("layers", [1, 3])
def test_layerwise_lr_per_parameter(layers: int):
    model = WithHead(tiny_bert(layers))
    base, decay, wd = 1e-3, 0.5, 0.01
    groups = layerwise_lr_groups(model, base, decay, wd)
    table = lr_by_name(groups)
    # every parameter in exactly one group, and the group holds that very tensor
    assert set(table) == {name for name, _ in model.named_parameters()}
    parameters = dict(model.named_parameters())
    for group in groups:
        for name, parameter in zip(group["names"], group["params"], strict=True):
            assert parameter is parameters[name]
    for name, (lr, weight_decay) in table.items():
        if name.startswith("bert.embeddings."):
            expected_lr = base * decay**layers
        elif name.startswith("bert.layers."):
            index = int(name.split(".")[2])
            expected_lr = base * decay ** (layers - 1 - index)
        else:  # pooler, classifier
            assert name.startswith(("bert.pooler.", "classifier."))
            expected_lr = base
        assert lr == pytest.approx(expected_lr, rel=1e-12), name
        no_decay = name.endswith(".bias") or "norm." in name
        assert weight_decay == (0.0 if no_decay else wd), name
    top = f"bert.layers.{layers - 1}.ffn_in.weight"
    assert table[top][0] == base  # the top layer learns as fast as the head
    assert table["bert.embeddings.word_embeddings.weight"] == (base * decay**layers, wd)
    assert table["bert.embeddings.norm.weight"][1] == 0.0


def test_layerwise_groups_drive_adamw_and_skip_frozen():
    model = WithHead(tiny_bert(2))
    for parameter in model.bert.embeddings.parameters():
        parameter.requires_grad_(False)
    groups = layerwise_lr_groups(model, 2e-5, 0.9, 0.01)
    names = {name for group in groups for name in group["names"]}
    assert not any(name.startswith("bert.embeddings.") for name in names)
    assert names == {n for n, p in model.named_parameters() if p.requires_grad}
    optimizer = torch.optim.AdamW(groups)  # extra keys ("names") are kept by torch
    assert sorted({g["lr"] for g in optimizer.param_groups}) == pytest.approx([2e-5 * 0.9, 2e-5])


def test_layerwise_decay_one_is_uniform_and_bare_bert_works():
    table = lr_by_name(layerwise_lr_groups(tiny_bert(2), 3e-4, 1.0, 0.1))
    assert {lr for lr, _ in table.values()} == {3e-4}
    assert "embeddings.word_embeddings.weight" in table  # a bare Bert: no prefix
    with pytest.raises(TypeError):
        layerwise_lr_groups(nn.Linear(2, 2), 1e-3, 0.9, 0.0)
    with pytest.raises(ValueError):
        layerwise_lr_groups(tiny_bert(1), 1e-3, 0.0, 0.0)


def run(stopper: EarlyStopping, values: list[float]) -> int | None:
    """The index of the value at which the stopper says stop, None if it never does."""
    for index, value in enumerate(values):
        if stopper.step(value):
            return index
    return None


def test_early_stopping_max_and_patience():
    stopper = EarlyStopping(patience=2, mode="max")
    assert run(stopper, [0.5, 0.6, 0.55, 0.7, 0.65, 0.6, 0.9]) == 5
    assert (stopper.best, stopper.best_step) == (0.7, 3)
    assert run(EarlyStopping(patience=0, mode="max"), [0.1, 0.2, 0.2]) == 2
    assert run(EarlyStopping(patience=3, mode="max"), [0.1, 0.0, 0.0, 0.2, 0.1, 0.1]) is None


def test_early_stopping_min():
    stopper = EarlyStopping(patience=1, mode="min")
    assert run(stopper, [3.0, 2.0, 2.5, 1.0, 1.5]) == 2
    assert (stopper.best, stopper.best_step) == (2.0, 1)
    stopper = EarlyStopping(patience=1, mode="min")
    assert run(stopper, [3.0, 2.0, 1.0, 0.5]) is None
    assert (stopper.best, stopper.best_step) == (0.5, 3)


def test_early_stopping_ties_and_nan_are_not_progress():
    stopper = EarlyStopping(patience=2, mode="max")
    assert run(stopper, [0.8, 0.8, 0.8]) == 2  # a plateau ends training
    assert stopper.best_step == 0  # the first time the best value was reached
    stopper = EarlyStopping(patience=1, mode="min")
    assert stopper.step(1.0) is False and stopper.improved
    assert stopper.step(math.nan) is True and not stopper.improved
    assert stopper.best == 1.0
    with pytest.raises(ValueError):
        EarlyStopping(patience=1, mode="maximum")
