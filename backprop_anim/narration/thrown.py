"""The words of the beat that shows the gradients a step computed and threw away."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..storyboard import Beat


def largest_gradient(grad_W: np.ndarray) -> float:
    """The gradient of largest size in a layer, with its sign (as the trace holds it)."""
    return float(grad_W.flat[int(np.argmax(np.abs(grad_W)))])


if TYPE_CHECKING:
    from .explain import Explainer, Said


def update_thrown(ex: Explainer, beat: Beat) -> Said:
    from .explain import ALL, FULL, Said, join_words

    step = ex.step_of(beat)
    said = Said("Gradients applied, and thrown away")
    layers = step.layers
    applied = [i for i, L in enumerate(layers) if L.updated]
    thrown = [i for i, L in enumerate(layers) if not L.updated]
    computed = sum(L.grad_W.size for L in layers)
    used = sum(layers[i].grad_W.size for i in applied)
    ex.say(
        said,
        f"[[computed]]This backward pass computed the gradients of all {len(layers)} layers, "
        f"{computed} weight gradients, because the chain rule passes through every layer on "
        "its way back.",
        ALL,
    )
    if applied:
        ex.say(
            said,
            f"[[applied]]Only {join_words([ex.layer(i) for i in applied])} used them: {used} of "
            f"the {computed}.",
            ALL,
        )
    else:
        ex.say(said, "[[applied]]No layer used them in this step.", ALL)
    largest = max(thrown, key=lambda i: float(np.abs(layers[i].grad_W).max()))
    top = largest_gradient(layers[largest].grad_W)
    ex.say(
        said,
        f"[[thrown]]The gradients of {join_words([ex.layer(i) for i in thrown])} were computed and "
        "thrown away"
        + (
            f", though they were not zero: in {ex.layer(largest)} the largest is {ex.n(top)}."
            if top != 0
            else "."
        ),
        ALL,
    )
    if any("random_layer" in layers[i].update_reason for i in thrown):
        ex.say(
            said,
            "[[cost]]That is the cost the overview measures: per gradient computed, updating one "
            "layer at a time learns less.",
            FULL,
        )
    for i in thrown:
        said.formulas.append(
            rf"\|\partial L / \partial W_{{\text{{{ex.names[i]}}}}}\| = "
            f"{ex.v(ex.trace.summary.grad_norms[step.step][i])}"
            r"\ \text{(thrown away)}"
        )
    return said
