"""Narration: the spoken explanation of a lecture, its voice, subtitles and notes.

The script is generated from the trace beat by beat (:func:`build_script`), spoken by an
offline voice (:func:`get_voice`, cached), mixed into one track (:func:`mix_track`) and
muxed into the video (:func:`mux_audio`); the same words become subtitles
(:func:`make_cues`, :func:`write_srt`, :func:`write_vtt`) and Markdown notes
(:func:`write_notes`). See docs/narration.md.
"""

from .audio import loudness, mix_track, mux_audio, normalize, read_wav, write_wav
from .explain import LEVELS, zero_gradient_reasons
from .notes import write_notes
from .script import ScriptLine, TimedLine, build_script, load_script, save_script
from .subtitles import Cue, make_cues, write_srt, write_vtt
from .voice import Clip, Voice, get_voice, reading_seconds, synthesis_count

__all__ = [
    "LEVELS",
    "Clip",
    "Cue",
    "ScriptLine",
    "TimedLine",
    "Voice",
    "build_script",
    "get_voice",
    "load_script",
    "loudness",
    "make_cues",
    "mix_track",
    "mux_audio",
    "normalize",
    "read_wav",
    "reading_seconds",
    "save_script",
    "synthesis_count",
    "write_notes",
    "write_srt",
    "write_vtt",
    "write_wav",
    "zero_gradient_reasons",
]
