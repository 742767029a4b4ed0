"""Narration figures for the textbook lecture: synthesis speed, cache hits, track building.

Run: .venv/bin/python benchmarks/narration_bench.py [--level standard]
Prints, per voice: the model load time, the cold synthesis time and the real-time factor
(synthesis seconds per second of speech), the time for the same lecture from the cache,
the cache size; then the time to mix and normalize the narration track.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from backprop_anim import load_config, train
from backprop_anim.narration import build_script, mix_track
from backprop_anim.narration import voice as voice_module
from backprop_anim.options import SCENES, RenderOptions
from backprop_anim.storyboard import build_storyboard

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--level", default="standard")
    args = parser.parse_args()
    trace = train(load_config(ROOT / "configs" / "textbook-2-2-2.yaml"))
    beats = build_storyboard(trace, RenderOptions(scenes=SCENES))
    lines = build_script(trace, beats, level=args.level)
    words = sum(len(line.text.split()) for line in lines)
    print(f"textbook lecture, level {args.level}: {len(lines)} beats, {words} words")

    names = ["espeak"] + (["piper"] if voice_module.piper_available() else [])
    for name in names:
        with tempfile.TemporaryDirectory() as cache:
            make = {"piper": voice_module.PiperTTS, "espeak": voice_module.EspeakNG}[name]
            load = 0.0
            if name == "piper":
                t0 = time.perf_counter()
                voice_module._load_piper()
                load = time.perf_counter() - t0
            t0 = time.perf_counter()
            clips = [make(Path(cache)).synthesize(line.text) for line in lines]
            cold = time.perf_counter() - t0
            speech = sum(c.seconds for c in clips)
            t0 = time.perf_counter()
            again = [make(Path(cache)).synthesize(line.text) for line in lines]
            warm = time.perf_counter() - t0
            assert all(c.cached for c in again)
            size = sum(p.stat().st_size for p in Path(cache).rglob("*.wav"))
            print(
                f"{name:7s} load {load:5.2f} s | cold {cold:6.2f} s for {speech:6.1f} s of "
                f"speech (real-time factor {cold / speech:.3f}, {words / speech * 60:.0f} words "
                f"per minute) | cached {warm * 1000:6.1f} ms ({warm / len(lines) * 1000:.2f} ms "
                f"a beat) | cache {size / 1e6:5.1f} MB"
            )
            t, placements = 0.0, []
            for clip in clips:
                placements.append((t, clip))
                t += clip.seconds + 0.6
            t0 = time.perf_counter()
            track = mix_track(placements, t, path=Path(cache) / "track.wav")
            mixed = time.perf_counter() - t0
            print(
                f"{'':7s} mix + normalize {len(clips)} clips into {t:.1f} s at 48 kHz: "
                f"{mixed:.2f} s, track {track.stat().st_size / 1e6:.1f} MB"
            )


if __name__ == "__main__":
    main()
