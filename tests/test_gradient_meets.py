"""A batch's gradients beat shows the sum the engine computes, and the matrix form of the
backward pass brings each factor of Δ = (Δ_next·W_next) ⊙ f'(Z) in at its word.

The sums are checked on traces (every weight of a batch of 4 and of XOR's batch of 20);
one real render (480p15, a 2-1-1 net on its 4 samples as one batch, standard level,
reading-speed timing) checks that the numbers on screen are the trace's, that each
travel starts on its word, and that the sum lands on the example weight's edge.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import BASE_CONFIG

from backprop_anim import config_from_dict, load_config, train
from backprop_anim.media import extract_frames
from backprop_anim.numbers import fmt
from backprop_anim.options import RenderOptions
from backprop_anim.storyboard import build_storyboard, example_weight, shown_samples
from backprop_anim.trace.model import load_trace

REPO = Path(__file__).resolve().parent.parent
FPS = 15


def batch_config() -> dict:
    """BASE_CONFIG's net with one hidden unit (a short render), its 4 samples as one batch."""
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["network"]["layers"][0].update(units=1, name="hidden")
    cfg["network"]["layers"][1]["name"] = "output"
    cfg["narration"] = {"level": "standard"}
    return cfg


def test_each_samples_terms_add_up_to_the_traced_gradient():
    small = train(config_from_dict(batch_config())).steps[0]
    xor = train(load_config(REPO / "configs" / "xor.yaml")).steps[0]
    for step, size in ((small, 4), (xor, 20)):
        assert len(step.samples) == size
        for i, layer in enumerate(step.layers):
            for j, k in np.ndindex(layer.grad_W.shape):
                terms = step.gradient_terms(i, j, k)
                assert terms.shape == (size,)
                assert terms.sum() == pytest.approx(layer.grad_W[j, k], abs=1e-12)
            if layer.grad_W_per_sample is not None:  # batches of up to 8
                # The samples' own gradients are B times their terms: the sum is their mean.
                own = layer.grad_W_per_sample
                for j, k in np.ndindex(layer.grad_W.shape):
                    terms = step.gradient_terms(i, j, k)
                    np.testing.assert_allclose(own[:, j, k], size * terms, atol=1e-12, rtol=0)
                    assert own[:, j, k].mean() == pytest.approx(layer.grad_W[j, k], abs=1e-12)
    # A batch of 20 shows the three largest terms, in sample order; a batch of 4, all.
    j, k = example_weight(xor.layers[0].grad_W, largest=True)
    terms = xor.gradient_terms(0, j, k)
    shown = shown_samples(terms)
    assert shown == sorted(shown) and len(shown) == 3
    assert min(abs(terms[shown])) >= np.sort(abs(terms))[-3]
    assert shown_samples(small.gradient_terms(0, 0, 0)) == [0, 1, 2, 3]


@pytest.fixture(scope="module")
def batch_render(tmp_path_factory):
    pytest.importorskip("manim")
    from backprop_anim.render import render

    base = tmp_path_factory.mktemp("meets")
    path = base / "meets.yaml"
    path.write_text(json.dumps(batch_config()))
    options = RenderOptions(scenes=("backward", "matrix"), voice="none", jobs=1)
    result = render(path, options, output_dir=base / "out")
    meta = json.loads((result.output_dir / "render.json").read_text())
    trace = load_trace(result.output_dir / "trace.json")
    beats = {b.id: b for b in build_storyboard(trace, options)}
    return result, meta, trace, beats


