"""Where the diagram puts its units and its values, whatever else is on screen.

- An elided layer draws the same units whichever scenes are rendered: the digits'
  hidden layer was drawn with 6 units in the whole lecture and 10 with ``--scenes
  forward``, because every beat about a unit (forward and backward) counted it again.
- A value too small for its neuron stands beside it on an opaque box touching the
  circle: the piece of edge between circle and number read as a minus sign (the digits'
  input 0.875 looked like -0.875). A named input's value goes above it, clear of its
  edges (regression-output's 1.213 sat on the eight edges leaving x).
- The update beat's w and w⁺ on their edges cover no neuron value, name or raw input.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from backprop_anim.options import RenderOptions
from backprop_anim.render import obtain_trace, run_scene
from backprop_anim.storyboard import build_storyboard
from backprop_anim.timeline import schedule
from backprop_anim.visual.network import drawn_units
from backprop_anim.visual.placement import crosses

REPO = Path(__file__).resolve().parent.parent


def build(config: str, scenes: tuple[str, ...], watch=None, **extra) -> dict:
    """Build a lecture's beats as a render does, drawing nothing; its plan's layout.
    ``watch(scene, beat)`` is called after each beat."""
    pytest.importorskip("manim")
    from scenes.base import LecturePlan
    from scenes.lecture import Lecture

    class Watched(Lecture):
        def finish_beat(self) -> None:
            if watch is not None:
                watch(self, self.current.beat)
            super().finish_beat()

    trace = obtain_trace(REPO / "configs" / f"{config}.yaml", ())
    options = RenderOptions(scenes=scenes, voice="none", use_cache=False, **extra)
    timed = schedule(build_storyboard(trace, options), {}, 1.0, 15)
    plan = LecturePlan(
        trace=trace, timed=timed, options=options, window=(len(timed), len(timed)), build_only=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        run_scene(
            lambda kw: Watched(plan, **kw), options, Path(tmp), "build", Path(tmp), build_only=True
        )
    return plan.layout


def box(mob) -> tuple[float, float, float, float]:
    """left, right, bottom, top (Manim units)."""
    return (mob.get_left()[0], mob.get_right()[0], mob.get_bottom()[1], mob.get_top()[1])


def intersect(a, b, slack: float = 0.0) -> bool:
    return (
        a[0] < b[1] - slack and b[0] < a[1] - slack and a[2] < b[3] - slack and b[2] < a[3] - slack
    )


def test_a_focus_unit_counts_once():
    ends_and_focus = [0, 1, 2, 3, 4, 5, 12, 13, 14, 15]
    assert drawn_units(16, 10, [4, 5]) == ends_and_focus
    assert drawn_units(16, 10, [4, 5, 4, 5, 5]) == ends_and_focus  # forward and backward
    assert drawn_units(16, 10, []) == [0, 1, 2, 3, 4, 11, 12, 13, 14, 15]
    assert drawn_units(16, 10, [0, 15]) == [0, 1, 2, 3, 12, 13, 14, 15]  # focus at the ends
    assert drawn_units(8, 10, [3, 3]) == list(range(8))


def test_an_elided_layer_draws_the_same_units_whatever_scenes_are_chosen():
    """Digits: 16 hidden units, two explained one by one (forward and backward beats)."""
    drawn = {
        scenes: sorted(key for key in build("digits", scenes)["0"] if key.startswith("1,"))
        for scenes in (("forward",), ("forward", "backward"), ("update",))
    }
    assert len(set(map(tuple, drawn.values()))) == 1, drawn
    assert len(drawn[("forward",)]) == 10  # max_units_drawn: ends and the two explained


def _values_beside(scene, beat, seen) -> None:
    d = scene.diagram
    if d is None:
        return
    for (c, u), label in d.value_labels.items():
        seen[(c, u)] = (label, d)


def test_a_value_beside_its_neuron_touches_it_on_an_opaque_box():
    seen: dict = {}
    build("digits", ("forward",), lambda s, b: _values_beside(s, b, seen))
    beside = [(k, v) for k, v in seen.items() if v[0].width > 1.8 * v[1].radius]
    assert len(beside) >= 20, "digits' inputs and hidden units are too small for their values"
    for (c, u), (label, d) in beside:
        circle = d.neuron(c, u)
        background = label.background_rectangle
        assert background.get_fill_opacity() == pytest.approx(1.0)
        # Touching the circle on its right: no edge shows between circle and number.
        assert label.get_left()[0] == pytest.approx(circle.get_right()[0], abs=1e-6), (c, u)
        assert abs(label.get_y() - circle.get_y()) < 1e-6


def test_a_named_input_or_output_writes_its_value_above_clear_of_its_edges():
    """regression-output: one input x (raw 2.593 -> 1.213), eight edges leave it; one
    output y, eight edges meet in it."""
    seen: dict = {}
    build("regression-output", ("forward",), lambda s, b: _values_beside(s, b, seen))
    (label, d), (out, _) = seen[(0, 0)], seen[(2, 0)]
    x, y = d.neuron(0, 0), d.neuron(2, 0)
    assert label.get_bottom()[1] > x.get_top()[1]  # above it
    assert label.get_right()[0] <= x.get_x() + 1e-6  # its edges leave to the right
    assert out.get_bottom()[1] > y.get_top()[1]
    assert out.get_left()[0] >= y.get_x() - 1e-6  # its edges come from the left
    for unit in d.drawn[1]:
        for value, layer, (i, o) in ((label, 0, (unit, 0)), (out, 1, (0, unit))):
            a, z = d.edge_point(layer, i, o, 0.0), d.edge_point(layer, i, o, 1.0)
            assert not crosses(box(value), a, z), f"a value sits on an edge of h{unit + 1}"
    for name in d.name_labels:
        assert not intersect(box(label), box(name)) and not intersect(box(out), box(name))


@pytest.mark.parametrize(
    "config",
    ["xor", pytest.param("one-layer-at-a-time", marks=pytest.mark.slow)],
)
def test_update_labels_cover_no_value_name_or_raw_input(config):
    """In the update beat, w and w⁺ on their edges keep clear of every text the diagram
    holds (one-layer-at-a-time: w⁺ -0.2091 of h2_2 <- h1_4 stood where h1_3's value is)."""
    checked: list[str] = []

    def watch(scene, beat) -> None:
        if beat.kind != "update" or scene.diagram is None:
            return
        d = scene.diagram
        texts = [("value", m) for m in d.value_labels.values()]
        texts += [("name", m) for m in d.name_labels] + [("raw", m) for m in scene.raw_labels]
        texts += [("delta", m) for m in scene.delta_labels.values()]
        assert any(w == "value" for w, _ in texts), f"{beat.id}: no values on stage"
        for p, where in scene.plan.layout.get(beat.id, {}).get("edge_labels", {}).items():
            left, top, right, bottom = where["box"]
            for what, m in texts:
                (x0, y0), (x1, y1) = (
                    scene._pixel(m.get_corner(np.array([-1, 1, 0]))),
                    scene._pixel(m.get_corner(np.array([1, -1, 0]))),
                )
                overlap = left < x1 - 1 and x0 < right - 1 and top < y1 - 1 and y0 < bottom - 1
                assert not overlap, f"{beat.id}: w⁺ of {p} covers a {what}"
            checked.append(p)

    build(config, ("forward", "update"), watch)
    assert checked, "no update label was placed"
