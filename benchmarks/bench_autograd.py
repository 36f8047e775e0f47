"""How fast the NumPy autograd engine is, next to PyTorch and next to the scalar engine.

Two comparisons, each on a network the path uses:

1. One training step (forward, backward, Adam update) of the autograd lab's MLP on
   scikit-learn's digits (64-128-10, ReLU, Adam lr 3e-3, float64) with the NumPy engine
   and with the same network in PyTorch on the CPU: the same weights, the same batches,
   the same thread count for NumPy's BLAS and for torch, taking turns step by step.
   Median of many steps after a warm-up. Floor: the engine takes at most 3x PyTorch's time.
2. micrograd's two-moons demo (100 points, a 2-16-16-1 ReLU MLP, 100 steps of full-batch
   SGD on the mean hinge loss plus 1e-4 L2, learning rate 1.0 decaying to 0.1) with the
   scalar engine (`autograd/scalar.py`) and the tensor engine (`autograd/engine.py`).
   Both start from the same weights, so they should end at the same accuracy.
   Floor: the tensor engine is at least 100x faster.

    python benchmarks/bench_autograd.py

prints one JSON line per figure, e.g.
    {"name": "mlp_step_ms_engine", "value": ..., "unit": "ms", "sizes": [64, 128, 10], ...}
`--quick` shrinks both comparisons to a few steps (for tests).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import torch
from sklearn.datasets import load_digits, make_moons
from threadpoolctl import threadpool_limits

from groundup.autograd import scalar
from groundup.autograd.engine import Tensor, cross_entropy
from groundup.autograd.nn import MLP, SGD, Adam

DIGITS_SIZES = [64, 128, 10]  # the autograd lab's tiny preset: one hidden layer of 128
DIGITS_LR = 3e-3
MOONS_SIZES = [2, 16, 16, 1]
MOONS_ALPHA = 1e-4  # L2 weight of micrograd's demo


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=500, help="timed MLP steps per engine")
    parser.add_argument("--warmup", type=int, default=50, help="untimed MLP steps first")
    parser.add_argument("--moons-steps", type=int, default=100)
    parser.add_argument("--moons-points", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5, help="tensor-engine moons runs")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a few steps of everything")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.warmup, args.moons_steps, args.moons_points, args.repeats = 5, 1, 3, 8, 1
    return args


# ---------------------------------------------------------------------------------------
# 1. An MLP training step on digits: NumPy engine against PyTorch


def torch_copy(model: MLP) -> torch.nn.Sequential:
    """The engine's MLP in torch.nn with the same weights (torch stores them as (out, in))."""
    layers: list[torch.nn.Module] = []
    for layer in model.layers:
        linear = torch.nn.Linear(*layer.weight.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weight.data.T))
            linear.bias.copy_(torch.from_numpy(layer.bias.data))
        layers += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def time_steps(
    steps: list[Callable[[np.ndarray], float]], batches: list[np.ndarray], warmup: int
) -> tuple[list[list[float]], list[float]]:
    """Milliseconds of each step after the first `warmup` ones, and the last losses.

    The implementations take turns on each batch, so a busy moment of the machine slows
    them alike instead of whichever happened to run then.
    """
    times: list[list[float]] = [[] for _ in steps]
    losses = [float("nan")] * len(steps)
    for i, batch in enumerate(batches):
        for k, step in enumerate(steps):
            start = time.perf_counter()
            losses[k] = step(batch)
            if i >= warmup:
                times[k].append((time.perf_counter() - start) * 1e3)
    return times, losses


