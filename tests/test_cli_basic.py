"""`backprop-anim validate` and `trace` through Click's runner, including every mistake a
user can make in a config: each ends with one message naming the file, the line and the
field, exit status 2, and no traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TEXTBOOK

from backprop_anim.cli import main
from backprop_anim.config.schema import (
    MAX_DETAIL_STEPS,
    MAX_EDGES,
    MAX_LAYERS,
    MAX_SAMPLES,
    MAX_STEPS,
    MAX_UNITS_PER_LAYER,
)
from backprop_anim.trace.model import load_trace

BOOK = TEXTBOOK.read_text()


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count)

    return edit


def append(extra: str) -> Callable[[str], str]:
    return lambda text: text.rstrip("\n") + "\n" + extra + "\n"


SMALL = """name: small
network:
  inputs: 2
  layers:
    - {units: 3}
    - {units: 1}
data:
  generator: {name: xor}
"""


def small(edit: Callable[[str], str] = lambda t: t) -> Callable[[str], str]:
    """Start from a config with a generator instead of the textbook one."""
    return lambda _: edit(SMALL)


# (id, edit of the textbook config, text on the expected line, field, phrase expected)
ERROR_CASES = [
    (
        "unknown key",
        replace("batch_size: 1", "batchsize: 1"),
        "batchsize",
        "training.batchsize",
        "did you mean 'batch_size'",
    ),
    (
        "unknown top-level key",
        replace("title:", "titel:"),
        "titel:",
        "titel",
        "did you mean 'title'",
    ),
    (
        "wrong type",
        replace("steps: 1", "steps: many"),
        "steps: many",
        "training.steps",
        "expected a valid integer (got 'many')",
    ),
    (
        "wrong type of section",
        replace("training:", "training: 3\ntraining_:"),
        "training: 3",
        "training",
        "expected a mapping",
    ),
    (
        "weights: rows",
        replace("[[0.15, 0.20], [0.25, 0.30]]", "[[0.15, 0.20]]"),
        "[[0.15, 0.20]]",
        "network.layers.0.weights",
        "expected 2 rows (one per unit), got 1",
    ),
    (
        "weights: row length",
        replace("[[0.40, 0.45], [0.50, 0.55]]", "[[0.40], [0.50, 0.55]]"),
        "[[0.40], [0.50, 0.55]]",
        "network.layers.1.weights.0",
        "expected 2 values (one per input of this layer), got 1",
    ),
    (
        "weights: not numbers",
        replace("[[0.15, 0.20]", "[[0.15, abc]"),
        "[[0.15, abc]",
        "network.layers.0.weights.0.1",
        "expected a valid number (got 'abc')",
    ),
    (
        "biases: count",
        replace("biases: [0.35, 0.35]", "biases: [0.35]"),
        "biases: [0.35]",
        "network.layers.0.biases",
        "expected 2 biases, got 1",
    ),
    (
        "unknown activation",
        replace("activation: sigmoid", "activation: sigmod"),
        "activation: sigmod",
        "network.layers.0.activation",
        "did you mean 'sigmoid'",
    ),
    (
        "unknown loss",
        replace("loss: half_sse", "loss: hinge"),
        "loss: hinge",
        "training.loss",
        "unknown loss 'hinge'; expected one of: half_sse, mse, bce, cross_entropy",
    ),
    (
        "unknown optimizer",
        replace("name: sgd", "name: rmsprop"),
        "name: rmsprop",
        "training.optimizer.name",
        "unknown optimizer 'rmsprop'; expected one of: sgd",
    ),
    (
        "cross_entropy without softmax",
        replace("loss: half_sse", "loss: cross_entropy"),
        "loss: cross_entropy",
        "training.loss",
        "cross_entropy needs a softmax output layer",
    ),
    (
        "softmax without cross_entropy",
        replace(
            "activation: sigmoid\n      weights: [[0.40",
            "activation: softmax\n      weights: [[0.40",
        ),
        "loss: half_sse",
        "training.loss",
        "trained with loss: cross_entropy",
    ),
    (
        "softmax on a hidden layer",
        replace("activation: sigmoid", "activation: softmax"),
        "activation: softmax",
        "network.layers.0.activation",
        "only allowed on the output layer",
    ),
    (
        "target size",
        replace("y: [0.01, 0.99]", "y: [0.01]"),
        "y: [0.01]",
        "data.samples.0.y",
        "expected 2 targets (one per output unit), got 1",
    ),
    (
        "input size",
        replace("x: [0.05, 0.10]", "x: [0.05]"),
        "x: [0.05]",
        "data.samples.0.x",
        "expected 2 inputs, got 1",
    ),
    (
        "class index out of range",
        replace("y: [0.01, 0.99]", "y: 7"),
        "y: 7",
        "data.samples.0.y",
        "class index 7 is out of range for 2 outputs",
    ),
    (
        "empty data",
        replace("  samples:\n    - {x: [0.05, 0.10], y: [0.01, 0.99]}", "  samples: []"),
        "samples: []",
        "data.samples",
        "no samples given",
    ),
    (
        "no data source",
        replace("  samples:\n    - {x: [0.05, 0.10], y: [0.01, 0.99]}", "  scale_inputs: none"),
        "data:",
        "data",
        "expected exactly one data source",
    ),
    (
        "two data sources",
        replace("data:\n", "data:\n  generator: {name: xor}\n"),
        "data:",
        "data",
        "got samples, generator",
    ),
    (
        "missing section",
        lambda t: t[: t.index("network:")] + t[t.index("data:") :],
        "name:",
        "network",
        "this field is required",
    ),
    (
        "learning rate zero",
        replace("learning_rate: 0.5", "learning_rate: 0"),
        "learning_rate: 0",
        "training.optimizer.learning_rate",
        "expected a number > 0",
    ),
    (
        "learning rate negative",
        replace("learning_rate: 0.5", "learning_rate: -0.5"),
        "learning_rate: -0.5",
        "training.optimizer.learning_rate",
        "expected a number > 0",
    ),
    (
        "learning rate not a number",
        replace("learning_rate: 0.5", "learning_rate: fast"),
        "learning_rate: fast",
        "training.optimizer.learning_rate",
        "expected a valid number",
    ),
    (
        "learning rate infinite",
        replace("learning_rate: 0.5", "learning_rate: .inf"),
        "learning_rate: .inf",
        "training.optimizer.learning_rate",
        "finite",
    ),
    (
        "unsafe name",
        replace("name: textbook-2-2-2", "name: ../etc"),
        "name: ../etc",
        "name",
        "not a safe folder name",
    ),
    (
        "name with spaces",
        replace("name: textbook-2-2-2", "name: My Lecture"),
        "name: My Lecture",
        "name",
        "not a safe folder name",
    ),
    (
        "batch larger than data",
        replace("batch_size: 1", "batch_size: 5"),
        "batch_size: 5",
        "training.batch_size",
        "larger than the 1 samples",
    ),
    (
        "detail step outside training",
        append("trace: {detail_steps: [0, 3]}"),
        "detail_steps",
        "trace.detail_steps.1",
        "outside the 1 training steps",
    ),
    (
        "too many units",
        replace("units: [h1, h2]", f"units: {MAX_UNITS_PER_LAYER + 1}"),
        f"units: {MAX_UNITS_PER_LAYER + 1}",
        "network.layers.0.units",
        f"<= {MAX_UNITS_PER_LAYER}",
    ),
    (
        "too many weights",
        small(
            lambda t: t.replace("inputs: 2", "inputs: 1000").replace("{units: 3}", "{units: 300}")
        ),
        "network:",
        "network",
        f"at most {MAX_EDGES} can be animated",
    ),
    (
        "too many layers",
        small(
            lambda t: t.replace(
                "    - {units: 1}",
                "\n".join(["    - {units: 2}"] * MAX_LAYERS + ["    - {units: 1}"]),
            )
        ),
        "layers:",
        "network.layers",
        f"expected at most {MAX_LAYERS} items",
    ),
    (
        "too many steps",
        replace("steps: 1", f"steps: {MAX_STEPS + 1}"),
        "steps:",
        "training.steps",
        f"<= {MAX_STEPS}",
    ),
    (
        "too many detail steps",
        append(f"trace: {{detail_steps: {list(range(MAX_DETAIL_STEPS + 1))}}}"),
        "detail_steps",
        "trace.detail_steps",
        f"at most {MAX_DETAIL_STEPS} items",
    ),
    (
        "too many generated samples",
        small(lambda t: t.replace("{name: xor}", f"{{name: xor, n: {MAX_SAMPLES + 1}}}")),
        "name: xor",
        "data.generator.n",
        f"<= {MAX_SAMPLES}",
    ),
    (
        "classes do not fit the output",
        small(lambda t: t.replace("{units: 1}", "{units: 4}")),
        "{units: 4}",
        "network.layers.1.units",
        "the xor data has 2 classes",
    ),
    (
        "unknown generator",
        small(lambda t: t.replace("name: xor", "name: xro")),
        "name: xro",
        "data.generator.name",
        "did you mean 'xor'",
    ),
    (
        "yaml: unclosed bracket",
        replace("steps: 1", "steps: [1"),
        "steps: [1",
        None,
        "YAML syntax error",
    ),
    (
        "yaml: bad indentation",
        replace("  loss: half_sse", "  loss: half_sse\n loss2: x"),
        "loss2",
        None,
        "YAML syntax error",
    ),
    ("yaml: tab", replace("  steps: 1", "\tsteps: 1"), "\tsteps", None, "YAML syntax error"),
    (
        "yaml: python object",
        append("narration: !!python/object/apply:os.system ['true']"),
        "!!python",
        "narration",
        "the YAML tag '!!python/object/apply:os.system' is not allowed",
    ),
    (
        "yaml: duplicate key",
        append("name: again"),
        "name: again",
        "name",
        "key 'name' is given twice (first on line 2)",
    ),
]


def expected_line(text: str, marker: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    assert lines, f"marker {marker!r} not in the edited config"
    return lines[-1] if marker == "name: again" else lines[0]


@pytest.mark.parametrize(
    ("edit", "marker", "field", "phrase"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
@pytest.mark.parametrize("command", ["validate", "trace"])
def test_config_mistakes_give_one_located_message(tmp_path, command, edit, marker, field, phrase):
    text = edit(BOOK)
    path = tmp_path / "lecture.yaml"
    path.write_text(text)
    out = tmp_path / "out" / "trace.json"
    args = [command, str(path)] + (["-o", str(out)] if command == "trace" else [])
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith("Error: "), message
    line = expected_line(text, marker)
    where = f"{path}:{line}: " + (f"{field}: " if field else "")
    assert where in message, f"expected {where!r} in {message!r}"
    assert phrase in message, message
    assert result.stdout == ""  # nothing else happens ...
    assert not out.parent.exists()  # ... and nothing is written


def test_error_cases_cover_the_issue_list():
    """The issue's list of mistakes, each with at least one case above."""
    ids = " | ".join(case[0] for case in ERROR_CASES)
    for kind in (
        "unknown key",
        "wrong type",
        "weights",
        "unknown activation",
        "unknown loss",
        "unknown optimizer",
        "cross_entropy without softmax",
        "target size",
        "empty data",
        "learning rate",
        "unsafe name",
        "yaml",
        "too many",
    ):
        assert kind in ids, kind


