"""Sweeps: a base config and the variations to render, expanded and validated up front.

A sweep comes from a YAML file (``base``, ``vary``, ``mode``, ``variants``, ``render``)
or from the command line (``CONFIG --vary path=v1,v2``). Either way every variant is
the base config's raw YAML with its overrides applied by the loader's own
``apply_override`` and checked by its ``validate``, so a bad value is reported exactly
as ``--set`` would report it, plus the variant's name, before anything renders.

Each variant carries a content hash of what determines its output (the normalized
config, the render options, the package version): resume compares hashes, never
timestamps, so the same sweep on another machine maps to the same outputs.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .. import __version__
from ..config.loader import (
    PathKey,
    apply_override,
    data_path,
    dotted,
    field_message,
    locate,
    parse_override,
    read_yaml,
    validate,
)
from ..config.schema import NAME_PATTERN, Config
from ..errors import ConfigError, UserError
from ..options import RenderOptions
from .naming import VARIANT_NAME_PATTERN, is_safe_name, make_unique, path_labels, variant_name

# Options about how one render runs, not what it makes: not in a sweep, not in hashes.
RUN_OPTIONS = ("preview", "verbose", "use_cache")
# Render options a sweep may set.
RENDER_KEYS = tuple(
    f.name for f in fields(RenderOptions) if f.name not in (*RUN_OPTIONS, "extra", "script")
)
MAX_VARIANTS = 1000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExplicitVariant(_Strict):
    name: Annotated[str, Field(pattern=VARIANT_NAME_PATTERN)]
    set: Annotated[dict[str, Any], Field(min_length=1)]


class SweepFile(_Strict):
    """The sweep YAML, as written."""

    base: str
    name: Annotated[str, Field(pattern=NAME_PATTERN)] | None = None
    vary: dict[str, Annotated[list[Any], Field(min_length=1)]] = {}
    mode: Literal["product", "zip"] = "product"
    variants: list[ExplicitVariant] = []
    render: dict[str, Any] = {}


@dataclass(frozen=True)
class Change:
    """One field a variant changes: where, from what (the base's value) and to what."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Variant:
    name: str
    overrides: tuple[tuple[str, Any], ...]  # (dotted path, value), in sweep order
    changes: tuple[Change, ...]
    config: Config
    hash: str

    def overrides_dict(self) -> dict[str, Any]:
        return dict(self.overrides)


@dataclass(frozen=True)
class Batch:
    """A fully validated batch: what to render, with which options, and where."""

    name: str
    source: str  # the sweep file or the base config, for messages
    base: Path  # the base config file
    mode: str  # product | zip
    variants: tuple[Variant, ...]
    options: RenderOptions
    output_dir: Path
    explicit: tuple[str, ...] = field(default=())  # names given in the sweep's `variants`

    @property
    def base_dir(self) -> Path:
        return self.base.parent.resolve()


def content_hash(config: Config, options: RenderOptions, base_dir: Path) -> str:
    """SHA-256 of what a variant's output depends on, stable across runs and machines.

    The config is hashed in its normalized form (defaults filled in, so spelling out a
    default changes nothing); a CSV data file is hashed by content, not by path.
    Canonical JSON (sorted keys, Python's shortest float repr) is the same everywhere.
    """
    render = {k: v for k, v in options.to_json().items() if k not in RUN_OPTIONS}
    payload: dict[str, Any] = {
        "config": config.model_dump(mode="json"),
        "render": render,
        "version": __version__,
    }
    if config.data.csv is not None:
        csv = Path(config.data.csv.path)
        csv = csv if csv.is_absolute() else base_dir / csv
        try:
            payload["csv_sha256"] = hashlib.sha256(csv.read_bytes()).hexdigest()
        except OSError:
            payload["csv_sha256"] = None  # the render reports the missing file
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_vary(items: Sequence[str]) -> dict[str, list[Any]]:
    """``--vary path=v1,v2`` (or ``path=[v1, v2]``) into {path: [values]}, values read as YAML."""
    out: dict[str, list[Any]] = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"--vary {item!r}: expected PATH=V1,V2,..., e.g. training.steps=1,5")
        key, _, raw = item.partition("=")
        key = key.strip()
        if not key:
            raise UserError(f"--vary {item!r}: the path before '=' is empty")
        raw = raw.strip()
        try:
            values = yaml.safe_load(raw) if raw.startswith("[") else None
        except yaml.YAMLError as exc:
            raise UserError(f"--vary {item!r}: not a YAML list: {exc}") from None
        if not isinstance(values, list):
            values = [_scalar(v) for v in raw.split(",")]
        if not values:
            raise UserError(f"--vary {item!r}: no values after '='")
        out[key] = values
    return out


def _scalar(text: str) -> Any:
    text = text.strip()
    try:
        return yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        return text


