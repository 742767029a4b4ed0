"""The data's scaling: what the network saw, and how to read it back in the data's units.

With ``data.scale_inputs`` and ``data.scale_targets`` the network trains on scaled
numbers (an input ``size`` of 120.5 becomes 1.617). A viewer who sees 1.617 needs the
120.5 beside it, so the trace carries each transform's parameters (``data.input_scaling``,
``data.scaling``; docs/trace-format.md#data) and this module is the one place that applies
them, both ways: the engine scales with it, and the title, narration and overview read
values back with it. It sits beside the trace model (below the engine and the pictures)
so that neither side computes a scaling of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the model imports the checks, which import this
    from .model import Trace


def _divisor(spread: np.ndarray) -> np.ndarray:
    """A column's divisor: its spread, or 1 for a constant column (only shifted)."""
    return np.where(spread > 0, spread, 1.0)


# data.input_scaling's two per-input arrays, by method (their names in the trace).
INPUT_PARAMETERS = {"standard": ("mean", "std"), "minmax": ("min", "max")}


@dataclass(frozen=True)
class InputScaling:
    """``x_scaled = (x − shift) / divisor`` per input column, from two saved parameters.

    ``standard``: ``first`` is the column's mean, ``second`` its standard deviation (1 for
    a constant column, which is then only centred, as the engine trains it); ``minmax``:
    ``first`` is its minimum, ``second`` its maximum (divided by max − min, or by 1 when
    they are equal).
    """

    method: str
    first: np.ndarray
    second: np.ndarray

    @classmethod
    def fit(cls, method: str, X: np.ndarray) -> InputScaling:
        """The scaling ``method`` fitted to the data set's inputs ``X`` ([n][inputs])."""
        if method == "standard":
            return cls(method, X.mean(axis=0), _divisor(X.std(axis=0)))
        if method == "minmax":
            return cls(method, X.min(axis=0), X.max(axis=0))
        raise ValueError(f"unknown input scaling {method!r}")

    @property
    def shift(self) -> np.ndarray:
        return self.first

    @property
    def divisor(self) -> np.ndarray:
        return self.second if self.method == "standard" else _divisor(self.second - self.first)

    def scaled(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.shift) / self.divisor

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Scaled inputs back in the data's own units."""
        return np.asarray(x, dtype=np.float64) * self.divisor + self.shift

    def to_json(self) -> dict[str, Any]:
        a, b = INPUT_PARAMETERS[self.method]
        return {"method": self.method, a: self.first.tolist(), b: self.second.tolist()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> InputScaling:
        a, b = INPUT_PARAMETERS[d["method"]]
        return cls(
            d["method"], np.asarray(d[a], dtype=np.float64), np.asarray(d[b], dtype=np.float64)
        )


@dataclass(frozen=True)
class TargetScaling:
    """``y_scaled = lo + (y − y_min)(hi − lo)/(y_max − y_min)`` per target column."""

    y_min: np.ndarray
    y_max: np.ndarray
    lo: float
    hi: float

    def forward(self, y: np.ndarray) -> np.ndarray:
        span = _divisor(self.y_max - self.y_min)
        return self.lo + (np.asarray(y, dtype=np.float64) - self.y_min) * (self.hi - self.lo) / span

    def inverse(self, y: np.ndarray) -> np.ndarray:
        """Scaled targets (or outputs) back in the data's own units."""
        span = _divisor(self.y_max - self.y_min)
        return self.y_min + (np.asarray(y, dtype=np.float64) - self.lo) * span / (self.hi - self.lo)

    def to_json(self) -> dict[str, Any]:
        return {
            "y_min": self.y_min.tolist(),
            "y_max": self.y_max.tolist(),
            "range": [self.lo, self.hi],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TargetScaling:
        lo, hi = d["range"]
        return cls(
            np.asarray(d["y_min"], dtype=np.float64),
            np.asarray(d["y_max"], dtype=np.float64),
            float(lo),
            float(hi),
        )


def input_scaling(trace: Trace) -> InputScaling | None:
    """The trace's input scaling (None: the network saw the inputs as they are, or the
    trace predates the field)."""
    d = trace.data.get("input_scaling")
    return None if not d else InputScaling.from_json(d)


def target_scaling(trace: Trace) -> TargetScaling | None:
    """The trace's target scaling (None: the targets were trained on as they are)."""
    d = trace.data.get("scaling")
    return None if not d else TargetScaling.from_json(d)
