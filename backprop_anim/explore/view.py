"""What the explore page shows, as JSON: every number as text made by ``fmt``.

The page never rounds a number: each one arrives here as the text
:func:`backprop_anim.numbers.fmt` makes of a trace value (the digits the videos show),
next to the raw value only where the picture needs a size or a sign (an edge's width
and colour, a point on a curve). Each event of a detailed step comes with its title
and its formula with numbers, built by :mod:`backprop_anim.visual.equations` (the
scenes' equations) in the LaTeX spelling the page typesets (one event per request).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.optimizers import OPTIMIZERS
from ..maths.activations import ACTIVATIONS
from ..maths.losses import LOSSES
from ..numbers import fmt
from ..trace.model import Step, Trace
from ..visual import equations as E
from ..visual.theme import THEMES
from .session import State

PHASE_NAMES = {"forward": "Forward", "loss": "Loss", "backward": "Backward", "update": "Update"}


def texts(values: Any, digits: int) -> Any:
    """Nested lists of numbers as nested lists of ``fmt`` texts."""

    def walk(item: Any) -> Any:
        return [walk(v) for v in item] if isinstance(item, list) else fmt(item, digits)

    return walk(np.asarray(values, dtype=np.float64).tolist())


def _title(trace: Trace, ev: dict[str, Any]) -> str:
    info = trace.network
    op, i, j = ev["op"], ev.get("layer"), ev.get("unit")
    phase = PHASE_NAMES[ev["phase"]]
    if op == "loss":
        return "Loss · the whole step's loss"
    unit = info.unit_names[i][j] if i is not None and j is not None else ""
    layer = info.layer_names[i] if i is not None else ""
    words = {
        "preactivation": f"weighted sum z of {unit}",
        "activation": f"activation a of {unit}",
        "loss_term": f"{unit}'s share of the loss",
        "dL_da": f"slope ∂L/∂a of {unit}",
        "act_derivative": f"derivative f′(z) of {unit}",
        "delta": f"delta δ of {unit}",
        "grad_W": f"gradients of the weights into {unit}",
        "grad_b": f"gradient of the bias of {unit}",
        "update_W": f"new weights into {unit}",
        "update_b": f"new bias of {unit}",
    }[op]
    return f"{phase} · {layer} · {words}"


def event_formula(trace: Trace, step: Step, ev: dict[str, Any], digits: int) -> str:
    """The LaTeX of one event's formula with the step's numbers."""
    op, i, j = ev["op"], ev.get("layer"), ev.get("unit")
    if op == "preactivation":
        expr = E.weighted_sum(trace, step, i, j, digits)
    elif op == "activation":
        expr = E.activation(trace, step, i, j, digits)
    elif op == "loss_term":
        expr = E.loss_term(trace, step, j, digits)
    elif op == "loss":
        expr = E.loss(trace, step, digits)
    elif op == "dL_da":
        expr = E.slope(trace, step, i, j, digits)
    elif op == "act_derivative":
        expr = E.derivative(trace, step, i, j, digits)
    elif op == "delta":
        expr = E.delta(trace, step, i, j, digits)
    elif op == "grad_W":
        expr = E.weight_gradients(trace, step, i, j, digits)
    elif op == "grad_b":
        expr = E.bias_gradient(trace, step, i, j, digits)
    elif op == "update_W":
        expr = E.weight_updates(trace, step, i, j, digits)
    elif op == "update_b":
        expr = E.weight_updates(trace, step, i, j, digits, bias=True)
    else:  # pragma: no cover - the engine writes only the operations above
        raise ValueError(op)
    latex = expr.latex
    if "&" in latex:
        latex = r"\begin{aligned}" + latex + r"\end{aligned}"
    return latex


def _note(trace: Trace, step: Step, ev: dict[str, Any]) -> str:
    notes = []
    if len(step.samples) > 1 and ev["op"] not in (
        "grad_W",
        "grad_b",
        "update_W",
        "update_b",
        "loss",
    ):
        notes.append(f"first sample of a batch of {len(step.samples)}")
    if ev["phase"] == "update" and not ev.get("applied", True):
        notes.append(f"not updated: {ev.get('reason') or 'frozen'}")
    return "; ".join(notes)


def step_view(trace: Trace, step: Step, digits: int) -> dict[str, Any]:
    """Every number of one detailed step (first sample of its batch) and its events."""
    layers = []
    for layer in step.layers:
        layers.append(
            {
                "W": texts(layer.W, digits),
                "W_raw": layer.W.tolist(),
                "b": texts(layer.b, digits),
                "z": texts(layer.z[0], digits),
                "a": texts(layer.a[0], digits),
                "a_raw": layer.a[0].tolist(),
                "dL_da": texts(layer.dL_da[0], digits),
                "act_derivative": texts(layer.act_derivative[0], digits),
                "delta": texts(layer.delta[0], digits),
                "grad_W": texts(layer.grad_W, digits),
                "grad_b": texts(layer.grad_b, digits),
                "W_next": texts(layer.W_next, digits),
                "b_next": texts(layer.b_next, digits),
                "updated": layer.updated,
            }
        )
    events = [
        {
            "i": ev["i"],
            "phase": ev["phase"],
            "op": ev["op"],
            "layer": ev.get("layer"),
            "unit": ev.get("unit"),
            "title": _title(trace, ev),
            "note": _note(trace, step, ev),
        }
        for ev in step.events
    ]
    return {
        "step": step.step,
        "batch": len(step.samples),
        "sample": step.samples[0],
        "x": texts(step.x[0], digits),
        "y": texts(step.y[0], digits),
        "loss": fmt(step.loss, digits),
        "loss_after": fmt(step.loss_after, digits),
        "loss_terms": texts(step.loss_terms.sum(axis=0), digits),
        "layers": layers,
        "events": events,
        "overview": {
            "phase": "step",
            "title": f"The whole step {step.step}: every number of the forward and backward pass",
            "latex": E.loss_change(step, digits).latex,
            "note": "the loss of this batch before the update, and after it"
            + ("" if len(step.samples) == 1 else f" (a batch of {len(step.samples)})")
            + "; ⇤ or Play replays the step operation by operation",
        },
    }


def formula_view(state: State, step_number: int, i: int, digits: int = 4) -> dict[str, Any] | None:
    """The formula of event ``i`` of detailed step ``step_number`` (None if there is none).

    Asked for one event at a time: building every formula of a 64-16-10 step (about 250
    events) would cost more than training it, and the page shows one at a time.
    """
    trace = state.trace
    step = next((s for s in trace.steps if s.step == step_number), None)
    if step is None or not 0 <= i < len(step.events):
        return None
    return {
        "step": step_number,
        "i": i,
        "latex": event_formula(trace, step, step.events[i], digits),
    }


def edit_paths(state: State, step: Step | None) -> dict[str, Any]:
    """Which numbers the page may edit, and the dotted path (``--set``) of each."""
    cfg = state.loaded.config
    out: dict[str, Any] = {"weights": True, "inputs": None, "targets": None}
    samples = (
        state.data.get("data", {}).get("samples")
        if isinstance(state.data.get("data"), dict)
        else None
    )
    if step is not None and cfg.data.samples is not None and isinstance(samples, list):
        s = step.samples[0]
        if cfg.data.scale_inputs == "none":  # else the picture shows scaled inputs
            out["inputs"] = f"data.samples.{s}.x"
        y = cfg.data.samples[s].y
        if isinstance(y, list) and cfg.data.scale_targets is None:
            out["targets"] = f"data.samples.{s}.y"
    return out


def view(state: State, step_number: int | None = None, digits: int = 4) -> dict[str, Any]:
    """The page's model of the current state: network, settings, one step, the training."""
    trace = state.trace
    cfg = state.loaded.config
    info = trace.network
    detailed = [s.step for s in trace.steps]
    step = None
    if trace.steps:
        step = next((s for s in trace.steps if s.step == step_number), trace.steps[0])
    summary = trace.summary
    return {
        "revision": state.revision,
        "name": cfg.name,
        "title": cfg.title or cfg.name,
        "themes": {name: vars(theme) for name, theme in THEMES.items()},
        "network": {
            "inputs": info.input_names,
            "layers": info.layer_names,
            "units": info.unit_names,
            "activations": info.activations,
            "trainable": info.trainable,
        },
        "settings": {
            "loss": cfg.training.loss,
            "optimizer": cfg.training.optimizer.name,
            "learning_rate": fmt(cfg.training.optimizer.learning_rate, digits),
            "steps": cfg.training.steps,
            "batch_size": cfg.training.batch_size,
            "detail_steps": cfg.trace.detail_steps,
        },
        "choices": {
            "activations": list(ACTIVATIONS),
            "losses": list(LOSSES),
            "optimizers": list(OPTIMIZERS),
        },
        "edit": edit_paths(state, step),
        "step": None if step is None else step_view(trace, step, digits),
        "training": {
            "steps": len(summary.loss),
            "detailed": detailed,
            "loss": summary.loss,
            "loss_text": [fmt(v, digits) for v in summary.loss],
            "snapshots": [s.step for s in summary.snapshots],
            "final_loss": None if summary.final_loss is None else fmt(summary.final_loss, digits),
        },
        "diverged": None if trace.diverged is None else trace.diverged["message"],
        "warnings": list(trace.warnings),
    }


def snapshot_view(state: State, step_number: int, digits: int = 4) -> dict[str, Any] | None:
    """The parameters after ``step_number`` updates, if a snapshot holds them."""
    for snap in state.trace.summary.snapshots:
        if snap.step == step_number:
            return {
                "step": snap.step,
                "loss": fmt(snap.loss, digits),
                "W": [texts(w, digits) for w in snap.W],
                "W_raw": [w.tolist() for w in snap.W],
                "b": [texts(b, digits) for b in snap.b],
            }
    return None


def weight_series(
    state: State, layer: int, row: int, col: int, digits: int = 4
) -> dict[str, Any] | None:
    """One weight over the training (every snapshot), for the page's watch curve."""
    snaps = state.trace.summary.snapshots
    if not snaps or not 0 <= layer < len(snaps[0].W):
        return None
    W0 = snaps[0].W[layer]
    if not (0 <= row < W0.shape[0] and 0 <= col < W0.shape[1]):
        return None
    values = [float(s.W[layer][row, col]) for s in snaps]
    return {
        "steps": [s.step for s in snaps],
        "values": values,
        "texts": [fmt(v, digits) for v in values],
    }
