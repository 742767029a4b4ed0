"""Weight decay and each sample's own gradient, number by number.

"Is a weight's update offset by the weight itself?" With weight decay it is: these tests
check the rule of each optimizer by hand, in training (weights decayed, biases not), in
the trace (the state term ``decay`` = λw and the split of each move into the part from
the gradient and the part from the weight), and against PyTorch's own optimizers as an
oracle (``torch.optim.SGD(weight_decay=λ)`` and ``torch.optim.AdamW``).

Each sample's own gradient (recorded for batches of up to 8) is checked against the
engine run on that sample alone, and their mean against the step's gradient.
"""

from __future__ import annotations

import copy
import json
import math
import os

import numpy as np
import pytest

from backprop_anim.config.loader import config_from_dict
from backprop_anim.engine.network import PER_SAMPLE_MAX_BATCH, Network
from backprop_anim.engine.optimizers import get_optimizer
from backprop_anim.engine.trainer import train
from backprop_anim.maths.losses import get_loss
from backprop_anim.trace.model import Trace

LAM = 0.1


def test_sgd_decay_rule_by_hand():
    opt = get_optimizer("sgd", learning_rate=0.1, weight_decay=LAM)
    w, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    new, terms = opt.update("w", w, g, {}, 1, decayed=True)
    # w+ = w - eta (g + lambda w): 1 - 0.1 (0.5 + 0.1) = 0.94; -2 - 0.1 (0.25 - 0.2) = -2.005
    np.testing.assert_allclose(new, [0.94, -2.005], rtol=0, atol=1e-15)
    np.testing.assert_allclose(terms["decay"], [0.1, -0.2], rtol=0, atol=1e-15)
    # A bias (decayed=False) follows the plain rule, with no decay term.
    plain, none = opt.update("b", w, g, {}, 1, decayed=False)
    np.testing.assert_allclose(plain, [0.95, -2.025], rtol=0, atol=1e-15)
    assert none == {}


def test_momentum_decay_rule_by_hand():
    opt = get_optimizer("momentum", learning_rate=0.1, momentum=0.9, weight_decay=LAM)
    state: dict = {}
    w1, s1 = opt.update("w", np.array([1.0]), np.array([0.5]), state, 1, decayed=True)
    v1 = 0.5 + 0.1 * 1.0  # v = 0 * mu + g + lambda w
    assert s1["velocity"][0] == pytest.approx(v1, abs=1e-15)
    assert w1[0] == pytest.approx(1.0 - 0.1 * v1, abs=1e-15)
    w2, s2 = opt.update("w", w1, np.array([-0.2]), state, 2, decayed=True)
    v2 = 0.9 * v1 - 0.2 + 0.1 * w1[0]
    assert s2["velocity"][0] == pytest.approx(v2, abs=1e-15)
    assert s2["decay"][0] == pytest.approx(0.1 * w1[0], abs=1e-15)
    assert w2[0] == pytest.approx(w1[0] - 0.1 * v2, abs=1e-15)


def test_adam_decay_is_decoupled_adamw():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    opt = get_optimizer("adam", learning_rate=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=LAM)
    state: dict = {}
    w, m, v = 0.3, 0.0, 0.0
    value = np.array([w])
    for t, g in enumerate([0.4, -0.1, 0.05], start=1):
        value, terms = opt.update("w", value, np.array([g]), state, t, decayed=True)
        # The moments see the gradient only (never lambda w): decoupled decay.
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        w = w - lr * (m_hat / (math.sqrt(v_hat) + eps) + LAM * w)
        assert terms["m"][0] == pytest.approx(m, abs=1e-15)
        assert terms["v"][0] == pytest.approx(v, abs=1e-15)
        assert value[0] == pytest.approx(w, abs=1e-15)


