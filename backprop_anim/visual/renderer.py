"""How frames are drawn and written: Manim's Cairo renderer, with the waste taken out.

A profile of a lecture render (benchmarks/README.md) showed that most of the time went
to work that does not change a single pixel:

- **Redrawing still objects.** Manim's Cairo renderer paints the objects that do not
  move into a static image once per ``play`` and redraws every frame all objects from
  the first moving one on, in drawing order. Fading the header at the top of the frame
  therefore redrew the whole network, every panel and every label, frame after frame.
  :func:`split_moving_static` redraws only what moves and what is drawn on top of it
  where they overlap; everything else joins the static image. Objects that do not
  overlap composite to the same pixels in either order, so frames are unchanged.
- **Deep copies for fades.** ``FadeIn``/``FadeOut`` are transforms: each copies its
  mobject two or three times (every glyph of a formula) and interpolates every point on
  every frame although only opacity changes. :class:`Fade` interpolates the colours with
  Manim's own ``interpolate_color`` between the same start and end colours, and never
  touches the points.
- **One encoder per play.** Manim writes each ``play`` to its own file with its own
  libx264 encoder and waits for it to drain at the end of the play. The
  :class:`StreamingFileWriter` feeds every frame of the scene into one encoder job
  running beside the renderer, with the same codec settings (a fresh encoder at each
  beat start, so that a lecture encoded whole and in parts are the same packets); a
  held frame is converted to YUV once, not once per frame.
- **Re-transforming the edge image, re-tracing glyphs.** The edge raster is an
  ``ImageMobject`` that Manim resamples with a perspective transform on every draw, and
  every glyph's outline is traced curve by curve in Python on every frame.
  :class:`CachingCamera` keeps the transformed layer (compositing only the rectangle it
  covers) and each outline's Cairo path while the points stay the same.

Each of these is checked against Manim's own output by tests/test_render_equivalence.py.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import cairo
import numpy as np
from manim import (
    AnimationGroup,
    Camera,
    FadeIn,
    FadeOut,
    ImageMobject,
    Mobject,
    Transform,
    VMobject,
    Wait,
)
from manim.animation.animation import Animation
from manim.animation.creation import DrawBorderThenFill, ShowPartial
from manim.renderer.cairo_renderer import CairoRenderer
from manim.scene.scene_file_writer import SceneFileWriter
from manim.scene.video_segment_encoder import VideoSegmentEncoder
from manim.utils.bezier import interpolate
from manim.utils.family import extract_mobject_family_members
from manim.utils.iterables import list_update
from PIL import Image

if TYPE_CHECKING:
    from manim import Scene

# --- one encoder for the whole scene ------------------------------------------------


_KEY = av.video.frame.PictureType.I
_ANY = av.video.frame.PictureType.NONE


class _HeldFrameEncoder(VideoSegmentEncoder):
    """Manim's segment encoder, converting a repeated (held) frame to YUV only once,
    with the codec's frame threads, and a fresh encoder at every keyframe.

    PyAV opens codecs with slice threading only, and libx264 then splits each frame
    into slices, one per thread: less throughput than its own frame threading, which
    encodes several frames at once. With frame threads the same frames at the same crf
    and preset encode in 30% less wall time, to the same quality (PSNR within 0.02 dB)
    and a slightly smaller file (benchmarks/README.md). The latency it adds does not
    matter here: the encoder has its own thread and the whole video.

    ``keyframes`` (frame numbers counted from this encoder's first frame): each starts a
    new segment file with a new encoder, so that what is encoded from a beat's first
    frame on depends on that beat's frames alone. One encoder forced to a keyframe at a
    beat start still carries its rate control and lookahead (libx264 looks 40 frames
    ahead) across it, so a lecture encoded whole and the same lecture encoded in parts
    (``render -j``) differed by up to 4 dB after each cut; encoded beat by beat, both
    are the same packets, and the segments are joined by copying them
    (:func:`StreamingFileWriter.finish`). libx264 is deterministic for the same frames
    and settings whatever its thread count (only the settings string it writes into
    the first packet names the count), so parts on other machines decode the same.
    """

    def __init__(self, *, target: Path, spec: Any, keyframes: frozenset[int] = frozenset()) -> None:
        self._open(target, spec)
        self.keyframes = keyframes
        self.segments = [target]  # files in order; one per run between keyframes
        self._frame = 0  # frames written, all segments together

    def _open(self, target: Path, spec: Any) -> None:
        super().__init__(target=target, spec=spec)
        self._stream.codec_context.thread_type = "AUTO"  # frame and slice threads

    def _next_segment(self) -> None:
        """Close this segment (flushing its encoder) and open the next one."""
        super().finish()
        first = self.segments[0]
        target = first.with_name(f"{first.stem}-{len(self.segments):04d}{first.suffix}")
        self.segments.append(target)
        self._open(target, self.spec)

    def write_frame(self, pixels: np.ndarray, *, repeat: int = 1) -> None:
        if repeat == 1 and self._frame not in self.keyframes:
            super().write_frame(pixels, repeat=1)
            self._frame += 1
            return
        self._validate_frame(pixels, repeat)
        rate = self.spec.frame_rate
        time_base = Fraction(rate.denominator, rate.numerator)
        try:
            frame = av.VideoFrame.from_ndarray(pixels, format="rgba")
            if repeat > 1:
                # The conversion the codec would make on each copy (same reformatter,
                # same defaults), made once: libavcodec references the frame's buffers,
                # so the same frame can be sent again with the next timestamp.
                frame = frame.reformat(self.spec.width, self.spec.height, self.spec.pixel_format)
            for _ in range(repeat):
                key = self._frame in self.keyframes
                if key and self._next_pts > 0:
                    self._next_segment()
                frame.pts = self._next_pts
                frame.time_base = time_base
                # A beat's first frame is the first of its segment: a keyframe (an IDR
                # frame for libx264) in any case, and forced so for any codec.
                frame.pict_type = _KEY if key else _ANY
                self._next_pts += 1
                self._frame += 1
                for packet in self._stream.encode(frame):
                    self._container.mux(packet)
        except BaseException as error:
            raise self._operation_error("encode", error) from error

    def abort(self) -> None:
        try:
            super().abort()
        finally:
            for path in self.segments:
                path.unlink(missing_ok=True)


class StreamingFileWriter(SceneFileWriter):
    """Write all frames of a scene through one encoder, not one file per ``play``.

    Manim opens an encoder for each play, and with one encoder in flight waits at the
    end of each play until it has drained, so rendering and encoding take turns. Here
    one encoder job (Manim's own, on its own thread) lives from the first frame to the
    last, the renderer only waits when the encoder falls eight frames behind, and the
    single file is then remuxed into place by Manim's usual final step (GIF conversion
    and sound included). With ``save_sections`` each section needs its own files, so
    Manim's per-play writing is kept.

    ``keyframes``: frame numbers that must be keyframes (the render sets each beat's
    first frame), so that beats can be cut out and parts joined without re-encoding
    (:mod:`backprop_anim.publish.remux`). Each starts a segment with a fresh encoder
    (:class:`_HeldFrameEncoder`); the segments are joined by copying packets before
    Manim's final step. Per-play files start with one anyway.
    """

    keyframes: frozenset[int] = frozenset()
    _encoder: _HeldFrameEncoder | None = None

    def _streaming(self) -> bool:
        return self.output_spec.is_video and not self.output_spec.save_sections

    def _create_segment_encoder(self, target: Path) -> VideoSegmentEncoder:
        encoder = self.video_encoder
        if encoder is None:
            raise RuntimeError("Video segment encoding requires resolved settings.")
        self._encoder = _HeldFrameEncoder(target=target, spec=encoder, keyframes=self.keyframes)
        return self._encoder

    def add_partial_movie_file(self, hash_animation: str | None) -> None:
        if not self._streaming():
            super().add_partial_movie_file(hash_animation)

    def begin_animation(
        self,
        allow_write: bool = False,
        *,
        animation_index: int,
        file_path: Any = None,
    ) -> None:
        if not self._streaming():
            super().begin_animation(
                allow_write, animation_index=animation_index, file_path=file_path
            )
            return
        if allow_write and self._current_encode_job is None:
            # Named per process: two renders sharing a cache folder never share a file.
            target = self.output_plan.segment_path(f"stream_{os.getpid()}")
            self.partial_movie_files = [str(target)]
            self.open_partial_movie_stream(animation_index=animation_index, file_path=target)

    def end_animation(self, allow_write: bool = False) -> None:
        if not self._streaming():
            super().end_animation(allow_write)

    def finish(self) -> None:
        streaming = self._streaming()
        if streaming and self._current_encode_job is not None:
            self.close_partial_movie_stream()
        if streaming and self._encoder is not None and len(self._encoder.segments) > 1:
            # One segment per beat: joined by copying packets (as the parts of a render
            # in parts are), then Manim's final step copies the one file into place.
            from ..publish.remux import join

            self.join_all_encode_jobs()
            segments = self._encoder.segments
            whole = segments[0].with_name(f"{segments[0].stem}-whole{segments[0].suffix}")
            try:
                join(segments, whole)
            finally:
                for path in segments:
                    path.unlink(missing_ok=True)
            self.partial_movie_files = [str(whole)]
        super().finish()
        if streaming:  # the stream was remuxed into the movie; nothing reuses it
            for path in self.partial_movie_files:
                Path(path).unlink(missing_ok=True)


class SkippingRenderer(CairoRenderer):
    """Manim's Cairo renderer, drawing nothing while animations are skipped.

    A part of a lecture rendered in parts plays the beats before its own with Manim's
    section skipping, to reach the same stage (see ``LecturePlan.window``). Manim still
    paints the static image of every skipped play and the frame of every skipped hold;
    nothing uses those pixels (each drawn play repaints its static image from scratch),
    so here they are not painted. Drawn plays are unchanged.
    """

    def update_frame(self, scene: Scene, *args: Any, **kwargs: Any) -> None:
        if self.skip_animations:
            return
        super().update_frame(scene, *args, **kwargs)

    def save_static_frame_data(self, scene: Scene, static_mobjects: Any) -> Any:
        if self.skip_animations:
            self.static_image = None
            return None
        return super().save_static_frame_data(scene, static_mobjects)


# --- the edge image, transformed once -----------------------------------------------


@dataclass
class _Layer:
    key: tuple
    source: np.ndarray  # a copy of the image's pixels when the layer was made
    image: Image.Image | None  # the transformed image, cropped to what it covers
    box: tuple[int, int, int, int] | None


FADE_OPACITY = "_fade_opacity"  # set on an image by Fade; read by CachingCamera
FADE_LAYER = "_fade_layer"  # set on a shape by a layered Fade; read by CachingCamera


class CachingCamera(Camera):
    """Manim's Cairo camera, keeping each image's transformed pixels between frames.

    ``display_image_mobject`` resamples an image into the frame with a perspective
    transform and alpha-composites a frame-sized layer on every draw. The layer only
    depends on the image's pixels and corners, so it is kept (checked against a copy of
    the pixels, so an image changed in place is redrawn) and only the rectangle it
    covers is composited: outside it the layer is fully transparent, which leaves
    pixels exactly as they are.

    An image being faded by :class:`Fade` keeps its pixels; its layer is composited
    with its alpha scaled instead. Manim scales the alpha of the source before
    resampling it (and rounds its colours down a level here and there), so while the
    fade lasts a few pixels at line edges, where bicubic resampling overshoots, differ
    by up to about ten levels of 255 (tests/test_render_equivalence.py).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per image, forgotten with the image (a long lecture makes hundreds).
        self._layers: weakref.WeakKeyDictionary[Mobject, _Layer] = weakref.WeakKeyDictionary()
        self._captured: list[Image.Image] | None = None
        # Each shape's Cairo path, with the points it was built from; forgotten with
        # the shape.
        self._paths: weakref.WeakKeyDictionary[VMobject, tuple[bytes, Any]] = (
            weakref.WeakKeyDictionary()
        )

    def set_cairo_context_path(self, ctx: Any, vmobject: VMobject) -> Camera:
        """Manim's path for ``vmobject``, built once while its points stay the same.

        Building a path walks every curve of every glyph in Python on every frame, the
        largest cost of drawing a fading formula. The path depends only on the points
        (it is kept in the drawing's own coordinates), so an identical copy is reused.
        """
        key = vmobject.points.tobytes()
        kept = self._paths.get(vmobject)
        if kept is not None and kept[0] == key:
            ctx.new_path()
            ctx.append_path(kept[1])
            return self
        super().set_cairo_context_path(ctx, vmobject)
        self._paths[vmobject] = (key, ctx.copy_path())
        return self

    def display_image_mobject(self, image_mobject: Any, pixel_array: np.ndarray) -> None:
        source = image_mobject.get_pixel_array()
        corners = self.points_to_subpixel_coords(image_mobject, image_mobject.points)
        key = (
            corners.tobytes(),
            image_mobject.resampling_algorithm,
            source.shape,
            self.pixel_width,
            self.pixel_height,
        )
        layer = self._layers.get(image_mobject)
        if layer is None or layer.key != key or not np.array_equal(layer.source, source):
            layer = self._make_layer(image_mobject, key, source)
            self._layers[image_mobject] = layer
        if layer.image is None or layer.box is None:
            return
        image = layer.image
        opacity = getattr(image_mobject, FADE_OPACITY, None)
        if opacity is not None:
            if opacity <= 0:
                return
            faded = np.array(image)
            faded[:, :, 3] = (faded[:, :, 3] * opacity).astype(np.uint8)
            image = Image.fromarray(faded)
        left, top, right, bottom = layer.box
        region = pixel_array[top:bottom, left:right]
        region[:, :] = np.asarray(
            Image.alpha_composite(self.get_image(np.ascontiguousarray(region)), image),
            dtype=np.uint8,
        )

    def _make_layer(self, image_mobject: Any, key: tuple, source: np.ndarray) -> _Layer:
        """Run Manim's own transform once and keep the frame-sized layer it composites."""
        self._captured = []
        scratch = np.zeros_like(self.pixel_array)
        try:
            super().display_image_mobject(image_mobject, scratch)
            captured = self._captured
        finally:
            self._captured = None
        if not captured:
            return _Layer(key, source.copy(), None, None)
        full = captured[0]
        box = full.getbbox(alpha_only=True)
        image = full.crop(box) if box is not None else None
        return _Layer(key, source.copy(), image, box)

    def display_multiple_non_background_colored_vmobjects(
        self, vmobjects: Iterable[VMobject], pixel_array: np.ndarray
    ) -> None:
        """Manim's drawing of shapes, except runs of shapes fading together (see Fade).

        A run of consecutive shapes faded by one layered :class:`Fade` is drawn once,
        at full opacity, into a layer of its own; each frame of the fade composites
        that layer with the fade's opacity, instead of drawing every glyph again with
        its colours interpolated. The layer is made again if a shape of the run moves
        or changes colour meanwhile.
        """
        ctx = self.get_cairo_context(pixel_array)
        shapes = list(vmobjects)
        k = 0
        while k < len(shapes):
            fade = getattr(shapes[k], FADE_LAYER, None)
            if fade is None:
                self.display_vectorized(shapes[k], ctx)
                k += 1
                continue
            end = k + 1
            while end < len(shapes) and getattr(shapes[end], FADE_LAYER, None) is fade:
                end += 1
            if fade.opacity > 0:
                surface, x, y = self._fade_layer(fade, shapes[k:end], ctx)
                if surface is not None:
                    ctx.save()
                    ctx.identity_matrix()
                    ctx.set_source_surface(surface, x, y)
                    ctx.paint_with_alpha(fade.opacity)
                    ctx.restore()
            k = end

    def _fade_layer(self, fade: Fade, run: list[VMobject], ctx: Any) -> tuple[Any, int, int]:
        """The run drawn at full opacity on a transparent layer, cropped: (surface, x, y)."""
        state = b"".join(
            part.points.tobytes()
            + part.fill_rgbas.tobytes()
            + part.stroke_rgbas.tobytes()
            + np.asarray(part.stroke_width).tobytes()
            for part in run
        )
        key = tuple(id(part) for part in run)
        kept = fade._layers.get(key)
        if kept is not None and kept[0] == state:
            return kept[1]
        scratch = np.zeros_like(self.pixel_array)
        surface = cairo.ImageSurface.create_for_data(
            scratch.data, cairo.FORMAT_ARGB32, self.pixel_width, self.pixel_height
        )
        layer_ctx = cairo.Context(surface)
        layer_ctx.set_matrix(ctx.get_matrix())
        for part in run:
            self.display_vectorized(part, layer_ctx)
        surface.flush()
        rows = np.flatnonzero(scratch[:, :, 3].any(axis=1))
        cols = np.flatnonzero(scratch[:, :, 3].any(axis=0))
        made: tuple[Any, int, int] = (None, 0, 0)
        if rows.size:
            top, left = int(rows[0]), int(cols[0])
            crop = np.ascontiguousarray(scratch[top : rows[-1] + 1, left : cols[-1] + 1])
            cropped = cairo.ImageSurface.create_for_data(
                crop.data, cairo.FORMAT_ARGB32, crop.shape[1], crop.shape[0]
            )
            made = (cropped, left, top)
            # kept with the surface: Cairo draws from this buffer
            fade._layers[key] = (state, made, crop)
            return made
        fade._layers[key] = (state, made, None)
        return made

    def overlay_PIL_image(self, pixel_array: np.ndarray, image: Image.Image) -> None:
        if self._captured is not None:
            self._captured.append(image)
            return
        super().overlay_PIL_image(pixel_array, image)


