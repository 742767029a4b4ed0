"""The backward and matrix beats of a large net, as built (not drawn): what they show, where
and in which part.

The digits lecture (64-16-10, the hidden layer drawn elided) is built as a render builds
it (forward, backward and matrix beats, nothing played: the plan's ``build_only``); a
watching subclass keeps each beat's parts, the matrices its beats make, the slope tags
and the panels' texts. The defects pinned here were seen in its frames:

- the matrix gradient cell of x38 → h5 faded in with its row, 3.4 s before the sentence
  said "minus 0.03469" (its input is not drawn, so nothing flew, and a cell with nowhere
  to fly from came in with the row's frame);
- the tangle of 10 output and 6 hidden edges stayed at full strength around the edges
  a hidden unit's backward beat lights up;
- "slope 0.5231" stood on tanh'(z) = 1 − a² and crossed it on its way into the row;
- deltas were written with a hyphen ("δ=-0.006198") beside the formulas' minus signs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backprop_anim.numbers import MINUS, fmt
from backprop_anim.options import RenderOptions
from backprop_anim.render import obtain_trace, run_scene
from backprop_anim.storyboard import build_storyboard
from backprop_anim.timeline import schedule
from backprop_anim.visual.theme import DARK, rgb
from scenes.base import PANEL_LEFT

ROOT = Path(__file__).resolve().parents[1]


def box(mob) -> tuple[float, float, float, float]:
    """(left, right, bottom, top)."""
    return (mob.get_left()[0], mob.get_right()[0], mob.get_bottom()[1], mob.get_top()[1])


def shared_area(a, b) -> float:
    w = min(a[1], b[1]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[2], b[2])
    return w * h if w > 0 and h > 0 else 0.0


def visible_box(mob):
    """The box of what is drawn of ``mob``: a formula typeset whole keeps its number's
    glyphs transparent where the number arrives on its own (``value_row``)."""
    shown = [
        m
        for m in mob.family_members_with_points()
        if m.get_fill_opacity() > 0 or m.get_stroke_opacity() > 0
    ]
    xs = [p for m in shown for p in (m.get_left()[0], m.get_right()[0])]
    ys = [p for m in shown for p in (m.get_bottom()[1], m.get_top()[1])]
    return (min(xs), max(xs), min(ys), max(ys))


def animated(anims) -> list:
    """The mobjects a part's animations bring in (a Transform's: its target)."""
    if anims is None:
        return []
    anims = anims if isinstance(anims, (list, tuple)) else [anims]
    return [a.mobject for a in anims]


@pytest.fixture(scope="module")
def digits_built(tmp_path_factory) -> dict:
    """Digits at 480p, built: {"parts": {beat: [(name, anims)]}, "grids": {beat: [(name,
    highlight, grid)]}, "tags": {beat: (tag, target, texts, plot)}, "deltas": {...}}."""
    pytest.importorskip("manim")
    from scenes.base import LecturePlan
    from scenes.lecture import Lecture

    seen: dict = {"parts": {}, "grids": {}, "tags": {}, "deltas": {}, "tangle": {}}

    class Watched(Lecture):
        def run(self, parts, **kwargs):
            beat = self.current.beat.id
            seen["parts"].setdefault(beat, [])
            seen["parts"][beat].append([(p[2] if len(p) > 2 else None, p[0]) for p in parts])
            return super().run(parts, **kwargs)

        def grid(self, values, name, highlight=()):
            g = super().grid(values, name, highlight)
            seen["grids"].setdefault(self.current.beat.id, []).append((name, list(highlight), g))
            return g

        def place_slope_tag(self, tag, tangent, plot, target, texts, **kwargs):
            super().place_slope_tag(tag, tangent, plot, target, texts, **kwargs)
            seen["tags"][self.current.beat.id] = (tag, target, list(texts), plot)

        def beat_backward_unit(self, beat):
            super().beat_backward_unit(beat)
            seen["deltas"][beat.id] = dict(self.delta_labels)

    trace = obtain_trace(ROOT / "configs" / "digits.yaml", ())
    options = RenderOptions(
        scenes=("forward", "backward", "matrix"), voice="none", max_units_drawn=6, use_cache=False
    )
    timed = schedule(build_storyboard(trace, options), {}, 1.0, 15)
    plan = LecturePlan(
        trace=trace, timed=timed, options=options, window=(len(timed), len(timed)), build_only=True
    )
    tmp = tmp_path_factory.mktemp("build")
    run_scene(lambda kw: Watched(plan, **kw), options, tmp, "build", tmp, build_only=True)
    seen["trace"] = trace
    return seen


# Where each highlighted matrix number comes in: the part whose words speak it.
MATRIX_PARTS = {
    "backward": {"Δ": "unit", "Δ next": "next", "W next": "weights", "f'(Z)": "deriv"}
    | {"X": "grad", "A": "grad", "∂L/∂W": "cell", "∂L/∂A": "delta"},
    "forward": {"X": "inputs", "A": "inputs", "Wᵀ": "inputs", "b": "inputs", "Z": "z", "A'": "a"},
}


def test_each_highlighted_matrix_number_comes_in_with_the_words_that_speak_it(digits_built):
    """Every gold cell of every matrix beat is brought in by one animation, in the part
    its sentence names (the gradient cell at "cell": "... minus 0.03469"), and by no
    earlier part: a number whose input is elided fades in in place, at its words."""
    checked = 0
    for beat, grids in digits_built["grids"].items():
        kind = "backward" if ".matrix.backward." in beat else "forward"
        parts = digits_built["parts"][beat][0]
        for name, highlight, grid in grids:
            for cell in highlight:
                if cell not in grid.cells:
                    continue
                label = grid.cells[cell]
                where = [n for n, (_, anims) in enumerate(parts) if label in animated(anims)]
                assert len(where) == 1, f"{beat}: {name}{cell} comes in {len(where)} times"
                got = parts[where[0]][0]
                assert got == MATRIX_PARTS[kind][name], f"{beat}: {name}{cell} comes in at {got}"
                checked += 1
    grads = [g for b, gs in digits_built["grids"].items() for n, _, g in gs if n == "∂L/∂W"]
    assert grads and checked >= 10


def painted_alpha(image) -> np.ndarray:
    a = image.pixel_array[..., 3]
    return a[a > 0]


def dimmed_alpha(image) -> np.ndarray:
    """The opacity of the pixels painted in a weight-sign colour (blue, orange), not in
    the gradients' pink (a gradients beat paints its own layer pink, at full strength)."""
    px = image.pixel_array
    painted = px[..., 3] > 0
    rgb_px = px[..., :3].astype(float)
    near = {
        name: np.linalg.norm(rgb_px - np.array(rgb(colour), dtype=float), axis=-1)
        for name, colour in (
            ("positive", DARK.positive),
            ("negative", DARK.negative),
            ("gradient", DARK.gradient),
        )
    }
    sign = np.minimum(near["positive"], near["negative"]) < near["gradient"]
    return px[..., 3][painted & sign]