def decay_config(optimizer: dict, steps: int = 4, batch: int | str = "full") -> dict:
    return {
        "name": "decay",
        "network": {
            "inputs": 2,
            "layers": [
                {"units": 3, "activation": "tanh", "biases": [0.1, -0.2, 0.3]},
                {"units": 2, "activation": "sigmoid", "biases": [0.05, -0.05]},
            ],
            "init": {"scheme": "xavier_uniform", "seed": 3},
        },
        "data": {
            "samples": [
                {"x": [0.2, -0.4], "y": [0.1, 0.9]},
                {"x": [0.7, 0.3], "y": [0.8, 0.2]},
                {"x": [-0.5, 0.9], "y": [0.3, 0.6]},
            ]
        },
        "training": {
            "loss": "half_sse",
            "optimizer": optimizer,
            "batch_size": batch,
            "steps": steps,
            "shuffle": False,
        },
    }


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_trace_records_the_decay_and_splits_each_move(name):
    trace = train(
        config_from_dict(decay_config({"name": name, "learning_rate": 0.3, "weight_decay": LAM}))
    )
    assert trace.network.optimizer["weight_decay"] == LAM
    for step in trace.steps:
        for layer in step.layers:
            # decay = lambda w, of the weights before the update; biases are not decayed.
            np.testing.assert_array_equal(layer.state["decay"], LAM * layer.W)
            assert "decay" not in layer.state_b
            from_grad, from_weight = layer.move_parts(trace.network.optimizer)
            np.testing.assert_allclose(from_weight, -0.3 * LAM * layer.W, rtol=1e-15)
            np.testing.assert_allclose(from_grad + from_weight, layer.delta_W, atol=1e-16)
            assert np.all(from_weight != 0.0)
        update_w = next(e for e in step.events if e["op"] == "update_W")
        update_b = next(e for e in step.events if e["op"] == "update_b")
        assert "lambda w" in update_w["formula"] and "decay" in update_w["uses"]
        assert "lambda" not in update_b["formula"]
    if name == "sgd":
        # SGD: the gradient's part is exactly -eta g, the weight's part -eta lambda w.
        layer = trace.steps[0].layers[0]
        np.testing.assert_allclose(
            layer.move_parts(trace.network.optimizer)[0], -0.3 * layer.grad_W, rtol=1e-12
        )
        np.testing.assert_allclose(
            layer.W_next, layer.W - 0.3 * (layer.grad_W + LAM * layer.W), rtol=0, atol=1e-15
        )
        np.testing.assert_allclose(layer.b_next, layer.b - 0.3 * layer.grad_b, rtol=0, atol=1e-15)


def test_no_decay_means_no_decay_term_and_the_same_training():
    plain = train(config_from_dict(decay_config({"name": "sgd", "learning_rate": 0.3})))
    zero = train(
        config_from_dict(decay_config({"name": "sgd", "learning_rate": 0.3, "weight_decay": 0}))
    )
    assert "weight_decay" not in plain.network.optimizer
    for a, b in zip(plain.steps, zero.steps, strict=True):
        for la, lb in zip(a.layers, b.layers, strict=True):
            np.testing.assert_array_equal(la.W_next, lb.W_next)
            assert la.state == {} and lb.state == {}
            assert not la.move_parts(plain.network.optimizer)[1].any()


def test_negative_weight_decay_is_a_located_error(tmp_path):
    from backprop_anim.config.loader import load_config
    from backprop_anim.errors import ConfigError

    path = tmp_path / "bad.yaml"
    cfg = decay_config({"name": "sgd", "learning_rate": 0.3, "weight_decay": -0.1})
    path.write_text(json.dumps(cfg))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "training.optimizer.weight_decay" in str(err.value)


# --- PyTorch as an oracle ----------------------------------------------------------------


def _torch():
    """torch, installed by `make test` (extra `torch-oracle`); in CI its absence fails."""
    if os.environ.get("CI"):
        import torch

        return torch
    return pytest.importorskip("torch")


