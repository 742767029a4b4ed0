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


def beat_frames(natural: float, speech: float, pace: float, fps: int, minimum: float = 0.0) -> int:
    """Whole frames for a beat: its natural length / pace, at least 1 s; narrated, from
    lead + speech + breath to lead + speech + MAX_SILENCE_SECONDS / pace; and at least
    ``minimum`` seconds (what its parts need after their words, see :func:`part_pauses`)."""
    seconds = max(natural / pace, MIN_BEAT_SECONDS)
    if speech > 0:
        # Narrated: the picture follows the words, so a short text makes a short beat;
        # at most MAX_SILENCE_SECONDS (at pace 1) of silence after the speech, what the
        # parts need included (part_pauses caps it there), in whole frames rounded down:
        # rounded up, a frame more of silence (tanh-saturation's h23 ended on 1.537 s).
        # A ``minimum`` beyond that (no part_pauses gives one) is kept.
        spoken = SPEECH_LEAD_SECONDS + speech
        longest = spoken + MAX_SILENCE_SECONDS / pace
        seconds = max(spoken + BREATH_SECONDS, min(seconds, longest), minimum)
        frames = math.ceil(seconds * fps - 1e-9)
        if seconds <= longest + 1e-9:
            frames = min(frames, math.floor(longest * fps + 1e-9))
        return max(1, frames, math.ceil(spoken * fps - 1e-9))
    seconds = max(seconds, minimum)
    return max(1, math.ceil(seconds * fps - 1e-9))


def schedule(
    beats: list[Beat],
    speech: dict[str, float],
    pace: float,
    fps: int,
    minimum: dict[str, float] | None = None,
) -> list[TimedBeat]:
    """Lay the beats end to end; ``speech`` maps beat id to its spoken length in seconds,
    ``minimum`` to the seconds its parts need (a beat waits for its picture)."""
    out: list[TimedBeat] = []
    frame = 0
    minimum = minimum or {}
    for beat in beats:
        s = speech.get(beat.id, 0.0)
        n = beat_frames(beat.seconds, s, pace, fps, minimum.get(beat.id, 0.0))
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
# (never before); the picture holds where a sentence is longer than its parts.
#
# Where the parts before a cue need longer than the words leave them, the beat waits:
# :func:`part_pauses` (before rendering) puts a silence into the speech just before the
# late words, so that every part gets at least its natural length, and a number that
# travels at least TRAVEL_SECONDS (at pace 1); the beat ends when its last parts are done.
# A silence is never made longer than MAX_SILENCE_SECONDS (with what silence is already
# there); where even that is not enough, :func:`place_parts` shortens the parts (to at
# most MIN_PART_SCALE of their length) and a part may start late. The lead-in (header,
# diagram, before the first cue) always fits the lead. The last part (the beat's exit)
# plays at the end of the beat.

MIN_PART_SCALE = 0.4
# A number that travels from where it lives into a formula takes at least this long at
# pace 1: the eye needs about 0.2 s to find a moving copy and then follows it; with
# Manim's smooth rate function the copy barely moves in the first and last fifth of the
# move, so 0.7 s leaves about 0.4 s of visible flight across half the frame (3Blue1Brown's
# number moves take about 1 s; the narrated lecture is denser).
TRAVEL_SECONDS = 0.7


@dataclass(frozen=True)
class PartSpec:
    """What the timeline needs of a visual part: its name (None: not cue-able), its
    natural weight, whether it is a hold (nothing moves), whether a number travels
    in it (it then lasts at least TRAVEL_SECONDS at pace 1), and the least seconds it
    needs at pace 1 to be seen (a layer lit in turn, an outline drawn: scenes/pointers.py)."""

    name: str | None
    weight: float
    hold: bool = False
    travel: bool = False
    least: float = 0.0


@dataclass(frozen=True)
class BeatParts:
    """A beat's parts as built, the seconds per unit of weight at the lecture's pace, and
    the part names of its kind (marks of parts it does not draw this time are skipped)."""

    specs: list[PartSpec]
    unit: float
    names: tuple[str, ...]


