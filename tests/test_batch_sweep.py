"""Sweep expansion: product and zip, explicit variants, names, hashes, and bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_anim.batch import load_batch, parse_vary
from backprop_anim.batch.naming import make_unique, path_labels, value_label, variant_name
from backprop_anim.batch.sweep import RENDER_KEYS
from backprop_anim.cli import main
from backprop_anim.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
TEXTBOOK = ROOT / "configs" / "textbook-2-2-2.yaml"
FIXTURES = Path(__file__).parent / "batch_fixtures"
LR = "training.optimizer.learning_rate"
ACT = "network.layers.0.activation"


def write_sweep(folder: Path, text: str, name: str = "sweep.yaml") -> Path:
    shutil.copy(TEXTBOOK, folder / "base.yaml")
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_product_expands_every_combination_in_order(tmp_path: Path) -> None:
    sweep = write_sweep(
        tmp_path,
        f"base: base.yaml\nname: lr-sweep\nvary:\n  {LR}: [0.05, 0.5, 5.0]\n"
        f"  {ACT}: [sigmoid, tanh]\n",
    )
    batch = load_batch(sweep)
    assert [v.name for v in batch.variants] == [
        "lr-0.05__act-sigmoid",
        "lr-0.05__act-tanh",
        "lr-0.5__act-sigmoid",
        "lr-0.5__act-tanh",
        "lr-5__act-sigmoid",
        "lr-5__act-tanh",
    ]
    by_name = {v.name: v for v in batch.variants}
    cfg = by_name["lr-5__act-tanh"].config
    assert cfg.training.optimizer.learning_rate == 5.0
    assert cfg.network.layers[0].activation == "tanh"
    assert cfg.network.layers[1].activation == "sigmoid"  # untouched
    changes = {c.path: (c.before, c.after) for c in by_name["lr-5__act-tanh"].changes}
    assert changes == {LR: (0.5, 5.0), ACT: ("sigmoid", "tanh")}
    assert batch.output_dir == Path("renders") / "lr-sweep"
    assert batch.base == tmp_path / "base.yaml"  # relative to the sweep file, not the cwd


def test_zip_pairs_values_and_explicit_variants_follow(tmp_path: Path) -> None:
    sweep = write_sweep(
        tmp_path,
        f"base: base.yaml\nmode: zip\nvary:\n  {LR}: [0.05, 0.5]\n  {ACT}: [sigmoid, tanh]\n"
        "variants:\n"
        f"  - {{name: relu-hidden, set: {{{ACT}: relu}}}}\n"
        f"  - {{name: Slow.Output, set: {{{LR}: 0.01, network.layers.1.activation: tanh}}}}\n"
        "render: {quality: l, pace: 2, scenes: [forward, update], voice: none}\n",
    )
    batch = load_batch(sweep)
    assert [v.name for v in batch.variants] == [
        "lr-0.05__act-sigmoid",
        "lr-0.5__act-tanh",
        "relu-hidden",
        "Slow.Output",
    ]
    assert batch.name == "sweep"  # no `name:`: the sweep file's stem
    slow = batch.variants[3].config
    assert slow.training.optimizer.learning_rate == 0.01
    assert slow.network.layers[1].activation == "tanh"
    assert batch.variants[2].overrides == ((ACT, "relu"),)
    assert batch.options.scenes == ("forward", "update")
    assert batch.options.pace == 2.0


def test_zip_needs_equal_lengths(tmp_path: Path) -> None:
    sweep = write_sweep(
        tmp_path, f"base: base.yaml\nmode: zip\nvary:\n  {LR}: [0.05, 0.5]\n  {ACT}: [tanh]\n"
    )
    with pytest.raises(UserError) as err:
        load_batch(sweep)
    assert str(err.value) == (
        f"{sweep}:3: vary: mode zip needs the same number of values for every path "
        f"({LR}: 2, {ACT}: 1)"
    )


def test_command_line_vary_without_a_sweep_file() -> None:
    vary = parse_vary([f"{LR}=0.05,0.5,5", f"{ACT}=[sigmoid, tanh]"])
    assert vary == {LR: [0.05, 0.5, 5], ACT: ["sigmoid", "tanh"]}
    batch = load_batch(TEXTBOOK, vary=vary, zip_mode=False)
    assert len(batch.variants) == 6
    assert batch.name == "textbook-2-2-2-batch"
    zipped = load_batch(TEXTBOOK, vary={LR: [0.05, 5], ACT: ["relu", "tanh"]}, zip_mode=True)
    assert [v.name for v in zipped.variants] == ["lr-0.05__act-relu", "lr-5__act-tanh"]


def test_labels_are_short_and_lengthen_only_to_stay_distinct() -> None:
    assert path_labels([LR, ACT]) == {LR: "lr", ACT: "act"}
    both = path_labels([ACT, "network.layers.1.activation"])
    assert both == {ACT: "act0", "network.layers.1.activation": "act1"}
    # No alias for the first, and "seed" would clash: both take one more component.
    assert path_labels(["data.generator.seed", "training.seed"]) == {
        "data.generator.seed": "generator-seed",
        "training.seed": "training-seed",
    }
    assert path_labels(["network.init.low"]) == {"network.init.low": "low"}
    assert path_labels(["a.x.low", "b.x.low"]) == {"a.x.low": "a-x-low", "b.x.low": "b-x-low"}


def test_value_labels_read_well_and_stay_path_safe() -> None:
    assert value_label(5.0) == "5"
    assert value_label(0.05) == "0.05"
    assert value_label(1e30) == "1e30"
    assert value_label(1e-05) == "1e-05"
    assert value_label(True) == "true"
    assert value_label("leaky relu/x") == "leaky-relu-x"
    assert value_label([0.1, 0.2]) == "0.1_0.2"
    long = value_label([[0.1, 0.2], [0.3, 0.4]])
    assert long.startswith("h") and len(long) == 9
    name = variant_name([(LR, 0.5), ("a.b.c", "x" * 200)], {LR: "lr", "a.b.c": "c"})
    assert len(name) <= 120 and name.startswith("lr-0.5__c-xxx")
    assert make_unique(["a", "a", "b", "a"], taken={"b"}) == ["a", "a-2", "b-2", "a-3"]


def test_names_stay_unique_when_values_slug_alike(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path, "base: base.yaml\nvary:\n  description: ['a b', 'a/b', 'a-b']\n")
    assert [v.name for v in load_batch(sweep).variants] == [
        "description-a-b",
        "description-a-b-2",
        "description-a-b-3",
    ]


HASH_SNIPPET = """
import json, sys
from backprop_anim.batch import load_batch
batch = load_batch(sys.argv[1])
print(json.dumps({v.name: v.hash for v in batch.variants}))
"""


def test_hashes_are_stable_across_processes_folders_and_spelling(tmp_path: Path) -> None:
    sweep = FIXTURES / "sweep.yaml"
    here = {v.name: v.hash for v in load_batch(sweep).variants}
    assert len(set(here.values())) == 4 and all(len(h) == 64 for h in here.values())

    # Another process, another working directory, another hash seed, the files copied
    # elsewhere: the same hashes (they depend on content, not on paths or the session).
    elsewhere = tmp_path / "copy"
    shutil.copytree(FIXTURES, elsewhere)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", HASH_SNIPPET, str(elsewhere / "sweep.yaml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == here

    # Spelling out a default, or reordering keys, changes nothing.
    base = (elsewhere / "tiny.yaml").read_text()
    (elsewhere / "tiny.yaml").write_text(
        base.replace("  steps: 10\n", "  steps: 10\n  shuffle: true\n  batch_size: 1\n")
    )
    assert {v.name: v.hash for v in load_batch(elsewhere / "sweep.yaml").variants} == here

    # What changes the output changes the hash: a render option, a config value.
    faster = load_batch(sweep, render={"pace": 8})
    assert all(v.hash != here[v.name] for v in faster.variants)
    (elsewhere / "tiny.yaml").write_text(base.replace("seed: 0}", "seed: 1}"))
    assert all(v.hash != here[v.name] for v in load_batch(elsewhere / "sweep.yaml").variants)


def test_a_bad_variant_is_named_with_its_field_and_nothing_renders(tmp_path: Path) -> None:
    sweep = write_sweep(
        tmp_path,
        f"base: base.yaml\nvary:\n  {LR}: [0.05, -1]\n"
        "variants:\n"
        f"  - {{name: typo, set: {{{ACT}: tanhh}}}}\n"
        "  - {name: no-layer, set: {network.layers.5.activation: relu}}\n",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(sweep), "-o", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == (
        f"Error: {sweep}:3: variant lr--1: training.optimizer.learning_rate: "
        "expected a number > 0 (got -1)"
    )
    assert lines[1] == (
        f"{sweep}:5: variant typo: network.layers.0.activation: unknown activation 'tanhh'; "
        "expected one of: sigmoid, tanh, relu, leaky_relu, linear, softmax "
        "(did you mean 'tanh'?)"
    )
    assert (
        lines[2] == f"{sweep}:6: variant no-layer: network.layers.5 is not an index of a list of 2"
    )
    assert "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f"base: base.yaml\nvary:\n  {LR}: 0.5\n",
            "{sweep}:3: vary.training.optimizer.learning_rate: expected a list",
        ),
        (
            f"base: base.yaml\nmdoe: zip\nvary:\n  {LR}: [0.5]\n",
            "{sweep}:2: mdoe: unknown key; expected one of: "
            "base, name, vary, mode, variants, render",
        ),
        (
            "base: missing.yaml\nvary: {a: [1]}\n",
            "{sweep}:1: base: base config 'missing.yaml' not found at {folder}/missing.yaml "
            "(paths are relative to the sweep file)",
        ),
        (
            f"base: base.yaml\nvary:\n  {LR}: [0.5]\nrender:\n  quality: x\n",
            "{sweep}:5: render.quality: expected one of l, m, h, k, got 'x'",
        ),
        (
            f"base: base.yaml\nvary:\n  {LR}: [0.5]\nrender: {{preview: true}}\n",
            "{sweep}:4: render.preview: unknown render option; expected one of: "
            + ", ".join(RENDER_KEYS),
        ),
        (
            "base: base.yaml\nvariants:\n  - {name: compare, set: {training.steps: 2}}\n",
            "{sweep}: variant name 'compare' is reserved",
        ),
        ("base: base.yaml\n", "{sweep}: the sweep has no variants (empty 'vary' and 'variants')"),
    ],
)
def test_sweep_file_errors_name_file_line_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    sweep = write_sweep(tmp_path, text)
    result = CliRunner().invoke(main, ["batch", str(sweep), "--dry-run"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: " + message.format(sweep=sweep, folder=tmp_path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to vary: give --vary PATH=V1,V2 or a sweep file"),
        (["--vary", LR], f"--vary '{LR}': expected PATH=V1,V2,..., e.g. training.steps=1,5"),
        (["--vary", f"{LR}=0.1", "-q", "z"], "--quality: expected one of l, m, h, k, got 'z'"),
        (["--vary", f"{LR}=0.1", "--steps", "one"], "--steps: expected whole numbers"),
    ],
)
def test_command_line_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["batch", str(TEXTBOOK), *args, "--dry-run"])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_scheduler_without_dask_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the extra were missing
    result = CliRunner().invoke(
        main, ["batch", str(FIXTURES / "sweep.yaml"), "--scheduler", "local", "-o", "/nonexistent"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Error: --scheduler needs Dask's distributed scheduler, which is not installed; "
        "install it with: pip install 'backprop-anim[dask]'"
    )


def test_dry_run_lists_variants_and_changes_without_writing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["batch", str(FIXTURES / "sweep.yaml"), "--dry-run", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    hashes = {v.name: v.hash[:10] for v in load_batch(FIXTURES / "sweep.yaml").variants}
    lines = result.output.splitlines()
    assert lines[0].startswith("batch tiny-sweep: 4 variants (zip of the varied values plus 2")
    rows = {line.split()[0]: line for line in lines if line.startswith("  ")}
    assert list(rows) == ["lr-0.05__act-sigmoid", "lr-0.5__act-tanh", "relu-hidden", "explode"]
    assert hashes["explode"] in rows["explode"]
    assert "training.optimizer.learning_rate 0.1 → 1e+30" in rows["explode"]
    assert "network.layers.0.activation sigmoid (as in the base)" in rows["lr-0.05__act-sigmoid"]
    assert "network.layers.0.activation sigmoid → tanh" in rows["lr-0.5__act-tanh"]
    assert all("render (new)" in row for row in rows.values())
    assert lines[-1] == (
        "all 4 variants are valid; 4 would render, 0 up to date (dry run: nothing rendered)"
    )
    assert not out.exists()
