"""What cutting beats by remux saves, and what a keyframe at every beat start costs.

Renders one lecture (480p15 by default, no voice: the picture is what is measured),
then, on its video:

1. cut every beat out by copying packets (``publish.remux.cut``) vs decoding the
   beat's frames and encoding them again with the lecture's codec settings (libx264,
   crf 23; the decoding is done once beforehand and not counted): wall time of each and
   the ratio;
2. the size of the whole lecture encoded from its decoded frames with and without a
   forced keyframe at every beat start (same encoder, same settings): the price of
   cuttable beats, in bytes.

Run:  .venv/bin/python benchmarks/publish_bench.py [-q l] [--config PATH] [--render DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]


def encode(frames, fps: int, path: Path, keyframes: set[int]) -> int:
    """Encode RGB frames like the lecture encoder does; the file's size in bytes."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"crf": "23"})
        stream.width, stream.height, stream.pix_fmt = frames[0].width, frames[0].height, "yuv420p"
        stream.codec_context.thread_type = "AUTO"
        for n, frame in enumerate(frames):
            frame = av.VideoFrame.from_image(frame)
            frame.pts, frame.time_base = n, Fraction(1, fps)
            if n in keyframes:
                frame.pict_type = av.video.frame.PictureType.I
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path.stat().st_size


def main() -> None:
    from backprop_anim.options import RenderOptions
    from backprop_anim.publish.remux import cut
    from backprop_anim.render import render

    parser = argparse.ArgumentParser()
    parser.add_argument("-q", "--quality", default="l")
    parser.add_argument("--config", default=str(ROOT / "configs" / "textbook-2-2-2.yaml"))
    parser.add_argument("--render", help="use this finished render instead of rendering")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        if args.render:
            folder = Path(args.render)
        else:
            folder = scratch / "lecture"
            options = RenderOptions(quality=args.quality, voice="none", use_cache=False)
            render(args.config, options, output_dir=folder)
        meta = json.loads((folder / "render.json").read_text())
        video, fps = folder / meta["video"], meta["fps"]
        bounds = [(round(b["start"] * fps), round(b["end"] * fps)) for b in meta["beats"]]
        with av.open(str(video)) as container:
            frames = [f.to_image() for f in container.decode(video=0)]

        t0 = time.perf_counter()
        for n, (a, b) in enumerate(bounds):
            cut(video, scratch / f"cut{n}.mp4", a, b)
        remux = time.perf_counter() - t0
        t0 = time.perf_counter()
        for n, (a, b) in enumerate(bounds):  # frames decoded once, above: encoding only
            encode(frames[a:b], fps, scratch / f"enc{n}.mp4", {0})
        reencode = time.perf_counter() - t0

        plain = encode(frames, fps, scratch / "plain.mp4", set())
        keyed = encode(frames, fps, scratch / "keyed.mp4", {a for a, _ in bounds})
    load = os.getloadavg()
    print(f"lecture: {meta['video']}, {len(frames)} frames at {fps} fps, {len(bounds)} beats")
    print(f"load average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"cut every beat by remux:    {remux:7.3f} s")
    print(f"re-encode each (no decode): {reencode:7.3f} s  ({reencode / remux:.0f}x the remux)")
    print(f"whole lecture, no forced keyframes:       {plain / 1024:8.1f} KiB")
    print(
        f"whole lecture, keyframe at each beat:     {keyed / 1024:8.1f} KiB"
        f"  ({100 * (keyed / plain - 1):+.1f}%)"
    )


if __name__ == "__main__":
    main()
