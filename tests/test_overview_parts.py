"""The title's and the overview's sentences each open the part that points at what they
say (issue 11 §1): a title of two sentences brings its answer line in as it is read;
in the overview, the accuracy, the boundary, the hidden layer, the fitted curve, the
tangent at the start, the replay downhill, the saturated share before and after
training, the layers one step updated and every layer's gradients are pointed at.

Two checks: every lecture's title and overview beats, built as a render builds them
(nothing played), draw a part for every mark their words carry (a mark of a part not
drawn would leave its sentence explaining in words only); and one real render (480p15,
reading-speed timing) in which the picture changes where the part is, 0.5 s after its
words start.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from test_lectures import lecture, variants  # one training each for the whole suite

from backprop_anim.media import extract_frames
from backprop_anim.narration import build_script
from backprop_anim.narration.speech import reading_speech
from backprop_anim.options import RenderOptions
from backprop_anim.render import render
from backprop_anim.storyboard import build_storyboard
from backprop_anim.timeline import schedule

REPO = Path(__file__).resolve().parent.parent
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))
WHY = REPO / "configs" / "why-the-derivative.yaml"
FPS = 15
# The lectures whose overview sentences name a part of their own by default (boundary
# and hidden layer, fit, L(w) and tangent, saturation, one layer per step); the others
# with -m slow.
DEFAULT = {"xor", "one-layer-at-a-time", "regression-output", "why-the-derivative"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(c.stem, id=c.stem, marks=() if c.stem in DEFAULT else pytest.mark.slow)
        for c in CONFIGS
    ],
)
def test_every_mark_of_the_title_and_the_overview_names_a_part_the_scene_draws(name):
    check_marks_drawn(name, lecture(name))


@pytest.mark.parametrize("variant", ["sigmoid-unscaled", "sigmoid-scaled"])
def test_a_sigmoid_outputs_reach_and_its_remedy_are_pointed_at(variant):
    """The regression sweep's sigmoid outputs: targets out of reach (reach, remedy), or
    scaled into it (scaled)."""
    check_marks_drawn(variant, variants("regression-output")[variant])


def check_marks_drawn(name: str, trace) -> None:
    pytest.importorskip("manim")
    from backprop_anim.render import measure_parts

    options = RenderOptions(scenes=("title", "overview"), voice="none")
    beats = build_storyboard(trace, options)
    # The detailed level says every sentence the others say, and the batch's loss.
    speech = {
        line.beat_id: reading_speech(line.text)
        for line in build_script(trace, beats, level="detailed")
    }
    timed = schedule(beats, {k: s.seconds for k, s in speech.items()}, 1.0, FPS)
    with tempfile.TemporaryDirectory() as tmp:
        parts = measure_parts(trace, timed, options, Path(tmp), speech)
    for beat in beats:
        marked = {name for s in speech[beat.id].sentences for name, _ in s.marks}
        drawn = {spec.name for spec in parts[beat.id].specs if spec.name}
        assert marked <= drawn, f"{name} {beat.id}: no part drawn for {marked - drawn}"
        untied = [s.text for s in speech[beat.id].sentences if not s.marks]
        assert not untied, f"{name} {beat.id}: sentences with no part: {untied}"


@pytest.fixture(scope="module")
def why_render(tmp_path_factory):
    """why-the-derivative's title and overview, brief: the title's answer line, the
    training, the slope at the start and the weight's walk downhill."""
    pytest.importorskip("manim")
    base = tmp_path_factory.mktemp("overview-parts")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BACKPROP_ANIM_CACHE", str(base / "cache"))
        options = RenderOptions(scenes=("title", "overview"), voice="none", jobs=1)
        return render(WHY, options, output_dir=base / "out", overrides=["narration.level=brief"])


def test_the_title_and_overview_sentences_open_their_parts_on_their_words(why_render):
    meta = json.loads((why_render.output_dir / "render.json").read_text())
    parts = [(e["beat"], e["part"]) for e in meta["sync"]]
    assert parts == [
        ("title", "title"),
        ("title", "subtitle"),
        ("title", "task"),
        ("overview", "network"),  # "On the data, [[curve]]the loss went from ..."
        ("overview", "start"),
    ]
    assert meta["sync"][1]["sentence"] == "The slope of the loss tells the weight where to go."
    marks = [m for e in meta["sync"] for m in e["marks"]]
    assert [m["part"] for m in marks][-4:] == ["network", "curve", "start", "moved"]
    for m in marks:
        assert 0.0 <= m["shown"] - m["spoken"] <= 1 / FPS + 1e-3, m


def test_the_picture_changes_where_the_part_points_when_its_words_start(why_render):
    """Title: the answer line's box. Overview: the start's slope label (right of the
    L(w) plot) and the replay downhill (the plot itself), the training (the loss plot)."""
    meta = json.loads((why_render.output_dir / "render.json").read_text())
    width, _ = meta["resolution"]
    layout = meta["layout"]
    over = layout["overview"]
    boxes = {
        "subtitle": layout["title"]["subtitle"],
        "curve": over["loss"],
        "start": [over["data"][2], over["data"][1], width, over["data"][3]],
        "moved": over["data"],
    }
    times = {m["part"]: m["spoken"] for e in meta["sync"] for m in e["marks"]}
    assert set(boxes) <= set(times)
    indices = []
    for part in boxes:
        t = times[part]
        indices += [math.floor(t * FPS) - 1, math.floor((t + 0.5) * FPS)]
    frames = extract_frames(why_render.video, indices)
    for k, (part, (x0, y0, x1, y1)) in enumerate(boxes.items()):
        region = (slice(max(0, int(y0) - 4), int(y1) + 5), slice(max(0, int(x0) - 4), int(x1) + 5))
        before = np.asarray(frames[2 * k].convert("L"), dtype=float)[region]
        after = np.asarray(frames[2 * k + 1].convert("L"), dtype=float)[region]
        changed = int(np.sum(np.abs(after - before) > 40))
        assert changed > 80, f"{part}: only {changed} pixels changed 0.5 s after its words"
