"""The deltas written beside the neurons in the backward pass cover no other text.

Every lecture in configs/ is built as a render would build it (forward and backward
beats, nothing played: the plan's ``build_only``), and after every backward beat of a
unit the diagram's texts are read from the stage: unit names, layer captions, the "⋮"
and "64 units" marks, values beside small neurons, raw inputs, the sample's picture and
the deltas placed so far. No two of their boxes may intersect, no delta may cover a
neuron, and none may cover the edges its own beat lit. (In the XOR and digits lectures
a hidden unit's δ used to sit on the name of the unit below it.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from backprop_anim import load_config, train
from backprop_anim.options import RenderOptions
from backprop_anim.storyboard import build_storyboard
from backprop_anim.timeline import schedule

REPO = Path(__file__).resolve().parent.parent
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))
# XOR, where the overlap was seen, runs by default; the rest (digits too) with -m slow.
DEFAULT = {"xor"}


def box(mob) -> tuple[float, float, float, float]:
    return (mob.get_left()[0], mob.get_right()[0], mob.get_bottom()[1], mob.get_top()[1])


def intersect(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def stage_after_backward_beats(config: Path) -> list[tuple]:
    """(beat id, [(what, box)], {neuron: (centre, radius)}, the unit, [(start, end) of each
    edge its beat lit]) after each unit's backward beat."""
    pytest.importorskip("manim")
    from backprop_anim.render import run_scene
    from scenes.base import LecturePlan
    from scenes.lecture import Lecture

    seen: list[tuple[str, list, dict]] = []

    class Watched(Lecture):
        def beat_backward_unit(self, beat) -> None:
            super().beat_backward_unit(beat)
            d = self.diagram
            texts = [("name", m) for m in d.name_labels]
            texts += [("caption", m) for m in d.captions] + [("mark", m) for m in d.extras]
            texts += [(f"value {k}", m) for k, m in d.value_labels.items()]
            texts += [("raw input", m) for m in self.raw_labels]
            if self.picture is not None:
                texts.append(("picture", self.picture))
            texts += [(f"delta {k}", m) for k, m in self.delta_labels.items()]
            neurons = {k: (np.array(p), d.radius) for k, p in d.positions.items()}
            # The edges this beat lit: from the unit to the next layer's drawn units.
            column, unit = beat.layer + 1, beat.unit
            lit = [
                (d.edge_point(column, k, unit, 0.0), d.edge_point(column, k, unit, 1.0))
                for k in (d.drawn[column + 1] if column + 1 < len(d.drawn) else [])
            ]
            seen.append(
                (beat.id, [(what, box(m)) for what, m in texts], neurons, (column, unit), lit)
            )

    trace = train(load_config(config))
    options = RenderOptions(scenes=("forward", "backward"), voice="none")
    timed = schedule(build_storyboard(trace, options), {}, 1.0, options.frame_rate)
    plan = LecturePlan(
        trace=trace,
        timed=timed,
        options=options,
        window=(len(timed), len(timed)),
        build_only=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        run_scene(
            lambda renderer: Watched(plan, **renderer),
            options,
            Path(tmp),
            "deltas",
            Path(tmp),
            build_only=True,
        )
    return seen


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(c, id=c.stem, marks=() if c.stem in DEFAULT else pytest.mark.slow)
        for c in CONFIGS
    ],
)
def test_no_delta_label_overlaps_another_text_or_a_neuron(config):
    seen = stage_after_backward_beats(config)
    assert seen, "the lecture has no backward beat of a unit"
    deltas = 0
    for beat, texts, neurons, me, lit in seen:
        clashes = [
            (a[0], b[0])
            for n, a in enumerate(texts)
            for b in texts[n + 1 :]
            if intersect(a[1], b[1])
        ]
        assert not clashes, f"{config.stem} {beat}: overlapping texts {clashes}"
        for what, (x0, x1, y0, y1) in texts:
            if not what.startswith("delta"):
                continue
            deltas += 1
            for key, (centre, r) in neurons.items():
                nearest = np.clip(centre[:2], [x0, y0], [x1, y1])
                assert np.hypot(*(nearest - centre[:2])) >= r, f"{beat}: {what} covers {key}"
            # Legible at 720p: at least the diagram's smallest readable text height.
            assert y1 - y0 >= 0.135, f"{beat}: {what} is {y1 - y0:.3f} high"
        # The unit's own delta leaves its lit edges readable where they leave it (digits'
        # h5: written right of it, it sat on the fan of its ten edges to the outputs).
        (x0, x1, y0, y1) = dict(texts)[f"delta {me}"]
        for a, b in lit:
            for t in np.linspace(0.0, 1.0, 41):
                x, y = (a + (b - a) * t)[:2]
                assert not (x0 < x < x1 and y0 < y < y1), f"{beat}: its delta is on a lit edge"
    assert deltas >= len(seen)  # every unit explained got its delta on screen
