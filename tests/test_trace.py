"""The trace contract (docs/trace-format.md): JSON round trip, shapes, events, summary,
detail steps, snapshots and versioning.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import TEXTBOOK

from backprop_anim.config.loader import config_from_dict, load_config
from backprop_anim.engine.trainer import detail_step_indices, train
from backprop_anim.errors import UserError
from backprop_anim.trace.model import (
    FORMAT,
    LAYER_TENSORS,
    VERSION,
    Trace,
    load_trace,
)

PHASES = ("forward", "loss", "backward", "update")


@pytest.fixture
def xor_trace(base_config) -> Trace:
    """A 2-3-3-1 network, mini-batches of 2, momentum: every tensor has a real shape."""
    base_config["network"]["layers"].insert(1, {"units": 3, "activation": "relu"})
    base_config["training"].update(
        batch_size=2, steps=4, optimizer={"name": "momentum", "learning_rate": 0.3}
    )
    return train(config_from_dict(base_config))


def assert_traces_equal(a: Trace, b: Trace) -> None:
    assert a.config == b.config and a.network == b.network and a.data == b.data
    assert a.diverged == b.diverged and a.warnings == b.warnings and a.version == b.version
    assert len(a.steps) == len(b.steps)
    for sa, sb in zip(a.steps, b.steps, strict=True):
        assert (sa.step, sa.samples, sa.loss, sa.loss_after) == (
            sb.step,
            sb.samples,
            sb.loss,
            sb.loss_after,
        )
        for name in ("x", "y", "loss_terms"):
            np.testing.assert_array_equal(getattr(sa, name), getattr(sb, name))
        assert sa.events == sb.events
        for la, lb in zip(sa.layers, sb.layers, strict=True):
            assert la.name == lb.name and la.updated == lb.updated
            for key in LAYER_TENSORS:
                np.testing.assert_array_equal(getattr(la, key), getattr(lb, key))
            assert la.state.keys() == lb.state.keys()
            for key in la.state:
                np.testing.assert_array_equal(la.state[key], lb.state[key])
    assert a.summary.loss == b.summary.loss
    assert a.summary.grad_norms == b.summary.grad_norms
    assert a.summary.snapshot_samples == b.summary.snapshot_samples
    for pa, pb in zip(a.summary.snapshots, b.summary.snapshots, strict=True):
        assert (pa.step, pa.loss, pa.accuracy, pa.z_hist) == (
            pb.step,
            pb.loss,
            pb.accuracy,
            pb.z_hist,
        )
        for wa, wb in zip(pa.W, pb.W, strict=True):
            np.testing.assert_array_equal(wa, wb)


def test_json_round_trip_is_exact(tmp_path, xor_trace):
    path = xor_trace.save(tmp_path / "t.json")
    loaded = load_trace(path)
    assert_traces_equal(xor_trace, loaded)
    # Saving the loaded trace gives the same bytes.
    assert loaded.dumps() == path.read_text()


def test_contract_top_level_and_steps(tmp_path, xor_trace):
    doc = json.loads(xor_trace.save(tmp_path / "t.json").read_text())
    assert doc["format"] == "backprop-anim-trace" == FORMAT
    assert doc["version"] == 1 == VERSION
    assert {"format", "version", "config", "steps"} <= doc.keys()
    assert doc["config"]["training"]["batch_size"] == 2  # the normalized config
    assert config_from_dict(doc["config"]).config.network.sizes() == [2, 3, 3, 1]
    sizes = [2, 3, 3, 1]
    assert [s["step"] for s in doc["steps"]] == [0, 1, 2, 3]  # 4 steps: all in detail
    for step in doc["steps"]:
        assert {"step", "samples", "loss", "layers", "events"} <= step.keys()
        assert len(step["samples"]) == 2 and isinstance(step["loss"], float)
        assert [layer["name"] for layer in step["layers"]] == ["hidden1", "hidden2", "output"]
        for i, layer in enumerate(step["layers"]):
            fan_in, units = sizes[i], sizes[i + 1]
            expected = {
                "W": (units, fan_in),
                "b": (units,),
                "z": (2, units),
                "a": (2, units),
                "delta": (2, units),
                "grad_W": (units, fan_in),
                "grad_b": (units,),
                "W_next": (units, fan_in),
                "b_next": (units,),
            }
            for key, shape in expected.items():
                assert np.asarray(layer[key]).shape == shape, (i, key)


def test_layer_tensors_are_consistent_with_each_other(xor_trace):
    lr, mu = 0.3, 0.9
    previous_velocity = None
    for step in xor_trace.steps:
        a_prev = step.x
        for layer in step.layers:
            np.testing.assert_allclose(layer.z, a_prev @ layer.W.T + layer.b, rtol=1e-13)
            np.testing.assert_allclose(layer.grad_W, layer.delta.T @ a_prev, rtol=1e-13)
            np.testing.assert_allclose(layer.grad_b, layer.delta.sum(axis=0), rtol=1e-13)
            a_prev = layer.a
        np.testing.assert_array_equal(step.layers[-1].a.shape, step.y.shape)
        # Momentum: v = mu v_prev + g; W_next = W - lr v.
        out = step.layers[-1]
        v_prev = previous_velocity if previous_velocity is not None else 0.0
        np.testing.assert_allclose(out.state["velocity"], mu * v_prev + out.grad_W, rtol=1e-13)
        np.testing.assert_allclose(out.W_next, out.W - lr * out.state["velocity"], rtol=1e-13)
        previous_velocity = out.state["velocity"]
    # One step's W_next is the next step's W.
    for before, after in zip(xor_trace.steps, xor_trace.steps[1:], strict=False):
        for la, lb in zip(before.layers, after.layers, strict=True):
            np.testing.assert_array_equal(la.W_next, lb.W)
            np.testing.assert_array_equal(la.b_next, lb.b)


def test_events_name_phase_layer_unit_formula_and_numbers(xor_trace):
    step = xor_trace.steps[0]
    ev = step.events
    assert [e["i"] for e in ev] == list(range(len(ev)))
    assert [PHASES.index(e["phase"]) for e in ev] == sorted(PHASES.index(e["phase"]) for e in ev)
    for e in ev:
        assert e["formula"] and "value" in e
        if e["op"] != "loss":
            assert isinstance(e["layer"], int) and isinstance(e["unit"], int)
    units = [3, 3, 1]
    count = {}
    for e in ev:
        count[e["op"]] = count.get(e["op"], 0) + 1
    per_unit = (
        "preactivation",
        "activation",
        "dL_da",
        "act_derivative",
        "delta",
        "grad_W",
        "grad_b",
        "update_W",
        "update_b",
    )
    for op in per_unit:
        assert count[op] == sum(units), op
    assert count["loss_term"] == 1 and count["loss"] == 1
    # The backward pass runs from the output layer back.
    layers_in_backward = [e["layer"] for e in ev if e["op"] == "delta"]
    assert layers_in_backward == sorted(layers_in_backward, reverse=True)
    # Every event's numbers are the layer tensors', at its layer and unit.
    keys = {
        "preactivation": "z",
        "activation": "a",
        "dL_da": "dL_da",
        "act_derivative": "act_derivative",
        "delta": "delta",
    }
    for e in ev:
        layer = step.layers[e["layer"]] if "layer" in e else None
        if e["op"] in keys:
            np.testing.assert_array_equal(e["value"], getattr(layer, keys[e["op"]])[:, e["unit"]])
        elif e["op"] == "grad_W":
            np.testing.assert_array_equal(e["value"], layer.grad_W[e["unit"]])
        elif e["op"] == "update_W":
            np.testing.assert_array_equal(e["value"], layer.W_next[e["unit"]])
            assert e["uses"] == ["W", "grad_W", "velocity"] and e["learning_rate"] == 0.3
        elif e["op"] == "update_b":
            assert e["value"] == layer.b_next[e["unit"]] and "velocity" in e["uses"]
        elif e["op"] == "loss":
            assert e["value"] == step.loss == pytest.approx(step.loss_terms.sum(), rel=1e-15)


def test_detail_steps_default_and_configured(base_config):
    def detail(steps: int, wanted=None) -> list[int]:
        cfg = dict(base_config, training=dict(base_config["training"], steps=steps))
        cfg["trace"] = {"detail_steps": wanted}
        return detail_step_indices(config_from_dict(cfg).config)

    assert detail(1) == [0]
    assert detail(10) == list(range(10))
    assert detail(11) == [0, 10]
    assert detail(500) == [0, 499]
    assert detail(500, [0, 1, -1]) == [0, 1, 499]
    assert detail(500, [-1, -1, 3]) == [3, 499]


def test_long_training_keeps_a_compact_summary(base_config):
    base_config["training"].update(steps=120, batch_size=1)
    for sample in base_config["data"]["samples"]:
        sample["y"] = int(sample["y"][0])  # class labels: snapshots report an accuracy
    base_config["trace"] = {"detail_steps": [0, 5, -1], "snapshot_every": 25}
    trace = train(config_from_dict(base_config))
    assert [s.step for s in trace.steps] == [0, 5, 119]
    s = trace.summary
    assert len(s.loss) == len(s.grad_norms) == len(s.updated_layers) == 120
    assert s.gradient_evaluations == [2 * (k + 1) for k in range(120)]
    assert [p.step for p in s.snapshots] == [0, 25, 50, 75, 100, 120]
    assert s.loss[5] == trace.steps[1].loss and s.loss[-1] == trace.steps[-1].loss
    assert s.grad_norms[5][0] == pytest.approx(np.linalg.norm(trace.steps[1].layers[0].grad_W))
    # Snapshot 0 is the initial network; the last one the trained network.
    np.testing.assert_array_equal(s.snapshots[0].W[0], trace.steps[0].layers[0].W)
    np.testing.assert_array_equal(s.snapshots[-1].W[1], trace.steps[-1].layers[1].W_next)
    # Snapshot figures are computed on the recorded samples (here all 4).
    assert s.snapshot_samples == [0, 1, 2, 3]
    last = s.snapshots[-1]
    a = np.asarray(trace.data["X"])
    for W, b, act in zip(last.W, last.b, (np.tanh, lambda z: 1 / (1 + np.exp(-z))), strict=True):
        a = act(a @ W.T + b)
    y = np.asarray(trace.data["Y"])
    assert last.loss == pytest.approx(0.5 * ((a - y) ** 2).sum() / 4, rel=1e-12)
    assert last.accuracy == pytest.approx(np.mean((a[:, 0] > 0.5) == trace.data["classes"]))
    assert [sum(h) for h in last.z_hist] == [4 * 3, 4 * 1]
    assert len(s.z_bins) == 49 and s.z_bins[0] == -6 and s.z_bins[-1] == 6
    assert min(last.saturation) >= 0.0 and max(last.saturation) <= 1.0


def test_default_snapshots_about_fifty(base_config):
    base_config["training"].update(steps=200)
    trace = train(config_from_dict(base_config))
    steps = [p.step for p in trace.summary.snapshots]
    assert steps[0] == 0 and steps[-1] == 200 and len(steps) == 51


def test_data_section(base_config):
    trace = train(config_from_dict(base_config))
    assert trace.data["kind"] == "regression" and trace.data["n"] == 4
    assert trace.data["X"] == [s["x"] for s in base_config["data"]["samples"]]
    assert trace.data["scaling"] is None


def test_step_lookup_by_index_and_from_the_end(base_config):
    base_config["training"]["steps"] = 30
    trace = train(config_from_dict(base_config))
    assert trace.step(0).step == 0 and trace.step(-1).step == 29
    with pytest.raises(UserError, match="step 5 is not traced in detail"):
        trace.step(5)


def test_unknown_version_and_other_files_are_clear_errors(tmp_path):
    trace = train(load_config(TEXTBOOK))
    doc = trace.to_json()
    path = tmp_path / "t.json"
    path.write_text(json.dumps(dict(doc, version=2)))
    with pytest.raises(UserError, match="trace format version 2 is not supported"):
        load_trace(path)
    path.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(UserError, match="not a backprop-anim trace"):
        load_trace(path)
    path.write_text('{"format": "backprop-anim-trace",\n "version": 1,\n oops}')
    with pytest.raises(UserError, match=r"t\.json:3: not valid JSON"):
        load_trace(path)
    broken = dict(doc)
    del broken["summary"]
    path.write_text(json.dumps(broken))
    with pytest.raises(UserError, match=r"t\.json: summary: missing"):
        load_trace(path)
    with pytest.raises(UserError, match="file not found"):
        load_trace(tmp_path / "missing.json")


def test_save_is_atomic(tmp_path, monkeypatch):
    trace = train(load_config(TEXTBOOK))
    path = trace.save(tmp_path / "t.json")
    before = path.read_text()

    def broken_dumps() -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(trace, "dumps", broken_dumps)
    with pytest.raises(RuntimeError):
        trace.save(path)
    assert path.read_text() == before  # the finished file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]
