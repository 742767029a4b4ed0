"""Voices, the clip cache, loudness, the narration track and muxing it into a video."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pytest

from backprop_anim.errors import UserError
from backprop_anim.narration import audio, voice
from backprop_anim.narration.audio import (
    PEAK_LIMIT_DBFS,
    TARGET_LUFS,
    mix_track,
    mux_audio,
    normalize,
    read_wav,
    stream_end_seconds,
    write_wav,
)
from backprop_anim.narration.voice import (
    Clip,
    EspeakNG,
    PiperTTS,
    get_voice,
    reading_seconds,
    synthesis_count,
)

SENTENCE = "The output o1 is 0.7514, but the target is 0.01. That's the delta of o1, minus 0.1385."
needs_espeak = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng not installed")
needs_piper = pytest.mark.skipif(not voice.piper_available(), reason="voice extra not installed")
CEILING = 10 ** (PEAK_LIMIT_DBFS / 20)


def test_unknown_voice_is_a_user_error_with_a_suggestion():
    with pytest.raises(UserError, match=r"unknown voice 'espek' \(did you mean 'espeak'\?\)"):
        get_voice("espek")
    assert get_voice("none") is None


def test_reading_speed_is_150_words_per_minute():
    assert reading_seconds("one two three four five") == pytest.approx(2.0)
    assert reading_seconds("   ") == 0.0


def test_auto_falls_back_to_espeak_without_the_voice_extra(monkeypatch, tmp_path):
    monkeypatch.setattr(voice, "piper_available", lambda: False)
    with pytest.raises(UserError, match=r"pip install 'backprop-anim\[voice\]'"):
        get_voice("piper", cache=tmp_path)
    chosen = get_voice("auto", cache=tmp_path)
    if shutil.which("espeak-ng"):
        assert isinstance(chosen, EspeakNG)
    else:
        assert chosen is None
    monkeypatch.setattr(voice.shutil, "which", lambda name: None)
    assert get_voice("auto", cache=tmp_path) is None
    with pytest.raises(UserError, match="apt-get install espeak-ng"):
        get_voice("espeak", cache=tmp_path)


def test_cache_lives_under_the_environment_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("BACKPROP_ANIM_CACHE", str(tmp_path))
    assert voice.cache_dir() == tmp_path / "voice"
    monkeypatch.delenv("BACKPROP_ANIM_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert voice.cache_dir() == tmp_path / "xdg" / "backprop-anim" / "voice"


def _check_speech(clip: Clip, text: str) -> np.ndarray:
    samples, rate = read_wav(clip.path)
    assert clip.seconds == pytest.approx(samples.size / rate)
    # Plausible length: between half and twice the reading time of the text.
    assert 0.5 * reading_seconds(text) < clip.seconds < 2 * reading_seconds(text)
    # Not silent: the speech is well above the noise floor over most of the clip.
    frames = samples[: samples.size // 2205 * 2205].reshape(-1, 2205)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    assert np.mean(rms > 0.01) > 0.5
    return samples


def _check_cache(make_voice, text: str) -> None:
    first_voice = make_voice()
    before = synthesis_count()
    clip = first_voice.synthesize(text)
    assert not clip.cached and synthesis_count() == before + 1
    samples = _check_speech(clip, text)
    # A second render (a new voice object, as a new render makes) synthesizes nothing.
    again = make_voice().synthesize(text)
    assert again.cached and again.path == clip.path
    assert synthesis_count() == before + 1
    assert np.array_equal(read_wav(again.path)[0], samples)
    # Deterministic: synthesizing again from scratch gives the same samples.
    clip.path.unlink()
    fresh = make_voice().synthesize(text)
    assert not fresh.cached
    assert np.array_equal(read_wav(fresh.path)[0], samples)
    # Another text or other settings are another cache entry.
    assert make_voice().cache_key(text + " Again.") != make_voice().cache_key(text)


@needs_espeak
def test_espeak_speaks_and_caches(tmp_path):
    _check_cache(lambda: EspeakNG(tmp_path), SENTENCE)
    assert EspeakNG(tmp_path, words_per_minute=120).cache_key(SENTENCE) != EspeakNG(
        tmp_path
    ).cache_key(SENTENCE)


@needs_piper
def test_piper_speaks_deterministically_and_caches(tmp_path):
    _check_cache(lambda: PiperTTS(tmp_path), SENTENCE)
    assert PiperTTS(tmp_path, length_scale=1.2).cache_key(SENTENCE) != PiperTTS(tmp_path).cache_key(
        SENTENCE
    )


def _speechlike(seconds: float, rate: int, level: float) -> np.ndarray:
    """Noise in syllable-like bursts with sharp peaks: a high crest factor, like speech."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) ** 2
    signal = rng.normal(0, 1, t.size) * envelope
    signal[:: rate // 5] = 4.0  # clicks well above the rest
    return (signal / np.abs(signal).max() * level).astype(np.float32)


@pytest.mark.parametrize("level", [0.02, 0.9])
def test_normalize_reaches_the_target_loudness_without_clipping(tmp_path, level):
    rate = 22050
    path = write_wav(tmp_path / "in.wav", _speechlike(3.0, rate, level), rate)
    out = normalize(path, tmp_path / "out.wav")
    samples, out_rate = read_wav(out)
    assert out_rate == rate
    assert np.abs(samples).max() <= CEILING + 1 / 32768
    measured = pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64))
    assert measured == pytest.approx(TARGET_LUFS, abs=1.0)


