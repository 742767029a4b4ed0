"""Property-based tests (Hypothesis): every input is a success or one clean error.

Generated inputs: configs (valid ones, ones damaged as data and as YAML text, ``--set``
overrides), traces damaged anywhere in their JSON (also through ``backprop-anim
validate``: exit 0 or 2 and one line), script.json files and sweep files. The property is the
same for all: the library returns a result or raises a ``UserError`` whose message starts
with the file's name; any other exception (an ``IndexError``, a ``KeyError``...) is the
traceback a user would see, and fails the test. A damaged trace that passes the check
must also be readable by what draws and speaks it (the storyboard, the narration).

The engine's invariants on generated valid networks: the loss is finite for bounded
inputs, the gradients equal central finite differences to 1e-6 relative, and the trace
round-trips through JSON exactly.

The run is derandomized (the same cases every time, so CI never flakes) and sized to
take about a minute in total; ``BACKPROP_ANIM_FUZZ=10`` multiplies every example count
for a thorough run, with fresh random cases. ``pytest --hypothesis-show-statistics``
prints how many cases each test ran.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from click.testing import CliRunner
from conftest import BASE_CONFIG, TEXTBOOK
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_gradients import KINKED, numeric_gradients

from backprop_anim import overview
from backprop_anim.batch.sweep import load_batch
from backprop_anim.cli import main
from backprop_anim.config.loader import config_from_dict, load_config, parse_yaml, validate
from backprop_anim.engine.network import Network
from backprop_anim.engine.trainer import train
from backprop_anim.errors import UserError
from backprop_anim.maths.losses import get_loss
from backprop_anim.narration.script import build_script, load_script
from backprop_anim.options import SCENES, RenderOptions
from backprop_anim.storyboard import build_storyboard
from backprop_anim.trace.model import Trace

SCALE = int(os.environ.get("BACKPROP_ANIM_FUZZ", "1"))


def fuzz(examples: int) -> settings:
    """Settings of one property: ``examples`` cases (times BACKPROP_ANIM_FUZZ)."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=SCALE == 1,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def assert_clean(error: UserError, source: str) -> None:
    """One clear message that names the file: no exception text, no traceback."""
    text = str(error)
    assert text.startswith(source), text
    assert "Traceback" not in text and "Error:" not in text.split(": ", 1)[0], text


SCRATCH = Path(tempfile.mkdtemp(prefix="backprop-anim-fuzz-"))

# -- random JSON and damage ------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=6,
)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON document (keys and indices), the root excluded."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.append((*prefix, i))
            out.extend(paths(value, (*prefix, i)))
    return out


@st.composite
def damaged(draw, doc: Any, where: list[tuple]) -> Any:
    """``doc`` with one to three random edits: replace, delete, duplicate or truncate."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(where))
        parent = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed it
        key = path[-1]
        op = draw(st.sampled_from(["replace", "replace", "delete", "duplicate", "truncate"]))
        if op == "replace":
            parent[key] = draw(json_values)
        elif op == "delete":
            del parent[key]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif op == "truncate" and isinstance(parent[key], list):
            parent[key] = parent[key][: draw(st.integers(0, max(0, len(parent[key]) - 1)))]
        else:
            parent[key] = draw(json_values)
    return doc


# -- traces ----------------------------------------------------------------------------


def _momentum_trace() -> Trace:
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["training"]["optimizer"] = {"name": "momentum", "learning_rate": 0.3}
    cfg["training"]["steps"] = 2
    return train(config_from_dict(cfg))


TRACES = {
    "textbook": json.loads(train(load_config(TEXTBOOK)).dumps()),
    "momentum": json.loads(_momentum_trace().dumps()),
}
TRACE_PATHS = {name: paths(doc) for name, doc in TRACES.items()}


def read_everything(trace: Trace) -> None:
    """What a render reads before Manim: the storyboard of every scene, the words, and
    the overview's figures (keyframes, the network at a snapshot on the data)."""
    steps = [s.step for s in trace.steps] or None
    options = RenderOptions(steps=steps, scenes=SCENES, voice="none")
    beats = build_storyboard(trace, options)
    build_script(trace, beats, level="detailed")
    overview.view_of(trace)
    overview.targets_out_of_reach(trace)
    X, _ = overview.data_arrays(trace)
    for snap in overview.keyframes(trace):
        overview.predict(trace, snap, X)


