"""The trace: the seam between training and everything that explains it.

A trace is a flat, ordered list of events per detailed step (what was computed, from
which numbers, by which formula), plus the tensors of every layer for that step, plus
a compact summary of the whole training (loss per step, parameter snapshots). The
engine writes it and knows nothing of Manim; scenes, narration, subtitles and notes
read it and know nothing of training. It saves to versioned JSON
(docs/trace-format.md) so a trace made yesterday renders today, elsewhere.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from . import validate
from .validate import FORMAT, VERSION, check_trace

# The tensors of a layer in a detailed step, named by the check's one table
# (validate.LAYER_TENSORS, with their shapes): the required ones, always written and
# read, and the optional ones (e.g. per-sample gradients, batch <= 8), written when recorded.
LAYER_TENSORS = tuple(t.key for t in validate.LAYER_TENSORS if t.required)
OPTIONAL_LAYER_TENSORS = tuple(t.key for t in validate.LAYER_TENSORS if not t.required)


@dataclass
class LayerStep:
    """One layer in one detailed step; arrays are float64, batch-first."""

    name: str
    W: np.ndarray  # [units][fan_in], as used in the forward pass
    b: np.ndarray  # [units]
    z: np.ndarray  # [batch][units]
    a: np.ndarray  # [batch][units]
    delta: np.ndarray  # [batch][units], dL/dz of the batch loss
    grad_W: np.ndarray  # [units][fan_in]
    grad_b: np.ndarray  # [units]
    W_next: np.ndarray  # after the update
    b_next: np.ndarray
    dL_da: np.ndarray  # [batch][units]; for a fused output (softmax+CE) the chain-rule value
    act_derivative: np.ndarray  # [batch][units], f'(z) (softmax: diagonal of the Jacobian)
    updated: bool = True  # False when frozen or not the chosen layer (update: random_layer)
    update_reason: str = ""  # why not updated
    biases_updated: bool = True
    state: dict[str, np.ndarray] = field(default_factory=dict)  # optimizer state terms (W)
    state_b: dict[str, np.ndarray] = field(default_factory=dict)
    # Each sample's own gradient, for batches of up to 8 (optional: None otherwise and
    # in traces written before they were recorded): [batch][units][fan_in], [batch][units].
    grad_W_per_sample: np.ndarray | None = None
    grad_b_per_sample: np.ndarray | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        for key in LAYER_TENSORS:
            out[key] = getattr(self, key).tolist()
        out["updated"] = self.updated
        out["update_reason"] = self.update_reason
        out["biases_updated"] = self.biases_updated
        out["state"] = {k: v.tolist() for k, v in self.state.items()}
        out["state_b"] = {k: v.tolist() for k, v in self.state_b.items()}
        for key in OPTIONAL_LAYER_TENSORS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value.tolist()
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LayerStep:
        arrays = {k: np.asarray(d[k], dtype=np.float64) for k in LAYER_TENSORS}
        return cls(
            name=d["name"],
            updated=d.get("updated", True),
            update_reason=d.get("update_reason", ""),
            biases_updated=d.get("biases_updated", True),
            state={k: np.asarray(v) for k, v in d.get("state", {}).items()},
            state_b={k: np.asarray(v) for k, v in d.get("state_b", {}).items()},
            **{
                k: np.asarray(d[k], dtype=np.float64)
                for k in OPTIONAL_LAYER_TENSORS
                if d.get(k) is not None
            },
            **arrays,
        )

    @property
    def delta_W(self) -> np.ndarray:
        """How much each weight moved in this step."""
        return self.W_next - self.W

    def move_parts(self, optimizer: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """``delta_W`` split into (from the gradient, from the weight itself).

        ``optimizer`` is the trace's ``network.optimizer``. With weight decay the
        optimizer adds λ·w (state term ``decay``) to the step, so −η·λ·w of the move
        comes from the weight itself; the other part comes from the gradient (and, for
        momentum and Adam, its history). Without decay the second part is zero. The
        gradient's part is read as the rule writes it (SGD: −η·∂L/∂w; momentum:
        −η(v⁺ − λw)), so a weight with no gradient shows exactly 0 there, not the
        rounding of a subtraction; for Adam it is the rest of the move (0 where m̂ is 0).
        The two parts sum to ``delta_W`` up to rounding.
        """
        lr = float(optimizer["learning_rate"])
        decay = self.state.get("decay")
        if decay is None:
            return self.delta_W, np.zeros_like(self.W)
        from_weight = -lr * np.asarray(decay)
        name = optimizer.get("name", "sgd")
        if name == "sgd":
            from_grad = -lr * self.grad_W
        elif name == "momentum":
            from_grad = -lr * (self.state["velocity"] - decay)
        else:
            from_grad = np.where(self.state["m_hat"] == 0.0, 0.0, self.delta_W - from_weight)
        return from_grad, from_weight


@dataclass
class Step:
    """A training step traced in full detail."""

    step: int
    samples: list[int]
    loss: float
    loss_after: float  # the same batch's loss with the updated parameters
    x: np.ndarray  # [batch][inputs]
    y: np.ndarray  # [batch][outputs], as trained on
    loss_terms: np.ndarray  # [batch][outputs], each output's share of the loss
    layers: list[LayerStep]
    events: list[dict[str, Any]]

    @property
    def loss_change(self) -> float:
        """Loss after the update minus loss before, on this step's batch (negative: learned)."""
        return self.loss_after - self.loss

    def a_prev(self, i: int) -> np.ndarray:
        """The activations layer ``i`` reads, [batch][fan_in]: the inputs for the first."""
        return self.x if i == 0 else self.layers[i - 1].a

    def gradient_terms(self, i: int, j: int, k: int) -> np.ndarray:
        """Each sample's term of layer ``i``'s ∂L/∂W[j, k], [batch]: δ[s, j]·a_prev[s, k],
        the products the engine's ``delta.T @ a_prev`` adds up (so they sum to ``grad_W``).

        Every loss is a mean over the batch, so each δ carries its 1/B: the sum of these
        terms is the mean of the samples' own gradients (``grad_W_per_sample``, which are
        B times these). The gradients beat shows them meeting, sample by sample."""
        return self.layers[i].delta[:, j] * self.a_prev(i)[:, k]

    @property
    def loss_change_percent(self) -> float:
        return 100.0 * self.loss_change / self.loss if self.loss else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "samples": list(self.samples),
            "loss": self.loss,
            "loss_after": self.loss_after,
            "x": self.x.tolist(),
            "y": self.y.tolist(),
            "loss_terms": self.loss_terms.tolist(),
            "layers": [layer.to_json() for layer in self.layers],
            "events": self.events,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Step:
        return cls(
            step=int(d["step"]),
            samples=[int(s) for s in d["samples"]],
            loss=float(d["loss"]),
            loss_after=float(d["loss_after"]),
            x=np.asarray(d["x"], dtype=np.float64),
            y=np.asarray(d["y"], dtype=np.float64),
            loss_terms=np.asarray(d["loss_terms"], dtype=np.float64),
            layers=[LayerStep.from_json(x) for x in d["layers"]],
            events=list(d["events"]),
        )


