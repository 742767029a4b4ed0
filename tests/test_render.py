"""Render tests: real videos at 480p15 and a fast pace, checked by stream, frames and pixels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from backprop_anim import load_config, train
from backprop_anim.cli import main
from backprop_anim.numbers import fmt
from backprop_anim.options import RenderOptions
from backprop_anim.render import render
from backprop_anim.visual.theme import DARK, rgb

REPO = Path(__file__).resolve().parent.parent
TEXTBOOK = REPO / "configs" / "textbook-2-2-2.yaml"
MOVERS = REPO / "configs" / "which-weights-move.yaml"


@pytest.fixture(scope="module")
def textbook_render(tmp_path_factory):
    out = tmp_path_factory.mktemp("render") / "textbook"
    options = RenderOptions(quality="l", pace=4.0, stills=True, voice="none")
    # Narration off: these tests are about the picture (narrated renders: test_narrated_render).
    result = render(TEXTBOOK, options, output_dir=out, overrides=["narration.enabled=false"])
    meta = json.loads((out / "render.json").read_text())
    return result, meta


@pytest.fixture(scope="module")
def movers_render(tmp_path_factory):
    out = tmp_path_factory.mktemp("render") / "movers"
    options = RenderOptions(
        quality="l",
        pace=4.0,
        stills=True,
        voice="none",
        scenes=("loss", "backward", "update"),
    )
    result = render(MOVERS, options, output_dir=out, overrides=["narration.enabled=false"])
    meta = json.loads((out / "render.json").read_text())
    return result, meta


def test_video_stream_matches_render_json(textbook_render):
    result, meta = textbook_render
    with av.open(str(result.video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (854, 480)
        assert float(stream.average_rate) == pytest.approx(15.0, abs=0.01)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    duration = len(frames) / 15.0
    assert abs(duration - meta["duration"]) <= 1 / 15 + 1e-9
    assert meta["beats"][-1]["end"] == pytest.approx(duration, abs=1 / 15 + 1e-9)
    # Beats are laid end to end in whole frames.
    for a, b in zip(meta["beats"], meta["beats"][1:], strict=False):
        assert b["start"] == pytest.approx(a["end"])
    # The picture moves: frames a few seconds apart differ substantially.
    diffs = [
        np.abs(frames[i].astype(int) - frames[i + 15].astype(int)).mean()
        for i in range(0, len(frames) - 15, 15)
    ]
    assert max(diffs) > 2.0
    assert sum(d > 0.5 for d in diffs) > len(diffs) // 2


def test_outputs_written(textbook_render):
    result, meta = textbook_render
    out = result.output_dir
    names = {p.name for p in out.iterdir()}
    assert {"textbook-2-2-2.mp4", "trace.json", "render.json", "storyboard.png", "stills"} <= names
    stills = sorted(p.stem for p in (out / "stills").glob("*.png"))
    assert stills == sorted(b["id"] for b in meta["beats"])
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp folders
    assert meta["config_hash"] and meta["manim"].startswith("0.22")
    # The final loss reported is the data-set loss after training, as in a batch manifest.
    trace = json.loads((out / "trace.json").read_text())
    assert meta["final_loss"] == trace["summary"]["snapshots"][-1]["loss"]
    assert result.final_loss == meta["final_loss"]


NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]\d+)?")


def test_every_number_on_screen_comes_from_the_trace(textbook_render):
    """Each number written in a beat is a trace value rounded by the documented rule."""
    _, meta = textbook_render
    trace = train(load_config(TEXTBOOK))
    step = trace.steps[0]
    values: set[str] = set()

    def add(arr) -> None:
        for v in np.asarray(arr, dtype=float).ravel():
            values.add(fmt(v))

    add(step.x)
    add(step.y)
    add(step.loss_terms)
    add([step.loss, step.loss_after, trace.network.optimizer["learning_rate"]])
    add([abs(step.loss_change)])
    for layer in step.layers:
        for key in ("W", "b", "z", "a", "delta", "grad_W", "grad_b", "W_next", "b_next"):
            add(getattr(layer, key))
        add(layer.dL_da)
        add(layer.act_derivative)
        add(layer.a - step.y if layer is step.layers[-1] else [])
    for layer in step.layers:
        add(np.abs(layer.delta_W))
    checked = 0
    allowed_literals = {"1", "2", "0"}  # structure: "1/2", "x^2", "1 - a"
    for beat in meta["beats"]:
        for text in beat["screen_text"]:
            # Unit names (h1, o2, i1) and subscripts are names, not numbers.
            cleaned = re.sub(r"\b[a-z]\d\b", "", text)
            cleaned = re.sub(r"\b(?:step|Step) \d+ of \d+|Step \d+", "", cleaned)
            cleaned = re.sub(r"\d+ (?:inputs|sigmoid|of|weights|gradients)", "", cleaned)
            cleaned = re.sub(r"\(\d+(?:\.\d+)?%\)", "", cleaned)
            for number in NUMBER.findall(cleaned):
                checked += 1
                assert number in values or number in allowed_literals, (beat["id"], number, text)
    assert checked > 60


def test_pixels_weight_colours_and_still_weights(movers_render):
    """Positive weights are drawn blue, negative orange; zero-gradient weights dashed grey."""
    result, meta = movers_render
    trace = train(load_config(MOVERS))
    step = trace.steps[0]
    layout = meta["layout"][str(step.step)]
    out = result.output_dir / "stills"

    def samples(img: np.ndarray, column: int, unit: int, source: int) -> list[np.ndarray]:
        x0, y0, r = layout[f"{column},{source}"]
        x1, y1, _ = layout[f"{column + 1},{unit}"]
        d = np.array([x1 - x0, y1 - y0])
        d /= np.linalg.norm(d)
        a = np.array([x0, y0]) + d * r
        b = np.array([x1, y1]) - d * r
        pts = [a + (b - a) * t for t in np.linspace(0.1, 0.3, 9)]
        return [img[round(p[1]), round(p[0])] for p in pts]

    def nearest(pixel: np.ndarray) -> str:
        names = {
            "positive": DARK.positive,
            "negative": DARK.negative,
            "frozen": DARK.frozen,
            "background": DARK.background,
        }
        return min(names, key=lambda k: np.abs(np.array(rgb(names[k])) - pixel).sum())

    loss_still = np.asarray(Image.open(out / "s0.loss.png").convert("RGB")).astype(int)
    W = step.layers[0].W
    for unit, source in [(0, 0), (0, 1), (1, 0), (2, 2)]:
        kinds = [nearest(p) for p in samples(loss_still, 0, unit, source)]
        expected = "positive" if W[unit, source] > 0 else "negative"
        assert kinds.count(expected) >= 5, (unit, source, kinds)

    # After the gradients of the hidden layer: h2 is a dead ReLU and x2 is 0.
    after = np.asarray(Image.open(out / "s0.update.ranking.png").convert("RGB")).astype(int)
    grad = step.layers[0].grad_W
    for unit, source in [(1, 0), (0, 1)]:
        assert grad[unit, source] == 0.0
        kinds = [nearest(p) for p in samples(after, 0, unit, source)]
        # Dashes alternate with gaps; another edge may cross the sampled stretch once.
        moving = kinds.count("positive") + kinds.count("negative")
        assert kinds.count("frozen") >= 3 and moving <= 1, kinds
    kinds = [nearest(p) for p in samples(after, 0, 0, 0)]
    assert kinds.count("positive") >= 5, kinds


def test_zero_gradients_are_named_on_screen(movers_render):
    _, meta = movers_render
    texts = " ".join(
        " ".join(b["screen_text"]) for b in meta["beats"] if b["id"] == "s0.gradients.hidden"
    )
    assert "gradients are exactly 0" in texts
    assert "dead ReLU" in texts and "its input is 0" in texts


def test_large_network_beat_stays_small_in_mobjects(tmp_path):
    config = {
        "name": "wide",
        "network": {
            "inputs": 100,
            "layers": [
                {"units": 80, "activation": "tanh"},
                {"units": 25, "activation": "sigmoid"},
            ],
            "init": {"scheme": "xavier_uniform", "seed": 3},
        },
        "data": {"generator": {"name": "xor", "n": 4}},
        "training": {"loss": "mse", "steps": 1},
    }
    # xor has 2 inputs; use samples instead so the wide input layer is fed.
    rng = np.random.default_rng(0)
    config["data"] = {
        "samples": [{"x": rng.uniform(-1, 1, 100).round(3).tolist(), "y": [0.5] * 25}]
    }
    path = tmp_path / "wide.yaml"
    import yaml

    path.write_text(yaml.safe_dump(config))
    options = RenderOptions(quality="l", pace=8.0, voice="none", scenes=("forward",))
    result = render(path, options, output_dir=tmp_path / "out", overrides=["narration=off"])
    meta = json.loads((result.output_dir / "render.json").read_text())
    assert meta["beats"][0]["id"] == "s0.forward.hidden1"  # the layer as a whole first
    assert max(b["mobjects"] for b in meta["beats"]) < 300
    layout = meta["layout"]["0"]
    assert sum(1 for key in layout if key.startswith("1,")) <= 10  # elided: 80 units drawn as <= 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["render", "missing.yaml"], "missing.yaml: file not found"),
        (["render", str(TEXTBOOK), "--steps", "3"], "--steps: step 3 is out of range"),
        (["render", str(TEXTBOOK), "--scenes", "forward,backwrd"], "did you mean 'backward'"),
        (["render", str(TEXTBOOK), "--steps", "x"], "--steps: expected whole numbers"),
    ],
)
def test_render_errors_exit_2_and_leave_nothing(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "renders").exists() or not any((tmp_path / "renders").iterdir())


def test_trace_with_unknown_version_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = json.loads(train(load_config(TEXTBOOK)).dumps())
    data["version"] = 99
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(main, ["render", str(path)])
    assert result.exit_code == 2
    assert "trace format version 99 is not supported" in result.output
    assert not (tmp_path / "renders").exists()


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["render", str(TEXTBOOK), "-o", str(blocker / "out")])
    assert result.exit_code == 2
    assert "cannot create the output folder" in result.output
    assert blocker.read_text() == "not a folder"


def test_failed_render_keeps_previous_output(tmp_path, monkeypatch):
    """A render that fails midway leaves the earlier finished folder untouched."""
    import backprop_anim.render as render_module

    out = tmp_path / "lecture"
    out.mkdir()
    (out / "textbook-2-2-2.mp4").write_bytes(b"previous video")

    def boom(*args, **kwargs):
        raise RuntimeError("encoder crashed")

    monkeypatch.setattr(render_module, "_run_manim", boom)
    with pytest.raises(RuntimeError):
        render(TEXTBOOK, RenderOptions(voice="none", use_cache=False), output_dir=out)
    assert (out / "textbook-2-2-2.mp4").read_bytes() == b"previous video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lecture"]


def test_render_of_a_diverging_training_exits_1_with_the_engines_message(tmp_path):
    args = [
        "render",
        str(MOVERS),
        "--set",
        "training.optimizer.learning_rate=1e200",
        "--set",
        "narration=off",
        "-o",
        str(tmp_path / "out"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "training diverged at step 0" in result.output
    assert "smaller learning rate" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_fading_a_panel_keeps_what_was_drawn_on_top_of_it():
    """FadeOut(panel) fades the panel's parts where they stand: a dot placed on a plot
    after the plot stays above it during the fade (Manim alone would lift the panel)."""
    from types import SimpleNamespace

    from manim import Dot, FadeIn, FadeOut, Group, Square

    from scenes.base import BeatScene

    plot, words, dot, other = Square(), Square(), Dot(), Square()
    panel = Group(plot, words)
    stage = SimpleNamespace(mobjects=[plot, dot, words, other])
    out = BeatScene._fade_in_place(stage, [FadeOut(panel), FadeIn(Square())])
    assert [type(a) for a in out] == [FadeOut, FadeOut, FadeIn]
    assert [a.mobject for a in out[:2]] == [plot, words]  # stage order kept, dot untouched
    # A group with a part not on stage is left to Manim.
    loose = Group(plot, Square())
    assert BeatScene._fade_in_place(stage, [FadeOut(loose)])[0].mobject is loose
    # A group on stage itself is faded as it is.
    stage.mobjects.append(panel)
    assert BeatScene._fade_in_place(stage, [FadeOut(panel)])[0].mobject is panel
