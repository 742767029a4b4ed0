"""Beat timing: the one place where durations are decided.

A beat lasts its natural animation length divided by the pace, or as long as its
speech plus a short breath, whichever is longer: the video never cuts a sentence
short. Durations are whole frames, so beat starts (and so subtitle and audio times)
are exact frame boundaries and never drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .storyboard import Beat

BREATH_SECONDS = 0.6  # pause after each beat's speech
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
    """Whole frames for a beat: max(natural / pace, speech + breath), at least 1 s."""
    seconds = max(natural / pace, MIN_BEAT_SECONDS)
    if speech > 0:
        seconds = max(seconds, speech + BREATH_SECONDS)
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
