"""A damaged trace is one located message (file: JSON path: expected, got), never a traceback.

Each case below damages a real trace the way a hand edit or another program might, and
names the message it must produce. A representative subset goes through the CLI: exit
status 2, no traceback, nothing written.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import BASE_CONFIG, TEXTBOOK

from backprop_anim.cli import main
from backprop_anim.config.loader import config_from_dict, load_config
from backprop_anim.config.schema import MAX_DETAIL_STEPS
from backprop_anim.engine.trainer import train
from backprop_anim.errors import UserError
from backprop_anim.trace.model import Trace, load_trace
from backprop_anim.trace.validate import LAYER_TENSORS, STEP_TENSORS, check_trace

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def book() -> Doc:
    """The textbook 2-2-2 trace (layers 'hidden' and 'output', one sample, one step)."""
    return json.loads(train(load_config(TEXTBOOK)).dumps())


@pytest.fixture(scope="module")
def momentum() -> Doc:
    """2-3-1, full batch of 4, momentum, three detailed steps (state terms, a real batch)."""
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["training"]["optimizer"] = {"name": "momentum", "learning_rate": 0.3}
    return json.loads(train(config_from_dict(cfg)).dumps())


def setter(path: str, value: Any) -> Callable[[Doc], None]:
    """Set the value at a JSON path like ``steps.0.layers.0.b`` (list items by index)."""

    def edit(doc: Doc) -> None:
        *parents, last = [int(p) if p.lstrip("-").isdigit() else p for p in path.split(".")]
        node: Any = doc
        for part in parents:
            node = node[part]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value(node[last]) if callable(value) else value

    return edit


DELETE = object()

# (id, which trace, edit, expected message after "trace.json: ")
CASES: list[tuple[str, str, Callable[[Doc], None], str]] = [
    ("not an object", "book", lambda d: d.clear(), "not a backprop-anim trace"),
    ("no format", "book", setter("format", DELETE), "not a backprop-anim trace"),
    ("other version", "book", setter("version", 2), "trace format version 2 is not supported"),
    (
        "version as text",
        "book",
        setter("version", "1"),
        "trace format version '1' is not supported",
    ),
    (
        "config is a list",
        "book",
        setter("config", [1, 2]),
        "config: expected an object (the config the trace was made from), got a list of 2",
    ),
    ("config missing", "book", setter("config", DELETE), "config: missing"),
    (
        "config invalid",
        "book",
        setter("config.training.steps", 0),
        "config.training.steps: expected a number >= 1",
    ),
    (
        "config unknown key",
        "book",
        setter("config.training.batchsize", 2),
        "config.training.batchsize: unknown key 'batchsize' (did you mean 'batch_size'?)",
    ),
    (
        "network: extra unit name",
        "book",
        setter("network.unit_names.0", lambda u: [*u, "h3"]),
        "network.unit_names[0]: expected ['h1', 'h2'] (as in config), got ['h1', 'h2', 'h3']",
    ),
    (
        "network: extra layer",
        "book",
        setter("network.layer_names", lambda n: [*n, "more"]),
        "network.layer_names: expected 2 entries (as in config.network), got 3",
    ),
    (
        "network: other activation",
        "book",
        setter("network.activations.1", "relu"),
        "network.activations[1]: expected 'sigmoid' (as in config), got 'relu'",
    ),
    (
        "network: other learning rate",
        "book",
        setter("network.optimizer.learning_rate", 5),
        "network.optimizer.learning_rate: expected 0.5 (as in config), got 5",
    ),
    ("network: no loss", "book", setter("network.loss", DELETE), "network.loss: missing"),
    (
        "bias one too many",
        "book",
        setter("steps.0.layers.0.b", lambda b: [*b, 0.1]),
        "steps[0].layers[0].b: expected 2 values (units of 'hidden'), got 3",
    ),
    (
        "1x1 W in a 2-2-2 net",
        "book",
        setter("steps.0.layers.0.W", [[0.1]]),
        "steps[0].layers[0].W: expected 2 rows (units of 'hidden'), got 1",
    ),
    (
        "W row too short",
        "book",
        setter("steps.0.layers.1.W.1", [0.1]),
        "steps[0].layers[1].W[1]: expected 2 values (units of 'hidden'), got 1",
    ),
    (
        "activation row of the wrong width",
        "book",
        setter("steps.0.layers.1.a.0", [0.1, 0.2, 0.3]),
        "steps[0].layers[1].a[0]: expected 2 values (units of 'output'), got 3",
    ),
    (
        "delta is the text NaN",
        "book",
        setter("steps.0.layers.0.delta", "NaN"),
        "steps[0].layers[0].delta: expected a list of 1 row (samples in the step's batch), "
        "got a text 'NaN'",
    ),
    (
        "delta holds NaN",
        "book",
        setter("steps.0.layers.0.delta.0.1", float("nan")),
        "steps[0].layers[0].delta[0][1]: expected a finite number, got NaN (a diverged",
    ),
    (
        "grad_W holds Infinity",
        "book",
        setter("steps.0.layers.1.grad_W.0.0", float("inf")),
        "steps[0].layers[1].grad_W[0][0]: expected a finite number, got Infinity",
    ),
    (
        "a number as text",
        "book",
        setter("steps.0.layers.0.z.0.0", "0.3775"),
        "steps[0].layers[0].z[0][0]: expected a finite number, got a text '0.3775'",
    ),
    (
        "a null in a tensor",
        "book",
        setter("steps.0.layers.0.b_next.1", None),
        "steps[0].layers[0].b_next[1]: expected a finite number, got null",
    ),
    (
        "a number too large for float64",
        "book",
        setter("steps.0.layers.0.grad_b.0", 10**400),
        "steps[0].layers[0].grad_b[0]: expected a finite number, got a number too large",
    ),
    (
        "W_next missing",
        "book",
        setter("steps.0.layers.0.W_next", DELETE),
        "steps[0].layers[0].W_next: missing (required by the trace format)",
    ),
    (
        "extra layer in a step",
        "book",
        setter("steps.0.layers", lambda ls: [*ls, ls[-1]]),
        "steps[0].layers: expected 2 entries (one per layer), got 3",
    ),
    (
        "layer name differs",
        "book",
        setter("steps.0.layers.0.name", "hidden2"),
        "steps[0].layers[0].name: expected 'hidden', got a text 'hidden2'",
    ),
    (
        "inputs of the wrong width",
        "book",
        setter("steps.0.x.0", [0.05]),
        "steps[0].x[0]: expected 2 values (network inputs), got 1",
    ),
    (
        "targets of the wrong width",
        "book",
        setter("steps.0.y", [[0.01, 0.99, 0.5]]),
        "steps[0].y[0]: expected 2 values (units of 'output'), got 3",
    ),
    (
        "loss terms for two samples in a batch of one",
        "book",
        setter("steps.0.loss_terms", lambda t: t + t),
        "steps[0].loss_terms: expected 1 row (samples in the step's batch), got 2",
    ),
    (
        "sample index outside the data",
        "book",
        setter("steps.0.samples", [5]),
        "steps[0].samples[0]: expected 0 to 0 (a sample index), got 5",
    ),
    (
        "no samples",
        "book",
        setter("steps.0.samples", []),
        "steps[0].samples: expected at least one sample index, got an empty list",
    ),
    (
        "step never trained",
        "book",
        setter("steps.0.step", 3),
        "steps[0].step: expected 0 to 0 (a step trained), got 3",
    ),
    (
        "loss as text",
        "book",
        setter("steps.0.loss", "high"),
        "steps[0].loss: expected a finite number (the batch loss), got a text 'high'",
    ),
    (
        "event on a layer that does not exist",
        "book",
        setter("steps.0.events.0.layer", 5),
        "steps[0].events[0].layer: expected 0 to 1 (a layer index), got 5",
    ),
    (
        "event on a unit that does not exist",
        "book",
        setter("steps.0.events.3.unit", 2),
        "steps[0].events[3].unit: expected 0 to 1 (a unit of 'hidden'), got 2",
    ),
    (
        "event of an unknown phase",
        "book",
        setter("steps.0.events.0.phase", "sideways"),
        "steps[0].events[0].phase: expected one of forward, loss, backward, update",
    ),
    (
        "event op of another phase",
        "book",
        setter("steps.0.events.0.op", "delta"),
        "steps[0].events[0].op: expected one of preactivation, activation in the forward phase",
    ),
    (
        "event value of the wrong length",
        "book",
        setter("steps.0.events.0.value", [0.1, 0.2]),
        "steps[0].events[0].value: expected 1 value (samples in the step's batch), got 2",
    ),
    (
        "summary: more losses than steps",
        "book",
        setter("summary.loss", lambda x: x * 3),
        "summary.loss: expected at most 1 entry (config.training.steps), got 3",
    ),
    (
        "summary: fewer losses without divergence",
        "momentum",
        setter("summary.loss", lambda x: x[:1]),
        "summary.loss: expected 3 entries (config.training.steps; fewer only when",
    ),
    (
        "summary: grad norms for three layers",
        "book",
        setter("summary.grad_norms.0", lambda r: [*r, 0.1]),
        "summary.grad_norms[0]: expected 2 values (layers), got 3",
    ),
    (
        "summary: updated layer that does not exist",
        "book",
        setter("summary.updated_layers.0", [0, 7]),
        "summary.updated_layers[0][1]: expected 0 to 1 (a layer index), got 7",
    ),
    (
        "snapshot of the wrong shape",
        "book",
        setter("summary.snapshots.0.W.1", [[0.4, 0.45]]),
        "summary.snapshots[0].W[1]: expected 2 rows (units of 'output'), got 1",
    ),
    (
        "snapshot histogram of the wrong bins",
        "book",
        setter("summary.snapshots.0.z_hist.0", [1, 2, 3]),
        "summary.snapshots[0].z_hist[0]: expected 48 entries (counts per bin), got 3",
    ),
    (
        "snapshot accuracy above 1",
        "momentum",
        setter("summary.snapshots.0.accuracy", 2),
        "summary.snapshots[0].accuracy: expected a fraction from 0 to 1, got 2",
    ),
    (
        "diverged in an unknown phase",
        "book",
        setter("diverged", {"step": 1, "phase": "later", "layer": None, "message": "x"}),
        "diverged.phase: expected one of forward, loss, backward, update, got a text 'later'",
    ),
    (
        "diverged at a step the summary does not end at",
        "book",
        setter("diverged", {"step": 0, "phase": "loss", "layer": None, "message": "x"}),
        "diverged.step: expected 1 (summary holds the 1 steps before it), got 0",
    ),
    (
        "data of the wrong width",
        "book",
        setter("data.X.0", [0.05]),
        "data.X[0]: expected 2 values (network inputs), got 1",
    ),
    (
        "class label out of range",
        "momentum",
        setter("data.classes", [0, 1, 1, 3]),
        "data.classes[3]: expected 0 to 1 (a class label), got 3",
    ),
    ("warnings not texts", "book", setter("warnings", [3]), "warnings[0]: expected a text"),
    (
        "updated flag as text",
        "book",
        setter("steps.0.layers.0.updated", "yes"),
        "steps[0].layers[0].updated: expected true or false (updated), got a text 'yes'",
    ),
    (
        "unknown optimizer state",
        "momentum",
        setter("steps.0.layers.0.state", {"speed": [[0.0, 0.0]] * 3}),
        "steps[0].layers[0].state.speed: unknown optimizer state term",
    ),
    (
        "momentum velocity missing from an updated layer",
        "momentum",
        setter("steps.1.layers.0.state", {}),
        "steps[1].layers[0].state: expected the optimizer's state term velocity (the layer "
        "was updated), got none",
    ),
    (
        "momentum velocity of the wrong shape",
        "momentum",
        setter("steps.0.layers.1.state.velocity", [[0.0]]),
        "steps[0].layers[1].state.velocity[0]: expected 3 values (units of 'hidden1'), got 1",
    ),
    (
        "steps out of order",
        "momentum",
        setter("steps", lambda s: [s[1], s[0], s[2]]),
        "steps[1].step: expected steps in training order, after step 1, got 0",
    ),
    (
        "too many detailed steps",
        "momentum",
        setter("steps", lambda s: s * (MAX_DETAIL_STEPS // 3 + 1)),
        f"steps: expected at most {MAX_DETAIL_STEPS} detailed steps, got",
    ),
    ("steps not a list", "book", setter("steps", {}), "steps: expected a list"),
    (
        "batch of four with rows for three",
        "momentum",
        setter("steps.2.layers.0.z", lambda z: z[:3]),
        "steps[2].layers[0].z: expected 4 rows (samples in the step's batch), got 3",
    ),
]


def test_matrix_has_at_least_thirty_kinds():
    assert len(CASES) >= 30
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("which", "edit", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_damaged_trace_gives_one_located_message(request, tmp_path, which, edit, message):
    doc = copy.deepcopy(request.getfixturevalue(which))
    edit(doc)
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(UserError) as info:
        load_trace(path)
    text = str(info.value)
    assert text.startswith(f"{path}: "), text
    assert "\n" not in text
    assert f"{path}: {message}" in text, text


def test_class_label_out_of_range_in_classification_data(momentum):
    doc = copy.deepcopy(momentum)
    doc["data"].update(kind="classification", classes=[0, 1, 1, 2])
    with pytest.raises(UserError, match=r"data\.classes\[3\]: expected 0 to 1 \(a class label\)"):
        check_trace(doc, "t.json")


def test_the_undamaged_traces_load_and_round_trip(tmp_path, book, momentum):
    for doc in (book, momentum):
        path = tmp_path / "ok.json"
        path.write_text(json.dumps(doc))
        trace = load_trace(path)
        assert json.loads(trace.dumps()) == doc


def test_a_diverged_trace_is_valid(tmp_path, base_config):
    base_config["training"].update(steps=30, optimizer={"name": "sgd", "learning_rate": 1e6})
    base_config["network"]["layers"][1]["activation"] = "linear"
    trace = train(config_from_dict(base_config))
    assert trace.diverged is not None
    doc = json.loads(trace.dumps())
    again = Trace.from_json(copy.deepcopy(doc), "t.json")
    assert again.diverged == trace.diverged and len(again.summary.loss) == trace.diverged["step"]


def test_an_optional_field_slots_in_with_one_line(momentum):
    """Issue 15's per-sample gradients: one table entry each, checked when present."""
    tensors = {t.key: t for t in LAYER_TENSORS}
    assert not tensors["grad_W_per_sample"].required
    assert tensors["grad_b_per_sample"].dims == ("batch", "units")
    doc = copy.deepcopy(momentum)
    for layer in doc["steps"][0]["layers"]:
        del layer["grad_W_per_sample"], layer["grad_b_per_sample"]
    check_trace(copy.deepcopy(doc), "t.json")  # absent (written before they existed): fine
    doc["steps"][0]["layers"][0]["grad_b_per_sample"] = [[0.0, 0.0, 0.0]] * 3
    with pytest.raises(UserError, match=r"grad_b_per_sample: expected 4 rows \(samples"):
        check_trace(doc, "t.json")
    assert {t.key for t in STEP_TENSORS} == {"x", "y", "loss_terms"}


