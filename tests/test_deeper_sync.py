"""The deeper answers' beats (matrix, batch, slope, thrown, weight decay's update) on the
sync timeline: every sentence they say opens the part it speaks, at every level, and in a
real render each part starts on its words, the numbers fly from where they live in the
network into the cell that holds them, and the picture changes as the sentence starts."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from conftest import BASE_CONFIG, TEXTBOOK

from backprop_anim import config_from_dict, load_config, train
from backprop_anim.media import extract_frames
from backprop_anim.narration import build_script
from backprop_anim.narration.speech import split_sentences
from backprop_anim.narration.thrown import largest_gradient
from backprop_anim.numbers import fmt
from backprop_anim.options import RenderOptions
from backprop_anim.storyboard import BEAT_PARTS, batch_weight, build_storyboard
from backprop_anim.trace.model import load_trace

NEW_KINDS = {"matrix_forward", "matrix_backward", "batch", "weight_slope", "update_thrown"}


def small_batch_config(**training) -> dict:
    """BASE_CONFIG's 2-3-1 net on its 4 samples as one batch (per-sample gradients kept)."""
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["training"].update(training)
    return cfg


@pytest.fixture(scope="module")
def traces():
    return {
        "textbook": train(load_config(TEXTBOOK)),
        "batch": train(
            config_from_dict(
                small_batch_config(
                    update="random_layer",
                    optimizer={"name": "sgd", "learning_rate": 0.5, "weight_decay": 0.01},
                )
            )
        ),
    }


@pytest.mark.parametrize("level", ["brief", "standard", "detailed"])
def test_every_sentence_of_the_new_beats_opens_its_own_part(traces, level):
    seen: set[str] = set()
    for name, trace in traces.items():
        beats = build_storyboard(trace, RenderOptions())
        kinds = {b.id: b.kind for b in beats}
        for line in build_script(trace, beats, level=level):
            kind = kinds[line.beat_id]
            if kind not in NEW_KINDS:
                continue
            seen.add(kind)
            parts = BEAT_PARTS[kind]
            sentences = split_sentences(line.text)
            assert sentences, (name, line.beat_id)
            opened = []
            for s in sentences:
                # The sentence's first word starts a part of this beat...
                assert s.marks and s.marks[0].word == 0, (level, line.beat_id, s.text)
                names = [m.name for m in s.marks]
                assert set(names) <= set(parts), (line.beat_id, names)
                opened += names
            # ...each part at most once, in the order the scene plays them.
            assert len(opened) == len(set(opened)), (level, line.beat_id, opened)
            assert opened == sorted(opened, key=parts.index), (level, line.beat_id, opened)
    assert seen == NEW_KINDS


@pytest.mark.parametrize("level", ["brief", "standard", "detailed"])
def test_weight_decays_sentences_open_the_update_parts_they_speak(traces, level):
    """The decay's sentences (narration/decay.py) in the update and ranking beats."""
    trace = traces["batch"]
    beats = build_storyboard(trace, RenderOptions(scenes=("update",)))
    kinds = {b.id: b.kind for b in beats}
    said = 0
    for line in build_script(trace, beats, level=level):
        for s in split_sentences(line.text):
            if "weight itself" not in s.text and "toward zero" not in s.text:
                continue
            said += 1
            assert s.marks and s.marks[0].word == 0, (level, line.beat_id, s.text)
            assert {m.name for m in s.marks} <= set(BEAT_PARTS[kinds[line.beat_id]])
    assert said >= (1 if level == "brief" else 2)


# --- one real render: 480p15, the 2-3-1 net on a batch of 4, one layer updated at a time,
# weight decay, brief level, reading-speed timing (--voice none): every deeper beat at once.
FPS = 15
DEEPER = ("matrix", "batch", "update")


@pytest.fixture(scope="module")
def deeper_render(tmp_path_factory):
    pytest.importorskip("manim")
    from backprop_anim.render import render

    base = tmp_path_factory.mktemp("deeper")
    cfg = small_batch_config(
        update="random_layer",
        optimizer={"name": "sgd", "learning_rate": 0.5, "weight_decay": 0.01},
    )
    cfg["network"]["layers"][0].update(units=2, name="hidden")
    cfg["network"]["layers"][1]["name"] = "output"
    cfg["narration"] = {"level": "brief"}
    path = base / "deeper.yaml"
    path.write_text(json.dumps(cfg))
    options = RenderOptions(scenes=("backward", *DEEPER), voice="none", jobs=1)
    result = render(path, options, output_dir=base / "out")
    meta = json.loads((result.output_dir / "render.json").read_text())
    trace = load_trace(result.output_dir / "trace.json")
    for beat in build_storyboard(trace, options):  # the kind and unit of each beat
        entry = next(b for b in meta["beats"] if b["id"] == beat.id)
        entry.update(kind=beat.kind, unit=beat.unit)
    return result, meta, trace


def new_beat(beat_id: str, kinds: dict[str, str]) -> bool:
    return kinds[beat_id] in NEW_KINDS or kinds[beat_id].startswith("update")


