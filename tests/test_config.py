"""The config loader: defaults, overrides, safe YAML, located errors, and docs that match.

The CLI-level tests (tests/test_cli_basic.py) go through every mistake a user can make;
these check the loader's own behaviour from Python.
"""

from __future__ import annotations

import re
import time
import typing
from pathlib import Path

import pytest
from conftest import REPO, TEXTBOOK
from pydantic import BaseModel

from backprop_anim.config import schema
from backprop_anim.config.loader import config_from_dict, load_config, parse_override
from backprop_anim.config.schema import Config
from backprop_anim.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_textbook_loads_with_documented_defaults():
    loaded = load_config(TEXTBOOK)
    cfg = loaded.config
    assert loaded.source == str(TEXTBOOK) and loaded.base_dir == TEXTBOOK.parent
    assert cfg.network.sizes() == [2, 2, 2]
    assert cfg.network.input_names() == ["i1", "i2"]
    assert cfg.network.unit_names(0) == ["h1", "h2"]
    assert cfg.network.n_parameters() == 12
    # Defaults for what the file does not say.
    assert cfg.training.shuffle is True and cfg.training.update == "all"
    assert cfg.training.update_biases is True and cfg.training.seed == 0
    assert cfg.trace.detail_steps is None and cfg.trace.snapshot_every is None
    assert cfg.narration.enabled is True and cfg.narration.level == "standard"
    assert cfg.network.layers[0].trainable is True and cfg.network.layers[0].init is None
    assert cfg.data.scale_targets is None and cfg.data.scale_inputs == "none"


def test_counts_get_default_names(base_config):
    base_config["network"]["layers"].insert(0, {"units": 2})
    net = config_from_dict(base_config).config.network
    assert net.input_names() == ["x1", "x2"]
    assert [net.layer_name(i) for i in range(3)] == ["hidden1", "hidden2", "output"]
    assert net.unit_names(0) == ["h1_1", "h1_2"] and net.unit_names(2) == ["o1"]


def test_overrides_set_values_by_dotted_path(tmp_path):
    loaded = load_config(
        TEXTBOOK,
        [
            "training.optimizer.learning_rate=0.1",
            "network.layers.0.activation=tanh",
            "network.layers.-1.trainable=false",
            "training.optimizer.name=adam",
            "trace.detail_steps=[0, -1]",
            "training.steps=20",
            "narration=off",
        ],
    )
    cfg = loaded.config
    assert cfg.training.optimizer.learning_rate == 0.1
    assert cfg.network.layers[0].activation == "tanh"
    assert cfg.network.layers[1].trainable is False
    assert cfg.training.optimizer.name == "adam" and cfg.training.steps == 20
    assert cfg.trace.detail_steps == [0, -1]
    assert cfg.narration.enabled is False
    # The file itself is unchanged, and the overrides do not leak into another load.
    assert load_config(TEXTBOOK).config.training.optimizer.learning_rate == 0.5


def test_parse_override_reads_yaml_scalars():
    assert parse_override("a.b=0.5") == (("a", "b"), 0.5)
    assert parse_override("a.0.c=true") == (("a", 0, "c"), True)
    assert parse_override("a=[1, 2]") == (("a",), [1, 2])
    assert parse_override("a=x: y: z") == (("a",), "x: y: z")  # not YAML: kept as text
    assert parse_override("a=") == (("a",), "")


def test_config_error_carries_file_line_and_field(tmp_path):
    text = TEXTBOOK.read_text().replace("steps: 1", "steps: -3")
    path = write(tmp_path, text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "steps: -3" in row)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert err.file == str(path) and err.line == line and err.field == "training.steps"
    assert str(err) == f"{path}:{line}: training.steps: expected a number >= 1 (got -3)"


def test_safe_yaml_constructs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = write(
        tmp_path,
        TEXTBOOK.read_text() + f"narration: !!python/object/apply:os.system ['touch {marker}']\n",
    )
    with pytest.raises(ConfigError, match="is not allowed"):
        load_config(path)
    assert not marker.exists()
    path.write_text("name: !!python/name:os.system\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:1: name: the YAML tag '!!python/name"):
        load_config(path)
    path.write_text("name: !custom x\n")
    with pytest.raises(ConfigError, match="'!custom' is not allowed"):
        load_config(path)


def test_alias_bomb_is_cheap(tmp_path):
    """Nested aliases that would expand to 9^8 items are neither walked nor validated."""
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, 8)]
    path = write(tmp_path, "\n".join(lines) + "\nname: bomb\n")
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="unknown key 'a0'"):
        load_config(path)
    assert time.perf_counter() - start < 5


def test_anchors_and_merge_keys_are_plain_yaml(tmp_path):
    text = TEXTBOOK.read_text().replace(
        "optimizer: {name: sgd, learning_rate: 0.5}",
        "optimizer:\n    <<: {name: sgd, learning_rate: 0.5}\n    learning_rate: 0.25",
    )
    assert load_config(write(tmp_path, text)).config.training.optimizer.learning_rate == 0.25


def test_complex_keys_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="expected a plain key"):
        load_config(write(tmp_path, "? [a, b]\n: 1\n"))


def test_directory_and_binary_file(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\xff\xfe\x00\x01name")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(path)


def test_normalized_config_validates_again(base_config):
    """A trace stores the normalized config; it must load back to the same Config."""
    cfg = config_from_dict(base_config).config
    dumped = cfg.model_dump(mode="json")
    assert config_from_dict(dumped).config == cfg
    assert dumped["training"]["optimizer"]["momentum"] == 0.9  # defaults are spelled out


def test_config_from_dict_errors_name_the_source(base_config):
    base_config["training"]["batch_size"] = 0
    with pytest.raises(ConfigError) as info:
        config_from_dict(base_config, source="sweep.yaml#variant-3")
    assert str(info.value).startswith("sweep.yaml#variant-3: training.batch_size: ")


# ---------------------------------------------------------------------------------------
# docs/config.md documents the schema as it is.

DOC = REPO / "docs" / "config.md"


def schema_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        out.append(prefix + name)
        for arg in [field.annotation, *typing.get_args(field.annotation)]:
            for inner in [arg, *typing.get_args(arg)]:
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    out += schema_fields(inner, prefix + name + ".")
    return sorted(set(out))


def test_docs_mention_every_field_and_limit():
    text = DOC.read_text()
    for dotted in schema_fields(Config):
        leaf = dotted.rsplit(".", 1)[-1]
        assert f"`{leaf}`" in text, f"docs/config.md does not document {dotted}"
    for name in dir(schema):
        if name.startswith("MAX_"):
            value = getattr(schema, name)
            assert re.search(rf"{value:,}|{value}\b", text), f"{name} = {value} not in the docs"
    for name in (*schema.INIT_SCHEMES, *schema.GENERATORS):
        assert f"`{name}`" in text
