"""Narration audio: WAV in and out, steady loudness, one track per lecture, muxing.

Clips from the voice are placed at their beats' start times on one mono track
(:func:`mix_track`), each brought to the same loudness first so that no beat is louder
than another: -16 LUFS integrated (ITU-R BS.1770, measured with ``pyloudnorm``, the
usual target for speech online), with a look-ahead limiter that keeps every sample under
-1.5 dBFS, so nothing clips even after lossy encoding. :func:`mux_audio` copies the
video's packets untouched and encodes the track beside them: AAC in mp4/mov, Opus in
webm. WAV files are 16-bit PCM, read and written with the standard library.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import wave
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import numpy as np

from ..trace.model import write_atomic

TARGET_LUFS = -16.0
# -1.5 dBFS, not the usual -1: AAC decodes transients up to about 0.5 dB above the
# encoded track (a clip of Piper speech peaked at 0.950 decoded with a -1 dBFS ceiling).
PEAK_LIMIT_DBFS = -1.5
TRACK_RATE = 48_000  # Opus only takes 48 kHz; AAC is happy with it too
LIMITER_LOOKAHEAD_SECONDS = 0.005
LIMITER_RELEASE_SECONDS = 0.05
AUDIO_CODECS = {".mp4": "aac", ".mov": "aac", ".m4v": "aac", ".webm": "libopus", ".mkv": "libopus"}
AUDIO_BITRATE = 96_000


class ClipLike(Protocol):
    path: Path
    seconds: float


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Mono float samples in [-1, 1] and the sample rate (channels are averaged)."""
    with wave.open(str(path), "rb") as wav:
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
        raw = wav.readframes(wav.getnframes())
    if width != 2:
        raise ValueError(f"{path}: expected 16-bit PCM, got {8 * width}-bit samples")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write mono 16-bit PCM atomically (built in memory, then ``write_atomic``)."""
    pcm = np.round(np.clip(samples, -1.0, 32767 / 32768) * 32768.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(sample_rate))
        wav.writeframes(pcm.tobytes())
    return write_atomic(Path(path), buffer.getvalue())


def wav_seconds(path: str | Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Polyphase resampling (scipy), exact for rational ratios like 22050 -> 48000."""
    if rate == target or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    ratio = Fraction(target, rate)
    return resample_poly(samples, ratio.numerator, ratio.denominator).astype(np.float32)


