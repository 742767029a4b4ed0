"""What the network saw: a sample's raw values beside the scaled ones it was trained on.

With ``data.scale_inputs`` a viewer sees 1.617 in an input neuron where the data said
120.5; without a word about it, 1.617 comes from nowhere. This module says it, once,
where the sample is introduced (the title beat): the screen's line ``size 120.5 → 1.617``
and the narration's sentence read the same trace values (the first sample of the step,
raw values through ``trace/scaling.py``) with the same rounding (:func:`fmt`,
:func:`spoken`). The loss beat reads an output back in the targets' own units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..numbers import fmt, spoken
from ..trace.model import Step, Trace
from ..trace.scaling import (
    INPUT_PARAMETERS,
    InputScaling,
    TargetScaling,
    input_scaling,
    target_scaling,
)

SHOWN = 4  # at most this many inputs (or targets) are written and read out one by one

# How each input scaling reads on screen and aloud.
INPUT_RULE = {"standard": "(x − mean) / std", "minmax": "(x − min) / (max − min)"}
INPUT_WORDS = {
    "standard": "standardized: each input minus its mean over the data set, divided by its "
    "standard deviation",
    "minmax": "scaled into the range from zero to one: each input minus its smallest value "
    "in the data set, divided by its range",
}


@dataclass(frozen=True)
class Pair:
    """One value of the first sample: its name, as in the data, and as the network saw it."""

    name: str
    raw: float
    scaled: float


def input_pairs(trace: Trace, step: Step) -> list[Pair]:
    """The first sample's inputs, raw and scaled (empty without input scaling)."""
    scaling = input_scaling(trace)
    if scaling is None:
        return []
    x = step.x[0]
    raw = scaling.raw(x)
    return [
        Pair(name, float(r), float(s))
        for name, r, s in zip(trace.network.input_names, raw, x, strict=True)
    ]


def target_pairs(trace: Trace, step: Step) -> list[Pair]:
    """The first sample's targets, raw and scaled (empty without target scaling)."""
    scaling = target_scaling(trace)
    if scaling is None:
        return []
    y = step.y[0]
    raw = scaling.inverse(y)
    return [
        Pair(name, float(r), float(s))
        for name, r, s in zip(trace.network.unit_names[-1], raw, y, strict=True)
    ]


def _arrows(pairs: Sequence[Pair], digits: int) -> str:
    text = ", ".join(f"{p.name} {fmt(p.raw, digits)} → {fmt(p.scaled, digits)}" for p in pairs)
    return text + (", …" if len(pairs) > SHOWN else "")


def screen_rows(trace: Trace, step: Step, digits: int) -> list[tuple[str, str]]:
    """The title's rows (key, text) that put the raw values beside the scaled ones."""
    rows: list[tuple[str, str]] = []
    scaling = input_scaling(trace)
    if scaling is not None:
        pairs = input_pairs(trace, step)
        rule = INPUT_RULE[scaling.method]
        if len(pairs) == 1:  # one input: the rule with its numbers
            a, b = INPUT_PARAMETERS[scaling.method]
            rule += f", {a} {fmt(scaling.first[0], digits)}, {b} {fmt(scaling.second[0], digits)}"
        first = "first sample: " if len(step.samples) > 1 else ""
        if len(pairs) <= SHOWN:
            rows.append(("scaled", f"{first}{_arrows(pairs, digits)}   ({rule})"))
        else:
            rows.append(("scaled", f"all {len(pairs)} inputs: {rule}, per input"))
    targets = target_scaling(trace)
    if targets is not None:
        pairs = target_pairs(trace, step)
        lo, hi = fmt(targets.lo, digits), fmt(targets.hi, digits)
        shown = _arrows(pairs[:SHOWN], digits) if len(pairs) <= SHOWN else ""
        first = "first sample: " if len(step.samples) > 1 and shown else ""
        rows.append(("target", f"{first}{shown}   (min-max into [{lo}, {hi}])".strip()))
    return rows


def _stats_words(scaling: InputScaling, k: int, digits: int) -> str:
    if scaling.method == "standard":
        return (
            f"minus its mean, {spoken(scaling.shift[k], digits)}, divided by its standard "
            f"deviation, {spoken(scaling.divisor[k], digits)}"
        )
    return (
        f"minus its smallest value, {spoken(scaling.shift[k], digits)}, divided by its range, "
        f"{spoken(scaling.divisor[k], digits)}"
    )


def input_sentences(trace: Trace, step: Step, digits: int) -> tuple[str, str]:
    """(brief, fuller) sentences saying how the inputs were scaled, with this sample's
    numbers when there are few inputs; empty texts without input scaling."""
    scaling = input_scaling(trace)
    if scaling is None:
        return "", ""
    pairs = input_pairs(trace, step)
    brief = f"The inputs were {INPUT_WORDS[scaling.method].split(':')[0]}."
    words = INPUT_WORDS[scaling.method]
    if len(pairs) > SHOWN:
        return brief, (
            f"The {len(pairs)} inputs were {words}, so the network sees scaled numbers, not "
            "the raw values."
        )
    first, rest = pairs[0], pairs[1:]
    said = (
        f"The inputs were {words}. So the network does not see {spoken_name(first.name)} as "
        f"{spoken(first.raw, digits)}: {_stats_words(scaling, 0, digits)}, it is "
        f"{spoken(first.scaled, digits)}"
    )
    if rest:
        others = [
            f"{spoken_name(p.name)}, {spoken(p.raw, digits)}, becomes {spoken(p.scaled, digits)}"
            for p in rest
        ]
        said += "; " + "; ".join(others)
    return brief, said + "."


def target_sentence(trace: Trace, step: Step, digits: int) -> str:
    """How the targets were scaled, with this sample's target when there are few."""
    scaling = target_scaling(trace)
    if scaling is None:
        return ""
    lo, hi = spoken(scaling.lo, digits), spoken(scaling.hi, digits)
    pairs = target_pairs(trace, step)
    if len(pairs) > SHOWN:
        return f"The targets were scaled into the range from {lo} to {hi}."
    told = "; ".join(
        f"{spoken_name(p.name)}, {spoken(p.raw, digits)} in the data, becomes "
        f"{spoken(p.scaled, digits)}"
        for p in pairs
    )
    return f"The targets were scaled into the range from {lo} to {hi}: {told}."


def raw_output_sentence(
    scaling: TargetScaling, names: Sequence[str], a: np.ndarray, y: np.ndarray, digits: int
) -> str:
    """An output and its target read back in the targets' own units (few outputs only)."""
    if len(a) > SHOWN:
        return ""
    out, target = scaling.inverse(a), scaling.inverse(y)
    told = "; ".join(
        f"{spoken_name(n)} predicts {spoken(o, digits)} where the data says {spoken(t, digits)}"
        for n, o, t in zip(names, out, target, strict=True)
    )
    return f"In the data's own units, {told}."


def spoken_name(name: str) -> str:
    """A name as read aloud (explain.spoken_name; imported late: explain imports this)."""
    from .explain import spoken_name as words

    return words(name)
