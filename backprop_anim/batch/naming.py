"""Variant names: stable, readable, path-safe and unique (``lr-0.05__act-tanh``).

A name is a folder under ``renders/<batch>/`` and a row in the gallery, so it has to
be safe on every file system, short enough to read, and the same every time the same
sweep is expanded (resume finds earlier output by name, then checks the hash). Common
config paths get short aliases (``lr``, ``act``); any other path is named by its last
component, lengthened only as far as needed to keep two varied paths apart.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

# Explicit variant names (and every generated name) must match this.
VARIANT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$"
MAX_NAME = 120
# Names used by the batch folder itself (the gallery, the manifest, the comparison).
RESERVED_NAMES = frozenset({"index.html", "manifest.json", "compare"})

ALIASES: dict[str, str] = {
    "training.optimizer.learning_rate": "lr",
    "training.optimizer.name": "opt",
    "training.optimizer.momentum": "momentum",
    "training.loss": "loss",
    "training.steps": "steps",
    "training.batch_size": "batch",
    "training.seed": "seed",
    "training.update": "update",
    "network.init.scheme": "init",
    "network.init.seed": "init-seed",
    "data.generator.name": "data",
    "data.generator.noise": "noise",
    "data.generator.n": "n",
    "data.scale_inputs": "scale",
}
# network.layers.<i>.<field> -> "<alias>" (or "<alias><i>" when two layers vary the field).
LAYER_ALIASES: dict[str, str] = {
    "activation": "act",
    "units": "units",
    "trainable": "train",
    "slope": "slope",
    "init.scheme": "init",
}

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def is_safe_name(name: str) -> bool:
    return re.fullmatch(VARIANT_NAME_PATTERN, name) is not None and name not in RESERVED_NAMES


def _candidates(path: str) -> list[str]:
    """Labels for a dotted path, shortest first; the last one is always unique."""
    parts = path.split(".")
    full = _slug("-".join(parts))
    if path in ALIASES:
        return [ALIASES[path], full]
    if len(parts) >= 4 and parts[:2] == ["network", "layers"]:
        field = ".".join(parts[3:])
        if field in LAYER_ALIASES:
            index = parts[2]
            alias = LAYER_ALIASES[field]
            suffix = index if not index.startswith("-") else "-last" if index == "-1" else index
            return [alias, f"{alias}{suffix}", full]
    return [_slug("-".join(parts[-n:])) for n in range(1, len(parts) + 1)]


def path_labels(paths: Sequence[str]) -> dict[str, str]:
    """A short label per varied path, lengthened only where two paths would share one."""
    level = dict.fromkeys(paths, 0)
    while True:
        labels = {p: _candidates(p)[min(level[p], len(_candidates(p)) - 1)] for p in paths}
        clashes = [p for p in paths if list(labels.values()).count(labels[p]) > 1]
        movable = [p for p in clashes if level[p] < len(_candidates(p)) - 1]
        if not movable:
            return labels
        for p in movable:
            level[p] += 1


def value_label(value: Any) -> str:
    """A value as it reads in a name: ``0.05``, ``5``, ``tanh``, ``true``; long lists hashed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if text.endswith(".0"):
            text = text[:-2]
        return _slug(text.replace("+", ""))
    if isinstance(value, str):
        return _slug(value) or "empty"
    if isinstance(value, list) and all(isinstance(v, int | float | str) for v in value):
        text = "_".join(value_label(v) for v in value)
        if len(text) <= 24:
            return text
    digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
    return "h" + digest[:8]


def variant_name(assignments: Sequence[tuple[str, Any]], labels: dict[str, str]) -> str:
    """``label-value`` pairs joined by ``__``; very long names end in a short digest."""
    name = "__".join(f"{labels[path]}-{value_label(value)}" for path, value in assignments)
    name = name.lstrip("._-") or "variant"
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = name[: MAX_NAME - 9].rstrip("._-") + "-" + digest
    return name


def make_unique(names: Sequence[str], taken: set[str]) -> list[str]:
    """Suffix ``-2``, ``-3`` onto repeats (values that slug alike), in order, deterministically."""
    out: list[str] = []
    used = set(taken)
    for name in names:
        candidate, k = name, 2
        while candidate in used or candidate in RESERVED_NAMES:
            candidate = f"{name[: MAX_NAME - 4]}-{k}"
            k += 1
        used.add(candidate)
        out.append(candidate)
    return out


def _slug(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-")
