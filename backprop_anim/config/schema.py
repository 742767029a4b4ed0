"""The config schema (pydantic v2): what a lecture's YAML may say, and its defaults.

Pydantic does the type checking and produces located errors; the loader turns those
into ``file:line: field: message``. Checks that need more than one field (weight
shapes against layer sizes, a loss that fits the output activation) live in
:func:`semantic_errors`, which returns located messages the same way.

Limits (see docs/config.md): a lecture animates small networks, so sizes are bounded
to keep traces and renders tractable.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..engine.optimizers import OPTIMIZERS
from ..maths.activations import ACTIVATIONS
from ..maths.losses import LOSSES

MAX_UNITS_PER_LAYER = 1024
MAX_LAYERS = 12
MAX_INPUTS = 1024
MAX_EDGES = 250_000
MAX_STEPS = 100_000
MAX_SAMPLES = 100_000
MAX_DETAIL_STEPS = 20

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
UNIT_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,15}$"

INIT_SCHEMES = (
    "uniform",
    "normal",
    "xavier_uniform",
    "xavier_normal",
    "he_normal",
    "nguyen_widrow",
)
GENERATORS = ("xor", "circles", "moons", "spirals", "sine", "digits")

Path = tuple[str | int, ...]


class Strict(BaseModel):
    """Unknown keys are errors (the loader adds a 'did you mean').

    A field's docstring is its description in the exported JSON Schema
    (``backprop-anim schema``), which editors show while a config is typed.
    """

    model_config = ConfigDict(
        extra="forbid", validate_assignment=False, use_attribute_docstrings=True
    )


PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
UnitName = Annotated[str, Field(pattern=UNIT_NAME_PATTERN)]


def one_of(names: Iterable[str]) -> dict[str, Any]:
    """JSON Schema ``enum`` for a name checked against a registry by a validator.

    The field stays a ``str`` so that a typo gets the loader's 'did you mean'; editors
    still offer the names.
    """
    return {"enum": list(names)}


def _registered(name: str, registry: dict, what: str) -> str:
    if name not in registry:
        raise ValueError(f"unknown {what} {name!r}; expected one of: {', '.join(registry)}")
    return name


class InitConfig(Strict):
    """How weights (and biases) not given explicitly are drawn. Seeded: same seed, same net."""

    scheme: str = Field("xavier_uniform", json_schema_extra=one_of(INIT_SCHEMES))
    """How weights are drawn: uniform, normal, xavier_uniform, xavier_normal, he_normal or
    nguyen_widrow (docs/config.md#init)."""
    seed: int = 0
    """Seed of the draw: the same seed gives the same network."""
    low: FiniteFloat = -1.0
    """Lower end of the range of 'uniform' (low < high)."""
    high: FiniteFloat = 1.0
    """Upper end of the range of 'uniform'."""
    std: PositiveFloat = 0.1
    """Standard deviation of 'normal'."""
    biases: Literal["zeros", "scheme"] = "zeros"
    """'zeros', or 'scheme' to draw the biases like the weights (with fan-in 1)."""

    @field_validator("scheme")
    @classmethod
    def _scheme(cls, v: str) -> str:
        return _registered(v, dict.fromkeys(INIT_SCHEMES), "init scheme")

    @model_validator(mode="after")
    def _range(self) -> InitConfig:
        if self.low >= self.high:
            raise ValueError(
                f"uniform range needs low < high, got low={self.low}, high={self.high}"
            )
        return self


class LayerConfig(Strict):
    """A layer after the inputs: its units, activation and (optionally) its parameters."""

    name: str | None = None
    """The layer's name in pictures, narration and the trace (default hidden1, ..., output)."""
    units: Annotated[int, Field(ge=1, le=MAX_UNITS_PER_LAYER)] | list[UnitName]
    """A count, or a list of unique unit names ([h1, h2])."""
    activation: str = Field("sigmoid", json_schema_extra=one_of(ACTIVATIONS))
    """The activation function; softmax only on the output layer, with cross_entropy."""
    slope: FiniteFloat = 0.01
    """The negative-side slope of leaky_relu."""
    weights: list[list[FiniteFloat]] | None = None
    """Explicit weights, [units][inputs of this layer]: row j holds the weights into unit j."""
    biases: list[FiniteFloat] | None = None
    """Explicit biases, one per unit."""
    trainable: bool = True
    """false freezes the layer: its gradients are traced, its parameters never change."""
    init: InitConfig | None = None
    """This layer's own init (default: network.init)."""

    @field_validator("activation")
    @classmethod
    def _activation(cls, v: str) -> str:
        return _registered(v, ACTIVATIONS, "activation")

    @field_validator("units")
    @classmethod
    def _units(cls, v: int | list[str]) -> int | list[str]:
        if isinstance(v, list):
            if not 1 <= len(v) <= MAX_UNITS_PER_LAYER:
                raise ValueError(f"expected 1 to {MAX_UNITS_PER_LAYER} unit names")
            if len(set(v)) != len(v):
                raise ValueError("unit names must be unique")
        return v

    @property
    def n_units(self) -> int:
        return self.units if isinstance(self.units, int) else len(self.units)


class NetworkConfig(Strict):
    """The network: its inputs and its layers, in order (at most 250,000 weights)."""

    inputs: Annotated[int, Field(ge=1, le=MAX_INPUTS)] | list[UnitName]
    """A count, or a list of input names ([i1, i2])."""
    layers: Annotated[list[LayerConfig], Field(min_length=1, max_length=MAX_LAYERS)]
    """The layers after the inputs; the last one is the output layer."""
    init: InitConfig = InitConfig()
    """How weights and biases not given explicitly are drawn."""

    @property
    def n_inputs(self) -> int:
        return self.inputs if isinstance(self.inputs, int) else len(self.inputs)

    def input_names(self) -> list[str]:
        if isinstance(self.inputs, list):
            return list(self.inputs)
        return [f"x{i + 1}" for i in range(self.inputs)]

    def unit_names(self, index: int) -> list[str]:
        layer = self.layers[index]
        if isinstance(layer.units, list):
            return list(layer.units)
        last = index == len(self.layers) - 1
        prefix = "o" if last else ("h" if len(self.layers) == 2 else f"h{index + 1}_")
        return [f"{prefix}{j + 1}" for j in range(layer.units)]

    def layer_name(self, index: int) -> str:
        layer = self.layers[index]
        if layer.name:
            return layer.name
        return "output" if index == len(self.layers) - 1 else f"hidden{index + 1}"

    def sizes(self) -> list[int]:
        return [self.n_inputs] + [layer.n_units for layer in self.layers]

    def n_edges(self) -> int:
        s = self.sizes()
        return sum(a * b for a, b in itertools.pairwise(s))

    def n_parameters(self) -> int:
        return self.n_edges() + sum(layer.n_units for layer in self.layers)


class Sample(Strict):
    """One inline sample."""

    x: list[FiniteFloat]
    """Its inputs, one number per network input."""
    y: list[FiniteFloat] | int
    """Its targets, one per output unit, or a class index (one-hot for a wider output)."""


class CsvData(Strict):
    """A CSV file with a header row."""

    path: str
    """The file, relative to the config file."""
    inputs: list[str]
    """Names of the input columns."""
    targets: list[str]
    """Names of the target columns."""


class GeneratorData(Strict):
    """A built-in data set generator (docs/config.md#generators)."""

    name: str = Field(json_schema_extra=one_of(GENERATORS))
    """xor, circles, moons, spirals, sine or digits."""
    n: Annotated[int, Field(ge=1, le=MAX_SAMPLES)] = 200
    """Number of samples."""
    noise: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.1
    """Standard deviation of the Gaussian noise (sine: on the targets)."""
    seed: int = 0
    """Same seed, same data."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _registered(v, dict.fromkeys(GENERATORS), "data generator")


class ImageSpec(Strict):
    """The inputs form a picture: the lecture draws the input column as its pixels."""

    shape: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]]
    """[rows, columns] of pixels; their product is the number of inputs, which are the
    pixels row by row (the digits: [8, 8])."""


class DataConfig(Strict):
    """The data: exactly one of samples, csv or generator."""

    samples: Annotated[list[Sample], Field(max_length=MAX_SAMPLES)] | None = None
    """Inline samples, a list of {x: [...], y: ...}."""
    csv: CsvData | None = None
    """A CSV file: {path, inputs, targets}."""
    generator: GeneratorData | None = None
    """A built-in generator: {name, n, noise, seed}."""
    scale_targets: tuple[FiniteFloat, FiniteFloat] | None = None
    """[low, high]: min-max scale every target column into that range for training (the
    pictures and narration show real values)."""
    scale_inputs: Literal["none", "standard", "minmax"] = "none"
    """standard: mean 0, std 1 per column; minmax: into [0, 1] per column."""
    image: ImageSpec | None = None
    """{shape: [rows, columns]}: the inputs are a picture's pixels, row by row; the input
    column is drawn as that picture and a hidden unit's weights as its receptive field.
    Set to [8, 8] for the digits generator when not given."""

    @field_validator("samples")
    @classmethod
    def _some_samples(cls, v: list[Sample] | None) -> list[Sample] | None:
        if v is not None and not v:
            raise ValueError("no samples given; expected at least one {x: [...], y: [...]}")
        return v

    @field_validator("scale_targets")
    @classmethod
    def _scale_range(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and v[0] >= v[1]:
            raise ValueError(f"expected [low, high] with low < high, got [{v[0]}, {v[1]}]")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        given = [k for k in ("samples", "csv", "generator") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one data source: 'samples', 'csv' or 'generator'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self

    @model_validator(mode="after")
    def _digits_are_pictures(self) -> DataConfig:
        # The digits are 8x8 images: drawn as such unless the config says otherwise.
        if self.image is None and self.generator is not None and self.generator.name == "digits":
            self.image = ImageSpec(shape=(8, 8))
        return self


class OptimizerConfig(Strict):
    """The update rule and its parameters (docs/config.md#trainingoptimizer)."""

    name: str = Field("sgd", json_schema_extra=one_of(OPTIMIZERS))
    """sgd, momentum or adam."""
    learning_rate: PositiveFloat = 0.1
    """The learning rate eta, a positive number."""
    momentum: Annotated[float, Field(ge=0, lt=1)] = 0.9
    """mu of momentum: v+ = mu v + g, w+ = w - eta v+."""
    beta1: Annotated[float, Field(ge=0, lt=1)] = 0.9
    """Adam's decay of the first moment."""
    beta2: Annotated[float, Field(ge=0, lt=1)] = 0.999
    """Adam's decay of the second moment."""
    eps: PositiveFloat = 1e-8
    """Adam's epsilon in the denominator."""
    weight_decay: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    """lambda of weight decay (0: none): w+ = w - eta (g + lambda w) for sgd and momentum,
    decoupled (AdamW) for adam; weights only, never biases."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _registered(v, OPTIMIZERS, "optimizer")

    def params(self) -> dict[str, float]:
        p: dict[str, float] = {"learning_rate": self.learning_rate}
        if self.name == "momentum":
            p["momentum"] = self.momentum
        elif self.name == "adam":
            p.update(beta1=self.beta1, beta2=self.beta2, eps=self.eps)
        if self.weight_decay:
            p["weight_decay"] = self.weight_decay
        return p


class TrainingConfig(Strict):
    """How the network trains: loss, optimizer, batches and steps."""

    loss: str = Field("half_sse", json_schema_extra=one_of(LOSSES))
    """half_sse, mse, bce (sigmoid output) or cross_entropy (softmax output); a batch mean."""
    optimizer: OptimizerConfig = OptimizerConfig()
    """The update rule."""
    batch_size: Annotated[int, Field(ge=1)] | Literal["full"] = 1
    """1 (online), N (mini-batches of N) or full (the whole data set every step)."""
    steps: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 1
    """Number of updates."""
    shuffle: bool = True
    """Mini-batches follow a new seeded permutation every epoch; false keeps the data order."""
    seed: int = 0
    """Seed of the shuffling and of update: random_layer."""
    update_biases: bool = True
    """false: the biases keep their values (their gradients are still traced)."""
    update: Literal["all", "random_layer"] = "all"
    """all, or random_layer: each step updates one randomly chosen trainable layer."""

    @field_validator("loss")
    @classmethod
    def _loss(cls, v: str) -> str:
        return _registered(v, LOSSES, "loss")


class TraceConfig(Strict):
    """What the trace keeps besides every step's summary."""

    detail_steps: Annotated[list[int], Field(max_length=MAX_DETAIL_STEPS)] | None = None
    """Steps traced in full detail, the ones a video animates (negative: from the end).
    Default: all steps when there are at most 10, else [0, -1]."""
    snapshot_every: Annotated[int, Field(ge=1)] | None = None
    """Snapshot the parameters for the overview every N steps (default: about 50 in all)."""


class NarrationConfig(Strict):
    """The voice and subtitles (docs/narration.md); `narration: off` switches them off."""

    enabled: bool = True
    """false switches the voice and subtitles off."""
    level: Literal["brief", "standard", "detailed"] = "standard"
    """How much the narrator says."""
    beats: dict[str, str] = {}
    """Replace a beat's text by id ({"s0.forward.hidden.h1": "..."}); "<id>+" appends."""


def _narration_schema(schema: dict[str, Any]) -> None:
    """`narration: off` (YAML false or 'off') is valid too, as the validator accepts it."""
    ref = schema.pop("$ref", None) or schema.pop("allOf", [{}])[0].get("$ref")
    schema["anyOf"] = [{"$ref": ref}, {"const": False}, {"const": "off"}]


class Config(Strict):
    """A backprop-anim lecture: a network, its data, its training (docs/config.md)."""

    name: str = Field(json_schema_extra={"pattern": NAME_PATTERN})
    """Output folder name: lowercase letters, digits, '-' and '_'."""
    title: str = ""
    """The lecture's title, shown first."""
    description: str = ""
    """What the lecture shows (for people reading the config)."""
    network: NetworkConfig
    """The network."""
    data: DataConfig
    """The data it learns."""
    training: TrainingConfig = TrainingConfig()
    """How it trains."""
    trace: TraceConfig = TraceConfig()
    """What the trace keeps."""
    narration: NarrationConfig = Field(NarrationConfig(), json_schema_extra=_narration_schema)
    """The voice and subtitles; off to switch them off."""

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if not name_is_safe(v):
            raise ValueError(
                f"{v!r} is not a safe folder name: expected 1 to 64 lowercase letters, "
                "digits, '-' and '_', starting with a letter or digit"
            )
        return v

    @field_validator("narration", mode="before")
    @classmethod
    def _narration_off(cls, v: Any) -> Any:
        # `narration: off` (YAML reads it as False) switches narration off.
        if v is False or v == "off":
            return {"enabled": False}
        return v


def semantic_errors(cfg: Config) -> list[tuple[Path, str]]:
    """Checks across fields, as (path, message) pairs for the loader to locate."""
    errors: list[tuple[Path, str]] = []
    net = cfg.network
    sizes = net.sizes()
    if net.n_edges() > MAX_EDGES:
        errors.append(
            (
                ("network",),
                f"network has {net.n_edges()} weights; at most {MAX_EDGES} can be animated",
            )
        )
    names = [net.layer_name(i) for i in range(len(net.layers))]
    for i, layer in enumerate(net.layers):
        fan_in, units = sizes[i], sizes[i + 1]
        base: Path = ("network", "layers", i)
        if names.count(names[i]) > 1 and layer.name:
            errors.append(((*base, "name"), f"layer name {layer.name!r} is used twice"))
        if layer.weights is not None:
            if len(layer.weights) != units:
                errors.append(
                    (
                        (*base, "weights"),
                        f"expected {units} rows (one per unit), got {len(layer.weights)}",
                    )
                )
            for r, row in enumerate(layer.weights):
                if len(row) != fan_in:
                    errors.append(
                        (
                            (*base, "weights", r),
                            f"expected {fan_in} values (one per input of this layer), "
                            f"got {len(row)}",
                        )
                    )
        if layer.biases is not None and len(layer.biases) != units:
            errors.append(((*base, "biases"), f"expected {units} biases, got {len(layer.biases)}"))
        if layer.activation == "softmax" and i != len(net.layers) - 1:
            errors.append(((*base, "activation"), "softmax is only allowed on the output layer"))
        if layer.activation == "softmax" and units < 2:
            errors.append(((*base, "activation"), "softmax needs at least 2 output units"))

    out = net.layers[-1]
    from ..maths.losses import get_loss

    loss = get_loss(cfg.training.loss)
    if loss.requires_activation and out.activation not in loss.requires_activation:
        errors.append(
            (
                ("training", "loss"),
                f"{cfg.training.loss} needs a {' or '.join(loss.requires_activation)} output "
                f"layer, but the output activation is {out.activation}",
            )
        )
    if out.activation == "softmax" and cfg.training.loss != "cross_entropy":
        errors.append(
            (("training", "loss"), "a softmax output layer is trained with loss: cross_entropy")
        )
    if cfg.data.samples is not None:
        n_out = out.n_units
        for s, sample in enumerate(cfg.data.samples):
            if len(sample.x) != net.n_inputs:
                errors.append(
                    (
                        ("data", "samples", s, "x"),
                        f"expected {net.n_inputs} inputs, got {len(sample.x)}",
                    )
                )
            if isinstance(sample.y, int):
                # A one-unit output takes a binary label (0 or 1), as the generators give.
                n_classes = 2 if n_out == 1 else n_out
                if not 0 <= sample.y < n_classes:
                    errors.append(
                        (
                            ("data", "samples", s, "y"),
                            f"class index {sample.y} is out of range for {n_out} outputs "
                            f"(expected 0 to {n_classes - 1})",
                        )
                    )
            elif len(sample.y) != n_out:
                errors.append(
                    (
                        ("data", "samples", s, "y"),
                        f"expected {n_out} targets (one per output unit), got {len(sample.y)}",
                    )
                )
    if cfg.data.image is not None:
        rows, cols = cfg.data.image.shape
        if rows * cols != net.n_inputs:
            errors.append(
                (
                    ("data", "image", "shape"),
                    f"the {rows}x{cols} picture has {rows * cols} pixels, but the network has "
                    f"{net.n_inputs} inputs (network.inputs); expected rows x columns = "
                    f"{net.n_inputs}",
                )
            )
    bs = cfg.training.batch_size
    if cfg.data.samples is not None and isinstance(bs, int) and bs > len(cfg.data.samples):
        errors.append(
            (
                ("training", "batch_size"),
                f"batch_size {bs} is larger than the {len(cfg.data.samples)} samples",
            )
        )
    for k, step in enumerate(cfg.trace.detail_steps or []):
        if not -cfg.training.steps <= step < cfg.training.steps:
            errors.append(
                (
                    ("trace", "detail_steps", k),
                    f"step {step} is outside the {cfg.training.steps} training steps",
                )
            )
    return errors


def name_is_safe(name: str) -> bool:
    return re.fullmatch(NAME_PATTERN, name) is not None