# --- fades without copies -----------------------------------------------------------

_VM_COLOR_ATTRS = (
    "fill_rgbas",
    "stroke_rgbas",
    "background_stroke_rgbas",
    "stroke_width",
    "background_stroke_width",
    "sheen_direction",
    "sheen_factor",
)


class _Style:
    """The colour attributes ``interpolate_color`` reads, detached from a mobject."""

    def __init__(self, mob: Mobject, attrs: Iterable[str]) -> None:
        for attr in attrs:
            value = getattr(mob, attr)
            setattr(self, attr, value.copy() if isinstance(value, np.ndarray) else value)


def _faded_style(mob: VMobject) -> _Style:
    """The style Manim's ``fade(1)`` gives ``mob`` (all opacities 0), without copying it."""
    style = _Style(mob, _VM_COLOR_ATTRS)
    for attr in ("fill_rgbas", "stroke_rgbas", "background_stroke_rgbas"):
        getattr(style, attr)[:, 3] = 0.0
    return style


def _layerable(parts: Sequence[Mobject]) -> set[Mobject]:
    """The shapes of a fade that can be drawn once and faded as one layer.

    Fading a layer differs from fading each shape where shapes overlap: through a
    half-faded upper shape the lower one shows too, through a half-faded layer it does
    not. So only shapes that overlap no other layered shape qualify (a glyph of a
    label, a bar), and no shape that overlaps itself, with a visible outline around a
    visible fill (a neuron); a label's text on its own background box stays out,
    faded glyph by glyph as before. Where a shape is left out, runs of layered shapes
    are drawn before and after it in the usual order.
    """
    chosen: set[Mobject] = set()
    boxes = np.empty((0, 4))
    for part in parts:
        if not isinstance(part, VMobject) or part.get_background_image():
            continue
        outline = part.get_stroke_width() > 0 and np.any(part.get_stroke_opacities() > 0)
        if outline and np.any(part.get_fill_opacities() > 0):
            continue
        if part.get_sheen_factor() != 0 or part.get_stroke_width(background=True) > 0:
            continue
        pts = part.points[:, :2]
        box = np.array([*pts.min(axis=0), *pts.max(axis=0)])
        if outline:
            pad = float(part.get_stroke_width()) * 0.01 * 5
            box += np.array([-pad, -pad, pad, pad])
        if len(boxes) and np.any(
            (box[0] < boxes[:, 2])
            & (boxes[:, 0] < box[2])
            & (box[1] < boxes[:, 3])
            & (boxes[:, 1] < box[3])
        ):
            continue
        chosen.add(part)
        boxes = np.vstack([boxes, box])
    return chosen


