"""The state behind the explore page: one config, the trace the real engine made of it.

An edit is a dotted path and a value, exactly as ``--set`` takes them. It is applied to
a copy of the config, validated by the config schema (the same located messages as the
command line), checked against the explore limits, and trained by the numpy engine;
only when all of that succeeded does the session swap in the new config and trace.
A failed edit leaves everything as it was. Edits are serialized by a lock, so any number
of concurrent requests end in a state where the trace is the engine's training of the
config.

The session never reads a file a request names: the only file it reads after start-up
is a CSV data file that the starting config already named, and an edit that would
point ``data.csv`` anywhere else is refused.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..config.loader import (
    LoadedConfig,
    apply_override,
    dotted,
    load_config,
    read_yaml,
    validate,
)
from ..engine.trainer import train
from ..errors import ConfigError, UserError
from ..trace.model import Trace, load_trace

# A page that retrains on every keystroke-sized edit stays interactive only for small
# trainings: these bound what one edit may ask of the server (a clear 400 beyond them).
MAX_WEIGHTS = 20_000
MAX_STEPS = 5_000
MAX_SAMPLES = 5_000
MAX_PATH_PARTS = 12
MAX_PATH_LENGTH = 200
# Every step is snapshotted (so the training slider can stop at each step) when the
# config leaves trace.snapshot_every unset and the snapshots hold at most this many
# parameters in all (steps x parameters): the textbook net for 1,000 steps, a 64-16-10
# net for 80; beyond, the engine's default spacing (about 50 snapshots).
SNAPSHOT_EVERY_STEP_BUDGET = 100_000
# Explicit weights beyond this many stay drawn by the init scheme in the saved config.
MATERIALIZE_LIMIT = MAX_WEIGHTS


class EditError(UserError):
    """An edit the schema or the explore limits refuse: ``field: what was expected``."""

    def __init__(self, field: str, expected: str) -> None:
        self.field = field
        self.expected = expected
        super().__init__(f"{field}: {expected}")


@dataclass(frozen=True)
class State:
    """One consistent version: the config as the user sees it, and its trace."""

    revision: int
    data: dict[str, Any]  # the config as plain data (what GET /api/config writes as YAML)
    loaded: LoadedConfig
    trace: Trace


def parse_path(text: Any) -> tuple[str | int, ...]:
    """``"network.layers.0.weights.0.1"`` → the key tuple ``--set`` would use."""
    if not isinstance(text, str) or not text.strip():
        raise EditError("path", "expected a dotted path such as network.layers.0.weights.0.1")
    if len(text) > MAX_PATH_LENGTH or text.count(".") >= MAX_PATH_PARTS:
        raise EditError("path", f"expected at most {MAX_PATH_PARTS} parts")
    parts = text.strip().split(".")
    if any(not p for p in parts):
        raise EditError(text, "expected a dotted path without empty parts")
    return tuple(int(p) if p.lstrip("-").isdigit() else p for p in parts)


def _message(exc: ConfigError, fallback: str) -> EditError:
    """A ConfigError as the API's ``field: expected`` (first problem; file and line dropped)."""
    first = exc.detail.splitlines()[0]
    return EditError(exc.field or fallback, first)


