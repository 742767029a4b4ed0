"""One lecture on two cores: serial vs ``render -j 2`` vs a Dask LocalCluster of 2 workers.

Prints, in one run, and then one table of every figure (ratios are taken within the run,
so load from other programs hits both sides alike; the load average is printed with
every render):

- serial vs ``-j 2`` for the standard textbook lecture (narrated with Piper at the
  standard level) at 720p30 and 1080p60 (issue 16's goal: at least 1.7x on 2 cores);
- ``--scheduler local -j 2`` (a Dask LocalCluster of 2 workers) vs ``-j 2`` at 720p30
  (goal: within 10 %);
- the cost of joining the parts (remux, no re-encode) against the whole render (goal:
  at most 2 %);
- peak resident memory of every process at 1080p (goal: under 1 GiB each): the parts
  and the parent report their own (``VmHWM``), the serial render is measured by
  ``wait4``;
- the joined video against the serial one: both lossy (libx264 crf 23), every beat its
  own encode, so the packets and every decoded frame should be the same;
- what encoding every beat with a fresh encoder costs against one encoder for the whole
  lecture (a keyframe forced at each beat start, as before): the serial 720p30 video's
  frames encoded again both ways, file size and encode time;
- the break-even of ``-j auto``: serial vs ``-j 2`` for growing lectures (fewer or more
  scenes) at 720p30, beside the cost model's expected gain for each (what ``-j auto``
  decides on), and the model's break-even length.

Everything is written under one folder in /tmp (renders, logs and the caches: the run
trains, synthesizes and typesets once, in a warm-up render, and never touches
~/.cache), removed at the end unless ``--keep``. Every render runs as
``backprop-anim render ... --force`` in a fresh process.

Run:  .venv/bin/python benchmarks/parallel_bench.py            (the full run)
      .venv/bin/python benchmarks/parallel_bench.py --quick    (480p15, a short lecture and
                                                                the break-even at 480p15:
                                                                a sanity check under load)
      [--only 720,1080,encode,breakeven] [--keep]   (encode needs 720: it re-encodes that
                                                     serial video)
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TEXTBOOK = ROOT / "configs" / "textbook-2-2-2.yaml"
CLI = [sys.executable, "-m", "backprop_anim.cli", "render", str(TEXTBOOK)]
QUICK_SCENES = "title,forward,loss"  # within BREAKEVEN_SCENES[-1], which warms the caches
# Growing lectures for the break-even (the full lecture is the longest point).
BREAKEVEN_SCENES = ("loss", "title,loss", "forward,loss", "title,forward,loss,backward")
TABLE: list[tuple[str, str, str]] = []  # (figure, measured, goal)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def row(figure: str, measured: str, goal: str = "") -> None:
    TABLE.append((figure, measured, goal))


def run(label: str, out: Path, env: dict[str, str], *args: str) -> dict:
    """One render in a fresh process; its render.json plus wall time and peak RSS."""
    log = out.parent / f"{out.name}.log"
    start = time.perf_counter()
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [*CLI, "--force", "-o", str(out), *args],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            env=env,
        )
        # wait4: this child's resources (its own peak, or that of a waited-for child
        # if larger: the largest process of the render).
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label}: render failed:\n{log.read_text()[-2000:]}")
    meta = json.loads((out / "render.json").read_text())
    meta["_wall"] = wall
    meta["_tree_peak_mib"] = usage.ru_maxrss / 1024
    meta["_video"] = out / meta["video"]
    print(
        f"  {label:<34} {wall:7.1f} s wall  ({meta['frames']} frames, "
        f"{meta['parallel']['jobs']} part(s))  load {load()}",
        flush=True,
    )
    return meta


def packets(path: Path) -> list[tuple[int, int, bytes]]:
    """Video packets (pts, dts, bytes), past libx264's settings string (it names the
    thread count, which may differ between machines without changing a frame)."""
    with av.open(str(path)) as container:
        return [
            (p.pts, p.dts, bytes(p).replace(b"threads=", b""))
            for p in container.demux(video=0)
            if p.size
        ]


def compare_frames(a: Path, b: Path) -> tuple[int, int, float]:
    """(frames, frames differing, lowest PSNR in dB) of ``b`` against ``a``."""
    worst, n, differ = math.inf, 0, 0
    with av.open(str(a)) as ca, av.open(str(b)) as cb:
        for fa, fb in zip(ca.decode(video=0), cb.decode(video=0), strict=True):
            x = fa.to_ndarray(format="rgb24")
            y = fb.to_ndarray(format="rgb24")
            n += 1
            if not np.array_equal(x, y):
                differ += 1
                mse = float(np.mean((x.astype(np.float64) - y) ** 2))
                worst = min(worst, 10 * math.log10(255**2 / mse))
    return n, differ, worst


def parts_table(meta: dict) -> None:
    par = meta["parallel"]
    for k, part in enumerate(par["parts"]):
        print(
            f"    part {k + 1}: beats {part['beats'][0]} .. {part['beats'][1]}, frames "
            f"{part['frames'][0]}-{part['frames'][1]}, {part['seconds']:.1f} s (expected "
            f"{part['expected_seconds']:.1f}), replay {part['replay_seconds']:.1f} s, "
            f"CPU {part['cpu_seconds']:.1f} s, peak {part['peak_rss_mib']:.0f} MiB"
        )
    print(f"    parent: peak {par['parent_peak_rss_mib']:.0f} MiB")


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


def compare(quality: str, label: str, work: Path, env, extra: list[str], dask: bool) -> dict:
    print(f"\n{label}: serial vs -j 2" + (" vs Dask LocalCluster (2 workers)" if dask else ""))
    args = ["-q", quality, *extra]
    serial = run(f"serial {label}", work / f"serial-{quality}", env, *args, "-j", "1")
    par = run(f"-j 2 {label}", work / f"j2-{quality}", env, *args, "-j", "2")
    out = {"serial": serial, "j2": par}
    speedup = serial["_wall"] / par["_wall"]
    join = par["parallel"]["join_seconds"]
    print(f"  speed-up -j 2: {speedup:.2f}x; join {join:.3f} s = {100 * join / par['_wall']:.2f} %")
    row(
        f"{label} serial / -j 2 (wall)",
        f"{serial['_wall']:.1f} s / {par['_wall']:.1f} s = **{speedup:.2f}x**",
        ">= 1.7x",
    )
    row(
        f"{label} join (remux)",
        f"{join:.3f} s = {100 * join / par['_wall']:.2f} % of the render",
        "<= 2 %",
    )
    parts_table(par)
    frame_s, beat_s = per_frame(par)
    print(f"  per drawn frame {1000 * frame_s:.1f} ms, per beat {beat_s:.2f} s (in the parts)")
    row(f"{label} per drawn frame, per beat (parts)", f"{1000 * frame_s:.1f} ms, {beat_s:.2f} s")
    if dask:
        d = run(
            f"--scheduler local -j 2 {label}",
            work / f"dask-{quality}",
            env,
            *args,
            "-j",
            "2",
            "--scheduler",
            "local",
        )
        out["dask"] = d
        diff = 100 * (d["_wall"] / par["_wall"] - 1)
        print(f"  Dask vs -j 2: {d['_wall']:.1f} s vs {par['_wall']:.1f} s = {diff:+.1f} %")
        row(
            f"{label} Dask LocalCluster(2) vs -j 2",
            f"{d['_wall']:.1f} s vs {par['_wall']:.1f} s = {diff:+.1f} %",
            "within 10 %",
        )
    peaks = [p["peak_rss_mib"] for p in par["parallel"]["parts"]]
    parent = par["parallel"]["parent_peak_rss_mib"]
    print(
        f"  peak RSS: parts {', '.join(f'{p:.0f}' for p in peaks)} MiB, parent {parent:.0f} "
        f"MiB; serial render {serial['_tree_peak_mib']:.0f} MiB"
    )
    row(
        f"{label} peak RSS per process",
        f"parts {', '.join(f'{p:.0f}' for p in peaks)} MiB, "
        f"parent {parent:.0f} MiB, serial {serial['_tree_peak_mib']:.0f} MiB",
        "< 1024 MiB",
    )
    same = packets(serial["_video"]) == packets(par["_video"])
    n, differ, worst = compare_frames(serial["_video"], par["_video"])
    said = f"{n} frames, {differ} differ" + (f", lowest PSNR {worst:.1f} dB" if differ else "")
    print(f"  joined vs serial (both crf 23): same packets: {same}; {said}")
    row(f"{label} joined vs serial (crf 23)", f"same packets: {same}; {said}", "equal (>= 50 dB)")
    return out


def encode_cost(video: Path, beats: list[dict], fps: int) -> None:
    """The serial video's frames encoded again: one encoder (keyframe forced at each beat
    start, as before) vs a fresh encoder per beat (what renders do now)."""
    from manim import config

    from backprop_anim.publish.remux import join
    from backprop_anim.visual import renderer

    starts = frozenset(round(b["start"] * fps) for b in beats)

    class OneEncoder(renderer._HeldFrameEncoder):
        def _next_segment(self) -> None:  # keep the encoder: a forced keyframe only
            pass

    from manim._config.video_encoder import VideoEncoderSpec

    with av.open(str(video)) as c:
        s = c.streams.video[0]
        width, height = s.codec_context.width, s.codec_context.height
    # Manim's settings for an mp4 (libx264, crf 23, yuv420p), as renders use them.
    spec = VideoEncoderSpec(
        container_format="mp4",
        codec="libx264",
        pixel_format="yuv420p",
        width=width,
        height=height,
        frame_rate=Fraction(fps),
        options=tuple(config.video_encoder_options.items()) or (("crf", "23"),),
    )

    def frames():
        with av.open(str(video)) as c:
            for f in c.decode(video=0):
                yield np.ascontiguousarray(f.to_ndarray(format="rgba"))

    def timed(make) -> tuple[float, float, int]:
        w0, c0 = time.perf_counter(), time.process_time()
        size = make()
        return time.perf_counter() - w0, time.process_time() - c0, size

    def decode_only() -> int:
        for _ in frames():
            pass
        return 0

    with tempfile.TemporaryDirectory(dir=video.parent) as tmp:
        tmp = Path(tmp)

        def whole(kind) -> int:
            enc = kind(target=tmp / "x.mp4", spec=spec, keyframes=starts)
            for f in frames():
                enc.write_frame(f)
            enc.finish()
            out = tmp / "joined.mp4"
            if len(enc.segments) > 1:
                join(enc.segments, out)  # as StreamingFileWriter.finish does
            else:
                enc.segments[0].rename(out)
            for p in enc.segments:
                p.unlink(missing_ok=True)
            size = out.stat().st_size
            out.unlink()
            return size

        # Alternated, twice each, the faster of each kept: load from other programs
        # then hits both alike.
        dw, dc, _ = min(timed(decode_only) for _ in range(2))
        runs: dict[str, list[tuple[float, float, int]]] = {"one": [], "beat": []}
        for _ in range(2):
            runs["one"].append(timed(lambda: whole(OneEncoder)))
            runs["beat"].append(timed(lambda: whole(renderer._HeldFrameEncoder)))
        ow, oc, osize = min(runs["one"])
        bw, bc, bsize = min(runs["beat"])
    ow, oc, bw, bc = ow - dw, oc - dc, bw - dw, bc - dc
    print(
        f"\nencoder arrangement, {len(beats)} beats at {height}p{fps} (decoding not counted, "
        "best of 2 alternated runs):\n"
        f"  one encoder, keyframe at each beat: {osize / 2**20:7.2f} MiB, {ow:6.1f} s wall, "
        f"{oc:6.1f} s CPU\n"
        f"  fresh encoder per beat (now):       {bsize / 2**20:7.2f} MiB, {bw:6.1f} s wall, "
        f"{bc:6.1f} s CPU\n"
        f"  cost: size {100 * (bsize / osize - 1):+.2f} %, wall {100 * (bw / ow - 1):+.1f} %, "
        f"CPU {100 * (bc / oc - 1):+.1f} %  (load {load()})"
    )
    row(
        f"fresh encoder per beat vs one encoder ({height}p{fps}, {len(beats)} beats)",
        f"size {osize / 2**20:.2f} -> {bsize / 2**20:.2f} MiB ({100 * (bsize / osize - 1):+.2f} %),"
        f" encode {ow:.1f} -> {bw:.1f} s wall ({100 * (bw / ow - 1):+.1f} %), CPU "
        f"{100 * (bc / oc - 1):+.1f} %",
    )


def timed_of(meta: dict) -> list:
    """A render's beats (render.json) as the cost model takes them."""
    from backprop_anim.storyboard import Beat
    from backprop_anim.timeline import TimedBeat

    fps = meta["fps"]
    return [
        TimedBeat(
            Beat(b["id"], b["scene"], "loss"),
            round(b["start"] * fps),
            round((b["end"] - b["start"]) * fps),
            0.0,
        )
        for b in meta["beats"]
    ]


