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

from .errors import UserError
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
from .narration.speech import Speech, check_marks, split_sentences, strip_marks
from .narration.subtitles import Cue
from .narration.voice import reading_timing
from .options import RenderOptions
from .storyboard import BEAT_PARTS, Beat
from .timeline import SPEECH_LEAD_SECONDS
from .trace.model import Trace


@dataclass
class Narration:
    """What is said in each beat, how long it takes, and the clips that say it."""

    lines: list[ScriptLine] = field(default_factory=list)
    speech: dict[str, float] = field(default_factory=dict)  # beat id -> seconds
    clips: dict[str, Clip] = field(default_factory=dict)
    voice: str = "none"
    level: str = ""
    # Beat id -> its sentences and marks in time (seconds from the start of its speech).
    timing: dict[str, Speech] = field(default_factory=dict)

    def speech_start(self, starts: dict[str, float], beat_id: str) -> float:
        """When a beat's speech starts in the video: after the beat's short lead-in."""
        return starts[beat_id] + SPEECH_LEAD_SECONDS

    def spoken_sentences(self, starts: dict[str, float]) -> list[tuple[str, float, float, str]]:
        """Each sentence as (beat id, start, end, words as spoken) in seconds of the video.

        The voice's own timing (Piper's per-sentence clips, espeak's or the reading
        speed's estimate); a beat without sentence timing is one sentence. The one source
        of sentence times for the subtitles and the lecture page's transcript.
        """
        out = []
        for line in self.lines:
            if self.speech.get(line.beat_id, 0.0) <= 0:
                continue
            at = self.speech_start(starts, line.beat_id)
            timing = self.timing.get(line.beat_id)
            if timing is None or not timing.sentences:
                out.append(
                    (line.beat_id, at, at + self.speech[line.beat_id], strip_marks(line.text))
                )
                continue
            out += [(line.beat_id, at + s.start, at + s.end, s.text) for s in timing.sentences]
        return out

    def cues(self, starts: dict[str, float]) -> list[Cue]:
        """Subtitle cues on the speech, sentence by sentence (the voice's own timing)."""
        return make_cues(
            (start, end, text) for _, start, end, text in self.spoken_sentences(starts)
        )

    def placed_clips(self, starts: dict[str, float]) -> list[tuple[float, Clip]]:
        """Each beat's clip at the moment its speech starts (for mixing the track)."""
        return [(self.speech_start(starts, b), clip) for b, clip in self.clips.items()]

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
                round(self.speech_start(starts, line.beat_id), 3),
                round(
                    self.speech_start(starts, line.beat_id) + self.speech.get(line.beat_id, 0.0),
                    3,
                ),
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
    kinds = {b.id: b.kind for b in beats}
    source = str(options.script) if options.script is not None else "narration"
    for line in lines:
        check_part_marks(line.text, kinds[line.beat_id], f"{source}: beat {line.beat_id}")
    voice = get_voice(options.voice)
    narration = Narration(lines=lines, voice=voice.name if voice else "none", level=level)
    for line in lines:
        if not strip_marks(line.text):
            continue
        if voice is None:
            narration.speech[line.beat_id] = reading_seconds(line.text)
            narration.timing[line.beat_id] = reading_timing(line.text)
        else:
            clip = voice.synthesize(line.text)
            narration.clips[line.beat_id] = clip
            narration.speech[line.beat_id] = clip.seconds
            if clip.speech is not None:
                narration.timing[line.beat_id] = clip.speech
    return narration


def check_part_marks(text: str, kind: str, where: str) -> None:
    """Every ``[[name]]`` in a beat's text names a part of that kind of beat, else a
    clear error with the beat and the word the mark stands before."""
    check_marks(text, where)
    parts = BEAT_PARTS.get(kind, ())
    for sentence in split_sentences(text):
        words = sentence.words
        for mark in sentence.marks:
            if mark.name not in parts:
                word = words[mark.word] if mark.word < len(words) else ""
                raise UserError(
                    f"{where}: mark [[{mark.name}]] before {word!r} names no part of this "
                    f"beat; its parts are: {', '.join(parts) or 'none'}"
                )