def _clip(tmp_path: Path, name: str, seconds: float, rate: int = 22050) -> Clip:
    path = write_wav(tmp_path / f"{name}.wav", _speechlike(seconds, rate, 0.3), rate)
    return Clip(path, seconds)


def test_mix_track_places_each_clip_at_its_time(tmp_path):
    a, b = _clip(tmp_path, "a", 1.0), _clip(tmp_path, "b", 1.5)
    track = mix_track([(0.5, a), (2.0, b)], 4.0, 48_000, tmp_path / "track.wav")
    samples, rate = read_wav(track)
    assert rate == 48_000 and samples.size == 4 * 48_000
    loud = np.nonzero(np.abs(samples) > 1e-3)[0] / rate
    assert loud[0] == pytest.approx(0.5, abs=0.01)
    assert loud[-1] == pytest.approx(3.5, abs=0.02)
    assert not np.any(np.abs(samples[int(1.55 * rate) : int(1.95 * rate)]) > 1e-3)  # the gap
    assert np.abs(samples).max() <= CEILING + 1 / 32768
    with pytest.raises(ValueError, match=r"does not fit in a track of 3\.000 s"):
        mix_track([(2.0, b)], 3.0, 48_000, tmp_path / "short.wav")


def _tiny_video(path: Path, codec: str, frames: int, fps: int = 15) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for n in range(frames):
            image = np.full((48, 64, 3), (n * 7) % 256, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.mark.parametrize(
    ("suffix", "encoder", "video_codec", "audio_codec"),
    [
        (".mp4", "libx264", "h264", "aac"),
        (".webm", "libvpx-vp9", "vp9", "opus"),
        (".mov", "libx264", "h264", "aac"),
    ],
)
def test_mux_audio_adds_a_track_that_ends_with_the_video(
    tmp_path, suffix, encoder, video_codec, audio_codec
):
    fps, frames = 15, 45  # 3 s
    video = _tiny_video(tmp_path / f"silent{suffix}", encoder, frames, fps)
    # The narration runs 0.5 s past the picture: muxing must cut it at the video's end.
    track = mix_track([(0.2, _clip(tmp_path, "speech", 3.3))], 3.5, 48_000, tmp_path / "t.wav")
    out = mux_audio(video, track, tmp_path / f"narrated{suffix}")
    with av.open(str(out)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert container.streams.audio[0].codec_context.name == audio_codec
        assert container.streams.audio[0].codec_context.sample_rate == 48_000
        assert container.streams.video[0].codec_context.name == video_codec
        decoded = np.concatenate([f.to_ndarray().ravel() for f in container.decode(audio=0)])
    assert np.sqrt(np.mean(decoded.astype(np.float64) ** 2)) > 0.01  # real sound, not silence
    video_end = stream_end_seconds(out, "video")
    assert video_end == pytest.approx(frames / fps, abs=1e-3)
    assert abs(stream_end_seconds(out, "audio") - video_end) <= 1 / fps
    with av.open(str(out)) as container:  # packets copied, not re-encoded
        copied = sum(1 for p in container.demux(video=0) if p.size)
    with av.open(str(video)) as container:
        assert copied == sum(1 for p in container.demux(video=0) if p.size)
    assert not list(tmp_path.glob(".narrated*"))  # no temporary file left behind


def test_mux_audio_refuses_a_container_without_sound(tmp_path):
    video = _tiny_video(tmp_path / "v.mp4", "libx264", 5)
    track = write_wav(tmp_path / "t.wav", np.zeros(4800, np.float32), 48_000)
    with pytest.raises(ValueError, match="cannot carry a narration track"):
        mux_audio(video, track, tmp_path / "v.gif")


def test_wav_round_trip_keeps_16_bit_samples(tmp_path):
    samples = (np.arange(-32768, 32768, 7, dtype=np.float32)) / 32768
    path = write_wav(tmp_path / "x.wav", samples, 16000)
    back, rate = read_wav(path)
    assert rate == 16000 and np.array_equal(back, samples)
    assert audio.wav_seconds(path) == pytest.approx(samples.size / 16000)
