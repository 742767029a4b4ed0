"""Check a trace document before anything reads it: one located message, or nothing.

A trace is a contract that other programs write and people edit (docs/trace-format.md),
so loading one checks everything a scene, the narration or the notes will read, the way
the config loader checks a config: the format and version, the embedded config (as a
config), the ``network`` section against it, the shape of every tensor of every detailed
step against the layer sizes and the batch, finiteness (the engine never records NaN or
infinity: a diverged step is recorded in ``diverged``), and that events, summaries and
snapshots refer to layers and units that exist. The first violation raises a
:class:`TraceError` whose message is ``file: json.path: what was expected, got what``.

The tensors are described by tables (:data:`STEP_TENSORS`, :data:`LAYER_TENSORS`,
:data:`STATE_TERMS`): a field added to the format is one line there. Shapes are checked
with numpy on whole arrays (the checked float64 arrays replace the lists in the document,
so building the :class:`~backprop_anim.trace.model.Trace` does not convert twice); the
slow element-by-element walk only runs to word the message once something is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config.loader import validate as validate_config
from ..config.schema import MAX_DETAIL_STEPS, Config
from ..errors import ConfigError, UserError
from .scaling import INPUT_PARAMETERS

FORMAT = "backprop-anim-trace"
VERSION = 1  # docs/trace-format.md#versioning


class TraceError(UserError):
    """A trace that breaks the contract: ``file: json.path: expected ..., got ...``."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source = source
        self.path = path
        self.detail = message
        super().__init__(f"{source}: {path}: {message}" if path else f"{source}: {message}")


@dataclass(frozen=True)
class Tensor:
    """One tensor field: its key and its dimensions, named (see :data:`DIMENSIONS`).

    ``required=False``: the key may be absent (an optional field added within a
    version); when present it is checked like the others.
    """

    key: str
    dims: tuple[str, ...]
    required: bool = True


# The dimensions a tensor may have. In a step: ``batch`` (samples of its batch),
# ``inputs``/``outputs`` (of the network); in a layer also ``units`` (of the layer) and
# ``fan_in`` (its inputs: the previous layer's units).
DIMENSIONS = ("batch", "inputs", "outputs", "units", "fan_in")

# steps[k]: tensors of the step.
STEP_TENSORS: tuple[Tensor, ...] = (
    Tensor("x", ("batch", "inputs")),
    Tensor("y", ("batch", "outputs")),
    Tensor("loss_terms", ("batch", "outputs")),
)

# steps[k].layers[i]: tensors of a layer in a detailed step. A new per-layer field is
# one line here (as the optional per-sample gradients below).
LAYER_TENSORS: tuple[Tensor, ...] = (
    Tensor("W", ("units", "fan_in")),
    Tensor("b", ("units",)),
    Tensor("z", ("batch", "units")),
    Tensor("a", ("batch", "units")),
    Tensor("delta", ("batch", "units")),
    Tensor("grad_W", ("units", "fan_in")),
    Tensor("grad_b", ("units",)),
    Tensor("W_next", ("units", "fan_in")),
    Tensor("b_next", ("units",)),
    Tensor("dL_da", ("batch", "units")),
    Tensor("act_derivative", ("batch", "units")),
    Tensor("grad_W_per_sample", ("batch", "units", "fan_in"), required=False),
    Tensor("grad_b_per_sample", ("batch", "units"), required=False),
)

# Optimizer state terms in steps[k].layers[i].state (shaped like W) and .state_b (like b).
STATE_TERMS = ("velocity", "m", "v", "m_hat", "v_hat", "decay")

# The state terms each optimizer's update keeps (engine/optimizers.py); with weight
# decay the weights' state also holds "decay".
OPTIMIZER_STATE: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "momentum": ("velocity",),
    "adam": ("m", "v", "m_hat", "v_hat"),
}

# Flags of a layer in a detailed step: key -> type.
LAYER_FLAGS: dict[str, type] = {"updated": bool, "update_reason": str, "biases_updated": bool}

