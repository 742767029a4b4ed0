"""More kinds of bad config, each with its located message (tests/test_cli_basic.py holds
the first 42, through the CLI). These cover the fields the JSON Schema describes: init,
optimizer ranges, unit names, scaling, narration, trace settings."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import BASE_CONFIG

from backprop_anim.cli import main
from backprop_anim.config.loader import load_config
from backprop_anim.errors import ConfigError


def at(path: str, value: Any):
    def edit(cfg: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = cfg
        for part in parents:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
        node[last] = value

    return edit


# (id, edit, field, phrase)
CASES = [
    (
        "unknown init scheme",
        at("network.init.scheme", "glorot"),
        "network.init.scheme",
        "unknown init scheme 'glorot'",
    ),
    (
        "init range reversed",
        at("network.init", {"scheme": "uniform", "low": 1, "high": -1}),
        "network.init",
        "uniform range needs low < high",
    ),
    ("init std zero", at("network.init.std", 0), "network.init.std", "expected a number > 0"),
    (
        "init biases unknown",
        at("network.init.biases", "ones"),
        "network.init.biases",
        "expected 'zeros' or 'scheme'",
    ),
    (
        "layer init unknown key",
        at("network.layers.0.init", {"sceme": "normal"}),
        "network.layers.0.init.sceme",
        "did you mean 'scheme'?",
    ),
    (
        "momentum of 1",
        at("training.optimizer.momentum", 1),
        "training.optimizer.momentum",
        "expected a number < 1",
    ),
    (
        "beta2 negative",
        at("training.optimizer.beta2", -0.1),
        "training.optimizer.beta2",
        "expected a number >= 0",
    ),
    (
        "eps zero",
        at("training.optimizer.eps", 0),
        "training.optimizer.eps",
        "expected a number > 0",
    ),
    (
        "duplicate unit names",
        at("network.layers.0.units", ["h", "h", "k"]),
        "network.layers.0.units",
        "unit names must be unique",
    ),
    (
        "unit name with a space",
        at("network.layers.0.units", ["h 1", "h2", "h3"]),
        "network.layers.0.units.0",
        "expected text matching the pattern '^[A-Za-z][A-Za-z0-9_]{0,15}$'",
    ),
    ("zero inputs", at("network.inputs", 0), "network.inputs", ">= 1"),
    ("zero units", at("network.layers.0.units", 0), "network.layers.0.units", ">= 1"),
    ("no layers", at("network.layers", []), "network.layers", "expected at least 1 items"),
    (
        "duplicate layer names",
        lambda c: [layer.update(name="same") for layer in c["network"]["layers"]],
        "network.layers.0.name",
        "layer name 'same' is used twice",
    ),
    (
        "softmax with one unit",
        lambda c: (
            c["network"]["layers"][1].update(activation="softmax"),
            c["training"].update(loss="cross_entropy"),
        ),
        "network.layers.1.activation",
        "softmax needs at least 2 output units",
    ),
    (
        "bce on a tanh output",
        lambda c: (
            c["network"]["layers"][1].update(activation="tanh"),
            c["training"].update(loss="bce"),
        ),
        "training.loss",
        "bce needs a sigmoid output layer",
    ),
    (
        "leaky slope infinite",
        at("network.layers.0.slope", float("inf")),
        "network.layers.0.slope",
        "finite number",
    ),
    ("batch size zero", at("training.batch_size", 0), "training.batch_size", ">= 1"),
    (
        "batch size as a word",
        at("training.batch_size", "half"),
        "training.batch_size",
        "expected a valid integer or 'full'",
    ),
    (
        "update mode unknown",
        at("training.update", "some"),
        "training.update",
        "expected 'all' or 'random_layer'",
    ),
    (
        "shuffle as a word",
        at("training.shuffle", "often"),
        "training.shuffle",
        "expected a valid boolean",
    ),
    ("snapshot every zero", at("trace.snapshot_every", 0), "trace.snapshot_every", ">= 1"),
    (
        "detail steps not a list",
        at("trace.detail_steps", "first"),
        "trace.detail_steps",
        "expected a list",
    ),
    (
        "narration level unknown",
        at("narration.level", "loud"),
        "narration.level",
        "expected 'brief', 'standard' or 'detailed'",
    ),
    (
        "narration beat text not text",
        at("narration.beats", {"s0.loss": [1]}),
        "narration.beats.s0.loss",
        "expected a valid string",
    ),
    (
        "scale targets reversed",
        at("data.scale_targets", [1, 0]),
        "data.scale_targets",
        "expected [low, high] with low < high",
    ),
    (
        "scale inputs unknown",
        at("data.scale_inputs", "zscore"),
        "data.scale_inputs",
        "expected 'none', 'standard' or 'minmax'",
    ),
    (
        "generator noise negative",
        lambda c: c.update(data={"generator": {"name": "xor", "noise": -1}}),
        "data.generator.noise",
        ">= 0",
    ),
    (
        "csv without targets",
        lambda c: c.update(data={"csv": {"path": "d.csv", "inputs": ["a"]}}),
        "data.csv.targets",
        "this field is required",
    ),
    (
        "sample x not numbers",
        at("data.samples.0.x", ["a", 1]),
        "data.samples.0.x.0",
        "expected a valid number",
    ),
    ("title not text", at("title", ["a"]), "title", "expected a valid string"),
    ("name missing", lambda c: c.pop("name"), "name", "this field is required"),
]


def test_at_least_thirty_more_kinds():
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)


def write(tmp_path, edit) -> tuple[str, Any]:
    cfg = copy.deepcopy(BASE_CONFIG)
    edit(cfg)
    path = tmp_path / "lecture.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path, cfg


@pytest.mark.parametrize(
    ("edit", "field", "phrase"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_config_gives_one_located_message(tmp_path, edit, field, phrase):
    path, _ = write(tmp_path, edit)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    # The first line, or one of the next (several mistakes are listed in file order).
    lines = str(info.value).splitlines()
    where = re.compile(rf"{re.escape(str(path))}:\d+: {re.escape(field)}: ")
    assert any(where.match(line) and phrase in line for line in lines), lines


@pytest.mark.parametrize(
    "case", ["unknown init scheme", "momentum of 1", "narration level unknown"]
)
def test_through_the_cli_exit_2_no_traceback_nothing_written(tmp_path, case):
    _, edit, field, phrase = next(c for c in CASES if c[0] == case)
    path, _ = write(tmp_path, edit)
    out = tmp_path / "out" / "trace.json"
    result = CliRunner().invoke(main, ["trace", str(path), "-o", str(out)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: {path}:") and f"{field}: " in result.stderr
    assert phrase in result.stderr and not out.parent.exists()
