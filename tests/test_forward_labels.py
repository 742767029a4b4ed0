"""The forward beat of one neuron in a large net: its weights readable on their edges."""

from __future__ import annotations

from pathlib import Path

import pytest

from backprop_anim.options import RenderOptions
from backprop_anim.render import obtain_trace, run_scene
from backprop_anim.storyboard import build_storyboard
from backprop_anim.timeline import schedule

ROOT = Path(__file__).resolve().parents[1]


def _overlap(a: list[float], b: list[float]) -> bool:
    """Boxes [left, top, right, bottom] in pixels that share more than a pixel."""
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


@pytest.fixture(scope="module")
def digits_forward_layout(tmp_path_factory) -> dict:
    """The forward beats of the digits lecture, built (not drawn) at 480p: their layout.
    Six units drawn per layer (the default draws 10): the crowded case."""
    from scenes.base import LecturePlan
    from scenes.lecture import Lecture

    trace = obtain_trace(ROOT / "configs" / "digits.yaml", ())
    options = RenderOptions(scenes=("forward",), voice="none", max_units_drawn=6, use_cache=False)
    timed = schedule(build_storyboard(trace, options), {}, 1.0, 15)
    plan = LecturePlan(
        trace=trace, timed=timed, options=options, window=(len(timed), len(timed)), build_only=True
    )
    tmp = tmp_path_factory.mktemp("build")
    run_scene(lambda kw: Lecture(plan, **kw), options, tmp, "build", tmp, build_only=True)
    return plan.layout


def test_weights_on_edges_into_an_output_clear_the_values_and_the_tangle_steps_back(
    digits_forward_layout,
):
    """Digits, the beat of output d0: six drawn edges converge from the elided hidden
    layer; their weights sat at 30 % along each edge, on the hidden units' values and on
    each other, and the 60 hidden -> output edges stayed at full strength around them."""
    beats = {k: v for k, v in digits_forward_layout.items() if k.startswith("s0.forward.output.")}
    assert beats, "no forward beat of an output unit"
    for beat, where in beats.items():
        labels, values = where["edge_labels"], where["values"]
        assert where["dimmed"], f"{beat}: the tangle of an elided layer is not dimmed"
        # A weight with no clear place is left out (it still leaves its edge for the
        # formula); the others are written where they can be read.
        assert labels, f"{beat}: no weight written on its edge"
        for n, box in enumerate(labels):
            assert box[3] - box[1] >= 8, f"{beat}: a weight too small to read"
            assert not any(_overlap(box, other) for other in labels[n + 1 :]), beat
            assert not any(_overlap(box, value) for value in values), beat
