"""Every gradient the engine computes agrees with central finite differences of the loss.

Each combination of activations and loss that the schema admits is checked on a small
random network (two hidden layers) and random batches of 1 and of 5 samples. The
finite differences perturb one parameter at a time by +-h and difference the loss the
engine's forward pass gives; points are chosen away from the ReLU kinks.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_anim.config.loader import config_from_dict
from backprop_anim.engine.network import Network
from backprop_anim.engine.trainer import train
from backprop_anim.maths.losses import get_loss

ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
H = 1e-5
RTOL = 1e-6
KINKED = ("relu", "leaky_relu")


def combinations() -> list[tuple[str, str, str]]:
    """(hidden activation, output activation, loss) for every pair the schema admits."""
    out = []
    for hidden in ELEMENTWISE:
        for output in ELEMENTWISE:
            for loss in ("half_sse", "mse"):
                out.append((hidden, output, loss))
        out.append((hidden, "sigmoid", "bce"))
        out.append((hidden, "softmax", "cross_entropy"))
    return out


def build(hidden: str, output: str, loss: str, seed: int) -> tuple[Network, int]:
    n_out = 3 if output == "softmax" else 2
    cfg = {
        "name": "gradcheck",
        "network": {
            "inputs": 3,
            "layers": [
                {"units": 4, "activation": hidden, "slope": 0.2},
                {"units": 3, "activation": hidden, "slope": 0.2},
                {"units": n_out, "activation": output, "slope": 0.2},
            ],
            "init": {"scheme": "normal", "std": 0.8, "seed": seed, "biases": "scheme"},
        },
        "data": {"samples": [{"x": [0.0, 0.0, 0.0], "y": [0.5] * n_out}]},
        "training": {"loss": loss},
    }
    # The schema admits the combination (else config_from_dict raises).
    return Network.from_config(config_from_dict(cfg).config), n_out


def targets(output: str, loss: str, n_out: int, batch: int, rng: np.random.Generator):
    if loss == "cross_entropy":
        return np.eye(n_out)[rng.integers(0, n_out, size=batch)]
    if loss == "bce":
        return rng.uniform(0.0, 1.0, size=(batch, n_out))
    return rng.normal(0.0, 1.0, size=(batch, n_out))


def away_from_kinks(net: Network, X: np.ndarray) -> bool:
    """True when no pre-activation of a ReLU-like layer is within 1e-3 of its kink."""
    fwd = net.forward(X)
    return all(
        np.abs(z).min() > 1e-3
        for z, act in zip(fwd.zs, net.activations, strict=True)
        if act.name in KINKED
    )


def numeric_gradients(net: Network, X, Y, loss) -> tuple[list[np.ndarray], list[np.ndarray]]:
    def value() -> float:
        return loss.value(net.forward(X).activations[-1], Y)

    grads_W, grads_b = [], []
    for params, out in ((net.W, grads_W), (net.b, grads_b)):
        for p in params:
            g = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                keep = p[idx]
                p[idx] = keep + H
                up = value()
                p[idx] = keep - H
                down = value()
                p[idx] = keep
                g[idx] = (up - down) / (2 * H)
            out.append(g)
    return grads_W, grads_b


def assert_close(analytic: np.ndarray, numeric: np.ndarray, what: str) -> None:
    """Relative agreement: within RTOL of each value, or of the gradient's largest entry."""
    scale = np.abs(numeric).max()
    assert scale > 0, f"{what}: the gradient is zero, the check would prove nothing"
    np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=RTOL * scale, err_msg=what)


