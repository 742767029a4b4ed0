"""Publishing a real render: chapters in the video, per-beat clips, thumbnail, page.

One narrated lecture (espeak-ng: quick to synthesize; brief level, a few beats at
480p15) rendered with clips;
every check reads the written files: keyframes at beat starts, the chapters a reader
sees against render.json's, the chapters WebVTT, each clip's decoded frames against the
lecture's frames of that beat and its own sound, the title card's size.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
import webvtt
from click.testing import CliRunner
from PIL import Image

from backprop_anim.cli import main
from backprop_anim.options import RenderOptions
from backprop_anim.publish.clips import CLIP_AUDIO_LEAD
from backprop_anim.publish.remux import keyframe_frames, read_chapters
from backprop_anim.render import render

REPO = Path(__file__).resolve().parent.parent
TEXTBOOK = REPO / "configs" / "textbook-2-2-2.yaml"
NAME = "textbook-2-2-2"
FPS = 15
SCENES = ("title", "loss", "update")
BRIEF = ("narration.level=brief",)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    out = tmp_path_factory.mktemp("publish") / NAME
    options = RenderOptions(scenes=SCENES, voice="espeak", clips=True)
    render(TEXTBOOK, options, overrides=BRIEF, output_dir=out)
    return out, json.loads((out / "render.json").read_text())


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return 3600 * int(h) + 60 * int(m) + float(s)


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _sound(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac"
        return np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])


def test_every_beat_starts_on_a_keyframe(published):
    out, meta = published
    starts = [round(b["start"] * FPS) for b in meta["beats"]]
    keys = keyframe_frames(out / meta["video"])
    assert set(starts) <= set(keys)
    assert len(meta["beats"]) >= 5


def test_chapters_in_the_video_equal_render_json_and_the_vtt(published):
    out, meta = published
    chapters = meta["chapters"]
    # Few beats: one chapter each.
    assert [c["start"] for c in chapters] == [
        pytest.approx(b["start"], abs=5e-4) for b in meta["beats"]
    ]
    assert chapters[0]["title"] == "Introduction"
    assert "Update" in chapters[2]["title"]
    read = read_chapters(out / meta["video"])
    assert [(round(c.start, 3), round(c.end, 3), c.title) for c in read] == [
        (pytest.approx(c["start"], abs=5e-4), pytest.approx(c["end"], abs=5e-4), c["title"])
        for c in chapters
    ]
    vtt = webvtt.read(str(out / f"{NAME}.chapters.vtt"))
    assert [c.text for c in vtt] == [c["title"] for c in chapters]
    assert [_seconds(c.start) for c in vtt] == [
        pytest.approx(c["start"], abs=5e-4) for c in chapters
    ]
    text = (out / f"{NAME}.youtube.txt").read_text()
    assert text.startswith("One step of backpropagation")


def test_each_clip_is_its_beat_frame_for_frame_with_its_own_narration(published):
    out, meta = published
    lecture = _frames(out / meta["video"])
    clips = [out / meta["clips"][b["id"]] for b in meta["beats"]]
    assert [p.name for p in clips] == sorted(p.name for p in (out / "clips").iterdir())
    assert clips[1].name == "02-s0-loss.mp4"
    for beat, clip in zip(meta["beats"], clips, strict=True):
        a, b = round(beat["start"] * FPS), round(beat["end"] * FPS)
        frames = _frames(clip)
        assert len(frames) == b - a, clip.name
        assert all(np.array_equal(x, y) for x, y in zip(frames, lecture[a:b], strict=True))
        sound = _sound(clip)
        seconds = sound.size / 48_000
        assert seconds == pytest.approx(b / FPS - a / FPS, abs=0.05)
        assert np.abs(sound).max() < 0.95  # the limiter's ceiling, no onset overshoot
        # Speech where the beat speaks, silence in its closing breath.
        lead = round(CLIP_AUDIO_LEAD * 48_000)
        spoken = sound[lead : lead + round(beat["speech"] * 48_000)]
        assert np.sqrt(np.mean(spoken**2)) > 0.02
        assert (
            np.abs(sound[round((beat["speech"] + CLIP_AUDIO_LEAD + 0.1) * 48_000) :]).max() < 0.02
        )


def test_thumbnail_is_a_1280x720_title_card(published):
    out, _ = published
    card = Image.open(out / "thumbnail.png")
    assert card.size == (1280, 720)
    pixels = np.asarray(card.convert("L"), dtype=float)
    assert pixels[100:500, 40:600].std() > 20  # text on the left, not an empty card


@pytest.mark.parametrize("flag", ["--clips"])
def test_clips_of_a_gif_is_an_error(tmp_path, monkeypatch, flag):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", str(TEXTBOOK), "--format", "gif", flag])
    assert result.exit_code == 2, result.output
    assert f"{flag}: a GIF has no sound" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "renders").exists()
