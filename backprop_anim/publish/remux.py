"""Cut and join videos without re-encoding: copy packets between keyframes.

A lecture is encoded with a keyframe at the first frame of every beat (see
:class:`~backprop_anim.visual.renderer.StreamingFileWriter`, ``keyframes``). Beats
start on whole frames (``timeline.schedule``), and libx264 makes a forced keyframe an
IDR frame of a closed GOP, so no frame after it refers to a frame before it: the
packets from one beat's keyframe to the next one's are a complete video on their own.
Copying them (a remux) is exact, lossless and takes milliseconds, where decoding and
encoding again would cost a second generation of compression and a full encode.

The API, shared by the per-beat clips (:mod:`backprop_anim.publish.clips`) and by
anything that renders parts separately and joins them:

- :func:`keyframe_frames` lists the frames a video can be cut at;
- :func:`cut` copies frames ``[start, end)`` of a video's first video stream into a new
  file (video only; sound is added by ``narration.mux_audio``);
- :func:`join` concatenates videos encoded with the same settings (each starting with a
  keyframe) into one;
- :func:`write_chapters` rewrites a file with chapter marks (all streams copied).

Frame numbers count from 0 at the first frame in presentation order. Every output is
written to a temporary file beside the target and renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from ..errors import UserError
from ..media import copy_stream


@dataclass(frozen=True)
class ChapterMark:
    """A chapter of a video: ``[start, end)`` in seconds, and its title."""

    start: float
    end: float
    title: str


@contextmanager
def _atomic_output(target: Path) -> Iterator[str]:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=target.suffix)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _container_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return {"m4v": "mp4", "mkv": "matroska"}.get(suffix, suffix)


def _frame_ticks(stream: av.video.stream.VideoStream) -> Fraction:
    """How many time-base ticks one frame lasts (constant frame rate)."""
    rate = stream.average_rate or stream.guessed_rate
    if not rate:
        raise ValueError("the video stream has no frame rate")
    return 1 / (Fraction(rate) * stream.time_base)


def _first_pts(path: Path) -> int:
    """The presentation time of the first frame (mp4 starts at 0; some muxers do not)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return min(p.pts for p in container.demux(stream) if p.pts is not None)