@pytest.mark.parametrize(
    "optimizer",
    [
        {"name": "sgd", "learning_rate": 0.3, "weight_decay": LAM},
        {"name": "momentum", "learning_rate": 0.2, "momentum": 0.8, "weight_decay": LAM},
        {"name": "adam", "learning_rate": 0.05, "weight_decay": LAM},
    ],
    ids=lambda o: o["name"],
)
def test_weight_decay_matches_torch(optimizer):
    """The engine's whole training equals torch's own optimizer on the same network."""
    torch = _torch()
    torch.set_default_dtype(torch.float64)
    loaded = config_from_dict(decay_config(optimizer, steps=5))
    trace = train(loaded)
    net = Network.from_config(loaded.config)
    Ws = [torch.tensor(w, requires_grad=True) for w in net.W]
    bs = [torch.tensor(b, requires_grad=True) for b in net.b]
    groups = [
        {"params": Ws, "weight_decay": LAM},  # weights decayed...
        {"params": bs, "weight_decay": 0.0},  # ...biases not
    ]
    lr = optimizer["learning_rate"]
    if optimizer["name"] == "sgd":
        opt = torch.optim.SGD(groups, lr=lr)
    elif optimizer["name"] == "momentum":
        opt = torch.optim.SGD(groups, lr=lr, momentum=optimizer["momentum"])
    else:
        opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    X = torch.tensor([s["x"] for s in loaded.config.model_dump()["data"]["samples"]])
    Y = torch.tensor([s["y"] for s in loaded.config.model_dump()["data"]["samples"]])
    for step in trace.steps:
        opt.zero_grad()
        a = X
        for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            z = a @ W.T + b
            a = torch.tanh(z) if i == 0 else torch.sigmoid(z)
        loss = 0.5 * ((Y - a) ** 2).sum() / len(X)  # half_sse, a mean over the batch
        loss.backward()
        assert loss.item() == pytest.approx(step.loss, rel=1e-12)
        opt.step()
        for layer, W, b in zip(step.layers, Ws, bs, strict=True):
            np.testing.assert_allclose(layer.W_next, W.detach().numpy(), rtol=0, atol=1e-12)
            np.testing.assert_allclose(layer.b_next, b.detach().numpy(), rtol=0, atol=1e-12)


# --- each sample's own gradient ----------------------------------------------------------


@pytest.mark.parametrize(
    "loss_name,act", [("half_sse", "sigmoid"), ("mse", "linear"), ("bce", "sigmoid")]
)
def test_per_sample_gradients_are_each_samples_own_and_average_to_the_step(loss_name, act):
    cfg = decay_config({"name": "sgd", "learning_rate": 0.3}, steps=2, batch=3)
    cfg["network"]["layers"][1]["activation"] = act
    cfg["training"]["loss"] = loss_name
    if loss_name == "bce":
        for s in cfg["data"]["samples"]:
            s["y"] = [round(v) for v in s["y"]]
    loaded = config_from_dict(cfg)
    trace = train(loaded)
    step = trace.steps[0]
    net = Network.from_config(loaded.config)
    loss = get_loss(loss_name)
    for i, layer in enumerate(step.layers):
        assert layer.grad_W_per_sample.shape == (3, *layer.W.shape)
        assert layer.grad_b_per_sample.shape == (3, *layer.b.shape)
        # The mean of the samples' gradients is the step's gradient.
        np.testing.assert_allclose(
            layer.grad_W_per_sample.mean(axis=0), layer.grad_W, rtol=0, atol=1e-12
        )
        np.testing.assert_allclose(
            layer.grad_b_per_sample.mean(axis=0), layer.grad_b, rtol=0, atol=1e-12
        )
        # Each is the gradient of that sample alone (the engine on a batch of one).
        for s in range(3):
            alone = net.backward(net.forward(step.x[[s]]), step.y[[s]], loss)
            np.testing.assert_allclose(
                layer.grad_W_per_sample[s], alone.grad_W[i], rtol=0, atol=1e-12
            )
        # They disagree: the samples pull the weights different ways.
        assert np.ptp(layer.grad_W_per_sample, axis=0).max() > 1e-3


def test_per_sample_gradients_only_for_small_batches_and_old_traces_still_read(base_config):
    big = copy.deepcopy(base_config)
    big["data"]["samples"] = big["data"]["samples"] * 3  # 12 samples
    big["training"].update(batch_size=PER_SAMPLE_MAX_BATCH + 1, steps=1)
    (step,) = train(config_from_dict(big)).steps
    assert all(layer.grad_W_per_sample is None for layer in step.layers)
    assert "grad_W_per_sample" not in json.dumps(step.to_json())
    small = train(config_from_dict(base_config))
    data = json.loads(small.dumps())
    assert "grad_W_per_sample" in data["steps"][0]["layers"][0]
    again = Trace.from_json(json.loads(small.dumps()))
    np.testing.assert_array_equal(
        again.steps[0].layers[0].grad_W_per_sample, small.steps[0].layers[0].grad_W_per_sample
    )
    # A version-1 trace written before these fields existed reads, with None for them.
    for s in data["steps"]:
        for layer in s["layers"]:
            del layer["grad_W_per_sample"], layer["grad_b_per_sample"]
    old = Trace.from_json(data)
    assert old.version == 1 and old.steps[0].layers[0].grad_W_per_sample is None
