"""The training overview: what it reads off a trace, where it sits in a lecture, and its
frames (a decision boundary for two inputs, a fitted curve for one), checked by pixels."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from backprop_anim import load_config, train
from backprop_anim import overview as ov
from backprop_anim.numbers import fmt
from backprop_anim.options import RenderOptions
from backprop_anim.render import render
from backprop_anim.storyboard import build_storyboard
from backprop_anim.trace.model import Trace
from backprop_anim.visual.plots import HEAT_STRENGTH, class_color
from backprop_anim.visual.theme import DARK, rgb

REPO = Path(__file__).resolve().parent.parent
XOR = REPO / "configs" / "xor.yaml"
SINE = REPO / "configs" / "regression-output.yaml"
FAST = RenderOptions(quality="l", pace=4.0, voice="none", stills=True, scenes=("overview",))


@cache
def traced(path: Path) -> Trace:
    return train(load_config(path))


# --- reading the trace -----------------------------------------------------------------------


def test_keyframes_span_the_training_and_follow_its_progress():
    trace = traced(REPO / "configs" / "why-the-derivative.yaml")
    frames = ov.keyframes(trace)
    steps = [s.step for s in frames]
    assert steps[0] == 0 and steps[-1] == len(trace.summary.loss)
    assert steps == sorted(set(steps)) and len(steps) == ov.KEYFRAMES
    # The weight moves most in the first steps: a keyframe lands among them.
    assert steps[1] <= 3


def test_boundary_grid_is_the_network_answer_with_row_zero_on_top():
    trace = traced(XOR)
    last = trace.summary.snapshots[-1]
    area = ov.Plane((-0.5, 1.5), (-0.5, 1.5))
    scores = ov.boundary(trace, last, area, cols=40, rows=20)
    assert scores.shape == (20, 40, 2)
    assert np.allclose(scores.sum(axis=2), 1.0)
    # XOR's corners: (0, 1) is class 1 (top left), (0, 0) class 0 (bottom left).
    top_left = scores[2, 5].argmax()
    bottom_left = scores[17, 5].argmax()
    assert (top_left, bottom_left) == (1, 0)


def test_fit_curve_and_reach_are_in_the_targets_units():
    loaded = load_config(
        SINE, ["network.layers.1.activation=sigmoid", "data.scale_targets=[0.1, 0.9]"]
    )
    trace = train(loaded)
    scaling = trace.data["scaling"]
    lo, hi = ov.output_reach(trace)
    # sigmoid's (0, 1), mapped back through the min-max scaling into sine units.
    span = (scaling["y_max"][0] - scaling["y_min"][0]) / 0.8
    assert lo == pytest.approx(scaling["y_min"][0] - 0.1 * span)
    assert hi == pytest.approx(scaling["y_max"][0] + 0.1 * span)
    xs, ys = ov.fit_curve(trace, trace.summary.snapshots[-1], (-3.0, 3.0), points=50)
    assert xs.shape == ys.shape == (50,)
    assert ys.min() < -0.8 and ys.max() > 0.8  # the sine's range, not the sigmoid's


def test_saturating_z_matches_the_trainers_threshold():
    assert np.tanh(ov.saturating_z("tanh")) == pytest.approx(0.95)
    assert 1 / (1 + np.exp(-ov.saturating_z("sigmoid"))) == pytest.approx(0.95)
    assert ov.saturating_z("relu") is None


def test_log_scale_when_the_loss_spans_decades():
    assert ov.log_scale([0.7, 0.01])
    assert not ov.log_scale([0.7, 0.1])
    assert not ov.log_scale([0.7, 0.0])  # a zero cannot be drawn on a log axis


# --- where the overview sits ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenes", "expected"),
    [
        (("overview",), ["overview"]),
        (("title", "overview"), ["title", "overview"]),
        (("title", "overview", "summary"), ["title", "overview", "s0.summary"]),
        (("title", "summary", "overview"), ["title", "s0.summary", "overview"]),
        (("loss", "overview"), ["s0.loss", "overview"]),
    ],
)
def test_the_overview_opens_or_closes_the_lecture(scenes, expected):
    beats = build_storyboard(traced(XOR), RenderOptions(scenes=scenes))
    assert [b.id for b in beats] == expected


# --- frames ---------------------------------------------------------------------------------


def _render(tmp_path_factory, path: Path, options: RenderOptions) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("overview") / path.stem
    with pytest.MonkeyPatch.context() as mp:
        # A fresh cache: a cached render of older scene code would hide what we test.
        mp.setenv("BACKPROP_ANIM_CACHE", str(tmp_path_factory.mktemp("cache")))
        render(path, options, output_dir=out, overrides=["narration=off"])
    return out, json.loads((out / "render.json").read_text())


@pytest.fixture(scope="module")
def xor_render(tmp_path_factory):
    return _render(tmp_path_factory, XOR, FAST)


@pytest.fixture(scope="module")
def sine_render(tmp_path_factory):
    options = RenderOptions(
        quality="l", pace=4.0, voice="none", stills=True, scenes=("title", "overview")
    )
    return _render(tmp_path_factory, SINE, options)


def _frames(video: Path) -> list[np.ndarray]:
    with av.open(str(video)) as container:
        return [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]


def _crop(img: np.ndarray, box: list[float]) -> np.ndarray:
    left, top, right, bottom = (round(v) for v in box)
    return img[top + 2 : bottom - 2, left + 2 : right - 2]


def _near(pixels: np.ndarray, color: str | np.ndarray, tol: float = 30.0) -> np.ndarray:
    target = np.array(rgb(color) if isinstance(color, str) else color, dtype=float)
    return np.abs(pixels - target).sum(axis=-1) < tol


def _yellow(pixels: np.ndarray) -> np.ndarray:
    """The highlight colour of a thin line, as the video's chroma subsampling leaves it."""
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return (r > 120) & (g > 110) & (b < 0.6 * g)


