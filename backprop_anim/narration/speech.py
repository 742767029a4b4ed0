"""Sentences, marks and the speech timing of one beat's text.

A beat's text is cut into sentences at ``. `` / ``! `` / ``? `` (a decimal point is not a
sentence end). Inside the text, ``[[name]]`` marks the moment a named visual part of the
beat starts: at the start of a sentence it ties the sentence to that part, inside a
sentence it ties the part to the next word ("[[term1]]0.15 times 0.05, [[term2]]plus
0.2 times 0.1"). Marks are never spoken nor subtitled. See docs/narration.md.

:class:`Speech` is what a voice reports about a text it said: when each sentence starts
and ends inside the clip and when each mark's word starts. Piper measures both (clip
lengths and phoneme alignments), espeak-ng its sentence clips (words inside by spoken
length), and ``--voice none`` reading speed; the timeline reads only this.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import UserError

MARK = re.compile(r"\[\[([^\[\]]*)\]\]")
MARK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
WORDS_PER_MINUTE = 150  # reading speed for --voice none


@dataclass(frozen=True)
class Mark:
    """A named part that starts at word ``word`` (0: the sentence's first word)."""

    name: str
    word: int


@dataclass(frozen=True)
class Sentence:
    """One sentence as spoken (marks removed) and its marks."""

    text: str
    marks: tuple[Mark, ...] = ()

    @property
    def words(self) -> list[str]:
        return self.text.split()


def strip_marks(text: str) -> str:
    """The text as spoken and subtitled: marks removed, spaces tidied."""
    return " ".join(MARK.sub(" ", text).split())


def mark_names(text: str) -> list[str]:
    """The names of the marks in ``text``, in order."""
    return [m.strip() for m in MARK.findall(text)]


def check_marks(text: str, where: str) -> None:
    """A malformed mark (``[[]]``, ``[[a b]]``, an unclosed ``[[``) is a clear error."""
    for name in mark_names(text):
        if not MARK_NAME.match(name):
            raise UserError(
                f"{where}: mark [[{name}]] is not a part name (letters, digits and _, "
                "starting with a letter)"
            )
    rest = MARK.sub(" ", text)
    if "[[" in rest or "]]" in rest:
        raise UserError(f"{where}: a mark is not closed; write marks as [[name]]")


def title_sentences(title: str) -> list[str]:
    """A config's title as its sentences ("Why the derivative? The slope ..."): the title
    beat shows the first as the heading and the rest on a line of their own, which comes
    in as the narration reads it (one split, so the screen and the words agree)."""
    return [s for s in SENTENCE_END.split(" ".join(title.split())) if s]


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` with their marks (marks at a sentence end move to the next)."""
    out: list[Sentence] = []
    pending: list[str] = []  # marks after the last word of a sentence start the next one
    for raw in SENTENCE_END.split(" ".join(text.split())):
        words: list[str] = []
        marks: list[Mark] = [Mark(name, 0) for name in pending]
        pending = []
        for piece in re.split(r"(\[\[[^\[\]]*\]\])", raw):
            found = MARK.fullmatch(piece)
            if found:
                marks.append(Mark(found.group(1).strip(), len(words)))
            else:
                words += piece.split()
        if not words:
            pending = [m.name for m in marks]
            continue
        # A mark after the last word belongs to the next sentence.
        pending = [m.name for m in marks if m.word >= len(words)]
        marks = [m for m in marks if m.word < len(words)]
        out.append(Sentence(" ".join(words), tuple(marks)))
    if pending and out:  # marks at the very end: the last sentence's last word
        last = out[-1]
        extra = tuple(Mark(n, len(last.words) - 1) for n in pending)
        out[-1] = Sentence(last.text, last.marks + extra)
    return out


@dataclass(frozen=True)
class SpokenSentence:
    """A sentence placed in its beat's clip: seconds from the clip's start."""

    text: str
    start: float
    end: float
    marks: tuple[tuple[str, float], ...] = ()  # (part name, when its word starts)
    opens: str | None = None  # the part named at the sentence's first word, if any

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "marks": [[n, t] for n, t in self.marks],
            "opens": self.opens,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SpokenSentence:
        return cls(
            doc["text"],
            float(doc["start"]),
            float(doc["end"]),
            tuple((str(n), float(t)) for n, t in doc["marks"]),
            doc.get("opens"),
        )


@dataclass(frozen=True)
class Speech:
    """How one beat's text is spoken: its sentences in time, and its length."""

    sentences: tuple[SpokenSentence, ...]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "sentences": [s.to_json() for s in self.sentences]}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Speech:
        return cls(
            tuple(SpokenSentence.from_json(s) for s in doc["sentences"]), float(doc["seconds"])
        )

    def paused(self, pauses: Sequence[tuple[float, float]]) -> Speech:
        """The same speech with a silence of ``seconds`` before each ``at`` (seconds from
        the start, before any pause): every moment at or after ``at`` comes later (a
        pause at a sentence's start delays the sentence, one at a marked word the rest of
        its sentence). See ``timeline.part_pauses`` and ``audio.insert_silence``."""
        if not pauses:
            return self

        def moved(t: float) -> float:
            return t + sum(w for at, w in pauses if at <= t + 1e-9)

        sentences = tuple(
            SpokenSentence(
                s.text,
                moved(s.start),
                moved(s.end),
                tuple((name, moved(at)) for name, at in s.marks),
                s.opens,
            )
            for s in self.sentences
        )
        return Speech(sentences, self.seconds + sum(w for _, w in pauses))


def spoken_sentence(
    sentence: Sentence, start: float, end: float, word_starts: Sequence[float] | None = None
) -> SpokenSentence:
    """Place ``sentence`` at [start, end]; marks at ``word_starts`` (seconds, absolute)
    or, without them, where the words fall by spoken length (digits are slow to say)."""
    times: list[tuple[str, float]] = []
    opens = None
    for n, mark in enumerate(sentence.marks):
        if mark.word == 0:
            at = start
            opens = opens or mark.name
        elif word_starts is not None:
            at = min(max(word_starts[n], start), end)
        else:
            at = start + (end - start) * prefix_fraction(sentence.words, mark.word)
        times.append((mark.name, at))
    return SpokenSentence(sentence.text, start, end, tuple(times), opens)


def prefix_fraction(words: Sequence[str], k: int) -> float:
    """The share of a sentence's speaking time that its first ``k`` words take."""
    from .subtitles import spoken_weight

    total = spoken_weight(" ".join(words))
    return min(1.0, max(0.0, (spoken_weight(" ".join(words[:k])) - 1.0) / total))


def reading_speech(text: str, gap: float = 0.3) -> Speech:
    """Timing for ``--voice none``: each sentence at reading speed, with a short gap."""
    sentences = []
    t = 0.0
    for sentence in split_sentences(text):
        length = len(sentence.words) * 60.0 / WORDS_PER_MINUTE
        if sentences:
            t += gap
        sentences.append(spoken_sentence(sentence, t, t + length))
        t += length
    return Speech(tuple(sentences), t)
