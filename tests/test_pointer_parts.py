"""The detailed sentences that explain a picture already on screen point at it (issue 11
§1, scenes/pointers.py): in a real render each such part starts on its words, and the
picture changes where the part draws (its box in render.json "sync") as it starts.

One small render: a 1-1-1 net (tanh hidden, linear output, Adam) on one sample, detailed
level, reading-speed timing (--voice none), 480p at 5 frames per second: the loss, the
backward pass and the update carry every pointer part but the forward pass's.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from conftest import BASE_CONFIG

from backprop_anim.media import extract_frames
from backprop_anim.numbers import fmt
from backprop_anim.options import RenderOptions
from backprop_anim.storyboard import BEAT_PARTS
from backprop_anim.trace.model import load_trace

FPS = 5
POINTERS = {
    "loss": {"words", "linear"},
    "backward_unit": {"order", "weights"},
    "gradients": {"bias", "size"},
    "update": {"known", "layers", "hat", "scale"},
    "update_ranking": {"blame", "history"},
}


@pytest.fixture(scope="module")
def pointer_render(tmp_path_factory):
    pytest.importorskip("manim")
    from backprop_anim.render import render

    base = tmp_path_factory.mktemp("pointers")
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["network"]["inputs"] = 1
    cfg["network"]["layers"] = [
        {"units": 1, "activation": "tanh", "name": "hidden"},
        {"units": 1, "activation": "linear", "name": "output"},
    ]
    cfg["data"] = {"samples": [{"x": [0.8], "y": [0.3]}]}
    cfg["training"].update(optimizer={"name": "adam", "learning_rate": 0.05}, steps=2)
    cfg["narration"] = {"level": "detailed"}
    path = base / "pointers.yaml"
    path.write_text(json.dumps(cfg))
    options = RenderOptions(scenes=("loss", "backward", "update"), voice="none", jobs=1, fps=FPS)
    result = render(path, options, output_dir=base / "out")
    meta = json.loads((result.output_dir / "render.json").read_text())
    return result, meta


def test_the_pointer_parts_are_parts_of_their_beats():
    for kind, parts in POINTERS.items():
        assert parts <= set(BEAT_PARTS[kind]), kind


def test_each_pointer_starts_on_its_words(pointer_render):
    _, meta = pointer_render
    marks = {m["part"]: m for e in meta["sync"] for m in e["marks"]}
    wanted = set().union(*POINTERS.values())
    assert wanted <= set(marks), wanted - set(marks)
    for name in wanted:
        mark = marks[name]
        assert 0.0 <= mark["shown"] - mark["spoken"] <= 1 / FPS + 1e-3, mark


def test_the_picture_changes_where_each_pointer_draws_as_its_words_start(pointer_render):
    result, meta = pointer_render
    wanted = set().union(*POINTERS.values())
    cues = {
        (entry["beat"], mark["part"]): (mark["spoken"], mark["box"])
        for entry in meta["sync"]
        for mark in entry["marks"]
        if mark["part"] in wanted
    }
    assert {part for _, part in cues} == wanted
    indices = []
    for t, _ in cues.values():
        indices += [math.floor(t * FPS) - 1, math.floor((t + 0.5) * FPS)]
    frames = extract_frames(result.video, indices)
    for n, ((beat, part), (t, box)) in enumerate(cues.items()):
        x0, y0, x1, y1 = (round(v) for v in box)
        region = (slice(max(0, y0 - 3), y1 + 4), slice(max(0, x0 - 3), x1 + 4))
        before = np.asarray(frames[2 * n].convert("L"), dtype=float)[region]
        after = np.asarray(frames[2 * n + 1].convert("L"), dtype=float)[region]
        changed = int(np.sum(np.abs(after - before) > 40))
        assert changed > 40, f"{beat} {part}: nothing drawn in {box} 0.5 s after {t:.2f} s"


def test_the_numbers_the_pointers_show_are_the_traces(pointer_render):
    """The output's weight as it was (on its edge, in the first backward beat) and the
    bias gradient (the delta itself), as numbers.fmt writes them."""
    result, meta = pointer_render
    step = load_trace(result.output_dir / "trace.json").steps[0]
    texts = {b["id"]: b["screen_text"] for b in meta["beats"]}
    old = fmt(float(step.layers[1].W[0, 0]))
    new = fmt(float(step.layers[1].W_next[0, 0]))
    assert old != new
    assert old in texts["s0.backward.output.o1"]
    assert new not in texts["s0.backward.output.o1"]  # w, not w⁺
    bias = fmt(float(step.layers[1].grad_b[0]))
    rows = [t for t in texts["s0.gradients.output"] if "partial b" in t]
    assert rows and rows[0].endswith(f'delta_("o1") = {bias}'), rows
    assert bias == fmt(float(step.layers[1].delta[0, 0]))  # one sample: δ itself
