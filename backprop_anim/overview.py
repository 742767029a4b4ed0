"""What the training overview shows, read off a trace: keyframes and what each one computes.

The trace keeps the parameters at a few dozen snapshots. The overview picks a handful
of them (keyframes) and shows, for each, what that network does: for two inputs its
answer at every point of the plane (the decision boundary), for one input and one
output its curve against the data, and for a chain of single neurons the loss as a
function of the first weight, with its slope there. Evaluating a snapshot's network
is reading the trace, not training: the parameters are the trace's, the forward and
backward passes are the engine's own (``Network``), and nothing is updated.

The scene and the narration both call these functions, so what is said about the
picture is what the picture shows. Kept free of Manim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .engine.network import Network
from .engine.trainer import SATURATION_MARGIN
from .maths.activations import Activation, get_activation
from .maths.losses import get_loss
from .trace.model import Snapshot, Step, Trace
from .trace.scaling import input_scaling, target_scaling

KEYFRAMES = 7  # snapshots shown: enough to see the change, few enough to render fast
GRID = 96  # heat-map cells per side by default (the scene asks for one per pixel)
CURVE_POINTS = 160
LOG_SPAN = 30.0  # plot a loss on a log scale when its largest value exceeds this times the least
SEPARATES = 0.95  # accuracy at which the narration says the boundary separates the classes
SATURATED_AT_START = 0.25  # a hidden layer this saturated before training is worth a sentence

View = Literal["boundary", "fit", "weight", "none"]


def activations(trace: Trace) -> list[Activation]:
    """The engine's activation objects for the trace's layers (with leaky ReLU slopes)."""
    layers = trace.config.get("network", {}).get("layers", [])
    out = []
    for i, name in enumerate(trace.network.activations):
        params = {"slope": layers[i].get("slope", 0.01)} if name == "leaky_relu" else {}
        out.append(get_activation(name, **params))
    return out


def snapshot_network(trace: Trace, snap: Snapshot) -> Network:
    """The network as it was at ``snap`` (copies: evaluating it never changes the trace)."""
    return Network([w.copy() for w in snap.W], [b.copy() for b in snap.b], activations(trace))


def keyframes(trace: Trace, count: int = KEYFRAMES) -> list[Snapshot]:
    """About ``count`` snapshots, first and last included, spread over time and progress.

    Half of the spacing is even in steps, half even in how far the loss has come (on the
    scale the loss is plotted on), so a training that learns in its first few steps
    shows those steps instead of a row of finished networks.
    """
    snaps = trace.summary.snapshots
    if len(snaps) <= count:
        return list(snaps)
    steps = np.array([s.step for s in snaps], dtype=float)
    loss = np.array([s.loss for s in snaps], dtype=float)
    shown = np.log10(loss) if log_scale(loss) else loss
    moved = np.r_[0.0, np.cumsum(np.abs(np.diff(np.nan_to_num(shown))))]
    position = 0.5 * steps / (steps[-1] or 1.0) + 0.5 * moved / (moved[-1] or 1.0)
    if not moved[-1]:
        position = steps / (steps[-1] or 1.0)
    chosen: list[int] = []
    for target in np.linspace(0.0, 1.0, count):
        k = int(np.argmin(np.abs(position - target)))
        if k not in chosen:
            chosen.append(k)
    return [snaps[k] for k in sorted(chosen)]


def data_arrays(trace: Trace) -> tuple[np.ndarray, np.ndarray]:
    """The trace's display copy of the data: inputs and targets as trained on."""
    X = np.asarray(trace.data.get("X", []), dtype=np.float64)
    Y = np.asarray(trace.data.get("Y", []), dtype=np.float64)
    return X.reshape(len(X), -1), Y.reshape(len(Y), -1)


def display_inputs(trace: Trace, X: np.ndarray) -> np.ndarray:
    """Inputs in the data's own units: undo the training's input scaling."""
    scaling = input_scaling(trace)
    return X if scaling is None else scaling.raw(X)


def display_targets(trace: Trace, Y: np.ndarray) -> np.ndarray:
    """Targets (or outputs) in the data's own units: undo the training's target scaling."""
    scaling = target_scaling(trace)
    return Y if scaling is None else scaling.inverse(Y)


