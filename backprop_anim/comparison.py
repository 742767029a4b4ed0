"""The comparison video: several trained networks side by side, a render job of its own.

What a lecturer shows right after a sweep. One plot holds every compared network's
loss curve over the training steps, drawn one at a time while the narration says how
it behaved ("with a learning rate of 5, the loss jumps around: from 0.2984 to 0.1277
after 10 steps"); then a grid of the final networks (edge colour = sign of the weight,
width = its size); then the verdict. Every number comes from the traces, rounded by
:func:`backprop_anim.numbers.fmt` on screen and :func:`~backprop_anim.numbers.spoken`
in speech. The words describing a curve (falls steadily, drops then stays flat, jumps
around, grows) are read off the same loss values.

The curve is the loss on the data set at the trace's parameter snapshots (the
network before training, then every few steps, and after the last step), not the
loss of each step's mini-batch: with one sample per step that changes with the
sample drawn, which would make every curve look as if it jumped around.

:func:`render_comparison` is a render job beside the lecture's (``render.render``):
it runs Manim through the same function (``render.run_scene``), with the same settings,
renderer and encoder. ``batch`` only decides which variants are compared and schedules
the job (:mod:`backprop_anim.batch.compare`).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UserError
from .numbers import fmt, spoken
from .options import RenderOptions
from .storyboard import Beat
from .timeline import TimedBeat, beat_frames
from .trace.model import NetworkInfo, Trace

# Natural length of each comparison beat at pace 1 (speech may lengthen a beat).
COMPARE_SECONDS: dict[str, float] = {
    "compare_title": 4.0,
    "compare_curve": 3.0,
    "compare_networks": 5.0,
    "compare_verdict": 4.0,
}
MAX_COMPARED = 12  # curves and networks that still read on one screen
STEADY_RISES = 0.2  # more than this share of steps going up: the loss "jumps around"
STALL_SHARE = 0.05  # after the first quarter of the steps, less of the fall than this: "flat"


@dataclass(frozen=True)
class Compared:
    """One finished variant, as the comparison shows it."""

    name: str
    overrides: dict[str, Any]
    trace: Trace

    @property
    def curve(self) -> list[tuple[int, float]]:
        """(steps done, loss on the data set) at every snapshot, from the untrained net on."""
        return [(s.step, s.loss) for s in self.trace.summary.snapshots]

    @property
    def losses(self) -> list[float]:
        return [loss for _, loss in self.curve]

    @property
    def steps(self) -> int:
        """Training steps done when the last snapshot was taken."""
        return self.trace.summary.snapshots[-1].step

    @property
    def network(self) -> NetworkInfo:
        return self.trace.network

    @property
    def final_weights(self) -> list[np.ndarray]:
        """The weights after the last step (the trace's last snapshot)."""
        return self.trace.summary.snapshots[-1].W

    @property
    def first_loss(self) -> float:
        return self.losses[0]

    @property
    def final_loss(self) -> float:
        return self.losses[-1]


@dataclass(frozen=True)
class Comparison:
    batch: str
    title: str
    variants: list[Compared]
    left_out: list[tuple[str, str]]  # (name, why): failed or beyond MAX_COMPARED
    lines: dict[str, str]  # beat id -> what the narration says
    beats: list[Beat]


def behaviour(losses: list[float]) -> str:
    """How a loss curve behaved, in words a lecturer would use."""
    if len(losses) < 2:
        return "the loss is measured once"
    first, last = losses[0], losses[-1]
    rises = sum(b > a for a, b in itertools.pairwise(losses))
    if last > first:
        return "the loss grows"
    if rises > STEADY_RISES * (len(losses) - 1):
        return "the loss jumps around"
    if abs(last - first) <= 0.05 * abs(first):
        return "the loss barely moves"
    # Most of the fall in the first steps, then (almost) nothing: a learning rate so
    # large that one step lands in a flat, saturated region says so, not "steadily".
    early = losses[max(1, len(losses) // 4)]
    late_fall = early - last
    if len(losses) >= 4 and late_fall <= STALL_SHARE * (first - last):
        return "the loss drops at first, then stays flat"
    return "the loss falls steadily"


def _value(value: Any, say: bool) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value).replace("_", " ") if say else str(value)
    return spoken(value) if say else fmt(value)


def describe(overrides: dict[str, Any], network: NetworkInfo, *, say: bool = True) -> str:
    """What a variant changes, as a phrase: "a learning rate of 5 and tanh in layer hidden"."""
    parts = []
    for path, value in overrides.items():
        keys = path.split(".")
        text = _value(value, say)
        if path == "training.optimizer.learning_rate":
            parts.append(f"a learning rate of {text}")
        elif keys[:2] == ["network", "layers"] and keys[-1] == "activation" and len(keys) == 4:
            index = int(keys[2])
            layer = (
                network.layer_names[index]
                if -len(network.layer_names) <= index < len(network.layer_names)
                else keys[2]
            )
            parts.append(f"a {text} activation in layer {layer}")
        elif path == "training.optimizer.name":
            parts.append(f"the {text} optimizer")
        elif path == "training.steps":
            parts.append(f"{text} training steps")
        elif path == "training.loss":
            parts.append(f"the {text} loss")
        else:
            parts.append(f"{keys[-1].replace('_', ' ')} {text}")
    return " and ".join(parts) if parts else "the base settings"


def script_comparison(
    name: str, compared: list[Compared], left_out: list[tuple[str, str]]
) -> Comparison:
    """The comparison's beats and what the narration says in each."""
    if len(compared) < 2:
        raise UserError(
            f"--compare needs at least two finished variants; this batch has {len(compared)}"
        )
    lines: dict[str, str] = {}
    beats: list[Beat] = [Beat("compare.title", "compare", "compare_title")]
    lines["compare.title"] = (
        f"Here are {len(compared)} versions of the same lecture network, trained side by side. "
        "Watch how their loss on the data set changes over the training steps."
    )
    for k, v in enumerate(compared):
        beat_id = f"compare.curve.{v.name}"
        beats.append(Beat(beat_id, "compare", "compare_curve", unit=k))
        lines[beat_id] = (
            f"With {describe(v.overrides, v.network)}, {behaviour(v.losses)}: "
            f"from {spoken(v.first_loss)} to {spoken(v.final_loss)} "
            f"after {v.steps} step{'s' if v.steps != 1 else ''}."
        )
    beats.append(Beat("compare.networks", "compare", "compare_networks"))
    lines["compare.networks"] = (
        "These are their networks after training. Blue edges are positive weights, orange "
        "ones negative, and a thicker edge is a larger weight."
    )
    best = min(compared, key=lambda v: v.final_loss)
    beats.append(Beat("compare.verdict", "compare", "compare_verdict"))
    lines["compare.verdict"] = (
        f"The lowest final loss, {spoken(best.final_loss)}, comes with "
        f"{describe(best.overrides, best.network)}."
    )
    return Comparison(
        batch=name,
        title=f"{name}: {len(compared)} variants compared",
        variants=compared,
        left_out=left_out,
        lines=lines,
        beats=beats,
    )


def render_comparison(
    comparison: Comparison,
    options: RenderOptions,
    output_dir: Path,
    on_phase=lambda phase, done, total: None,
) -> dict[str, Any]:
    """Render the comparison video into ``output_dir`` (created; in this process).

    Returns what the batch records: the video's name and length, the files written,
    whether it is narrated.
    """
    from scenes.base import Cue as BurnCue
    from scenes.compare import ComparePlan, CompareScene

    from .media import video_info
    from .narration import get_voice, make_cues, mix_track, mux_audio, write_srt, write_vtt
    from .render import cache_dir, run_scene

    start = time.perf_counter()
    fps = options.frame_rate
    voice = get_voice(options.voice)
    clips = {}
    if voice is not None:
        for n, beat in enumerate(comparison.beats):
            on_phase("speaking", n, len(comparison.beats))
            clips[beat.id] = voice.synthesize(comparison.lines[beat.id])
    timed: list[TimedBeat] = []
    frame = 0
    for beat in comparison.beats:
        speech = clips[beat.id].seconds if beat.id in clips else 0.0
        n = beat_frames(COMPARE_SECONDS[beat.kind], speech, options.pace, fps)
        timed.append(TimedBeat(beat, frame, n, speech))
        frame += n
    cues = make_cues([(tb.start(fps), tb.end(fps), comparison.lines[tb.beat.id]) for tb in timed])
    best = min(comparison.variants, key=lambda v: v.final_loss)
    plan = ComparePlan(
        trace=best.trace,
        comparison=comparison,
        timed=timed,
        options=options,
        burn_captions=[BurnCue(c.start, c.end, c.text) for c in cues]
        if options.captions == "burn"
        else [],
        on_beat=lambda i, total, tb: on_phase(f"beat {i + 1}/{total}: comparison", i, total),
    )
    logging.getLogger("manim").setLevel(logging.INFO if options.verbose else logging.ERROR)
    media = cache_dir() / "manim" / "compare"
    video_dir = media / f"videos-{os.getpid()}"  # this process's own (see render.render)
    try:
        movie, _ = run_scene(
            lambda renderer: CompareScene(plan, **renderer),
            options,
            media,
            "compare",
            video_dir,
        )
        output_dir.mkdir(parents=True)
        video = output_dir / f"compare.{options.format}"
        if clips and options.format != "gif":
            track = mix_track(
                [(tb.start(fps), clips[tb.beat.id]) for tb in timed], frame / fps, path=None
            )
            try:
                mux_audio(movie, track, video)
            finally:
                Path(track).unlink(missing_ok=True)
        else:
            shutil.copyfile(movie, video)
    finally:
        shutil.rmtree(video_dir, ignore_errors=True)
    write_srt(cues, output_dir / "compare.srt")
    write_vtt(cues, output_dir / "compare.vtt")
    script = [
        {
            "beat": tb.beat.id,
            "start": tb.start(fps),
            "end": tb.end(fps),
            "speech": round(tb.speech_seconds, 3),  # 0 without a voice
            "text": comparison.lines[tb.beat.id],
        }
        for tb in timed
    ]
    (output_dir / "script.json").write_text(json.dumps(script, indent=2), encoding="utf-8")
    info = video_info(video)
    return {
        "status": "ok",
        "error": None,
        "final_loss": None,
        "duration": info["duration"],
        "timings": {"process": time.perf_counter() - start},
        "files": sorted(p.name for p in output_dir.iterdir()),
        "video": video.name,
        "voiced": bool(clips),
    }
