"""Lecture notes: the narration as a Markdown handout, with formulas and stills.

A student reads ``notes.md`` after watching: one section per beat with the words the
narrator said, the formulas of that beat with this step's numbers (LaTeX between ``$$``,
which GitHub and most Markdown viewers render), and the beat's still image when the
render made one. Everything comes from the script lines, which come from the trace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..numbers import fmt
from ..trace.model import Trace, write_atomic
from .script import ScriptLine
from .speech import strip_marks

SCENE_TITLES = {
    "title": "Introduction",
    "overview": "The whole training",
    "forward": "Forward pass",
    "loss": "Loss",
    "backward": "Backward pass",
    "gradients": "Backward pass",
    "matrix": "Matrix form",
    "batch": "The batch",
    "update": "Update",
    "summary": "Summary",
}


def _scene_of(beat_id: str) -> tuple[str, str]:
    """(step label, scene) of a beat id such as ``s0.backward.output.o1``."""
    parts = beat_id.split(".")
    if len(parts) >= 2 and parts[0].startswith("s") and parts[0][1:].isdigit():
        return parts[0], parts[1]
    return "", parts[0]


def notes_text(
    trace: Trace,
    script_lines: Sequence[ScriptLine],
    stills: Mapping[str, Path] | None = None,
    base: Path | None = None,
) -> str:
    """The Markdown of the notes; image links are relative to ``base`` when given."""
    stills = stills or {}
    cfg = trace.config
    title = cfg.get("title") or cfg.get("name") or "Lecture notes"
    out = [f"# {title}", ""]
    if cfg.get("description"):
        out += [" ".join(str(cfg["description"]).split()), ""]
    summary = trace.summary
    if summary.loss:
        out += [
            f"Trained for {len(summary.loss)} step(s); batch loss {fmt(summary.loss[0])} at "
            f"the first step, {fmt(summary.loss[-1])} at the last. Numbers are rounded to "
            "significant digits the same way as in the video.",
            "",
        ]
    current: tuple[str, str] | None = None
    for line in script_lines:
        step, scene = _scene_of(line.beat_id)
        section = (step, SCENE_TITLES.get(scene, scene.capitalize()))
        if section != current:
            label = f"Step {step[1:]}: {section[1]}" if step else section[1]
            out += [f"## {label}", ""]
            current = section
        heading = line.heading or line.beat_id
        out += [f"### {heading}", ""]
        still = stills.get(line.beat_id)
        if still is not None:
            link = os.path.relpath(still, base) if base is not None else str(still)
            out += [f"![{heading}]({Path(link).as_posix()})", ""]
        if strip_marks(line.text):
            out += [strip_marks(line.text), ""]
        for formula in line.formulas:
            out += ["$$", formula, "$$", ""]
        out += [f"<sub>beat `{line.beat_id}`</sub>", ""]
    return "\n".join(out).rstrip() + "\n"


def write_notes(
    trace: Trace,
    script_lines: Sequence[ScriptLine],
    stills: Mapping[str, Path] | None,
    path: str | Path,
) -> Path:
    """Write ``notes.md`` (atomically), linking stills relative to its folder."""
    path = Path(path)
    return write_atomic(path, notes_text(trace, script_lines, stills, base=path.parent))