def view_of(trace: Trace) -> View:
    """Which picture of the data the overview draws for this network."""
    sizes = trace.network.sizes
    if all(n == 1 for n in sizes):
        return "weight"  # a chain of single neurons: the loss along its first weight
    X, _ = data_arrays(trace)
    if not len(X):
        return "none"
    kind = trace.data.get("kind")
    if sizes[0] == 2 and kind == "classification":
        return "boundary"
    if sizes[0] == 1 and sizes[-1] == 1 and kind == "regression":
        return "fit"
    return "none"


# --- two inputs: the decision boundary -------------------------------------------------


@dataclass(frozen=True)
class Plane:
    """The part of the input plane the heat map covers (the data plus a margin)."""

    x_range: tuple[float, float]
    y_range: tuple[float, float]


def plane(trace: Trace, margin: float = 0.12) -> Plane:
    X, _ = data_arrays(trace)
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-9)
    return Plane(
        (float(lo[0] - pad[0]), float(hi[0] + pad[0])),
        (float(lo[1] - pad[1]), float(hi[1] + pad[1])),
    )


def class_scores(trace: Trace, out: np.ndarray) -> np.ndarray:
    """Per-class scores in [0, 1] from output activations, ``[n][classes]``.

    One output unit is read as the trainer reads it (class 1 above one half); a softmax
    layer gives probabilities; other wide outputs are read by their largest unit.
    """
    if out.shape[1] == 1:
        p = np.clip(out[:, 0], 0.0, 1.0)
        return np.stack([1.0 - p, p], axis=1)
    if trace.network.activations[-1] == "softmax":
        return out
    return np.eye(out.shape[1])[np.argmax(out, axis=1)]


def boundary(
    trace: Trace, snap: Snapshot, area: Plane, cols: int = GRID, rows: int | None = None
) -> np.ndarray:
    """Class scores on a grid over ``area``: ``[rows][cols][classes]``, row 0 at the top.

    Cell centres, so a grid of the image's pixel size puts one cell under each pixel.
    """
    rows = rows or cols
    dx = (area.x_range[1] - area.x_range[0]) / cols
    dy = (area.y_range[1] - area.y_range[0]) / rows
    xs = area.x_range[0] + dx * (np.arange(cols) + 0.5)
    ys = (area.y_range[0] + dy * (np.arange(rows) + 0.5))[::-1]
    gx, gy = np.meshgrid(xs, ys)
    grid = np.c_[gx.ravel(), gy.ravel()]
    with np.errstate(over="ignore", invalid="ignore"):
        out = snapshot_network(trace, snap).forward(grid).activations[-1]
    return class_scores(trace, out).reshape(rows, cols, -1)


# --- one input, one output: the fitted curve -----------------------------------------------


def predict(trace: Trace, snap: Snapshot, X: np.ndarray) -> np.ndarray:
    """The outputs of the network at ``snap`` for inputs ``X``, in the targets' own units."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = snapshot_network(trace, snap).forward(np.asarray(X, dtype=np.float64))
    return display_targets(trace, out.activations[-1])


def fit_curve(
    trace: Trace, snap: Snapshot, x_range: tuple[float, float], points: int = CURVE_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """The network's output over ``x_range``, both in the data's own units (scaling undone:
    ``x_range`` and the returned inputs are raw, the network is fed them scaled)."""
    xs = np.linspace(*x_range, points)
    scaling = input_scaling(trace)
    fed = xs[:, None] if scaling is None else scaling.scaled(xs[:, None])
    return xs, predict(trace, snap, fed)[:, 0]


def output_reach(trace: Trace) -> tuple[float, float] | None:
    """The values a bounded output activation can produce, in the targets' units."""
    low, high = activations(trace)[-1].output_range
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    ends = display_targets(trace, np.array([[low], [high]]))[:, 0]
    return float(ends.min()), float(ends.max())


def targets_out_of_reach(trace: Trace) -> float:
    """Fraction of the targets that the output activation can never produce."""
    reach = output_reach(trace)
    _, Y = data_arrays(trace)
    if reach is None or not len(Y):
        return 0.0
    shown = display_targets(trace, Y)
    return float(np.mean((shown <= reach[0]) | (shown >= reach[1])))


# --- a chain of single neurons: the loss along one weight -----------------------------------


def _snapshot_data(trace: Trace) -> tuple[np.ndarray, np.ndarray]:
    """The samples a snapshot's loss is computed on, as the trainer chose them."""
    X, Y = data_arrays(trace)
    idx = trace.summary.snapshot_samples or list(range(len(X)))
    return X[idx], Y[idx]