def idle_model_gain(meta: dict, cores: int = 2) -> float:
    """The cost model's serial / -j 2 for this render's lecture on ``cores`` idle cores."""
    from backprop_anim.options import RenderOptions
    from backprop_anim.parallel import expected_wall

    timed = timed_of(meta)
    options = RenderOptions(quality=meta["options"]["quality"])
    serial, _ = expected_wall(timed, 1, options, free=cores)
    split, _ = expected_wall(timed, 2, options, free=cores)
    return serial / split


def model_breakeven(meta: dict, cores: int = 2) -> None:
    """The cost model's gain of -j 2 (idle machine) for the lecture's first k beats."""
    from backprop_anim.options import RenderOptions
    from backprop_anim.parallel import AUTO_GAIN, expected_wall

    fps = meta["fps"]
    quality = meta["options"]["quality"]
    timed = timed_of(meta)
    options = RenderOptions(quality=quality)
    first = None
    for k in range(2, len(timed) + 1):
        serial, _ = expected_wall(timed[:k], 1, options, free=cores)
        split, _ = expected_wall(timed[:k], 2, options, free=cores)
        if first is None and serial >= AUTO_GAIN * split:
            first = (k, timed[k - 1].end(fps), serial / split)
    serial, _ = expected_wall(timed, 1, options, free=cores)
    split, _ = expected_wall(timed, 2, options, free=cores)
    said = (
        f"from {first[1]:.0f} s of video ({first[0]} beats, expected {first[2]:.2f}x)"
        if first
        else "never, for this lecture"
    )
    print(
        f"  model (2 idle cores, {quality}): -j auto splits {said}; whole lecture "
        f"expected {serial / split:.2f}x"
    )
    row(f"model: -j auto splits at -q {quality} on 2 idle cores", said)


