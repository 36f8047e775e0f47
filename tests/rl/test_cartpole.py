"""CartPole against Gymnasium's CartPole-v1: same starting states, same trajectories, same
rewards and termination/truncation flags, for one environment and for a vectorised batch."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.rl import cartpole
from groundup.rl.cartpole import CartPole


def gym_env() -> gym.Env:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gym.make("CartPole-v1")


def test_matches_gymnasium_reset_for_the_same_seed() -> None:
    env = gym_env()
    for seed in (0, 1, 123, 2**31 - 1):
        expected, _ = env.reset(seed=seed)
        got = CartPole(seed=seed).reset()
        assert got.dtype == np.float32 and got.shape == (1, 4)
        np.testing.assert_array_equal(got[0], expected)  # exact: same generator, same draws
        np.testing.assert_array_equal(CartPole().reset(seed=seed)[0], expected)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), spread=st.sampled_from([0.05, 0.2, 1.0]))
def test_matches_gymnasium_step_by_step(seed: int, spread: float) -> None:
    """From a random state and under random actions, every step agrees bit for bit: state,
    observation, reward, terminated and truncated."""
    rng = np.random.default_rng(seed)
    env = gym_env()
    env.reset(seed=seed)
    start = rng.uniform(-spread, spread, size=4)
    start[[0, 2]] *= [2.0, 0.2]  # begin inside the limits (|x| < 2.4, |theta| < 12 degrees)
    env.unwrapped.state = start.copy()
    ours = CartPole(n=1)
    ours.reset()
    ours.state[0] = start
    for t in range(cartpole.MAX_STEPS):
        action = int(rng.integers(2))
        obs, reward, terminated, truncated, _ = env.step(action)
        our_obs, our_reward, our_terminated, our_truncated = ours.step(np.array([action]))
        np.testing.assert_array_equal(ours.state[0], env.unwrapped.state)
        np.testing.assert_array_equal(our_obs[0], obs)
        assert (our_reward[0], our_terminated[0], our_truncated[0]) == (
            reward,
            terminated,
            truncated,
        ), f"step {t}"
        if terminated or truncated:
            break
    assert ours.all_done


def test_matches_gymnasium_truncation_at_500_steps() -> None:
    """A pole held upright by a hand-written controller runs into the time limit: truncated,
    not terminated, after exactly 500 rewards of 1, in both implementations."""
    env = gym_env()
    obs, _ = env.reset(seed=3)
    ours = CartPole(seed=3)
    our_obs = ours.reset()
    total, our_total = 0.0, 0.0
    for _ in range(cartpole.MAX_STEPS):
        action = int(obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1] > 0)  # lean-follow
        our_action = (our_obs[:, 2] + 0.5 * our_obs[:, 3] + 0.01 * our_obs[:, 0]
                      + 0.1 * our_obs[:, 1] > 0).astype(int)  # fmt: skip
        obs, reward, terminated, truncated, _ = env.step(action)
        our_obs, our_reward, our_terminated, our_truncated = ours.step(our_action)
        total, our_total = total + reward, our_total + our_reward[0]
        np.testing.assert_array_equal(our_obs[0], obs)
        if terminated or truncated:
            break
    assert (terminated, truncated, total) == (False, True, 500.0)
    assert (our_terminated[0], our_truncated[0], our_total) == (False, True, 500.0)


def test_matches_gymnasium_vectorised() -> None:
    """Eight environments stepped as one array equal eight separate Gymnasium environments;
    finished ones stay frozen with reward 0 while the others go on."""
    n, rng = 8, np.random.default_rng(7)
    envs = [gym_env() for _ in range(n)]
    ours = CartPole(n=n, seed=11)
    ours.reset()
    for env, state in zip(envs, ours.state, strict=True):
        env.reset(seed=0)
        env.unwrapped.state = state.copy()
    lengths, done = np.zeros(n, dtype=int), np.zeros(n, dtype=bool)
    while not ours.all_done:
        actions = rng.integers(2, size=n)
        _, reward, terminated, truncated = ours.step(actions)
        for i, env in enumerate(envs):
            if done[i]:
                assert (reward[i], terminated[i], truncated[i]) == (0.0, False, False)
                continue
            _, r, term, trunc, _ = env.step(int(actions[i]))
            assert (reward[i], terminated[i], truncated[i]) == (r, term, trunc)
            np.testing.assert_array_equal(ours.state[i], env.unwrapped.state)
            lengths[i] += 1
            done[i] = term or trunc
    assert done.all() and (lengths == ours.steps).all() and lengths.min() >= 8


def test_random_policy_lasts_about_22_steps() -> None:
    """The well-known baseline: uniformly random pushes keep the pole up for ~22 steps."""
    env = CartPole(n=2000, seed=0)
    env.reset()
    rng, total = np.random.default_rng(0), np.zeros(2000)
    while not env.all_done:
        total += env.step(rng.integers(2, size=2000))[1]
    assert 20 < total.mean() < 24 and total.min() >= 8


def test_bad_use_is_explained() -> None:
    env = CartPole(n=2)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.array([0, 1]))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="0 \\(left\\) or 1"):
        env.step(np.array([0, 2]))
    with pytest.raises(ValueError, match="n >= 1"):
        CartPole(n=0)
