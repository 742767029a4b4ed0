"""Loss functions: value, gradient with respect to the output, and formula text.

Every loss is averaged over the batch, so a gradient step does not grow with the
batch size; ``mse`` also averages over the outputs while ``half_sse`` takes half the
sum over outputs (the textbook form, whose derivative is simply ``a - y``).

``fused_delta`` gives ``dL/dz`` directly for the pairs whose chain-rule product
simplifies (softmax + cross-entropy, sigmoid + binary cross-entropy): the product
``dL/da * da/dz`` is mathematically equal, but the fused form stays exact when an
output saturates at 0 or 1.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

_EPS = 1e-12


@dataclass(frozen=True)
class Loss(ABC):
    name: str = ""
    formula_text: str = ""  # Typst, for one sample
    gradient_text: str = ""  # Typst, dL/da
    spoken: str = ""
    # Output activations this loss makes sense with (None: any).
    requires_activation: tuple[str, ...] | None = None
    # The batch loss is the mean over samples, and also over outputs if this is True.
    averages_outputs: bool = False
    # The output activation with which dL/dz simplifies to (a - y) / divisor, if any.
    fused_activation: str | None = None

    def divisor(self, shape: tuple[int, ...]) -> int:
        """What one sample's (and output's) term is divided by in the batch loss, for
        outputs of ``shape`` ``[batch][outputs]``: the batch size, or batch x outputs.
        A formula for one sample shows it (``delta = (a - y) / divisor``)."""
        return int(np.prod(shape)) if self.averages_outputs else int(shape[0])

    @abstractmethod
    def per_output(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Each output's contribution to the batch loss, ``[batch][outputs]``; sums to ``value``."""

    def value(self, a: np.ndarray, y: np.ndarray) -> float:
        return float(self.per_output(a, y).sum())

    @abstractmethod
    def gradient(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``dL/da`` of the batch loss, ``[batch][outputs]``."""

    def fused_delta(self, activation: str, a: np.ndarray, y: np.ndarray) -> np.ndarray | None:
        """``dL/dz`` in closed form for this loss with ``activation``, or None."""
        if activation != self.fused_activation:
            return None
        return (a - y) / self.divisor(a.shape)


@dataclass(frozen=True)
class HalfSSE(Loss):
    name: str = "half_sse"
    formula_text: str = "L = 1/2 sum_k (y_k - a_k)^2"
    gradient_text: str = "(partial L)/(partial a_k) = a_k - y_k"
    spoken: str = "half the sum of squared errors"

    def per_output(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 0.5 * (y - a) ** 2 / a.shape[0]

    def gradient(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (a - y) / a.shape[0]


@dataclass(frozen=True)
class MSE(Loss):
    name: str = "mse"
    formula_text: str = "L = 1/K sum_k (y_k - a_k)^2"
    gradient_text: str = "(partial L)/(partial a_k) = 2/K (a_k - y_k)"
    spoken: str = "the mean squared error"
    averages_outputs: bool = True

    def per_output(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (y - a) ** 2 / a.size

    def gradient(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 2.0 * (a - y) / a.size


@dataclass(frozen=True)
class BCE(Loss):
    name: str = "bce"
    formula_text: str = "L = -1/K sum_k [y_k ln a_k + (1 - y_k) ln(1 - a_k)]"
    gradient_text: str = "(partial L)/(partial a_k) = 1/K (a_k - y_k) / (a_k (1 - a_k))"
    spoken: str = "the binary cross-entropy"
    requires_activation: tuple[str, ...] | None = ("sigmoid",)
    averages_outputs: bool = True
    fused_activation: str | None = "sigmoid"

    def per_output(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        ac = np.clip(a, _EPS, 1.0 - _EPS)
        return -(y * np.log(ac) + (1.0 - y) * np.log(1.0 - ac)) / a.size

    def gradient(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        ac = np.clip(a, _EPS, 1.0 - _EPS)
        return (ac - y) / (ac * (1.0 - ac)) / a.size


@dataclass(frozen=True)
class CrossEntropy(Loss):
    name: str = "cross_entropy"
    formula_text: str = "L = -sum_k y_k ln a_k"
    gradient_text: str = "(partial L)/(partial a_k) = -y_k / a_k"
    spoken: str = "the cross-entropy"
    requires_activation: tuple[str, ...] | None = ("softmax",)
    fused_activation: str | None = "softmax"

    def per_output(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -(y * np.log(np.clip(a, _EPS, None))) / a.shape[0]

    def gradient(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -y / np.clip(a, _EPS, None) / a.shape[0]


LOSSES: dict[str, type[Loss]] = {
    "half_sse": HalfSSE,
    "mse": MSE,
    "bce": BCE,
    "cross_entropy": CrossEntropy,
}


def get_loss(name: str) -> Loss:
    return LOSSES[name]()
