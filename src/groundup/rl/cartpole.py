"""CartPole in NumPy: the classic-control task of Barto, Sutton & Anderson (1983).

A pole stands on a cart that moves along a frictionless track. Every 0.02 s the agent
pushes the cart left (action 0) or right (action 1) with a force of 10 N. The state is

    s = (x, x_dot, theta, theta_dot)      cart position, cart velocity, pole angle, angular vel.

and the equations of motion of the pole (Florian 2007, "Correct equations for the dynamics
of the cart-pole system", with friction left out) give the accelerations

    temp      = (F + m l theta_dot^2 sin theta) / (M + m)
    theta_acc = (g sin theta - cos theta * temp) / (l (4/3 - m cos^2 theta / (M + m)))
    x_acc     = temp - m l theta_acc cos theta / (M + m)

with cart mass M = 1, pole mass m = 0.1, half pole length l = 0.5 and g = 9.8. One explicit
Euler step moves positions with the OLD velocities, then the velocities with the new
accelerations. The reward is +1 for every step, the one that ends the episode included.
The episode terminates when |theta| > 12 degrees or |x| > 2.4, and is truncated after 500
steps: termination is a failure of the agent, truncation only the end of the clock.

Everything here equals Gymnasium's CartPole-v1 step for step (tests/rl/test_cartpole.py
checks states, rewards and both flags), and the same seed gives the same starting state.
The difference: this class runs N environments at once as one (N, 4) array, so a batch of
episodes costs one NumPy call per step instead of N.
"""

from __future__ import annotations

import math

import numpy as np

GRAVITY = 9.8
MASS_CART = 1.0
MASS_POLE = 0.1
TOTAL_MASS = MASS_CART + MASS_POLE
HALF_LENGTH = 0.5  # the pole is 1 m long; the formulas use half of it
POLE_MASS_LENGTH = MASS_POLE * HALF_LENGTH
FORCE = 10.0
TAU = 0.02  # seconds per step
THETA_LIMIT = 12 * 2 * math.pi / 360  # 12 degrees, in radians
X_LIMIT = 2.4
MAX_STEPS = 500  # CartPole-v1; v0 had 200
RESET_LOW, RESET_HIGH = -0.05, 0.05
N_ACTIONS = 2
OBSERVATION_SIZE = 4


def physics_step(state: np.ndarray, action: np.ndarray) -> np.ndarray:
    """One Euler step: state (..., 4) float64, action (...) in {0, 1} -> next state (..., 4)."""
    x, x_dot, theta, theta_dot = np.moveaxis(state, -1, 0)
    force = np.where(action == 1, FORCE, -FORCE)
    cos, sin = np.cos(theta), np.sin(theta)
    # the same operations in the same order as Gymnasium, so the floats agree bit for bit
    temp = (force + POLE_MASS_LENGTH * np.square(theta_dot) * sin) / TOTAL_MASS
    theta_acc = (GRAVITY * sin - cos * temp) / (
        HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * np.square(cos) / TOTAL_MASS)
    )
    x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS
    return np.stack(
        [
            x + TAU * x_dot,  # explicit Euler: positions move with the old velocities
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ],
        axis=-1,
    )


def failed(state: np.ndarray) -> np.ndarray:
    """True where the cart left the track or the pole fell past 12 degrees."""
    x, theta = state[..., 0], state[..., 2]
    return (x < -X_LIMIT) | (x > X_LIMIT) | (theta < -THETA_LIMIT) | (theta > THETA_LIMIT)


class CartPole:
    """N CartPoles stepped together. Observations are float32 copies of the float64 state.

    `step` returns (observation, reward, terminated, truncated), each with one entry per
    environment. An environment whose episode has ended stays frozen: it gets reward 0 and
    both flags False until the next `reset`, so a batch simply runs until `all_done`.
    """

    def __init__(self, n: int = 1, seed: int | None = None, max_steps: int = MAX_STEPS) -> None:
        if n < 1 or max_steps < 1:
            raise ValueError(f"need n >= 1 and max_steps >= 1, got n={n}, max_steps={max_steps}")
        self.n, self.max_steps = n, max_steps
        self.rng = np.random.default_rng(seed)  # PCG64(SeedSequence(seed)), as Gymnasium's
        self.state = np.zeros((n, OBSERVATION_SIZE))
        self.steps = np.zeros(n, dtype=np.int64)
        self.done = np.ones(n, dtype=bool)  # step() before reset() is an error

    def reset(self, seed: int | None = None) -> np.ndarray:
        """New episodes in every environment, state uniform in (-0.05, 0.05); (N, 4) float32."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.state = self.rng.uniform(RESET_LOW, RESET_HIGH, size=(self.n, OBSERVATION_SIZE))
        self.steps[:] = 0
        self.done[:] = False
        return self.observation()

    def observation(self) -> np.ndarray:
        return self.state.astype(np.float32)

    @property
    def all_done(self) -> bool:
        return bool(self.done.all())

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Apply action (N,) in {0, 1}; returns observation (N, 4), reward, terminated, truncated."""
        action = np.asarray(action).reshape(self.n)
        if self.all_done:
            raise RuntimeError("every episode has ended: call reset() first")
        if not np.isin(action, (0, 1)).all():
            raise ValueError(f"actions must be 0 (left) or 1 (right), got {action}")
        running = ~self.done
        self.state[running] = physics_step(self.state[running], action[running])
        self.steps[running] += 1
        terminated = running & failed(self.state)
        truncated = running & (self.steps >= self.max_steps)  # both can be True at once
        reward = running.astype(np.float64)  # +1 per step, the last one included
        self.done |= terminated | truncated
        return self.observation(), reward, terminated, truncated