def loudness(samples: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness in LUFS (BS.1770 gating); RMS in dBFS for clips under 0.4 s."""
    import pyloudnorm

    if samples.size == 0 or not np.any(samples):
        return -math.inf
    block = 0.4
    if samples.size < block * sample_rate:
        rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
        return 20 * math.log10(rms) - 0.691
    return float(pyloudnorm.Meter(sample_rate, block_size=block).integrated_loudness(samples))


def limit(samples: np.ndarray, sample_rate: int, peak_dbfs: float = PEAK_LIMIT_DBFS) -> np.ndarray:
    """A look-ahead brick-wall limiter: the gain dips smoothly before a peak, never clips.

    The gain each sample needs (``ceiling / |x|``, at most 1) is held over a short
    look-ahead window and smoothed, so peaks are turned down without audible clicks; a
    final clamp guarantees the ceiling.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    ceiling = 10 ** (peak_dbfs / 20)
    magnitude = np.abs(samples)
    if samples.size == 0 or magnitude.max() <= ceiling:
        return samples
    need = np.minimum(1.0, ceiling / np.maximum(magnitude, 1e-12))
    hold = max(1, int(LIMITER_LOOKAHEAD_SECONDS * sample_rate))
    release = max(1, int(LIMITER_RELEASE_SECONDS * sample_rate))
    gain = minimum_filter1d(need, size=2 * hold + release)
    gain = np.minimum(uniform_filter1d(gain, size=2 * hold + 1), need)
    return np.clip(samples * gain, -ceiling, ceiling).astype(np.float32)


def normalize_samples(
    samples: np.ndarray,
    sample_rate: int,
    target_lufs: float = TARGET_LUFS,
    peak_dbfs: float = PEAK_LIMIT_DBFS,
) -> np.ndarray:
    """Gain to ``target_lufs``, then the limiter; one correction pass for what it took off."""
    level = loudness(samples, sample_rate)
    if not math.isfinite(level):
        return samples.astype(np.float32, copy=True)
    out = samples * np.float32(10 ** ((target_lufs - level) / 20))
    out = limit(out, sample_rate, peak_dbfs)
    after = loudness(out, sample_rate)
    if math.isfinite(after) and after < target_lufs - 0.5:
        out = limit(out * np.float32(10 ** ((target_lufs - after) / 20)), sample_rate, peak_dbfs)
    return out.astype(np.float32, copy=False)


def normalize(
    wav: str | Path,
    out: str | Path | None = None,
    *,
    target_lufs: float = TARGET_LUFS,
    peak_dbfs: float = PEAK_LIMIT_DBFS,
) -> Path:
    """Bring a WAV file to ``target_lufs`` with no sample above ``peak_dbfs`` (in place by
    default)."""
    samples, rate = read_wav(wav)
    return write_wav(out or wav, normalize_samples(samples, rate, target_lufs, peak_dbfs), rate)


PAUSE_SEARCH_SECONDS = 0.1  # a pause goes at the quietest moment this long before its word
PAUSE_FADE_SECONDS = 0.005


def insert_silence(
    samples: np.ndarray, sample_rate: int, pauses: Sequence[tuple[float, float]]
) -> np.ndarray:
    """``samples`` with ``seconds`` of silence before each ``at`` (seconds, ascending).

    A beat's words wait for their picture (``timeline.part_pauses``): between two
    sentences the cut falls in the silence that separates them; before a marked word
    inside a sentence, at the quietest 5 ms in the PAUSE_SEARCH_SECONDS before the word
    (the gap between words), with a short fade on both sides so the cut never clicks.
    """
    if not pauses:
        return samples
    win = max(1, int(0.005 * sample_rate))
    fade = max(1, int(PAUSE_FADE_SECONDS * sample_rate))
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))).astype(np.float32)
    pieces: list[np.ndarray] = []
    prev = 0
    for at, seconds in sorted(pauses):
        word = min(samples.size, max(prev, round(at * sample_rate)))
        lo = max(prev, word - int(PAUSE_SEARCH_SECONDS * sample_rate))
        cut = word
        if word - lo > win:
            power = np.convolve(samples[lo:word] ** 2, np.ones(win, dtype=np.float32), "valid")
            cut = lo + int(np.argmin(power)) + win // 2
        before = samples[prev:cut].copy()
        after_start = cut
        n = min(fade, before.size)
        if n and np.abs(before[-n:]).max() > 0:
            before[-n:] *= ramp[::-1][-n:]
        pieces += [before, np.zeros(round(seconds * sample_rate), dtype=np.float32)]
        prev = after_start
        rest = samples[prev : prev + fade]
        if rest.size and np.abs(rest).max() > 0:
            head = rest * ramp[: rest.size]
            pieces.append(head.astype(np.float32))
            prev += rest.size
    pieces.append(samples[prev:])
    return np.concatenate(pieces).astype(np.float32, copy=False)


def mix_track(
    placements: Sequence[tuple[float, ClipLike]],
    total_seconds: float,
    sample_rate: int = TRACK_RATE,
    path: str | Path | None = None,
    *,
    normalize_clips: bool = True,
) -> Path:
    """One narration track of ``total_seconds``: each clip starts at its time, normalized.

    A clip that would run past the end is a timing bug upstream (a beat shorter than its
    speech), so it raises instead of being cut: the video must never cut a sentence short.
    """
    total = round(total_seconds * sample_rate)
    track = np.zeros(total, dtype=np.float32)
    for start, clip in placements:
        samples, rate = read_wav(clip.path)
        samples = resample(samples, rate, sample_rate)
        if normalize_clips:
            samples = normalize_samples(samples, sample_rate)
        first = round(start * sample_rate)
        if first < 0 or first + samples.size > total + 1:
            raise ValueError(
                f"clip {clip.path.name} ({samples.size / sample_rate:.3f} s at "
                f"{start:.3f} s) does not fit in a track of {total_seconds:.3f} s"
            )
        end = min(total, first + samples.size)
        track[first:end] += samples[: end - first]
    track = limit(track, sample_rate)
    if path is None:
        fd, name = tempfile.mkstemp(prefix="narration-", suffix=".wav")
        os.close(fd)
        path = name
    return write_wav(path, track, sample_rate)


