"""The storyboard: the ordered beats of a lecture, derived from a trace.

A beat is one idea on screen (one neuron's forward equation, one output's delta, one
layer's update). The storyboard is the single list that the scenes draw, the narration
speaks and the subtitles carry, so the three cannot drift apart. It is plain data and
knows nothing of Manim.

Beat ids are stable and readable (``s0.forward.hidden.h1``); the config's
``narration.beats`` overrides text by id. Backward beats follow the engine's exact
order: for each layer from the output back, the deltas of its units, then the
gradients of its weights; then the update.

Timing lives here too (``BEAT_SECONDS``): every beat's animation has a natural length
at pace 1; the narration may lengthen a beat to fit its speech. No scene holds a run
time of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import UserError
from .options import RenderOptions
from .trace.model import Step, Trace

# Natural length of each kind of beat at pace 1, in seconds.
BEAT_SECONDS: dict[str, float] = {
    "title": 4.0,
    "forward_unit": 5.0,
    "forward_layer": 4.0,
    "loss": 5.0,
    "backward_unit": 6.0,
    "backward_layer": 4.0,
    "gradients": 5.0,
    "matrix_forward": 7.0,
    "matrix_backward": 8.0,
    "batch": 7.0,
    "weight_slope": 7.0,
    "update_thrown": 5.0,
    "update": 5.0,
    "update_ranking": 4.0,
    "summary": 4.0,
    "overview": 10.0,
}

# The visual parts of each kind of beat that a sentence or a marked word can start
# (``[[name]]`` in the script, docs/narration.md). Scenes name their parts with these
# and nothing else; the timeline decides when each plays.
BEAT_PARTS: dict[str, tuple[str, ...]] = {
    "title": (
        "title",
        "subtitle",
        "network",
        "data",
        "scaled",
        "raw",
        "target",
        "loss",
        "optimizer",
        "step",
        "task",
        "digits",
    ),
    # Each sentence of the overview points at its piece of the picture (scenes/overview.py).
    "overview": (
        "network",
        "curve",
        "accuracy",
        "batch",
        "background",
        "boundary",
        "bend",
        "fit",
        "reach",
        "remedy",
        "scaled",
        "along",
        "tangent",
        "start",
        "moved",
        "before",
        "after",
        "layer",
        "all",
        "stopped",
    ),
    "forward_unit": (
        "layers",
        "sum",
        "field",
        "term1",
        "term2",
        "term3",
        "bias",
        "z",
        "a",
        "plot",
        "neuron",
    ),
    "forward_layer": ("header", "rule", "strip", "caption", "neurons"),
    "loss": ("outputs", "words", "table", "formula", "linear"),
    "backward_unit": (
        "header",
        "order",
        "weights",
        "edges",
        "error",
        "dL_da",
        "slope",
        "tangent",
        "delta",
        "label",
        "long",
        "blames",
        "why",
        "chain",
        "rule",
        "flat",
    ),
    "backward_layer": ("header", "order", "weights", "rule", "strip", "caption"),
    "gradients": (
        "gradients",
        "delta",
        "input",
        "product",
        "mean",
        "edge",
        "table",
        "bias",
        "note",
        "size",
    ),
    "update": (
        "known",
        "layers",
        "rule",
        "hat",
        "table",
        "weight",
        "scale",
        "edges",
        "field",
        "note",
        "downhill",
        "rate",
    ),
    "update_ranking": ("title", "bars", "largest", "split", "note", "blame", "history"),
    "summary": ("curve", "note", "cycle", "next"),
    "matrix_forward": ("code", "product", "inputs", "z", "a", "rest"),
    "matrix_backward": ("delta", "next", "weights", "deriv", "unit", "grad", "cell", "note"),
    "batch": ("samples", "signs", "mean", "update", "strip"),
    "weight_slope": ("edge", "curve", "delta", "input", "gradient", "tangent", "step", "landed"),
    "update_thrown": ("computed", "applied", "thrown", "cost"),
}


@dataclass(frozen=True)
class Beat:
    id: str
    scene: str  # title | forward | loss | backward | matrix | batch | update | summary | overview
    kind: str  # a key of BEAT_SECONDS
    step: int | None = None  # the training step (as numbered in the trace)
    layer: int | None = None
    unit: int | None = None

    @property
    def seconds(self) -> float:
        """Natural duration at pace 1."""
        return BEAT_SECONDS[self.kind]


def resolve_steps(trace: Trace, wanted: list[int] | None) -> list[int]:
    """Trace step numbers to animate: ``wanted`` (negative from the end) or the first detailed."""
    if not trace.steps:
        raise UserError("the trace has no detailed step to animate")
    if wanted is None:
        return [trace.steps[0].step]
    total = len(trace.summary.loss)
    out = []
    for k in wanted:
        if not -total <= k < total:
            raise UserError(
                f"--steps: step {k} is out of range; the training has {total} step(s) "
                f"(0 to {total - 1}, or negative from the end)"
            )
        out.append(trace.step(k).step)
    return out


def focus_units(a: np.ndarray, count: int) -> list[int]:
    """The most active units of a layer (largest |a| on the first sample), in index order."""
    order = np.argsort(-np.abs(a[0]), kind="stable")[:count]
    return sorted(int(j) for j in order)


SHOWN_TERMS = 3  # terms of a weighted sum a formula writes out (the largest |w·a|)


def largest_terms(weights: np.ndarray, inputs: np.ndarray, count: int) -> list[int]:
    """The terms of a weighted sum that matter most (largest |w·a|), in input order.

    A formula with 64 terms shows these, not the first few: in the digits lecture the
    first pixels are all 0 · w. The screen and the narration both read this choice.
    """
    order = np.argsort(-np.abs(np.asarray(weights) * np.asarray(inputs)), kind="stable")
    return sorted(int(k) for k in order[:count])


READ_ONE_BY_ONE = 4  # a layer with at most this many weights is worked through in order
SAMPLES_SHOWN = 3  # a batch larger than READ_ONE_BY_ONE shows its largest terms of ∂L/∂w


def shown_samples(terms: np.ndarray) -> list[int]:
    """The samples whose terms δ·a of a weight's gradient a gradients beat shows, in
    sample order: every sample of a small batch, else the SAMPLES_SHOWN largest in size
    (the screen says so, "3 largest of 20"). The screen and the narration read this."""
    terms = np.asarray(terms)
    if len(terms) <= READ_ONE_BY_ONE:
        return list(range(len(terms)))
    return largest_terms(terms, np.ones_like(terms), SAMPLES_SHOWN)


def example_weight(values: np.ndarray, *, largest: bool = False) -> tuple[int, int]:
    """(unit, input) of the weight a beat works through as its example, on screen and in
    the narration: the first of a small layer (its weights are read in order), else, or
    when ``largest``, the one whose ``values`` (gradients, moves) are largest in size."""
    values = np.asarray(values)
    if values.size <= READ_ONE_BY_ONE and not largest:
        return 0, 0
    j, k = np.unravel_index(int(np.argmax(np.abs(values))), values.shape)
    return int(j), int(k)


def shown_units(trace: Trace, step: int, layer: int, options: RenderOptions) -> list[int]:
    """Units explained one by one: all of a small layer, the focus units of a large one."""
    n = len(trace.network.unit_names[layer])
    if n <= min(options.max_units_explained, options.max_units_drawn):
        return list(range(n))
    return focus_units(trace.step(step).layers[layer].a, options.focus_units)


def has_sample_gradients(step: Step) -> bool:
    """A batch of several samples whose own gradients the trace kept (batches of up to 8):
    a single sample's step has nothing to average, so it gets no batch beat."""
    return len(step.samples) > 1 and all(
        layer.grad_W_per_sample is not None for layer in step.layers
    )


