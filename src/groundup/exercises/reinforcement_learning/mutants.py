"""Planted bugs for the `reinforcement_learning` exercise, each a full learner file that one
check must catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import torch


def discounted_returns(rewards, dones, gamma):
    returns = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running * ~dones[t]
        returns[t] = running
    return returns


def reinforce_loss(logits, actions, returns, values, episodes):
    log_probs = torch.log_softmax(logits, dim=-1)
    chosen = log_probs.gather(1, actions[:, None]).squeeze(1)
    advantages = returns - values.detach()
    policy_loss = -(chosen * advantages).sum() / episodes
    value_loss = ((values - returns) ** 2).mean()
    return policy_loss, value_loss
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "gamma_applied_forward",
        catches="returns_one_episode",
        source=_plant(
            "    for t in reversed(range(len(rewards))):\n"
            "        running = rewards[t] + gamma * running * ~dones[t]\n"
            "        returns[t] = running\n",
            "    for t in range(len(rewards)):\n"
            "        running = rewards[t] + gamma * running\n"
            "        returns[t] = running\n"
            "        running = running * ~dones[t]\n",
        ),
        note="discounts the past instead of the future: G_t = r_t + gamma G_(t-1)",
    ),
    Mutant(
        "returns_not_reset_between_episodes",
        catches="returns_episode_boundaries",
        source=_plant("gamma * running * ~dones[t]", "gamma * running"),
        note="the next episode's rewards leak into the end of this one",
    ),
    Mutant(
        "returns_of_one_scalar",
        catches="returns_batched",
        source=_plant("running = torch.zeros_like(rewards[0])", "running = 0.0").replace(
            "* ~dones[t]", "* ~dones[t].all()"
        ),
        note="one running return for all columns, reset only when every column ends",
    ),
    Mutant(
        "advantage_not_detached",
        catches="advantage_detached",
        source=_plant("returns - values.detach()", "returns - values"),
        note="the policy loss pushes V away from the returns",
    ),
    Mutant(
        "sign_flipped",
        catches="improves_good_actions",
        source=_plant("policy_loss = -(chosen", "policy_loss = (chosen"),
        note="gradient descent on this loss makes good actions rarer",
    ),
    Mutant(
        "log_prob_of_the_wrong_action",
        catches="policy_loss_values",
        source=_plant("gather(1, actions[:, None])", "gather(1, (1 - actions)[:, None])"),
        note="weights the action not taken (the other one of two)",
    ),
    Mutant(
        "baseline_subtracted_from_value_target",
        catches="value_loss",
        source=_plant("((values - returns) ** 2)", "((values - (returns - values.detach())) ** 2)"),
        note="V learns the advantage instead of the return",
    ),
    Mutant(
        "mean_over_steps",
        catches="policy_loss_values",
        source=_plant(".sum() / episodes", ".mean()"),
        note="divides by the number of steps: long episodes count less than they should",
    ),
    Mutant(
        "probability_instead_of_log_probability",
        catches="policy_loss_values",
        source=_plant("torch.log_softmax(logits, dim=-1)", "torch.softmax(logits, dim=-1)"),
        note="the score function is grad log pi, not grad pi",
    ),
    Mutant(
        "policy_loss_cut_from_the_graph",
        catches="policy_gradient",
        source=_plant(
            "    policy_loss = -(chosen * advantages).sum() / episodes\n",
            "    policy_loss = -(chosen * advantages).sum() / episodes\n"
            "    policy_loss = policy_loss.detach() + 0 * logits.sum()\n",
        ),
        note="the right number, but no gradient reaches the policy",
    ),
]
