"""Checks for the `reinforcement_learning` exercise, against groundup.rl.reinforce.

The library's discounted_returns equals scipy.signal.lfilter run backwards and its
reinforce_loss equals the loss built from torch.distributions.Categorical (tests/rl). All
inputs are float64 with fixed seeds, so a correct answer matches to about 1e-15; the
tolerance (atol 1e-10, rtol 1e-8) leaves room only for rounding. Returns and values are
positive and large, as in CartPole, so a sign error or a missing baseline cannot hide.
"""

from __future__ import annotations

from types import ModuleType

import torch
from torch import Tensor

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    assert_true,
    call,
    check,
    describe,
    require,
)
from groundup.i18n import Msg
from groundup.rl import reinforce

FUNCTIONS = ["discounted_returns", "reinforce_loss"]

REFERENCE = "from groundup.rl.reinforce import discounted_returns, reinforce_loss\n"

TOL = {"atol": 1e-10, "rtol": 1e-8}


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _episodes(seed: int, lengths: list[int]) -> tuple[Tensor, Tensor]:
    """Rewards and dones of episodes of the given lengths, back to back in one sequence."""
    g = _generator(seed)
    rewards = torch.rand(sum(lengths), generator=g, dtype=torch.float64) * 2 - 0.5
    dones = torch.zeros(sum(lengths), dtype=torch.bool)
    ends = torch.tensor(lengths).cumsum(0) - 1
    dones[ends] = True
    return rewards, dones