def _path_key(dotted_path: str) -> PathKey:
    return parse_override(f"{dotted_path}=")[0]


def _value_at(data: Any, path: PathKey) -> Any:
    node = data
    for part in path:
        in_dict = isinstance(node, dict) and part in node
        in_list = (
            isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node)
        )
        if in_dict or in_list:
            node = node[part]
        else:
            return None
    return node


def _sweep_error(exc: ValidationError, data: dict, source: str, positions: dict) -> ConfigError:
    """Pydantic errors of a sweep file as one located message (like the config loader's)."""
    lines = []
    for err in exc.errors():
        path = data_path(err["loc"], data)
        text = field_message(err)
        if err["type"] == "extra_forbidden":
            text = f"unknown key; expected one of: {', '.join(SweepFile.model_fields)}"
            if len(path) > 1 and path[0] == "variants":
                text = "unknown key; expected name and set"
        lines.append(
            ConfigError(text, file=source, line=locate(path, positions), field=dotted(path))
        )
    first = lines[0]
    if len(lines) == 1:
        return first
    more = "\n".join(str(e) for e in lines[1:6])
    return ConfigError(
        first.detail + "\n" + more, file=first.file, line=first.line, field=first.field
    )


def render_options(
    settings: Mapping[str, Any], *, source: str, positions: dict[PathKey, int] | None = None
) -> RenderOptions:
    """Build RenderOptions from a sweep's ``render`` section (plus command-line options)."""
    positions = positions or {}

    def where(key: str | None) -> int | None:
        return locate(("render", key) if key else ("render",), positions)

    for key in settings:
        if key not in RENDER_KEYS:
            raise ConfigError(
                f"unknown render option; expected one of: {', '.join(RENDER_KEYS)}",
                file=source,
                line=where(key),
                field=f"render.{key}",
            )
    try:
        return TypeAdapter(RenderOptions).validate_python(dict(settings))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else None
        raise ConfigError(
            field_message(err),
            file=source,
            line=where(key),
            field=f"render.{key}" if key else "render",
        ) from None
    except UserError as exc:
        text = str(exc)
        key = text[2:].split(":", 1)[0] if text.startswith("--") else None
        detail = text.split(": ", 1)[1] if key else text
        raise ConfigError(
            detail, file=source, line=where(key), field=f"render.{key}" if key else "render"
        ) from None


def load_batch(
    path: str | Path,
    *,
    vary: Mapping[str, list[Any]] | None = None,
    zip_mode: bool = False,
    render: Mapping[str, Any] | None = None,
    output_dir: str | Path | None = None,
) -> Batch:
    """Read a sweep file or a config plus ``vary``, and validate every variant.

    A YAML mapping with a ``base`` key is a sweep file; anything else is taken as the
    base config itself. ``vary``/``zip_mode``/``render`` come from the command line and
    add to (or replace) what a sweep file says.
    """
    if render:  # command-line options: a bad one is reported as "--quality: ..."
        RenderOptions(**{k: v for k, v in render.items() if k in RENDER_KEYS})
    path = Path(path)
    source = str(path)
    data, positions = read_yaml(path)
    vary = dict(vary or {})
    render = dict(render or {})

    if isinstance(data, dict) and "base" in data:
        try:
            sweep = SweepFile.model_validate(data)
        except ValidationError as exc:
            raise _sweep_error(exc, data, source, positions) from None
        base = Path(sweep.base)
        base = base if base.is_absolute() else path.parent / base
        if not base.is_file():
            raise ConfigError(
                f"base config {sweep.base!r} not found at {base} "
                "(paths are relative to the sweep file)",
                file=source,
                line=locate(("base",), positions),
                field="base",
            )
        labels = {key: f"{source}:{locate(('vary', key), positions) or 0}" for key in sweep.vary}
        labels.update(dict.fromkeys(vary, "--vary"))
        explicit = [
            (
                v.name,
                list(v.set.items()),
                f"{source}:{locate(('variants', i), positions) or 0}",
            )
            for i, v in enumerate(sweep.variants)
        ]
        options = render_options({**sweep.render, **render}, source=source, positions=positions)
        return _expand(
            name=sweep.name or _safe_stem(path),
            source=source,
            base=base,
            vary={**sweep.vary, **vary},
            labels=labels,
            mode="zip" if zip_mode else sweep.mode,
            explicit=explicit,
            options=options,
            output_dir=output_dir,
            where=(source, locate(("vary",), positions)),
        )

    if not vary:
        raise UserError(
            f"{source}: nothing to vary: give --vary PATH=V1,V2 or a sweep file "
            "(a YAML file with 'base:' and 'vary:', see docs/batch.md)"
        )
    options = render_options(render, source="command line")
    base_name = data.get("name") if isinstance(data, dict) else None
    name = f"{base_name}-batch" if isinstance(base_name, str) else _safe_stem(path)
    return _expand(
        name=name[:64],
        source=source,
        base=path,
        vary=vary,
        labels=dict.fromkeys(vary, "--vary"),
        mode="zip" if zip_mode else "product",
        explicit=[],
        options=options,
        output_dir=output_dir,
        where=("--zip", None),
    )


