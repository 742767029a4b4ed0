"""Subtitles: the script cut into readable cues, written as SRT and WebVTT.

A cue holds at most two lines of at most 42 characters (the common broadcast limit).
Each beat's text is split at sentence ends first, then wrapped; the cues share the
beat's speech time in proportion to their length, so a cue is on screen while its words
are spoken. Times are whole milliseconds and never go backwards. The writers are a few
lines each (no runtime dependency); the tests parse their output with the ``srt`` and
``webvtt-py`` libraries.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..trace.model import write_atomic

MAX_LINE = 42
MAX_LINES = 2
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str  # one or two lines joined by "\n"


def _chunks(text: str) -> list[str]:
    """The text as cue texts: sentences wrapped to lines, lines grouped in twos."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        lines = textwrap.wrap(sentence, MAX_LINE, break_long_words=True, break_on_hyphens=False)
        for k in range(0, len(lines), MAX_LINES):
            out.append("\n".join(lines[k : k + MAX_LINES]))
    return [c for c in out if c]


def make_cues(timed_lines: Iterable[tuple[float, float, str]]) -> list[Cue]:
    """Cues for (start, end, text) per beat; each beat's time shared by character count."""
    cues: list[Cue] = []
    last_end = 0
    for start, end, text in timed_lines:
        chunks = _chunks(text)
        if not chunks or end <= start:
            continue
        weights = [len(c) for c in chunks]
        total = sum(weights)
        begin_ms = max(round(start * 1000), last_end)
        end_ms = max(round(end * 1000), begin_ms + len(chunks))
        span = end_ms - begin_ms
        done = 0
        t0 = begin_ms
        for chunk, weight in zip(chunks, weights, strict=True):
            done += weight
            t1 = begin_ms + round(span * done / total)
            t1 = max(t1, t0 + 1)
            cues.append(Cue(t0 / 1000, t1 / 1000, chunk))
            t0 = t1
        last_end = t0
    return cues


def _clock(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt_text(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{n}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{c.text}\n"
        for n, c in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    # "-->" may not appear in a cue; &, < and > are markup in WebVTT.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def vtt_text(cues: Sequence[Cue]) -> str:
    blocks = ["WEBVTT\n"]
    blocks += [
        f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n{_vtt_escape(c.text)}\n" for c in cues
    ]
    return "\n".join(blocks)


def write_srt(cues: Sequence[Cue], path: str | Path) -> Path:
    """SubRip subtitles, UTF-8, numbered from 1; written atomically."""
    return write_atomic(Path(path), srt_text(cues))


def write_vtt(cues: Sequence[Cue], path: str | Path) -> Path:
    """WebVTT subtitles (for the web player); written atomically."""
    return write_atomic(Path(path), vtt_text(cues))
