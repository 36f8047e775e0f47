"""REINFORCE: discounted returns against scipy's lfilter, the loss against torch's
Categorical, and the Monte-Carlo policy gradient against the exact gradient of the expected
return on a small MDP, with and without a baseline."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter
from torch.distributions import Categorical

from groundup.rl.cartpole import CartPole
from groundup.rl.reinforce import (
    Policy,
    ValueNet,
    collect_episodes,
    discounted_returns,
    reinforce_loss,
)


def assert_close(got: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float) -> None:
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol, atol)


# ---------------------------------------------------------------- discounted returns


def lfilter_returns(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = r_t + gamma G_{t+1} is a first-order IIR filter run backwards in time."""
    return lfilter([1.0], [1.0, -gamma], rewards[::-1])[::-1]


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 30), min_size=1, max_size=5),
    gamma=st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_matches_lfilter_discounted_returns_over_episode_boundaries(
    lengths: list[int], gamma: float, seed: int
) -> None:
    """Episodes back to back in one flat sequence: each one's returns are lfilter's, computed
    on that episode alone (float64: to 1e-12)."""
    rng = np.random.default_rng(seed)
    rewards = [rng.normal(size=n) for n in lengths]
    dones = [np.arange(n) == n - 1 for n in lengths]
    got = discounted_returns(torch.tensor(np.concatenate(rewards)),
                             torch.tensor(np.concatenate(dones)), gamma)  # fmt: skip
    expected = np.concatenate([lfilter_returns(r, gamma) for r in rewards])
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(t=st.integers(1, 25), n=st.integers(1, 6), gamma=st.floats(0.0, 1.0))
def test_returns_satisfy_the_bellman_recursion(t: int, n: int, gamma: float) -> None:
    """Columns are independent episodes: G_t = r_t + gamma G_{t+1} inside, G = r at the end."""
    g = torch.Generator().manual_seed(t * 7 + n)
    rewards = torch.randn(t, n, generator=g, dtype=torch.float64)
    dones = torch.rand(t, n, generator=g) < 0.2
    returns = discounted_returns(rewards, dones, gamma)
    assert returns.shape == rewards.shape
    following = torch.cat([returns[1:], torch.zeros(1, n, dtype=torch.float64)])
    expected = rewards + gamma * following * ~dones
    np.testing.assert_allclose(returns.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    for column in range(n):  # and the batch is computed column by column
        alone = discounted_returns(rewards[:, column], dones[:, column], gamma)
        np.testing.assert_array_equal(returns[:, column].numpy(), alone.numpy())


# ---------------------------------------------------------------- the loss


def test_matches_torch_categorical_loss_and_gradients() -> None:
    """Policy loss = -sum log pi(a|s) * (G - V) / episodes with Categorical's log_prob;
    the gradient reaches the logits only, the value loss's gradient the values only
    (float64, to 1e-12)."""
    g = torch.Generator().manual_seed(0)
    for steps, actions_n, episodes in [(12, 2, 3), (30, 5, 4)]:
        logits = torch.randn(steps, actions_n, generator=g, dtype=torch.float64)
        actions = torch.randint(0, actions_n, (steps,), generator=g)
        returns = 10 * torch.rand(steps, generator=g, dtype=torch.float64)
        values = 10 * torch.rand(steps, generator=g, dtype=torch.float64)
        ours = [t.clone().requires_grad_() for t in (logits, values)]
        theirs = [t.clone().requires_grad_() for t in (logits, values)]

        policy_loss, value_loss = reinforce_loss(ours[0], actions, returns, ours[1], episodes)
        advantages = returns - theirs[1].detach()
        expected_policy = -(Categorical(logits=theirs[0]).log_prob(actions) * advantages).sum()
        expected_policy = expected_policy / episodes
        expected_value = torch.nn.functional.mse_loss(theirs[1], returns)
        assert_close(policy_loss, expected_policy, rtol=1e-12, atol=1e-12)
        assert_close(value_loss, expected_value, rtol=1e-12, atol=1e-12)

        policy_loss.backward()
        expected_policy.backward()
        assert_close(ours[0].grad, theirs[0].grad, rtol=1e-12, atol=1e-12)
        assert ours[1].grad is None  # the advantage is a constant for the policy
        value_loss.backward()
        expected_value.backward()
        assert_close(ours[1].grad, theirs[1].grad, rtol=1e-12, atol=1e-12)


def test_entropy_bonus_and_normalisation() -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(20, 3, generator=g, dtype=torch.float64)
    actions = torch.randint(0, 3, (20,), generator=g)
    returns = torch.rand(20, generator=g, dtype=torch.float64) * 50
    values = torch.rand(20, generator=g, dtype=torch.float64) * 50
    plain, _ = reinforce_loss(logits, actions, returns, values, 4)
    bonus, _ = reinforce_loss(logits, actions, returns, values, 4, entropy_coef=0.1)
    entropy = Categorical(logits=logits).entropy().sum() / 4
    assert_close(plain - bonus, 0.1 * entropy, rtol=1e-12, atol=1e-12)
    # normalising = the same loss with weights (A - mean A) / std A
    normalized, _ = reinforce_loss(logits, actions, returns, values, 4, normalize=True)
    a = returns - values
    weights = (a - a.mean()) / (a.std() + 1e-8)
    expected, _ = reinforce_loss(logits, actions, weights, torch.zeros(20, dtype=torch.float64), 4)
    assert_close(normalized, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- the estimator on a small MDP
# Two states, two actions, three steps from state 0; action a moves to state a. The reward of
# (s, a) is REWARD[s, a] + 5 + noise: large positive rewards, like CartPole's +1 per step, are
# where a baseline matters most. The policy is a table of logits theta[s].

REWARD = torch.tensor([[1.0, 0.0], [-1.0, 2.0]], dtype=torch.float64)
OFFSET, NOISE, HORIZON = 5.0, 1.0, 3


def exact_return(theta: torch.Tensor) -> torch.Tensor:
    """E[G_0] by enumerating all 2^3 action sequences; differentiable in theta."""
    pi = torch.softmax(theta, dim=-1)
    total = torch.zeros((), dtype=torch.float64)
    for actions in itertools.product((0, 1), repeat=HORIZON):
        state, prob, ret = 0, torch.ones((), dtype=torch.float64), 0.0
        for a in actions:
            prob = prob * pi[state, a]
            ret = ret + REWARD[state, a] + OFFSET
            state = a
        total = total + prob * ret
    return total


def exact_values(theta: torch.Tensor) -> torch.Tensor:
    """V_t(s) = E[G_t | s_t = s], (HORIZON, 2): an action-independent baseline."""
    pi = torch.softmax(theta, dim=-1).detach()
    values, following = [], torch.zeros(2, dtype=torch.float64)
    for _ in range(HORIZON):
        following = (pi * (REWARD + OFFSET + following[None, :])).sum(-1)  # next state = a
        values.append(following)
    return torch.stack(values[::-1])


def sample_gradients(theta: torch.Tensor, n: int, baseline: bool, seed: int):
    """(the estimate from reinforce_loss, the n per-episode gradient samples (n, 2, 2))."""
    g = torch.Generator().manual_seed(seed)
    pi = torch.softmax(theta, dim=-1).detach()
    states = torch.zeros(HORIZON, n, dtype=torch.long)
    actions = torch.zeros(HORIZON, n, dtype=torch.long)
    rewards = torch.zeros(HORIZON, n, dtype=torch.float64)
    for t in range(HORIZON):
        if t:
            states[t] = actions[t - 1]
        actions[t] = torch.multinomial(pi[states[t]], 1, generator=g).squeeze(-1)
        noise = NOISE * torch.randn(n, generator=g, dtype=torch.float64)
        rewards[t] = REWARD[states[t], actions[t]] + OFFSET + noise
    dones = torch.zeros(HORIZON, n, dtype=torch.bool)
    dones[-1] = True
    returns = discounted_returns(rewards, dones, 1.0)
    if baseline:
        values = exact_values(theta)[torch.arange(HORIZON)[:, None], states]
    else:
        values = torch.zeros_like(returns)

    leaf = theta.detach().clone().requires_grad_()
    loss, _ = reinforce_loss(leaf[states].reshape(-1, 2), actions.reshape(-1), returns.reshape(-1),
                             values.reshape(-1), episodes=n)  # fmt: skip
    loss.backward()
    # the same estimate per episode in closed form: grad_theta[s] log pi(a|s) = onehot(a) - pi[s]
    per_episode = torch.zeros(n, 2, 2, dtype=torch.float64)
    for t in range(HORIZON):
        score = torch.nn.functional.one_hot(actions[t], 2) - pi[states[t]]
        per_episode[torch.arange(n), states[t]] += score * (returns[t] - values[t])[:, None]
    return -leaf.grad, per_episode


@pytest.fixture(scope="module")
def estimates():
    theta = torch.tensor([[0.3, -0.2], [-0.5, 0.4]], dtype=torch.float64, requires_grad=True)
    exact = torch.autograd.grad(exact_return(theta), theta)[0]
    n = 20_000
    plain, plain_samples = sample_gradients(theta, n, baseline=False, seed=1)
    based, based_samples = sample_gradients(theta, n, baseline=True, seed=1)
    return exact, n, (plain, plain_samples), (based, based_samples)


def test_matches_autograd_exact_policy_gradient(estimates) -> None:
    """With 20,000 episodes, each of the four components of the Monte-Carlo estimate lies
    within 4 standard errors of the exact gradient (autograd on the enumerated expectation),
    with and without the baseline. The loss's gradient equals the mean of the per-episode
    samples (so the division by `episodes` is right)."""
    exact, n, *variants = estimates
    for estimate, samples in variants:
        assert_close(estimate, samples.mean(0), rtol=1e-10, atol=1e-12)
        standard_error = samples.std(0) / n**0.5
        assert ((estimate - exact).abs() <= 4 * standard_error).all(), (estimate, exact)
    # the test has teeth: the baseline's standard error is small against the gradient itself
    based_se = variants[1][1].std(0) / n**0.5
    assert (4 * based_se).max() < 0.1 * exact.abs().max()


def test_baseline_keeps_the_mean_and_cuts_the_variance(estimates) -> None:
    """Same episodes, two weights: the estimates differ by less than 4 standard errors of
    their difference (the baseline's expected contribution is zero), while the total
    variance of a per-episode sample drops more than tenfold (measured: 220 against 5.1, 43x)."""
    _, n, (plain, plain_samples), (based, based_samples) = estimates
    difference = plain_samples - based_samples
    assert ((plain - based).abs() <= 4 * difference.std(0) / n**0.5).all()
    plain_variance = plain_samples.var(0).sum()
    based_variance = based_samples.var(0).sum()
    assert plain_variance > 10 * based_variance, (plain_variance, based_variance)


# ---------------------------------------------------------------- networks and rollouts


def test_policy_samples_from_its_softmax_and_greedy_takes_the_argmax() -> None:
    torch.manual_seed(0)
    policy = Policy(hidden=8)
    observations = torch.randn(4, 4)
    probs = torch.softmax(policy(observations), -1)
    draws = policy.act(observations.repeat(5000, 1), torch.Generator().manual_seed(0))
    frequencies = torch.stack([(draws.view(5000, 4) == 1).float().mean(0)])
    assert (frequencies - probs[:, 1]).abs().max() < 0.03  # 5000 draws: SE <= 0.007
    assert torch.equal(policy.act(observations, greedy=True), probs.argmax(-1))
    assert ValueNet(hidden=8)(observations).shape == (4,)


def test_collect_episodes_pools_every_step_with_its_return() -> None:
    torch.manual_seed(0)
    env = CartPole(n=5, seed=3)
    batch = collect_episodes(env, Policy(hidden=8), 0.9, torch.Generator().manual_seed(0))
    lengths = torch.bincount(batch.episode_of_step, minlength=5)
    assert batch.count == 5 and lengths.tolist() == batch.totals.astype(int).tolist()
    assert batch.observations.shape == (int(lengths.sum()), 4)
    assert batch.actions.shape == batch.returns.shape == batch.episode_of_step.shape
    for episode, length in enumerate(lengths.tolist()):
        returns = batch.returns[batch.episode_of_step == episode]
        expected = lfilter_returns(np.ones(length), 0.9)
        np.testing.assert_allclose(returns.numpy(), expected, rtol=1e-5)
