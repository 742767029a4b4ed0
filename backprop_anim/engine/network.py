"""A fully connected network over float64 numpy arrays, vectorized over the batch.

``forward`` keeps every pre-activation and activation; ``backward`` returns every
``dL/da``, ``f'(z)``, delta and gradient, layer by layer from the output back, in the
order the lecture tells it. There are no per-scalar objects: a layer is ``W`` of shape
``[units][fan_in]`` and ``b`` of shape ``[units]``, and ``z = a_prev @ W.T + b``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.schema import Config
from ..maths.activations import Activation, get_activation
from ..maths.losses import Loss
from .init import init_layer

# Batches up to this size record each sample's own gradient in the trace (a lecture shows
# them side by side; a larger batch would only make the trace heavier).
PER_SAMPLE_MAX_BATCH = 8


@dataclass
class ForwardResult:
    zs: list[np.ndarray]  # per layer [batch][units]
    activations: list[np.ndarray]  # per layer, a[0] is the input: len(layers) + 1


@dataclass
class BackwardResult:
    dL_da: list[np.ndarray]  # per layer [batch][units]
    act_derivative: list[np.ndarray]
    deltas: list[np.ndarray]
    grad_W: list[np.ndarray]
    grad_b: list[np.ndarray]
    fused_output: bool  # the output delta came from the loss's closed form


class Network:
    """Parameters plus the activation of each layer."""

    def __init__(self, weights: list[np.ndarray], biases: list[np.ndarray], acts: list[Activation]):
        self.W = weights
        self.b = biases
        self.activations = acts

    @classmethod
    def from_config(cls, cfg: Config) -> Network:
        """Explicit weights where given, else drawn by the layer's (or network's) init scheme.

        Each layer draws from its own generator seeded by (seed, layer index), so giving
        one layer's weights explicitly does not change another layer's random draw.
        """
        sizes = cfg.network.sizes()
        weights, biases, acts = [], [], []
        for i, layer in enumerate(cfg.network.layers):
            scheme = layer.init or cfg.network.init
            rng = np.random.default_rng([scheme.seed, i])
            W, b = init_layer(scheme, sizes[i], sizes[i + 1], rng)
            if layer.weights is not None:
                W = np.array(layer.weights, dtype=np.float64)
            if layer.biases is not None:
                b = np.array(layer.biases, dtype=np.float64)
            weights.append(W)
            biases.append(b)
            params = {"slope": layer.slope} if layer.activation == "leaky_relu" else {}
            acts.append(get_activation(layer.activation, **params))
        return cls(weights, biases, acts)

    def forward(self, X: np.ndarray) -> ForwardResult:
        a = X
        zs, activations = [], [X]
        for W, b, act in zip(self.W, self.b, self.activations, strict=True):
            z = a @ W.T + b
            a = act.forward(z)
            zs.append(z)
            activations.append(a)
        return ForwardResult(zs, activations)

    def backward(self, fwd: ForwardResult, Y: np.ndarray, loss: Loss) -> BackwardResult:
        n = len(self.W)
        dL_da: list[np.ndarray] = [np.empty(0)] * n
        dadz: list[np.ndarray] = [np.empty(0)] * n
        deltas: list[np.ndarray] = [np.empty(0)] * n
        grad_W: list[np.ndarray] = [np.empty(0)] * n
        grad_b: list[np.ndarray] = [np.empty(0)] * n
        out_a, out_act = fwd.activations[-1], self.activations[-1]
        upstream = loss.gradient(out_a, Y)
        fused = loss.fused_delta(out_act.name, out_a, Y)
        for i in range(n - 1, -1, -1):
            act, z, a = self.activations[i], fwd.zs[i], fwd.activations[i + 1]
            dL_da[i] = upstream
            dadz[i] = act.derivative(z, a)
            # The chain rule: dL/dz = dL/da * da/dz (a Jacobian product for softmax).
            deltas[i] = (
                fused if (i == n - 1 and fused is not None) else act.backward(upstream, z, a)
            )
            a_prev = fwd.activations[i]
            grad_W[i] = deltas[i].T @ a_prev
            grad_b[i] = deltas[i].sum(axis=0)
            if i > 0:
                upstream = deltas[i] @ self.W[i]  # W^T delta: what each input of layer i owes
        return BackwardResult(dL_da, dadz, deltas, grad_W, grad_b, fused is not None)


def per_sample_gradients(
    fwd: ForwardResult, bwd: BackwardResult
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each sample's own gradients, per layer: ``[batch][units][fan_in]`` and ``[batch][units]``.

    Sample s's gradient is that of its own loss (the batch loss of a batch of one, s):
    every loss is a mean over the batch, so it is B times the sample's term of the batch
    gradient, ``B · delta[s] ⊗ a_prev[s]``, and the mean over the batch of these is the
    step's gradient (``deltaᵀ · a_prev``). The samples disagree; the update uses the mean.
    """
    batch = fwd.activations[0].shape[0]
    grad_W = [
        batch * (delta[:, :, None] * a_prev[:, None, :])
        for delta, a_prev in zip(bwd.deltas, fwd.activations[:-1], strict=True)
    ]
    grad_b = [batch * delta for delta in bwd.deltas]
    return grad_W, grad_b
