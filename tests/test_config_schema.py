"""The config's JSON Schema: exported from the model, shipped with the package, named by
every config, and true to what the loader accepts."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from conftest import BASE_CONFIG, REPO

from backprop_anim.cli import main
from backprop_anim.config.jsonschema import SCHEMA_FILE, config_json_schema, schema_text
from backprop_anim.config.schema import (
    ACTIVATIONS,
    GENERATORS,
    INIT_SCHEMES,
    LOSSES,
    MAX_STEPS,
    MAX_UNITS_PER_LAYER,
    OPTIMIZERS,
)

CONFIGS = sorted(
    [*(REPO / "configs").glob("*.yaml"), *(REPO / "benchmarks" / "configs").glob("*.yaml")]
)
MODELINE = "# yaml-language-server: $schema="


@functools.cache
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_shipped_file_is_the_freshly_exported_schema():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "config.schema.json is stale: regenerate it with "
        "`backprop-anim schema > backprop_anim/config/config.schema.json`"
    )


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_config_names_the_shipped_schema_and_validates_against_it(path: Path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(MODELINE), first
    target = (path.parent / first[len(MODELINE) :].strip()).resolve()
    assert target == SCHEMA_FILE.resolve()
    errors = list(validator().iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
    assert errors == [], [e.message for e in errors]


def test_cli_prints_the_schema_and_its_path():
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == config_json_schema()
    where = CliRunner().invoke(main, ["schema", "--path"])
    assert Path(where.stdout.strip()) == SCHEMA_FILE and SCHEMA_FILE.is_file()


def _properties(schema: dict, name: str) -> dict:
    return schema["$defs"][name]["properties"] if name != "Config" else schema["properties"]


def test_names_limits_defaults_and_descriptions_are_in_the_schema():
    schema = config_json_schema()
    layer = _properties(schema, "LayerConfig")
    assert layer["activation"]["enum"] == list(ACTIVATIONS)
    assert layer["activation"]["default"] == "sigmoid"
    assert {"maximum": MAX_UNITS_PER_LAYER, "minimum": 1, "type": "integer"} in layer["units"][
        "anyOf"
    ]
    training = _properties(schema, "TrainingConfig")
    assert training["loss"]["enum"] == list(LOSSES)
    assert training["steps"]["maximum"] == MAX_STEPS
    assert _properties(schema, "OptimizerConfig")["name"]["enum"] == list(OPTIMIZERS)
    assert _properties(schema, "InitConfig")["scheme"]["enum"] == list(INIT_SCHEMES)
    assert _properties(schema, "GeneratorData")["name"]["enum"] == list(GENERATORS)
    for name, model in [("Config", schema), *schema["$defs"].items()]:
        assert model.get("description"), name
        for field, spec in _properties(schema, name).items():
            assert spec.get("description"), f"{name}.{field} has no description"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("training", "batchsize"), 2),  # unknown key
        (("network", "layers", 0, "activation"), "tanhh"),
        (("network", "layers", 0, "units"), 0),
        (("training", "steps"), MAX_STEPS + 1),
        (("training", "optimizer", "name"), "adagrad"),
        (("name",), "Not A Folder"),
        (("narration",), "loud"),
    ],
)
def test_the_schema_refuses_what_the_loader_refuses(path, value):
    import copy

    from backprop_anim.config.loader import config_from_dict
    from backprop_anim.errors import ConfigError

    data = copy.deepcopy(BASE_CONFIG)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert list(validator().iter_errors(data)), f"the schema accepts {path}={value!r}"
    with pytest.raises(ConfigError):
        config_from_dict(data)


def test_narration_off_is_valid_in_both():
    from backprop_anim.config.loader import config_from_dict

    for off in (False, "off"):
        data = dict(BASE_CONFIG, narration=off)
        assert list(validator().iter_errors(data)) == []
        assert config_from_dict(data).config.narration.enabled is False
