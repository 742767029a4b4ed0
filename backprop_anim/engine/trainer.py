"""Training with a trace: every operation of the detailed steps, a summary of the rest.

The loop is plain vectorized numpy; the bookkeeping for a detailed step (events and
per-layer tensors) is only done for the steps that will be animated, so a training of
thousands of steps costs little more than the bare loop (benchmarks/engine_bench.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..config.loader import LoadedConfig
from ..config.schema import Config
from ..maths.losses import Loss, get_loss
from ..trace.model import LayerStep, NetworkInfo, Snapshot, Step, Summary, Trace
from .data import Dataset, load_dataset
from .network import (
    PER_SAMPLE_MAX_BATCH,
    BackwardResult,
    ForwardResult,
    Network,
    per_sample_gradients,
)
from .optimizers import get_optimizer

Z_RANGE = (-6.0, 6.0)
Z_BIN_COUNT = 48
Z_BINS = np.linspace(*Z_RANGE, Z_BIN_COUNT + 1)
DISPLAY_SAMPLES = 2000  # data kept in the trace (the first samples of the data set)
# Work allowed for one snapshot's figures, in multiply-adds of the forward pass (a few
# milliseconds): a wide network evaluates an evenly spread subset of the display data,
# so that snapshots stay a small part of a long training (benchmarks/engine_bench.py).
SNAPSHOT_MACS = 50_000_000
MIN_SNAPSHOT_SAMPLES = 200
# An activation within this margin of its limit counts as saturated (tanh: |a| > 0.95;
# sigmoid: a < 0.05 or a > 0.95), as docs/trace-format.md documents for Snapshot.saturation.
SATURATION_MARGIN = 0.05
SOFTMAX_DELTA = "delta_j = a_j ((partial L)/(partial a_j) - sum_k (partial L)/(partial a_k) a_k)"


def detail_step_indices(cfg: Config) -> list[int]:
    """The steps traced in full detail: configured, or all of a short run, or first and last."""
    n = cfg.training.steps
    wanted = cfg.trace.detail_steps
    if wanted is None:
        wanted = list(range(n)) if n <= 10 else [0, n - 1]
    return sorted({k + n if k < 0 else k for k in wanted})


class BatchSampler:
    """Online, mini-batch or full-batch order; epoch-wise shuffling, seeded."""

    def __init__(self, n: int, batch_size: int | str, shuffle: bool, seed: int):
        self.n = n
        self.size = n if batch_size == "full" else min(int(batch_size), n)
        self.shuffle = shuffle and self.size < n
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(n)
        self.pos = n  # forces a new epoch on first use

    def next(self) -> np.ndarray:
        if self.size == self.n:
            return np.arange(self.n)
        if self.pos + self.size > self.n:
            self.order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)
            self.pos = 0
        idx = self.order[self.pos : self.pos + self.size]
        self.pos += self.size
        return idx


def _saturation(act_name: str, a: np.ndarray) -> float:
    m = SATURATION_MARGIN
    if act_name == "tanh":
        return float(np.mean(np.abs(a) > 1.0 - m))
    if act_name in ("sigmoid", "softmax"):
        return float(np.mean((a < m) | (a > 1.0 - m)))
    if act_name == "relu":
        return float(np.mean(a <= 0.0))
    return 0.0


def _accuracy(data: Dataset, a_out: np.ndarray, idx: np.ndarray) -> float | None:
    if data.classes is None:
        return None
    pred = (a_out[:, 0] > 0.5).astype(int) if a_out.shape[1] == 1 else a_out.argmax(axis=1)
    return float(np.mean(pred == data.classes[idx]))


def _events(
    net: Network,
    info: NetworkInfo,
    fwd: ForwardResult,
    bwd: BackwardResult,
    loss: Loss,
    loss_terms: np.ndarray,
    loss_value: float,
    Y: np.ndarray,
    updates: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The ordered list of operations of one step, as the engine computed them."""
    ev: list[dict[str, Any]] = []
    n = len(net.W)

    def add(phase: str, op: str, layer: int | None, unit: int | None, formula: str, **values):
        item: dict[str, Any] = {"i": len(ev), "phase": phase, "op": op}
        if layer is not None:
            item["layer"] = layer
        if unit is not None:
            item["unit"] = unit
        item["formula"] = formula
        item.update(values)
        ev.append(item)

    for i in range(n):
        act = net.activations[i]
        for j in range(net.W[i].shape[0]):
            add(
                "forward",
                "preactivation",
                i,
                j,
                "z_j = sum_i w_(j i) a_i + b_j",
                uses=["W", "a_prev", "b"],
                b=float(net.b[i][j]),
                value=fwd.zs[i][:, j].tolist(),
            )
            add(
                "forward",
                "activation",
                i,
                j,
                act.formula_text,
                uses=["z"],
                value=fwd.activations[i + 1][:, j].tolist(),
            )
    for k in range(loss_terms.shape[1]):
        add(
            "loss",
            "loss_term",
            n - 1,
            k,
            loss.formula_text,
            target=Y[:, k].tolist(),
            output=fwd.activations[-1][:, k].tolist(),
            value=loss_terms[:, k].tolist(),
        )
    add("loss", "loss", None, None, loss.formula_text, value=loss_value)
    for i in range(n - 1, -1, -1):
        act = net.activations[i]
        units = net.W[i].shape[0]
        fused = i == n - 1 and bwd.fused_output
        for j in range(units):
            add(
                "backward",
                "dL_da",
                i,
                j,
                loss.gradient_text
                if i == n - 1
                else "(partial L)/(partial a_j) = sum_k w_(k j) delta_k",
                uses=["a", "y"] if i == n - 1 else ["W_next_layer", "delta_next_layer"],
                value=bwd.dL_da[i][:, j].tolist(),
            )
            add(
                "backward",
                "act_derivative",
                i,
                j,
                act.derivative_text,
                uses=["z", "a"],
                value=bwd.act_derivative[i][:, j].tolist(),
            )
            add(
                "backward",
                "delta",
                i,
                j,
                "delta = a - y (closed form of the chain rule for this loss)"
                if fused
                else (
                    "delta_j = (partial L)/(partial a_j) dot f'(z_j)"
                    if act.elementwise
                    else SOFTMAX_DELTA
                ),
                uses=["dL_da", "act_derivative"],
                value=bwd.deltas[i][:, j].tolist(),
            )
        for j in range(units):
            add(
                "backward",
                "grad_W",
                i,
                j,
                "(partial L)/(partial w_(j i)) = sum_batch delta_j a_i",
                uses=["delta", "a_prev"],
                value=bwd.grad_W[i][j].tolist(),
            )
            add(
                "backward",
                "grad_b",
                i,
                j,
                "(partial L)/(partial b_j) = sum_batch delta_j",
                uses=["delta"],
                value=float(bwd.grad_b[i][j]),
            )
    for u in updates:
        i = u["layer"]
        for j in range(net.W[i].shape[0]):
            add(
                "update",
                "update_W",
                i,
                j,
                u["formula"],
                applied=u["updated"],
                reason=u["reason"],
                uses=["W", "grad_W", *u["state_terms"]],
                learning_rate=info.optimizer["learning_rate"],
                value=u["W_next"][j].tolist(),
            )
            add(
                "update",
                "update_b",
                i,
                j,
                u["formula_b"],
                applied=u["biases_updated"],
                reason=u["reason_b"],
                uses=["b", "grad_b", *sorted(u["state_b"])],
                learning_rate=info.optimizer["learning_rate"],
                value=float(u["b_next"][j]),
            )
    return ev


