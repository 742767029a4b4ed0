"""How long the training-overview beat takes to render, per lecture and quality.

The overview must stay cheap whatever the training's length: heat maps, data points and
edges are images, a handful of keyframes cross-fade, the static parts are drawn once per
animation. This renders the overview beat alone (narration off, so the beat has its
natural length of 10 s at pace 1) for a few lectures of configs/ and prints the wall and
CPU time, frames, seconds of video per second of rendering, and the beat's mobject count.

Run:  .venv/bin/python benchmarks/overview_bench.py [--quality l m] [--lectures xor digits]

Wall times vary with other work on the machine (the load average is printed); CPU time
is the steadier figure. The render cache is bypassed (a fresh cache folder per run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from backprop_anim.options import RenderOptions
from backprop_anim.render import render

REPO = Path(__file__).resolve().parent.parent
LECTURES = ("xor", "regression-output", "why-the-derivative", "tanh-saturation", "digits")


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg runs in-process via PyAV)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quality", nargs="+", default=["l", "m"])
    parser.add_argument("--lectures", nargs="+", default=list(LECTURES))
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = f"{'lecture':20} {'q':2} {'wall s':>7} {'cpu s':>7} {'frames':>7} {'video/s':>8}"
    print(header + " mobjects")
    for quality in args.quality:
        for name in args.lectures:
            with tempfile.TemporaryDirectory() as tmp:
                os.environ["BACKPROP_ANIM_CACHE"] = str(Path(tmp) / "cache")
                options = RenderOptions(quality=quality, scenes=("overview",), voice="none")
                t0, c0 = time.perf_counter(), cpu_seconds()
                result = render(
                    REPO / "configs" / f"{name}.yaml",
                    options,
                    output_dir=Path(tmp) / name,
                    overrides=["narration=off"],
                )
                wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
                meta = json.loads((result.output_dir / "render.json").read_text())
            print(
                f"{name:20} {quality:2} {wall:7.1f} {cpu:7.1f} {meta['frames']:7d} "
                f"{result.duration / wall:8.2f} {meta['beats'][0]['mobjects']}"
            )


if __name__ == "__main__":
    main()