class Fade(Animation):
    """``FadeIn``/``FadeOut`` (no shift, scale or lag), without copies.

    Manim's fades are transforms: they deep-copy the mobject into a start and a target
    and interpolate points and colours of every part on every frame. Only opacity
    changes, so this keeps each part's start and end colours and calls Manim's own
    ``interpolate_color`` between them: the same colours on every frame, the points
    left exactly where they are. Images keep their pixels and are given an opacity
    that only :class:`CachingCamera` draws (see there).
    """

    def __init__(
        self, mobject: Mobject, *, fade_in: bool, layered: bool = False, **kwargs: Any
    ) -> None:
        self.fade_in = fade_in
        self.layered = layered
        self.opacity = 0.0 if fade_in else 1.0
        self._states: list[tuple[Mobject, Any, Any]] = []
        self._images: list[ImageMobject] = []
        self._layered: list[VMobject] = []
        self._layers: dict[tuple, tuple[bytes, Any, Any]] = {}
        kwargs.setdefault("introducer", fade_in)
        kwargs.setdefault("remover", not fade_in)
        super().__init__(mobject, **kwargs)

    def create_starting_mobject(self) -> Mobject:
        return self.mobject  # nothing to copy: the styles are kept in self._states

    def begin(self) -> None:
        self._states = []
        self._images = []
        self._layered = []
        parts = self.mobject.family_members_with_points()
        layered = _layerable(parts) if self.layered else set()
        for part in parts:
            if isinstance(part, ImageMobject):
                self._images.append(part)
            if not isinstance(part, VMobject):
                continue
            if part in layered:
                setattr(part, FADE_LAYER, self)
                self._layered.append(part)
                continue
            faded, shown = _faded_style(part), _Style(part, _VM_COLOR_ATTRS)
            start, end = (faded, shown) if self.fade_in else (shown, faded)
            self._states.append((part, start, end))
        super().begin()

    def get_all_mobjects(self) -> Sequence[Mobject]:
        return [self.mobject]

    def interpolate_mobject(self, alpha: float) -> None:
        a = self.rate_func(alpha)
        for part, start, end in self._states:
            part.interpolate_color(start, end, a)
        opacity = self.opacity = a if self.fade_in else 1.0 - a
        for image in self._images:
            if opacity >= 1.0:
                image.__dict__.pop(FADE_OPACITY, None)
            else:
                setattr(image, FADE_OPACITY, opacity)

    def clean_up_from_scene(self, scene: Scene) -> None:
        super().clean_up_from_scene(scene)
        for part in self._layered:
            if getattr(part, FADE_LAYER, None) is self:
                delattr(part, FADE_LAYER)
        self._layered = []
        self._layers = {}
        if not self.fade_in:
            self.interpolate(0)  # as FadeOut: the removed mobject keeps its colours


