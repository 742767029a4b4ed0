"""Weight initialisation schemes, seeded and reproducible.

Why several: a lecture on tanh saturation compares a naive ``uniform[-1, 1]`` draw
(pre-activations grow like sqrt(fan_in) and pile up at ±1) with fan-in scaled draws
(Xavier/Glorot, He) and Nguyen-Widrow, which spreads each hidden unit's active region
over the input range.
"""

from __future__ import annotations

import numpy as np

from ..config.schema import InitConfig


def init_layer(
    scheme: InitConfig, fan_in: int, fan_out: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``W`` (``[fan_out][fan_in]``) and ``b`` (``[fan_out]``) by ``scheme``."""
    shape = (fan_out, fan_in)
    name = scheme.scheme
    if name == "uniform":
        W = rng.uniform(scheme.low, scheme.high, size=shape)
    elif name == "normal":
        W = rng.normal(0.0, scheme.std, size=shape)
    elif name == "xavier_uniform":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        W = rng.uniform(-limit, limit, size=shape)
    elif name == "xavier_normal":
        W = rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape)
    elif name == "he_normal":
        W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
    elif name == "nguyen_widrow":
        # Nguyen & Widrow (1990): rows of norm beta = 0.7 * H^(1/N), biases in [-beta, beta].
        beta = 0.7 * fan_out ** (1.0 / fan_in)
        W = rng.uniform(-0.5, 0.5, size=shape)
        W *= beta / np.linalg.norm(W, axis=1, keepdims=True)
        b = rng.uniform(-beta, beta, size=fan_out)
        return W, b
    else:  # pragma: no cover - the schema only admits the names above
        raise ValueError(name)
    if scheme.biases == "scheme":
        b = init_layer(scheme.model_copy(update={"biases": "zeros"}), 1, fan_out, rng)[0][:, 0]
    else:
        b = np.zeros(fan_out)
    return W, b