class ExploreSession:
    """A config and its trace, changed only by validated edits (thread-safe)."""

    def __init__(self, data: dict[str, Any], source: str, base_dir: Path, trace: Trace | None):
        self.source = source
        self.base_dir = base_dir
        self._lock = threading.Lock()
        loaded = self._validate(data)
        self._csv = loaded.config.data.csv
        self._check_limits(loaded)
        self._state = State(0, data, loaded, trace if trace is not None else self._train(loaded))

    # -- construction ------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> ExploreSession:
        """A session on a config (YAML) or a saved trace (JSON, read by the library's loader)."""
        path = Path(path)
        if not path.is_file():
            raise UserError(
                f"{path}: file not found" if not path.exists() else f"{path}: not a file"
            )
        if path.suffix.lower() == ".json":
            trace = load_trace(path)
            data = copy.deepcopy(trace.config)
            return cls(data, str(path), path.parent.resolve(), trace)
        load_config(path)  # every located message of the loader, before anything starts
        data, _ = read_yaml(path)
        return cls(data, str(path), path.parent.resolve(), None)

    # -- reading -----------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    def config_yaml(self) -> str:
        """The current config as YAML that ``backprop-anim render`` accepts unchanged."""
        state = self._state
        head = f"# edited in backprop-anim explore from {Path(self.source).name}\n"
        return head + yaml.safe_dump(state.data, sort_keys=False, allow_unicode=True)

    # -- editing -----------------------------------------------------------------------

    def set(self, path_text: Any, value: Any) -> State:
        """Apply one edit; the new state, or :class:`EditError` with nothing changed."""
        path = parse_path(path_text)
        with self._lock:
            current = self._state
            data = copy.deepcopy(current.data)
            if path[:2] == ("network", "layers") and path[3:4] in (("weights",), ("biases",)):
                self._materialize(data, current.trace)
            label = dotted(path)
            try:
                apply_override(data, path, value, label)
            except ConfigError as exc:
                text = exc.detail
                if text.startswith(label + ": "):
                    text = text[len(label) + 2 :]
                raise EditError(label, text) from None
            return self._commit(current, data)

    def resize_layer(self, layer: int, change: int) -> State:
        """Add (``+1``) or remove (``-1``) a unit of hidden layer ``layer``.

        The other parameters keep their values: the network's current initial weights
        are written into the config first, the new unit's incoming and outgoing weights
        are drawn by the layer's init scheme (seeded), its bias is zero.
        """
        with self._lock:
            current = self._state
            data = copy.deepcopy(current.data)
            layers = data.get("network", {}).get("layers", [])
            field = f"network.layers.{layer}.units"
            if not isinstance(layer, int) or not 0 <= layer < len(layers) - 1:
                raise EditError(
                    field, "expected a hidden layer (the output layer's size is the data's)"
                )
            if change not in (-1, 1):
                raise EditError("change", "expected +1 (add a unit) or -1 (remove the last unit)")
            self._materialize(data, current.trace, force=True)
            spec, nxt = layers[layer], layers[layer + 1]
            units = spec["units"]
            count = units if isinstance(units, int) else len(units)
            if change < 0 and count <= 1:
                raise EditError(field, "expected at least 1 unit")
            W, b, W_next = spec["weights"], spec["biases"], nxt["weights"]
            if change > 0:
                fan_in = len(W[0])
                rng = np.random.default_rng([count, layer, 7])
                limit = float(np.sqrt(6.0 / (fan_in + count + 1)))
                W.append(rng.uniform(-limit, limit, fan_in).round(2).tolist())
                b.append(0.0)
                for row in W_next:
                    row.append(round(float(rng.uniform(-limit, limit)), 2))
                if isinstance(units, list):
                    taken = set(units)
                    k = count + 1
                    while f"h{k}" in taken:
                        k += 1
                    units.append(f"h{k}")
                else:
                    spec["units"] = count + 1
            else:
                W.pop()
                b.pop()
                for row in W_next:
                    row.pop()
                if isinstance(units, list):
                    units.pop()
                else:
                    spec["units"] = count - 1
            return self._commit(current, data)

    # -- internals ---------------------------------------------------------------------

    def _materialize(self, data: dict[str, Any], trace: Trace, force: bool = False) -> None:
        """Write the initial weights and biases the engine drew into the config.

        Editing one weight of a network whose weights the init scheme drew must keep all
        the others: the exact float64 values of the trace's first snapshot go into the
        config (a JSON/YAML round trip is exact), so nothing else changes.
        """
        layers = data.get("network", {}).get("layers")
        snaps = trace.summary.snapshots
        if not isinstance(layers, list) or not snaps or snaps[0].step != 0:
            return
        first = snaps[0]
        if len(first.W) != len(layers):
            return
        total = sum(w.size for w in first.W)
        if total > MATERIALIZE_LIMIT and not force:
            return
        for spec, W, b in zip(layers, first.W, first.b, strict=True):
            if not isinstance(spec, dict):
                return
            if spec.get("weights") is None:
                spec["weights"] = W.tolist()
            if spec.get("biases") is None:
                spec["biases"] = b.tolist()

    def _validate(self, data: Any) -> LoadedConfig:
        try:
            cfg = validate(data, source=self.source)
        except ConfigError as exc:
            raise _message(exc, "config") from None
        return LoadedConfig(config=cfg, source=self.source, base_dir=self.base_dir)

    def _check_limits(self, loaded: LoadedConfig) -> None:
        cfg = loaded.config
        n = cfg.network.n_edges()
        if n > MAX_WEIGHTS:
            raise EditError(
                "network", f"expected at most {MAX_WEIGHTS} weights in explore, got {n}"
            )
        if cfg.training.steps > MAX_STEPS:
            raise EditError(
                "training.steps",
                f"expected at most {MAX_STEPS} steps in explore, got {cfg.training.steps}",
            )
        if cfg.data.generator is not None and cfg.data.generator.n > MAX_SAMPLES:
            raise EditError(
                "data.generator.n",
                f"expected at most {MAX_SAMPLES} samples in explore, got {cfg.data.generator.n}",
            )
        if cfg.data.samples is not None and len(cfg.data.samples) > MAX_SAMPLES:
            raise EditError("data.samples", f"expected at most {MAX_SAMPLES} samples in explore")

    def _train(self, loaded: LoadedConfig) -> Trace:
        cfg = loaded.config
        budget = cfg.training.steps * cfg.network.n_parameters()
        if cfg.trace.snapshot_every is None and budget <= SNAPSHOT_EVERY_STEP_BUDGET:
            # Every step on the training slider; snapshots never change the training.
            cfg = cfg.model_copy(
                update={"trace": cfg.trace.model_copy(update={"snapshot_every": 1})}
            )
            loaded = LoadedConfig(config=cfg, source=loaded.source, base_dir=loaded.base_dir)
        try:
            return train(loaded)
        except ConfigError as exc:
            raise _message(exc, "data") from None

    def _commit(self, current: State, data: dict[str, Any]) -> State:
        loaded = self._validate(data)
        if loaded.config.data.csv != self._csv:
            raise EditError(
                "data.csv",
                "expected the data file the server was started with (the page cannot name files)",
            )
        self._check_limits(loaded)
        trace = self._train(loaded)
        state = State(current.revision + 1, data, loaded, trace)
        self._state = state
        return state


def trace_json(state: State) -> bytes:
    """The versioned trace as JSON bytes (what GET /api/trace sends)."""
    return json.dumps(state.trace.to_json(), allow_nan=False, separators=(",", ":")).encode()
