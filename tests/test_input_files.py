"""script.json (--script) and sweep files: each mistake is one message with its place."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner
from conftest import BASE_CONFIG, TEXTBOOK

from backprop_anim.batch.sweep import load_batch
from backprop_anim.cli import main
from backprop_anim.config.loader import load_config
from backprop_anim.engine.trainer import train
from backprop_anim.errors import UserError
from backprop_anim.narration.script import load_script
from backprop_anim.options import RenderOptions
from backprop_anim.storyboard import build_storyboard


@pytest.fixture(scope="module")
def lecture():
    trace = train(load_config(TEXTBOOK))
    return trace, build_storyboard(trace, RenderOptions(voice="none"))


def script(**changes) -> dict:
    doc = {
        "format": "backprop-anim-script",
        "version": 1,
        "lines": [{"beat": "s0.loss", "text": "The loss.", "start": 0, "end": 1}],
    }
    doc.update(changes)
    return doc


SCRIPT_CASES = [
    ("wrong version", script(version=2), "version: expected 1 (the script format"),
    ("version as text", script(version="1"), "version: expected 1"),
    ("version as true", script(version=True), "version: expected 1"),
    ("other format", script(format="srt"), "not a backprop-anim script (format 'srt')"),
    (
        "empty text",
        script(lines=[{"beat": "s0.loss", "text": "  "}]),
        "lines[0].text: expected the words to say, got an empty text",
    ),
    (
        "unknown beat id",
        script(lines=[{"beat": "s0.los", "text": "x"}]),
        "lines[0].beat: no beat 's0.los' in this lecture (did you mean 's0.loss'?)",
    ),
    (
        "beat id not text",
        script(lines=[{"beat": 3, "text": "x"}]),
        "lines[0].beat: expected a beat id (text), got 3",
    ),
    ("lines not a list", script(lines={"a": 1}), "expected a script: an object with 'lines'"),
    ("a line not an object", script(lines=["hello"]), "lines[0]: expected an object"),
]


@pytest.mark.parametrize(
    ("doc", "message"), [c[1:] for c in SCRIPT_CASES], ids=[c[0] for c in SCRIPT_CASES]
)
def test_script_mistakes(tmp_path, lecture, doc, message):
    trace, beats = lecture
    path = tmp_path / "script.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_script(path, beats, trace)
    assert str(info.value).startswith(f"{path}: {message}"), str(info.value)


def test_a_script_with_inline_text_marks_is_structure_checked_only(tmp_path, lecture):
    """Words are not judged here (issue 11 adds marks inside them): any non-empty text."""
    trace, beats = lecture
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script(lines=[{"beat": "s0.loss", "text": "[[z]] is"}])))
    assert load_script(path, beats, trace) == {"s0.loss": "[[z]] is"}


def test_cli_render_with_a_bad_script_exits_2_and_writes_nothing(tmp_path):
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script(version=7)), encoding="utf-8")
    out = tmp_path / "out"
    args = ["render", str(TEXTBOOK), "--script", str(path), "--voice", "none", "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: {path}: version: expected 1")
    assert not out.exists()


SWEEP_CASES = [
    ("vary not a mapping", {"vary": [1, 2]}, ":2: vary: expected a mapping"),
    (
        "vary value not a list",
        {"vary": {"training.steps": 3}},
        "vary.training.steps: expected a list",
    ),
    ("unknown path", {"vary": {"training.stepz": [1, 2]}}, "unknown key 'stepz' (did you mean"),
    ("bad value", {"vary": {"training.steps": [1, "lots"]}}, "expected a valid integer"),
    ("missing base", {"base": "nope.yaml"}, "base: base config 'nope.yaml' not found"),
    ("unknown mode", {"mode": "both"}, "mode: expected 'product' or 'zip'"),
    (
        "uneven zip",
        {"mode": "zip", "vary": {"training.steps": [1, 2], "training.seed": [1]}},
        "mode zip needs the same number of values for every path",
    ),
    ("unknown render option", {"render": {"qualty": "l"}}, "render.qualty: unknown render option"),
    ("bad quality", {"render": {"quality": "z"}}, "render.quality: expected one of l, m, h, k"),
    ("digits out of range", {"render": {"digits": 100}}, "render.digits: expected 2 to 8, got 100"),
    (
        "negative unit limit",
        {"render": {"max_units_drawn": -3}},
        "render.max_units_drawn: expected 0 or more, got -3",
    ),
    (
        "variant without set",
        {"variants": [{"name": "a"}]},
        "variants.0.set: this field is required",
    ),
    (
        "variant name with a space",
        {"variants": [{"name": "a b", "set": {"training.steps": 2}}]},
        "variants.0.name: expected text matching the pattern",
    ),
]


@pytest.mark.parametrize(
    ("changes", "message"), [c[1:] for c in SWEEP_CASES], ids=[c[0] for c in SWEEP_CASES]
)
def test_sweep_mistakes(tmp_path, changes, message):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE_CONFIG), encoding="utf-8")
    doc = {"base": "base.yaml", "vary": {"training.steps": [1, 2]}, "render": {}} | changes
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_batch(path)
    text = str(info.value)
    assert text.startswith(str(path)) and message in text, text
