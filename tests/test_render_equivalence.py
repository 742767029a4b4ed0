"""The render speed-ups change no picture: frames compared with Manim's own path.

``backprop_anim/visual/renderer.py`` replaces parts of Manim's Cairo pipeline (which
objects are redrawn per frame, fades without copies, one encoder for the whole video,
a camera that keeps the transformed edge image). Each test renders the same thing
through Manim's stock path (``plain_manim``) and through the fast path and compares
pixels. Videos are encoded losslessly here (libx264 ``crf=0``), so any difference is a
difference in the frames drawn, not in compression. The only frames allowed to differ
are those where an image fades, by a level or two (see ``CachingCamera``).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from manim import (
    BLUE,
    DOWN,
    LEFT,
    RED,
    RIGHT,
    Circle,
    FadeIn,
    FadeOut,
    ImageMobject,
    Scene,
    Square,
    Text,
    tempconfig,
)
from manim.renderer.cairo_renderer import CairoRenderer
from PIL import Image

from backprop_anim.options import RenderOptions
from backprop_anim.render import render
from backprop_anim.visual.renderer import (
    CachingCamera,
    Fade,
    StreamingFileWriter,
    _layerable,
    lighter,
    split_moving_static,
)

REPO = Path(__file__).resolve().parent.parent
TEXTBOOK = REPO / "configs" / "textbook-2-2-2.yaml"
LOSSLESS = {"video_encoder_options": {"crf": "0"}}
# While an image fades, CachingCamera scales the alpha of the resampled image, where
# Manim resamples the scaled image: a few pixels at line edges (bicubic overshoot)
# differ by up to about ten levels of 255. While text fades, its glyphs are drawn once
# and the layer is faded (see renderer._layerable): Cairo rounds the layer's alpha
# once more, so glyph pixels differ by a level or two. Nowhere else may a pixel differ.
FADE_TOLERANCE = 12  # levels
# Manim fades by transforming a faded copy into the shape, aligning their points on
# the way; on a Typst fraction bar (a stroked path of zero height) the aligned copy
# strokes fainter than the bar at the same opacity, by up to about 25 levels on its
# one row of pixels, until the fade ends. Fade leaves the points alone.
BAR_TOLERANCE = 32  # levels, in a lecture whose formulas fade
FADE_PIXELS = 500  # pixels per frame differing by more than 4 levels
ROUNDING = 5  # levels: a frame differing by no more than this differs by rounding only
# (two levels of RGB rounding read as up to five after the 4:2:0 YUV round trip)


def frames_of(video: Path) -> list[np.ndarray]:
    with av.open(str(video)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]


def render_both(tmp_path: Path, monkeypatch, source: Path, options: RenderOptions, overrides):
    """Render with Manim's stock path and with the fast path; return both outputs."""
    out = {}
    for plain in (True, False):
        monkeypatch.setenv("BACKPROP_ANIM_PLAIN_MANIM", "1" if plain else "0")
        folder = tmp_path / ("plain" if plain else "fast")
        with tempconfig(LOSSLESS):
            result = render(source, options, overrides=overrides, output_dir=folder)
        out[plain] = (result, json.loads((folder / "render.json").read_text()))
    return out[True], out[False]


def compare_videos(plain: Path, fast: Path) -> tuple[int, int, int, int]:
    """(frames, frames differing by more than rounding, largest difference in levels,
    most pixels differing by more than 4 levels in one frame)."""
    a, b = frames_of(plain), frames_of(fast)
    assert len(a) == len(b)
    diffs = [np.abs(x - y).max(axis=2) for x, y in zip(a, b, strict=True)]
    worst = max(int(d.max()) for d in diffs)
    spread = max(int((d > 4).sum()) for d in diffs)
    return len(a), sum(int(d.max()) > ROUNDING for d in diffs), worst, spread


