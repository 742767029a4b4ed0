"""How tightly the picture follows the words: figures from render.json's "sync" list.

Run: .venv/bin/python benchmarks/sync_bench.py [--configs textbook-2-2-2,xor]
         [--levels brief,standard] [--voice piper] [--quality l]
         [--against /tmp/old-tree] [--keep renders/sync-bench] [--json rows.jsonl]

Renders each lecture of configs/ (or the ones named) at each level with the voice, and
prints per render and over all of them: the worst and median |shown start - spoken
start| over the sentences that start a part (and over marked words), how many parts
start before their words (the goal is none), the longest silence inside a beat (the goal
is at most 1.5 s), and the render time per second of video. Renders are made with
``use_cache=False`` (the voice clips are cached; Manim runs every time). Goals from
issue 11: worst <= 0.3 s, no part before its sentence, no silence > 1.5 s.

``--against DIR``: a source tree of an earlier version (``git archive <commit> | tar -x
-C DIR``); each lecture is then also rendered by that code, in a fresh process with
``PYTHONPATH=DIR``, right after this one (same voice clips, same machine, same minute),
and the ratio of render times is printed: the goal is at most 1.2x. The machine's load
changes during a run: compare ratios, not seconds (each row prints the load average when
it ends), and the CPU seconds (this process and its threads; the earlier code's process)
beside the wall seconds: they move much less with the load. ``--json FILE`` appends
each row's figures (sentences, marks, offsets, early,
silence, render seconds now and before, load) as one JSON line, for the README's table.
``--against-drop data.image``: the earlier code renders the config without that key.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backprop_anim.narrate import plan_narration
from backprop_anim.options import RenderOptions
from backprop_anim.render import obtain_trace, render
from backprop_anim.storyboard import build_storyboard

ROOT = Path(__file__).resolve().parents[1]


def figures(meta: dict) -> dict:
    """Offsets between shown and spoken starts, and the longest silence inside a beat."""
    offsets: list[float] = []
    early = 0
    for entry in meta["sync"]:
        pairs = [(m["shown"], m["spoken"]) for m in entry["marks"]]
        if entry["shown"] is not None and not entry["marks"]:
            pairs.append((entry["shown"][0], entry["spoken"][0]))
        for shown, spoken in pairs:
            offsets.append(shown - spoken)
            early += shown < spoken - 1e-6
    silence = 0.0
    for beat in meta["beats"]:
        spans = sorted(tuple(e["spoken"]) for e in meta["sync"] if e["beat"] == beat["id"])
        if not spans:
            continue
        edges = [beat["start"], *(t for s in spans for t in s), beat["end"]]
        gaps = [edges[k + 1] - edges[k] for k in range(0, len(edges), 2)]
        # A pause put before a marked word inside a sentence is a silence of its own.
        inside = [
            p["seconds"]
            for p in meta.get("pauses", [])
            if p["beat"] == beat["id"] and any(a < p["at"] < b for a, b in spans)
        ]
        silence = max(silence, *gaps, *inside)
    return {"offsets": offsets, "early": early, "silence": silence}


OLD_RENDER = """
import sys, time
from pathlib import Path
from backprop_anim.narrate import plan_narration
from backprop_anim.options import RenderOptions
from backprop_anim.render import obtain_trace, render
from backprop_anim.storyboard import build_storyboard
config, level, voice, quality, out = sys.argv[1:6]
options = RenderOptions(voice=voice, quality=quality, use_cache=False)
overrides = (f"narration.level={level}",)
# That code's own words (they differ from today's) are synthesized first, untimed, as
# today's are: otherwise the earlier code pays Piper for every sentence (105-132 s of
# a 420-460 s render under load) and the ratio flatters today's code.
trace = obtain_trace(Path(config), overrides)
plan_narration(trace, build_storyboard(trace, options), options)
import resource
def cpu():
    return sum(
        u.ru_utime + u.ru_stime
        for u in (resource.getrusage(resource.RUSAGE_SELF),
                  resource.getrusage(resource.RUSAGE_CHILDREN))
    )
