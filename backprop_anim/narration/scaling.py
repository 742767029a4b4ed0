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
from typing import Literal

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


def sample_pairs(trace: Trace, step: Step, side: Literal["inputs", "targets"]) -> list[Pair]:
    """The first sample's inputs (or targets), raw and scaled; empty where that side was
    not scaled. One function for both sides: they differ only in which scaling undoes
    the values and whose names they carry."""
    if side == "inputs":
        scaling: InputScaling | TargetScaling | None = input_scaling(trace)
        names, values = trace.network.input_names, step.x[0]
    else:
        scaling = target_scaling(trace)
        names, values = trace.network.unit_names[-1], step.y[0]
    if scaling is None:
        return []
    raw = scaling.raw(values) if isinstance(scaling, InputScaling) else scaling.inverse(values)
    return [Pair(name, float(r), float(s)) for name, r, s in zip(names, raw, values, strict=True)]


def _arrows(pairs: Sequence[Pair], digits: int) -> str:
    text = ", ".join(f"{p.name} {fmt(p.raw, digits)} → {fmt(p.scaled, digits)}" for p in pairs)
    return text + (", …" if len(pairs) > SHOWN else "")


def screen_rows(trace: Trace, step: Step, digits: int) -> list[tuple[str, str]]:
    """The title's rows (key, text) that put the raw values beside the scaled ones.

    Each key is the title's part that shows it (``storyboard.BEAT_PARTS["title"]``);
    ``raw``, the first sample's raw → scaled values, continues the ``scaled`` row's line.
    """
    rows: list[tuple[str, str]] = []
    scaling = input_scaling(trace)
    if scaling is not None:
        pairs = sample_pairs(trace, step, "inputs")
        rule = INPUT_RULE[scaling.method]
        if len(pairs) == 1:  # one input: the rule with its numbers
            a, b = INPUT_PARAMETERS[scaling.method]
            rule += f", {a} {fmt(scaling.first[0], digits)}, {b} {fmt(scaling.second[0], digits)}"
        first = "first sample: " if len(step.samples) > 1 else ""
        if len(pairs) <= SHOWN:
            # The rule comes with the sentence that names it, the sample's own numbers
            # (on the same line, key "raw") with the sentence that reads them.
            rows.append(("scaled", rule))
            rows.append(("raw", f"{first}{_arrows(pairs, digits)}"))
        else:
            rows.append(("scaled", f"all {len(pairs)} inputs: {rule}, per input"))
    targets = target_scaling(trace)
    if targets is not None:
        pairs = sample_pairs(trace, step, "targets")
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
    numbers when there are few inputs; empty texts without input scaling. The sentence
    that reads the sample's numbers opens the title's ``raw`` part (they appear on screen
    as it says them)."""
    scaling = input_scaling(trace)
    if scaling is None:
        return "", ""
    pairs = sample_pairs(trace, step, "inputs")
    brief = f"The inputs were {INPUT_WORDS[scaling.method].split(':')[0]}."
    words = INPUT_WORDS[scaling.method]
    if len(pairs) > SHOWN:
        return brief, (
            f"The {len(pairs)} inputs were {words}, so the network sees scaled numbers, not "
            "the raw values."
        )
    first, rest = pairs[0], pairs[1:]
    said = (
        f"The inputs were {words}. [[raw]]So the network does not see "
        f"{spoken_name(first.name)} as "
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
    pairs = sample_pairs(trace, step, "targets")
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
