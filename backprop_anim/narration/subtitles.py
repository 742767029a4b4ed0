"""Subtitles: the script cut into readable cues, written as SRT and WebVTT.

A cue holds at most two lines of at most 42 characters (the common broadcast limit).
Each beat's text is split at sentence ends first; a sentence too long for one cue is cut
into the fewest cues that hold it, balanced and broken at commas where possible, so that
no cue is a stranded "0.0381.". The cues share the beat's speech time in proportion to
how long they take to say (digits are slow), so a cue is on screen while its words are
spoken. Times are whole milliseconds and never go backwards. The writers are a few
lines each (no runtime dependency); the tests parse their output with the ``srt`` and
``webvtt-py`` libraries.
"""

from __future__ import annotations

import re
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


# Cue times follow the speech, and numbers are slow to say: with Piper, a digit or a
# decimal point ("zero point zero three eight one") takes about as long as 7 letters, a
# pause at a comma or full stop about 9 (least squares over the textbook lecture's beats).
DIGIT_WEIGHT = 7.0
PAUSE_WEIGHT = 9.0
_DECIMAL_POINT = re.compile(r"\d\.\d")
_PAUSE = re.compile(r"[,;:.!?](?=\s|$)")
# Words a line or a cue should not end on: they belong with what follows.
_LEADING_WORDS = frozenset({"a", "an", "and", "by", "of", "minus", "plus", "the", "times", "to"})


def spoken_weight(text: str) -> float:
    """How long ``text`` takes to say, in letters: digits and pauses count extra."""
    letters = sum(c.isalpha() for c in text)
    digits = sum(c.isdigit() for c in text) + len(_DECIMAL_POINT.findall(text))
    return 1.0 + letters + DIGIT_WEIGHT * digits + PAUSE_WEIGHT * len(_PAUSE.findall(text))


def _break_cost(word: str) -> float:
    """The cost of ending a line or a cue after ``word``: free after punctuation."""
    if word[-1:] in ",;:.!?":
        return 0.0
    return 0.6 if word.lower() in _LEADING_WORDS else 0.1


def _lines(words: Sequence[str]) -> list[str] | None:
    """``words`` as at most MAX_LINES lines of at most MAX_LINE characters, balanced.

    Among the splits that fit, the one whose longest line is shortest wins, with a penalty
    for a line that ends mid-phrase ("minus" | "0.2171"); None when the words do not fit.
    """
    text = " ".join(words)
    if len(text) <= MAX_LINE:
        return [text]
    if MAX_LINES < 2 or len(words) < 2:
        return None
    best: tuple[float, list[str]] | None = None
    for k in range(1, len(words)):
        head = " ".join(words[:k])
        if len(head) > MAX_LINE:
            break
        tail = _lines_limited(words[k:], MAX_LINES - 1)
        if tail is None:
            continue
        longest = max(len(head), *(len(t) for t in tail))
        score = longest + 10 * _break_cost(words[k - 1])
        if best is None or score < best[0]:
            best = (score, [head, *tail])
    return best[1] if best else None


def _lines_limited(words: Sequence[str], count: int) -> list[str] | None:
    text = " ".join(words)
    if len(text) <= MAX_LINE:
        return [text]
    if count <= 1:
        return None
    for k in range(len(words) - 1, 0, -1):  # fill the first line, then the rest
        head = " ".join(words[:k])
        if len(head) <= MAX_LINE:
            tail = _lines_limited(words[k:], count - 1)
            return None if tail is None else [head, *tail]
    return None


def _sentence_chunks(sentence: str) -> list[str]:
    """One sentence as the fewest cues that fit, balanced, broken at punctuation if possible.

    A dynamic programme over the word boundaries: fewest cues first, then the least
    squared slack (so no cue is a short orphan like "0.0381."), then breaks after commas
    rather than between "minus" and its number.
    """
    words: list[str] = []
    for word in sentence.split():  # a word longer than a line is cut into line-long pieces
        words += [word[k : k + MAX_LINE] for k in range(0, len(word), MAX_LINE)]
    n = len(words)
    capacity = MAX_LINE * MAX_LINES
    best: list[tuple[int, float, int] | None] = [None] * (n + 1)  # (cues, cost, start)
    best[0] = (0, 0.0, 0)
    for end in range(1, n + 1):
        for start in range(end - 1, -1, -1):
            group = words[start:end]
            if len(" ".join(group)) > capacity:
                break
            prev = best[start]
            if prev is None or _lines(group) is None:
                continue
            slack = (capacity - len(" ".join(group))) / capacity
            cost = prev[1] + slack * slack + (_break_cost(group[-1]) if end < n else 0.0)
            candidate = (prev[0] + 1, cost, start)
            if best[end] is None or candidate[:2] < best[end][:2]:  # type: ignore[index]
                best[end] = candidate
    chunks: list[str] = []
    end = n
    while end > 0:
        entry = best[end]
        assert entry is not None  # every single word fits a line, so some split exists
        start = entry[2]
        lines = _lines(words[start:end])
        assert lines is not None
        chunks.append("\n".join(lines))
        end = start
    return chunks[::-1]


def _chunks(text: str) -> list[str]:
    """The text as cue texts: each sentence in the fewest balanced cues that fit."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        if sentence:
            out += _sentence_chunks(sentence)
    return out


def make_cues(timed_lines: Iterable[tuple[float, float, str]]) -> list[Cue]:
    """Cues for (start, end, text) per beat; each beat's time shared by spoken length."""
    cues: list[Cue] = []
    last_end = 0
    for start, end, text in timed_lines:
        chunks = _chunks(text)
        if not chunks or end <= start:
            continue
        weights = [spoken_weight(c) for c in chunks]
        total = sum(weights)
        begin_ms = max(round(start * 1000), last_end)
        end_ms = max(round(end * 1000), begin_ms + len(chunks))
        span = end_ms - begin_ms
        done = 0.0
        t0 = begin_ms
        for n, (chunk, weight) in enumerate(zip(chunks, weights, strict=True), start=1):
            done += weight
            t1 = end_ms if n == len(chunks) else begin_ms + round(span * done / total)
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
