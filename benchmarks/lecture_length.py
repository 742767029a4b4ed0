"""How long a lecture is, and how much of it the deeper answers' beats take.

Plans the lecture as `render` does (storyboard, the voice's speech, the timeline) without
drawing a frame, and prints, per narration level, the video's length, its beats, and the
seconds of the beats issue 15 added (matrix, batch, the slope, the thrown gradients).
Run it against another tree of the repository (PYTHONPATH=that/tree) to compare with an
older version of the lecture: the same script reads both.

    .venv/bin/python benchmarks/lecture_length.py [CONFIG] [--levels brief,standard]
        [--voice piper] [--without matrix,batch]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import backprop_anim
from backprop_anim.config.loader import load_config
from backprop_anim.narrate import plan_narration
from backprop_anim.options import DEFAULT_SCENES, RenderOptions
from backprop_anim.render import cached_train
from backprop_anim.storyboard import build_storyboard
from backprop_anim.timeline import schedule

NEW_KINDS = ("matrix_forward", "matrix_backward", "batch", "weight_slope", "update_thrown")
REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default=str(REPO / "configs" / "textbook-2-2-2.yaml"))
    parser.add_argument("--levels", default="brief,standard")
    parser.add_argument("--voice", default="piper")
    parser.add_argument("--without", default="", help="scenes to leave out, e.g. matrix,batch")
    args = parser.parse_args()
    left_out = {s for s in args.without.split(",") if s}
    scenes = tuple(s for s in DEFAULT_SCENES if s not in left_out)
    print(f"backprop_anim from {Path(backprop_anim.__file__).parent}")
    print(f"config {args.config}, voice {args.voice}, scenes {','.join(scenes)}")
    for level in args.levels.split(","):
        t0 = time.perf_counter()
        loaded = load_config(args.config, [f"narration.level={level}"])
        trace = cached_train(loaded)
        options = RenderOptions(voice=args.voice, scenes=scenes)
        beats = build_storyboard(trace, options)
        narration = plan_narration(trace, beats, options)
        fps = options.frame_rate
        timed = schedule(beats, narration.speech, options.pace, fps)
        total = sum(tb.frames for tb in timed) / fps
        per_kind: dict[str, float] = defaultdict(float)
        count: dict[str, int] = defaultdict(int)
        for tb in timed:
            per_kind[tb.beat.kind] += tb.frames / fps
            count[tb.beat.kind] += 1
        new = sum(per_kind[k] for k in NEW_KINDS)
        print(
            f"{level:9s} {total:7.1f} s, {len(timed)} beats; new beats {new:6.1f} s "
            f"({100 * new / total:4.1f} %) — planned in {time.perf_counter() - t0:.1f} s"
        )
        for kind in sorted(per_kind, key=lambda k: -per_kind[k]):
            mark = " *" if kind in NEW_KINDS else ""
            print(f"    {kind:16s} {count[kind]:3d} beats {per_kind[kind]:7.1f} s{mark}")


if __name__ == "__main__":
    main()