def test_unknown_key_lists_the_choices_when_nothing_is_close(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(BOOK.replace("steps: 1", "steps: 1\n  zzz: 1"))
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert "training.zzz: unknown key 'zzz'; expected one of: loss, optimizer" in result.stderr


def test_several_mistakes_are_listed_together(tmp_path):
    path = tmp_path / "c.yaml"
    text = BOOK.replace("steps: 1", "steps: 0").replace("loss: half_sse", "loss: l1")
    path.write_text(text)
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert f"{path}:{expected_line(text, 'loss: l1')}: training.loss:" in result.stderr
    assert f"{path}:{expected_line(text, 'steps: 0')}: training.steps:" in result.stderr


# ---------------------------------------------------------------------------------------
# --set overrides.


def test_set_overrides_reach_the_trace(tmp_path):
    out = tmp_path / "t.json"
    result = run(
        "trace",
        str(TEXTBOOK),
        "-o",
        str(out),
        "--set",
        "training.optimizer.learning_rate=0.1",
        "--set",
        "network.layers.0.activation=tanh",
        "--set",
        "training.steps=2",
    )
    assert result.exit_code == 0, result.output
    trace = load_trace(out)
    assert trace.config["training"]["optimizer"]["learning_rate"] == 0.1
    assert trace.network.activations == ["tanh", "sigmoid"]
    assert len(trace.summary.loss) == 2


BAD_SETS = [
    (["training.steps"], "--set 'training.steps': expected PATH=VALUE", None),
    (["=3"], "the path before '=' is empty", None),
    (["network.layers.5.activation=tanh"], "network.layers.5 is not an index of a list of 2", None),
    (["training.stepz=3"], "unknown key 'stepz' (did you mean 'steps'?)", "training.stepz"),
    (["training.steps=lots"], "expected a valid integer (got 'lots')", "training.steps"),
    (
        ["training.optimizer.learning_rate=-1"],
        "expected a number > 0 (got -1)",
        "training.optimizer.learning_rate",
    ),
    (
        ["network.layers.0.activation=swish"],
        "unknown activation 'swish'",
        "network.layers.0.activation",
    ),
    (["name=a/b"], "not a safe folder name", "name"),
    (["training.loss.x=1"], "training.loss is a value, not a section", None),
]


@pytest.mark.parametrize(("sets", "phrase", "field"), BAD_SETS)
def test_bad_set_is_a_clear_error(sets, phrase, field):
    args = ["validate", str(TEXTBOOK)]
    for s in sets:
        args += ["--set", s]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert str(TEXTBOOK) in result.stderr and phrase in result.stderr
    if field:
        assert f"(--set {sets[0]}): {field}: " in result.stderr


# ---------------------------------------------------------------------------------------
# Files that are not configs.


def test_missing_file_and_empty_file(tmp_path):
    result = run("validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "nope.yaml: file not found" in result.stderr
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    result = run("validate", str(empty))
    assert result.exit_code == 2
    assert f"{empty}:1: the config is empty" in result.stderr
    listing = tmp_path / "list.yaml"
    listing.write_text("- name: x\n")
    result = run("trace", str(listing))
    assert result.exit_code == 2 and "not a list" in result.stderr


def test_csv_problems_are_located(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,0\n3,oops,1\n")
    cfg = tmp_path / "c.yaml"
    base = "name: c\nnetwork: {inputs: 2, layers: [{units: 2}, {units: 1}]}\ndata:\n  csv:\n"
    cfg.write_text(base + "    path: d.csv\n    inputs: [a, bee]\n    targets: [y]\n")
    result = run("validate", str(cfg))
    assert result.exit_code == 2
    assert f"{cfg}:6: data.csv.inputs.1: column 'bee' is not in d.csv" in result.stderr
    cfg.write_text(base + "    path: d.csv\n    inputs: [a, b]\n    targets: [y]\n")
    result = run("trace", str(cfg), "-o", str(tmp_path / "t.json"))
    assert result.exit_code == 2
    assert "line 3, column 'b': expected a number, got 'oops'" in result.stderr
    assert not (tmp_path / "t.json").exists()
    cfg.write_text(base + "    path: missing.csv\n    inputs: [a, b]\n    targets: [y]\n")
    result = run("validate", str(cfg))
    assert result.exit_code == 2 and f"{cfg}:5: data.csv.path: cannot read CSV" in result.stderr


# ---------------------------------------------------------------------------------------
# The good paths.


def test_validate_prints_a_summary():
    result = run("validate", str(TEXTBOOK))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "layer 0 'hidden': 2 units, sigmoid" in out
    assert "layer 1 'output': 2 units, sigmoid" in out
    assert "parameters: 12 (8 weights)" in out
    assert "1 step(s), batch 1, loss half_sse, sgd (learning rate 0.5)" in out
    assert "data: 1 samples" in out
    assert out.strip().endswith("config is valid")


def test_trace_writes_the_contract_json(tmp_path):
    out = tmp_path / "sub" / "trace.json"
    result = run("trace", str(TEXTBOOK), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"trace written to {out}" in result.stdout
    assert "loss 0.2984 -> 0.2805 after the update" in result.stdout
    doc = json.loads(out.read_text())
    assert doc["format"] == "backprop-anim-trace" and doc["version"] == 1
    assert doc["steps"][0]["layers"][1]["W_next"][0][0] == pytest.approx(0.35891648, abs=1e-8)
    assert [p.name for p in out.parent.iterdir()] == ["trace.json"]  # no temporary left


def test_trace_default_output_goes_under_renders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("trace", str(TEXTBOOK))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "renders" / "textbook-2-2-2" / "trace.json").is_file()


def test_divergence_exits_1_names_the_step_and_still_writes_the_trace(tmp_path):
    cfg = tmp_path / "blow.yaml"
    cfg.write_text(
        "name: blow-up\n"
        "network: {inputs: 1, layers: [{units: 2, activation: linear},"
        " {units: 1, activation: linear}]}\n"
        "data: {samples: [{x: [10.0], y: [1.0]}]}\n"
        "training: {optimizer: {learning_rate: 1.0}, steps: 100}\n"
    )
    out = tmp_path / "t.json"
    result = run("trace", str(cfg), "-o", str(out))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    match = re.search(r"training diverged at step (\d+)", result.stderr)
    assert match, result.stderr
    assert "layer 'output'" in result.stderr or "layer 'hidden1'" in result.stderr
    assert "smaller learning rate (now 1)" in result.stderr
    trace = load_trace(out)
    assert trace.diverged["step"] == int(match.group(1))
    assert len(trace.summary.loss) == trace.diverged["step"]
    # The same config with a small learning rate trains cleanly.
    result = run(
        "trace", str(cfg), "-o", str(out), "--set", "training.optimizer.learning_rate=0.001"
    )
    assert result.exit_code == 0 and load_trace(out).diverged is None


def test_every_ready_config_validates():
    for path in sorted(Path(TEXTBOOK).parent.glob("*.yaml")):
        result = run("validate", str(path))
        assert result.exit_code == 0, f"{path.name}: {result.output}"
