"""The render size limit: frame size x length, refused with an estimate unless --force."""

from __future__ import annotations

import copy
import dataclasses

import pytest
from click.testing import CliRunner
from conftest import TEXTBOOK

from backprop_anim.cli import main
from backprop_anim.config.loader import load_config
from backprop_anim.engine.trainer import train
from backprop_anim.errors import UserError
from backprop_anim.limits import MAX_RENDER_PIXELS, check_render_size, minimum_frames
from backprop_anim.options import DEFAULT_SCENES, RenderOptions
from backprop_anim.storyboard import BEAT_SECONDS, build_storyboard


@pytest.fixture(scope="module")
def long_trace():
    """The textbook trace with 300 detailed steps (as another program might write)."""
    trace = train(load_config(TEXTBOOK))
    first = trace.steps[0]
    trace.steps = [dataclasses.replace(first, step=k) for k in range(300)]
    trace.summary = copy.copy(trace.summary)
    trace.summary.loss = [first.loss] * 300
    return trace


def test_minimum_frames_is_every_beat_at_its_natural_length(long_trace):
    options = RenderOptions(quality="l", steps=[0])
    beats = build_storyboard(long_trace, options)
    natural = sum(max(1.0, BEAT_SECONDS[b.kind]) for b in beats)
    assert minimum_frames(beats, options) == pytest.approx(natural * 15, abs=len(beats))
    slower = dataclasses.replace(options, pace=0.5)
    assert minimum_frames(beats, slower) == pytest.approx(2 * natural * 15, abs=len(beats))


def test_2160p60_of_300_detailed_steps_is_refused_with_its_length(long_trace):
    options = RenderOptions(quality="k", steps=list(range(300)))
    beats = build_storyboard(long_trace, options)
    frames = minimum_frames(beats, options)
    assert 3840 * 2160 * frames > MAX_RENDER_PIXELS
    with pytest.raises(UserError) as info:
        check_render_size(beats, options)
    text = str(info.value)
    hours, minutes = divmod(round(frames / 60) // 60, 60)
    assert f"at least {hours} h {minutes:02d} min of video at 3840x2160, 60 fps" in text
    assert f"({frames:,} frames, {len(beats)} beats over 300 steps)" in text
    assert "fewer steps (--steps)" in text and "--force" in text


def test_one_step_at_any_quality_is_within_the_limit(long_trace):
    for quality in "lmhk":
        options = RenderOptions(quality=quality, steps=[0], scenes=DEFAULT_SCENES)
        check_render_size(build_storyboard(long_trace, options), options)  # no error


def test_a_lower_quality_is_suggested_when_it_fits(long_trace):
    options = RenderOptions(quality="k", steps=list(range(40)))
    beats = build_storyboard(long_trace, options)
    with pytest.raises(UserError, match=r"a lower quality \(-q [lmh]\)"):
        check_render_size(beats, options)


def test_cli_refuses_before_anything_is_written_and_force_lifts_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "trace.json"
    # 20 detailed steps: the most a config allows.
    full = train(
        load_config(
            TEXTBOOK,
            ["training.steps=20", "trace.detail_steps=[" + ",".join(map(str, range(20))) + "]"],
        )
    )
    full.save(path)
    out = tmp_path / "out"
    steps = ",".join(map(str, range(20)))
    args = ["render", str(path), "-q", "k", "--steps", steps, "--voice", "none", "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: this render would be at least ")
    assert "Traceback" not in result.output and not out.exists()

    seen = {}

    def fake_render(source, options, **kwargs):
        seen.update(kwargs)
        raise UserError("stopped here")

    monkeypatch.setattr("backprop_anim.render.render", fake_render)
    CliRunner().invoke(main, [*args, "--force"])
    assert seen["allow_large"] is True


def test_batch_force_lifts_the_limit_for_its_variants():
    from conftest import REPO

    from backprop_anim.batch import load_batch
    from backprop_anim.batch.runner import make_task

    batch = load_batch(REPO / "tests" / "batch_fixtures" / "sweep.yaml")
    assert make_task(batch, batch.variants[0])["allow_large"] is False
    assert make_task(batch, batch.variants[0], force=True)["allow_large"] is True