def loss_along_weight(
    trace: Trace,
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    where: tuple[int, int, int],
    ws: np.ndarray,
) -> np.ndarray:
    """L(w): the loss on ``X, Y`` of the network ``weights, biases`` with the weight at
    ``where`` = (layer, unit, input) set to each of ``ws``, every other parameter held.

    The one function behind every picture of the loss along a weight: the overview's
    (on the data, at a snapshot) and the backward pass's slope beat (on a step's batch,
    at that step's parameters). It evaluates the engine's own forward pass on copies;
    nothing is trained or changed.
    """
    layer, unit, source = where
    loss = get_loss(trace.network.loss)
    net = Network([w.copy() for w in weights], [b.copy() for b in biases], activations(trace))
    out = np.empty(len(ws))
    with np.errstate(over="ignore", invalid="ignore"):
        for n, w in enumerate(ws):
            net.W[layer][unit, source] = w
            out[n] = loss.value(net.forward(X).activations[-1], Y)
    return out


def weight_loss(trace: Trace, snap: Snapshot, ws: np.ndarray, layer: int = 0) -> np.ndarray:
    """L(w): the loss on the data with weight ``(layer, 0, 0)`` set to each of ``ws``.

    The other parameters keep their values at ``snap``, so L at the snapshot's own
    weight is the snapshot's loss.
    """
    X, Y = _snapshot_data(trace)
    return loss_along_weight(trace, snap.W, snap.b, X, Y, (layer, 0, 0), ws)


def step_weight_loss(
    trace: Trace, step: Step, layer: int, unit: int, source: int, ws: np.ndarray
) -> np.ndarray:
    """L(w) on ``step``'s batch, the weight ``(layer, unit, source)`` set to each of ``ws``
    and the rest at this step's values (before the update): at the step's own weight it is
    the step's loss, and its slope there is the step's traced gradient."""
    return loss_along_weight(
        trace,
        [L.W for L in step.layers],
        [L.b for L in step.layers],
        step.x,
        step.y,
        (layer, unit, source),
        ws,
    )


def step_weight_curve(
    trace: Trace, step: Step, layer: int, unit: int, source: int, points: int = CURVE_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """The w axis and L(w) for the slope beat: centred on this step's weight, wide enough
    that the update's step fits (three steps each side) and the curve's bend away from its
    tangent shows (at least 1 each side)."""
    L = step.layers[layer]
    w = float(L.W[unit, source])
    span = max(3.0 * abs(float(L.W_next[unit, source]) - w), 1.0)
    ws = np.linspace(w - span, w + span, points)
    return ws, step_weight_loss(trace, step, layer, unit, source, ws)


def weight_slope(trace: Trace, snap: Snapshot, layer: int = 0) -> float:
    """dL/dw at ``snap`` for weight ``(layer, 0, 0)``, by the engine's backward pass."""
    X, Y = _snapshot_data(trace)
    loss = get_loss(trace.network.loss)
    net = snapshot_network(trace, snap)
    with np.errstate(over="ignore", invalid="ignore"):
        grads = net.backward(net.forward(X), Y, loss)
    return float(grads.grad_W[layer][0, 0])


def weight_range(trace: Trace, frames: list[Snapshot], layer: int = 0) -> tuple[float, float]:
    """A w axis that holds every keyframe's weight, with room on both sides."""
    ws = [float(s.W[layer][0, 0]) for s in frames]
    lo, hi = min(ws), max(ws)
    pad = max(0.5 * (hi - lo), 1.0)
    return lo - pad, hi + pad


# --- pre-activations ------------------------------------------------------------------------


def saturating_z(activation: str) -> float | None:
    """|z| beyond which an activation counts as saturated (as the trainer counts it)."""
    m = SATURATION_MARGIN
    if activation == "tanh":
        return float(np.arctanh(1.0 - m))
    if activation == "sigmoid":
        return float(np.log((1.0 - m) / m))
    return None


def histogram_layers(trace: Trace, limit: int = 3) -> list[int]:
    """Layers whose pre-activations are worth a histogram: the hidden ones (or the only one)."""
    n = len(trace.network.layer_names)
    hidden = list(range(n - 1)) or [0]
    return hidden[:limit]


def log_scale(values: list[float] | np.ndarray) -> bool:
    """True when positive values span more than :data:`LOG_SPAN` (about a decade and a half)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return bool(len(v) and v.min() > 0 and v.max() / v.min() > LOG_SPAN)