def test_lecture_frames_match_manims_own_rendering(tmp_path, monkeypatch):
    options = RenderOptions(quality="l", pace=4.0, voice="none", stills=True, use_cache=False)
    (plain, plain_meta), (fast, fast_meta) = render_both(
        tmp_path, monkeypatch, TEXTBOOK, options, ["narration.enabled=false"]
    )
    assert plain_meta["beats"] == fast_meta["beats"]  # same beats, frames, stills, text
    n, differing, worst, spread = compare_videos(plain.video, fast.video)
    assert n == fast_meta["frames"] > 100
    # Beyond rounding, only image fades may differ (the edges crossfade in the gradient
    # and update beats).
    assert differing <= n // 8, f"{differing} of {n} frames differ"
    assert worst <= FADE_TOLERANCE and spread <= FADE_PIXELS
    # Stills are held frames, drawn the same way: identical.
    for beat in fast_meta["beats"]:
        a = np.asarray(Image.open(plain.output_dir / "stills" / f"{beat['id']}.png"))
        b = np.asarray(Image.open(fast.output_dir / "stills" / f"{beat['id']}.png"))
        assert np.array_equal(a, b), beat["id"]


def test_stills_are_the_frames_of_the_video(tmp_path, monkeypatch):
    """Stills are taken from the camera; they show the video's frame at ``still_frame``."""
    options = RenderOptions(
        quality="l", pace=4.0, voice="none", stills=True, use_cache=False, scenes=("loss",)
    )
    with tempconfig(LOSSLESS):
        result = render(TEXTBOOK, options, output_dir=tmp_path / "out", overrides=["narration=off"])
    meta = json.loads((tmp_path / "out" / "render.json").read_text())
    frames = frames_of(result.video)
    for beat in meta["beats"]:
        still = np.asarray(Image.open(result.output_dir / "stills" / f"{beat['id']}.png"))
        frame = frames[beat["still_frame"]]
        # The video is yuv420p (limited range, chroma at half resolution): a level off
        # on flat colour, more at sharp edges.
        assert still.shape == frame.shape
        error = np.abs(still.astype(np.int16) - frame)
        assert np.median(error) <= 1 and error.mean() < 2.0


@pytest.mark.slow
def test_large_network_and_burned_captions_match(tmp_path, monkeypatch):
    """Elided layers, heat strips, edge crossfades, and a caption with an updater."""
    config = REPO / "benchmarks" / "configs" / "bench-100-80-25.yaml"
    options = RenderOptions(
        quality="l",
        pace=8.0,
        voice="none",
        captions="burn",
        use_cache=False,
        scenes=("title", "forward", "backward", "update"),
    )
    (plain, plain_meta), (fast, fast_meta) = render_both(
        tmp_path, monkeypatch, config, options, ["narration.level=brief"]
    )
    assert plain_meta["beats"] == fast_meta["beats"]
    n, differing, worst, spread = compare_videos(plain.video, fast.video)
    assert differing <= n // 6, f"{differing} of {n} frames differ"
    assert worst <= BAR_TOLERANCE and spread <= FADE_PIXELS


# --- the pieces, on small scenes ------------------------------------------------------


class Recorder(StreamingFileWriter):
    """The streaming writer, keeping a copy of every frame it is given."""

    frames: list[np.ndarray]

    def write_frame(self, pixels, *, repeat: int = 1) -> None:
        self.frames.extend([pixels[:, :, :3].copy()] * repeat)
        super().write_frame(pixels, repeat=repeat)


def draw(construct, tmp_path: Path, *, fast: bool) -> list[np.ndarray]:
    """Frames of a small scene, with Manim's rules or with the fast ones."""

    class Small(Scene):
        def get_moving_and_static_mobjects(self, animations):
            animations = list(animations)
            split = split_moving_static(self, animations) if fast else None
            if split is None:
                return super().get_moving_and_static_mobjects(animations)
            return split

        def construct(self) -> None:
            construct(self, (lambda a: lighter(a, images=True)) if fast else (lambda a: a))

    settings = {
        "pixel_width": 320,
        "pixel_height": 180,
        "frame_rate": 15,
        "media_dir": str(tmp_path / ("fast" if fast else "plain")),
        "disable_caching": True,
        "progress_bar": "none",
        "verbosity": "ERROR",
    }
    with tempconfig(settings):
        Recorder.frames = []
        camera = CachingCamera if fast else None
        scene = Small(renderer=CairoRenderer(file_writer_class=Recorder, camera_class=camera))
        scene.render()
        return Recorder.frames


