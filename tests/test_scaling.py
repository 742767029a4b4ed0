"""Scaled data: the trace carries the scaling, checks it, and the words read it back.

A network trained with ``scale_inputs``/``scale_targets`` sees 1.617 where the data said
120.5. The trace keeps each transform's parameters (``data.input_scaling``,
``data.scaling``), a damaged one is one located message, and the title (screen and
narration) puts the raw value beside the scaled one with the same rounding.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pytest
from conftest import BASE_CONFIG

from backprop_anim.config.loader import config_from_dict
from backprop_anim.engine.trainer import train
from backprop_anim.errors import UserError
from backprop_anim.narration import build_script, scaling
from backprop_anim.numbers import fmt, spoken
from backprop_anim.options import RenderOptions
from backprop_anim.storyboard import build_storyboard
from backprop_anim.trace.model import Trace
from backprop_anim.trace.scaling import input_scaling, target_scaling

HOUSES = [  # size (m²), rooms -> price (k)
    ([120.5, 4.0], [310.0]),
    ([64.0, 2.0], [150.0]),
    ([88.0, 3.0], [205.0]),
    ([150.0, 5.0], [420.0]),
    ([101.0, 3.0], [260.0]),
]


def house_config(scale_inputs: str = "standard", **data: Any) -> dict[str, Any]:
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["network"]["inputs"] = ["size", "rooms"]
    cfg["network"]["layers"][-1]["units"] = ["price"]
    cfg["data"] = {
        "samples": [{"x": x, "y": y} for x, y in HOUSES],
        "scale_inputs": scale_inputs,
        "scale_targets": [0.1, 0.9],
        **data,
    }
    cfg["training"]["batch_size"] = 1
    cfg["training"]["steps"] = 2
    return cfg


@pytest.fixture(scope="module")
def houses() -> Trace:
    return train(config_from_dict(house_config()))


def test_the_trace_carries_the_input_scaling_and_it_round_trips(houses):
    X = np.array([x for x, _ in HOUSES])
    saved = houses.data["input_scaling"]
    assert saved["method"] == "standard"
    assert saved["mean"] == pytest.approx(X.mean(axis=0).tolist())
    assert saved["std"] == pytest.approx(X.std(axis=0).tolist())
    again = Trace.from_json(json.loads(houses.dumps()))
    assert again.data["input_scaling"] == saved
    scaling_ = input_scaling(again)
    step = again.steps[0]
    # The raw values read back are the data's own: sample k's row of the data set.
    raw = scaling_.raw(step.x)
    assert raw == pytest.approx(X[step.samples])
    assert target_scaling(again).inverse(step.y) == pytest.approx(
        np.array([y for _, y in HOUSES])[step.samples]
    )


def test_minmax_scaling_round_trips_too():
    trace = train(config_from_dict(house_config("minmax")))
    saved = Trace.from_json(json.loads(trace.dumps())).data["input_scaling"]
    assert saved == {"method": "minmax", "min": [64.0, 2.0], "max": [150.0, 5.0]}
    assert input_scaling(trace).raw(trace.steps[0].x) == pytest.approx(
        np.array([x for x, _ in HOUSES])[trace.steps[0].samples]
    )


def test_a_trace_without_the_field_still_reads(houses):
    doc = json.loads(houses.dumps())
    del doc["data"]["input_scaling"]  # as written before the field existed
    assert input_scaling(Trace.from_json(doc)) is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda s: s.update(std=[s["std"][0], 0]),
            "data.input_scaling.std[1]: expected a positive standard deviation "
            "(1 for a constant input), got 0",
        ),
        (
            lambda s: s.update(method="minmax"),
            "data.input_scaling.method: expected 'standard' (as config.data.scale_inputs), "
            "got 'minmax'",
        ),
        (
            lambda s: s.update(method="zscore"),
            "data.input_scaling.method: expected one of standard, minmax, got a text 'zscore'",
        ),
        (
            lambda s: s.update(mean=[1.0]),
            "data.input_scaling.mean: expected 2 values (network inputs), got 1",
        ),
        (lambda s: s.pop("std"), "data.input_scaling.std: missing (required by the trace format)"),
        (
            lambda s: s.update(mean=[float("nan"), 1.0]),
            "data.input_scaling.mean[0]: expected a finite number, got NaN",
        ),
    ],
)
def test_a_damaged_input_scaling_is_one_located_message(houses, edit, message):
    doc = json.loads(houses.dumps())
    edit(doc["data"]["input_scaling"])
    with pytest.raises(UserError) as err:
        Trace.from_json(doc, source="t.json")
    assert str(err.value).startswith(f"t.json: {message}")


def test_input_scaling_in_a_trace_whose_config_scales_nothing_is_refused(houses):
    doc = json.loads(houses.dumps())
    doc["config"]["data"]["scale_inputs"] = "none"
    with pytest.raises(UserError) as err:
        Trace.from_json(doc, source="t.json")
    assert str(err.value) == (
        "t.json: data.input_scaling: expected null (config.data.scale_inputs is 'none': the "
        "inputs were not scaled), got an object"
    )


def test_the_title_says_and_shows_raw_beside_scaled_with_the_same_digits(houses):
    step = houses.steps[0]
    x_raw = input_scaling(houses).raw(step.x[0])
    y_raw = target_scaling(houses).inverse(step.y[0])
    mean, std = houses.data["input_scaling"]["mean"], houses.data["input_scaling"]["std"]
    beats = build_storyboard(houses, RenderOptions(scenes=("title", "loss")))
    lines = {ln.beat_id: ln.text for ln in build_script(houses, beats, level="standard")}
    title = lines["title"]
    assert "The inputs were standardized" in title
    assert (
        f"size as {spoken(x_raw[0])}: minus its mean, {spoken(mean[0])}, divided by its "
        f"standard deviation, {spoken(std[0])}, it is {spoken(step.x[0, 0])}"
    ) in title
    assert f"rooms, {spoken(x_raw[1])}, becomes {spoken(step.x[0, 1])}" in title
    assert f"price, {spoken(y_raw[0])} in the data, becomes {spoken(step.y[0, 0])}" in title
    # The screen's rows: the same values through fmt; the rule comes with the sentence
    # that names it, the sample's numbers with the one that reads them ([[raw]]).
    rows = dict(scaling.screen_rows(houses, step, 4))
    assert rows["scaled"] == "(x − mean) / std"
    assert rows["raw"] == (
        f"size {fmt(x_raw[0])} → {fmt(step.x[0, 0])}, rooms {fmt(x_raw[1])} → {fmt(step.x[0, 1])}"
    )
    assert f"[[raw]]So the network does not see size as {spoken(x_raw[0])}" in title
    assert rows["target"].startswith(f"price {fmt(y_raw[0])} → {fmt(step.y[0, 0])}")
    # Every size is one of the data's sizes: the raw value is the sample's own.
    assert float(fmt(x_raw[0])) in [x[0] for x, _ in HOUSES]
    # The loss reads the prediction back in the data's units.
    a = step.layers[-1].a[0, 0]
    predicted = target_scaling(houses).inverse(np.array([a]))[0]
    assert (
        f"price predicts {spoken(predicted)} where the data says {spoken(y_raw[0])}"
        in (lines["s0.loss"])
    )
    brief = {ln.beat_id: ln.text for ln in build_script(houses, beats, level="brief")}
    assert "The inputs were standardized." in brief["title"]


def test_wide_inputs_are_said_to_be_scaled_without_reading_every_one():
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["network"]["inputs"] = 6
    cfg["data"] = {
        "samples": [{"x": [k, 2 * k, 0, 1, k * k, 3], "y": [k % 2]} for k in range(4)],
        "scale_inputs": "standard",
    }
    trace = train(config_from_dict(cfg))
    assert trace.data["input_scaling"]["std"][2] == 1.0  # a constant input: only centred
    beats = build_storyboard(trace, RenderOptions(scenes=("title",)))
    text = build_script(trace, beats, level="standard")[0].text
    assert "The 6 inputs were standardized" in text
    assert dict(scaling.screen_rows(trace, trace.steps[0], 4))["scaled"] == (
        "all 6 inputs: (x − mean) / std, per input"
    )


def test_the_screen_shows_raw_beside_scaled_where_the_sample_is_introduced(tmp_path):
    """render.json's screen text: the title's line and the raw value under each input."""
    import yaml

    from backprop_anim.render import render

    path = tmp_path / "houses.yaml"
    path.write_text(yaml.safe_dump(house_config()))
    options = RenderOptions(quality="l", pace=8.0, voice="none", scenes=("title", "forward"))
    result = render(path, options, output_dir=tmp_path / "out", overrides=["narration=off"])
    meta = json.loads((result.output_dir / "render.json").read_text())
    trace = Trace.from_json(json.loads((result.output_dir / "trace.json").read_text()))
    step = trace.steps[0]
    raw = input_scaling(trace).raw(step.x[0])
    screen = {b["id"]: b["screen_text"] for b in meta["beats"]}
    title = " ".join(screen["title"])
    assert f"size {fmt(raw[0])} → {fmt(step.x[0, 0])}, rooms {fmt(raw[1])} → " in title
    first = next(k for k in screen if k.startswith("s0.forward."))
    assert f"raw {fmt(raw[0])}" in screen[first] and f"raw {fmt(raw[1])}" in screen[first]
    assert fmt(step.x[0, 0]) in screen[first]  # the scaled value in the neuron, beside it