def distance(c1: str, c2: str) -> float:
    return float(np.linalg.norm(np.subtract(rgb(c1), rgb(c2), dtype=float)))


def test_backward_beats_of_a_unit_dim_the_tangle_and_light_its_edges_apart(digits_built):
    """Each backward beat of a unit and each gradients beat first fades in a picture of
    the edges in which the others stand at most 20 % opaque (80 % of their painted pixels:
    the rest are where edges cross), and brings the full picture back at the end; the
    edges it lights are in a colour far from both weight-sign colours."""
    from manim import FadeIn, ImageMobject

    beats = [b for b in digits_built["parts"] if ".backward.hidden." in b or ".gradients." in b]
    beats += [b for b in digits_built["parts"] if ".backward.output." in b and "slope" not in b]
    assert len(beats) >= 5
    for beat in beats:
        parts = digits_built["parts"][beat][0]
        shown = [
            a.mobject
            for _, anims in parts
            for a in (anims if isinstance(anims, (list, tuple)) else [anims] if anims else [])
            if isinstance(a, FadeIn) and isinstance(a.mobject, ImageMobject)
        ]
        assert len(shown) >= 2, f"{beat}: no edge picture comes and goes"
        alpha = dimmed_alpha(shown[0])
        assert alpha.size > 1000, f"{beat}: no other edges drawn"
        assert np.percentile(alpha, 80) <= 0.2 * 255 + 1, f"{beat}: the tangle is not dimmed"
        assert np.median(painted_alpha(shown[-1])) > 0.6 * 255, f"{beat}: edges not restored"
        lit = [
            m
            for _, anims in parts[:3]
            for m in animated(anims)
            if type(m).__name__ in ("Line", "VGroup") and m.family_members_with_points()
        ]
        colours = {
            line.get_stroke_color().to_hex().upper()
            for m in lit
            for line in m.family_members_with_points()
            if type(line).__name__ == "Line" and line.get_right()[0] < PANEL_LEFT  # an edge
        }
        # A hidden unit's edges to the next layer carry the deltas back (an output unit
        # lights none; a gradients beat, its example edge where both ends are drawn).
        assert colours or ".backward.hidden." not in beat, f"{beat}: no edge lit"
        for colour in colours:
            for sign in (DARK.positive, DARK.negative):
                assert distance(colour, sign) > 120, f"{beat}: lit edges {colour} near {sign}"


