"""One lecture on two cores: serial vs ``render -j 2`` vs a Dask LocalCluster of 2 workers.

Prints, in one run (ratios are taken within the run, so load from other programs on
the machine hits both sides alike; the load average is printed before and after):

- serial vs ``-j 2`` for the standard textbook lecture (narrated with Piper at the
  standard level) at 720p30 and 1080p60 (issue 16's goal: at least 1.7x on 2 cores);
- ``--scheduler local -j 2`` (a Dask LocalCluster of 2 workers) vs ``-j 2`` at 720p30
  (goal: within 10 %);
- the cost of joining the parts (remux, no re-encode) against the whole render (goal:
  at most 2 %);
- peak resident memory of every process at 1080p (goal: under 1 GiB each): the parts
  report their own, the parent is measured by ``wait4``;
- what one frame and one beat cost, and the break-even of ``-j auto``: shorter lectures
  (fewer scenes) serial vs ``-j 2`` at 720p30;
- PSNR of the joined video against the serial one (both lossy, libx264 crf 23: the
  parts' encoders restart at every cut, so compression differs near the cuts).

Every render runs as ``backprop-anim render ... --force`` in a fresh process, after a
warm-up render that fills the trace and speech caches (so no run synthesizes speech).

Run:  .venv/bin/python benchmarks/parallel_bench.py [--skip-1080] [--no-breakeven]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TEXTBOOK = ROOT / "configs" / "textbook-2-2-2.yaml"
CLI = [sys.executable, "-m", "backprop_anim.cli", "render", str(TEXTBOOK)]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(label: str, out: Path, *args: str) -> dict:
    """One render in a fresh process; its render.json plus wall time and peak RSS."""
    log = out.parent / f"{out.name}.log"
    start = time.perf_counter()
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [*CLI, "--force", "-o", str(out), *args],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            cwd=ROOT,
        )
        # wait4: this child's own resources (its waited-for children are counted in the
        # maximum too, so this is the largest process of the render).
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label}: render failed:\n{log.read_text()[-2000:]}")
    meta = json.loads((out / "render.json").read_text())
    meta["_wall"] = wall
    meta["_tree_peak_mib"] = usage.ru_maxrss / 1024
    meta["_video"] = out / meta["video"]
    print(
        f"  {label:<28} {wall:7.1f} s wall  ({meta['frames']} frames, "
        f"{meta['parallel']['jobs']} part(s))  load {load()}",
        flush=True,
    )
    return meta


def psnr(a: Path, b: Path) -> tuple[float, int]:
    """Lowest per-frame PSNR (dB) of ``b`` against ``a``, and the frame count."""
    worst, n = float("inf"), 0
    with av.open(str(a)) as ca, av.open(str(b)) as cb:
        for fa, fb in zip(ca.decode(video=0), cb.decode(video=0), strict=True):
            x = fa.to_ndarray(format="rgb24").astype(np.float64)
            y = fb.to_ndarray(format="rgb24").astype(np.float64)
            mse = float(np.mean((x - y) ** 2))
            worst = min(worst, float("inf") if mse == 0 else 10 * np.log10(255**2 / mse))
            n += 1
    return worst, n


def parts_table(meta: dict) -> None:
    for k, part in enumerate(meta["parallel"]["parts"]):
        print(
            f"    part {k + 1}: beats {part['beats'][0]} .. {part['beats'][1]}, frames "
            f"{part['frames'][0]}-{part['frames'][1]}, {part['seconds']:.1f} s (expected "
            f"{part['expected_seconds']:.1f}), replay {part['replay_seconds']:.1f} s, "
            f"CPU {part['cpu_seconds']:.1f} s, peak {part['peak_rss_mib']:.0f} MiB"
        )


def per_frame(meta: dict) -> tuple[float, float]:
    """Seconds per drawn frame and per beat, from the parts' per-beat times."""
    beats = {b["id"]: b for b in meta["beats"]}
    fps = meta["fps"]
    secs = frames = 0.0
    for part in meta["parallel"]["parts"]:
        for beat_id, s in part["beat_seconds"].items():
            secs += s
            frames += round((beats[beat_id]["end"] - beats[beat_id]["start"]) * fps)
    return secs / frames, secs / len(beats)


def compare(quality: str, work: Path, dask: bool) -> dict:
    print(f"\n{quality}: serial vs -j 2" + (" vs Dask LocalCluster (2 workers)" if dask else ""))
    serial = run(f"serial -q {quality}", work / f"serial-{quality}", "-q", quality, "-j", "1")
    par = run(f"-j 2 -q {quality}", work / f"j2-{quality}", "-q", quality, "-j", "2")
    out = {"serial": serial, "j2": par}
    if dask:
        out["dask"] = run(
            f"--scheduler local -j 2 -q {quality}",
            work / f"dask-{quality}",
            "-q",
            quality,
            "-j",
            "2",
            "--scheduler",
            "local",
        )
    speedup = serial["_wall"] / par["_wall"]
    join = par["parallel"]["join_seconds"]
    print(
        f"  speed-up -j 2: {speedup:.2f}x (goal >= 1.7x); join {join:.3f} s = "
        f"{100 * join / par['_wall']:.2f} % of the render (goal <= 2 %)"
    )
    parts_table(par)
    frame_s, beat_s = per_frame(par)
    print(f"  per drawn frame {1000 * frame_s:.1f} ms, per beat {beat_s:.2f} s (in the parts)")
    if dask:
        d = out["dask"]
        print(
            f"  Dask vs -j 2: {d['_wall']:.1f} s vs {par['_wall']:.1f} s = "
            f"{100 * (d['_wall'] / par['_wall'] - 1):+.1f} % (goal within 10 %)"
        )
    peaks = [p["peak_rss_mib"] for p in par["parallel"]["parts"]]
    print(
        f"  peak RSS: parts {', '.join(f'{p:.0f}' for p in peaks)} MiB; largest process of "
        f"the -j 2 tree {par['_tree_peak_mib']:.0f} MiB; serial {serial['_tree_peak_mib']:.0f} MiB"
    )
    worst, n = psnr(serial["_video"], par["_video"])
    print(f"  joined vs serial (both crf 23): {n} frames each, lowest PSNR {worst:.1f} dB")
    return out


def breakeven(work: Path) -> None:
    print("\nbreak-even of -j 2 at 720p30 (shorter lectures: fewer scenes)")
    for scenes in ("loss", "title,loss", "forward,loss", "title,forward,loss,backward"):
        s = run(
            f"serial {scenes}", work / f"be-s-{scenes}", "-q", "m", "-j", "1", "--scenes", scenes
        )
        p = run(f"-j 2 {scenes}", work / f"be-p-{scenes}", "-q", "m", "-j", "2", "--scenes", scenes)
        seconds = s["duration"]
        print(
            f"  {scenes:<30} {seconds:6.1f} s of video: serial {s['_wall']:.1f} s, "
            f"-j 2 {p['_wall']:.1f} s, ratio {s['_wall'] / p['_wall']:.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-1080", action="store_true", help="720p30 only")
    parser.add_argument("--no-breakeven", action="store_true")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out" / "parallel")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {load()}; cores: {len(os.sched_getaffinity(0))}")
    run("warm-up (caches) -q l", args.work / "warm", "-q", "l", "-j", "1")
    compare("m", args.work, dask=True)
    if not args.skip_1080:
        compare("h", args.work, dask=False)
    if not args.no_breakeven:
        breakeven(args.work)
    print(f"\nload average at end: {load()}")


if __name__ == "__main__":
    main()
