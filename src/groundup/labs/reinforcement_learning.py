"""Lab: REINFORCE learns to balance CartPole, with and without a learned baseline.

The environment is groundup's NumPy CartPole (equal to Gymnasium's CartPole-v1 step for
step): +1 per step, at most 500 steps, and a random policy lasts about 22. Every update
plays a batch of episodes in lockstep with the current policy, computes the discounted
returns G_t, and takes one Adam step on the REINFORCE loss; with the baseline, a value
network V(s) regresses on the same returns and the policy's weight becomes G_t - V(s_t).

The comparison: the same seeds and initial weights, trained once with the baseline and once
without (weight G_t). Every few updates, on the baseline run's batch, the per-episode
gradient estimates are taken both ways and their variance is compared: same policy, same
episodes, only the weight differs. At the end each policy plays fresh evaluation episodes
(sampling its actions, as in training; greedy play is reported as well).

Artefacts: metrics.jsonl, returns.png (episode return and its moving average),
gradient_variance.png, behaviour.png (pole angle and cart position in one evaluation episode,
value predictions against the actual returns), results.txt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from groundup.files import atomic_write_text
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.rl.cartpole import THETA_LIMIT, CartPole
from groundup.rl.reinforce import (
    Episodes,
    Policy,
    ValueNet,
    collect_episodes,
    discounted_returns,
    reinforce_loss,
)
from groundup.train.optimizers import Adam

LAB = "reinforcement_learning"
SOLVED = 195.0  # the classic CartPole-v0 bar: average return over 100 episodes
WINDOW = 100  # episodes in the moving average


@dataclass
class Config(runner.LabConfig):
    updates: int = 60  # policy-gradient steps, each on a fresh batch of episodes
    episodes_per_update: int = 16
    hidden: int = 32
    lr: float = 1e-2  # policy
    value_lr: float = 1e-2  # baseline
    value_steps: int = 10  # Adam steps of the value network on each batch
    gamma: float = 0.99
    normalize: bool = False  # scale the advantages of each batch to mean 0, std 1
    entropy_coef: float = 0.0
    compare: bool = True  # also train without the baseline, same seeds and initial weights
    runs: int = 1  # seeds per variant; curves and figures are averaged over them
    eval_episodes: int = 100
    variance_every: int = 5  # updates between two gradient-variance measurements


PRESETS: dict[str, dict] = {
    "micro": {
        "updates": 20,
        "episodes_per_update": 8,
        "compare": False,
        "eval_episodes": 50,
        "variance_every": 5,
    },  # fmt: skip
    "tiny": {},
    "full": {"updates": 100, "runs": 3},
}

FIELD_HELP: dict[str, Msg] = {
    "updates": Msg(
        "policy-gradient steps, each on a fresh batch of episodes",
        "Policy-Gradienten-Schritte, jeder auf einem frischen Stapel von Episoden",
    ),
    "episodes_per_update": Msg(
        "episodes played (in lockstep) for one update",
        "Episoden, die (im Gleichschritt) für einen Schritt gespielt werden",
    ),
    "value_lr": Msg(
        "learning rate of the value network (the baseline)",
        "Lernrate des Wertnetzes (der Baseline)",
    ),
    "value_steps": Msg(
        "Adam steps of the value network on each batch of episodes",
        "Adam-Schritte des Wertnetzes auf jedem Stapel von Episoden",
    ),
    "gamma": Msg(
        "discount factor of the returns, in [0, 1]", "Diskontfaktor der Erträge, in [0, 1]"
    ),
    "normalize": Msg(
        "scale each batch's advantages to mean 0 and standard deviation 1",
        "die Vorteile (Advantages) jedes Stapels auf Mittelwert 0 und Standardabweichung 1 bringen",
    ),
    "entropy_coef": Msg(
        "weight of the entropy bonus that keeps the policy exploring (0: off)",
        "Gewicht des Entropie-Bonus, der die Policy weiter erkunden lässt (0: aus)",
    ),
    "compare": Msg(
        "also train without the baseline, from the same start",
        "zusätzlich ohne Baseline trainieren, vom selben Startpunkt aus",
    ),
    "runs": Msg(
        "seeds per variant; figures are averaged over them",
        "Seeds pro Variante; die Kennzahlen werden über sie gemittelt",
    ),
    "eval_episodes": Msg(
        "fresh episodes played by each trained policy at the end",
        "neue Episoden, die jede trainierte Policy am Ende spielt",
    ),
    "variance_every": Msg(
        "updates between two measurements of the gradient variance",
        "Schritte zwischen zwei Messungen der Gradientenvarianz",
    ),
}

TEXT = {
    "training": Msg("{variant}, seed {seed}", "{variant}, Seed {seed}"),
    "only_cpu": Msg(
        "this lab steps a NumPy environment with tiny networks and runs on the CPU only; "
        "use --device cpu or auto",
        "dieses Lab rechnet eine NumPy-Umgebung mit winzigen Netzen und läuft nur auf der CPU; "
        "nehmen Sie --device cpu oder auto",
    ),
    "no_data": Msg(
        "this lab plays its own CartPole and takes no --data file",
        "dieses Lab spielt sein eigenes CartPole und nimmt keine --data-Datei",
    ),
    "bad_value": Msg(
        "{field} must be {rule}, got {value}", "{field} muss {rule} sein, ist {value}"
    ),
    "returns_title": Msg(
        "CartPole: return per episode (thin) and its mean over {window} episodes",
        "CartPole: Ertrag pro Episode (dünn) und sein Mittel über {window} Episoden",
    ),
    "variance_title": Msg(
        "Variance of the per-episode gradient estimate (same batches)",
        "Varianz der Gradientenschätzung pro Episode (gleiche Stapel)",
    ),
    "summary": Msg(
        "evaluation over {n} episodes: with baseline {base:.1f}, without {plain}, "
        "random policy {random:.1f}; gradient variance without / with baseline: {ratio}",
        "Auswertung über {n} Episoden: mit Baseline {base:.1f}, ohne {plain}, "
        "Zufalls-Policy {random:.1f}; Gradientenvarianz ohne / mit Baseline: {ratio}",
    ),
}


def validate(cfg: Config) -> None:
    if cfg.data is not None:
        raise runner.LabError(TEXT["no_data"].get())
    if cfg.device not in ("auto", "cpu"):
        raise runner.LabError(TEXT["only_cpu"].get())
    rules: list[tuple[str, bool, str]] = [
        ("updates", cfg.updates >= 1, ">= 1"),
        ("episodes_per_update", cfg.episodes_per_update >= 2, ">= 2"),
        ("hidden", cfg.hidden >= 1, ">= 1"),
        ("lr", cfg.lr > 0, "> 0"),
        ("value_lr", cfg.value_lr > 0, "> 0"),
        ("value_steps", cfg.value_steps >= 1, ">= 1"),
        ("gamma", 0 <= cfg.gamma <= 1, "in [0, 1]"),
        ("entropy_coef", cfg.entropy_coef >= 0, ">= 0"),
        ("runs", cfg.runs >= 1, ">= 1"),
        ("eval_episodes", cfg.eval_episodes >= 1, ">= 1"),
        ("variance_every", cfg.variance_every >= 1, ">= 1"),
    ]
    for field, ok, rule in rules:
        if not ok:
            raise runner.LabError(
                TEXT["bad_value"].get(field=field, rule=rule, value=getattr(cfg, field))
            )


# ---------------------------------------------------------------- measuring the estimator


def flat_grad(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in module.parameters() if p.grad is not None])


def gradient_variance(policy: Policy, batch: Episodes, weights: torch.Tensor) -> float:
    """Total variance (trace of the covariance) of the per-episode gradient estimates
    -grad sum_t log pi(a_t | s_t) * w_t, one estimate per episode of the batch."""
    samples = []
    for episode in range(batch.count):
        steps = batch.episode_of_step == episode
        policy.zero_grad()
        zeros = torch.zeros(int(steps.sum()))
        loss, _ = reinforce_loss(policy(batch.observations[steps]), batch.actions[steps],
                                 weights[steps], zeros, episodes=1)  # fmt: skip
        loss.backward()
        samples.append(flat_grad(policy))
    policy.zero_grad()
    return torch.stack(samples).var(dim=0).sum().item()


# ---------------------------------------------------------------- training


@dataclass
class RunResult:
    totals: list[float]  # undiscounted return of every training episode, in order
    variance: list[tuple[int, float, float]]  # (update, without baseline, with baseline)
    policy: Policy
    value: ValueNet | None


def train(cfg: Config, seed: int, baseline: bool, log: runner.MetricsLog) -> RunResult:
    torch.manual_seed(seed)  # the same initial weights for both variants of a seed
    policy, value = Policy(cfg.hidden), ValueNet(cfg.hidden)
    actions = torch.Generator().manual_seed(seed)
    env = CartPole(n=cfg.episodes_per_update, seed=seed)
    policy_opt, value_opt = (
        Adam(policy.parameters(), cfg.lr),
        Adam(value.parameters(), cfg.value_lr),
    )
    totals: list[float] = []
    variance: list[tuple[int, float, float]] = []
    variant = "baseline" if baseline else "no baseline"
    label = TEXT["training"].get(variant=variant, seed=seed)
    with runner.progress(cfg.updates, label, quiet=cfg.quiet) as bar:
        for update in range(1, cfg.updates + 1):
            batch = collect_episodes(env, policy, cfg.gamma, actions)
            totals.extend(batch.totals.tolist())
            values = value(batch.observations) if baseline else torch.zeros_like(batch.returns)
            if baseline and (update == 1 or update % cfg.variance_every == 0):
                advantages = batch.returns - values.detach()
                plain = gradient_variance(policy, batch, batch.returns)
                based = gradient_variance(policy, batch, advantages)
                variance.append((update, plain, based))
                log.log(seed=seed, update=update, variance_plain=plain, variance_baseline=based)
            policy_loss, value_loss = reinforce_loss(
                policy(batch.observations), batch.actions, batch.returns, values,
                batch.count, cfg.normalize, cfg.entropy_coef,
            )  # fmt: skip
            policy_opt.zero_grad()
            policy_loss.backward()
            policy_opt.step()
            for step in range(cfg.value_steps if baseline else 0):
                if step > 0:  # step 0 uses the value loss that reinforce_loss returned
                    value_loss = F.mse_loss(value(batch.observations), batch.returns)
                value_opt.zero_grad()
                value_loss.backward()
                value_opt.step()
            average = float(np.mean(totals[-WINDOW:]))
            log.log(seed=seed, baseline=baseline, update=update, episodes=len(totals),
                    batch_return=float(batch.totals.mean()), moving_average=average,
                    value_loss=value_loss.item() if baseline else None)  # fmt: skip
            bar.update(info=f"return {batch.totals.mean():.0f} | avg{WINDOW} {average:.0f}")
    return RunResult(totals, variance, policy, value if baseline else None)


def episodes_to_reach(totals: list[float], level: float) -> float:
    """Training episodes until the moving average over WINDOW episodes first reaches `level`
    (counted once WINDOW episodes exist); nan if it never does."""
    averages = moving_average(totals, WINDOW)[WINDOW - 1 :]
    reached = np.flatnonzero(averages >= level)
    return float(reached[0] + WINDOW) if len(reached) else float("nan")


def evaluate(policy: Policy, cfg: Config, seed: int, greedy: bool = False) -> float:
    env = CartPole(n=cfg.eval_episodes, seed=10_000 + seed)  # states never seen in training
    generator = torch.Generator().manual_seed(10_000 + seed)
    return float(collect_episodes(env, policy, cfg.gamma, generator, greedy).totals.mean())


def random_return(cfg: Config) -> float:
    env, rng = CartPole(n=max(cfg.eval_episodes, 100), seed=cfg.seed), np.random.default_rng(0)
    env.reset()
    total = np.zeros(env.n)
    while not env.all_done:
        total += env.step(rng.integers(2, size=env.n))[1]
    return float(total.mean())


# ---------------------------------------------------------------- the experiment


def run(cfg: Config) -> runner.LabReport:
    validate(cfg)
    with runner.one_torch_thread():  # tiny tensors, one step at a time: threads only wait
        return experiment(cfg)


def experiment(cfg: Config) -> runner.LabReport:
    timer, cpu_start = runner.Timer(), time.process_time()
    out = runner.start(cfg, LAB)
    log = runner.MetricsLog(out / "metrics.jsonl")

    seeds = [cfg.seed + i for i in range(cfg.runs)]
    variants = [True, False] if cfg.compare else [True]
    results: dict[bool, list[RunResult]] = {v: [] for v in variants}
    scores: dict[bool, list[float]] = {v: [] for v in variants}
    greedy_scores: list[float] = []
    for seed in seeds:
        for baseline in variants:
            result = train(cfg, seed, baseline, log)
            results[baseline].append(result)
            scores[baseline].append(evaluate(result.policy, cfg, seed))
            if baseline:
                greedy_scores.append(evaluate(result.policy, cfg, seed, greedy=True))
            log.log(seed=seed, baseline=baseline, eval_return=scores[baseline][-1])
    log.close()

    ratios = [p / b for r in results[True] for _, p, b in r.variance if b > 0]
    metrics: dict[str, float | int | str] = {
        "random_return": random_return(cfg),
        "eval_return": float(np.mean(scores[True])),
        "eval_return_min_over_runs": float(np.min(scores[True])),
        "eval_return_greedy": float(np.mean(greedy_scores)),
        "final_moving_average": float(
            np.mean([np.mean(r.totals[-WINDOW:]) for r in results[True]])
        ),  # fmt: skip
        "first_batch_return": float(
            np.mean([np.mean(r.totals[: cfg.episodes_per_update]) for r in results[True]])
        ),  # fmt: skip
        "variance_ratio_median": float(np.median(ratios)),
        "variance_ratio_min": float(np.min(ratios)),
        "training_episodes": cfg.updates * cfg.episodes_per_update,
        "runs": cfg.runs,
    }
    for level in (SOLVED, 400):
        metrics[f"episodes_to_{level:.0f}"] = float(
            np.mean([episodes_to_reach(r.totals, level) for r in results[True]])
        )
    if cfg.compare:
        for level in (SOLVED, 400):
            metrics[f"episodes_to_{level:.0f}_no_baseline"] = float(
                np.mean([episodes_to_reach(r.totals, level) for r in results[False]])
            )
        metrics["eval_return_no_baseline"] = float(np.mean(scores[False]))
        metrics["final_moving_average_no_baseline"] = float(
            np.mean([np.mean(r.totals[-WINDOW:]) for r in results[False]])
        )
    metrics["cpu_seconds"] = round(time.process_time() - cpu_start, 1)

    plain = f"{metrics['eval_return_no_baseline']:.1f}" if cfg.compare else "-"
    summary = TEXT["summary"].get(n=cfg.eval_episodes, base=metrics["eval_return"], plain=plain,
                                  random=metrics["random_return"],
                                  ratio=f"{metrics['variance_ratio_median']:.1f}x")  # fmt: skip
    per_run = [f"seed {s}: " + ", ".join(f"{'baseline' if v else 'no baseline'} "
                                         f"{scores[v][i]:.1f}" for v in variants)
               for i, s in enumerate(seeds)]  # fmt: skip
    text = "\n".join([summary, *per_run])
    atomic_write_text(out / "results.txt", text + "\n")

    artifacts = {
        "returns": save_returns_plot(out / "returns.png", results),
        "gradient_variance": save_variance_plot(out / "gradient_variance.png", results[True]),
        "behaviour": save_behaviour_plot(out / "behaviour.png", results[True][0], cfg),
        "results": out / "results.txt",
        "metrics": out / "metrics.jsonl",
    }
    return runner.LabReport(lab=LAB, out_dir=out, metrics=metrics, artifacts=artifacts,
                            text=text, seconds=timer.seconds)  # fmt: skip


# ---------------------------------------------------------------- plots


def moving_average(values: list[float], width: int) -> np.ndarray:
    """Mean of the last `width` values at every position (fewer at the start)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values, dtype=float)])
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - width, 0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def save_returns_plot(path: Path, results: dict[bool, list[RunResult]]) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    colours = {True: "tab:blue", False: "tab:orange"}
    for baseline, runs in results.items():
        name = "with baseline" if baseline else "without baseline"
        for i, result in enumerate(runs):
            episodes = np.arange(1, len(result.totals) + 1)
            ax.plot(episodes, result.totals, color=colours[baseline], alpha=0.15, linewidth=0.6)
            ax.plot(episodes, moving_average(result.totals, WINDOW), color=colours[baseline],
                    linewidth=1.8, label=name if i == 0 else None)  # fmt: skip
    ax.axhline(SOLVED, color="k", linestyle="--", linewidth=0.8, label=f"{SOLVED:.0f}")
    ax.set(title=TEXT["returns_title"].get(window=WINDOW), xlabel="episode", ylabel="return",
           ylim=(0, 520))  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_variance_plot(path: Path, runs: list[RunResult]) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for i, result in enumerate(runs):
        updates = [u for u, _, _ in result.variance]
        ax.plot(updates, [p for _, p, _ in result.variance], color="tab:orange", marker="o",
                markersize=3, label="weight G_t (no baseline)" if i == 0 else None)  # fmt: skip
        ax.plot(updates, [b for _, _, b in result.variance], color="tab:blue", marker="o",
                markersize=3, label="weight G_t - V(s_t)" if i == 0 else None)  # fmt: skip
    ax.set(title=TEXT["variance_title"].get(), xlabel="update", ylabel="trace of covariance",
           yscale="log")  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_behaviour_plot(path: Path, result: RunResult, cfg: Config) -> Path:
    """One evaluation episode of the trained policy: what the pole does, what V predicts."""
    env = CartPole(n=1, seed=20_000 + cfg.seed)
    observation, states, rewards = env.reset(), [], []
    generator = torch.Generator().manual_seed(cfg.seed)
    while not env.all_done:
        states.append(observation[0])
        action = result.policy.act(torch.from_numpy(observation), generator)
        observation, reward, _, _ = env.step(action.numpy())
        rewards.append(reward[0])
    states_arr = np.array(states)
    steps = np.arange(len(states_arr))
    reward_t = torch.tensor(rewards, dtype=torch.float32)
    dones = torch.zeros(len(rewards), dtype=torch.bool)
    dones[-1] = True
    returns = discounted_returns(reward_t, dones, cfg.gamma).numpy()

    plt = runner.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    left.plot(steps, np.degrees(states_arr[:, 2]), label="pole angle (degrees)")
    left.plot(steps, states_arr[:, 0] * 10, label="cart position x 10 (m)", alpha=0.8)
    limit = np.degrees(THETA_LIMIT)
    left.axhline(limit, color="k", linestyle="--", linewidth=0.8)
    left.axhline(-limit, color="k", linestyle="--", linewidth=0.8)
    left.set(title=f"trained policy, one episode: {len(steps)} steps", xlabel="step")
    left.legend(loc="lower left")
    right.plot(steps, returns, label="actual discounted return G_t", color="k")
    if result.value is not None:
        with torch.no_grad():
            predicted = result.value(torch.from_numpy(states_arr)).numpy()
        right.plot(steps, predicted, label="value prediction V(s_t)", color="tab:blue")
    right.set(title=f"returns and the baseline (gamma {cfg.gamma})", xlabel="step")
    right.legend(loc="lower left")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