def _loss_inputs(seed: int, steps: int, n_actions: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    g = _generator(seed)
    logits = 2 * torch.randn(steps, n_actions, generator=g, dtype=torch.float64)
    actions = torch.randint(0, n_actions, (steps,), generator=g)
    returns = 20 + 30 * torch.rand(steps, generator=g, dtype=torch.float64)  # all positive
    values = returns + 8 * torch.randn(steps, generator=g, dtype=torch.float64)  # a fair V
    return logits, actions, returns, values


def _losses(label: Msg, fn, *args) -> tuple[Tensor, Tensor]:
    out = call(label, fn, *args)
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise Mismatch(label, expected="a pair (policy_loss, value_loss)", got=describe(out))
    for part in out:
        if not isinstance(part, Tensor):
            raise Mismatch(label, expected="two tensors", got=describe(part))
    return out[0], out[1]


def _backward(label: Msg, loss: Tensor, *leaves: Tensor) -> list[Tensor | None]:
    if loss.grad_fn is None:
        raise Mismatch(label, expected="a loss connected to its inputs by autograd",
                       got=describe(loss) + ", grad_fn None")  # fmt: skip
    call(label, loss.backward)
    return [leaf.grad for leaf in leaves]


# ---------------------------------------------------------------- discounted returns


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_returns_shape(module: ModuleType) -> None:
    fn = require(module, "discounted_returns")
    for shape in [(7,), (5, 3), (1,)]:
        g = _generator(sum(shape))
        rewards = torch.rand(shape, generator=g, dtype=torch.float64)
        dones = torch.zeros(shape, dtype=torch.bool)
        dones[-1] = True
        label = Msg(f"discounted_returns(rewards {shape}, dones {shape}, 0.9).shape",
                    f"discounted_returns(rewards {shape}, dones {shape}, 0.9).shape")  # fmt: skip
        assert_shape(label, call(label, fn, rewards, dones, 0.9), shape)


def check_returns_one_episode(module: ModuleType) -> None:
    fn = require(module, "discounted_returns")
    for seed, (length, gamma) in enumerate([(6, 0.5), (10, 0.9), (25, 0.99), (4, 1.0), (5, 0.0)]):
        rewards, dones = _episodes(seed, [length])
        label = Msg(
            f"discounted_returns of one episode of {length} steps, gamma {gamma}",
            f"discounted_returns einer Episode mit {length} Schritten, gamma {gamma}",
        )
        got = call(label, fn, rewards.clone(), dones.clone(), gamma)
        assert_close(label, got, reinforce.discounted_returns(rewards, dones, gamma), **TOL)


def check_returns_episode_boundaries(module: ModuleType) -> None:
    fn = require(module, "discounted_returns")
    for seed, (lengths, gamma) in enumerate([([3, 5, 2], 0.9), ([1, 4, 1, 6], 0.99)]):
        rewards, dones = _episodes(100 + seed, lengths)
        label = Msg(
            f"discounted_returns of episodes of lengths {lengths} back to back, gamma {gamma}",
            f"discounted_returns von Episoden der Längen {lengths} hintereinander, gamma {gamma}",
        )
        got = call(label, fn, rewards.clone(), dones.clone(), gamma)
        assert_close(label, got, reinforce.discounted_returns(rewards, dones, gamma), **TOL)


def check_returns_batched(module: ModuleType) -> None:
    fn = require(module, "discounted_returns")
    g = _generator(200)
    rewards = torch.rand(12, 4, generator=g, dtype=torch.float64)
    dones = torch.rand(12, 4, generator=g) < 0.25
    dones[-1] = True
    label = Msg(
        "discounted_returns(rewards (12, 4), dones (12, 4), 0.95): four columns side by side",
        "discounted_returns(rewards (12, 4), dones (12, 4), 0.95): vier Spalten nebeneinander",
    )
    got = call(label, fn, rewards.clone(), dones.clone(), 0.95)
    assert_close(label, got, reinforce.discounted_returns(rewards, dones, 0.95), **TOL)


# ---------------------------------------------------------------- the loss


def check_loss_shapes(module: ModuleType) -> None:
    fn = require(module, "reinforce_loss")
    logits, actions, returns, values = _loss_inputs(300, 9, 2)
    label = Msg("reinforce_loss(logits (9, 2), ...) returns (policy_loss, value_loss)",
                "reinforce_loss(logits (9, 2), ...) liefert (policy_loss, value_loss)")  # fmt: skip
    policy_loss, value_loss = _losses(label, fn, logits, actions, returns, values, 3)
    assert_shape(label, policy_loss, ())
    assert_shape(label, value_loss, ())


def check_policy_loss_values(module: ModuleType) -> None:
    fn = require(module, "reinforce_loss")
    for seed, (steps, n_actions, episodes) in enumerate([(9, 2, 3), (20, 4, 5), (6, 3, 1)]):
        inputs = _loss_inputs(400 + seed, steps, n_actions)
        label = Msg(
            f"policy_loss for logits ({steps}, {n_actions}) from {episodes} episodes",
            f"policy_loss für logits ({steps}, {n_actions}) aus {episodes} Episoden",
        )
        got, _ = _losses(label, fn, *(t.clone() for t in inputs), episodes)
        expected, _ = reinforce.reinforce_loss(*inputs, episodes)
        assert_close(label, got.detach(), expected, **TOL)


def check_policy_gradient(module: ModuleType) -> None:
    fn = require(module, "reinforce_loss")
    for seed, (steps, n_actions, episodes) in enumerate([(9, 2, 3), (15, 3, 4)]):
        logits, actions, returns, values = _loss_inputs(500 + seed, steps, n_actions)
        label = Msg(
            f"d policy_loss / d logits, logits ({steps}, {n_actions})",
            f"d policy_loss / d logits, logits ({steps}, {n_actions})",
        )
        leaf = logits.clone().requires_grad_()
        loss, _ = _losses(label, fn, leaf, actions, returns, values, episodes)
        (grad,) = _backward(label, loss, leaf)
        expected_leaf = logits.clone().requires_grad_()
        reinforce.reinforce_loss(expected_leaf, actions, returns, values, episodes)[0].backward()
        if grad is None:
            raise Mismatch(label, expected="a gradient for the logits", got="None")
        assert_close(label, grad, expected_leaf.grad, **TOL)


def check_advantage_detached(module: ModuleType) -> None:
    fn = require(module, "reinforce_loss")
    logits, actions, returns, values = _loss_inputs(600, 10, 2)
    label = Msg(
        "d policy_loss / d values: the advantage G - V is a constant for the policy",
        "d policy_loss / d values: der Vorteil G - V ist für die Policy eine Konstante",
    )
    leaf = values.clone().requires_grad_()
    loss, _ = _losses(label, fn, logits.clone().requires_grad_(), actions, returns, leaf, 2)
    (grad,) = _backward(label, loss, leaf)
    assert_true(
        label,
        grad is None or bool((grad == 0).all()),
        expected="no gradient (None or zeros)",
        got="None" if grad is None else f"gradient {grad[:4].tolist()} ...",
    )


def check_value_loss(module: ModuleType) -> None:
    fn = require(module, "reinforce_loss")
    for seed, steps in enumerate([8, 17]):
        logits, actions, returns, values = _loss_inputs(700 + seed, steps, 2)
        label = Msg(
            f"value_loss and d value_loss / d values, {steps} steps",
            f"value_loss und d value_loss / d values, {steps} Schritte",
        )
        leaf = values.clone().requires_grad_()
        _, got = _losses(label, fn, logits, actions, returns, leaf, 2)
        (grad,) = _backward(label, got, leaf)
        expected_leaf = values.clone().requires_grad_()
        expected = reinforce.reinforce_loss(logits, actions, returns, expected_leaf, 2)[1]
        expected.backward()
        assert_close(label, got.detach(), expected.detach(), **TOL)
        if grad is None:
            raise Mismatch(label, expected="a gradient for the values", got="None")
        assert_close(label, grad, expected_leaf.grad, **TOL)


def check_improves_good_actions(module: ModuleType) -> None:
    """One gradient-descent step on the policy loss must make actions that did better than
    the baseline more likely and the others less likely (each row its own state)."""
    fn = require(module, "reinforce_loss")
    g = _generator(800)
    logits = torch.randn(12, 3, generator=g, dtype=torch.float64)
    actions = torch.randint(0, 3, (12,), generator=g)
    values = torch.full((12,), 50.0, dtype=torch.float64)
    returns = values + torch.tensor([5.0, -5.0] * 6, dtype=torch.float64)  # better, worse, ...
    label = Msg(
        "one small gradient-descent step on policy_loss: pi(a_t) up where G > V, down where G < V",
        "ein kleiner Gradientenabstiegsschritt auf policy_loss: pi(a_t) steigt, wo G > V, "
        "und sinkt, wo G < V",
    )
    leaf = logits.clone().requires_grad_()
    loss, _ = _losses(label, fn, leaf, actions, returns, values, 1)
    (grad,) = _backward(label, loss, leaf)
    if grad is None:
        raise Mismatch(label, expected="a gradient for the logits", got="None")
    before = torch.log_softmax(logits, -1).gather(1, actions[:, None]).squeeze(1)
    after = torch.log_softmax(logits - 0.01 * grad, -1).gather(1, actions[:, None]).squeeze(1)
    wanted = torch.sign(returns - values)
    moved = torch.sign(after - before)
    assert_true(
        label,
        bool((moved == wanted).all()),
        expected=f"log pi(a_t) moves {['up' if w > 0 else 'down' for w in wanted[:4]]} ...",
        got=f"moves {['up' if m > 0 else 'down' if m < 0 else 'not' for m in moved[:4]]} ...",
    )


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions discounted_returns(rewards, dones, gamma) and "
            "reinforce_loss(logits, actions, returns, values, episodes)",
            "Funktionen discounted_returns(rewards, dones, gamma) und "
            "reinforce_loss(logits, actions, returns, values, episodes)",
        ),
        (
            "Define both functions at the top level of your file, with these names.",
            "Definieren Sie beide Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "returns_shape",
        (
            "discounted_returns returns one G_t per reward, in the rewards' shape",
            "discounted_returns liefert ein G_t pro Belohnung, in der Form der Belohnungen",
        ),
        (
            "Fill a tensor like torch.zeros_like(rewards) step by step, or stack the list of "
            "G_t along dim 0 (in time order).",
            "Füllen Sie einen Tensor wie torch.zeros_like(rewards) Schritt für Schritt, oder "
            "stapeln Sie die Liste der G_t entlang Achse 0 (in zeitlicher Reihenfolge).",
        ),
        check_returns_shape,
    ),
    check(
        "returns_one_episode",
        (
            "discounted_returns of a single episode: G_t = r_t + gamma G_(t+1)",
            "discounted_returns einer einzelnen Episode: G_t = r_t + gamma G_(t+1)",
        ),
        (
            "Loop t from the LAST step to the first: the return of step t adds the discounted "
            "return of the step AFTER it. G of the last step is its reward.",
            "Laufen Sie mit t vom LETZTEN Schritt zum ersten: der Ertrag von Schritt t addiert "
            "den diskontierten Ertrag des Schritts DANACH. G des letzten Schritts ist seine "
            "Belohnung.",
        ),
        check_returns_one_episode,
    ),
    check(
        "returns_episode_boundaries",
        (
            "discounted_returns restarts at every episode's end (dones)",
            "discounted_returns beginnt am Ende jeder Episode (dones) neu",
        ),
        (
            "Where dones[t] is True, the step after t belongs to another episode: multiply the "
            "running return by ~dones[t] before adding it to r_t.",
            "Wo dones[t] True ist, gehört der Schritt nach t zu einer anderen Episode: "
            "multiplizieren Sie den laufenden Ertrag mit ~dones[t], bevor Sie ihn zu r_t "
            "addieren.",
        ),
        check_returns_episode_boundaries,
    ),
    check(
        "returns_batched",
        (
            "discounted_returns on (T, N): every column on its own",
            "discounted_returns auf (T, N): jede Spalte für sich",
        ),
        (
            "Index only the time axis: rewards[t] is a row of N rewards; keep the running "
            "return as a vector like rewards[0], not a single number.",
            "Indizieren Sie nur die Zeitachse: rewards[t] ist eine Zeile mit N Belohnungen; "
            "führen Sie den laufenden Ertrag als Vektor wie rewards[0], nicht als eine Zahl.",
        ),
        check_returns_batched,
    ),
    check(
        "loss_shapes",
        (
            "reinforce_loss returns two 0-dim tensors (policy_loss, value_loss)",
            "reinforce_loss liefert zwei 0-dim. Tensoren (policy_loss, value_loss)",
        ),
        (
            "Return a tuple of two numbers: reduce the policy term with .sum() / episodes and "
            "the value term with .mean().",
            "Geben Sie ein Tupel aus zwei Zahlen zurück: den Policy-Term mit .sum() / episodes "
            "und den Wert-Term mit .mean() reduzieren.",
        ),
        check_loss_shapes,
    ),
    check(
        "policy_loss_values",
        (
            "policy_loss = -sum_t log pi(a_t | s_t) (G_t - V(s_t)) / episodes",
            "policy_loss = -sum_t log pi(a_t | s_t) (G_t - V(s_t)) / episodes",
        ),
        (
            "Take log_softmax over the action axis (dim=-1), pick the entry of the action "
            "actually taken (gather with actions[:, None]), weight it by returns - values, "
            "sum, negate and divide by episodes, not by the number of steps.",
            "Nehmen Sie log_softmax über die Aktionsachse (dim=-1), wählen Sie den Eintrag der "
            "tatsächlich gewählten Aktion (gather mit actions[:, None]), gewichten Sie ihn mit "
            "returns - values, summieren, negieren und teilen Sie durch episodes, nicht durch "
            "die Zahl der Schritte.",
        ),
        check_policy_loss_values,
    ),
    check(
        "policy_gradient",
        (
            "d policy_loss / d logits equals the reference",
            "d policy_loss / d logits gleich der Referenz",
        ),
        (
            "Build the loss from torch operations on the logits (no .item(), no numpy), so "
            "autograd can go back through log_softmax.",
            "Bauen Sie den Verlust aus torch-Operationen auf den Logits (kein .item(), kein "
            "numpy), damit autograd durch log_softmax zurückrechnen kann.",
        ),
        check_policy_gradient,
    ),
    check(
        "advantage_detached",
        (
            "the policy loss sends no gradient into the baseline",
            "der Policy-Verlust schickt keinen Gradienten in die Baseline",
        ),
        (
            "Use (returns - values).detach() or returns - values.detach() as the weight. "
            "Otherwise the policy loss also trains V, to make G - V large, which is the "
            "opposite of a baseline.",
            "Nehmen Sie (returns - values).detach() oder returns - values.detach() als "
            "Gewicht. Sonst trainiert der Policy-Verlust auch V, und zwar darauf, G - V groß "
            "zu machen: das Gegenteil einer Baseline.",
        ),
        check_advantage_detached,
    ),
    check(
        "value_loss",
        (
            "value_loss = mean_t (V(s_t) - G_t)^2, value and gradient",
            "value_loss = Mittel_t (V(s_t) - G_t)^2, Wert und Gradient",
        ),
        (
            "The baseline regresses on the plain returns G_t: the target is returns, not the "
            "advantage returns - values.",
            "Die Baseline lernt die reinen Erträge G_t: das Ziel ist returns, nicht der "
            "Vorteil returns - values.",
        ),
        check_value_loss,
    ),
    check(
        "improves_good_actions",
        (
            "a descent step on policy_loss makes better-than-baseline actions more likely",
            "ein Abstiegsschritt auf policy_loss macht Aktionen über der Baseline wahrscheinlicher",
        ),
        (
            "The optimizer minimises the loss, but we want to maximise the return: the loss "
            "needs a minus sign in front of the sum.",
            "Der Optimierer minimiert den Verlust, wir wollen aber den Ertrag maximieren: vor "
            "der Summe gehört ein Minuszeichen.",
        ),
        check_improves_good_actions,
    ),
]
