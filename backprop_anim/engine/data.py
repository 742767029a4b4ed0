"""Training data: inline samples, a CSV file, or a seeded generator.

Classification generators produce integer classes; they become a single 0/1 target
for a one-unit output layer, or one-hot rows for a wider (softmax) output layer.
Input and target scaling are explicit, invertible transforms (trace/scaling.py, saved
in the trace) so a lecture can train on scaled numbers and still show the real values.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config.loader import LoadedConfig
from ..config.schema import MAX_SAMPLES, Config, GeneratorData
from ..errors import ConfigError
from ..trace.scaling import InputScaling, TargetScaling


@dataclass
class Dataset:
    X: np.ndarray  # [n][inputs]
    Y: np.ndarray  # [n][outputs], as trained on (scaled if scaling is set)
    classes: np.ndarray | None = None  # [n] integer labels for classification
    scaling: TargetScaling | None = None
    kind: str = "regression"  # or "classification"
    input_scaling: InputScaling | None = None  # how X was scaled from the data's units


def _classes_to_targets(classes: np.ndarray, n_out: int) -> np.ndarray:
    if n_out == 1:
        return classes.astype(np.float64)[:, None]
    Y = np.zeros((classes.size, n_out))
    Y[np.arange(classes.size), classes] = 1.0
    return Y


def generate(gen: GeneratorData) -> tuple[np.ndarray, np.ndarray, bool]:
    """(X, y, is_classification) for a named generator, deterministic in ``seed``."""
    rng = np.random.default_rng(gen.seed)
    n, noise = gen.n, gen.noise
    if gen.name == "xor":
        corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        idx = np.arange(n) % 4
        X = corners[idx] + rng.normal(0.0, noise, size=(n, 2)) * (n > 4)
        y = (corners[idx, 0] != corners[idx, 1]).astype(int)
        return X, y, True
    if gen.name == "circles":
        y = np.arange(n) % 2
        angle = rng.uniform(0.0, 2 * np.pi, n)
        radius = np.where(y == 1, 0.5, 1.0)
        X = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
        return X + rng.normal(0.0, noise, size=X.shape), y, True
    if gen.name == "moons":
        y = np.arange(n) % 2
        t = rng.uniform(0.0, np.pi, n)
        X = np.where(
            (y == 0)[:, None],
            np.c_[np.cos(t), np.sin(t)],
            np.c_[1.0 - np.cos(t), 0.5 - np.sin(t)],
        )
        return X + rng.normal(0.0, noise, size=X.shape), y, True
    if gen.name == "spirals":
        y = np.arange(n) % 2
        t = np.sqrt(rng.uniform(0.0, 1.0, n)) * 3 * np.pi
        sign = np.where(y == 0, 1.0, -1.0)
        X = np.c_[sign * t * np.cos(t), sign * t * np.sin(t)] / (3 * np.pi)
        return X + rng.normal(0.0, noise, size=X.shape), y, True
    if gen.name == "sine":
        x = np.sort(rng.uniform(-np.pi, np.pi, n))
        y = np.sin(x) + rng.normal(0.0, noise, n)
        return x[:, None], y[:, None], False
    if gen.name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise ConfigError(
                "the digits data set needs scikit-learn: pip install 'backprop-anim[digits]'",
                field="data.generator.name",
            ) from None
        bunch = load_digits()
        order = rng.permutation(len(bunch.target))[:n]
        return bunch.data[order] / 16.0, bunch.target[order].astype(int), True
    raise AssertionError(gen.name)  # pragma: no cover - the schema only admits known names


def _read_csv(cfg: Config, base_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    spec = cfg.data.csv
    assert spec is not None
    path = Path(spec.path)
    if not path.is_absolute():
        path = base_dir / path
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise ConfigError(
            f"cannot read CSV {path}: {exc.strerror}", field="data.csv.path"
        ) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(
            f"{path.name} is not a readable CSV text file ({exc})", field="data.csv.path"
        ) from None
    if not rows:
        raise ConfigError(f"CSV {path} has no data rows", field="data.csv.path")
    if len(rows) > MAX_SAMPLES:
        raise ConfigError(
            f"CSV {path.name} has {len(rows)} rows; at most {MAX_SAMPLES} samples are supported",
            field="data.csv.path",
        )
    header = [h for h in rows[0] if h is not None]
    for group in ("inputs", "targets"):
        for k, col in enumerate(getattr(spec, group)):
            if col not in header:
                raise ConfigError(
                    f"column {col!r} is not in {path.name} (columns: {', '.join(header)})",
                    field=f"data.csv.{group}.{k}",
                )
    columns = [*spec.inputs, *spec.targets]
    values = np.empty((len(rows), len(columns)))
    for r, row in enumerate(rows):
        for c, col in enumerate(columns):
            try:
                values[r, c] = float(row[col])
            except (TypeError, ValueError):
                # Line r + 2 of the file: the header is line 1.
                raise ConfigError(
                    f"CSV {path.name}, line {r + 2}, column {col!r}: expected a number, "
                    f"got {row[col]!r}",
                    field="data.csv",
                ) from None
    if not np.isfinite(values).all():
        raise ConfigError(f"CSV {path.name} has NaN or infinite values", field="data.csv")
    X, Y = values[:, : len(spec.inputs)], values[:, len(spec.inputs) :]
    return X, Y


def load_data(cfg: Config, base_dir: Path) -> Dataset:
    """Materialise the config's data as float64 arrays shaped for the network."""
    n_in = cfg.network.n_inputs
    n_out = cfg.network.layers[-1].n_units
    classes = None
    kind = "regression"
    if cfg.data.samples is not None:
        X = np.array([s.x for s in cfg.data.samples], dtype=np.float64)
        if all(isinstance(s.y, int) for s in cfg.data.samples):
            classes = np.array([s.y for s in cfg.data.samples], dtype=int)
            Y = _classes_to_targets(classes, n_out)
            kind = "classification"
        else:
            Y = np.array(
                [
                    _classes_to_targets(np.array([s.y]), n_out)[0] if isinstance(s.y, int) else s.y
                    for s in cfg.data.samples
                ],
                dtype=np.float64,
            )
    elif cfg.data.csv is not None:
        X, Y = _read_csv(cfg, base_dir)
    else:
        gen = cfg.data.generator
        assert gen is not None
        X, y, is_cls = generate(gen)
        if is_cls:
            classes = y
            n_classes = int(y.max()) + 1
            if n_out not in (1, n_classes) or (n_out == 1 and n_classes > 2):
                raise ConfigError(
                    f"the {gen.name} data has {n_classes} classes: the output layer needs "
                    f"{'1 unit or ' if n_classes == 2 else ''}{n_classes} units, not {n_out}",
                    field=f"network.layers.{len(cfg.network.layers) - 1}.units",
                )
            Y = _classes_to_targets(y, n_out)
            kind = "classification"
        else:
            Y = y
    if X.shape[1] != n_in:
        raise ConfigError(
            f"the data has {X.shape[1]} input columns but the network has {n_in} inputs",
            field="network.inputs",
        )
    if Y.shape[1] != n_out:
        raise ConfigError(
            f"the data has {Y.shape[1]} target columns but the output layer has {n_out} units",
            field=f"network.layers.{len(cfg.network.layers) - 1}.units",
        )
    input_scaling = None
    if cfg.data.scale_inputs != "none":
        input_scaling = InputScaling.fit(cfg.data.scale_inputs, X)
        X = input_scaling.scaled(X)
    scaling = None
    if cfg.data.scale_targets is not None:
        lo, hi = cfg.data.scale_targets
        scaling = TargetScaling(Y.min(axis=0), Y.max(axis=0), float(lo), float(hi))
        Y = scaling.forward(Y)
    return Dataset(
        X=X, Y=Y, classes=classes, scaling=scaling, kind=kind, input_scaling=input_scaling
    )


def load_dataset(loaded: LoadedConfig) -> Dataset:
    """:func:`load_data` for a loaded config: data problems name its file and line.

    Problems that only show once the data is read (a missing CSV column, a generator
    whose classes do not fit the output layer) are found here, by ``validate`` as well
    as by training.
    """
    try:
        return load_data(loaded.config, loaded.base_dir)
    except ConfigError as exc:
        if exc.file is not None:
            raise
        raise loaded.error(exc.detail, exc.field) from None