@dataclass
class Snapshot:
    """Parameters after ``step`` updates (0 = the initial network), with full-data figures."""

    step: int
    W: list[np.ndarray]
    b: list[np.ndarray]
    loss: float  # on the (display subset of the) data set
    accuracy: float | None
    z_hist: list[list[int]]  # per layer, counts over Summary.z_bins
    saturation: list[float]  # per layer, fraction of |a| near the activation's limits

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "W": [w.tolist() for w in self.W],
            "b": [b.tolist() for b in self.b],
            "loss": self.loss,
            "accuracy": self.accuracy,
            "z_hist": self.z_hist,
            "saturation": self.saturation,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Snapshot:
        return cls(
            step=int(d["step"]),
            W=[np.asarray(w, dtype=np.float64) for w in d["W"]],
            b=[np.asarray(b, dtype=np.float64) for b in d["b"]],
            loss=float(d["loss"]),
            accuracy=None if d["accuracy"] is None else float(d["accuracy"]),
            z_hist=[list(map(int, h)) for h in d["z_hist"]],
            saturation=[float(s) for s in d["saturation"]],
        )


@dataclass
class Summary:
    """Every step in brief: what an overview of a long training needs."""

    loss: list[float]  # batch loss per step
    grad_norms: list[list[float]]  # [step][layer], Frobenius norm of grad_W
    updated_layers: list[list[int]]  # [step] -> indices of layers updated
    gradient_evaluations: list[int]  # cumulative count of layer-gradients computed
    snapshots: list[Snapshot]
    z_bins: list[float]  # histogram bin edges for Snapshot.z_hist
    # Indices (into the data set) of the samples a snapshot's loss, accuracy and
    # histograms are computed on: all displayed samples, or an even subset for wide nets.
    snapshot_samples: list[int] = field(default_factory=list)

    @property
    def final_loss(self) -> float | None:
        """The loss on the data set after training (the last snapshot).

        The figure a training is judged by: the render's ``render.json``, a batch
        manifest and the comparison video all report this one, not the last
        mini-batch's loss, which depends on which samples that batch drew. Falls back
        to the last batch loss for a trace without snapshots; None before any step.
        """
        if self.snapshots:
            return float(self.snapshots[-1].loss)
        return float(self.loss[-1]) if self.loss else None

    def to_json(self) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "grad_norms": self.grad_norms,
            "updated_layers": self.updated_layers,
            "gradient_evaluations": self.gradient_evaluations,
            "snapshots": [s.to_json() for s in self.snapshots],
            "z_bins": self.z_bins,
            "snapshot_samples": self.snapshot_samples,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Summary:
        return cls(
            loss=[float(x) for x in d["loss"]],
            grad_norms=[[float(x) for x in row] for row in d["grad_norms"]],
            updated_layers=[[int(x) for x in row] for row in d["updated_layers"]],
            gradient_evaluations=[int(x) for x in d["gradient_evaluations"]],
            snapshots=[Snapshot.from_json(s) for s in d["snapshots"]],
            z_bins=[float(x) for x in d["z_bins"]],
            snapshot_samples=[int(x) for x in d.get("snapshot_samples", [])],
        )


