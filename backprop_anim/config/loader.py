"""Load a lecture config: YAML (safely), command-line overrides, validation.

Every problem becomes one :class:`~backprop_anim.errors.ConfigError` whose message
names the file, the line, the dotted field and what was expected. Line numbers come
from the YAML node tree (``yaml.compose``), which keeps positions that plain
``safe_load`` throws away; pydantic's error locations are mapped onto it.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from .schema import Config, semantic_errors

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config plus where it came from (for messages and relative paths)."""

    config: Config
    source: str
    base_dir: Path
    positions: dict[PathKey, int] = field(default_factory=dict, compare=False, repr=False)

    def error(self, message: str, field_path: str | None = None) -> ConfigError:
        """A ConfigError about this config, located at ``field_path``'s line when known.

        For problems found after validation (a CSV column that is missing, a data set
        whose classes do not fit the output layer).
        """
        line = None
        if field_path:
            key = tuple(int(p) if p.isdigit() else p for p in field_path.split("."))
            line = locate(key, self.positions)
        return ConfigError(message, file=self.source, line=line, field=field_path)


def dotted(path: PathKey) -> str:
    return ".".join(str(p) for p in path) if path else "(top level)"


# Tags that safe YAML constructs into plain data; anything else (``!!python/object``,
# custom ``!tags``) is refused with a located message before any construction.
_PLAIN_TAGS = frozenset(tag for tag in yaml.SafeLoader.yaml_constructors if tag) | {
    "tag:yaml.org,2002:merge"
}


def _tag_text(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _positions(
    node: yaml.Node, path: PathKey, out: dict[PathKey, int], source: str, seen: set[int]
) -> None:
    """Record the 1-based line of every key/value; refuse object tags and repeated keys.

    A node reached again through an alias is not walked twice, so an alias "bomb"
    (nested anchors that expand exponentially) costs no more than its text.
    """
    out.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen:
        return
    seen.add(id(node))
    if node.tag not in _PLAIN_TAGS:
        raise ConfigError(
            f"the YAML tag {_tag_text(node.tag)!r} is not allowed: a config holds plain data "
            "(mappings, lists, numbers and text) and never constructs objects",
            file=source,
            line=node.start_mark.line + 1,
            field=dotted(path),
        )
    if isinstance(node, yaml.MappingNode):
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(
                    "expected a plain key (a name), not a list or mapping used as a key",
                    file=source,
                    line=line,
                    field=dotted(path),
                )
            key = key_node.value
            child = (*path, key)
            if key_node.tag != "tag:yaml.org,2002:merge":
                if isinstance(key, str) and key in first_line:
                    raise ConfigError(
                        f"key {key!r} is given twice (first on line {first_line[key]}); "
                        "keep one of them",
                        file=source,
                        line=line,
                        field=dotted(child),
                    )
                if isinstance(key, str):
                    first_line[key] = line
            out[child] = line
            _positions(value_node, child, out, source, seen)
            out[child] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _positions(item, (*path, i), out, source, seen)


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, source: str) -> ConfigError:
    """One located message for a YAML syntax error, pointing at a line that exists."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    problem = exc.problem or str(exc)
    context = exc.context_mark.line + 1 if exc.context_mark else None
    if exc.context and context is not None and context != line:
        problem += f" ({exc.context} that starts on line {context})"
    n_lines = max(1, len(text.splitlines()))
    if line is not None and line > n_lines:
        # The parser ran off the end of the file: the opening bracket or quote is the
        # place to look, else the last line.
        line = context if context is not None else n_lines
    return ConfigError(f"YAML syntax error: {problem}", file=source, line=line)


def parse_yaml(text: str, source: str) -> tuple[Any, dict[PathKey, int]]:
    """Parse YAML safely (no object construction) and map each path to its line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, source) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", file=source) from None
    positions: dict[PathKey, int] = {}
    if node is not None:
        _positions(node, (), positions, source, set())
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, source) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", file=source) from None
    return data, positions