def overlapping_scene(scene: Scene, light) -> None:
    below = Square(side_length=2, color=BLUE, fill_opacity=0.6).shift(2 * LEFT)
    above = Circle(radius=1, color=RED, fill_opacity=0.5).move_to(below.get_right())
    apart = Text("apart").to_edge(RIGHT)
    scene.add(below, above, apart)
    scene.play(light(FadeOut(below)), run_time=0.5)
    scene.play(light(FadeIn(below)), run_time=0.5)
    scene.wait(0.2, frozen_frame=True)


def test_only_what_overlaps_a_moving_object_is_redrawn(tmp_path):
    captured = {}

    class Probe(Scene):
        def construct(self) -> None:
            below = Square(side_length=2, fill_opacity=0.6).shift([-2, 0, 0])
            above = Circle(radius=1, fill_opacity=0.5).move_to(below.get_right())
            apart = Square(side_length=1).shift([4, 0, 0])
            self.add(below, above, apart)
            fade = FadeOut(below)
            fade._setup_scene(self)
            fade.begin()
            captured["split"] = split_moving_static(self, [fade])
            captured["mobs"] = (below, above, apart)

    with tempconfig({"dry_run": True, "verbosity": "ERROR"}):
        Probe().render()
    moving, static = captured["split"]
    below, above, apart = captured["mobs"]
    assert below in moving and above in moving  # above is painted over the fading square
    assert apart in static  # far away: painted once into the static image


def test_small_scene_frames_identical_with_fast_rules(tmp_path):
    plain = draw(overlapping_scene, tmp_path, fast=False)
    fast = draw(overlapping_scene, tmp_path, fast=True)
    assert len(plain) == len(fast) > 10
    assert all(np.array_equal(a, b) for a, b in zip(plain, fast, strict=True))


def test_fade_is_a_fade_in_or_out_without_copies(tmp_path):
    text = Text("z = 0.3925")
    fade = lighter(FadeIn(text))
    assert isinstance(fade, Fade)
    assert type(lighter(FadeIn(text, shift=np.array([1.0, 0, 0])))) is FadeIn  # moves: kept
    image = ImageMobject(np.zeros((4, 4, 4), dtype=np.uint8))
    assert type(lighter(FadeIn(image))) is FadeIn  # the stock camera cannot fade it
    assert isinstance(lighter(FadeIn(image), images=True), Fade)


def image_scene(scene: Scene, light) -> None:
    pixels = np.zeros((90, 160, 4), dtype=np.uint8)
    pixels[20:70, 30:130] = [250, 140, 30, 230]
    pixels[40:50, :, 3] = 120
    image = ImageMobject(pixels, scale_to_resolution=False)
    image.stretch_to_fit_width(7.0).stretch_to_fit_height(4.0)
    scene.add(Square(side_length=3, color=BLUE, fill_opacity=1.0))
    scene.add(image)
    scene.wait(0.2, frozen_frame=True)
    scene.play(light(FadeOut(image)), run_time=0.6)
    scene.play(light(FadeIn(image)), run_time=0.6)
    image.pixel_array[:, :, 0] = 10  # changed in place: the camera must notice
    scene.wait(0.2, frozen_frame=True)


def test_cached_image_layer_draws_like_manims_camera(tmp_path):
    plain = draw(image_scene, tmp_path, fast=False)
    fast = draw(image_scene, tmp_path, fast=True)
    assert len(plain) == len(fast)
    diffs = [int(np.abs(a.astype(int) - b).max()) for a, b in zip(plain, fast, strict=True)]
    held = [0, 1, 2, len(diffs) - 1]  # before the fades, and after the in-place change
    assert all(diffs[k] == 0 for k in held), diffs
    assert max(diffs) <= FADE_TOLERANCE, diffs  # during the fades
    assert np.abs(fast[-1].astype(int) - fast[0]).max() > 100  # the change is drawn


