"""The batch iterator against torch.utils.data.DataLoader, datasets against TensorDataset,
the NumPy engine against torch.nn for one MLP, and train_epoch against a hand-written loop.

Batches are compared exactly (torch.equal): both sides index and stack the same values.
Engine vs torch compares float64 losses and gradients with atol 1e-12, rtol 1e-10 (only the
order of summation differs). train_epoch vs the hand-written loop is exact: the same
operations in the same order.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from groundup.autograd.engine import Tensor, cross_entropy
from groundup.autograd.nn import MLP
from groundup.train.loop import (
    ArrayDataset,
    SlidingWindowDataset,
    accuracy,
    batches,
    collate,
    evaluate,
    train_epoch,
)


def _data(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, generator=g, dtype=torch.float64), torch.randint(
        0, 4, (n,), generator=g
    )


def _assert_same_batches(ours: list, theirs: list) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert x.dtype == y.dtype
            assert torch.equal(x, y)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 40),
    batch_size=st.integers(1, 12),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_matches_dataloader_random_sampler(n, batch_size, drop_last, seed) -> None:
    x, y = _data(n, seed % 1000)
    sampler = RandomSampler(TensorDataset(x, y), generator=torch.Generator().manual_seed(seed))
    loader = DataLoader(
        TensorDataset(x, y), batch_size=batch_size, sampler=sampler, drop_last=drop_last
    )
    ours = batches(
        ArrayDataset(x, y),
        batch_size,
        shuffle=True,
        drop_last=drop_last,
        generator=torch.Generator().manual_seed(seed),
    )
    _assert_same_batches(list(ours), list(loader))


@pytest.mark.parametrize("drop_last", [False, True])
def test_matches_dataloader_in_order_with_partial_last_batch(drop_last) -> None:
    x, y = _data(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=drop_last)
    ours = list(batches(ArrayDataset(x, y), 4, drop_last=drop_last))
    _assert_same_batches(ours, list(loader))
    assert [len(b[0]) for b in ours] == ([4, 4] if drop_last else [4, 4, 2])


def test_matches_dataloader_on_sliding_windows_with_default_collate() -> None:
    series = torch.sin(torch.linspace(0, 6, 30, dtype=torch.float64))
    dataset = SlidingWindowDataset(series, window=5)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    loader = DataLoader(dataset, batch_size=7, sampler=RandomSampler(dataset, generator=g1))
    _assert_same_batches(list(batches(dataset, 7, shuffle=True, generator=g2)), list(loader))


def test_matches_tensor_dataset() -> None:
    x, y = _data(9)
    ours, theirs = ArrayDataset(x, y), TensorDataset(x, y)
    assert len(ours) == len(theirs)
    for i in [*range(9), -1, -9]:
        for a, b in zip(ours[i], theirs[i], strict=True):
            assert torch.equal(a, b)
    # NumPy arrays are taken as tensors of the same dtype
    assert ArrayDataset(x.numpy(), y.numpy())[4][0].dtype == torch.float64
    with pytest.raises(ValueError, match="same length"):
        ArrayDataset(x, y[:-1])


def test_sliding_window_examples() -> None:
    series = torch.arange(8.0)
    dataset = SlidingWindowDataset(series, window=3)
    assert len(dataset) == 5  # windows start at 0..4; the last target is series[7]
    x, target = dataset[0]
    assert x.tolist() == [0.0, 1.0, 2.0] and target.item() == 3.0
    x, target = dataset[-1]
    assert x.tolist() == [4.0, 5.0, 6.0] and target.item() == 7.0
    assert x.data_ptr() == series[4:].data_ptr()  # a view, not a copy
    with pytest.raises(IndexError):
        dataset[5]
    with pytest.raises(ValueError):
        SlidingWindowDataset(series, window=8)


def test_collate_matches_default_collate_for_numbers_and_arrays() -> None:
    from torch.utils.data import default_collate

    examples = [(np.ones(2) * i, i, float(i)) for i in range(3)]
    for ours, theirs in zip(collate(examples), default_collate(examples), strict=True):
        assert ours.dtype == theirs.dtype and torch.equal(ours, theirs)


def _torch_copy(engine_mlp: MLP) -> torch.nn.Sequential:
    """The same network in torch.nn; engine weights are (in, out), torch's (out, in)."""
    layers: list[torch.nn.Module] = []
    for layer in engine_mlp.layers:
        linear = torch.nn.Linear(*layer.weight.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weight.data.T))
            linear.bias.copy_(torch.from_numpy(layer.bias.data))
        layers += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_torch_nn_bridge_loss_and_gradients(seed) -> None:
    rng = np.random.default_rng(seed)
    engine_mlp = MLP([5, 7, 6, 3], rng)
    x, y = rng.normal(size=(11, 5)), rng.integers(0, 3, 11)
    torch_mlp = _torch_copy(engine_mlp)

    loss = cross_entropy(engine_mlp(Tensor(x)), y)
    loss.backward()
    torch_loss = torch.nn.functional.cross_entropy(
        torch_mlp(torch.from_numpy(x)), torch.from_numpy(y)
    )
    torch_loss.backward()

    np.testing.assert_allclose(loss.item(), torch_loss.item(), atol=1e-12, rtol=1e-10)
    linears = [m for m in torch_mlp if isinstance(m, torch.nn.Linear)]
    for ours, theirs in zip(engine_mlp.layers, linears, strict=True):
        np.testing.assert_allclose(
            ours.weight.grad, theirs.weight.grad.numpy().T, atol=1e-12, rtol=1e-10
        )
        np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), atol=1e-12, rtol=1e-10)