PHASE_OPS = {
    "forward": ("preactivation", "activation"),
    "loss": ("loss_term", "loss"),
    "backward": ("dL_da", "act_derivative", "delta", "grad_W", "grad_b"),
    "update": ("update_W", "update_b"),
}
DIVERGED_PHASES = ("forward", "loss", "backward", "update")
Z_BINS = 49  # edges of the 48 pre-activation histogram bins


def _kind(value: Any) -> str:
    """How a JSON value reads to a person: 'a list of 3', 'a text 'NaN'', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:17] + "..."
        return f"a text {shown!r}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, int) and not _finite(value):
        return "a number too large for a float64"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return f"{value!r}"


def _count(n: int, word: str) -> str:
    """'1 row', '3 rows', '1 entry', '2 entries'."""
    if n == 1:
        return f"1 {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    """A JSON number that float64 holds exactly enough: finite, not too large."""
    if not _is_number(value):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


class _Checker:
    """Walks one trace document; every check raises the first TraceError it finds."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, message: str) -> TraceError:
        return TraceError(self.source, path, message)

    # -- plain values ------------------------------------------------------------------
    def obj(self, value: Any, path: str, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object ({what}), got {_kind(value)}")
        return value

    def key(self, doc: dict[str, Any], key: str, path: str) -> Any:
        if key not in doc:
            where = f"{path}.{key}" if path else key
            raise self.fail(where, "missing (required by the trace format)")
        return doc[key]

    def list_(self, value: Any, path: str, what: str, length: int | None = None) -> list:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list ({what}), got {_kind(value)}")
        if length is not None and len(value) != length:
            raise self.fail(path, f"expected {_count(length, 'entry')} ({what}), got {len(value)}")
        return value

    def number(self, value: Any, path: str, what: str = "a number") -> float:
        if not _finite(value):
            raise self.fail(path, f"expected a finite number ({what}), got {_kind(value)}")
        return float(value)

    def integer(self, value: Any, path: str, what: str, lo: int = 0, hi: int | None = None) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(path, f"expected a whole number ({what}), got {_kind(value)}")
        if value < lo or (hi is not None and value >= hi):
            bound = f"{lo} to {hi - 1}" if hi is not None else f"at least {lo}"
            raise self.fail(path, f"expected {bound} ({what}), got {value}")
        return value

    def integers(
        self, value: Any, path: str, what: str, lo: int = 0, hi: int | None = None
    ) -> list[int]:
        """A list of whole numbers in [lo, hi), checked at once (counts, indices)."""
        self.list_(value, path, f"{what}s")
        try:
            arr = np.array(value) if value else np.zeros(0, dtype=np.int64)
        except (ValueError, TypeError, OverflowError):
            arr = np.zeros((0, 0))  # ragged: the walk below words it
        if (
            arr.ndim == 1
            and arr.dtype.kind == "i"
            and (not arr.size or (arr.min() >= lo and (hi is None or arr.max() < hi)))
        ):
            return value
        for i, item in enumerate(value):
            self.integer(item, f"{path}[{i}]", what, lo, hi)
        return value  # numpy refused, the walk accepts: integers beyond int64

    def choice(self, value: Any, path: str, options: Iterable[str], what: str = "") -> str:
        """One of ``options`` (names: a phase, an op, a kind)."""
        options = tuple(options)
        if not isinstance(value, str) or value not in options:
            where = f" {what}" if what else ""
            raise self.fail(
                path, f"expected one of {', '.join(options)}{where}, got {_kind(value)}"
            )
        return value

    def text(self, value: Any, path: str, what: str) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a text ({what}), got {_kind(value)}")
        return value

    def flag(self, value: Any, path: str, what: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"expected true or false ({what}), got {_kind(value)}")
        return value

    # -- tensors -----------------------------------------------------------------------
    def array(self, value: Any, path: str, dims: list[tuple[int, str]]) -> np.ndarray:
        """``value`` as a float64 array of the shape ``dims`` ((size, label) per axis)."""
        expected = tuple(n for n, _ in dims)
        if isinstance(value, list):
            try:
                arr = np.array(value)
            except (ValueError, TypeError, OverflowError):
                arr = None  # ragged rows: worded by the walk below
            if arr is not None and arr.shape == expected and arr.dtype.kind in "fi":
                arr = arr.astype(np.float64, copy=False)
                if arr.dtype.kind == "f" and not np.isfinite(arr).all():
                    index = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
                    where = path + "".join(f"[{i}]" for i in index)
                    raise self.fail(
                        where,
                        f"expected a finite number, got {_kind(float(arr[index]))} (a diverged "
                        "training is recorded in 'diverged', not as NaN or Infinity)",
                    )
                return arr
        self._walk(value, path, dims)
        # The walk found nothing wrong with the values; numpy still refused them.
        raise self.fail(path, "expected numbers that fit a float64")

    def _walk(self, value: Any, path: str, dims: list[tuple[int, str]]) -> None:
        n, label = dims[0]
        word = _count(n, "value" if len(dims) == 1 else "row")
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list of {word} ({label}), got {_kind(value)}")
        if len(value) != n:
            raise self.fail(path, f"expected {word} ({label}), got {len(value)}")
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            if len(dims) > 1:
                self._walk(item, where, dims[1:])
            elif not _finite(item):
                raise self.fail(where, f"expected a finite number, got {_kind(item)}")


def check_trace(doc: Any, source: str = "<trace>") -> None:
    """Raise a :class:`TraceError` for the first thing in ``doc`` that breaks the contract.

    ``doc`` is a parsed trace.json that the caller owns: its tensors are replaced by the
    checked float64 arrays.
    """
    c = _Checker(source)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UserError(f"{source}: not a backprop-anim trace (no 'format': '{FORMAT}')")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version != VERSION:
        raise UserError(
            f"{source}: trace format version {doc.get('version')!r} is not supported "
            f"(this backprop-anim reads version {VERSION}); re-create it with "
            "'backprop-anim trace CONFIG'"
        )
    cfg = _config(c, doc)
    sizes = _network(c, doc, cfg)
    data = _data(c, doc, sizes, cfg)
    summary = c.obj(c.key(doc, "summary", ""), "summary", "every step in brief")
    trained = _summary(c, summary, cfg, sizes, stopped=doc.get("diverged") is not None)
    _diverged(c, doc, cfg, trained)
    _steps(c, doc, sizes, trained, data)
    warnings = c.list_(doc.get("warnings", []), "warnings", "texts")
    for i, w in enumerate(warnings):
        c.text(w, f"warnings[{i}]", "a warning")


def _config(c: _Checker, doc: dict[str, Any]) -> Config:
    raw = c.obj(c.key(doc, "config", ""), "config", "the config the trace was made from")
    try:
        return validate_config(raw, source=c.source)
    except ConfigError as exc:
        first = exc.detail.splitlines()[0]
        inside = exc.field and exc.field != "(top level)"
        raise c.fail(f"config.{exc.field}" if inside else "config", first) from None


@dataclass(frozen=True)
class _Sizes:
    """What the checks measure against: names and sizes from the (checked) config."""

    inputs: int
    units: list[int]
    layer_names: list[str]
    # The state terms an update of the weights keeps (the narration and the update beat
    # read them), by the config's optimizer: the biases keep the same but "decay".
    state_terms: tuple[str, ...] = ()

    @property
    def outputs(self) -> int:
        return self.units[-1]

    def fan_in(self, i: int) -> int:
        return self.inputs if i == 0 else self.units[i - 1]

    def fan_in_label(self, i: int) -> str:
        return "network inputs" if i == 0 else f"units of '{self.layer_names[i - 1]}'"

    def dims(self, names: tuple[str, ...], batch: int, layer: int | None) -> list[tuple[int, str]]:
        out = []
        for name in names:
            if name == "batch":
                out.append((batch, "samples in the step's batch"))
            elif name == "inputs":
                out.append((self.inputs, "network inputs"))
            elif name == "outputs":
                out.append((self.outputs, f"units of '{self.layer_names[-1]}'"))
            elif name == "units" and layer is not None:
                out.append((self.units[layer], f"units of '{self.layer_names[layer]}'"))
            elif name == "fan_in" and layer is not None:
                out.append((self.fan_in(layer), self.fan_in_label(layer)))
            else:  # a table entry with a dimension this place does not have
                raise ValueError(f"dimension {name!r} is not defined here")
        return out


def _network(c: _Checker, doc: dict[str, Any], cfg: Config) -> _Sizes:
    net = c.obj(c.key(doc, "network", ""), "network", "names and sizes")
    n = len(cfg.network.layers)
    expected: dict[str, Any] = {
        "input_names": cfg.network.input_names(),
        "layer_names": [cfg.network.layer_name(i) for i in range(n)],
        "unit_names": [cfg.network.unit_names(i) for i in range(n)],
        "activations": [layer.activation for layer in cfg.network.layers],
        "trainable": [layer.trainable for layer in cfg.network.layers],
        "loss": cfg.training.loss,
    }
    for key, want in expected.items():
        got = c.key(net, key, "network")
        if got == want:
            continue
        path = f"network.{key}"
        if isinstance(want, list) and isinstance(got, list) and len(got) == len(want):
            i = next(i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w)
            path, got, want = f"{path}[{i}]", got[i], want[i]
        elif isinstance(want, list) and isinstance(got, list):
            raise c.fail(
                path,
                f"expected {_count(len(want), 'entry')} (as in config.network), got {len(got)}",
            )
        raise c.fail(path, f"expected {want!r} (as in config), got {got!r}")
    opt = c.obj(c.key(net, "optimizer", "network"), "network.optimizer", "name and parameters")
    if opt.get("name") != cfg.training.optimizer.name:
        raise c.fail(
            "network.optimizer.name",
            f"expected {cfg.training.optimizer.name!r} (as in config), got {opt.get('name')!r}",
        )
    for key, value in cfg.training.optimizer.params().items():
        if opt.get(key) != value:
            raise c.fail(
                f"network.optimizer.{key}",
                f"expected {value!r} (as in config), got {_kind(opt.get(key))}",
            )
    opt = cfg.training.optimizer
    return _Sizes(
        inputs=cfg.network.n_inputs,
        units=[layer.n_units for layer in cfg.network.layers],
        layer_names=expected["layer_names"],
        state_terms=OPTIMIZER_STATE.get(opt.name, ()) + (("decay",) if opt.weight_decay else ()),
    )


def _data(c: _Checker, doc: dict[str, Any], sizes: _Sizes, cfg: Config) -> dict[str, Any]:
    data = c.obj(doc.get("data", {}), "data", "the data, for pictures")
    if not data:
        return data
    c.choice(c.key(data, "kind", "data"), "data.kind", ("classification", "regression"))
    n = c.integer(c.key(data, "n", "data"), "data.n", "samples in the data set", lo=1)
    X = c.list_(c.key(data, "X", "data"), "data.X", "the inputs of the shown samples")
    shown = len(X)
    if shown > n:
        raise c.fail("data.X", f"expected at most {n} rows (data.n), got {shown}")
    # Checked, not replaced: the data section stays plain JSON (Trace.data is saved as is).
    c.array(X, "data.X", [(shown, "shown samples"), (sizes.inputs, "network inputs")])
    Y = c.key(data, "Y", "data")
    outputs = (sizes.outputs, f"units of '{sizes.layer_names[-1]}'")
    c.array(Y, "data.Y", [(shown, "rows of data.X"), outputs])
    classes = data.get("classes")
    if classes is not None:
        c.list_(classes, "data.classes", "one label per row of data.X", length=shown)
        c.integers(classes, "data.classes", "a class label", hi=max(2, sizes.outputs))
    scaling = data.get("scaling")
    if scaling is not None:
        scaling = c.obj(scaling, "data.scaling", "y_min, y_max and range")
        for key in ("y_min", "y_max"):
            c.array(c.key(scaling, key, "data.scaling"), f"data.scaling.{key}", [outputs])
        c.array(c.key(scaling, "range", "data.scaling"), "data.scaling.range", [(2, "low, high")])
    _input_scaling(c, data, sizes, cfg)
    return data


def _input_scaling(c: _Checker, data: dict[str, Any], sizes: _Sizes, cfg: Config) -> None:
    """``data.input_scaling``: optional (older traces lack it); present, it must be the
    config's ``scale_inputs`` with one finite value per input in each array."""
    scaling = data.get("input_scaling")
    method = cfg.data.scale_inputs
    if scaling is None:
        return
    path = "data.input_scaling"
    if method == "none":
        raise c.fail(
            path,
            f"expected null (config.data.scale_inputs is 'none': the inputs were not "
            f"scaled), got {_kind(scaling)}",
        )
    scaling = c.obj(scaling, path, "method and per-input parameters")
    got = c.choice(c.key(scaling, "method", path), f"{path}.method", INPUT_PARAMETERS)
    if got != method:
        raise c.fail(
            f"{path}.method", f"expected {method!r} (as config.data.scale_inputs), got {got!r}"
        )
    inputs = [(sizes.inputs, "network inputs")]
    first, second = (
        c.array(c.key(scaling, key, path), f"{path}.{key}", inputs)
        for key in INPUT_PARAMETERS[method]
    )
    if method == "standard" and (second <= 0).any():
        k = int(np.argmax(second <= 0))
        raise c.fail(
            f"{path}.std[{k}]",
            f"expected a positive standard deviation (1 for a constant input), got {second[k]:g}",
        )
    if method == "minmax" and (second < first).any():
        k = int(np.argmax(second < first))
        raise c.fail(
            f"{path}.max[{k}]",
            f"expected at least data.input_scaling.min[{k}] ({first[k]:g}), got {second[k]:g}",
        )


def _summary(
    c: _Checker, summary: dict[str, Any], cfg: Config, sizes: _Sizes, *, stopped: bool
) -> int:
    """Check ``summary``; return the number of steps trained (fewer only if ``stopped``)."""
    layers = len(sizes.units)
    loss = c.list_(c.key(summary, "loss", "summary"), "summary.loss", "one loss per step")
    trained = len(loss)
    steps = _count(cfg.training.steps, "entry")
    if trained > cfg.training.steps:
        raise c.fail(
            "summary.loss", f"expected at most {steps} (config.training.steps), got {trained}"
        )
    if trained < cfg.training.steps and not stopped:
        raise c.fail(
            "summary.loss",
            f"expected {steps} (config.training.steps; fewer only when training diverged), "
            f"got {trained}",
        )
    steps_dim = (trained, "steps trained: entries of summary.loss")
    c.array(loss, "summary.loss", [steps_dim])
    norms = c.key(summary, "grad_norms", "summary")
    c.array(norms, "summary.grad_norms", [steps_dim, (layers, "layers")])
    updated = c.list_(
        c.key(summary, "updated_layers", "summary"), "summary.updated_layers", "per step"
    )
    c.list_(updated, "summary.updated_layers", steps_dim[1], length=trained)
    for k, row in enumerate(updated):
        c.list_(row, f"summary.updated_layers[{k}]", "indices of updated layers")
        for j, i in enumerate(row):
            c.integer(i, f"summary.updated_layers[{k}][{j}]", "a layer index", hi=layers)
    evals = c.key(summary, "gradient_evaluations", "summary")
    c.list_(evals, "summary.gradient_evaluations", steps_dim[1], length=trained)
    c.integers(evals, "summary.gradient_evaluations", "a count")
    c.array(c.key(summary, "z_bins", "summary"), "summary.z_bins", [(Z_BINS, "bin edges")])
    c.integers(summary.get("snapshot_samples", []), "summary.snapshot_samples", "a sample index")
    snaps = c.list_(c.key(summary, "snapshots", "summary"), "summary.snapshots", "snapshots")
    for k, snap in enumerate(snaps):
        path = f"summary.snapshots[{k}]"
        snap = c.obj(snap, path, "a parameter snapshot")
        c.integer(c.key(snap, "step", path), f"{path}.step", "updates done", hi=trained + 1)
        for key, dims in (("W", ("units", "fan_in")), ("b", ("units",))):
            per_layer = c.list_(c.key(snap, key, path), f"{path}.{key}", "per layer", layers)
            for i, value in enumerate(per_layer):
                snap[key][i] = c.array(value, f"{path}.{key}[{i}]", sizes.dims(dims, 0, i))
        c.number(c.key(snap, "loss", path), f"{path}.loss", "the loss on the data")
        accuracy = snap.get("accuracy")
        if accuracy is not None and not 0 <= c.number(accuracy, f"{path}.accuracy") <= 1:
            raise c.fail(f"{path}.accuracy", f"expected a fraction from 0 to 1, got {accuracy}")
        hist = c.list_(c.key(snap, "z_hist", path), f"{path}.z_hist", "per layer", layers)
        for i, counts in enumerate(hist):
            c.list_(counts, f"{path}.z_hist[{i}]", "counts per bin", Z_BINS - 1)
            c.integers(counts, f"{path}.z_hist[{i}]", "a count")
        c.array(c.key(snap, "saturation", path), f"{path}.saturation", [(layers, "layers")])
    return trained


def _diverged(c: _Checker, doc: dict[str, Any], cfg: Config, trained: int) -> None:
    diverged = doc.get("diverged")
    if diverged is None:
        return
    d = c.obj(diverged, "diverged", "null, or where training diverged")
    step = c.integer(c.key(d, "step", "diverged"), "diverged.step", "a step")
    if step != trained:
        raise c.fail(
            "diverged.step",
            f"expected {trained} (summary holds the {trained} steps before it), got {step}",
        )
    c.choice(c.key(d, "phase", "diverged"), "diverged.phase", DIVERGED_PHASES)
    layer = d.get("layer")
    if layer is not None:
        c.integer(layer, "diverged.layer", "a layer index or null", hi=len(cfg.network.layers))
    c.text(c.key(d, "message", "diverged"), "diverged.message", "what to tell the user")


def _steps(
    c: _Checker,
    doc: dict[str, Any],
    sizes: _Sizes,
    trained: int,
    data: dict[str, Any],
) -> None:
    steps = c.list_(c.key(doc, "steps", ""), "steps", "the detailed steps")
    if len(steps) > MAX_DETAIL_STEPS:
        raise c.fail(
            "steps", f"expected at most {MAX_DETAIL_STEPS} detailed steps, got {len(steps)}"
        )
    n_data = data.get("n") if data else None
    previous = -1
    for k, step in enumerate(steps):
        path = f"steps[{k}]"
        step = c.obj(step, path, "a detailed step")
        number = c.integer(c.key(step, "step", path), f"{path}.step", "a step trained", hi=trained)
        if number <= previous:
            raise c.fail(
                f"{path}.step",
                f"expected steps in training order, after step {previous}, got {number}",
            )
        previous = number
        samples = c.list_(c.key(step, "samples", path), f"{path}.samples", "sample indices")
        if not samples:
            raise c.fail(f"{path}.samples", "expected at least one sample index, got an empty list")
        c.integers(samples, f"{path}.samples", "a sample index", hi=n_data)
        batch = len(samples)
        c.number(c.key(step, "loss", path), f"{path}.loss", "the batch loss")
        c.number(c.key(step, "loss_after", path), f"{path}.loss_after", "the loss after")
        for t in STEP_TENSORS:
            if t.key in step or t.required:
                value = c.key(step, t.key, path)
                step[t.key] = c.array(value, f"{path}.{t.key}", sizes.dims(t.dims, batch, None))
        layers = c.list_(
            c.key(step, "layers", path), f"{path}.layers", "one per layer", len(sizes.units)
        )
        for i, layer in enumerate(layers):
            _layer(c, layer, f"{path}.layers[{i}]", sizes, i, batch)
        _events(c, c.key(step, "events", path), f"{path}.events", sizes, batch)


def _layer(c: _Checker, layer: Any, path: str, sizes: _Sizes, i: int, batch: int) -> None:
    layer = c.obj(layer, path, f"layer '{sizes.layer_names[i]}'")
    name = c.key(layer, "name", path)
    if name != sizes.layer_names[i]:
        raise c.fail(f"{path}.name", f"expected {sizes.layer_names[i]!r}, got {_kind(name)}")
    for t in LAYER_TENSORS:
        if t.key in layer or t.required:
            value = c.key(layer, t.key, path)
            layer[t.key] = c.array(value, f"{path}.{t.key}", sizes.dims(t.dims, batch, i))
    for key, kind in LAYER_FLAGS.items():
        if key in layer:
            check = c.flag if kind is bool else c.text
            check(layer[key], f"{path}.{key}", key)
    for key, dims in (("state", ("units", "fan_in")), ("state_b", ("units",))):
        terms = c.obj(layer.get(key, {}), f"{path}.{key}", "optimizer state terms")
        for term, value in terms.items():
            if term not in STATE_TERMS:
                raise c.fail(
                    f"{path}.{key}.{term}",
                    f"unknown optimizer state term; expected one of: {', '.join(STATE_TERMS)}",
                )
            terms[term] = c.array(value, f"{path}.{key}.{term}", sizes.dims(dims, batch, i))
        updated = layer.get("updated" if key == "state" else "biases_updated", True)
        wanted = [t for t in sizes.state_terms if key == "state" or t != "decay"]
        missing = [t for t in wanted if t not in terms] if updated else []
        if missing:
            raise c.fail(
                f"{path}.{key}",
                f"expected the optimizer's state term{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} (the layer was updated), got "
                f"{', '.join(sorted(terms)) or 'none'}",
            )


def _events(c: _Checker, events: Any, path: str, sizes: _Sizes, batch: int) -> None:
    c.list_(events, path, "the operations of the step")
    layers = len(sizes.units)
    for n, event in enumerate(events):
        where = f"{path}[{n}]"
        event = c.obj(event, where, "an operation")
        phase = c.choice(c.key(event, "phase", where), f"{where}.phase", PHASE_OPS)
        op = c.choice(
            c.key(event, "op", where), f"{where}.op", PHASE_OPS[phase], f"in the {phase} phase"
        )
        if op == "loss":
            c.number(c.key(event, "value", where), f"{where}.value", "the batch loss")
            continue
        layer = c.integer(
            c.key(event, "layer", where), f"{where}.layer", "a layer index", hi=layers
        )
        units = sizes.units[layer]
        c.integer(
            c.key(event, "unit", where),
            f"{where}.unit",
            f"a unit of '{sizes.layer_names[layer]}'",
            hi=units,
        )
        value = c.key(event, "value", where)
        if op in ("grad_b", "update_b"):
            c.number(value, f"{where}.value", f"the {op[-1]} of one unit")
        elif op in ("grad_W", "update_W"):
            c.array(value, f"{where}.value", [(sizes.fan_in(layer), sizes.fan_in_label(layer))])
        else:
            c.array(value, f"{where}.value", [(batch, "samples in the step's batch")])
