"""Optimizers: the update rule, its formula text, and the state it keeps.

``update`` returns the new value and the state terms the video shows (velocity for
momentum; first and second moments for Adam). State lives in a plain dict keyed by
parameter name, so the trace can record it and a lecture can show it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Optimizer(ABC):
    learning_rate: float
    name: str = ""
    formula_text: str = ""
    spoken: str = ""

    @abstractmethod
    def update(
        self, key: str, value: np.ndarray, grad: np.ndarray, state: dict, t: int
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """New value of parameter ``key`` after its ``t``-th update (1-based), and state terms.

        Returns a new array and leaves ``value`` untouched: the trace keeps the old
        value as the step's ``W`` beside the new ``W_next``.
        """


@dataclass(frozen=True)
class SGD(Optimizer):
    name: str = "sgd"
    formula_text: str = "w^+ = w - eta (partial L)/(partial w)"
    spoken: str = "plain gradient descent"

    def update(self, key, value, grad, state, t):
        # value - eta * grad, written with one temporary: two large temporaries alive at
        # once make glibc return and re-fault their pages on every step (10x slower).
        new = grad * -self.learning_rate
        new += value
        return new, {}


@dataclass(frozen=True)
class Momentum(Optimizer):
    momentum: float = 0.9
    name: str = "momentum"
    formula_text: str = "v^+ = mu v + (partial L)/(partial w), quad w^+ = w - eta v^+"
    spoken: str = "gradient descent with momentum"

    def update(self, key, value, grad, state, t):
        velocity = self.momentum * state[key] if key in state else np.zeros_like(value)
        velocity += grad
        state[key] = velocity
        new = velocity * -self.learning_rate  # w - eta v with one temporary, as in SGD
        new += value
        return new, {"velocity": velocity}


@dataclass(frozen=True)
class Adam(Optimizer):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    name: str = "adam"
    formula_text: str = (
        "m^+ = beta_1 m + (1 - beta_1) g, quad v^+ = beta_2 v + (1 - beta_2) g^2, "
        "quad w^+ = w - eta hat(m) / (sqrt(hat(v)) + epsilon)"
    )
    spoken: str = "Adam"

    def update(self, key, value, grad, state, t):
        m_prev, v_prev = state.get(key, (np.zeros_like(value), np.zeros_like(value)))
        m = self.beta1 * m_prev + (1.0 - self.beta1) * grad
        v = self.beta2 * v_prev + (1.0 - self.beta2) * grad * grad
        state[key] = (m, v)
        m_hat = m / (1.0 - self.beta1**t)
        v_hat = v / (1.0 - self.beta2**t)
        new = value - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)
        return new, {"m": m, "v": v, "m_hat": m_hat, "v_hat": v_hat}


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def get_optimizer(name: str, **params: float) -> Optimizer:
    return OPTIMIZERS[name](**params)
