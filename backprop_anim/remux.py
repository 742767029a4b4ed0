"""Joining videos without re-encoding: packets copied, timestamps shifted.

A lecture rendered in parts (:mod:`backprop_anim.parallel`) comes back as one video
file per part, each encoded with the same settings and each starting on a keyframe.
Concatenating them is then a remux: every compressed packet is copied into one
container with its timestamps moved by the time at which its part starts. Nothing is
decoded, so the join costs a fraction of a second for minutes of video and every
frame decodes exactly as it did in its part.

The parts must agree on codec, picture size, pixel format, time base and codec
header (for H.264 in mp4, the SPS/PPS in ``extradata``): a decoder reads that header
once for the whole joined stream. Parts encoded by one build of libx264 with the same
options do; anything else is refused with a message rather than joined into a video
that decodes wrongly after the first cut.
"""

from __future__ import annotations

import os
import tempfile
from fractions import Fraction
from pathlib import Path

import av


class JoinError(Exception):
    """The parts cannot be joined by copying packets (different encodings)."""


def _signature(stream: av.video.stream.VideoStream) -> tuple:
    ctx = stream.codec_context
    return (
        ctx.name,
        ctx.width,
        ctx.height,
        ctx.format.name if ctx.format else None,
        stream.time_base,
        bytes(ctx.extradata or b""),
    )


def concat_videos(parts: list[Path], target: Path, starts: list[int], fps: int) -> Path:
    """Write the video streams of ``parts`` one after the other into ``target``.

    ``starts``: the frame at which each part begins in the joined video (the lecture's
    beats are whole frames, so this is exact, also in containers whose time base does
    not divide the frame duration). Written to a temporary file beside ``target`` and
    renamed into place; only the first video stream of each part is kept.
    """
    if not parts or len(parts) != len(starts):
        raise ValueError("concat_videos needs one start frame per part")
    target = Path(target)
    suffix = target.suffix.lower().lstrip(".")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=f".{suffix}")
    os.close(fd)
    try:
        with av.open(tmp, "w", format="mov" if suffix == "mov" else suffix) as out:
            vout = None
            reference = None
            for index, (path, start) in enumerate(zip(parts, starts, strict=True)):
                with av.open(str(path)) as src:
                    vin = src.streams.video[0]
                    signature = _signature(vin)
                    if vout is None:
                        vout = out.add_stream_from_template(vin)
                        reference = signature
                    elif signature != reference:
                        raise JoinError(
                            f"part {index + 1} ({Path(path).name}) is encoded differently from "
                            f"part 1: {_difference(reference, signature)}"
                        )
                    shift = round(Fraction(start, fps) / vin.time_base)
                    for packet in src.demux(vin):
                        if packet.dts is None:  # the demuxer's end-of-stream marker
                            continue
                        packet.pts = None if packet.pts is None else packet.pts + shift
                        packet.dts += shift
                        packet.stream = vout
                        out.mux(packet)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _difference(a: tuple | None, b: tuple) -> str:
    names = ("codec", "width", "height", "pixel format", "time base", "codec header")
    assert a is not None
    diffs = [f"{n} {x!r} vs {y!r}" for n, x, y in zip(names[:5], a, b, strict=False) if x != y]
    if a[5] != b[5]:
        diffs.append("codec header (extradata) differs")
    return ", ".join(diffs)
