"""The title's rows read as lines of a table: in each row the key and its value stand on
one baseline, and the rows are evenly spaced.

Bounding boxes do not line text up ("data" ends at its baseline, "sample: x = (0.05…"
at its descenders), so the title places each label by its baseline
(``visual.panels.baseline``). Checked twice on real renders (480p15, title only): the
baselines the scene reports in render.json, and the ink in the still itself, where a
line's baseline is the lowest pixel row that most of its letters reach.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO, TEXTBOOK
from PIL import Image

from backprop_anim.options import RenderOptions
from backprop_anim.visual.panels import Label, baseline
from backprop_anim.visual.theme import DARK, rgb

LECTURES = {"textbook": TEXTBOOK, "regression": REPO / "configs" / "regression-output.yaml"}


@pytest.fixture(scope="module", params=sorted(LECTURES))
def title_render(request, tmp_path_factory):
    pytest.importorskip("manim")
    from backprop_anim.render import render

    out = tmp_path_factory.mktemp(f"title-{request.param}")
    options = RenderOptions(scenes=("title",), voice="none", stills=True, jobs=1)
    result = render(LECTURES[request.param], options, output_dir=out / "render")
    meta = json.loads((result.output_dir / "render.json").read_text())
    still = np.asarray(Image.open(result.output_dir / "stills" / "title.png"))[:, :, :3]
    return meta["layout"]["title"], still


def ink_baseline(still: np.ndarray, box: list[float]) -> int:
    """The pixel row a line of text stands on: the lowest row of the box in which at
    least 40 % as many pixels are inked as in its fullest row (descenders are few)."""
    left, top, right, bottom = (round(v) for v in box)
    crop = still[max(0, top - 2) : bottom + 3, left : right + 1].astype(int)
    ink = np.abs(crop - np.array(rgb(DARK.background))).max(axis=2) > 60
    counts = ink.sum(axis=1)
    rows = np.nonzero(counts >= 0.4 * counts.max())[0]
    return int(rows.max()) + max(0, top - 2)


def test_labels_of_different_shapes_report_one_baseline():
    """The helper itself: with and without descenders, parentheses, a ligature."""
    for text in ("data", "sample: x = (0.05, 0.1)", "first sample", "optimizer", "loss"):
        label = Label(text, font_size=26)
        label.shift(0.7 - baseline(label))
        assert baseline(label) == pytest.approx(0.7, abs=1e-9), text
        # Every letter without a descender ends on it (round ones a hair below); the
        # label's box ends lower wherever there is a descender.
        for c, g in zip(text.replace(" ", "").replace("fi", "f"), label, strict=True):
            if c in "abcdefhiklmnorstuvwxz":
                assert g.get_bottom()[1] == pytest.approx(0.7, abs=0.01), (text, c)
        if any(c in text for c in "py(,"):
            assert label.get_bottom()[1] < 0.7 - 0.03, text


def test_each_rows_key_and_value_stand_on_one_line(title_render):
    layout, still = title_render
    keys = [k[: -len(".baseline")] for k in layout if k.endswith(".baseline")]
    assert {"network", "data", "loss", "optimizer", "step"} <= set(keys)
    lines = []
    for key in keys:
        key_y, *values_y = layout[f"{key}.baseline"]  # the value, and a continuation
        assert all(abs(key_y - y) <= 0.5 for y in values_y), (key, key_y, values_y)
        # The pixels agree: the ink of the key and of the value ends on the same row.
        seen_key = ink_baseline(still, layout[f"{key}.key"])
        seen_value = ink_baseline(still, layout[f"{key}.value"])
        assert abs(seen_key - seen_value) <= 1, (key, seen_key, seen_value)
        assert abs(seen_key + 0.5 - key_y) <= 1.5, (key, seen_key, key_y)  # row centre
        lines.append(key_y)
    # Rows evenly spaced, top to bottom.
    gaps = np.diff(lines)
    assert (gaps > 0).all(), lines
    assert gaps.max() - gaps.min() <= 1.0, lines