t0, c0 = time.perf_counter(), cpu()
render(Path(config), options, overrides=overrides, output_dir=Path(out))
print(time.perf_counter() - t0, cpu() - c0)
"""


def cpu_seconds() -> float:
    """CPU seconds of this process, its threads and its finished children: what a render
    costs, much less swayed than its wall time by the other programs on the machine."""
    return sum(
        u.ru_utime + u.ru_stime
        for u in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )


def render_with(tree: Path, config: Path, level: str, args, out: Path) -> tuple[float, float]:
    """Render time of ``config`` by the code in ``tree`` (a fresh process): wall and CPU
    seconds."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", OLD_RENDER, str(config), level, args.voice, args.quality, str(out)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu = done.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def without(config: Path, keys: str, tmp: Path) -> Path:
    """``config``, or a copy of it in ``tmp`` without the dotted ``keys`` it has (a field
    added since the earlier code, which refuses unknown keys: the digits lecture's
    ``data.image``, drawn by issue 11's code only). The lectures read no files beside
    their config, so the copy renders the same data."""
    import yaml

    doc = yaml.safe_load(config.read_text())
    dropped = False
    for key in filter(None, keys.split(",")):
        *path, last = key.split(".")
        node = doc
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and last in node:
            del node[last]
            dropped = True
    if not dropped:
        return config
    copy = tmp / f"without-{config.name}"
    copy.write_text(yaml.safe_dump(doc, sort_keys=False))
    return copy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--configs", default="", help="comma-separated names (default: all)")
    parser.add_argument("--levels", default="brief,standard")
    parser.add_argument("--voice", default="piper")
    parser.add_argument("--quality", default="l")
    parser.add_argument("--against", default="", help="source tree of the code to compare")
    parser.add_argument("--keep", default="", help="keep the renders in this folder")
    parser.add_argument("--json", default="", help="append one JSON line per render here")
    parser.add_argument(
        "--against-drop",
        default="",
        help="comma-separated dotted keys the earlier code does not know (e.g. data.image): "
        "it renders a copy of the config without them",
    )
    args = parser.parse_args()
    names = [n for n in args.configs.split(",") if n] or sorted(
        p.stem for p in (ROOT / "configs").glob("*.yaml")
    )
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    every: list[float] = []
    ratios: list[float] = []
    worst_silence, early_total = 0.0, 0
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        where = Path(args.keep) if args.keep else Path(tmp)
        for name in names:
            for level in args.levels.split(","):
                options = RenderOptions(voice=args.voice, quality=args.quality, use_cache=False)
                config = ROOT / "configs" / f"{name}.yaml"
                overrides = (f"narration.level={level}",)
                # The voice clips first (cached), so neither timed render pays for them.
                trace = obtain_trace(config, overrides)
                plan_narration(trace, build_storyboard(trace, options), options)
                t0, c0 = time.perf_counter(), cpu_seconds()
                result = render(
                    config,
                    options,
                    overrides=(f"narration.level={level}",),
                    output_dir=where / f"{name}-{level}",
                )
                seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
                against = ""
                old: float | None = None
                old_cpu: float | None = None
                if args.against:
                    try:
                        took = render_with(
                            Path(args.against),
                            without(config, args.against_drop, Path(tmp)),
                            level,
                            args,
                            Path(tmp) / f"old-{name}",
                        )
                    except subprocess.CalledProcessError as exc:  # e.g. a newer config field
                        reason = (exc.stderr or "").strip().splitlines()[-1:] or ["?"]
                        against = f" | earlier code failed: {reason[0][:60]}"
                    else:
                        old, old_cpu = took
                        ratios.append(seconds / old)
                        against = (
                            f" | earlier code {old:6.1f} s: x{seconds / old:.2f}; CPU {cpu:6.1f} "
                            f"s against {old_cpu:6.1f} s: x{cpu / old_cpu:.2f}"
                        )
                meta = json.loads((result.output_dir / "render.json").read_text())
                f = figures(meta)
                offsets = [abs(o) for o in f["offsets"]]
                every += offsets
                worst_silence = max(worst_silence, f["silence"])
                early_total += f["early"]
                marks = sum(len(e["marks"]) for e in meta["sync"])
                load = os.getloadavg()[0]
                if args.json:
                    row = {
                        "lecture": name,
                        "level": level,
                        "sentences": len(meta["sync"]),
                        "marks": marks,
                        "worst": max(offsets, default=0.0),
                        "median": statistics.median(offsets) if offsets else 0.0,
                        "early": f["early"],
                        "silence": f["silence"],
                        "render": seconds,
                        "video": result.duration,
                        "before": old,
                        "cpu": cpu,
                        "cpu_before": old_cpu,
                        "load": load,
                    }
                    with open(args.json, "a") as out:
                        out.write(json.dumps(row) + "\n")
                print(
                    f"{name:22s} {level:8s} sentences {len(meta['sync']):3d} marks {marks:3d} | "
                    f"|shown - spoken| worst {max(offsets, default=0):.3f} s, median "
                    f"{statistics.median(offsets) if offsets else 0:.3f} s | early "
                    f"{f['early']} | longest silence {f['silence']:.2f} s | render "
                    f"{seconds:6.1f} s for {result.duration:6.1f} s of video "
                    f"({seconds / result.duration:.2f} s per s){against} | load {load:.2f}"
                )
    if every:
        print(
            f"all: worst {max(every):.3f} s, median {statistics.median(every):.3f} s over "
            f"{len(every)} cues; parts before their words: {early_total}; longest silence "
            f"inside a beat {worst_silence:.2f} s; load average {os.getloadavg()[0]:.2f}"
        )
    if ratios:
        print(
            f"render time against the earlier code: median x{statistics.median(ratios):.2f}, "
            f"worst x{max(ratios):.2f} over {len(ratios)} renders"
        )


if __name__ == "__main__":
    main()