def _model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Dropout(0.0), torch.nn.Linear(8, 4)
    ).double()


def test_matches_hand_written_loop_step_for_step() -> None:
    x, y = _data(23)
    dataset = ArrayDataset(x, y)
    ours, reference = _model(0), _model(0)
    opt_ours = torch.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt_ref = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.functional.cross_entropy

    for epoch in range(2):
        mean = train_epoch(
            ours, batches(dataset, 5, True, generator=torch.Generator().manual_seed(epoch)),
            loss_fn, opt_ours,
        )  # fmt: skip
        total = 0.0
        for xb, yb in DataLoader(
            TensorDataset(x, y), batch_size=5,
            sampler=RandomSampler(x, generator=torch.Generator().manual_seed(epoch)),
        ):  # fmt: skip
            opt_ref.zero_grad()
            loss = loss_fn(reference(xb), yb)
            loss.backward()
            opt_ref.step()
            total += loss.item() * len(xb)
        assert mean == pytest.approx(total / 23, rel=1e-15)
        for a, b in zip(ours.parameters(), reference.parameters(), strict=True):
            assert torch.equal(a, b)


def test_train_epoch_weights_the_mean_by_batch_size_and_sets_train_mode() -> None:
    model = _model(1)
    model.eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # no change: losses stay fixed
    x, y = _data(7)
    loss_fn = torch.nn.functional.cross_entropy
    mean = train_epoch(model, batches(ArrayDataset(x, y), 5), loss_fn, optimizer)
    assert model.training
    with torch.no_grad():
        expected = loss_fn(model(x), y).item()  # the mean over all 7 examples at once
    assert mean == pytest.approx(expected, rel=1e-12)


def test_evaluate_is_weighted_in_eval_mode_and_records_no_graph() -> None:
    model = _model(2)
    x, y = _data(13)
    seen = []

    def metric(logits, targets):
        seen.append((model.training, logits.requires_grad))
        return accuracy(logits, targets)

    result = evaluate(model, batches(ArrayDataset(x, y), 4), metric)
    with torch.no_grad():
        assert result == pytest.approx(accuracy(model(x), y).item(), rel=1e-12)
    assert seen == [(False, False)] * 4