def lighter(animation: Animation, *, images: bool = False) -> Animation:
    """The same animation without needless copies.

    A plain ``FadeIn``/``FadeOut`` (no sheen, no shift, scale or lag) becomes a
    :class:`Fade`; one that fades an image only if ``images`` (the camera is a
    :class:`CachingCamera`). Anything else is returned as it is.
    """
    kind = type(animation)
    if kind not in (FadeIn, FadeOut):
        return animation
    family = animation.mobject.get_family()
    if (
        (not images and any(isinstance(m, ImageMobject) for m in family))
        or any(isinstance(m, VMobject) and m.get_sheen_factor() != 0 for m in family)
        or np.any(animation.shift_vector)
        or animation.scale_factor != 1
        or animation.lag_ratio != 0
        or animation.reverse_rate_function
        or animation.path_func is not interpolate
    ):
        return animation
    # An introducer/remover that is also already on stage behaves the same here.
    return Fade(
        animation.mobject,
        fade_in=kind is FadeIn,
        layered=images,
        run_time=animation.run_time,
        rate_func=animation.rate_func,
        suspend_mobject_updating=animation.suspend_mobject_updating,
    )


# --- redraw only what moves ---------------------------------------------------------

_EVERYWHERE = np.array([-np.inf, -np.inf, np.inf, np.inf])
_NOWHERE = np.array([np.inf, np.inf, -np.inf, -np.inf])