def parse_override(text: str) -> tuple[PathKey, Any]:
    """``a.b.0.c=value`` → (('a','b',0,'c'), value); the value is read as a YAML scalar/list."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected PATH=VALUE, e.g. training.steps=10")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key:
        raise ConfigError(f"--set {text!r}: the path before '=' is empty")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    path = tuple(int(p) if p.lstrip("-").isdigit() else p for p in key.split("."))
    return path, value


def apply_override(data: dict, path: PathKey, value: Any, label: str) -> None:
    """Set ``value`` at ``path`` inside ``data`` (lists by index, dicts created as needed)."""
    node: Any = data
    for i, part in enumerate(path[:-1]):
        here = dotted(path[: i + 1])
        if isinstance(node, list):
            if not isinstance(part, int) or not -len(node) <= part < len(node):
                raise ConfigError(f"{label}: {here} is not an index of a list of {len(node)}")
            node = node[part]
        elif isinstance(node, dict):
            if part not in node or node[part] is None:
                node[part] = {}
            node = node[part]
        else:
            raise ConfigError(f"{label}: {dotted(path[:i])} is a value, not a section")
    last = path[-1]
    if isinstance(node, list):
        if not isinstance(last, int) or not -len(node) <= last < len(node):
            raise ConfigError(f"{label}: {dotted(path)} is not an index of a list of {len(node)}")
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ConfigError(f"{label}: {dotted(path[:-1])} is a value, not a section")


def data_path(loc: tuple, data: Any) -> PathKey:
    """Pydantic's loc, minus the union tags it inserts (kept: keys that exist in the data)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not path_is_tag(part):
            path.append(part)  # a missing field: keep its name
            node = None
    return tuple(path)


def path_is_tag(part: str) -> bool:
    return any(c in part for c in "[]()") or part in {
        "int",
        "float",
        "str",
        "bool",
        "list",
        "dict",
        "literal",
        "tuple",
        "function-after",
        "function-before",
        "constrained-int",
    }


