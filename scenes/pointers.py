"""Parts that point at what a sentence explains (issue 11 §1).

Some sentences explain, in words, a picture already on screen: "the forward pass goes
layer by layer", "it uses the weights as they were", "dividing by the square root of v".
Each gets a part of its own that points at what it names, so the eye goes where the
voice is: the layers lit one after another (left to right, or right to left for the
backward pass), an outline around a term, a formula's first line written as its words
are read. The scenes call these only where a sentence speaks the part
(``BeatScene.said_parts``): at the other levels the picture is the same as before.
"""

from __future__ import annotations

import itertools

import numpy as np
from manim import Create, FadeOut, Mobject, SurroundingRectangle, VGroup

from backprop_anim.numbers import fmt
from backprop_anim.visual.network import NetworkDiagram
from backprop_anim.visual.theme import Theme

SWEEP_WEIGHT = 0.35  # per layer lit, as a share of the beat's natural length
# The least a pointer lasts at pace 1, whatever the beat's share gives it: an outline
# drawn in two frames, or three layers lit in half a second, go by unseen.
POINTER_SECONDS = 0.6
SWEEP_SECONDS = 0.5  # per layer lit


def seen(anims, seconds: float = POINTER_SECONDS) -> list:
    """``anims`` (one or a list) as a part's animations that last at least ``seconds``
    at pace 1 (``PartSpec.least``, read by ``BeatScene.run``). Where the part draws is in
    render.json's "sync" (each mark's ``box``), as for every part."""
    anims = list(anims) if isinstance(anims, list | tuple) else [anims]
    if anims:
        anims[0].least_seconds = seconds
    return anims


def layer_boxes(d: NetworkDiagram, theme: Theme, *, backwards: bool = False) -> list[Mobject]:
    """One outline per drawn column of neurons, in network order (or reversed)."""
    columns = [c for c in range(len(d.drawn)) if any((c, u) in d.neurons for u in d.drawn[c])]
    if backwards:
        columns.reverse()
    return [
        SurroundingRectangle(
            VGroup(*[d.neurons[(c, u)] for u in d.drawn[c] if (c, u) in d.neurons]),
            color=theme.highlight,
            buff=0.05,  # inside the unit names, 0.08 from their circles
            stroke_width=3,
        )
        for c in columns
    ]


def layer_sweep(
    scene,
    name: str,
    *,
    backwards: bool = False,
    then: list | None = None,
) -> list[tuple]:
    """Parts that light the diagram's layers one after another: the first is ``name``
    (it starts on its words), each next layer's outline replaces the one before, and
    the last leaves (with ``then``, what the sweep hands back)."""
    boxes = layer_boxes(scene.diagram, scene.theme, backwards=backwards)
    if not boxes:
        return [(then or [], SWEEP_WEIGHT, name)]
    first = seen(Create(boxes[0]), SWEEP_SECONDS)
    parts: list[tuple] = [(first, SWEEP_WEIGHT, name)]
    for before, box in itertools.pairwise(boxes):
        parts.append((seen([Create(box), FadeOut(before)], SWEEP_SECONDS), SWEEP_WEIGHT))
    parts.append((seen([FadeOut(boxes[-1]), *(then or [])], 0.3), 0.6 * SWEEP_WEIGHT))
    return parts


def outline(mob: Mobject, theme: Theme, buff: float = 0.06) -> Mobject:
    """A highlight-coloured box around ``mob``: what the sentence names."""
    return SurroundingRectangle(mob, color=theme.highlight, buff=buff, stroke_width=3)


def glyphs_below(mob: Mobject, y: float) -> VGroup:
    """The glyphs of a formula whose centre lies below ``y`` (a fraction's denominator,
    given the height of its bar); empty if none."""
    return VGroup(*[g for g in mob.family_members_with_points() if g.get_center()[1] < y])


def first_line(mob: Mobject) -> tuple[VGroup, VGroup]:
    """A formula of several lines as (its first line's glyphs, the others').

    Lines are told apart by height bands: glyphs whose vertical extents overlap belong
    to one band (a fraction on the first line is one band with the rest of that line),
    and the top band is the first line. One band: everything is the first line.
    """
    glyphs = mob.family_members_with_points()
    spans = sorted(
        ((g.get_top()[1], g.get_bottom()[1], n) for n, g in enumerate(glyphs)), reverse=True
    )
    first: set[int] = set()
    floor = np.inf
    for top, bottom, n in spans:
        if first and top < floor:  # a gap: the next band starts here
            break
        first.add(n)
        floor = min(floor, bottom)
    return (
        VGroup(*[g for n, g in enumerate(glyphs) if n in first]),
        VGroup(*[g for n, g in enumerate(glyphs) if n not in first]),
    )


def old_weights(scene, step, i: int, units: list[int], limit: int = 6) -> tuple[VGroup, VGroup]:
    """The edges into ``units`` of layer ``i`` lit, each with its weight as it was in the
    forward pass (w, not w⁺: nothing is updated before every gradient is known), as long
    as at most ``limit`` edges are labelled and each label has room on its edge.

    Returns (lit edges, labels), for "It uses the weights as they were".
    """
    d, t = scene.diagram, scene.theme
    pairs = [(j, s) for j in units for s in d.drawn[i] if d.is_drawn(i, s) and d.is_drawn(i + 1, j)]
    # A wide layer's tangle drawn thin: at full width, 100 lit edges hid every weight.
    width = 4 if len(pairs) <= limit else 1.5
    lit = VGroup(*[d.edge(i, j, s, t.highlight, width) for j, s in pairs])
    lit.set_z_index(-1)  # behind the neurons and their values, as the edge raster is
    labels = VGroup()
    if len(pairs) <= limit:
        values = [v for (c, _), v in d.value_labels.items() if c in (i, i + 1)]
        for j, s in pairs:
            text = scene.edge_label(
                i, j, s, fmt(step.layers[i].W[j, s], scene.digits), t.highlight, [*values, *labels]
            )
            if text is not None:
                labels.add(text)
    return lit, labels