def test_every_sentence_of_the_deeper_beats_starts_its_part_on_its_words(deeper_render):
    _, meta, _ = deeper_render
    kinds = {b["id"]: b["kind"] for b in meta["beats"]}
    entries = [e for e in meta["sync"] if new_beat(e["beat"], kinds)]
    assert {kinds[e["beat"]] for e in entries} >= NEW_KINDS | {"update", "update_ranking"}
    for entry in entries:
        assert entry["part"] in BEAT_PARTS[kinds[entry["beat"]]], entry
        shown, spoken = entry["shown"][0], entry["spoken"][0]
        assert 0.0 <= shown - spoken <= 1 / FPS + 1e-3, entry  # on its words, never before
        for mark in entry["marks"]:
            assert 0.0 <= mark["shown"] - mark["spoken"] <= 1 / FPS + 1e-3, (entry, mark)
    marked = {(kinds[e["beat"]], m["part"]) for e in entries for m in e["marks"]}
    # Mid-sentence marks too: the matrix's z, the slope's gradient, the decay's edges.
    assert {("matrix_forward", "z"), ("weight_slope", "gradient"), ("update", "edges")} <= marked


def test_the_picture_changes_as_each_deeper_sentence_starts(deeper_render):
    result, meta, _ = deeper_render
    kinds = {b["id"]: b["kind"] for b in meta["beats"]}
    times = [
        (e["beat"], m["part"], m["spoken"])
        for e in meta["sync"]
        if kinds[e["beat"]] in NEW_KINDS
        for m in e["marks"]
    ]
    indices = []
    for _, _, t in times:
        indices += [math.floor(t * FPS) - 1, math.floor((t + 0.5) * FPS)]
    frames = extract_frames(result.video, indices)
    for n, (beat, part, t) in enumerate(times):
        before = np.asarray(frames[2 * n].convert("L"), dtype=float)
        after = np.asarray(frames[2 * n + 1].convert("L"), dtype=float)
        changed = int(np.sum(np.abs(after - before) > 40))
        assert changed > 150, f"{beat} [[{part}]]: nothing new 0.5 s after {t:.2f} s"


def test_numbers_fly_from_the_network_into_their_matrix_cells(deeper_render):
    result, meta, trace = deeper_render
    step = trace.steps[0]
    layout = meta["layout"][str(step.step)]
    travels = [t for t in meta["travels"] if t["beat"] == "s0.matrix.forward.hidden"]
    layer = step.layers[0]
    j = next(b["unit"] for b in meta["beats"] if b["id"] == "s0.matrix.forward.hidden")
    # Sample 1's two inputs and the two weights into the unit, its bias, then z and a.
    assert [t["part"] for t in travels] == ["inputs"] * 5 + ["z", "a"]
    text = meta["beats"][[b["id"] for b in meta["beats"]].index("s0.matrix.forward.hidden")]
    shown = set(text["screen_text"])
    for value in (*step.x[0], *layer.W[j], layer.b[j], layer.z[0, j], layer.a[0, j]):
        assert fmt(value) in shown  # the trace's numbers, as the per-neuron beats said them
    # x1 leaves its input neuron; z and a leave the unit's neuron.
    x, y, _ = layout["0,0"]
    assert travels[0]["from"] == pytest.approx([x, y], abs=1.0)
    ux, uy, r = layout[f"1,{j}"]
    for t in travels[-2:]:
        assert np.hypot(t["from"][0] - ux, t["from"][1] - uy) <= r
    # The travel of z ends on its cell of Z: the ink at the end sits in the cell's box.
    z = travels[-2]
    x0, y0, x1, y1 = (round(v) for v in z["to"])
    first = round(z["start"] * FPS)
    before, after = (
        np.asarray(f.convert("L"), dtype=float)
        for f in extract_frames(result.video, [first - 1, z["last_frame"]])
    )
    box = (slice(y0 - 2, y1 + 3), slice(x0 - 2, x1 + 3))
    ink = after[box] > 128
    assert ink.sum() > 30 and not (before[box] > 128).any()
    ys, xs = np.nonzero(ink)
    centre = ((xs.min() + xs.max()) / 2 + x0 - 2, (ys.min() + ys.max()) / 2 + y0 - 2)
    assert centre == pytest.approx(((x0 + x1) / 2, (y0 + y1) / 2), abs=4.0)


def test_batch_slope_and_thrown_travels_carry_the_traces_numbers(deeper_render):
    _, meta, trace = deeper_render
    step = trace.steps[0]
    by_beat: dict[str, list] = {}
    for t in meta["travels"]:
        by_beat.setdefault(t["beat"], []).append(t)
    texts = {b["id"]: set(b["screen_text"]) for b in meta["beats"]}
    # The batch: each sample's own gradient goes into the mean, the mean into the update.
    batch = by_beat["s0.batch"]
    assert [t["part"] for t in batch] == ["mean"] * 4 + ["update"]
    assert len({tuple(round(v) for v in t["to"]) for t in batch[:4]}) == 1  # one mean cell
    i, j, k = batch_weight(step)
    own = step.layers[i].grad_W_per_sample[:, j, k]
    assert {fmt(g) for g in own} | {fmt(step.layers[i].grad_W[j, k])} <= texts["s0.batch"]
    assert own.mean() == pytest.approx(step.layers[i].grad_W[j, k], abs=1e-12)
    # The slope: δ and a into ∂L/∂w, then the gradient onto the tangent.
    (slope_id,) = [b for b in by_beat if b.endswith(".slope")]
    assert [t["part"] for t in by_beat[slope_id]] == ["tangent"] or [
        t["part"] for t in by_beat[slope_id]
    ] == ["delta", "input", "tangent"]
    # Thrown: every layer's largest gradient leaves its edge; the thrown ones are non-zero
    # and unapplied.
    thrown = by_beat["s0.update.thrown"]
    assert [t["part"] for t in thrown] == ["computed"] * len(step.layers)
    for layer in step.layers:
        assert fmt(largest_gradient(layer.grad_W)) in texts["s0.update.thrown"]
        if not layer.updated:
            assert np.abs(layer.grad_W).max() > 0 and np.array_equal(layer.W_next, layer.W)
