"""Re-render cost: an unchanged lecture again, and a change of pace or words only.

Each render runs in a fresh interpreter, as ``backprop-anim render`` would, sharing
one cache folder that starts empty. Wall time includes Python's start and imports.
For each run the child also reports how often training ran (``train`` is wrapped to
count its calls), the time spent on speech, and whether the whole render came from
the render cache.

1. first render: nothing cached (training, speech synthesis, Manim, outputs);
2. the same render again: target at most 10% of the first (a folder copy);
3. only the pace changed: the video is rendered again, but training does not run and
   every sentence's speech comes from the speech cache;
4. only the narration's words changed (``narration.level=brief``): training does not
   run; only the changed sentences are synthesized.

Run:  .venv/bin/python benchmarks/cache_bench.py [-q l] [--voice auto] [--config PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.10


def child(job: dict) -> None:
    import backprop_anim.engine.trainer as trainer
    from backprop_anim.options import RenderOptions
    from backprop_anim.render import render

    calls = {"train": 0}
    real_train = trainer.train

    def counted(*args, **kwargs):
        calls["train"] += 1
        return real_train(*args, **kwargs)

    trainer.train = counted
    options = RenderOptions(quality=job["quality"], voice=job["voice"], pace=job["pace"])
    start = time.perf_counter()
    result = render(job["config"], options, overrides=job["overrides"], output_dir=job["out"])
    print(
        json.dumps(
            {
                "in_process": time.perf_counter() - start,
                "trained": calls["train"],
                "timings": result.timings,
                "video": result.duration,
            }
        )
    )


def run(job: dict, cache: Path) -> dict:
    env = dict(os.environ, BACKPROP_ANIM_CACHE=str(cache))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(job)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"render failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--config", default=str(ROOT / "configs" / "textbook-2-2-2.yaml"))
    parser.add_argument("-q", "--quality", default="l")
    parser.add_argument("--voice", default="auto", help="auto, piper, espeak or none")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return

    print(f"machine: {os.cpu_count()} cores; load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="cache-bench-") as tmp:
        cache = Path(tmp) / "cache"
        base = {"config": args.config, "quality": args.quality, "voice": args.voice}
        plan = [
            ("first render", {"pace": 1.0, "overrides": []}),
            ("unchanged again", {"pace": 1.0, "overrides": []}),
            ("pace 0.8 only", {"pace": 0.8, "overrides": []}),
            ("words only (brief)", {"pace": 1.0, "overrides": ["narration.level=brief"]}),
        ]
        rows = []
        for n, (label, change) in enumerate(plan):
            job = {**base, **change, "out": str(Path(tmp) / f"out-{n}")}
            rows.append((label, run(job, cache)))
            print(f"  {label}: {rows[-1][1]['wall']:.1f} s", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}\n")

    first = rows[0][1]["wall"]
    header = (
        f"{'render':20s} {'wall s':>7s} {'vs first':>8s} {'in process s':>12s} "
        f"{'trained':>7s} {'speech s':>8s} {'cached':>6s}"
    )
    print(header)
    print("-" * len(header))
    for label, r in rows:
        t = r["timings"]
        print(
            f"{label:20s} {r['wall']:7.1f} {r['wall'] / first:8.1%} {r['in_process']:12.2f} "
            f"{r['trained']:>7d} {t.get('speech', 0.0):8.2f} "
            f"{'yes' if t.get('cached') else 'no':>6s}"
        )
    again = rows[1][1]["wall"] / first
    print(
        f"\nunchanged re-render: {again:.1%} of the first (target <= {TARGET:.0%}) "
        f"{'met' if again <= TARGET else 'NOT met'}"
    )
    retrained = [label for label, r in rows[2:] if r["trained"]]
    print(
        "pace or words changed: training "
        + ("re-ran in " + ", ".join(retrained) if retrained else "did not re-run (trace cache hit)")
    )


if __name__ == "__main__":
    main()