def mlp_step_figures(args: argparse.Namespace) -> list[tuple[str, float, str, dict]]:
    digits = load_digits()
    x, y = digits.data / 16.0, digits.target.astype(np.int64)
    rng = np.random.default_rng(args.seed)
    batches = [
        rng.choice(len(x), args.batch_size, replace=False) for _ in range(args.warmup + args.steps)
    ]
    model = MLP(DIGITS_SIZES, rng, "relu")
    reference = torch_copy(model)
    optimizer = Adam(model.parameters(), lr=DIGITS_LR)
    ref_optimizer = torch.optim.Adam(reference.parameters(), lr=DIGITS_LR)
    x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)

    def engine_step(batch: np.ndarray) -> float:
        loss = cross_entropy(model(Tensor(x[batch])), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    def torch_step(batch: np.ndarray) -> float:
        index = torch.from_numpy(batch)
        loss = torch.nn.functional.cross_entropy(reference(x_torch[index]), y_torch[index])
        ref_optimizer.zero_grad()
        loss.backward()
        ref_optimizer.step()
        return loss.item()

    (engine_ms, torch_ms), (engine_loss, torch_loss) = time_steps(
        [engine_step, torch_step], batches, args.warmup
    )
    engine, reference_ms = statistics.median(engine_ms), statistics.median(torch_ms)
    config = {
        "data": "sklearn digits",
        "sizes": DIGITS_SIZES,
        "activation": "relu",
        "optimizer": "adam",
        "lr": DIGITS_LR,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "warmup": args.warmup,
        "dtype": "float64",
        # Same weights and batches: both should end at the same loss (a check on the timing).
        "final_loss_engine": round(engine_loss, 6),
        "final_loss_torch": round(torch_loss, 6),
    }
    return [
        ("mlp_step_ms_engine", engine, "ms", config),
        ("mlp_step_ms_torch", reference_ms, "ms", config),
        ("mlp_step_ratio_engine_to_torch", engine / reference_ms, "x", {**config, "floor": 3.0}),
    ]


# ---------------------------------------------------------------------------------------
# 2. micrograd's two-moons demo: scalar engine against tensor engine


def learning_rate(step: int, steps: int) -> float:
    return 1.0 - 0.9 * step / steps  # micrograd's demo: 1.0 down to 0.1


def train_moons_scalar(x: np.ndarray, y: np.ndarray, steps: int, seed: int) -> scalar.MLP:
    model = scalar.MLP(MOONS_SIZES, np.random.default_rng(seed))
    inputs, labels = x.tolist(), y.tolist()
    params = model.parameters()
    for step in range(steps):
        scores = [model(point)[0] for point in inputs]
        hinge = [(1 - label * score).relu() for label, score in zip(labels, scores, strict=True)]
        loss = sum(hinge) / len(hinge) + MOONS_ALPHA * sum(p * p for p in params)
        loss.backward()
        for p in params:
            p.data -= learning_rate(step, steps) * p.grad
    return model


def train_moons_tensor(x: np.ndarray, y: np.ndarray, steps: int, seed: int) -> MLP:
    model = MLP(MOONS_SIZES, np.random.default_rng(seed), "relu")
    inputs, labels = Tensor(x), Tensor(y)
    optimizer = SGD(model.parameters(), lr=1.0)
    for step in range(steps):
        scores = model(inputs).reshape(-1)
        hinge = (1 - labels * scores).relu()
        loss = hinge.mean() + MOONS_ALPHA * sum((p * p).sum() for p in model.parameters())
        optimizer.zero_grad()
        loss.backward()
        optimizer.lr = learning_rate(step, steps)
        optimizer.step()
    return model


def seconds(train: Callable[[], object]) -> tuple[float, float, object]:
    """Wall-clock and CPU seconds of `train()`, and its result.

    On a busy machine the wall clock also counts time spent waiting for a core; the CPU
    time of this process does not, so both are reported.
    """
    start, start_cpu = time.perf_counter(), time.process_time()
    model = train()
    return time.perf_counter() - start, time.process_time() - start_cpu, model


def moons_figures(args: argparse.Namespace) -> list[tuple[str, float, str, dict]]:
    x, labels01 = make_moons(n_samples=args.moons_points, noise=0.1, random_state=args.seed)
    y = 2.0 * labels01 - 1.0  # the hinge loss wants labels -1 and +1
    steps = args.moons_steps

    scalar_s, scalar_cpu_s, scalar_model = seconds(
        lambda: train_moons_scalar(x, y, steps, args.seed)
    )
    tensor_runs = [
        seconds(lambda: train_moons_tensor(x, y, steps, args.seed)) for _ in range(args.repeats)
    ]
    tensor_s = statistics.median(run[0] for run in tensor_runs)
    tensor_cpu_s = statistics.median(run[1] for run in tensor_runs)
    tensor_model = tensor_runs[0][2]

    scalar_scores = np.array([scalar_model(point)[0].data for point in x.tolist()])
    tensor_scores = tensor_model(Tensor(x)).data.reshape(-1)
    config = {
        "data": "sklearn make_moons noise 0.1",
        "points": args.moons_points,
        "sizes": MOONS_SIZES,
        "activation": "relu",
        "loss": f"mean hinge + {MOONS_ALPHA} L2",
        "optimizer": "sgd, lr 1.0 -> 0.1",
        "steps": steps,
        "dtype": "float64",
    }
    return [
        (
            "moons_seconds_scalar",
            scalar_s,
            "s",
            {**config, "runs": 1, "cpu_s": round(scalar_cpu_s, 6)},
        ),
        (
            "moons_seconds_tensor",
            tensor_s,
            "s",
            {**config, "runs": args.repeats, "cpu_s": round(tensor_cpu_s, 6)},
        ),
        ("moons_speedup_tensor_over_scalar", scalar_s / tensor_s, "x", {**config, "floor": 100.0}),
        ("moons_accuracy_scalar", float(np.mean((scalar_scores > 0) == (y > 0))), "", config),
        ("moons_accuracy_tensor", float(np.mean((tensor_scores > 0) == (y > 0))), "", config),
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    common = {"threads": args.threads, "torch": torch.__version__, "numpy": np.__version__}
    with threadpool_limits(limits=args.threads, user_api="blas"):
        figures = mlp_step_figures(args) + moons_figures(args)
    for name, value, unit, config in figures:
        print(
            json.dumps({"name": name, "value": round(value, 6), "unit": unit, **config, **common})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