def keyframe_frames(path: str | Path) -> list[int]:
    """The frame numbers of a video's keyframes: where :func:`cut` may start a part."""
    path = Path(path)
    origin = _first_pts(path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ticks = _frame_ticks(stream)
        return sorted(
            round((p.pts - origin) / ticks)
            for p in container.demux(stream)
            if p.is_keyframe and p.pts is not None
        )


def cut(src: str | Path, dst: str | Path, start: int, end: int) -> Path:
    """Frames ``[start, end)`` of ``src``'s video as ``dst``, by copying packets.

    ``start`` must be a keyframe (:func:`keyframe_frames`); ``end`` is a keyframe or the
    end of the video. Raises ValueError otherwise: a cut anywhere else would need a
    re-encode, which this module never does.
    """
    src, dst = Path(src), Path(dst)
    if not 0 <= start < end:
        raise ValueError(f"cut: expected 0 <= start < end, got [{start}, {end})")
    origin = _first_pts(src)
    with av.open(str(src)) as container:
        vin = container.streams.video[0]
        ticks = _frame_ticks(vin)
        packets = []
        started = False
        for packet in container.demux(vin):
            if packet.pts is None:
                continue
            frame = round((packet.pts - origin) / ticks)
            if not started:
                if frame == start and packet.is_keyframe:
                    started = True
                elif frame >= start:
                    raise ValueError(f"{src.name}: frame {start} is not a keyframe; cannot cut")
                else:
                    continue
            elif packet.is_keyframe and frame >= end:
                break
            if frame < end:
                packets.append(packet)
            elif not packet.is_keyframe:
                # A frame after the cut that is decoded before it would need a frame this
                # part does not have.
                raise ValueError(f"{src.name}: frame {end} is not a keyframe; cannot cut")
        if not started:
            raise ValueError(f"{src.name}: no frame {start}")
        shift = round(start * ticks) + origin
        with _atomic_output(dst) as tmp, av.open(tmp, "w", format=_container_format(dst)) as out:
            vout = copy_stream(out, vin)
            for packet in packets:
                packet.pts -= shift
                packet.dts = None if packet.dts is None else packet.dts - shift
                packet.stream = vout
                out.mux(packet)
    return dst


def _codec_header(stream: av.video.stream.VideoStream) -> tuple:
    ctx = stream.codec_context
    return (ctx.name, ctx.width, ctx.height, ctx.extradata)


def join(parts: Sequence[str | Path], dst: str | Path) -> Path:
    """The videos ``parts`` one after the other as ``dst``, by copying packets.

    Every part must start with a keyframe and be encoded with the same codec settings
    (same size, rate and codec parameters): a joined file has one codec header. Raises
    ValueError when they differ.
    """
    parts, dst = [Path(p) for p in parts], Path(dst)
    if not parts:
        raise ValueError("join: no parts")
    containers = [av.open(str(p)) for p in parts]
    try:
        streams = [c.streams.video[0] for c in containers]
        first = streams[0]
        header = _codec_header(first)
        for path, stream in zip(parts[1:], streams[1:], strict=True):
            if _codec_header(stream) != header:
                raise ValueError(
                    f"join: {path.name} was not encoded like {parts[0].name} "
                    "(codec, size or codec parameters differ)"
                )
        with _atomic_output(dst) as tmp, av.open(tmp, "w", format=_container_format(dst)) as out:
            vout = copy_stream(out, first)
            offset = Fraction(0)  # seconds of video written so far
            for path, container, stream in zip(parts, containers, streams, strict=True):
                ticks = _frame_ticks(stream)
                origin = _first_pts(path)
                count = 0
                first_packet = True
                for packet in container.demux(stream):
                    if packet.pts is None:
                        continue
                    if first_packet and not packet.is_keyframe:
                        raise ValueError(f"join: {path.name} does not start with a keyframe")
                    first_packet = False
                    shift = round(offset / stream.time_base) - origin
                    packet.pts += shift
                    packet.dts = None if packet.dts is None else packet.dts + shift
                    packet.stream = vout
                    out.mux(packet)
                    count += 1
                offset += count * ticks * stream.time_base
    finally:
        for c in containers:
            c.close()
    return dst


def write_chapters(path: str | Path, chapters: Sequence[ChapterMark]) -> Path:
    """Rewrite ``path`` with ``chapters`` (every stream copied, times in milliseconds).

    MP4 and MOV store them as a chapter track, WebM/Matroska as its chapter list; the
    times are whole milliseconds, as both containers keep them.
    """
    path = Path(path)
    fmt = _container_format(path)
    if fmt not in ("mp4", "mov", "webm", "matroska"):
        raise UserError(f"{path.name}: {fmt} files cannot carry chapters")
    marks = [
        {
            "id": n + 1,
            "start": round(ch.start * 1000),
            "end": round(ch.end * 1000),
            "time_base": Fraction(1, 1000),
            "metadata": {"title": ch.title},
        }
        for n, ch in enumerate(chapters)
    ]
    with (
        av.open(str(path)) as src,
        _atomic_output(path) as tmp,
        av.open(tmp, "w", format=fmt) as out,
    ):
        # Picture and sound are copied; an earlier chapter track is replaced.
        kept = [s for s in src.streams if s.type in ("video", "audio")]
        mapping = {s.index: copy_stream(out, s) for s in kept}
        for packet in src.demux(kept):
            if packet.dts is None and packet.pts is None:
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)
        out.set_chapters(marks)
    return path


def read_chapters(path: str | Path) -> list[ChapterMark]:
    """The chapters a reader sees in ``path`` (seconds, as stored)."""
    with av.open(str(path)) as container:
        return [
            ChapterMark(
                float(c["start"] * c["time_base"]),
                float(c["end"] * c["time_base"]),
                c["metadata"].get("title", ""),
            )
            for c in container.chapters()
        ]
