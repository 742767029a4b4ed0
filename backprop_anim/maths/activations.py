"""Activation functions: forward rule, derivative and the formula text, side by side.

Each activation is one small object (shared/STYLE.md, section 1). ``forward`` maps
pre-activations ``z`` to activations ``a``; ``backward`` sends ``dL/da`` back to
``dL/dz`` (for element-wise functions that is ``dL/da * f'(z)``, the chain rule the
lecture shows); ``derivative`` gives ``f'(z)`` itself so the trace can record the
number that multiplies. The ``*_text`` fields are Typst math the video typesets and
``spoken`` is how the narrator names it.

Adding an activation: write one class here and add it to ``ACTIVATIONS``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Activation(ABC):
    """Base of all activations; element-wise unless ``elementwise`` is False."""

    name: str = ""
    symbol: str = "f"  # Typst symbol used in formulas, e.g. sigma
    spoken: str = ""  # "the sigmoid"
    formula_text: str = ""  # Typst: a = f(z)
    derivative_text: str = ""  # Typst: f'(z) in terms of z and a
    derivative_spoken: str = ""
    elementwise: bool = True
    output_range: tuple[float, float] = (-np.inf, np.inf)
    params: dict[str, float] = field(default_factory=dict)

    @abstractmethod
    def forward(self, z: np.ndarray) -> np.ndarray:
        """``a = f(z)``, element-wise over ``[batch][units]``."""

    @abstractmethod
    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """``da/dz`` element-wise (the diagonal of the Jacobian for softmax)."""

    def backward(self, dL_da: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """``dL/dz`` from ``dL/da``: the chain rule through this activation."""
        return dL_da * self.derivative(z, a)


@dataclass(frozen=True)
class Sigmoid(Activation):
    name: str = "sigmoid"
    symbol: str = "sigma"
    spoken: str = "the sigmoid"
    formula_text: str = "sigma(z) = 1 / (1 + e^(-z))"
    derivative_text: str = "sigma'(z) = a (1 - a)"
    derivative_spoken: str = "sigma prime of z, which is a times one minus a"
    output_range: tuple[float, float] = (0.0, 1.0)

    def forward(self, z: np.ndarray) -> np.ndarray:
        # 1/(1+e^-z) for z >= 0 and e^z/(1+e^z) below: exp never overflows and both
        # tails keep full relative precision in float64 (e = e^-|z| serves both forms).
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1.0, e) / (1.0 + e)

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return a * (1.0 - a)


@dataclass(frozen=True)
class Tanh(Activation):
    name: str = "tanh"
    symbol: str = "tanh"
    spoken: str = "the hyperbolic tangent"
    formula_text: str = "tanh(z)"
    derivative_text: str = "tanh'(z) = 1 - a^2"
    derivative_spoken: str = "tanh prime of z, which is one minus a squared"
    output_range: tuple[float, float] = (-1.0, 1.0)

    def forward(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z)

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return 1.0 - a * a


@dataclass(frozen=True)
class ReLU(Activation):
    name: str = "relu"
    symbol: str = "relu"
    spoken: str = "the ReLU"
    formula_text: str = "relu(z) = max(0, z)"
    derivative_text: str = "relu'(z) = cases(1 & z > 0, 0 & z <= 0)"
    derivative_spoken: str = "ReLU prime of z, which is one where z is positive and zero elsewhere"
    output_range: tuple[float, float] = (0.0, np.inf)

    def forward(self, z: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0.0)

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        # The derivative at exactly 0 is taken as 0: a neuron at 0 is "dead" for this sample.
        return (z > 0).astype(np.float64)


@dataclass(frozen=True)
class LeakyReLU(Activation):
    name: str = "leaky_relu"
    symbol: str = "lrelu"
    spoken: str = "the leaky ReLU"
    formula_text: str = "lrelu(z) = max(s z, z)"
    derivative_text: str = "lrelu'(z) = cases(1 & z > 0, s & z <= 0)"
    derivative_spoken: str = (
        "leaky ReLU prime of z, one where z is positive and the slope elsewhere"
    )

    @property
    def slope(self) -> float:
        return float(self.params.get("slope", 0.01))

    def forward(self, z: np.ndarray) -> np.ndarray:
        return np.where(z > 0, z, self.slope * z)

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return np.where(z > 0, 1.0, self.slope)


@dataclass(frozen=True)
class Linear(Activation):
    name: str = "linear"
    symbol: str = "id"
    spoken: str = "the identity"
    formula_text: str = "a = z"
    derivative_text: str = "id'(z) = 1"
    derivative_spoken: str = "one, because a linear output passes z through unchanged"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return z.astype(np.float64, copy=True)

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return np.ones_like(z, dtype=np.float64)


@dataclass(frozen=True)
class Softmax(Activation):
    name: str = "softmax"
    symbol: str = "softmax"
    spoken: str = "the softmax"
    formula_text: str = "a_j = e^(z_j) / (sum_k e^(z_k))"
    derivative_text: str = "(partial a_j)/(partial z_k) = a_j (delta_(j k) - a_k)"
    derivative_spoken: str = "the softmax Jacobian, a j times the Kronecker delta minus a k"
    elementwise: bool = False
    output_range: tuple[float, float] = (0.0, 1.0)

    def forward(self, z: np.ndarray) -> np.ndarray:
        shifted = z - z.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=-1, keepdims=True)

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return a * (1.0 - a)

    def backward(self, dL_da: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        # Jacobian-vector product: dL/dz_k = a_k (dL/da_k - sum_j dL/da_j a_j).
        return a * (dL_da - (dL_da * a).sum(axis=-1, keepdims=True))


ACTIVATIONS: dict[str, type[Activation]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "linear": Linear,
    "softmax": Softmax,
}


def get_activation(name: str, **params: float) -> Activation:
    """The activation registered under ``name`` with its parameters (e.g. ``slope``)."""
    return ACTIVATIONS[name](params=dict(params))