def test_the_batch_gradient_shown_is_the_traced_one(batch_render):
    _, meta, trace, beats = batch_render
    step = trace.steps[0]
    texts = {b["id"]: set(b["screen_text"]) for b in meta["beats"]}
    layout = meta["layout"][str(step.step)]
    grads = [b for b in beats.values() if b.kind == "gradients"]
    assert len(grads) == 2
    for beat in grads:
        i = beat.layer
        layer = step.layers[i]
        j, k = example_weight(layer.grad_W, largest=True)
        terms = step.gradient_terms(i, j, k)
        a_prev = step.a_prev(i)
        shown = texts[beat.id]
        # Every sample's δ, a and product, and their sum: the traced gradient.
        for s in range(4):
            assert {fmt(layer.delta[s, j]), fmt(a_prev[s, k]), fmt(terms[s])} <= shown
        assert fmt(layer.grad_W[j, k]) in shown
        assert terms.sum() == pytest.approx(layer.grad_W[j, k], abs=1e-12)
        travels = [t for t in meta["travels"] if t["beat"] == beat.id]
        # Four δ and four a meet, four products go into the sum, the sum lands on the edge.
        assert [t["part"] for t in travels] == ["delta"] * 4 + ["input"] * 4 + ["mean"] * 4 + [
            "edge"
        ]
        # Sample 1's δ leaves the label under its neuron; its a leaves the input's neuron.
        ux, uy, r = layout[f"{i + 1},{j}"]
        assert np.hypot(travels[0]["from"][0] - ux, travels[0]["from"][1] - uy) < 4 * r
        sx, sy, r = layout[f"{i},{k}"]
        assert np.hypot(travels[4]["from"][0] - sx, travels[4]["from"][1] - sy) <= r
        # The products all land on the one sum, which then leaves for the edge.
        (cell,) = {tuple(round(v) for v in t["to"]) for t in travels[8:12]}
        assert travels[12]["from"] == pytest.approx(
            [(cell[0] + cell[2]) / 2, (cell[1] + cell[3]) / 2], abs=2.0
        )
        x0, y0, x1, y1 = travels[12]["to"]
        mid = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        a, b = np.array([sx, sy]), np.array([ux, uy])
        along = np.clip(np.dot(mid - a, b - a) / np.dot(b - a, b - a), 0, 1)
        assert np.linalg.norm(a + along * (b - a) - mid) < 3.0  # on the edge's line


def test_each_travel_starts_on_its_word(batch_render):
    _, meta, _, beats = batch_render
    wanted = {
        "gradients": {"delta", "input", "product", "mean", "edge"},
        "matrix_backward": {"next", "weights", "deriv"},
    }
    marked: dict[str, set[str]] = {kind: set() for kind in wanted}
    for entry in meta["sync"]:
        kind = beats[entry["beat"]].kind
        if kind not in wanted:
            continue
        for mark in entry["marks"]:
            assert 0.0 <= mark["shown"] - mark["spoken"] <= 1 / FPS + 1e-3, (entry, mark)
            marked[kind].add(mark["part"])
    for kind, parts in wanted.items():
        assert parts <= marked[kind], kind
    # Each factor of the hidden layer's Δ travels in its own part, after Δ's frame.
    hidden = next(b for b in beats.values() if b.kind == "matrix_backward" and b.layer == 0)
    parts = [t["part"] for t in meta["travels"] if t["beat"] == hidden.id]
    assert parts[:3] == ["next", "weights", "deriv"]
    starts = {t["part"]: t["start"] for t in meta["travels"] if t["beat"] == hidden.id}
    assert starts["next"] < starts["weights"] < starts["deriv"] < starts["unit"]


def test_the_sum_lands_on_the_edge_in_the_frames(batch_render):
    result, meta, _, beats = batch_render
    landing = next(
        t for t in meta["travels"] if beats[t["beat"]].kind == "gradients" and t["part"] == "edge"
    )
    x0, y0, x1, y1 = (round(v) for v in landing["to"])
    first = round(landing["start"] * FPS)
    before, after = (
        np.asarray(f.convert("L"), dtype=float)
        for f in extract_frames(result.video, [first - 1, landing["last_frame"]])
    )
    area = (slice(y0 - 2, y1 + 3), slice(x0 - 2, x1 + 3))
    # The label's digits are drawn where the copy lands, and were not there before.
    changed = np.abs(after[area] - before[area]) > 40
    assert changed.sum() > 30
