"""The explore server's JSON API, against the real server process on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml
from explore_server import ExploreServer, wait_for

from backprop_anim.config.loader import config_from_dict, load_config
from backprop_anim.engine.trainer import train
from backprop_anim.trace.model import Trace

REPO = Path(__file__).resolve().parent.parent
TEXTBOOK = REPO / "configs" / "textbook-2-2-2.yaml"


@pytest.fixture(scope="module")
def server():
    srv = ExploreServer(TEXTBOOK)
    yield srv
    # Ctrl-C: a clean stop, no traceback (a render job, if any, is stopped with it).
    assert srv.stop() in (0, 130)
    assert "Traceback" not in srv.stderr, srv.stderr


@pytest.fixture
def fresh(server):
    """The textbook config as it was (tests that edit undo their edits first)."""
    original = yaml.safe_load(TEXTBOOK.read_text())
    status, _ = server.json("POST", "/api/set", {"path": "network", "value": original["network"]})
    assert status == 200
    for path, value in (
        ("training", original["training"]),
        ("data", original["data"]),
    ):
        assert server.json("POST", "/api/set", {"path": path, "value": value})[0] == 200
    return server


def trace_of(server) -> Trace:
    status, body, headers = server.request("GET", "/api/trace")
    assert status == 200 and headers["content-type"].startswith("application/json")
    data = json.loads(body)
    assert data["format"] == "backprop-anim-trace" and data["version"] == 1
    return Trace.from_json(data)


def assert_same_step(a: Trace, b: Trace) -> None:
    sa, sb = a.steps[0], b.steps[0]
    assert sa.loss == sb.loss
    for la, lb in zip(sa.layers, sb.layers, strict=True):
        for key in ("W", "b", "z", "a", "delta", "grad_W", "grad_b", "W_next", "b_next"):
            np.testing.assert_array_equal(getattr(la, key), getattr(lb, key), err_msg=key)
    assert [e["op"] for e in sa.events] == [e["op"] for e in sb.events]


def test_start_banner_and_local_address(server) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert "Warning" not in server.banner


def test_trace_is_the_engines_textbook_step(fresh) -> None:
    trace = trace_of(fresh)
    step = trace.steps[0]
    assert round(step.layers[0].a[0, 0], 4) == 0.5933
    assert round(step.layers[1].a[0, 0], 4) == 0.7514
    assert round(step.loss, 4) == 0.2984
    assert_same_step(trace, train(load_config(TEXTBOOK)))


def test_set_a_weight_retrains_with_the_engine(fresh) -> None:
    status, body, _ = fresh.request(
        "POST", "/api/set", {"path": "network.layers.0.weights.0.1", "value": -0.3}
    )
    assert status == 200
    got = Trace.from_json(json.loads(body))
    expected = train(load_config(TEXTBOOK, ["network.layers.0.weights.0.1=-0.3"]))
    assert_same_step(got, expected)
    assert got.steps[0].layers[0].W[0, 1] == -0.3
    z = 0.15 * 0.05 - 0.3 * 0.1 + 0.35
    assert got.steps[0].layers[0].a[0, 0] == pytest.approx(1 / (1 + np.exp(-z)), rel=1e-12)
    # GET /api/trace now serves the same trace.
    assert_same_step(trace_of(fresh), expected)


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (
            {"path": "network.layers.0.weights.0.1", "value": "heavy"},
            "network.layers.0.weights.0.1: expected a valid number (got 'heavy')",
        ),
        (
            {"path": "network.layers.5.weights.0.1", "value": 0.1},
            "network.layers.5.weights.0.1: network.layers.5 is not an index of a list of 2",
        ),
        (
            {"path": "training.optimizer.learning_rate", "value": -1},
            "training.optimizer.learning_rate: expected a number > 0 (got -1)",
        ),
        (
            {"path": "training.optimizr", "value": {"name": "sgd"}},
            "training.optimizr: unknown key 'optimizr' (did you mean 'optimizer'?)",
        ),
        (
            {"path": "network.layers.0.activation", "value": "sigmoidd"},
            "network.layers.0.activation: unknown activation 'sigmoidd'; expected one of: "
            "sigmoid, tanh, relu, leaky_relu, linear, softmax (did you mean 'sigmoid'?)",
        ),
        ({"path": "", "value": 1}, "path: expected a dotted path"),
        ({"value": 1}, 'body: expected {"path": "a.b.0", "value": ...}'),
        (
            {"path": "training.steps", "value": 100000},
            "training.steps: expected at most 5000 steps in explore, got 100000",
        ),
        (
            {
                "path": "data.csv",
                "value": {"path": "/etc/passwd", "inputs": ["a"], "targets": ["b"]},
            },
            "data: expected exactly one data source",
        ),
    ],
)
def test_bad_edits_are_400_and_change_nothing(fresh, edit, error) -> None:
    _, before, _ = fresh.request("GET", "/api/trace")
    _, config_before, _ = fresh.request("GET", "/api/config")
    status, body = fresh.json("POST", "/api/set", edit)
    assert status == 400
    assert set(body) == {"error"}
    assert body["error"].startswith(error), body["error"]
    assert fresh.request("GET", "/api/trace")[1] == before
    assert fresh.request("GET", "/api/config")[1] == config_before


def test_bodies_are_bounded_and_must_be_json(server) -> None:
    status, data, _ = server.request("POST", "/api/set", raw=b"x" * (65 * 1024))
    assert status == 413
    assert json.loads(data)["error"] == "body: expected at most 65536 bytes"
    status, data, _ = server.request("POST", "/api/set", raw=b"{not json")
    assert status == 400 and json.loads(data)["error"].startswith("body: expected a JSON object")
    status, data, _ = server.request("POST", "/api/set", raw=b"[1, 2]")
    assert status == 400
    status, data, _ = server.request("GET", "/api/set")
    assert status == 405 and "error" in json.loads(data)
    status, data, _ = server.request("GET", "/api/nothing-here")
    assert status == 404 and "error" in json.loads(data)
    status, _, _ = server.request("GET", "/static/../../session.py")
    assert status == 404


def test_config_is_yaml_that_render_accepts(fresh, tmp_path: Path) -> None:
    assert (
        fresh.json("POST", "/api/set", {"path": "training.optimizer.learning_rate", "value": 0.25})[
            0
        ]
        == 200
    )
    status, body, headers = fresh.request("GET", "/api/config")
    assert status == 200 and headers["content-type"].startswith("application/yaml")
    saved = tmp_path / "edited.yaml"
    saved.write_bytes(body)
    loaded = load_config(saved)  # what `backprop-anim render` reads
    assert loaded.config.training.optimizer.learning_rate == 0.25
    assert_same_step(trace_of(fresh), train(loaded))
    status, _, headers = fresh.request("GET", "/api/config?download=1")
    assert headers["content-disposition"] == 'attachment; filename="textbook-2-2-2.yaml"'


def test_50_concurrent_edits_leave_a_consistent_state(fresh) -> None:
    edits = [
        {
            "path": f"network.layers.{n % 2}.weights.{(n // 2) % 2}.{(n // 4) % 2}",
            "value": round(0.01 * n - 0.2, 2),
        }
        for n in range(50)
    ]
    results: list[int] = [0] * 50

    def send(n: int) -> None:
        results[n] = fresh.request("POST", "/api/set", edits[n])[0]

    threads = [threading.Thread(target=send, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 50
    config = yaml.safe_load(fresh.request("GET", "/api/config")[1])
    trace = trace_of(fresh)
    assert_same_step(trace, train(config_from_dict(config)))
    # Every weight holds one of the values sent for it (the last one applied).
    for i in range(2):
        for j in range(2):
            for k in range(2):
                sent = {
                    e["value"] for e in edits if e["path"] == f"network.layers.{i}.weights.{j}.{k}"
                }
                assert config["network"]["layers"][i]["weights"][j][k] in sent


def test_view_numbers_are_fmt_texts_and_events_in_trace_order(fresh) -> None:
    status, view = fresh.json("GET", "/api/view")
    assert status == 200
    step = view["step"]
    assert step["layers"][0]["a"] == ["0.5933", "0.5969"]
    assert step["layers"][1]["a"] == ["0.7514", "0.7729"]
    assert step["loss"] == "0.2984"
    trace = trace_of(fresh)
    assert [e["i"] for e in step["events"]] == [e["i"] for e in trace.steps[0].events]
    assert [e["op"] for e in step["events"]] == [e["op"] for e in trace.steps[0].events]
    first = step["events"][0]
    assert first["title"] == "Forward · hidden · weighted sum z of h1"
    status, formula = fresh.json("GET", "/api/formula?step=0&i=0")
    assert status == 200
    assert "0.15 \\cdot 0.05 + 0.2 \\cdot 0.1 + 0.35 = 0.3775" in formula["latex"]
    status, formula = fresh.json("GET", "/api/formula?step=0&i=16")  # delta of o2
    assert formula["latex"].endswith(r"\left(-0.2171\right) \cdot 0.1755 = -0.0381")
    assert fresh.json("GET", "/api/formula?step=0&i=99")[0] == 400
    assert fresh.json("GET", "/api/formula?step=3&i=0")[0] == 400


def test_add_and_remove_a_hidden_unit(fresh) -> None:
    status, body, _ = fresh.request("POST", "/api/unit", {"layer": 0, "change": 1})
    assert status == 200
    grown = Trace.from_json(json.loads(body))
    assert grown.network.unit_names[0] == ["h1", "h2", "h3"]
    W0 = grown.steps[0].layers[0].W
    assert W0.shape == (3, 2) and W0[:2].tolist() == [[0.15, 0.2], [0.25, 0.3]]
    config = yaml.safe_load(fresh.request("GET", "/api/config")[1])
    assert_same_step(grown, train(config_from_dict(config)))
    status, body, _ = fresh.request("POST", "/api/unit", {"layer": 0, "change": -1})
    assert status == 200
    assert_same_step(Trace.from_json(json.loads(body)), train(load_config(TEXTBOOK)))
    status, err = fresh.json("POST", "/api/unit", {"layer": 1, "change": 1})
    assert status == 400 and err["error"].startswith(
        "network.layers.1.units: expected a hidden layer"
    )


def test_editing_a_drawn_weight_keeps_the_others(tmp_path: Path) -> None:
    """A net whose weights the init scheme drew: one edit writes them all, changes one."""
    cfg = yaml.safe_load((REPO / "configs" / "xor.yaml").read_text())
    path = tmp_path / "xor.yaml"
    path.write_text(yaml.safe_dump(cfg))
    srv = ExploreServer(path)
    try:
        before = trace_of(srv).summary.snapshots[0].W
        status, body, _ = srv.request(
            "POST", "/api/set", {"path": "network.layers.0.weights.1.0", "value": 0.5}
        )
        assert status == 200
        after = Trace.from_json(json.loads(body)).summary.snapshots[0].W
        changed = [
            (i, *idx)
            for i, (a, b) in enumerate(zip(before, after, strict=True))
            for idx in zip(*np.nonzero(a != b), strict=True)
        ]
        assert changed == [(0, 1, 0)] and after[0][1, 0] == 0.5
    finally:
        srv.stop()


def test_dropped_connections_and_failed_render_leave_the_server_serving(fresh) -> None:
    host, port = fresh.url.removeprefix("http://").split(":")
    for payload in (
        b'POST /api/set HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{"pa',
        b"GET /api/tr",
    ):
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(payload)
    # A linear output with an enormous learning rate: the first update overflows, the
    # trace has no finished step, and the render of it fails with the engine's message.
    assert (
        fresh.json("POST", "/api/set", {"path": "network.layers.1.activation", "value": "linear"})[
            0
        ]
        == 200
    )
    assert (
        fresh.json(
            "POST", "/api/set", {"path": "training.optimizer.learning_rate", "value": 1e308}
        )[0]
        == 200
    )
    _, view = fresh.json("GET", "/api/view")
    assert view["step"] is None and "diverged at step 0" in view["diverged"]
    status, started = fresh.json("POST", "/api/render", {})
    assert status == 202
    job = started["job"]
    done = wait_for(
        lambda: (s := fresh.json("GET", f"/api/render/{job}")[1])["status"] != "running" and s,
        timeout=120,
    )
    assert done["status"] == "failed" and "diverged at step 0" in done["error"]
    assert fresh.request("GET", f"/api/render/{job}/video")[0] == 404
    assert fresh.request("GET", "/api/trace")[0] == 200
    assert fresh.request("GET", "/api/render/999")[0] == 404


def test_a_saved_trace_is_served_as_saved_and_then_edited(tmp_path: Path) -> None:
    saved = train(load_config(TEXTBOOK))
    path = saved.save(tmp_path / "trace.json")
    srv = ExploreServer(path)
    try:
        assert srv.request("GET", "/api/trace")[1] == path.read_bytes()
        status, body, _ = srv.request(
            "POST", "/api/set", {"path": "data.samples.0.x.0", "value": 0.0}
        )
        assert status == 200
        expected = train(load_config(TEXTBOOK, ["data.samples.0.x.0=0.0"]))
        assert_same_step(Trace.from_json(json.loads(body)), expected)
    finally:
        srv.stop()


def test_another_host_is_announced_with_a_warning() -> None:
    srv = ExploreServer(TEXTBOOK, "--host", "127.0.0.2")
    try:
        assert srv.url.startswith("http://127.0.0.2:")
        assert srv.request("GET", "/api/config")[0] == 200
    finally:
        srv.stop()
    assert "Warning: listening on 127.0.0.2, not 127.0.0.1" in srv.warnings


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("nowhere.yaml", "nowhere.yaml: file not found"),
        ("configs", "File 'configs' is a directory"),
    ],
)
def test_bad_sources_are_one_message_and_exit_2(source: str, message: str) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "backprop_anim.cli", "explore", source, "--no-browser"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