@pytest.mark.parametrize(("hidden", "output", "loss_name"), combinations())
@pytest.mark.parametrize("batch", [1, 5])
def test_gradients_match_finite_differences(hidden, output, loss_name, batch):
    rng = np.random.default_rng(batch)
    loss = get_loss(loss_name)
    # A point away from the ReLU kinks where no layer is entirely dead (a zero gradient
    # would agree with anything).
    for seed in range(100):
        net, n_out = build(hidden, output, loss_name, seed)
        X = rng.normal(0.0, 1.0, size=(batch, 3))
        Y = targets(output, loss_name, n_out, batch, rng)
        fwd = net.forward(X)
        bwd = net.backward(fwd, Y, loss)
        alive = all(np.abs(g).max() > 1e-3 for g in bwd.grad_W + bwd.grad_b)
        if alive and away_from_kinks(net, X):
            break
    else:  # pragma: no cover - 100 seeds always give such a point
        pytest.fail("no point away from the ReLU kinks with live units")

    num_W, num_b = numeric_gradients(net, X, Y, loss)
    for i in range(len(net.W)):
        assert_close(bwd.grad_W[i], num_W[i], f"grad_W of layer {i}")
        assert_close(bwd.grad_b[i], num_b[i], f"grad_b of layer {i}")
        # The traced pieces multiply out: delta = dL/da * f'(z) for element-wise layers
        # (also for a fused output, whose closed form equals the chain-rule product).
        if net.activations[i].elementwise:
            np.testing.assert_allclose(
                bwd.deltas[i], bwd.dL_da[i] * bwd.act_derivative[i], rtol=1e-9, atol=1e-15
            )
        # grad_b is the batch sum of delta; grad_W the batch sum of delta x a_prev.
        np.testing.assert_allclose(bwd.grad_b[i], bwd.deltas[i].sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(
            bwd.grad_W[i], bwd.deltas[i].T @ fwd.activations[i], rtol=1e-12, atol=1e-300
        )


def test_softmax_delta_matches_the_jacobian_product():
    """The softmax layer's delta is the full Jacobian product, not dL/da * diag."""
    rng = np.random.default_rng(0)
    net, _ = build("tanh", "softmax", "cross_entropy", seed=3)
    X = rng.normal(size=(4, 3))
    Y = np.eye(3)[[0, 2, 1, 2]]
    loss = get_loss("cross_entropy")
    fwd = net.forward(X)
    bwd = net.backward(fwd, Y, loss)
    a = fwd.activations[-1]
    upstream = loss.gradient(a, Y)  # -y / a / batch
    jacobian_product = np.stack(
        [(np.diag(a[n]) - np.outer(a[n], a[n])) @ upstream[n] for n in range(len(a))]
    )
    np.testing.assert_allclose(bwd.deltas[-1], jacobian_product, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(bwd.deltas[-1], (a - Y) / len(a), rtol=1e-10, atol=1e-15)


def softmax_ce_by_hand(Ws, bs, X, classes):
    """Mean over the batch of -ln softmax(z)[class] for a sigmoid-hidden network."""
    a = X
    for W, b in zip(Ws[:-1], bs[:-1], strict=True):
        a = 1.0 / (1.0 + np.exp(-(a @ W.T + b)))
    z = a @ Ws[-1].T + bs[-1]
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(X)), classes].mean()


@pytest.mark.parametrize("as_index", [True, False], ids=["class-index", "one-hot"])
def test_softmax_targets_as_class_index_or_one_hot(as_index):
    """Both target forms train the same network to the same gradients (end to end)."""
    X = [[0.2, -0.4], [1.0, 0.3], [-0.7, 0.9]]
    classes = [2, 0, 1]
    samples = [
        {"x": x, "y": c if as_index else np.eye(3)[c].tolist()}
        for x, c in zip(X, classes, strict=True)
    ]
    cfg = {
        "name": "softmax-targets",
        "network": {
            "inputs": 2,
            "layers": [
                {"units": 3, "activation": "sigmoid"},
                {"units": 3, "activation": "softmax"},
            ],
            "init": {"scheme": "normal", "std": 0.7, "seed": 5, "biases": "scheme"},
        },
        "data": {"samples": samples},
        "training": {"loss": "cross_entropy", "batch_size": "full", "steps": 1},
    }
    trace = train(config_from_dict(cfg))
    step = trace.steps[0]
    np.testing.assert_array_equal(step.y, np.eye(3)[classes])
    Ws = [layer.W.copy() for layer in step.layers]
    bs = [layer.b.copy() for layer in step.layers]
    Xa, cl = np.array(X), np.array(classes)
    assert step.loss == pytest.approx(softmax_ce_by_hand(Ws, bs, Xa, cl), rel=1e-12)
    for i, layer in enumerate(step.layers):
        for params, analytic in ((Ws, layer.grad_W), (bs, layer.grad_b)):
            numeric = np.zeros_like(analytic)
            for idx in np.ndindex(analytic.shape):
                keep = params[i][idx]
                params[i][idx] = keep + H
                up = softmax_ce_by_hand(Ws, bs, Xa, cl)
                params[i][idx] = keep - H
                down = softmax_ce_by_hand(Ws, bs, Xa, cl)
                params[i][idx] = keep
                numeric[idx] = (up - down) / (2 * H)
            assert_close(analytic, numeric, f"layer {i}")
    if as_index:
        assert trace.data["classes"] == classes
