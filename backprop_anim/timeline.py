"""Beat timing: the one place where durations are decided.

A beat lasts its natural animation length divided by the pace, or as long as its
speech plus a short breath, whichever is longer: the video never cuts a sentence
short. Durations are whole frames, so beat starts (and so subtitle and audio times)
are exact frame boundaries and never drift.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .storyboard import Beat

if TYPE_CHECKING:
    from .narration.speech import SpokenSentence

BREATH_SECONDS = 0.6  # pause after each beat's speech
SPEECH_LEAD_SECONDS = 0.4  # the beat's header comes in before its speech starts
MAX_SILENCE_SECONDS = 1.5  # the longest silence inside a narrated beat (at pace 1)
MIN_BEAT_SECONDS = 1.0


@dataclass(frozen=True)
class TimedBeat:
    beat: Beat
    start_frame: int
    frames: int
    speech_seconds: float  # 0 when silent

    def start(self, fps: int) -> float:
        return self.start_frame / fps

    def end(self, fps: int) -> float:
        return (self.start_frame + self.frames) / fps


def beat_frames(natural: float, speech: float, pace: float, fps: int) -> int:
    """Whole frames for a beat: its natural length / pace, at least 1 s; narrated, from
    lead + speech + breath to lead + speech + MAX_SILENCE_SECONDS / pace."""
    seconds = max(natural / pace, MIN_BEAT_SECONDS)
    if speech > 0:
        # Narrated: the picture follows the words, so a short text makes a short beat;
        # at most MAX_SILENCE_SECONDS (at pace 1) of silence after the speech.
        spoken = SPEECH_LEAD_SECONDS + speech
        seconds = max(spoken + BREATH_SECONDS, min(seconds, spoken + MAX_SILENCE_SECONDS / pace))
    return max(1, math.ceil(seconds * fps - 1e-9))


def schedule(beats: list[Beat], speech: dict[str, float], pace: float, fps: int) -> list[TimedBeat]:
    """Lay the beats end to end; ``speech`` maps beat id to its spoken length in seconds."""
    out: list[TimedBeat] = []
    frame = 0
    for beat in beats:
        s = speech.get(beat.id, 0.0)
        n = beat_frames(beat.seconds, s, pace, fps)
        out.append(TimedBeat(beat, frame, n, s))
        frame += n
    return out


def split_frames(total: int, weights: list[float]) -> list[int]:
    """Share ``total`` frames among parts by weight; every part at least 1 frame if possible."""
    if not weights:
        return []
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [max(1, int(r)) for r in raw]
    # Give the rounding remainder (or take the excess) from the largest parts.
    diff = total - sum(parts)
    order = sorted(range(len(parts)), key=lambda k: -raw[k])
    k = 0
    while diff != 0 and order:
        i = order[k % len(order)]
        if diff > 0:
            parts[i] += 1
            diff -= 1
        elif parts[i] > 1:
            parts[i] -= 1
            diff += 1
        k += 1
        if k > 10 * len(parts) + abs(diff) * len(parts):
            break
    return parts


# --- inside a beat: parts placed on the words ----------------------------------------
#
# A beat's speech starts SPEECH_LEAD_SECONDS after the beat (the header and the diagram
# come in meanwhile). Its visual parts play one after the other; a part tied to a
# sentence, or to a marked word, starts on the first frame at or after that moment
# (never before); the parts between two such moments keep their natural length when
# they fit and are shortened (to at most MIN_PART_SCALE of it) when they do not; the
# picture holds where a sentence is longer than its parts. The last part (the beat's
# exit) plays at the end of the beat.

MIN_PART_SCALE = 0.4


@dataclass(frozen=True)
class PartSpec:
    """What the timeline needs of a visual part: its name (None: not cue-able), its
    natural weight, and whether it is a hold (nothing moves)."""

    name: str | None
    weight: float
    hold: bool = False


@dataclass(frozen=True)
class PlacedPart:
    """A part in its beat: ``wait`` held frames, then ``frames`` frames of the part."""

    wait: int
    frames: int
    start: int  # frame offset in the beat where the part itself starts


class MarkError(ValueError):
    """A mark names no part of its beat (reported as a user error with beat and word)."""


def bind_sentences(
    speech: Sequence[SpokenSentence],
    names: Sequence[str | None],
    absent: Collection[str] = (),
) -> tuple[dict[int, float], list[int | None]]:
    """Tie sentences and marks to parts: {part index: cue seconds}, part of each sentence.

    Marks name parts; a mark of a part this beat does not draw this time (``absent``,
    e.g. the activation plot of a softmax unit) is skipped, any other unknown name is a
    MarkError. Text without any mark falls back to sentence order: the k-th sentence
    starts the k-th named part.
    """
    index = {n: k for k, n in enumerate(names) if n is not None}
    cues: dict[int, float] = {}
    bound: list[int | None] = []
    if any(s.marks for s in speech):
        for s in speech:
            first: int | None = None
            for name, at in s.marks:
                if name not in index:
                    if name in absent:
                        continue
                    raise MarkError(name)
                k = index[name]
                cues[k] = min(cues.get(k, at), at)
                if first is None:
                    first = k
            bound.append(first)
        return cues, bound
    named = [k for k, n in enumerate(names) if n is not None]
    for n, s in enumerate(speech):
        if n < len(named):
            cues[named[n]] = s.start
            bound.append(named[n])
        else:
            bound.append(None)
    return cues, bound


def place_parts(
    parts: Sequence[PartSpec], frames: int, fps: int, unit: float, cues: dict[int, float]
) -> list[PlacedPart]:
    """Frames for each part of a beat of ``frames`` frames (see the comment above).

    ``unit``: seconds per unit of weight at the lecture's pace; ``cues``: part index ->
    seconds into the beat at which it must start. Holds and waits take the slack; every
    part that moves gets at least one frame; the frames add up to ``frames``.
    """
    n = len(parts)
    if n == 0:
        return []
    total = frames / fps
    natural = [0.0 if p.hold else p.weight * unit for p in parts]
    dur = natural[:]
    wait = [0.0] * n
    heads = sorted(k for k in cues if 0 <= k < n and not parts[k].hold)
    bounds = [*sorted({0, *heads}), n]
    t = 0.0
    for s in range(len(bounds) - 1):
        seg = range(bounds[s], bounds[s + 1])
        head = bounds[s]
        start = max(t, cues[head]) if head in heads else t
        wait[head] += start - t
        last = s == len(bounds) - 2
        limit = cues[bounds[s + 1]] if not last else total
        avail = max(0.0, limit - start)
        moving = sum(natural[k] for k in seg)
        if moving > avail and moving > 0:
            # The lead-in (before the first cue: header, diagram) fits the lead whatever
            # it takes; a part a sentence speaks is shortened to MIN_PART_SCALE at most.
            lead_in = head not in heads and not last
            scale = avail / moving if lead_in else max(avail / moving, MIN_PART_SCALE)
            for k in seg:
                dur[k] = natural[k] * scale
        slack = avail - sum(dur[k] for k in seg)
        holds = [k for k in seg if parts[k].hold]
        if slack > 0 and holds:
            weights = sum(parts[k].weight for k in holds) or len(holds)
            for k in holds:
                dur[k] = slack * (parts[k].weight or 1.0) / weights
        elif slack > 0 and last:
            wait[n - 1] += slack  # the exit plays at the end of the beat
        t = start + sum(dur[k] for k in seg)
    # Seconds to whole frames: a cued part starts on the first frame at or after its cue.
    out: list[PlacedPart] = []
    now = 0.0
    prev_end = 0
    for k in range(n):
        now += wait[k]
        begin = math.ceil(now * fps - 1e-6) if k in cues else round(now * fps)
        now += dur[k]
        end = round(now * fps) if k + 1 < n else frames
        minimum = 0 if parts[k].hold else 1
        # Leave a frame for every moving part still to come.
        room = frames - sum(0 if p.hold else 1 for p in parts[k + 1 :])
        begin = min(max(begin, prev_end), room - minimum)
        end = min(max(end, begin + minimum), room)
        out.append(PlacedPart(begin - prev_end, end - begin, begin))
        prev_end = end
    return out
