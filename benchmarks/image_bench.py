"""Render time of the digits lecture, with and without the pictures of its inputs.

Drawing the input column as an 8x8 picture and each hidden unit's weights as a picture
(data.image, visual/image.py) must not make the digits lecture slower to render. This
renders configs/digits.yaml with this checkout's code and with another checkout's (the
code before the pictures: an export of an older commit, e.g.
``git archive fce33c3 | tar -x -C /tmp/before``), alternately, each in a fresh process
(Manim's config is global), serial (-j 1), narration off, no render cache, and prints
wall and CPU seconds per render and the after/before ratio of the fastest runs, with
the load average (the machine may be shared: compare the ratio, not the seconds).

Run:  .venv/bin/python benchmarks/image_bench.py --before /tmp/before [--repeat 2] [-q l]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "configs" / "digits.yaml"

CHILD = """
import json, sys, time
from backprop_anim.options import RenderOptions
from backprop_anim.render import render
job = json.loads(sys.argv[1])
options = RenderOptions(quality=job["quality"], voice="none", jobs=1, use_cache=False,
                        scenes=tuple(job["scenes"].split(",")))
start = time.perf_counter()
result = render(job["config"], options, overrides=["narration=off"], output_dir=job["out"])
print(json.dumps({"seconds": time.perf_counter() - start, "video": result.duration}))
"""


def run(code: Path, job: dict, cache: Path) -> dict:
    """One render in a fresh interpreter whose ``backprop_anim`` and ``scenes`` are
    ``code``'s; wall seconds from the child, CPU seconds (all threads) from wait4."""
    env = dict(os.environ, BACKPROP_ANIM_CACHE=str(cache), PYTHONPATH=str(code))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(job)], cwd=code, env=env, capture_output=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"render with {code} failed:\n{proc.stderr.decode()[-3000:]}")
    result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    result["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="a checkout without pictures")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("-q", "--quality", default="l")
    parser.add_argument(
        "--scenes", default="title,forward,loss,backward,matrix,batch,update,summary"
    )
    args = parser.parse_args()
    codes = {"before": args.before.resolve(), "after": ROOT}
    times: dict[str, list[dict]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.repeat):
            for name, code in codes.items():
                cache = Path(tmp) / f"cache-{name}-{n}"
                job = {
                    "config": str(code / "configs" / "digits.yaml"),
                    "quality": args.quality,
                    "scenes": args.scenes,
                    "out": str(Path(tmp) / f"{name}-{n}"),
                }
                started = time.perf_counter()
                result = run(code, job, cache)
                result["total"] = time.perf_counter() - started
                times[name].append(result)
                print(
                    f"{name:6s} run {n + 1}: render {result['seconds']:6.1f} s "
                    f"(process {result['total']:6.1f} s, CPU {result['cpu']:6.1f} s), "
                    f"video {result['video']:.1f} s",
                    flush=True,
                )
    best = {name: min(r["seconds"] for r in runs) for name, runs in times.items()}
    print(f"\ndigits lecture, {args.quality}, scenes {args.scenes}, -j 1, narration off")
    print(f"fastest render: before {best['before']:.1f} s, after {best['after']:.1f} s")
    cpu = {name: min(r["cpu"] for r in runs) for name, runs in times.items()}
    print(f"least CPU: before {cpu['before']:.1f} s, after {cpu['after']:.1f} s")
    print(
        f"after / before: {best['after'] / best['before']:.2f}x wall, "
        f"{cpu['after'] / cpu['before']:.2f}x CPU"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average: {load} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