def _box(mobs: Iterable[Mobject | None], margin: float) -> np.ndarray:
    """[left, bottom, right, top] around the drawn parts of ``mobs``, strokes included."""
    lo = np.array([np.inf, np.inf])
    hi = -lo
    widest = 0.0
    for mob in mobs:
        if mob is None:
            continue
        for part in mob.family_members_with_points():
            pts = part.points
            lo = np.minimum(lo, pts[:, :2].min(axis=0))
            hi = np.maximum(hi, pts[:, :2].max(axis=0))
            if isinstance(part, VMobject):
                widest = max(
                    widest,
                    float(np.max(part.stroke_width, initial=0.0)),
                    float(np.max(part.background_stroke_width, initial=0.0)),
                )
    if not np.all(np.isfinite(lo)):
        return _NOWHERE.copy()
    # Manim strokes are width * 0.01 units wide; allow mitred corners (x5) and
    # anti-aliasing (``margin``: a few pixels).
    pad = widest * 0.01 * 5 + margin
    return np.array([lo[0] - pad, lo[1] - pad, hi[0] + pad, hi[1] + pad])


def _sweep(animation: Animation, margin: float) -> np.ndarray | None:
    """Where ``animation`` draws, over its whole course; None if that is not known."""
    if isinstance(animation, Wait):
        return _NOWHERE.copy()
    if isinstance(animation, Fade):
        return _box([animation.mobject], margin)
    if isinstance(animation, Transform):
        if getattr(animation, "path_func", None) is not interpolate:
            return None  # points on an arc may leave the start and end boxes
        return _box([animation.mobject, animation.starting_mobject, animation.target_copy], margin)
    if isinstance(animation, DrawBorderThenFill):
        # The outline is drawn with the animation's stroke width.
        pad = float(animation.stroke_width) * 0.01 * 5
        box = _box([animation.mobject, animation.starting_mobject], margin)
        return box + np.array([-pad, -pad, pad, pad])
    if isinstance(animation, ShowPartial):
        return _box([animation.mobject, animation.starting_mobject], margin)
    if isinstance(animation, AnimationGroup):
        boxes = [_sweep(a, margin) for a in animation.animations]
        if any(b is None for b in boxes):
            return None
        return _union(boxes) if boxes else _NOWHERE.copy()
    return None