def _tint(color: str) -> np.ndarray:
    """The heat map's colour where the network is sure of this class."""
    bg = np.array(rgb(DARK.background), dtype=float)
    return bg + (np.array(rgb(color), dtype=float) - bg) * HEAT_STRENGTH


def test_xor_overview_shows_the_boundary_under_the_data(xor_render):
    out, meta = xor_render
    assert [b["id"] for b in meta["beats"]] == ["overview"]
    assert meta["resolution"] == [854, 480] and meta["fps"] == 15
    assert meta["beats"][0]["mobjects"] < 200  # images, not a mobject per cell or sample
    boxes = meta["layout"]["overview"]
    still = np.asarray(Image.open(out / "stills" / "overview.png").convert("RGB")).astype(int)
    data = _crop(still, boxes["data"])
    area = data.shape[0] * data.shape[1]
    # Both classes' territories, the samples in their own colours, the boundary line.
    for c in (0, 1):
        assert _near(data, _tint(class_color(c))).sum() > 0.15 * area, c
        assert _near(data, class_color(c), tol=40).sum() > 0.01 * area, c
    boundary = np.array(rgb(DARK.text)) * 0.85 + np.array(rgb(DARK.background)) * 0.15
    assert _near(data, boundary, tol=40).sum() > 100
    # The loss curve runs from the first to the last step.
    loss = _crop(still, boxes["loss"])
    columns = _yellow(loss).any(axis=0)
    assert columns[: len(columns) // 5].any() and columns[-len(columns) // 5 :].any()
    assert columns.mean() > 0.8


def test_xor_overview_boundary_evolves_and_numbers_come_from_the_trace(xor_render):
    out, meta = xor_render
    trace = traced(XOR)
    frames = _frames(out / "xor.mp4")
    assert len(frames) == meta["frames"]
    box = meta["layout"]["overview"]["data"]
    early = _crop(frames[len(frames) // 6], box)  # just after the first keyframe
    late = _crop(frames[-1], box)
    assert np.abs(early - late).mean() > 8.0
    # Early on the network is unsure (darker tints); at the end, confident territories.
    sure = [_near(f, _tint(class_color(1))).mean() for f in (early, late)]
    assert sure[1] > sure[0] + 0.1
    text = meta["beats"][0]["screen_text"]
    last = trace.summary.snapshots[-1]
    total = len(trace.summary.loss)
    readout = f"after {total} of {total} steps · loss {fmt(last.loss)}"
    assert f"{readout} · accuracy {fmt(100 * last.accuracy)}%" in text
    assert fmt(trace.summary.snapshots[0].loss) in text  # the loss axis' first value
    for snap in ov.keyframes(trace):
        assert any(t.startswith(f"after {snap.step} of {total} steps") for t in text)


def test_sine_overview_shows_the_fitted_curve_over_the_data(sine_render):
    out, meta = sine_render
    assert [b["id"] for b in meta["beats"]] == ["title", "overview"]
    boxes = meta["layout"]["overview"]
    still = np.asarray(Image.open(out / "stills" / "overview.png").convert("RGB")).astype(int)
    data = _crop(still, boxes["data"])
    # The network's curve crosses the whole input range; the data are grey dots.
    columns = _yellow(data).any(axis=0)
    assert columns.mean() > 0.85
    assert _near(data, DARK.muted, tol=40).sum() > 200
    # The curve follows the sine: high where the data are high, low where they are low.
    rows = np.arange(data.shape[0])[:, None]
    yellow = _yellow(data)
    mean_row = (yellow * rows).sum(axis=0) / np.maximum(yellow.sum(axis=0), 1)
    quarter = data.shape[1] // 4
    low_half = mean_row[quarter - 5 : quarter + 5].mean()  # x near -pi/2: sin = -1
    high_half = mean_row[3 * quarter - 5 : 3 * quarter + 5].mean()  # x near pi/2: sin = 1
    assert low_half > high_half + 0.4 * data.shape[0]  # rows grow downwards
    # The title's words are gone when the overview holds its last frame.
    title = _crop(still, [0, 60, 854, 300])
    assert _near(title, DARK.text, tol=30).mean() < 0.05
