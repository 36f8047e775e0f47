"""Exercise `reinforcement_learning`: the two pieces that turn episodes into a policy update.

Write
- `discounted_returns(rewards, dones, gamma)`: G_t = r_t + gamma * G_{t+1}, restarting at
  the end of every episode, and
- `reinforce_loss(logits, actions, returns, values, episodes)`: the REINFORCE loss with a
  learned baseline, and the value network's regression loss.
`groundup check reinforcement_learning` compares them with groundup.rl.reinforce (itself
checked against scipy's lfilter, torch's Categorical and the exact policy gradient of a small
MDP): values, gradients, episode boundaries, and which tensors the gradients reach.

DE: Übung `reinforcement_learning`: die zwei Teile, die aus Episoden einen Policy-Schritt
machen. Schreiben Sie `discounted_returns(rewards, dones, gamma)` (G_t = r_t + gamma * G_{t+1},
neu beginnend am Ende jeder Episode) und `reinforce_loss(logits, actions, returns, values,
episodes)` (der REINFORCE-Verlust mit gelernter Baseline und der Regressionsverlust des
Wertnetzes). `groundup check reinforcement_learning` vergleicht beide mit
groundup.rl.reinforce: Werte, Gradienten, Episodengrenzen und welche Tensoren die Gradienten
erreichen.
"""

from __future__ import annotations

import torch  # noqa: F401 - imported for you: torch.zeros_like, torch.log_softmax, ...
from torch import Tensor


def discounted_returns(rewards: Tensor, dones: Tensor, gamma: float) -> Tensor:
    """G_t = r_t + gamma * G_{t+1}, with G = 0 after the last step of an episode.

    rewards: float tensor (T,) or (T, N); time is dim 0.
    dones:   bool tensor of the same shape, True at the LAST step of an episode.
    gamma:   discount factor in [0, 1].
    Returns a tensor of the same shape and dtype as rewards.
    (T,) holds several episodes back to back: no return may flow from one episode into the
    one before it. (T, N) holds N sequences side by side, each column on its own.
    Go backwards in time: G_t needs G_{t+1}. `~dones[t]` is "the episode goes on after t".

    DE: G_t = r_t + gamma * G_{t+1}, mit G = 0 nach dem letzten Schritt einer Episode.
    rewards: Float-Tensor (T,) oder (T, N), Zeit auf Achse 0. dones: Bool-Tensor gleicher
    Form, True am LETZTEN Schritt einer Episode. gamma: Diskontfaktor in [0, 1]. Rückgabe:
    Tensor mit Form und dtype von rewards. (T,) enthält mehrere Episoden hintereinander: kein
    Ertrag darf von einer Episode in die vorige fließen. (T, N) enthält N Folgen
    nebeneinander, jede Spalte für sich. Gehen Sie rückwärts durch die Zeit: G_t braucht
    G_{t+1}. `~dones[t]` heißt „die Episode geht nach t weiter“.
    """
    raise NotImplementedError("TODO: discounted_returns")


def reinforce_loss(
    logits: Tensor, actions: Tensor, returns: Tensor, values: Tensor, episodes: int
) -> tuple[Tensor, Tensor]:
    """(policy_loss, value_loss) for S steps pooled from `episodes` episodes.

    logits:  (S, A) action scores of the policy; pi(a | s_t) = softmax(logits[t])[a].
    actions: (S,) int64, the action taken at each step.
    returns: (S,) the discounted returns G_t (constants).
    values:  (S,) the baseline V(s_t) predicted by the value network.
    episodes: how many episodes the S steps come from.
    policy_loss (0-dim) = -sum_t log pi(a_t | s_t) * A_t / episodes, with the advantage
        A_t = G_t - V(s_t) treated as a constant: no gradient may reach `values` from it.
        Use log_softmax, not log(softmax).
    value_loss (0-dim) = mean over t of (V(s_t) - G_t)^2: the baseline learns the returns.

    DE: (policy_loss, value_loss) für S Schritte aus `episodes` Episoden. logits (S, A):
    Aktionswerte der Policy, pi(a | s_t) = softmax(logits[t])[a]. actions (S,) int64: die
    gewählte Aktion je Schritt. returns (S,): die diskontierten Erträge G_t (Konstanten).
    values (S,): die Baseline V(s_t) des Wertnetzes. policy_loss (0-dim.) =
    -sum_t log pi(a_t | s_t) * A_t / episodes, wobei der Vorteil A_t = G_t - V(s_t) als
    Konstante gilt: über ihn darf kein Gradient zu `values` fließen. Nehmen Sie log_softmax,
    nicht log(softmax). value_loss (0-dim.) = Mittel über t von (V(s_t) - G_t)^2: die Baseline
    lernt die Erträge.
    """
    # 1. log_probs = log_softmax of the logits along the action axis
    # 2. pick log pi(a_t | s_t) of the action actually taken (gather, or indexing)
    # 3. advantages = returns - values, cut from the graph (.detach())
    # 4. policy loss: minus the sum of log-prob times advantage, divided by episodes
    # 5. value loss: mean squared error between values and returns
    raise NotImplementedError("TODO: reinforce_loss")