def _union(boxes: Sequence[np.ndarray]) -> np.ndarray:
    stack = np.array(boxes)
    return np.array([*stack[:, :2].min(axis=0), *stack[:, 2:].max(axis=0)])


def split_moving_static(
    scene: Scene, animations: Sequence[Animation]
) -> tuple[list[Mobject], list[Mobject]] | None:
    """(redrawn every frame, painted once) for this play, or None for Manim's own rule.

    Manim's rule redraws everything from the first moving object on. Here an object is
    redrawn only if it moves, or if it is drawn after (above) something redrawn and
    overlaps it. Everything else is painted once into the static image, below the
    redrawn objects: where two objects do not overlap, the order in which they are
    painted does not change a pixel, so the frames are the same as with Manim's rule.
    Objects with updaters count as covering the whole frame. Animations whose extent
    is not known in advance (paths along arcs, custom animations) keep Manim's rule.
    """
    camera = scene.renderer.camera
    margin = 3.0 * camera.frame_width / camera.pixel_width  # anti-aliasing, in units
    sweeps: dict[Mobject, np.ndarray] = {}
    for animation in animations:
        box = _sweep(animation, margin)
        if box is None:
            return None
        for part in animation.mobject.get_family():
            previous = sweeps.get(part)
            sweeps[part] = box if previous is None else _union([previous, box])
    for mob in list_update(scene.mobjects, scene.foreground_mobjects):
        for part in mob.get_family():
            if part.updaters:
                for member in part.get_family():
                    sweeps[member] = _EVERYWHERE
    everything = extract_mobject_family_members(
        list_update(scene.mobjects, scene.foreground_mobjects),
        use_z_index=camera.use_z_index,
        only_those_with_points=True,
    )
    moving: list[Mobject] = []
    static: list[Mobject] = []
    boxes = np.empty((0, 4))
    for mob in everything:
        box = sweeps.get(mob)
        if box is None and len(boxes):
            own = _box([mob], margin)
            hit = (
                (own[0] <= boxes[:, 2])
                & (boxes[:, 0] <= own[2])
                & (own[1] <= boxes[:, 3])
                & (boxes[:, 1] <= own[3])
            )
            if hit.any():
                box = own
        if box is None:
            static.append(mob)
        else:
            moving.append(mob)
            boxes = np.vstack([boxes, box])
    if not moving:
        # A wait: its empty mobject draws nothing, but as in Manim it keeps the list from
        # being empty; an empty list makes the renderer draw everything again on top of
        # the static image (held frames would be painted twice). Only point-less
        # objects are added: a group listed after its parts would repaint them on top.
        moving = [
            m
            for animation in animations
            for m in animation.mobject.get_family()
            if not m.family_members_with_points()
        ]
    return moving, static
