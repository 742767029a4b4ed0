"""The narration of one render: script, voice clips, speech lengths, subtitles, files.

This is the glue between the storyboard and :mod:`backprop_anim.narration`: it decides
whether the lecture is narrated (the config's ``narration`` section, the ``--voice`` and
``--script`` options), synthesizes each beat's text once (cached), and, once the beats
are timed, turns the same text into cues, ``script.json``, ``.srt`` and ``.vtt``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .narration import (
    Clip,
    ScriptLine,
    TimedLine,
    build_script,
    get_voice,
    load_script,
    make_cues,
    reading_seconds,
    save_script,
    write_srt,
    write_vtt,
)
from .narration.subtitles import Cue
from .options import RenderOptions
from .storyboard import Beat
from .trace.model import Trace


@dataclass
class Narration:
    """What is said in each beat, how long it takes, and the clips that say it."""

    lines: list[ScriptLine] = field(default_factory=list)
    speech: dict[str, float] = field(default_factory=dict)  # beat id -> seconds
    clips: dict[str, Clip] = field(default_factory=dict)
    voice: str = "none"
    level: str = ""

    def cues(self, starts: dict[str, float]) -> list[Cue]:
        """Subtitle cues aligned with the speech of each beat."""
        return make_cues(
            [
                (starts[line.beat_id], starts[line.beat_id] + self.speech[line.beat_id], line.text)
                for line in self.lines
                if self.speech.get(line.beat_id, 0.0) > 0
            ]
        )

    def write(
        self,
        folder: Path,
        name: str,
        starts: dict[str, float],
        cues: list[Cue],
        *,
        subtitles: bool,
    ) -> list[Path]:
        """script.json, and the .srt/.vtt subtitles unless they are burned into the video."""
        timed = [
            TimedLine(
                line.beat_id,
                line.text,
                round(starts[line.beat_id], 3),
                round(starts[line.beat_id] + self.speech.get(line.beat_id, 0.0), 3),
            )
            for line in self.lines
        ]
        files = [save_script(timed, folder / "script.json")]
        if subtitles and cues:
            files.append(write_srt(cues, folder / f"{name}.srt"))
            files.append(write_vtt(cues, folder / f"{name}.vtt"))
        return files

    def describe(self) -> dict[str, Any]:
        return {
            "voice": self.voice,
            "level": self.level,
            "beats": len(self.lines),
            "speech_seconds": round(sum(self.speech.values()), 3),
        }


def plan_narration(trace: Trace, beats: list[Beat], options: RenderOptions) -> Narration:
    """Script and speech for the beats; silent (no lines) when narration is off."""
    settings = trace.config.get("narration") or {}
    if not settings.get("enabled", True) and options.script is None:
        return Narration()
    level = settings.get("level", "standard")
    lines = build_script(
        trace,
        beats,
        level=level,
        overrides=settings.get("beats") or {},
        digits=options.digits,
    )
    if options.script is not None:
        edited = load_script(options.script, beats, trace)
        lines = [
            dataclasses.replace(line, text=edited.get(line.beat_id, line.text)) for line in lines
        ]
    voice = get_voice(options.voice)
    narration = Narration(lines=lines, voice=voice.name if voice else "none", level=level)
    for line in lines:
        if not line.text.strip():
            continue
        if voice is None:
            narration.speech[line.beat_id] = reading_seconds(line.text)
        else:
            clip = voice.synthesize(line.text)
            narration.clips[line.beat_id] = clip
            narration.speech[line.beat_id] = clip.seconds
    return narration