def test_streaming_writer_makes_one_video_of_all_frames(tmp_path):
    frames = draw(overlapping_scene, tmp_path, fast=True)
    videos = list((tmp_path / "fast").rglob("*.mp4"))
    final = [v for v in videos if "partial_movie_files" not in v.parts]
    assert len(final) == 1
    with av.open(str(final[0])) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == len(frames)
    # Lossy h264, but the same pictures: close on average.
    errors = [np.abs(a.astype(int) - b).mean() for a, b in zip(frames, decoded, strict=True)]
    assert np.mean(errors) < 2.0
    # One encoder for the whole scene, not one file per play; the stream it wrote was
    # remuxed into the movie and removed.
    assert not [v for v in videos if "partial_movie_files" in v.parts]
    index = next((tmp_path / "fast").rglob("partial_movie_file_list.txt"))
    assert index.read_text().count("file '") == 1


def test_held_frames_encode_like_manims_writer(tmp_path):
    """A held frame converted to YUV once encodes to the same video as frame by frame."""
    from manim._config.video_encoder import VideoEncoderSpec
    from manim.scene.video_segment_encoder import VideoSegmentEncoder

    from backprop_anim.visual import renderer

    spec = VideoEncoderSpec(
        container_format="mp4",
        codec="libx264",
        pixel_format="yuv420p",
        width=64,
        height=48,
        frame_rate=Fraction(15),
        options=(("qp", "0"),),
    )
    rng = np.random.default_rng(0)
    frame = np.ascontiguousarray(rng.integers(0, 256, (48, 64, 4), dtype=np.uint8))
    paths = []
    for kind in (VideoSegmentEncoder, renderer._HeldFrameEncoder):
        path = tmp_path / f"{kind.__name__}.mp4"
        encoder = kind(target=path, spec=spec)
        encoder.write_frame(frame, repeat=5)
        encoder.finish()
        paths.append(path)
    a, b = frames_of(paths[0]), frames_of(paths[1])
    assert len(a) == len(b) == 5
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_each_keyframe_starts_a_fresh_encode(tmp_path):
    """A beat's packets depend on its own frames only: the same as encoding it alone.

    That is what makes a lecture rendered in parts (``render -j``) the serial render's
    packets even with a lossy codec (libx264 crf 23 carries rate control and lookahead
    across a forced keyframe, not across a fresh encoder).
    """
    from manim._config.video_encoder import VideoEncoderSpec

    from backprop_anim.visual import renderer

    spec = VideoEncoderSpec(
        container_format="mp4",
        codec="libx264",
        pixel_format="yuv420p",
        width=64,
        height=48,
        frame_rate=Fraction(15),
        options=(("crf", "23"),),
    )
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (48, 64, 4), dtype=np.uint8)
    # 30 frames as (frame, repeat): frame 2 held for two frames, frame 12 for three.
    writes = [(np.ascontiguousarray(np.roll(noise, 2 * n, axis=1)), 1) for n in range(30)]
    writes[2:4] = [(writes[2][0], 2)]
    writes[11:14] = [(writes[11][0], 3)]

    def encode(path: Path, chunk, keyframes: frozenset[int]) -> list[Path]:
        encoder = renderer._HeldFrameEncoder(target=path, spec=spec, keyframes=keyframes)
        for frame, repeat in chunk:
            encoder.write_frame(frame, repeat=repeat)
        encoder.finish()
        return encoder.segments

    def packets(path: Path) -> list[bytes]:
        with av.open(str(path)) as container:
            return [bytes(p) for p in container.demux(video=0) if p.size]

    # Keyframes at 0, 9 and 21 (frame numbers; the held frames span 2-3 and 12-14).
    segments = encode(tmp_path / "whole.mp4", writes, frozenset({0, 9, 21}))
    assert [len(frames_of(s)) for s in segments] == [9, 12, 9]
    # The same beats, each encoded alone by a fresh encoder: the same packets.
    for k, chunk in enumerate([writes[:8], writes[8:18], writes[18:]]):
        alone = encode(tmp_path / f"alone{k}.mp4", chunk, frozenset({0}))
        assert len(alone) == 1
        assert packets(segments[k]) == packets(alone[0]), f"segment {k}"
    # A held frame across a beat start is split there; an encode that fails (aborted)
    # leaves no segment behind.
    encoder = renderer._HeldFrameEncoder(
        target=tmp_path / "x.mp4", spec=spec, keyframes=frozenset({0, 4})
    )
    encoder.write_frame(writes[0][0], repeat=6)
    assert len(encoder.segments) == 2
    encoder.abort()
    assert not any(s.exists() for s in encoder.segments)