@dataclass(frozen=True)
class PlacedPart:
    """A part in its beat: ``wait`` held frames, then ``frames`` frames of the part."""

    wait: int
    frames: int
    start: int  # frame offset in the beat where the part itself starts


@dataclass(frozen=True)
class Pause:
    """A silence of ``seconds`` put into a beat's speech just before ``at`` (seconds from
    the start of its speech, before any pause): the words there wait for their part."""

    at: float
    seconds: float


def part_needs(parts: Sequence[PartSpec], unit: float, pace: float = 1.0) -> list[float]:
    """Seconds each part takes at its natural length (weight x ``unit``), a travel at
    least TRAVEL_SECONDS / pace, any part at least its ``least`` / pace; a hold nothing
    (it takes what is left)."""
    return [
        0.0
        if p.hold
        else max(p.weight * unit, TRAVEL_SECONDS / pace if p.travel else 0.0, p.least / pace)
        for p in parts
    ]


def part_pauses(
    parts: Sequence[PartSpec],
    unit: float,
    speech: Sequence[SpokenSentence],
    cues: dict[int, float],
    *,
    pace: float = 1.0,
    lead: float = SPEECH_LEAD_SECONDS,
) -> tuple[list[Pause], float]:
    """The silences a beat's speech needs so that each part has its time, and the
    seconds the beat needs from its start to the end of its last part.

    ``cues``: part index -> seconds into the speech (:func:`bind_sentences`). Walks the
    parts as :func:`place_parts` does: where the parts before a cue are still playing
    when its words come, the words wait (a :class:`Pause` just before them), up to
    MAX_SILENCE_SECONDS / pace of silence counting the gap already there.
    """
    n = len(parts)
    need = part_needs(parts, unit, pace)
    heads = sorted(k for k in cues if 0 <= k < n)
    bounds = [*sorted({0, *heads}), n]
    starts = [s.start for s in speech]
    ends = [s.end for s in speech]
    limit = MAX_SILENCE_SECONDS / pace
    pauses: list[Pause] = []

    def moved(at: float) -> float:
        return lead + at + sum(p.seconds for p in pauses if p.at <= at + 1e-9)

    t = 0.0
    for s in range(len(bounds) - 1):
        seg = range(bounds[s], bounds[s + 1])
        head = bounds[s]
        if head in heads:
            at = cues[head]
            late = t - moved(at)
            if late > 1e-6:
                # The silence already before these words: a sentence's gap (or the lead
                # before the first), none inside a sentence.
                k = next((m for m, st in enumerate(starts) if abs(st - at) < 1e-6), None)
                if k is None:
                    gap = 0.0
                elif k == 0:
                    gap = lead + at
                else:
                    gap = at - ends[k - 1]
                gap += sum(p.seconds for p in pauses if abs(p.at - at) < 1e-9)
                wait = min(late, max(0.0, limit - gap))
                if wait > 1e-6:
                    pauses.append(Pause(at, wait))
            start = max(t, moved(at))
        else:
            start = t
        t = start + sum(need[k] for k in seg)
        if head not in heads and s < len(bounds) - 2:
            t = min(t, moved(cues[bounds[s + 1]]))  # the lead-in fits the lead
    if ends:  # after the last words, at most the longest silence: the parts then shorten
        t = min(t, moved(ends[-1]) + limit)
    merged: dict[float, float] = {}
    for p in pauses:
        merged[p.at] = merged.get(p.at, 0.0) + p.seconds
    return [Pause(at, w) for at, w in sorted(merged.items())], t


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
    parts: Sequence[PartSpec],
    frames: int,
    fps: int,
    unit: float,
    cues: dict[int, float],
    *,
    pace: float = 1.0,
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
    natural = part_needs(parts, unit, pace)
    dur = natural[:]
    wait = [0.0] * n
    # A named part can be empty this time (a number with no drawn edge to fly from comes
    # in with its row): it still starts on its words, as the others do, never before.
    heads = sorted(k for k in cues if 0 <= k < n)
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
            # it takes; a part a sentence speaks is shortened to MIN_PART_SCALE at most
            # (only where part_pauses could not make the words wait long enough).
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
