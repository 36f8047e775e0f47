"""REINFORCE with a learned baseline (Williams 1992; Sutton & Barto, chapter 13).

An agent acts with a stochastic policy pi_theta(a | s), here a small network whose softmax
gives the probability of each action. An episode tau = (s_0, a_0, r_0, s_1, ...) earns the
return G_0 = r_0 + gamma r_1 + gamma^2 r_2 + ..., and from every step t on

    G_t = r_t + gamma * G_{t+1}          (G = 0 after the last step of an episode)

The policy-gradient theorem turns the gradient of the expected return into an expectation
we can sample, although the environment itself is not differentiable:

    grad J(theta) = E_tau[ sum_t grad log pi_theta(a_t | s_t) * (G_t - b(s_t)) ]

Any baseline b(s_t) that does not depend on the action leaves the expectation unchanged,
because E_a[grad log pi(a | s)] = grad sum_a pi(a | s) = grad 1 = 0. A good baseline, the
value V(s_t) ~ E[G_t | s_t] learned by regression on the returns, shrinks the variance:
the update then only says "this action did better (or worse) than usual from here".

The surrogate loss  -sum_t log pi(a_t | s_t) * A_t / episodes, with the advantage
A_t = G_t - V(s_t) held constant (detached), has exactly the sampled gradient above, with a
minus sign for gradient descent. (Strictly, grad J of the discounted objective carries an
extra gamma^t; like almost every implementation we drop it, which weighs late steps as much
as early ones.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.rl.cartpole import N_ACTIONS, OBSERVATION_SIZE, CartPole

# ---------------------------------------------------------------- returns


def discounted_returns(rewards: Tensor, dones: Tensor, gamma: float) -> Tensor:
    """G_t = r_t + gamma * G_{t+1}, restarting at every episode's end; time on dim 0.

    rewards (T, *batch) float and dones (T, *batch) bool, True at the last step of an
    episode: a flat sequence of episodes back to back, or one column per episode.
    """
    returns, running = [], torch.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):  # backwards: G_t needs G_{t+1}
        running = rewards[t] + gamma * running * (~dones[t])  # no return flows across episodes
        returns.append(running)
    return torch.stack(returns[::-1]) if returns else torch.zeros_like(rewards)


# ---------------------------------------------------------------- policy and value networks


class Policy(nn.Module):
    """Observation (..., 4) -> logits (..., 2); pi(a | s) = softmax(logits)[a]."""

    def __init__(self, hidden: int = 64, observation_size: int = OBSERVATION_SIZE,
                 n_actions: int = N_ACTIONS) -> None:  # fmt: skip
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(observation_size, hidden), nn.Tanh(), nn.Linear(hidden, n_actions)
        )

    def forward(self, observations: Tensor) -> Tensor:
        return self.net(observations)

    @torch.no_grad()
    def act(self, observations: Tensor, generator: torch.Generator | None = None,
            greedy: bool = False) -> Tensor:  # fmt: skip
        """Sample one action per row from softmax(logits), or take the most likely one."""
        logits = self(observations)
        if greedy:
            return logits.argmax(-1)
        probs = F.softmax(logits, dim=-1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


class ValueNet(nn.Module):
    """Observation (..., 4) -> V(s) (...), the expected return from s: the baseline."""

    def __init__(self, hidden: int = 64, observation_size: int = OBSERVATION_SIZE) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(observation_size, hidden), nn.Tanh(), nn.Linear(hidden, 1)
        )

    def forward(self, observations: Tensor) -> Tensor:
        return self.net(observations).squeeze(-1)


# ---------------------------------------------------------------- the loss


def reinforce_loss(
    logits: Tensor,
    actions: Tensor,
    returns: Tensor,
    values: Tensor,
    episodes: int,
    normalize: bool = False,
    entropy_coef: float = 0.0,
) -> tuple[Tensor, Tensor]:
    """(policy loss, value loss) over S steps pooled from `episodes` episodes.

    logits (S, A), actions (S,) int64, returns (S,) the G_t, values (S,) the baseline
    V(s_t) (zeros for plain REINFORCE). -grad of the policy loss is the REINFORCE estimate
    of grad J per episode; the value loss is the mean squared error of V against G.

    normalize: scale the advantages of this batch to mean 0 and std 1. Subtracting the
    batch mean is one more baseline (it depends, a little, on the sampled action itself, so
    the estimate is no longer exactly unbiased); dividing by the std changes the length of
    every step, not its direction, which keeps the step size steady as returns grow.
    entropy_coef: subtract this times the mean policy entropy, which rewards exploring.
    """
    log_probs = F.log_softmax(logits, dim=-1)
    chosen = log_probs.gather(-1, actions[:, None]).squeeze(-1)  # log pi(a_t | s_t)
    advantages = returns - values.detach()  # a constant weight: no gradient into V here
    if normalize:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    policy_loss = -(chosen * advantages).sum() / episodes
    if entropy_coef:
        entropy = -(log_probs.exp() * log_probs).sum(-1)
        policy_loss = policy_loss - entropy_coef * entropy.sum() / episodes
    value_loss = F.mse_loss(values, returns)  # the baseline regresses on the plain returns
    return policy_loss, value_loss


# ---------------------------------------------------------------- experience


@dataclass
class Episodes:
    """A batch of finished episodes, every step of every episode pooled (S steps in all)."""

    observations: Tensor  # (S, 4) float32
    actions: Tensor  # (S,) int64
    returns: Tensor  # (S,) float32, the discounted G_t
    totals: np.ndarray  # (episodes,) the undiscounted return of each episode (its length)
    episode_of_step: Tensor  # (S,) int64, which episode each step belongs to

    @property
    def count(self) -> int:
        return len(self.totals)


def collect_episodes(env: CartPole, policy: Policy, gamma: float,
                     generator: torch.Generator | None = None, greedy: bool = False) -> Episodes:  # fmt: skip
    """Run env.n episodes in lockstep until every one has ended; pool their steps."""
    observation = env.reset()
    observations, actions, rewards, dones, running = [], [], [], [], []
    while not env.all_done:
        alive = ~env.done
        obs = torch.from_numpy(observation)
        action = policy.act(obs, generator, greedy)
        observation, reward, terminated, truncated = env.step(action.numpy())
        observations.append(obs)
        actions.append(action)
        rewards.append(torch.from_numpy(reward).float())
        dones.append(torch.from_numpy(terminated | truncated))
        running.append(torch.from_numpy(alive))
    mask = torch.stack(running)  # (T, N): True while episode n is still going at step t
    returns = discounted_returns(torch.stack(rewards), torch.stack(dones), gamma)
    episode = torch.arange(env.n).expand_as(mask)
    return Episodes(
        observations=torch.stack(observations)[mask],
        actions=torch.stack(actions)[mask],
        returns=returns[mask],
        totals=torch.stack(rewards).sum(0).numpy(),
        episode_of_step=episode[mask],
    )
