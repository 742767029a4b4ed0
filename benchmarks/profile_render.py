"""Profile one render with pyinstrument: where does the time of a render go?

Writes a text report (Manim's frames shown, since that is where the time is) and a
saved session that can be re-opened with other display options:

    .venv/bin/python benchmarks/profile_render.py configs/textbook-2-2-2.yaml -q m
    .venv/bin/python -m pyinstrument --show-all -r text \
        --load benchmarks/out/profile-textbook-2-2-2-m.pyisession

The render always runs uncached (no whole-render cache, fresh Manim media folder), with
narration off so the video has the beats' natural lengths.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from pyinstrument import Profiler

from backprop_anim.options import RenderOptions
from backprop_anim.render import render

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("-q", "--quality", default="m")
    parser.add_argument("--scenes", default=None, help="comma-separated scene names")
    parser.add_argument("--pace", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=HERE / "out")  # git-ignored
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"profile-{Path(args.config).stem}-{args.quality}"
    with tempfile.TemporaryDirectory() as work:
        os.environ["BACKPROP_ANIM_CACHE"] = str(Path(work) / "cache")
        kwargs = {"quality": args.quality, "voice": "none", "pace": args.pace, "use_cache": False}
        if args.scenes:
            kwargs["scenes"] = tuple(args.scenes.split(","))
        options = RenderOptions(**kwargs)
        profiler = Profiler(interval=0.002)
        profiler.start()
        result = render(
            args.config, options, overrides=["narration=off"], output_dir=Path(work) / "out"
        )
        profiler.stop()
    session = profiler.last_session
    assert session is not None
    session.save(args.out / f"{stem}.pyisession")
    text = profiler.output_text(show_all=False, color=False, unicode=True)
    (args.out / f"{stem}.txt").write_text(text)
    print(f"video {result.duration:.1f} s, render {result.timings['total']:.1f} s")
    print(f"timings: {result.timings}")
    print(f"profile: {args.out / stem}.txt (and .pyisession)")


if __name__ == "__main__":
    main()
