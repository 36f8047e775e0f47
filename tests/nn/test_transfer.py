"""Transfer-learning mechanics against their references: scikit-learn and torch.optim.

- The linear probe (our head, fitted on frozen features by L-BFGS) against scikit-learn's
  LogisticRegression with C = 1 / (l2 * n), the same objective scaled by n*C. Both solve a
  strictly convex problem to a gradient of about 1e-9, so weights, centred intercepts and
  probabilities agree to atol 1e-5 (probabilities 1e-6) in float64, and our objective's
  gradient at scikit-learn's solution is below 1e-6.
- Frozen parameters: bit-identical (torch.equal) after training steps, no gradient, batch-norm
  running statistics unchanged while frozen, for torch's and groundup's BatchNorm2d.
- Layer-wise learning rates: exactly (torch.equal) the updates of hand-built param groups.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from torch import nn

from groundup.nn.normalization import BatchNorm2d
from groundup.nn.transfer import (
    count_parameters,
    extract_features,
    few_shot_indices,
    fit_linear_probe,
    freeze,
    is_frozen,
    layerwise_param_groups,
    replace_head,
    train_mode,
    trainable_parameters,
    unfreeze,
    unfreeze_top,
)

FAST = settings(max_examples=25, deadline=None)


class SmallNet(nn.Module):
    """conv - batch norm - ReLU - pool, then a hidden layer and a head: a body worth freezing."""

    def __init__(self, norm: type[nn.Module] = nn.BatchNorm2d, classes: int = 3) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            norm(4),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(4 * 3 * 3, 8),
            nn.ReLU(),
        )
        self.head = nn.Linear(8, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 6, 6, generator=g) * 2 + 1, torch.randint(0, 3, (n,), generator=g)


def batch_norm_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items() if "running" in k or "tracked" in k}


# ---------------------------------------------------------------- the linear probe


def probe_problem(n: int, dim: int, classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g, dtype=torch.float64)
    w = torch.randn(dim, classes, generator=g, dtype=torch.float64)
    y = (x @ w + torch.randn(n, classes, generator=g, dtype=torch.float64)).argmax(1)
    return x, y


def probe_objective_gradient(
    weight: np.ndarray, bias: np.ndarray, x: torch.Tensor, y: torch.Tensor, l2: float
) -> float:
    w = torch.tensor(weight, requires_grad=True)
    b = torch.tensor(bias, requires_grad=True)
    loss = F.cross_entropy(x @ w.T + b, y) + 0.5 * l2 * w.pow(2).sum()
    loss.backward()
    return max(w.grad.abs().max().item(), b.grad.abs().max().item())


@pytest.mark.parametrize(
    ("n", "dim", "classes", "l2", "seed"),
    [(60, 7, 3, 1e-2, 0), (120, 12, 5, 1e-2, 1), (30, 10, 4, 1e-1, 2), (200, 20, 5, 1e-3, 3)],
)
def test_matches_sklearn_logistic_regression_linear_probe(
    n: int, dim: int, classes: int, l2: float, seed: int
) -> None:
    x, y = probe_problem(n, dim, classes, seed)
    head = fit_linear_probe(x, y, classes, l2=l2)
    reference = LogisticRegression(C=1 / (l2 * n), tol=1e-12, max_iter=10_000).fit(x, y)
    ref_w, ref_b = reference.coef_, reference.intercept_  # multinomial: one row per class
    w, b = head.weight.detach().numpy(), head.bias.detach().numpy()
    np.testing.assert_allclose(w, ref_w, atol=1e-5, rtol=0)
    # softmax ignores a constant added to every intercept: compare them centred
    np.testing.assert_allclose(b - b.mean(), ref_b - ref_b.mean(), atol=1e-5, rtol=0)
    probabilities = torch.softmax(head(x), dim=1).detach().numpy()
    np.testing.assert_allclose(probabilities, reference.predict_proba(x), atol=1e-6, rtol=0)
    # gradients: both solutions are stationary points of our objective
    assert probe_objective_gradient(w, b, x, y, l2) < 1e-6
    assert probe_objective_gradient(ref_w, ref_b, x, y, l2) < 1e-6


def test_matches_sklearn_probe_on_features_of_a_frozen_body() -> None:
    torch.manual_seed(0)
    model = SmallNet().double()
    freeze(model.body)
    x, _ = images(90, seed=4)
    y = torch.arange(90) % 3
    features = extract_features(model, "head", x.double())
    head = fit_linear_probe(features, y, 3, l2=1e-2)
    reference = LogisticRegression(C=1 / (1e-2 * 90), tol=1e-12, max_iter=10_000)
    reference.fit(features.numpy(), y.numpy())
    np.testing.assert_allclose(head.weight.detach().numpy(), reference.coef_, atol=1e-5, rtol=0)
    np.testing.assert_allclose(
        torch.softmax(head(features), 1).detach().numpy(),
        reference.predict_proba(features.numpy()),
        atol=1e-6,
        rtol=0,
    )


def test_extract_features_is_the_input_of_the_head() -> None:
    torch.manual_seed(1)
    model = SmallNet()
    x, _ = images(7, seed=5)
    model.train()
    features = extract_features(model, "head", x, batch_size=3)  # batches of 3, 3 and 1
    model.eval()
    with torch.no_grad():
        expected = model.body(x)
    torch.testing.assert_close(features, expected, atol=1e-6, rtol=1e-5)  # batched sums
    assert model.training is False  # the mode it had when called
    assert not model.head._forward_pre_hooks  # the hook is gone
    assert features.requires_grad is False


# ---------------------------------------------------------------- freezing


@pytest.mark.parametrize("norm", [nn.BatchNorm2d, BatchNorm2d])
def test_frozen_parameters_stay_bit_identical_and_batch_norm_statistics_do_not_drift(
    norm: type[nn.Module],
) -> None:
    torch.manual_seed(2)
    model = SmallNet(norm)
    with torch.no_grad():  # statistics far from the defaults, so that drift would show
        model.body[1].running_mean.fill_(0.5)
        model.body[1].running_var.fill_(2.0)
    freeze(model.body)
    body_before = copy.deepcopy(model.body.state_dict())
    head_before = copy.deepcopy(model.head.state_dict())
    # Every parameter goes to the optimizer, weight decay included: a frozen one has no
    # gradient, and torch's optimizers skip parameters whose .grad is None.
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.1)
    for step in range(5):
        x, y = images(16, seed=10 + step)
        train_mode(model)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        for p in model.body.parameters():
            assert p.grad is None
        assert model.head.weight.grad is not None
        optimizer.step()
    for name, value in model.body.state_dict().items():
        assert torch.equal(value, body_before[name]), name  # parameters and buffers alike
    assert not torch.equal(model.head.weight, head_before["weight"])


@pytest.mark.parametrize("norm", [nn.BatchNorm2d, BatchNorm2d])
def test_model_train_after_freezing_lets_batch_norm_drift(norm: type[nn.Module]) -> None:
    """The pitfall the mechanics avoid: model.train() switches frozen batch norm back on."""
    torch.manual_seed(3)
    model = SmallNet(norm)
    freeze(model.body)
    before = batch_norm_state(model)
    model.train()  # instead of train_mode(model)
    with torch.no_grad():
        model(images(16, seed=20)[0])
    after = batch_norm_state(model)
    assert not torch.equal(after["body.1.running_mean"], before["body.1.running_mean"])
    assert all(not p.requires_grad for p in model.body.parameters())  # and yet it changed


def test_train_mode_keeps_only_frozen_parts_in_eval() -> None:
    model = nn.Sequential(
        nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 4), nn.BatchNorm1d(4)
    )
    freeze(model[1])
    freeze(model[0])
    train_mode(model)
    assert model.training
    assert [m.training for m in model] == [False, False, True, True, True]
    unfreeze(model[1])
    train_mode(model)
    assert [m.training for m in model] == [False, True, True, True, True]
    model.eval()
    train_mode(model)
    assert model[4].training  # a trainable layer trains
    freeze(model)
    train_mode(model)
    assert not any(m.training for m in model.modules())


def test_freeze_and_unfreeze_flags_and_counts() -> None:
    model = SmallNet()
    trainable, total = count_parameters(model)
    assert trainable == total == sum(p.numel() for p in model.parameters())
    assert freeze(model.body) is model.body and is_frozen(model.body) and not is_frozen(model)
    assert not model.body.training
    assert count_parameters(model) == (model.head.weight.numel() + 3, total)
    assert trainable_parameters(model) == [model.head.weight, model.head.bias]
    assert unfreeze(model.body) is model.body and model.body.training
    assert count_parameters(model) == (total, total)
    assert not is_frozen(nn.ReLU())  # no parameters: nothing to freeze


def test_unfreeze_top_unfreezes_gradually_from_the_head() -> None:
    blocks = [nn.Linear(2, 2) for _ in range(4)]
    for n in range(5):
        unfreeze_top(blocks, n)
        assert [not is_frozen(b) for b in blocks] == [i >= 4 - n for i in range(4)]


# ---------------------------------------------------------------- replacing the head


def test_replace_head_keeps_inputs_and_reinitialises() -> None:
    model = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Sequential(nn.Linear(6, 10)))
    old = model[2][0]
    state = torch.random.get_rng_state()
    head = replace_head(model, "2.0", 4, torch.Generator().manual_seed(0))
    assert torch.equal(torch.random.get_rng_state(), state)  # the global stream is untouched
    assert model[2][0] is head and head is not old
    assert (head.in_features, head.out_features) == (6, 4)
    assert head.weight.abs().max() <= 6**-0.5 and head.bias.abs().max() <= 6**-0.5
    assert head.weight.requires_grad
    again = replace_head(copy.deepcopy(model), "2.0", 4, torch.Generator().manual_seed(0))
    assert torch.equal(again.weight, head.weight)
    assert model(torch.randn(3, 5)).shape == (3, 4)
    with pytest.raises(TypeError, match="ReLU"):
        replace_head(model, "1", 4)


# ---------------------------------------------------------------- layer-wise learning rates


@pytest.mark.parametrize(
    ("optimizer", "options"),
    [
        (torch.optim.SGD, {"momentum": 0.9}),
        (torch.optim.AdamW, {"weight_decay": 0.05}),
        (torch.optim.Adam, {}),
    ],
)
def test_matches_torch_param_groups_built_by_hand(optimizer: type, options: dict) -> None:
    torch.manual_seed(4)
    ours = SmallNet()
    theirs = copy.deepcopy(ours)
    freeze(ours.body[0])  # frozen parameters are left out of the groups
    freeze(theirs.body[0])
    blocks = [ours.body[0], ours.body[1], ours.body[5], ours.head]
    groups = layerwise_param_groups(blocks, lr=0.1, factor=2.0, **options)
    assert [g["lr"] for g in groups] == [0.1 / 4, 0.1 / 2, 0.1]  # the frozen conv: no group
    by_hand = [
        {"params": list(theirs.body[1].parameters()), "lr": 0.025, **options},
        {"params": list(theirs.body[5].parameters()), "lr": 0.05, **options},
        {"params": list(theirs.head.parameters()), "lr": 0.1, **options},
    ]
    opt_ours, opt_theirs = optimizer(groups), optimizer(by_hand)
    for step in range(4):
        x, y = images(8, seed=30 + step)
        for model, opt in ((ours, opt_ours), (theirs, opt_theirs)):
            train_mode(model)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        for (name, a), b in zip(ours.named_parameters(), theirs.parameters(), strict=True):
            assert torch.equal(a, b), name
            if a.grad is not None:
                assert torch.equal(a.grad, b.grad), name


def test_param_groups_rates_fall_by_the_factor_per_block() -> None:
    blocks = [nn.Linear(2, 2) for _ in range(5)]
    groups = layerwise_param_groups(blocks, lr=1e-3, factor=2.6)
    np.testing.assert_allclose([g["lr"] for g in groups], [1e-3 / 2.6**d for d in (4, 3, 2, 1, 0)])
    assert all(len(g["params"]) == 2 for g in groups)
    assert layerwise_param_groups(blocks, lr=1.0, factor=1.0)[0]["lr"] == 1.0


# ---------------------------------------------------------------- few labels


@FAST
@given(
    counts=st.lists(st.integers(3, 12), min_size=2, max_size=5),
    k=st.integers(1, 3),
    seed=st.integers(0, 10_000),
)
def test_few_shot_indices_draw_k_of_every_class(counts: list[int], k: int, seed: int) -> None:
    labels = torch.cat([torch.full((c,), i) for i, c in enumerate(counts)])
    labels = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))]
    chosen = few_shot_indices(labels, k, seed)
    assert torch.equal(chosen, chosen.sort().values) and len(chosen.unique()) == len(chosen)
    assert torch.bincount(labels[chosen], minlength=len(counts)).tolist() == [k] * len(counts)
    assert torch.equal(few_shot_indices(labels.tolist(), k, seed), chosen)  # reproducible


def test_few_shot_indices_depend_on_the_seed_and_check_their_input() -> None:
    labels = torch.arange(200) % 4
    draws = {tuple(few_shot_indices(labels, 3, seed).tolist()) for seed in range(10)}
    assert len(draws) == 10
    assert torch.equal(few_shot_indices(labels, None, 0), torch.arange(200))
    with pytest.raises(ValueError, match="fewer than 51"):
        few_shot_indices(labels, 51, 0)
    with pytest.raises(ValueError, match="at least 1"):
        few_shot_indices(labels, 0, 0)