@dataclass
class NetworkInfo:
    """What a picture of the network needs: names, sizes, activations."""

    input_names: list[str]
    layer_names: list[str]
    unit_names: list[list[str]]
    activations: list[str]
    trainable: list[bool]
    loss: str
    optimizer: dict[str, Any]

    @property
    def sizes(self) -> list[int]:
        return [len(self.input_names)] + [len(u) for u in self.unit_names]

    def to_json(self) -> dict[str, Any]:
        return {
            "input_names": self.input_names,
            "layer_names": self.layer_names,
            "unit_names": self.unit_names,
            "activations": self.activations,
            "trainable": self.trainable,
            "loss": self.loss,
            "optimizer": self.optimizer,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> NetworkInfo:
        # Keys added later within a version are ignored (docs/trace-format.md#versioning).
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})


@dataclass
class Trace:
    config: dict[str, Any]  # the normalized config (pydantic dump)
    network: NetworkInfo
    steps: list[Step]  # the detailed steps, in order
    summary: Summary
    data: dict[str, Any]  # display copy of the data: X, Y, classes, kind, scaling
    diverged: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    version: int = VERSION

    def step(self, k: int) -> Step:
        """The detailed step numbered ``k`` (negative: from the end of training)."""
        n = len(self.summary.loss)
        target = k + n if k < 0 else k
        for s in self.steps:
            if s.step == target:
                return s
        available = ", ".join(str(s.step) for s in self.steps) or "none"
        raise UserError(
            f"step {k} is not traced in detail (detailed steps: {available}); "
            "add it to trace.detail_steps in the config"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "config": self.config,
            "network": self.network.to_json(),
            "steps": [s.to_json() for s in self.steps],
            "summary": self.summary.to_json(),
            "data": self.data,
            "diverged": self.diverged,
            "warnings": self.warnings,
        }

    @classmethod
    def from_json(cls, d: Any, source: str = "<trace>") -> Trace:
        """Check ``d`` against the contract (:func:`.validate.check_trace`), then build.

        ``d`` is a parsed trace the caller hands over: its tensor lists are replaced by
        the checked arrays.
        """
        check_trace(d, source)
        try:
            return cls(
                config=d["config"],
                network=NetworkInfo.from_json(d["network"]),
                steps=[Step.from_json(s) for s in d["steps"]],
                summary=Summary.from_json(d["summary"]),
                data=d.get("data", {}),
                diverged=d.get("diverged"),
                warnings=list(d.get("warnings", [])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{source}: malformed trace ({type(exc).__name__}: {exc})") from None

    def dumps(self) -> str:
        return json.dumps(self.to_json(), allow_nan=False, separators=(",", ":"))

    def save(self, path: str | Path) -> Path:
        """Write the trace as JSON, atomically (a temporary file renamed into place)."""
        return write_atomic(Path(path), self.dumps())


def load_trace(path: str | Path) -> Trace:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    return Trace.from_json(data, source=str(path))


def write_atomic(path: Path, text: str | bytes) -> Path:
    """Write to a temporary file beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8") if isinstance(text, str) else text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
