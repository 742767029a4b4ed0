"""How fast the engine trains when tracing is reduced to the summary, against bare numpy.

The issue's target: a 784-128-10 network on 10,000 random samples, mini-batches of
32, at least 100 steps per second on a 2-core machine, with only step 0 traced in
full detail. The same training is also run as a plain numpy loop (forward, backward,
SGD, nothing recorded) so the printout shows what the engine's bookkeeping (summary,
divergence checks, snapshots, the one detailed step) costs on top of the arithmetic.

Run:  .venv/bin/python benchmarks/engine_bench.py [--steps 1000] [--repeat 3]
      [--blas-threads 1]

Figures vary with other work on the machine (the load average is printed): OpenBLAS
threads spin while they wait for a core, so on a busy 2-core machine one BLAS thread is
much faster for these small matrices than two.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import time

import numpy as np

from backprop_anim.config.loader import config_from_dict
from backprop_anim.engine.trainer import train

SIZES = (784, 128, 10)
N_SAMPLES = 10_000
BATCH = 32
LEARNING_RATE = 0.1
TARGET_STEPS_PER_SECOND = 100


def random_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Uniform inputs in [0, 1] and random class labels: the arithmetic is what matters."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, size=(N_SAMPLES, SIZES[0]))
    labels = rng.integers(0, SIZES[-1], size=N_SAMPLES)
    return X, labels


def engine_config(X: np.ndarray, labels: np.ndarray, steps: int) -> dict:
    return {
        "name": "engine-bench",
        "network": {
            "inputs": SIZES[0],
            "layers": [
                {"units": SIZES[1], "activation": "sigmoid"},
                {"units": SIZES[2], "activation": "softmax"},
            ],
            "init": {"scheme": "xavier_uniform", "seed": 0},
        },
        "data": {
            "samples": [{"x": x, "y": int(y)} for x, y in zip(X.tolist(), labels, strict=True)]
        },
        "training": {
            "loss": "cross_entropy",
            "optimizer": {"name": "sgd", "learning_rate": LEARNING_RATE},
            "batch_size": BATCH,
            "steps": steps,
        },
        "trace": {"detail_steps": [0]},
    }


def time_engine(cfg_dict: dict) -> tuple[float, float]:
    """Steps per second of ``train`` from the end of step 1 to the end of the last step.

    Timing starts after the first step so that the one-off work (loading the data,
    building the network, the detailed step 0 and the initial snapshot) is reported
    separately as setup and the figure is the steady rate of a long training.
    """
    loaded = config_from_dict(cfg_dict, source="<benchmark>")
    marks: dict[int, float] = {}

    def on_step(done: int, total: int) -> None:
        if done in (1, total):
            marks[done] = time.perf_counter()

    start = time.perf_counter()
    trace = train(loaded, on_step=on_step)
    end = time.perf_counter()
    steps = len(trace.summary.loss)
    assert trace.diverged is None and steps == cfg_dict["training"]["steps"]
    rate = (steps - 1) / (marks[steps] - marks[1])
    return rate, end - start


def time_plain_numpy(X: np.ndarray, labels: np.ndarray, steps: int) -> float:
    """The same network, data, batches and SGD rule with no bookkeeping at all."""
    rng = np.random.default_rng(0)
    limit1 = np.sqrt(6.0 / (SIZES[0] + SIZES[1]))
    limit2 = np.sqrt(6.0 / (SIZES[1] + SIZES[2]))
    W1 = rng.uniform(-limit1, limit1, size=(SIZES[1], SIZES[0]))
    W2 = rng.uniform(-limit2, limit2, size=(SIZES[2], SIZES[1]))
    b1, b2 = np.zeros(SIZES[1]), np.zeros(SIZES[2])
    Y = np.eye(SIZES[2])[labels]
    order = rng.permutation(N_SAMPLES)
    pos = 0
    start = time.perf_counter()
    for _ in range(steps):
        if pos + BATCH > N_SAMPLES:
            order, pos = rng.permutation(N_SAMPLES), 0
        idx = order[pos : pos + BATCH]
        pos += BATCH
        x, y = X[idx], Y[idx]
        h = 1.0 / (1.0 + np.exp(-(x @ W1.T + b1)))
        z2 = h @ W2.T + b2
        e = np.exp(z2 - z2.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        d2 = (p - y) / BATCH
        d1 = (d2 @ W2) * h * (1.0 - h)
        # In place, one temporary per gradient: the fastest plain form (two large
        # temporaries alive at once cost page faults on every step with glibc).
        grad_W2 = d2.T @ h
        grad_W2 *= LEARNING_RATE
        W2 -= grad_W2
        b2 -= LEARNING_RATE * d2.sum(axis=0)
        grad_W1 = d1.T @ x
        grad_W1 *= LEARNING_RATE
        W1 -= grad_W1
        b1 -= LEARNING_RATE * d1.sum(axis=0)
    return steps / (time.perf_counter() - start)


def blas_threads(limit: int | None):
    """A context limiting BLAS threads (threadpoolctl, if installed), and a description."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        if limit is not None:
            raise SystemExit(
                "--blas-threads needs threadpoolctl (pip install threadpoolctl)"
            ) from None
        return contextlib.nullcontext(), "BLAS threads: library default"
    if limit is None:
        threads = sorted({pool["num_threads"] for pool in threadpool_info()})
        return contextlib.nullcontext(), f"BLAS threads: {threads} (library default)"
    return threadpool_limits(limits=limit), f"BLAS threads: {limit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="training steps per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit BLAS threads (small matrices often run faster on one)",
    )
    args = parser.parse_args()

    X, labels = random_data()
    t0 = time.perf_counter()
    cfg = engine_config(X, labels, args.steps)
    config_from_dict(cfg, source="<benchmark>")
    validate_s = time.perf_counter() - t0
    # The same training with only the first and the last snapshot: what snapshots cost.
    few_snapshots = copy.deepcopy(cfg)
    few_snapshots["trace"]["snapshot_every"] = args.steps

    limit, threads = blas_threads(args.blas_threads)
    load = os.getloadavg()[0]
    with limit:
        engine, bare, plain = [], [], []
        for _ in range(args.repeat):  # interleaved, so a busy moment hits all three
            engine.append(time_engine(cfg))
            bare.append(time_engine(few_snapshots)[0])
            plain.append(time_plain_numpy(X, labels, args.steps))
    engine_rate = max(r for r, _ in engine)
    wall = min(w for _, w in engine)
    bare_rate, plain_rate = max(bare), max(plain)

    print(
        f"network {'-'.join(map(str, SIZES))}, {N_SAMPLES} random samples, batch {BATCH}, "
        f"{args.steps} steps, best of {args.repeat}; {threads}; "
        f"{os.cpu_count()} cores, load average {load:.1f} at start"
    )
    print(f"config validation (10,000 inline samples): {validate_s:.2f} s")
    print(
        f"engine, summary + step 0 in detail:   {engine_rate:8.1f} steps/s "
        f"(whole train() call {wall:.2f} s, incl. data loading)"
    )
    print(f"engine, snapshots only at both ends:  {bare_rate:8.1f} steps/s")
    print(f"plain numpy loop:                     {plain_rate:8.1f} steps/s")
    print(f"overhead ratio (plain / engine):      {plain_rate / engine_rate:8.2f}x")
    verdict = "meets" if engine_rate >= TARGET_STEPS_PER_SECOND else "MISSES"
    print(f"target >= {TARGET_STEPS_PER_SECOND} steps/s: {verdict}")


if __name__ == "__main__":
    main()