def first_explained(trace: Trace, step: int, layer: int, options: RenderOptions) -> int:
    """The unit a matrix beat highlights: the first one the per-neuron beats explain (the
    most active one when none is explained one by one)."""
    shown = shown_units(trace, step, layer, options)
    return shown[0] if shown else focus_units(trace.step(step).layers[layer].a, 1)[0]


def gradients_thrown_away(step: Step) -> bool:
    """Some layer's gradients were computed but not applied in this step (not the layer
    chosen by ``update: random_layer``, or frozen): worth a beat that shows the waste."""
    return any(not layer.updated for layer in step.layers)


def batch_weight(step: Step) -> tuple[int, int, int]:
    """(layer, unit, input) of the weight the batch beat follows: in the output layer, the
    one whose samples disagree most (the widest spread of their own gradients)."""
    i = len(step.layers) - 1
    per_sample = step.layers[i].grad_W_per_sample
    assert per_sample is not None
    spread = np.ptp(per_sample, axis=0)
    j, k = np.unravel_index(int(np.argmax(spread)), spread.shape)
    return i, int(j), int(k)


def gradient_input(step: Step, layer: int, unit: int) -> int:
    """The input whose weight into ``unit`` has the largest gradient (what a matrix beat
    points at in ∂L/∂W)."""
    return int(np.argmax(np.abs(step.layers[layer].grad_W[unit])))