def test_a_repeated_label_is_an_exact_independent_copy():
    from backprop_anim.visual import panels

    panels._RECENT_LABELS.clear()
    first = panels.Label("backward", font_size=22, color="#8A939C", weight="BOLD")
    again = panels.Label("backward", font_size=22, color="#8A939C", weight="BOLD")
    assert len(panels._RECENT_LABELS) == 1  # typeset once
    parts = first.family_members_with_points(), again.family_members_with_points()
    assert len(parts[0]) == len(parts[1]) == len("backward")
    for a, b in zip(*parts, strict=True):
        assert a is not b
        assert np.array_equal(a.points, b.points)
        assert np.array_equal(a.fill_rgbas, b.fill_rgbas)
    again.shift(RIGHT)  # a copy: moving it moves nothing else
    assert not np.allclose(first.get_center(), again.get_center())
    other = panels.Label("backward", font_size=22, color="#8A939C")  # another weight
    assert len(panels._RECENT_LABELS) == 2 and other.width != first.width


def label_fade_scene(scene: Scene, light) -> None:
    words = Text("w+ = 0.3589  δ = -0.0381", font_size=30).shift(0.6 * LEFT)
    boxed = Text("on a box", font_size=24).shift(1.5 * RIGHT + 1.2 * DOWN)
    boxed.add_background_rectangle(color=BLUE, opacity=0.8)
    ring = Circle(radius=0.6, color=RED, fill_opacity=0.7).shift(2.5 * LEFT + DOWN)
    scene.add(Square(side_length=2.5, color=BLUE, fill_opacity=1.0).shift(DOWN))
    scene.play(light(FadeIn(words)), light(FadeIn(boxed)), light(FadeIn(ring)), run_time=0.6)
    scene.play(light(FadeOut(words)), light(FadeOut(boxed)), run_time=0.6)
    scene.wait(0.2, frozen_frame=True)


def test_text_fades_as_one_layer_like_glyph_by_glyph(tmp_path):
    """Glyphs that overlap nothing are drawn once and faded as a layer: the frames are
    Manim's up to the rounding of the layer's alpha (raw frames, no video encoding)."""
    plain = draw(label_fade_scene, tmp_path, fast=False)
    fast = draw(label_fade_scene, tmp_path, fast=True)
    assert len(plain) == len(fast) > 15
    diffs = [int(np.abs(a.astype(int) - b).max()) for a, b in zip(plain, fast, strict=True)]
    assert max(diffs) <= 2, diffs
    assert np.abs(plain[5].astype(int) - plain[0]).max() > 50  # something did fade in


def test_only_shapes_overlapping_nothing_fade_as_a_layer():
    words = Text("ab", font_size=30)
    boxed = Text("cd", font_size=30).shift(2 * RIGHT)
    boxed.add_background_rectangle(opacity=0.8)
    ring = Circle(radius=0.5, fill_opacity=0.5).shift(3 * LEFT)  # outline over its fill
    bar = Square(side_length=0.4, stroke_width=0, fill_opacity=1).shift(3 * DOWN)
    chosen = _layerable([*words, *boxed.family_members_with_points(), ring, bar])
    assert set(words) <= chosen and bar in chosen
    assert ring not in chosen
    box, *glyphs = boxed.family_members_with_points()
    assert box in chosen and not any(g in chosen for g in glyphs)  # on the box: one by one
