"""Every part changes the picture where it is drawn, when its words start it.

Issue 11: "a frame taken just before and 0.5 s after each sentence starts differs in the
part's region". render.json's "sync" gives, for each sentence and each marked word, the
part it starts and that part's pixel box as the part ends (``BeatScene._part_box``). One
small render of every scene (the textbook net, brief level, reading-speed timing, 480p15)
is checked here for every sentence and mark of every beat: the frame before the part
starts and the frame 0.5 s after its words differ inside its box. The standard level of
XOR and of one-layer-at-a-time run with ``-m slow``.

A part that changes nothing visible would be a sentence pointing at nothing; the few
that legitimately do are named in ``STILL`` with the reason.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from backprop_anim.media import extract_frames
from backprop_anim.options import RenderOptions
from backprop_anim.render import render

REPO = Path(__file__).resolve().parent.parent
FPS = 15
# A colour channel changing by more than this is a changed pixel (encoding noise stays
# below).
LEVEL = 40
# Changed pixels a part must make in its box: a single digit written at 480p changes
# about 30; a faint fade or an edge re-thickening by a pixel a few dozen.
CHANGED = 12
PAD = 3  # pixels around a box: a line's box has no width, its stroke has
# (beat kind, part) -> why its words may leave the picture as it was 0.5 s later.
STILL: dict[tuple[str, str], str] = {}

LECTURES = [
    pytest.param(("textbook-2-2-2", "brief"), id="textbook-brief"),
    pytest.param(("xor", "standard"), id="xor-standard", marks=pytest.mark.slow),
    pytest.param(
        ("one-layer-at-a-time", "standard"), id="one-layer-standard", marks=pytest.mark.slow
    ),
]


@pytest.fixture(scope="module", params=LECTURES)
def lecture(request, tmp_path_factory):
    """One render of every scene of a lecture (480p15, reading-speed timing)."""
    name, level = request.param
    base = tmp_path_factory.mktemp(f"parts-{name}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BACKPROP_ANIM_CACHE", str(base / "cache"))
        return render(
            REPO / "configs" / f"{name}.yaml",
            RenderOptions(voice="none"),
            overrides=(f"narration.level={level}",),
            output_dir=base / "out",
        )


def cues(meta: dict) -> list[dict]:
    """Every start a sentence or a marked word gives a part: beat, part, words, box."""
    out = []
    for entry in meta["sync"]:
        if entry["part"] is None:
            continue
        starts = entry["marks"] or [
            {"part": entry["part"], "spoken": entry["spoken"][0], "shown": entry["shown"][0]}
            | {"box": entry["box"]}
        ]
        for mark in starts:
            out.append({"beat": entry["beat"], "sentence": entry["sentence"], **mark})
    return out


def kind(beat: str) -> str:
    """A beat's kind as its id says it (``s0.forward.hidden.h1`` -> ``forward``)."""
    parts = beat.split(".")
    return parts[1] if len(parts) > 1 and parts[0].startswith("s") else parts[0]


def changed_in_box(before, after, box: list[float]) -> int:
    """Pixels of ``box`` (padded) where some colour channel changed by more than LEVEL:
    a change of hue counts (XOR's edge h1 -> o1 turning from orange to the gradients'
    pink keeps its grey level)."""
    w, h = before.size
    x0, y0 = max(0, math.floor(box[0]) - PAD), max(0, math.floor(box[1]) - PAD)
    x1, y1 = min(w, math.ceil(box[2]) + PAD), min(h, math.ceil(box[3]) + PAD)
    a = np.asarray(before.convert("RGB"), dtype=float)[y0:y1, x0:x1]
    b = np.asarray(after.convert("RGB"), dtype=float)[y0:y1, x0:x1]
    return int(np.sum(np.abs(b - a).max(axis=2) > LEVEL))


def test_every_part_changes_the_picture_in_its_box_when_its_words_start_it(lecture):
    meta = json.loads((lecture.output_dir / "render.json").read_text())
    width, height = meta["resolution"]
    starts = cues(meta)
    assert len(starts) >= 40, "too few sentences tied to parts to say anything"
    indices = []
    for cue in starts:
        shown = round(cue["shown"] * FPS)  # the part's first frame
        indices += [max(0, shown - 1), math.floor((cue["spoken"] + 0.5) * FPS)]
    frames = extract_frames(lecture.video, indices)
    failures = []
    for n, cue in enumerate(starts):
        where = (kind(cue["beat"]), cue["part"])
        box = cue["box"]
        if box is None:
            failures.append(f"{cue['beat']} [{cue['part']}]: no box (the part draws nothing)")
            continue
        assert 0 <= box[0] <= box[2] <= width and 0 <= box[1] <= box[3] <= height, cue
        changed = changed_in_box(frames[2 * n], frames[2 * n + 1], box)
        if changed < CHANGED and where not in STILL:
            failures.append(
                f"{cue['beat']} [{cue['part']}] at {cue['spoken']:.2f} s: {changed} pixels "
                f"changed in {[round(v) for v in box]} ({cue['sentence'][:50]!r})"
            )
    assert not failures, "\n".join(failures)


def test_boxes_are_where_the_parts_are_drawn(lecture):
    """The box of a number that travels contains where it lands (render.json travels)."""
    meta = json.loads((lecture.output_dir / "render.json").read_text())
    boxes = {(c["beat"], c["part"]): c["box"] for c in cues(meta)}
    checked = 0
    for travel in meta["travels"]:
        box = boxes.get((travel["beat"], travel["part"]))
        if box is None:
            continue
        x0, y0, x1, y1 = travel["to"]
        assert box[0] - 1 <= x0 and y0 >= box[1] - 1 and x1 <= box[2] + 1 and y1 <= box[3] + 1
        checked += 1
    assert checked >= 5
