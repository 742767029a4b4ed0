"""Publishing without a render: cutting and joining by remux, chapter rules, YouTube text.

The remux tests encode a small video with keyframes where a lecture has its beat starts
(the same forced-keyframe mechanism as the lecture encoder) and compare decoded frames.
The chapter tests time every lecture in configs/ (no picture needed) and check what
YouTube requires of the chapter list.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from backprop_anim.narrate import plan_narration
from backprop_anim.options import DEFAULT_SCENES, RenderOptions
from backprop_anim.publish.chapters import (
    MAX_BEAT_CHAPTERS,
    BeatSpan,
    beat_spans,
    video_chapters,
    youtube_chapters,
    youtube_text,
)
from backprop_anim.publish.remux import (
    ChapterMark,
    cut,
    join,
    keyframe_frames,
    read_chapters,
    write_chapters,
)
from backprop_anim.render import obtain_trace
from backprop_anim.storyboard import build_storyboard
from backprop_anim.timeline import schedule

REPO = Path(__file__).resolve().parent.parent
KEYS = (0, 7, 19, 33)
FRAMES = 45


def _encode(path: Path, keys=KEYS, size=(96, 64), frames=FRAMES) -> Path:
    """A moving test pattern, libx264 with B-frames, keyframes forced at ``keys``."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=15, options={"crf": "23"})
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        rng = np.random.default_rng(0)
        noise = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        for n in range(frames):
            pixels = np.roll(noise, 3 * n, axis=1)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = n, Fraction(1, 15)
            if n in keys:
                frame.pict_type = av.video.frame.PictureType.I
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_cut_at_keyframes_gives_the_same_frames_and_join_puts_them_back(tmp_path):
    whole = _encode(tmp_path / "whole.mp4")
    assert keyframe_frames(whole) == list(KEYS)
    original = _frames(whole)
    bounds = [*KEYS, FRAMES]
    parts = []
    for n, (a, b) in enumerate(itertools.pairwise(bounds)):
        part = cut(whole, tmp_path / f"part{n}.mp4", a, b)
        got = _frames(part)
        assert len(got) == b - a
        assert all(np.array_equal(x, y) for x, y in zip(got, original[a:b], strict=True))
        assert keyframe_frames(part)[0] == 0
        parts.append(part)
    joined = _frames(join(parts, tmp_path / "joined.mp4"))
    assert len(joined) == FRAMES
    assert all(np.array_equal(x, y) for x, y in zip(joined, original, strict=True))
    # Parts joined in another order give the frames in that order (timestamps rebuilt).
    swapped = _frames(join([parts[2], parts[0]], tmp_path / "swapped.mp4"))
    assert all(
        np.array_equal(x, y) for x, y in zip(swapped, original[19:33] + original[0:7], strict=True)
    )


def test_cut_refuses_frames_that_are_not_keyframes(tmp_path):
    whole = _encode(tmp_path / "whole.mp4")
    with pytest.raises(ValueError, match="frame 8 is not a keyframe"):
        cut(whole, tmp_path / "bad.mp4", 8, 19)
    with pytest.raises(ValueError, match="frame 12 is not a keyframe"):
        cut(whole, tmp_path / "bad.mp4", 7, 12)
    assert not (tmp_path / "bad.mp4").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["whole.mp4"]  # no temp file left


def test_join_refuses_parts_encoded_differently(tmp_path):
    a = _encode(tmp_path / "a.mp4")
    b = _encode(tmp_path / "b.mp4", size=(64, 48))
    with pytest.raises(ValueError, match=r"b\.mp4 was not encoded like a\.mp4"):
        join([a, b], tmp_path / "ab.mp4")
    assert not (tmp_path / "ab.mp4").exists()


def test_chapters_written_into_mp4_and_webm_read_back(tmp_path):
    marks = [ChapterMark(0.0, 0.467, "Title"), ChapterMark(0.467, 3.0, "Forward pass: h1")]
    mp4 = _encode(tmp_path / "v.mp4")
    write_chapters(mp4, marks)
    assert read_chapters(mp4) == marks
    write_chapters(mp4, marks[:1])  # written again: the old chapter track is replaced
    assert read_chapters(mp4) == marks[:1]
    assert len(_frames(mp4)) == FRAMES
    with av.open(str(tmp_path / "v.webm"), "w") as out:
        stream = out.add_stream("libvpx-vp9", rate=15)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for n in range(20):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 10 * n, np.uint8), "rgb24")
            frame.pts, frame.time_base = n, Fraction(1, 15)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    write_chapters(tmp_path / "v.webm", marks)
    assert read_chapters(tmp_path / "v.webm") == marks