def stream_end_seconds(path: str | Path, kind: str = "video") -> float:
    """Where the first ``kind`` stream of a media file ends: the latest packet end, in seconds.

    Read from the packets (no decoding) because WebM stores no stream duration.
    """
    import av

    end = 0.0
    with av.open(str(path)) as container:
        stream = getattr(container.streams, kind)[0]
        for packet in container.demux(stream):
            if packet.pts is not None and packet.time_base is not None:
                end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    return end


def mux_audio(
    video_path: str | Path,
    wav_path: str | Path,
    out_path: str | Path,
    codec: str | None = None,
) -> Path:
    """The video with the WAV as its sound track, written atomically to ``out_path``.

    Video packets are copied, not re-encoded. The audio is encoded with ``codec`` (default
    by container: AAC for mp4/mov, Opus for webm) and cut at the video's end, so it never
    outlasts the picture.
    """
    import av

    from ..media import copy_stream

    video_path, out_path = Path(video_path), Path(out_path)
    suffix = out_path.suffix.lower()
    codec = codec or AUDIO_CODECS.get(suffix)
    if codec is None:
        raise ValueError(f"{out_path.name}: this container cannot carry a narration track")
    samples, rate = read_wav(wav_path)
    seconds = stream_end_seconds(video_path, "video")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.stem}.", suffix=suffix)
    os.close(fd)
    try:
        with av.open(str(video_path)) as src, av.open(tmp, "w", format=suffix[1:]) as dst:
            vin = src.streams.video[0]
            vout = copy_stream(dst, vin)
            aout = dst.add_stream(codec, rate=TRACK_RATE, layout="mono")
            aout.bit_rate = AUDIO_BITRATE
            if codec == "aac":
                # FFmpeg's default "twoloop" coder is 3x slower (10.5 s against 3.5 s
                # for 182 s of narration) for no audible gain on speech at 96 kbit/s.
                aout.options = {"aac_coder": "fast"}
            track = resample(samples, rate, TRACK_RATE)[: int(seconds * TRACK_RATE)]
            audio_packets = _encode_audio(aout, track)
            pending = iter(audio_packets)
            nxt = next(pending, None)
            for packet in src.demux(vin):
                if packet.dts is None:
                    continue
                when = float(packet.dts * packet.time_base)
                while nxt is not None and _packet_time(nxt) <= when:
                    dst.mux(nxt)
                    nxt = next(pending, None)
                packet.stream = vout
                dst.mux(packet)
            while nxt is not None:
                dst.mux(nxt)
                nxt = next(pending, None)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_path


def _packet_time(packet) -> float:
    return float((packet.dts or 0) * packet.time_base) if packet.time_base else 0.0


def _encode_audio(stream, track: np.ndarray) -> list:
    """All packets of the encoded track (16-bit frames converted to the encoder's format)."""
    import av

    resampler = av.AudioResampler(
        format=stream.codec_context.format.name, layout="mono", rate=TRACK_RATE
    )
    pcm = np.round(np.clip(track, -1.0, 32767 / 32768) * 32768.0).astype(np.int16)
    packets = []
    chunk = 960 * 4
    for offset in range(0, pcm.size, chunk):
        frame = av.AudioFrame.from_ndarray(
            pcm[None, offset : offset + chunk], format="s16", layout="mono"
        )
        frame.sample_rate = TRACK_RATE
        frame.pts = offset
        frame.time_base = Fraction(1, TRACK_RATE)
        for converted in resampler.resample(frame):
            packets.extend(stream.encode(converted))
    for converted in resampler.resample(None):
        packets.extend(stream.encode(converted))
    packets.extend(stream.encode(None))
    return packets