def network_info(cfg: Config) -> NetworkInfo:
    net = cfg.network
    return NetworkInfo(
        input_names=net.input_names(),
        layer_names=[net.layer_name(i) for i in range(len(net.layers))],
        unit_names=[net.unit_names(i) for i in range(len(net.layers))],
        activations=[layer.activation for layer in net.layers],
        trainable=[layer.trainable for layer in net.layers],
        loss=cfg.training.loss,
        optimizer=cfg.training.optimizer.params() | {"name": cfg.training.optimizer.name},
    )


def _warnings(cfg: Config, data: Dataset) -> list[str]:
    out: list[str] = []
    act = cfg.network.layers[-1].activation
    lo, hi = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "softmax": (0.0, 1.0)}.get(
        act, (-np.inf, np.inf)
    )
    if data.Y.min() < lo or data.Y.max() > hi:
        out.append(
            f"targets span [{data.Y.min():.4g}, {data.Y.max():.4g}] but a {act} output can only "
            f"produce values in ({lo:g}, {hi:g}): scale the targets (data.scale_targets) or use a "
            "linear output layer"
        )
    return out


def _norm(g: np.ndarray) -> float:
    """Frobenius norm; rescaled when squaring large (finite) entries would overflow."""
    norm = float(np.linalg.norm(g))
    if np.isfinite(norm) or not np.isfinite(g).all():
        return norm
    top = float(np.abs(g).max())
    return top * float(np.linalg.norm(g / top))


def _first_nonfinite(arrays: list[np.ndarray]) -> int | None:
    for i, arr in enumerate(arrays):
        if not np.isfinite(arr).all():
            return i
    return None