def _safe_stem(path: Path) -> str:
    stem = re.sub(r"[^a-z0-9_-]+", "-", path.stem.lower()).strip("-_") or "batch"
    return stem[:64]


def _expand(
    *,
    name: str,
    source: str,
    base: Path,
    vary: dict[str, list[Any]],
    labels: dict[str, str],
    mode: str,
    explicit: list[tuple[str, list[tuple[str, Any]], str]],
    options: RenderOptions,
    output_dir: str | Path | None,
    where: tuple[str, int | None],
) -> Batch:
    base_data, base_positions = read_yaml(base)
    base_cfg = validate(base_data, source=str(base), positions=base_positions)
    base_dump = base_cfg.model_dump(mode="json")
    base_dir = base.parent.resolve()

    paths = list(vary)
    if mode == "zip":
        lengths = {len(v) for v in vary.values()}
        if len(lengths) > 1:
            counts = ", ".join(f"{p}: {len(v)}" for p, v in vary.items())
            raise ConfigError(
                f"mode zip needs the same number of values for every path ({counts})",
                file=where[0],
                line=where[1],
                field="vary" if where[1] is not None else None,
            )
        combos = [
            list(zip(paths, values, strict=True)) for values in zip(*vary.values(), strict=True)
        ]
    else:
        combos = [
            list(zip(paths, values, strict=True)) for values in itertools.product(*vary.values())
        ]
    if not paths:
        combos = []
    if len(combos) + len(explicit) > MAX_VARIANTS:
        raise UserError(
            f"{source}: {len(combos) + len(explicit)} variants; at most {MAX_VARIANTS} per batch"
        )
    if not combos and not explicit:
        raise UserError(f"{source}: the sweep has no variants (empty 'vary' and 'variants')")

    short = path_labels(paths)
    explicit_names = [n for n, _, _ in explicit]
    for n in explicit_names:
        if not is_safe_name(n) or explicit_names.count(n) > 1:
            raise UserError(
                f"{source}: variant name {n!r} is "
                + ("used twice" if explicit_names.count(n) > 1 else "reserved")
            )
    generated = make_unique([variant_name(c, short) for c in combos], set(explicit_names))

    plan = [(n, c, None) for n, c in zip(generated, combos, strict=True)]
    plan += [(n, sets, label) for n, sets, label in explicit]
    variants = []
    problems: list[str] = []
    for vname, assignments, explicit_label in plan:
        try:
            variants.append(
                _variant(
                    vname,
                    assignments,
                    {p: f"{explicit_label or labels[p]}: variant {vname}" for p, _ in assignments},
                    base=(base_data, base_positions, base_dump, str(base)),
                    options=options,
                    base_dir=base_dir,
                )
            )
        except UserError as exc:
            problems.append(str(exc))  # keep checking: report every bad variant at once
    if problems:
        more = f"\n(and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise UserError("\n".join(problems[:10]) + more)
    out = Path(output_dir) if output_dir is not None else Path("renders") / name
    return Batch(
        name=name,
        source=source,
        base=base,
        mode=mode,
        variants=tuple(variants),
        options=options,
        output_dir=out,
        explicit=tuple(explicit_names),
    )


def _variant(
    name: str,
    assignments: list[tuple[str, Any]],
    labels: dict[str, str],
    *,
    base: tuple[Any, dict[PathKey, int], dict[str, Any], str],
    options: RenderOptions,
    base_dir: Path,
) -> Variant:
    """Apply one variant's overrides to a copy of the base YAML and validate it."""
    base_data, base_positions, base_dump, base_source = base
    data = copy.deepcopy(base_data)
    overridden: dict[PathKey, str] = {}
    for dotted_path, value in assignments:
        key = _path_key(dotted_path)
        try:
            apply_override(data, key, value, labels[dotted_path])
        except ConfigError as exc:  # its label already says where; drop the "<config>: "
            raise UserError(exc.detail) from None
        overridden[key] = labels[dotted_path]
    cfg = validate(data, source=base_source, positions=base_positions, overridden=overridden)
    dump = cfg.model_dump(mode="json")
    changes = tuple(
        Change(p, _value_at(base_dump, _path_key(p)), _value_at(dump, _path_key(p)))
        for p, _ in assignments
    )
    return Variant(
        name=name,
        overrides=tuple(assignments),
        changes=changes,
        config=cfg,
        hash=content_hash(cfg, options, base_dir),
    )
