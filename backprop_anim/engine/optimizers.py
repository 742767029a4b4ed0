"""Optimizers: the update rule, its formula text, and the state it keeps.

``update`` returns the new value and the state terms the video shows (velocity for
momentum; first and second moments for Adam; the weight-decay term ``decay`` when
``weight_decay`` is set). State lives in a plain dict keyed by parameter name, so the
trace can record it and a lecture can show it.

Weight decay (``weight_decay`` = λ) is the answer to "is a weight's update offset by
the weight itself?": with it, yes. For SGD and momentum it is L2 decay, λ·w added to
the gradient (what ``torch.optim.SGD(weight_decay=λ)`` does); for Adam it is
*decoupled* (AdamW, Loshchilov & Hutter 2019, and ``torch.optim.AdamW``): the step is
w⁺ = w − η(m̂/(√v̂ + ε) + λ·w), so the decay is not rescaled by Adam's per-weight
step size. In all three the part of this step's move that comes from the weight
itself is −η·λ·w (the state term ``decay`` = λ·w). The trainer decays weights only,
never biases, as is usual (a bias scales no input; shrinking it regularises nothing).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

DECAY = "decay"  # the state term λ·w: what the weight itself adds to this step's move


@dataclass(frozen=True)
class Optimizer(ABC):
    learning_rate: float
    name: str = ""
    formula_text: str = ""
    decay_formula_text: str = ""  # the same rule with the weight-decay term
    spoken: str = ""
    weight_decay: float = 0.0

    def formula(self, decayed: bool) -> str:
        """The rule as Typst text: with the decay term when ``decayed`` and λ > 0."""
        return self.decay_formula_text if decayed and self.weight_decay else self.formula_text

    def decay_term(self, value: np.ndarray, decayed: bool) -> np.ndarray | None:
        """λ·w, or None when this parameter is not decayed."""
        if not (decayed and self.weight_decay):
            return None
        return self.weight_decay * value

    @abstractmethod
    def update(
        self,
        key: str,
        value: np.ndarray,
        grad: np.ndarray,
        state: dict,
        t: int,
        decayed: bool = False,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """New value of parameter ``key`` after its ``t``-th update (1-based), and state terms.

        ``decayed``: apply weight decay to this parameter (weights yes, biases no).
        Returns a new array and leaves ``value`` untouched: the trace keeps the old
        value as the step's ``W`` beside the new ``W_next``.
        """


@dataclass(frozen=True)
class SGD(Optimizer):
    name: str = "sgd"
    formula_text: str = "w^+ = w - eta (partial L)/(partial w)"
    decay_formula_text: str = "w^+ = w - eta ((partial L)/(partial w) + lambda w)"
    spoken: str = "plain gradient descent"

    def update(self, key, value, grad, state, t, decayed=False):
        decay = self.decay_term(value, decayed)
        # value - eta * grad, written with one temporary: two large temporaries alive at
        # once make glibc return and re-fault their pages on every step (10x slower).
        if decay is None:
            new = grad * -self.learning_rate
            new += value
            return new, {}
        new = grad + decay
        new *= -self.learning_rate
        new += value
        return new, {DECAY: decay}


@dataclass(frozen=True)
class Momentum(Optimizer):
    momentum: float = 0.9
    name: str = "momentum"
    formula_text: str = "v^+ = mu v + (partial L)/(partial w), quad w^+ = w - eta v^+"
    decay_formula_text: str = (
        "v^+ = mu v + (partial L)/(partial w) + lambda w, quad w^+ = w - eta v^+"
    )
    spoken: str = "gradient descent with momentum"

    def update(self, key, value, grad, state, t, decayed=False):
        decay = self.decay_term(value, decayed)
        velocity = self.momentum * state[key] if key in state else np.zeros_like(value)
        velocity += grad
        if decay is not None:
            velocity += decay
        state[key] = velocity
        new = velocity * -self.learning_rate  # w - eta v with one temporary, as in SGD
        new += value
        terms = {"velocity": velocity}
        if decay is not None:
            terms[DECAY] = decay
        return new, terms


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
    decay_formula_text: str = (
        "m^+ = beta_1 m + (1 - beta_1) g, quad v^+ = beta_2 v + (1 - beta_2) g^2, "
        "quad w^+ = w - eta (hat(m) / (sqrt(hat(v)) + epsilon) + lambda w)"
    )
    spoken: str = "Adam"

    def update(self, key, value, grad, state, t, decayed=False):
        decay = self.decay_term(value, decayed)
        m_prev, v_prev = state.get(key, (np.zeros_like(value), np.zeros_like(value)))
        m = self.beta1 * m_prev + (1.0 - self.beta1) * grad
        v = self.beta2 * v_prev + (1.0 - self.beta2) * grad * grad
        state[key] = (m, v)
        m_hat = m / (1.0 - self.beta1**t)
        v_hat = v / (1.0 - self.beta2**t)
        terms = {"m": m, "v": v, "m_hat": m_hat, "v_hat": v_hat}
        if decay is None:
            new = value - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)
        else:
            # Decoupled (AdamW): the decay joins the step, not the gradient's moments.
            new = value - self.learning_rate * (m_hat / (np.sqrt(v_hat) + self.eps) + decay)
            terms[DECAY] = decay
        return new, terms


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def get_optimizer(name: str, **params: float) -> Optimizer:
    return OPTIMIZERS[name](**params)