def test_unknown_keys_are_ignored_within_a_version(tmp_path, book):
    doc = copy.deepcopy(book)
    doc["network"]["future_key"] = 1
    doc["steps"][0]["layers"][0]["future_tensor"] = [1, 2, 3]
    doc["future_section"] = {}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc))
    assert load_trace(path).network.layer_names == ["hidden", "output"]


CLI_CASES = [
    "bias one too many",
    "delta is the text NaN",
    "config is a list",
    "extra layer in a step",
]


@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_render_of_a_damaged_trace_exits_2_and_writes_nothing(tmp_path, book, case):
    _, _, edit, message = next(c for c in CASES if c[0] == case)
    doc = copy.deepcopy(book)
    edit(doc)
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(out), "--voice", "none"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is not None
    assert result.stderr.startswith(f"Error: {path}: {message}"), result.stderr
    assert result.stderr.count("\n") == 1
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trace.json"]


def test_cli_validate_checks_a_saved_trace(tmp_path, book):
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(book))
    ok = CliRunner().invoke(main, ["validate", str(path)])
    assert ok.exit_code == 0 and ok.stdout.strip().endswith("trace is valid")
    doc = copy.deepcopy(book)
    doc["steps"][0]["layers"][0]["b"].append(0.1)
    path.write_text(json.dumps(doc))
    bad = CliRunner().invoke(main, ["validate", str(path)])
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr == (
        f"Error: {path}: steps[0].layers[0].b: expected 2 values (units of 'hidden'), got 3\n"
    )