def test_the_slope_tag_and_its_travel_cross_no_other_text(digits_built):
    """ "slope 0.5231" beside the tangent, and the copy that travels from it into the
    tanh' row (straight, growing to the number's size), share no area with another text
    of the panel, at the start, at every eighth of the way and where it lands."""
    tags = digits_built["tags"]
    assert tags, "no backward beat draws a tangent"
    for beat, (tag, target, texts, plot) in tags.items():
        others = []
        for m in texts:
            if m is not target and target in m.submobjects:  # the row the number lands in
                others.append(visible_box(m[0]))
            else:
                others.append(box(m))
        others += [box(m) for m in plot.submobjects if type(m).__name__ == "Label"]
        start, end = box(tag), box(target)
        assert start[0] >= PANEL_LEFT, f"{beat}: the tag stands over the network"
        h0 = min(tag.height, target.height)
        w0 = target.width * h0 / target.height
        c0 = np.array([(start[0] + start[1]) / 2, (start[2] + start[3]) / 2])
        c1 = np.array([(end[0] + end[1]) / 2, (end[2] + end[3]) / 2])
        for n in range(9):
            f = n / 8
            cx, cy = c0 + (c1 - c0) * f
            w, h = w0 + (target.width - w0) * f, h0 + (target.height - h0) * f
            moving = (cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2)
            for k, other in enumerate(others):
                assert shared_area(moving, other) == 0.0, f"{beat}: at {f:.2f} over text {k}"
                assert shared_area(start, other) == 0.0, f"{beat}: the tag on text {k}"


def test_a_negative_delta_is_written_with_the_minus_sign(digits_built):
    """δ under its neuron reads "δ=−0.02712", as the formulas write it, not "δ=-0.02712"."""
    trace = digits_built["trace"]
    step = trace.steps[0]
    negative = 0
    for labels in digits_built["deltas"].values():
        for (column, unit), label in labels.items():
            value = float(step.layers[column - 1].delta[0, unit])
            assert label.text == "δ=" + fmt(value).replace("-", MINUS)
            assert "-" not in label.text
            negative += value < 0
    assert negative >= 2


def test_a_label_writes_a_numbers_sign_as_the_minus_sign_and_leaves_hyphens():
    from backprop_anim.visual.panels import Label

    assert Label("δ=-0.0381").text == f"δ={MINUS}0.0381"
    assert Label("2.911e-12").text == f"2.911e{MINUS}12"
    assert Label("(-0.4241)·0.5").text == f"({MINUS}0.4241)·0.5"
    for words in ("64-16-10", "one-layer-at-a-time", "h1←x-2"):  # (Text drops spaces)
        assert Label(words).text == words