def matrix_layers(trace: Trace, *, forward: bool) -> list[int]:
    """The layers whose matrix beats a pass gets, in the pass's order: every layer; at the
    brief level one per pass, which says the same thing once (benchmarks/lecture_length.py:
    four matrix beats took 57 s of the brief textbook lecture's 219 s): forward, the first
    layer (Z = X·Wᵀ + b from the inputs); backward, the last hidden layer, where
    Δ = (Δ_next·W_next) ⊙ f'(Z) is the chain rule's step back."""
    n = len(trace.network.layer_names)
    if (trace.config.get("narration") or {}).get("level") != "brief":
        return list(range(n)) if forward else list(range(n - 1, -1, -1))
    return [0] if forward else [max(0, n - 2)]


def build_storyboard(trace: Trace, options: RenderOptions) -> list[Beat]:
    """The lecture's beats, in order, for the chosen steps and scenes."""
    steps = resolve_steps(trace, options.steps)
    scenes = set(options.scenes)
    names = trace.network.layer_names
    units = trace.network.unit_names
    n_layers = len(names)
    beats: list[Beat] = []
    if "title" in scenes:
        beats.append(Beat("title", "title", "title", step=steps[0]))
    # The overview opens the lecture (after the title), or closes it when --scenes names
    # it after a scene of the steps (forward,...,summary,overview).
    order = list(options.scenes)
    closing = "overview" in scenes and any(
        s not in ("title", "overview") for s in order[: order.index("overview")]
    )
    if "overview" in scenes and not closing:
        beats.append(Beat("overview", "overview", "overview"))
    for k in steps:
        p = f"s{k}"
        if "forward" in scenes:
            for i in range(n_layers):
                shown = shown_units(trace, k, i, options)
                if len(shown) < len(units[i]):
                    beats.append(Beat(f"{p}.forward.{names[i]}", "forward", "forward_layer", k, i))
                for j in shown:
                    beats.append(
                        Beat(
                            f"{p}.forward.{names[i]}.{units[i][j]}",
                            "forward",
                            "forward_unit",
                            k,
                            i,
                            j,
                        )
                    )
        if "matrix" in scenes:
            # After the per-neuron beats: the same numbers as one matrix product per layer,
            # with the unit the per-neuron beats explained first highlighted inside.
            for i in matrix_layers(trace, forward=True):
                j = first_explained(trace, k, i, options)
                beats.append(
                    Beat(f"{p}.matrix.forward.{names[i]}", "matrix", "matrix_forward", k, i, j)
                )
        if "loss" in scenes:
            beats.append(Beat(f"{p}.loss", "loss", "loss", k))
        if "backward" in scenes:
            for i in range(n_layers - 1, -1, -1):
                shown = shown_units(trace, k, i, options)
                if len(shown) < len(units[i]):
                    beats.append(
                        Beat(f"{p}.backward.{names[i]}", "backward", "backward_layer", k, i)
                    )
                for j in shown:
                    beats.append(
                        Beat(
                            f"{p}.backward.{names[i]}.{units[i][j]}",
                            "backward",
                            "backward_unit",
                            k,
                            i,
                            j,
                        )
                    )
                    if i == n_layers - 1 and j == shown[0]:
                        # Right after the first output unit's delta: the loss along one of
                        # its weights, whose tangent's slope is that weight's gradient.
                        beats.append(
                            Beat(
                                f"{p}.backward.{names[i]}.{units[i][j]}.slope",
                                "backward",
                                "weight_slope",
                                k,
                                i,
                                j,
                            )
                        )
                beats.append(Beat(f"{p}.gradients.{names[i]}", "backward", "gradients", k, i))
        if "matrix" in scenes:
            for i in matrix_layers(trace, forward=False):
                j = first_explained(trace, k, i, options)
                beats.append(
                    Beat(f"{p}.matrix.backward.{names[i]}", "matrix", "matrix_backward", k, i, j)
                )
        if "batch" in scenes and has_sample_gradients(trace.step(k)):
            i, j, _ = batch_weight(trace.step(k))
            beats.append(Beat(f"{p}.batch", "batch", "batch", k, i, j))
        if "update" in scenes:
            for i in range(n_layers):  # the engine updates layers in network order
                beats.append(Beat(f"{p}.update.{names[i]}", "update", "update", k, i))
            beats.append(Beat(f"{p}.update.ranking", "update", "update_ranking", k))
            if gradients_thrown_away(trace.step(k)):
                beats.append(Beat(f"{p}.update.thrown", "update", "update_thrown", k))
        if "summary" in scenes:
            beats.append(Beat(f"{p}.summary", "summary", "summary", k))
    if closing:
        beats.append(Beat("overview", "overview", "overview"))
    return beats