def _spans(durations: list[tuple[str, float]]) -> list[BeatSpan]:
    out, t = [], 0.0
    for n, (scene, seconds) in enumerate(durations):
        out.append(BeatSpan(f"b{n}", scene, 0, t, t + seconds, f"{scene.title()}: beat {n}"))
        t += seconds
    return out


def test_youtube_merges_short_beats_into_their_scene_first():
    spans = _spans(
        [
            ("title", 4),
            ("forward", 6),
            ("forward", 6),
            ("forward", 12),
            ("loss", 11),
            ("backward", 3),
            ("backward", 3),
            ("backward", 14),
        ]
    )
    got = youtube_chapters(spans)
    # The two 3 s backward beats join each other, then the 14 s one (their scene); the
    # 4 s title joins the next beat, and the 6 s forward beat the shorter of its own
    # scene's neighbours.
    assert [t for t, _ in got] == [0, 16, 28, 39]
    assert [title for _, title in got] == [
        "Introduction & Forward pass",
        "Forward: beat 3",
        "Loss: beat 4",
        "Backward pass",
    ]
    # Too short for three chapters of ten seconds: no list at all (YouTube ignores bad ones).
    assert youtube_chapters(_spans([("title", 5), ("forward", 9), ("loss", 12)])) == []
    assert "too short" in youtube_text("T", "", [])


def test_many_beats_give_one_chapter_per_scene():
    spans = _spans([("forward", 2)] * 20 + [("backward", 2)] * 20)
    assert len(spans) > MAX_BEAT_CHAPTERS
    assert [(c.start, c.title) for c in video_chapters(spans)] == [
        (0.0, "Forward pass"),
        (40.0, "Backward pass"),
    ]


LECTURE_SCENES = (*DEFAULT_SCENES, "overview")


@pytest.mark.parametrize("config", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.stem)
def test_youtube_chapters_obey_youtube_rules_for_every_lecture(config):
    trace = obtain_trace(config)
    options = RenderOptions(voice="none", scenes=LECTURE_SCENES)
    beats = build_storyboard(trace, options)
    narration = plan_narration(trace, beats, options)
    timed = schedule(beats, narration.speech, options.pace, options.frame_rate)
    headings = {line.beat_id: line.heading for line in narration.lines}
    spans = beat_spans(
        timed, options.frame_rate, headings, trace.network.unit_names, trace.network.layer_names
    )
    chapters = youtube_chapters(spans)
    total = timed[-1].end(options.frame_rate)
    assert chapters[0][0] == 0
    assert len(chapters) >= 3
    starts = [t for t, _ in chapters] + [math.floor(total)]
    assert all(b - a >= 10 for a, b in itertools.pairwise(starts))
    assert all(title.strip() for _, title in chapters)
    text = youtube_text(trace.config["title"], trace.config.get("description", ""), chapters)
    listed = [line for line in text.splitlines() if line[:1].isdigit()]
    assert listed[0].startswith("0:00 ") and len(listed) == len(chapters)


def test_thumbnail_title_shrinks_to_fit_its_column_and_never_runs_into_the_still():
    from PIL import Image

    from backprop_anim.publish.thumbnail import SIZE, thumbnail
    from backprop_anim.visual.theme import DARK

    still = Image.new("RGB", (854, 480), "#808080")
    for title in (
        "XOR",
        "One step of backpropagation, number by number",
        "Supercalifragilistic " * 6,
    ):
        card = thumbnail(title, "A description. " * 40, still, DARK)
        assert card.size == SIZE == (1280, 720)
        pixels = np.asarray(card.convert("RGB")).astype(int)
        background = np.array([int(DARK.background[i : i + 2], 16) for i in (1, 3, 5)])
        # The gap between the text column and the still stays empty: nothing overflows.
        assert np.abs(pixels[:, 660:684] - background).max() <= 2, title
        # Text is drawn (the title's rows are not blank).
        assert np.abs(pixels[100:200, 64:600] - background).max() > 100
