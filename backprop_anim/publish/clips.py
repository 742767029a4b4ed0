"""Per-beat clips: ``clips/NN-<beat>.<ext>``, each beat's picture with its own narration.

The picture is cut out of the lecture by copying packets from the beat's keyframe to
the next beat's (:func:`~backprop_anim.publish.remux.cut`): the same frames, bit for
bit, and no second encode. The sound is the beat's voice clip, brought to the same
loudness as in the lecture and encoded beside it (``narration.mix_track`` and
``mux_audio``); a silent beat of a narrated lecture gets a silent track, so that every
clip of one lecture has the same streams. A lecture without a voice gives silent clips.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..narration import mix_track, mux_audio
from ..narration.audio import ClipLike
from ..timeline import SPEECH_LEAD_SECONDS, TimedBeat
from .remux import cut

# The voice starts this long after the clip does: where it starts in the lecture
# (timeline.SPEECH_LEAD_SECONDS), since the beat's parts are placed on its words. AAC
# encoded from the very first sample also overshoots on a sudden onset (decoded peaks of
# 1.37 where the track peaks at 0.89, a click on playback); the lead avoids that too.
CLIP_AUDIO_LEAD = SPEECH_LEAD_SECONDS


def clip_name(index: int, beat_id: str, count: int, suffix: str) -> str:
    """``03-s0-forward-hidden-h1.mp4``: numbered in lecture order, the beat id as a slug."""
    width = max(2, len(str(count)))
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", beat_id).strip("-") or "beat"
    return f"{index + 1:0{width}d}-{slug}{suffix}"


def write_clips(
    video: Path,
    timed: Sequence[TimedBeat],
    voice_clips: Mapping[str, ClipLike],
    fps: int,
    folder: Path,
) -> list[Path]:
    """One clip per beat in ``folder`` (created); returns their paths in beat order."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = video.suffix
    out: list[Path] = []
    for n, tb in enumerate(timed):
        target = folder / clip_name(n, tb.beat.id, len(timed), suffix)
        end = tb.start_frame + tb.frames
        if not voice_clips:
            cut(video, target, tb.start_frame, end)
        else:
            silent = folder / f".{target.stem}.video{suffix}"
            wav = folder / f".{target.stem}.wav"
            try:
                cut(video, silent, tb.start_frame, end)
                voice = voice_clips.get(tb.beat.id)
                placements = [(CLIP_AUDIO_LEAD, voice)] if voice is not None else []
                mix_track(placements, tb.frames / fps, path=wav)
                mux_audio(silent, wav, target)
            finally:
                silent.unlink(missing_ok=True)
                wav.unlink(missing_ok=True)
        out.append(target)
    return out