def _model_fields_at(path: PathKey) -> list[str]:
    """Field names of the model that sits at ``path`` (for 'did you mean')."""
    model: Any = Config
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        field = model.model_fields.get(part)
        if field is None:
            return []
        model = _find_model(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _find_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    if isinstance(annotation, types.UnionType):
        return None
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def field_message(err: dict) -> str:
    """Pydantic's message in the words of a config file (a mapping, a list, a number)."""
    kind = err["type"]
    msg = err["msg"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "this field is required"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "expected a mapping (key: value lines)"
    if kind in ("list_type", "tuple_type"):
        return "expected a list"
    if kind == "string_pattern_mismatch":
        return f"expected text matching the pattern {ctx.get('pattern')!r}"
    if kind == "too_long":
        return f"expected at most {ctx.get('max_length')} items, got {ctx.get('actual_length')}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} items, got {ctx.get('actual_length')}"
    bounds = {
        "greater_than": ">",
        "greater_than_equal": ">=",
        "less_than": "<",
        "less_than_equal": "<=",
    }
    if kind in bounds:
        limit = next(iter(ctx.values()), "")
        shown = f"{limit:g}" if isinstance(limit, int | float) else limit
        return f"expected a number {bounds[kind]} {shown}"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind.endswith("_parsing") or kind.endswith("_type"):
        msg = msg.split(",")[0]  # "a valid integer, unable to parse ..." -> "a valid integer"
    msg = msg.replace("Input should be", "expected")
    return msg


def _join(messages: list[str], value: Any, show_value: bool) -> str:
    """Alternatives of a union as one sentence: 'expected an integer or a list (got ...)'."""
    if len(messages) > 1 and all(m.startswith("expected ") for m in messages):
        text = "expected " + " or ".join(m[len("expected ") :] for m in messages)
    else:
        text = "; or ".join(messages)
    if show_value:
        text += f" (got {_shown(value)})"
    return text


def locate(path: PathKey, positions: dict[PathKey, int]) -> int | None:
    """The line of ``path`` in the YAML, or of its nearest ancestor that has one."""
    for n in range(len(path), -1, -1):
        if path[:n] in positions:
            return positions[path[:n]]
    return None


def validate(
    data: Any,
    *,
    source: str,
    positions: dict[PathKey, int] | None = None,
    overridden: dict[PathKey, str] | None = None,
) -> Config:
    """Validate raw config data into a :class:`Config`, or raise a located ConfigError."""
    positions = positions or {}
    overridden = overridden or {}
    if data is None:
        raise ConfigError(
            "the config is empty; expected a mapping of settings (name, network, data, ...)",
            file=source,
            line=1,
        )
    if not isinstance(data, dict):
        raise ConfigError(
            "expected a mapping of settings (name, network, data, ...) at the top level, "
            f"not a {type(data).__name__}",
            file=source,
            line=positions.get((), 1),
        )

    problems: list[tuple[PathKey, str]] = []
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        grouped: dict[PathKey, list[str]] = {}
        inputs: dict[PathKey, Any] = {}
        for err in exc.errors():
            path = data_path(err["loc"], data)
            text = field_message(err)
            if err["type"] == "extra_forbidden" and path:
                key = str(path[-1])
                fields = _model_fields_at(path[:-1])
                close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
                text = f"unknown key {key!r}" + (
                    f" (did you mean {close[0]!r}?)"
                    if close
                    else (f"; expected one of: {', '.join(fields)}" if fields else "")
                )
            if "unknown " in text and "expected one of" in text and "did you mean" not in text:
                bad = text.split("'")[1] if "'" in text else ""
                options = text.split("expected one of: ")[-1].split(", ")
                close = difflib.get_close_matches(bad, options, n=1, cutoff=0.6)
                if close:
                    text += f" (did you mean {close[0]!r}?)"
            bucket = grouped.setdefault(path, [])
            if text not in bucket:
                bucket.append(text)
            if text.startswith("expected ") and not isinstance(err.get("input"), dict | list):
                inputs[path] = err.get("input")
        problems = [(p, _join(msgs, inputs.get(p), p in inputs)) for p, msgs in grouped.items()]
    else:
        problems = semantic_errors(cfg)
        if not problems:
            return cfg

    def where(path: PathKey) -> tuple[str, int | None]:
        for n in range(len(path), 0, -1):
            if path[:n] in overridden:
                return overridden[path[:n]], None
        return source, locate(path, positions)

    located = []
    for path, text in problems:
        file, line = where(path)
        located.append((file != source, line or 0, path, file, line, text))
    located.sort(key=lambda t: (t[0], t[1]))
    _, _, path, file, line, text = located[0]
    first = ConfigError(text, file=file, line=line, field=dotted(path))
    if len(located) > 1:
        more = []
        for _, _, p, f, ln, t in located[1:6]:
            more.append(str(ConfigError(t, file=f, line=ln, field=dotted(p))))
        extra = "\n".join(more)
        if len(located) > 6:
            extra += f"\n(and {len(located) - 6} more)"
        raise ConfigError(
            first.detail + "\n" + extra, file=file, line=line, field=dotted(path)
        ) from None
    raise first


def read_yaml(path: str | Path) -> tuple[Any, dict[PathKey, int]]:
    """Read and parse a YAML file (a config, a sweep): its data and each path's line."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=source) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, expected a YAML file", file=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=source) from None
    return parse_yaml(text, source)


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> LoadedConfig:
    """Read, override and validate the config at ``path``.

    ``overrides`` are ``dotted.path=value`` strings (the CLI's ``--set``); an error in an
    overridden field is reported against the ``--set`` that caused it.
    """
    path = Path(path)
    source = str(path)
    data, positions = read_yaml(path)
    overridden: dict[PathKey, str] = {}
    for item in overrides:
        label = f"{source} (--set {item})"
        try:
            key, value = parse_override(item)
            if not isinstance(data, dict):
                break
            apply_override(data, key, value, f"--set {item}")
        except ConfigError as exc:
            raise ConfigError(exc.detail, file=source, field=exc.field) from None
        overridden[key] = label
    cfg = validate(data, source=source, positions=positions, overridden=overridden)
    return LoadedConfig(
        config=cfg, source=source, base_dir=path.parent.resolve(), positions=positions
    )


def config_from_dict(data: dict, source: str = "<config>", base_dir: Path | None = None):
    """Validate an in-memory config (notebooks, batch variants, saved traces)."""
    cfg = validate(data, source=source)
    return LoadedConfig(config=cfg, source=source, base_dir=base_dir or Path.cwd())