def train(loaded: LoadedConfig, *, on_step: Callable[[int, int], None] | None = None) -> Trace:
    """Train the configured network and return its trace.

    If a value becomes NaN or infinite, training stops there and ``trace.diverged``
    says at which step, in which phase and layer; the caller decides how to report it.
    """
    cfg = loaded.config
    data = load_dataset(loaded)
    net = Network.from_config(cfg)
    info = network_info(cfg)
    loss = get_loss(cfg.training.loss)
    opt = get_optimizer(cfg.training.optimizer.name, **cfg.training.optimizer.params())
    n_layers = len(net.W)
    steps = cfg.training.steps
    detail = set(detail_step_indices(cfg))
    sampler = BatchSampler(
        len(data.X), cfg.training.batch_size, cfg.training.shuffle, cfg.training.seed
    )
    layer_rng = np.random.default_rng([cfg.training.seed, 1])
    trainable = [i for i, layer in enumerate(cfg.network.layers) if layer.trainable]
    opt_state: dict[str, Any] = {}
    update_count: dict[str, int] = {}

    display_idx = np.arange(min(len(data.X), DISPLAY_SAMPLES))
    n_eval = min(
        len(display_idx), max(MIN_SNAPSHOT_SAMPLES, SNAPSHOT_MACS // cfg.network.n_edges())
    )
    snap_idx = np.unique(np.linspace(0, len(display_idx) - 1, n_eval).round().astype(int))
    snap_every = cfg.trace.snapshot_every or max(1, steps // 50)

    def snapshot(step: int) -> Snapshot:
        fwd = net.forward(data.X[snap_idx])
        return Snapshot(
            step=step,
            W=[w.copy() for w in net.W],
            b=[b.copy() for b in net.b],
            loss=loss.value(fwd.activations[-1], data.Y[snap_idx]),
            accuracy=_accuracy(data, fwd.activations[-1], snap_idx),
            # Equal-width bins given as (count, range) take numpy's counting path; an
            # explicit edge array would sort every z (3x slower on a 2000-sample snapshot).
            z_hist=[
                np.histogram(np.clip(z, *Z_RANGE), bins=Z_BIN_COUNT, range=Z_RANGE)[0].tolist()
                for z in fwd.zs
            ],
            saturation=[
                _saturation(act.name, a)
                for act, a in zip(net.activations, fwd.activations[1:], strict=True)
            ],
        )

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        initial = snapshot(0)
    summary = Summary(
        loss=[],
        grad_norms=[],
        updated_layers=[],
        gradient_evaluations=[],
        snapshots=[initial],
        snapshot_samples=snap_idx.tolist(),
        z_bins=Z_BINS.tolist(),
    )
    if not np.isfinite(summary.snapshots[0].loss):
        # Nothing has trained yet: the data or the initial weights are the problem.
        raise loaded.error(
            "the initial network's loss on the data is NaN or infinite: scale the inputs "
            "(data.scale_inputs) or draw smaller initial weights",
            "data",
        )
    detailed: list[Step] = []
    diverged: dict[str, Any] | None = None
    grad_evals = 0
    names = info.layer_names

    def fail(step: int, phase: str, layer: int | None, what: str) -> dict[str, Any]:
        where = f" of layer '{names[layer]}'" if layer is not None else ""
        lr = cfg.training.optimizer.learning_rate
        msg = (
            f"training diverged at step {step}: {what} became NaN or infinite in the "
            f"{phase} pass{where}. Try a smaller learning rate (now {lr:g}), a different "
            "initialisation, or scaled inputs/targets."
        )
        return {"step": step, "phase": phase, "layer": layer, "message": msg}

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for step in range(steps):
            idx = sampler.next()
            X, Y = data.X[idx], data.Y[idx]
            fwd = net.forward(X)
            bad = _first_nonfinite(fwd.activations[1:])
            if bad is not None:
                diverged = fail(step, "forward", bad, "an activation")
                break
            loss_terms = loss.per_output(fwd.activations[-1], Y)
            loss_value = float(loss_terms.sum())
            if not np.isfinite(loss_value):
                diverged = fail(step, "loss", None, "the loss")
                break
            bwd = net.backward(fwd, Y, loss)
            grad_evals += n_layers
            # A norm is finite exactly when every entry is (_norm rescales rather than
            # overflow), so the norms for the summary double as the divergence check.
            grad_norms = [_norm(g) for g in bwd.grad_W]
            bad = next((i for i, g in enumerate(grad_norms) if not np.isfinite(g)), None)
            if bad is not None:
                diverged = fail(step, "backward", bad, "a gradient")
                break

            if cfg.training.update == "random_layer":
                chosen = {int(layer_rng.choice(trainable))} if trainable else set()
            else:
                chosen = set(trainable)
            # Optimizers return new arrays and never write into the old ones, so the
            # lists of the arrays used in the forward pass are the old values.
            W_old = list(net.W)
            b_old = list(net.b)
            updates = []
            for i in range(n_layers):
                upd_w = i in chosen
                upd_b = upd_w and cfg.training.update_biases
                state_w: dict[str, np.ndarray] = {}
                state_b: dict[str, np.ndarray] = {}
                if upd_w:
                    update_count[f"W{i}"] = update_count.get(f"W{i}", 0) + 1
                    net.W[i], state_w = opt.update(
                        f"W{i}",
                        net.W[i],
                        bwd.grad_W[i],
                        opt_state,
                        update_count[f"W{i}"],
                        decayed=True,
                    )
                if upd_b:
                    update_count[f"b{i}"] = update_count.get(f"b{i}", 0) + 1
                    net.b[i], state_b = opt.update(
                        f"b{i}", net.b[i], bwd.grad_b[i], opt_state, update_count[f"b{i}"]
                    )
                if not cfg.network.layers[i].trainable:
                    reason = "frozen (trainable: false)"
                elif not upd_w:
                    reason = "not the layer chosen this step (update: random_layer)"
                else:
                    reason = ""
                updates.append(
                    {
                        "layer": i,
                        "updated": upd_w,
                        "biases_updated": upd_b,
                        "reason": reason,
                        "reason_b": reason
                        or ("" if upd_b else "biases are not updated (update_biases: false)"),
                        "formula": opt.formula(decayed=True),
                        "formula_b": opt.formula(decayed=False).replace("w", "b"),
                        "state_terms": sorted(state_w),
                        "state_w": state_w,
                        "state_b": state_b,
                        "W_next": net.W[i],
                        "b_next": net.b[i],
                    }
                )
            bad = _first_nonfinite(net.W + net.b)
            if bad is not None:
                diverged = fail(step, "update", bad % n_layers, "a parameter")
                break

            summary.loss.append(loss_value)
            summary.grad_norms.append(grad_norms)
            summary.updated_layers.append(sorted(chosen))
            summary.gradient_evaluations.append(grad_evals)

            if step in detail:
                after = net.forward(X)
                loss_after = loss.value(after.activations[-1], Y)
                if not np.isfinite(loss_after):
                    # The update itself overflowed: the step cannot be shown as finished.
                    diverged = fail(step, "update", None, "the loss after the update")
                    break
                if len(idx) <= PER_SAMPLE_MAX_BATCH:
                    sample_W, sample_b = per_sample_gradients(fwd, bwd)
                else:
                    sample_W = sample_b = [None] * n_layers
                layers = [
                    LayerStep(
                        name=names[i],
                        W=W_old[i],
                        b=b_old[i],
                        z=fwd.zs[i],
                        a=fwd.activations[i + 1],
                        delta=bwd.deltas[i],
                        grad_W=bwd.grad_W[i],
                        grad_b=bwd.grad_b[i],
                        W_next=net.W[i].copy(),
                        b_next=net.b[i].copy(),
                        dL_da=bwd.dL_da[i],
                        act_derivative=bwd.act_derivative[i],
                        updated=updates[i]["updated"],
                        update_reason=updates[i]["reason"],
                        biases_updated=updates[i]["biases_updated"],
                        state={k: v.copy() for k, v in updates[i]["state_w"].items()},
                        state_b={k: v.copy() for k, v in updates[i]["state_b"].items()},
                        grad_W_per_sample=sample_W[i],
                        grad_b_per_sample=sample_b[i],
                    )
                    for i in range(n_layers)
                ]
                old_net = Network(W_old, b_old, net.activations)
                detailed.append(
                    Step(
                        step=step,
                        samples=idx.tolist(),
                        loss=loss_value,
                        loss_after=loss_after,
                        x=X.copy(),
                        y=Y.copy(),
                        loss_terms=loss_terms,
                        layers=layers,
                        events=_events(
                            old_net, info, fwd, bwd, loss, loss_terms, loss_value, Y, updates
                        ),
                    )
                )
            if (step + 1) % snap_every == 0 or step + 1 == steps:
                snap = snapshot(step + 1)
                if not np.isfinite(snap.loss):
                    # This step's batch was fine but other samples overflow with the new
                    # parameters: the next step starts from them, so it stops there.
                    diverged = fail(step + 1, "forward", None, "the loss on the data set")
                    break
                summary.snapshots.append(snap)
            if on_step is not None:
                on_step(step + 1, steps)

    shown = display_idx
    data_json: dict[str, Any] = {
        "kind": data.kind,
        "n": len(data.X),
        "X": data.X[shown].tolist(),
        "Y": data.Y[shown].tolist(),
        "classes": None if data.classes is None else data.classes[shown].tolist(),
        "scaling": None if data.scaling is None else data.scaling.to_json(),
        "input_scaling": None if data.input_scaling is None else data.input_scaling.to_json(),
    }
    return Trace(
        config=cfg.model_dump(mode="json"),
        network=info,
        steps=detailed,
        summary=summary,
        data=data_json,
        diverged=diverged,
        warnings=_warnings(cfg, data),
    )
