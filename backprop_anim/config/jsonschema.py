"""The config's JSON Schema, exported from the pydantic model, for editors and other tools.

``backprop-anim schema`` prints it; the same text ships with the package as
``config.schema.json`` (beside this module), which every config in ``configs/`` names on
its first line (``# yaml-language-server: $schema=...``) so that editors with a YAML
language server (VS Code's YAML extension, Neovim, JetBrains) complete field names and
flag mistakes while a lecture is typed. The schema says what one field may hold
(types, defaults, limits, the names of activations, losses, optimizers, init schemes and
generators); checks across fields (weight shapes, a loss that fits the output layer)
stay with the loader, which ``backprop-anim validate`` runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .schema import Config

SCHEMA_FILE = Path(__file__).with_name("config.schema.json")


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a lecture config, with descriptions and defaults."""
    schema = Config.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    """The schema as the shipped file holds it: indented JSON, keys in model order."""
    return json.dumps(config_json_schema(), indent=2, ensure_ascii=False) + "\n"