@st.composite
def damaged_traces(draw) -> Any:
    name = draw(st.sampled_from(sorted(TRACES)))
    return draw(damaged(TRACES[name], TRACE_PATHS[name]))


@fuzz(300)
@given(doc=damaged_traces())
def test_a_damaged_trace_loads_or_is_one_clean_error(doc):
    try:
        trace = Trace.from_json(doc, "t.json")
    except UserError as exc:
        assert_clean(exc, "t.json")
        return
    # Read as a render would; a clear message is fine (a lecture whose only detailed step
    # was removed has nothing to show).
    with contextlib.suppress(UserError):
        read_everything(trace)


# -- configs ---------------------------------------------------------------------------

SMOOTH = ("sigmoid", "tanh", "linear")
ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")


@st.composite
def valid_configs(draw, activations: tuple[str, ...] = ELEMENTWISE) -> dict[str, Any]:
    """A small valid config: 1-3 inputs, 0-2 hidden layers, an output and loss that fit."""
    n_in = draw(st.integers(1, 3))
    hidden = [
        {
            "units": draw(st.integers(1, 4)),
            "activation": draw(st.sampled_from(activations)),
            "slope": 0.2,
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    kind = draw(st.sampled_from(["regression", "bce", "softmax"]))
    if kind == "softmax":
        n_out = draw(st.integers(2, 3))
        output = {"units": n_out, "activation": "softmax"}
        loss = "cross_entropy"
    elif kind == "bce":
        n_out = draw(st.integers(1, 2))
        output = {"units": n_out, "activation": "sigmoid"}
        loss = "bce"
    else:
        n_out = draw(st.integers(1, 2))
        output = {"units": n_out, "activation": draw(st.sampled_from(activations))}
        loss = draw(st.sampled_from(["half_sse", "mse"]))
    bounded = st.floats(-3, 3, allow_nan=False)
    n_samples = draw(st.integers(1, 4))
    samples = []
    for _ in range(n_samples):
        x = draw(st.lists(bounded, min_size=n_in, max_size=n_in))
        if kind == "softmax":
            y: Any = draw(st.integers(0, n_out - 1))
        elif kind == "bce":
            y = draw(st.lists(st.floats(0, 1), min_size=n_out, max_size=n_out))
        else:
            y = draw(st.lists(st.floats(-1, 1), min_size=n_out, max_size=n_out))
        samples.append({"x": x, "y": y})
    optimizer = draw(st.sampled_from(["sgd", "momentum", "adam"]))
    return {
        "name": "fuzz",
        "network": {
            "inputs": n_in,
            "layers": [*hidden, output],
            "init": {
                "scheme": draw(st.sampled_from(["xavier_uniform", "xavier_normal", "normal"])),
                "seed": draw(st.integers(0, 2**16)),
                "biases": draw(st.sampled_from(["zeros", "scheme"])),
                "std": 0.5,
            },
        },
        "data": {"samples": samples},
        "training": {
            "loss": loss,
            "optimizer": {
                "name": optimizer,
                "learning_rate": draw(st.floats(1e-3, 1.0 if optimizer != "adam" else 0.1)),
            },
            "batch_size": draw(st.sampled_from([1, "full"])),
            "steps": draw(st.integers(1, 3)),
        },
    }


@st.composite
def damaged_configs(draw) -> Any:
    base = draw(valid_configs())
    return draw(damaged(base, paths(base)))


@fuzz(250)
@given(data=damaged_configs())
def test_a_damaged_config_validates_or_is_one_located_error(data):
    try:
        validate(data, source="fuzz.yaml")
    except UserError as exc:
        assert_clean(exc, "fuzz.yaml")


YAML_NOISE = st.sampled_from([*":-[]{},#&*!|>'\"%@` \n\t0aZ", "!!python/object ", "<<: "])


@st.composite
def damaged_yaml(draw) -> str:
    text = yaml.safe_dump(draw(valid_configs()), sort_keys=False)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        noise = draw(YAML_NOISE)
        if op == "insert":
            text = text[:at] + noise + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        else:
            text = text[:at] + noise + text[at + 1 :]
    return text


@fuzz(200)
@given(text=damaged_yaml())
def test_damaged_yaml_text_parses_or_is_one_located_error(text):
    try:
        data, positions = parse_yaml(text, "fuzz.yaml")
        validate(data, source="fuzz.yaml", positions=positions)
    except UserError as exc:
        assert_clean(exc, "fuzz.yaml")


OVERRIDE_PATHS = st.sampled_from(
    [
        "training.steps",
        "training.optimizer.learning_rate",
        "training.batch_size",
        "network.layers.0.units",
        "network.layers.-1.activation",
        "network.layers.5.units",
        "network.inputs",
        "data.samples.0.x",
        "trace.detail_steps",
        "narration",
        "name",
        "training.steps.deeper",
        "",
    ]
)
OVERRIDE_VALUES = st.sampled_from(
    ["1", "0", "-1", "1e9", "nan", "inf", "[0, -1]", "[", "{a: 1}", "tanh", "off", "", "x=y"]
) | st.text(max_size=8)


@fuzz(120)
@given(
    sets=st.lists(st.tuples(OVERRIDE_PATHS, OVERRIDE_VALUES), min_size=1, max_size=3),
    dot=st.booleans(),
)
def test_set_overrides_apply_or_are_one_located_error(sets, dot):
    items = [f"{p}={v}" if dot or p else v for p, v in sets]
    try:
        load_config(TEXTBOOK, items)
    except UserError as exc:
        assert_clean(exc, str(TEXTBOOK))


@fuzz(60)
@given(doc=damaged_traces())
def test_cli_validate_of_a_damaged_trace_exits_0_or_2_with_one_line(doc):
    path = SCRATCH / "trace.json"
    path.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code in (0, 2), result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    if result.exit_code == 2:
        assert result.stderr.startswith(f"Error: {path}: ") and result.stderr.count("\n") == 1


# -- script.json and sweep files -------------------------------------------------------

BOOK_TRACE = Trace.from_json(copy.deepcopy(TRACES["textbook"]), "textbook")
BOOK_BEATS = build_storyboard(BOOK_TRACE, RenderOptions(voice="none"))
BEAT_IDS = [b.id for b in BOOK_BEATS]


@st.composite
def scripts(draw) -> Any:
    line = st.fixed_dictionaries(
        {
            "beat": st.sampled_from(BEAT_IDS) | st.text(max_size=12) | json_values,
            "text": st.text(max_size=30) | json_values,
        },
        optional={"start": json_values, "end": json_values},
    )
    doc = {
        "format": draw(st.sampled_from(["backprop-anim-script", "other"]) | json_values),
        "version": draw(st.sampled_from([1, 2]) | json_values),
        "lines": draw(st.lists(line, max_size=4) | json_values),
    }
    for key in draw(st.sets(st.sampled_from(["format", "version", "lines"]))):
        del doc[key]
    return draw(st.sampled_from([doc, doc.get("lines")]) | json_values)


@fuzz(150)
@given(doc=scripts())
def test_a_script_loads_or_is_one_clean_error(doc):
    path = SCRATCH / "script.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    try:
        texts = load_script(path, BOOK_BEATS, BOOK_TRACE)
    except UserError as exc:
        assert_clean(exc, str(path))
        return
    assert set(texts) <= set(BEAT_IDS) and all(t.strip() for t in texts.values())


(SCRATCH / "base.yaml").write_text(yaml.safe_dump(BASE_CONFIG), encoding="utf-8")
SWEEP_PATHS = st.sampled_from(
    ["training.steps", "training.optimizer.learning_rate", "network.layers.0.units", "nope"]
)


@st.composite
def sweeps(draw) -> Any:
    doc: dict[str, Any] = {
        "base": draw(st.sampled_from(["base.yaml", "missing.yaml"]) | json_values),
        "vary": draw(st.dictionaries(SWEEP_PATHS, st.lists(json_values, max_size=3)) | json_values),
        "mode": draw(st.sampled_from(["product", "zip"]) | json_values),
        "variants": draw(
            st.lists(
                st.fixed_dictionaries(
                    {"name": st.sampled_from(["a", "b", "bad name"]), "set": json_values}
                ),
                max_size=2,
            )
            | json_values
        ),
        "render": draw(
            st.dictionaries(st.sampled_from(["quality", "pace", "digits", "scenes"]), json_values)
            | json_values
        ),
    }
    for key in draw(st.sets(st.sampled_from(sorted(doc)))):
        del doc[key]
    return doc


@fuzz(80)
@given(doc=sweeps())
def test_a_sweep_file_loads_or_is_one_clean_error(doc):
    path = SCRATCH / "sweep.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    try:
        load_batch(path)
    except UserError as exc:
        text = str(exc)
        assert "Traceback" not in text
        # Every variant's message names where its value came from (the sweep file).
        assert text.startswith((str(path), str(SCRATCH / "base.yaml"))), text


# -- engine invariants -----------------------------------------------------------------


@fuzz(60)
@given(cfg=valid_configs())
def test_valid_nets_train_to_finite_losses_and_round_trip_exactly(cfg):
    trace = train(config_from_dict(cfg))
    assert trace.diverged is None
    assert all(math.isfinite(x) for x in trace.summary.loss)
    assert all(math.isfinite(s.loss_after) for s in trace.steps)
    text = trace.dumps()
    again = Trace.from_json(json.loads(text), "round-trip")
    assert again.dumps() == text
    for a, b in zip(trace.steps, again.steps, strict=True):
        for la, lb in zip(a.layers, b.layers, strict=True):
            assert la.W.tobytes() == lb.W.tobytes() and la.delta.tobytes() == lb.delta.tobytes()


@fuzz(60)
@given(cfg=valid_configs((*SMOOTH, "relu")))
def test_gradients_equal_central_finite_differences(cfg):
    loaded = config_from_dict(cfg)
    net = Network.from_config(loaded.config)
    loss = get_loss(cfg["training"]["loss"])
    trace = train(loaded)
    step = trace.steps[0]
    X, Y = step.x, step.y
    fwd = net.forward(X)
    # Finite differences across a ReLU kink measure the wrong slope: stay away from it.
    assume(
        all(
            np.abs(z).min() > 1e-3
            for z, act in zip(fwd.zs, net.activations, strict=True)
            if act.name in KINKED
        )
    )
    bwd = net.backward(fwd, Y, loss)
    num_W, num_b = numeric_gradients(net, X, Y, loss)
    for analytic, numeric in [
        *zip(bwd.grad_W, num_W, strict=True),
        *zip(bwd.grad_b, num_b, strict=True),
    ]:
        scale = max(np.abs(numeric).max(), np.abs(analytic).max())
        # Relative to the gradient's size; a gradient below 1e-7 is compared absolutely
        # (finite differences cannot resolve it better than their own rounding).
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6 * max(scale, 1e-1))
    # The traced step holds these very gradients.
    for layer, g in zip(step.layers, bwd.grad_W, strict=True):
        np.testing.assert_array_equal(layer.grad_W, g)
