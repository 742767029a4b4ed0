"""The update beat changes every edge of its layer, and the weights' pictures, on screen.

Two real renders (480p15, update beats only, no voice, stills):

- the textbook 2-2-2 net with a large learning rate (5: the output weights move by up to
  0.41, one changes sign), so a line drawn for w and one drawn for w⁺ differ by pixels.
  After each update beat every edge of its layer carries a label with the trace's w⁺
  (formatted by ``numbers.fmt``), no two labels overlap, and each edge's line is as
  wide as its new |w| says (its ink summed across the line, in the still's pixels);
- a 16-input net whose inputs are a 4x4 picture: the first layer's update beat shows the
  example unit's weights before, their change and after; each square of the change has
  the sign colour of the trace's w⁺ − w, at its size relative to the largest change.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from conftest import TEXTBOOK
from PIL import Image
from test_image_inputs import _centres, picture_config

from backprop_anim.numbers import fmt
from backprop_anim.options import RenderOptions
from backprop_anim.storyboard import example_weight
from backprop_anim.trace.model import load_trace
from backprop_anim.visual.network import stroke_px
from backprop_anim.visual.placement import overlaps
from backprop_anim.visual.theme import DARK, rgb

LAYERS = ("hidden", "output")


def _render(path, out, overrides=()):
    pytest.importorskip("manim")
    from backprop_anim.render import render

    options = RenderOptions(scenes=("update",), voice="none", stills=True, jobs=1)
    result = render(path, options, output_dir=out, overrides=list(overrides))
    meta = json.loads((result.output_dir / "render.json").read_text())
    stills = {
        p.stem: np.asarray(Image.open(p))[:, :, :3].astype(float)
        for p in (result.output_dir / "stills").glob("*.png")
    }
    return meta, load_trace(result.output_dir / "trace.json"), stills


@pytest.fixture(scope="module")
def textbook_update(tmp_path_factory):
    out = tmp_path_factory.mktemp("update-edges") / "render"
    return _render(TEXTBOOK, out, ["training.optimizer.learning_rate=5"])


def test_every_edge_of_the_layer_shows_its_new_weight(textbook_update):
    meta, trace, stills = textbook_update
    step = trace.steps[0]
    neurons = meta["layout"]["0"]
    yellow = np.array(rgb(DARK.highlight), dtype=float)
    for i, name in enumerate(LAYERS):
        beat = f"s0.update.{name}"
        labels = meta["layout"][beat]["edge_labels"]
        layer = step.layers[i]
        units, fan_in = layer.W.shape
        assert sorted(labels) == [f"{j},{k}" for j in range(units) for k in range(fan_in)]
        boxes = []
        for key, label in labels.items():
            j, k = (int(v) for v in key.split(","))
            assert label["before"] == fmt(layer.W[j, k])
            assert label["after"] == fmt(layer.W_next[j, k])
            left, top, right, bottom = label["box"]
            boxes.append((left, right, -bottom, -top))
            # The still (after the beat's change) shows the number in the highlight
            # colour there, clear of every neuron.
            crop = stills[beat][round(top) : round(bottom), round(left) : round(right)]
            assert np.sum(np.abs(crop - yellow).max(axis=2) < 60) >= 15, (beat, key)
            for x, y, r in neurons.values():
                nx, ny = min(max(x, left), right), min(max(y, top), bottom)
                assert np.hypot(nx - x, ny - y) >= r - 0.5, (beat, key, (x, y))
        for n, a in enumerate(boxes):
            assert not any(overlaps(a, b) for b in boxes[n + 1 :]), (beat, labels)


def _segments(neurons: dict) -> list[tuple]:
    """Every edge of the drawn network (pixels): between each pair of adjacent columns."""
    by_column: dict[int, list] = {}
    for key, (x, y, _) in neurons.items():
        by_column.setdefault(int(key.split(",")[0]), []).append((x, y))
    return [
        (a, b)
        for c in sorted(by_column)[:-1]
        for a in by_column[c]
        for b in by_column.get(c + 1, [])
    ]


def _edge_width(still, a, b, avoid, colour, segments):
    """Pixels of line across the edge a→b (x, y): the ink of one pixel column summed
    over the line, times its cosine, at the first place along the edge where that
    column holds this line alone (no label, no other edge, no neuron nearby)."""
    bg = np.array(rgb(DARK.background), dtype=float)
    full = np.array(rgb(colour), dtype=float) - bg
    (ax, ay), (bx, by) = a, b
    cos = abs(bx - ax) / np.hypot(bx - ax, by - ay)
    for s in np.linspace(0.01, 0.99, 99):
        x = int(ax + s * (bx - ax))
        y = ay + (x + 0.5 - ax) * (by - ay) / (bx - ax)
        reach = int(4.5 / cos) + 4  # the line's band and a margin that must be empty
        rows = np.arange(int(y) - reach, int(y) + reach + 1)
        if any(
            left - 1 <= x <= right + 1 and top - 1 <= rows[-1] and rows[0] <= bottom + 1
            for left, top, right, bottom in avoid
        ):
            continue
        others = [
            (p, q) for p, q in segments if p[0] < x < q[0] and not (_on(p, a, b) and _on(q, a, b))
        ]
        if any(
            abs(p[1] + (x + 0.5 - p[0]) * (q[1] - p[1]) / (q[0] - p[0]) - y) < 2 * reach
            for p, q in others
        ):
            continue  # another edge passes (near) here
        column = still[rows, x] - bg
        band = np.abs(rows + 0.5 - y) <= 4.5 / cos
        if np.abs(column[~band]).max() > 6:  # something else in the column
            continue
        coverage = (column[band] @ full) / (full @ full) / 0.9  # edges are 90 % opaque
        return float(np.clip(coverage, 0, None).sum() * cos)
    raise AssertionError(f"no clean column along the edge {a} -> {b}")


def _on(p, a, b) -> bool:
    """Whether the neuron centre p lies on the line through a and b (the same edge)."""
    cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
    return abs(cross) / np.hypot(b[0] - a[0], b[1] - a[1]) < 1.0


def test_every_edge_of_the_layer_is_redrawn_as_wide_as_its_new_weight(textbook_update):
    meta, trace, stills = textbook_update
    step = trace.steps[0]
    neurons = meta["layout"]["0"]
    ppu = meta["resolution"][0] / 14.222222222222221  # Manim's frame is 14.22 units wide
    changed = 0
    for i, name in enumerate(LAYERS):
        beat = f"s0.update.{name}"
        layer = step.layers[i]
        after = [s.W_next if n <= i else s.W for n, s in enumerate(step.layers)]
        scale = max(float(np.abs(w).max()) for w in after)  # the picture's full width
        avoid = [label["box"] for label in meta["layout"][beat]["edge_labels"].values()]
        avoid += [[x - r, y - r, x + r, y + r] for x, y, r in neurons.values()]
        for j in range(layer.W.shape[0]):
            for k in range(layer.W.shape[1]):
                (ax, ay, r), (bx, by, _) = neurons[f"{i},{k}"], neurons[f"{i + 1},{j}"]
                u = np.array([bx - ax, by - ay]) / np.hypot(bx - ax, by - ay)
                a, b = np.array([ax, ay]) + r * u, np.array([bx, by]) - r * u
                w_new = layer.W_next[j, k]
                colour = DARK.weight_color(w_new)
                seen = _edge_width(stills[beat], a, b, avoid, colour, _segments(neurons))
                want = stroke_px(w_new, scale, ppu)
                assert seen == pytest.approx(want, abs=0.35 + 0.08 * want), (beat, j, k)
                if abs(want - stroke_px(layer.W[j, k], scale, ppu)) > 1.0:
                    changed += 1
    assert changed >= 2  # the test can tell the new width from the old


def test_the_weights_change_is_drawn_in_the_sign_of_w_plus_minus_w(tmp_path):
    path = tmp_path / "pictures.yaml"
    path.write_text(yaml.safe_dump(picture_config()))
    meta, trace, stills = _render(path, tmp_path / "render", ["narration=off"])
    layer = trace.steps[0].layers[0]
    j = example_weight(layer.delta_W)[0]
    delta = layer.W_next[j] - layer.W[j]
    assert np.allclose(delta, layer.delta_W[j])
    beat = f"s0.update.{trace.network.layer_names[0]}"
    boxes = meta["layout"][beat]
    still = stills[beat]
    bg = np.array(rgb(DARK.background), dtype=float)
    positive, negative = (np.array(rgb(c), dtype=float) for c in (DARK.positive, DARK.negative))
    assert (delta > 0).any() or (delta < 0).any()
    for k, (x, y) in enumerate(_centres(boxes["field_delta"], (4, 4))):
        pixel = still[y, x]
        # From the background at Δw = 0 to the sign's colour at the largest |Δw|.
        sign = positive if delta[k] >= 0 else negative
        want = bg + (sign - bg) * abs(delta[k]) / np.abs(delta).max()
        assert np.abs(pixel - want).max() <= 2.5, (k, delta[k], pixel, want)
        if abs(delta[k]) > 0.3 * np.abs(delta).max():
            nearer = np.sum((pixel - positive) ** 2) < np.sum((pixel - negative) ** 2)
            assert nearer == (delta[k] > 0), (k, delta[k], pixel)
        elif delta[k] == 0.0:
            assert np.abs(pixel - bg).max() <= 2.5, (k, pixel)
    # Before and after on one scale: each square is its weight's colour at |w| / the
    # largest |w| of the two.
    scale = max(np.abs(layer.W[j]).max(), np.abs(layer.W_next[j]).max())
    for key, w in (("field_before", layer.W[j]), ("field_after", layer.W_next[j])):
        for k, (x, y) in enumerate(_centres(boxes[key], (4, 4))):
            sign = positive if w[k] >= 0 else negative
            want = bg + (sign - bg) * abs(w[k]) / scale
            assert np.abs(still[y, x] - want).max() <= 2.5, (key, k, w[k])