def breakeven(work: Path, env, quality: str) -> None:
    print(f"\nbreak-even of -j 2 at -q {quality} (shorter lectures: fewer scenes)")
    points = []
    for scenes in BREAKEVEN_SCENES:
        args = ["-q", quality, "--scenes", scenes]
        s = run(f"serial {scenes}", work / f"be-s-{scenes}", env, *args, "-j", "1")
        p = run(f"-j 2 {scenes}", work / f"be-p-{scenes}", env, *args, "-j", "2")
        ratio = s["_wall"] / p["_wall"]
        auto = s["parallel"].get("auto", {})
        model = idle_model_gain(s)
        points.append((s["duration"], ratio))
        print(
            f"  {scenes:<30} {s['duration']:6.1f} s of video: serial {s['_wall']:.1f} s, "
            f"-j 2 {p['_wall']:.1f} s, {ratio:.2f}x; model on 2 idle cores {model:.2f}x "
            f"(-j auto chose {auto.get('jobs')} here, other programs' load "
            f"{auto.get('others_load')})"
        )
        row(
            f"break-even: {s['duration']:.0f} s lecture ({scenes})",
            f"serial {s['_wall']:.1f} s, -j 2 {p['_wall']:.1f} s: {ratio:.2f}x "
            f"(model, idle: {model:.2f}x)",
        )
    points.sort()
    cross = next(
        (
            a[0] + (1 - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            for a, b in itertools.pairwise(points)
            if a[1] < 1 <= b[1]
        ),
        None,
    )
    if cross is not None:
        print(f"  measured: -j 2 starts to pay at about {cross:.0f} s of video")
        row("measured break-even of -j 2", f"about {cross:.0f} s of video")
    elif points and points[0][1] >= 1:
        row("measured break-even of -j 2", f"below {points[0][0]:.0f} s (pays at every length)")
    else:
        row("measured break-even of -j 2", "not reached in these lectures")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"480p15, scenes {QUICK_SCENES}: a sanity check under load",
    )
    parser.add_argument(
        "--only",
        default="720,1080,encode,breakeven",
        help="comma-separated parts of the full run (default: all)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder in /tmp")
    args = parser.parse_args()
    only = set(args.only.split(","))
    work = Path(tempfile.mkdtemp(prefix="parallel-bench-", dir="/tmp"))
    env = {**os.environ, "BACKPROP_ANIM_CACHE": str(work / "cache")}
    os.environ["BACKPROP_ANIM_CACHE"] = env["BACKPROP_ANIM_CACHE"]
    start_load = load()
    print(
        f"load average at start: {start_load}; cores: {len(os.sched_getaffinity(0))}; "
        f"work folder {work}",
        flush=True,
    )
    t0 = time.perf_counter()

    def section(name: str, body) -> None:
        """One part of the run; a failure is reported and the run goes on to the table."""
        try:
            body()
        except (Exception, SystemExit) as exc:
            print(f"\n{name} FAILED: {exc}", flush=True)
            row(f"{name}", f"FAILED: {str(exc).splitlines()[0] if str(exc) else exc!r}")

    def at(quality: str, label: str, extra: list[str], dask: bool, encode: bool) -> None:
        r = compare(quality, label, work, env, extra, dask=dask)
        if encode:
            encode_cost(r["serial"]["_video"], r["serial"]["beats"], r["serial"]["fps"])
        model_breakeven(r["serial"])

    try:
        # Every scene the run renders, so that no timed render synthesizes speech.
        scenes = ["--scenes", BREAKEVEN_SCENES[-1]] if args.quick else []
        warm = ["-q", "l", "-j", "1", *scenes]
        run("warm-up (caches) -q l", work / "warm", env, *warm)
        if args.quick:
            quick = ["--scenes", QUICK_SCENES]
            section("480p15 (quick)", lambda: at("l", "480p15 (quick)", quick, True, True))
            section("break-even 480p15", lambda: breakeven(work, env, "l"))
        else:
            if "720" in only:
                encode = "encode" in only
                section("720p30", lambda: at("m", "720p30", [], True, encode))
            if "1080" in only:
                section("1080p60", lambda: at("h", "1080p60", [], False, False))
            if "breakeven" in only:
                section("break-even 720p30", lambda: breakeven(work, env, "m"))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        print(
            f"\nload average at start {start_load}, at end {load()}; "
            f"{(time.perf_counter() - t0) / 60:.1f} min"
        )
        print("\n| figure | measured | goal |\n|---|---|---|")
        for figure, measured, goal in TABLE:
            print(f"| {figure} | {measured} | {goal} |")


if __name__ == "__main__":
    main()
