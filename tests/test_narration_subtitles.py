"""Subtitles: cue limits, timing inside the speech, and files that standard parsers read."""

from __future__ import annotations

import itertools

import srt
import webvtt
from narration_fixtures import all_beats, textbook

from backprop_anim.narration import build_script, make_cues, write_srt, write_vtt
from backprop_anim.narration.subtitles import MAX_LINE, MAX_LINES
from backprop_anim.narration.voice import reading_seconds


def _timed_script():
    """The textbook script laid end to end at reading speed, with a breath between beats."""
    trace = textbook()
    lines = build_script(trace, all_beats(trace))
    timed, t = [], 0.0
    for line in lines:
        seconds = reading_seconds(line.text)
        timed.append((t, t + seconds, line.text))
        t += seconds + 0.6
    return timed, t


def _words(texts) -> str:
    return " ".join(" ".join(t.split()) for t in texts)


def test_cues_respect_the_limits_and_follow_the_speech():
    timed, _ = _timed_script()
    cues = make_cues(timed)
    assert len(cues) > len(timed)
    for cue in cues:
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= MAX_LINES
        assert all(0 < len(line) <= MAX_LINE for line in lines), lines
        assert cue.end > cue.start
    for before, after in itertools.pairwise(cues):
        assert after.start >= before.end
    # Every cue lies inside the speech of its beat, and the last cue of a beat ends with it.
    for start, end, _text in timed:
        inside = [c for c in cues if start - 1e-3 <= c.start < end]
        assert inside and all(c.end <= end + 1e-3 for c in inside)
        assert inside[-1].end == round(end, 3)
    assert _words(c.text for c in cues) == _words(text for _, _, text in timed)


def test_srt_and_vtt_files_parse_and_carry_the_script(tmp_path):
    timed, total = _timed_script()
    cues = make_cues(timed)
    srt_path = write_srt(cues, tmp_path / "lecture.srt")
    vtt_path = write_vtt(cues, tmp_path / "lecture.vtt")

    parsed = list(srt.parse(srt_path.read_text(encoding="utf-8")))
    assert [p.index for p in parsed] == list(range(1, len(cues) + 1))
    for p, cue in zip(parsed, cues, strict=True):
        assert p.start.total_seconds() == round(cue.start, 3)
        assert p.end.total_seconds() == round(cue.end, 3)
        assert p.content == cue.text
    assert parsed[-1].end.total_seconds() <= total

    captions = webvtt.read(str(vtt_path))
    assert len(captions) == len(cues)
    times = [(c.start_time.in_milliseconds(), c.end_time.in_milliseconds()) for c in captions]
    assert times == sorted(times)
    assert all(s < e for s, e in times)
    for c in captions:
        assert len(c.lines) <= MAX_LINES and all(len(line) <= MAX_LINE for line in c.lines)
    assert _words(c.text for c in captions) == _words(text for _, _, text in timed)


def test_markup_characters_are_escaped_in_vtt_and_long_words_are_broken(tmp_path):
    text = "Compare a < b & c > d. " + "x" * 50 + " ends here."
    cues = make_cues([(1.0, 6.0, text)])
    assert all(len(line) <= MAX_LINE for cue in cues for line in cue.text.split("\n"))
    captions = webvtt.read(str(write_vtt(cues, tmp_path / "x.vtt")))
    assert captions[0].text == "Compare a &lt; b &amp; c &gt; d."
    parsed = list(srt.parse((write_srt(cues, tmp_path / "x.srt")).read_text()))
    assert parsed[0].content == "Compare a < b & c > d."
    assert parsed[0].start.total_seconds() == 1.0 and parsed[-1].end.total_seconds() == 6.0


def test_silent_or_empty_beats_make_no_cue():
    assert make_cues([(0.0, 2.0, "  "), (2.0, 2.0, "No time.")]) == []
