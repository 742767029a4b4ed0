"""Publishing a real render: chapters in the video, per-beat clips, thumbnail, page.

One narrated lecture (espeak-ng: quick to synthesize; brief level, a few beats at
480p15) rendered with clips;
every check reads the written files: keyframes at beat starts, the chapters a reader
sees against render.json's, the chapters WebVTT, each clip's decoded frames against the
lecture's frames of that beat and its own sound, the title card's size.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import numpy as np
import pytest
import webvtt
from click.testing import CliRunner
from PIL import Image

from backprop_anim.cli import main
from backprop_anim.narration.speech import strip_marks
from backprop_anim.options import RenderOptions
from backprop_anim.publish.clips import CLIP_AUDIO_LEAD
from backprop_anim.publish.remux import keyframe_frames, read_chapters
from backprop_anim.render import render

REPO = Path(__file__).resolve().parent.parent
TEXTBOOK = REPO / "configs" / "textbook-2-2-2.yaml"
NAME = "textbook-2-2-2"
FPS = 15
SCENES = ("title", "loss", "update")
BRIEF = ("narration.level=brief",)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    out = tmp_path_factory.mktemp("publish") / NAME
    options = RenderOptions(scenes=SCENES, voice="espeak", clips=True, slides=True)
    render(TEXTBOOK, options, overrides=BRIEF, output_dir=out)
    return out, json.loads((out / "render.json").read_text())


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return 3600 * int(h) + 60 * int(m) + float(s)


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _sound(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac"
        return np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])


def test_every_beat_starts_on_a_keyframe(published):
    out, meta = published
    starts = [round(b["start"] * FPS) for b in meta["beats"]]
    keys = keyframe_frames(out / meta["video"])
    assert set(starts) <= set(keys)
    assert len(meta["beats"]) >= 5


def test_chapters_in_the_video_equal_render_json_and_the_vtt(published):
    out, meta = published
    chapters = meta["chapters"]
    # Few beats: one chapter each.
    assert [c["start"] for c in chapters] == [
        pytest.approx(b["start"], abs=5e-4) for b in meta["beats"]
    ]
    assert chapters[0]["title"] == "Introduction"
    assert "Update" in chapters[2]["title"]
    read = read_chapters(out / meta["video"])
    assert [(round(c.start, 3), round(c.end, 3), c.title) for c in read] == [
        (pytest.approx(c["start"], abs=5e-4), pytest.approx(c["end"], abs=5e-4), c["title"])
        for c in chapters
    ]
    vtt = webvtt.read(str(out / f"{NAME}.chapters.vtt"))
    assert [c.text for c in vtt] == [c["title"] for c in chapters]
    assert [_seconds(c.start) for c in vtt] == [
        pytest.approx(c["start"], abs=5e-4) for c in chapters
    ]
    text = (out / f"{NAME}.youtube.txt").read_text()
    assert text.startswith("One step of backpropagation")


def test_each_clip_is_its_beat_frame_for_frame_with_its_own_narration(published):
    out, meta = published
    lecture = _frames(out / meta["video"])
    clips = [out / meta["clips"][b["id"]] for b in meta["beats"]]
    assert [p.name for p in clips] == sorted(p.name for p in (out / "clips").iterdir())
    assert clips[1].name == "02-s0-loss.mp4"
    for beat, clip in zip(meta["beats"], clips, strict=True):
        a, b = round(beat["start"] * FPS), round(beat["end"] * FPS)
        frames = _frames(clip)
        assert len(frames) == b - a, clip.name
        assert all(np.array_equal(x, y) for x, y in zip(frames, lecture[a:b], strict=True))
        sound = _sound(clip)
        seconds = sound.size / 48_000
        assert seconds == pytest.approx(b / FPS - a / FPS, abs=0.05)
        assert np.abs(sound).max() < 0.95  # the limiter's ceiling, no onset overshoot
        # Speech where the beat speaks, silence in its closing breath.
        lead = round(CLIP_AUDIO_LEAD * 48_000)
        spoken = sound[lead : lead + round(beat["speech"] * 48_000)]
        assert np.sqrt(np.mean(spoken**2)) > 0.02
        assert (
            np.abs(sound[round((beat["speech"] + CLIP_AUDIO_LEAD + 0.1) * 48_000) :]).max() < 0.02
        )


def test_clips_of_a_transparent_mov_are_its_beats_with_alpha(tmp_path):
    """QuickTime RLE keeps no forced keyframe, but every beat is its own encode, so each
    beat still starts on a keyframe and is cut by copying packets (alpha kept)."""
    out = tmp_path / NAME
    options = RenderOptions(scenes=("title", "loss"), voice="espeak", clips=True, format="mov")
    render(TEXTBOOK, options, overrides=BRIEF, output_dir=out)
    meta = json.loads((out / "render.json").read_text())
    with av.open(str(out / meta["video"])) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "qtrle"
        lecture = [f.to_ndarray(format="rgba") for f in container.decode(stream)]
    assert min(int(f[..., 3].min()) for f in lecture) == 0  # transparent background
    for beat in meta["beats"]:
        clip = out / meta["clips"][beat["id"]]
        a, b = round(beat["start"] * FPS), round(beat["end"] * FPS)
        with av.open(str(clip)) as container:
            packets = [p for p in container.demux(video=0) if p.size]
            assert packets[0].is_keyframe
            assert container.streams.audio[0].codec_context.name == "aac"
        with av.open(str(clip)) as container:
            frames = [f.to_ndarray(format="rgba") for f in container.decode(video=0)]
        assert len(frames) == b - a, clip.name
        assert all(np.array_equal(x, y) for x, y in zip(frames, lecture[a:b], strict=True))


SEEK_AND_SHOW = """
(async () => {
  const v = document.createElement('video');
  v.muted = true; v.preload = 'auto'; v.src = '%s';
  v.style = 'position:absolute;left:0;top:0;width:854px;height:480px';
  document.body.appendChild(v);
  for (let i = 0; i < 100 && v.readyState < 2; i++) await new Promise(r => setTimeout(r, 100));
  const seeked = new Promise(r => v.addEventListener('seeked', r, {once: true}));
  v.currentTime = 1.0;
  await seeked;
  await new Promise(r => setTimeout(r, 500));
  return [v.videoWidth, v.videoHeight];
})()
"""


def test_transparent_webm_shows_the_page_through_it_in_chromium(tmp_path):
    """VP9 keeps alpha beside each frame; a browser reads it only if the track says
    AlphaMode 1, which every remux (join, sound, chapters) must keep."""
    import asyncio

    pytest.importorskip("tornado", reason="the DevTools client uses tornado (dask extra)")
    from batch_chromium import Chromium, chromium_binary

    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (make setup installs it)")
    out = tmp_path / NAME
    options = RenderOptions(scenes=("title",), voice="espeak", format="webm", transparent=True)
    render(TEXTBOOK, options, overrides=BRIEF, output_dir=out)
    video = out / f"{NAME}.webm"
    with av.open(str(video)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert {k.lower(): v for k, v in container.streams.video[0].metadata.items()}[
            "alpha_mode"
        ] == "1"
    (tmp_path / "red.html").write_text(
        "<!doctype html><body style='margin:0;background:#ff0000'></body>"
    )

    async def scenario() -> np.ndarray:
        async with Chromium(binary) as browser:
            await browser.open((tmp_path / "red.html").as_uri(), 900, 520)
            size = await browser.evaluate(SEEK_AND_SHOW % video.as_uri())
            assert size == [854, 480]
            shot = await browser.screenshot(tmp_path / "shot.png")
            return np.asarray(Image.open(shot).convert("RGB")).astype(int)[:480, :854]

    picture = asyncio.run(scenario())
    red = (picture[..., 0] > 200) & (picture[..., 1] < 60) & (picture[..., 2] < 60)
    assert red.mean() > 0.8  # the page shows through the background
    assert (picture.sum(axis=2) > 600).sum() > 2000  # and the title's white text is drawn


def _page_data(out: Path) -> dict:
    """The lecture page's embedded data (chapters, beats, transcript sentences, cues)."""
    page = (out / "index.html").read_text()
    found = re.search(
        r'<script type="application/json" id="lecture-data">(.*?)</script>', page, re.S
    )
    return json.loads(found[1])


def test_the_page_shows_the_words_as_spoken_without_marks(published):
    out, meta = published
    data = _page_data(out)
    said = [strip_marks(line["text"]) for line in _script(out) if line["text"]]
    assert [b["text"] for b in data["beats"] if b["text"]] == said
    assert [s["text"] for s in data["sentences"]] and "[[" not in (out / "index.html").read_text()
    # The transcript's times are the voice's: each sentence render.json's sync lists is on
    # the page with the seconds it is spoken at, and the page's sentences are in order.
    timed = {(s["beat"], s["text"]): (s["start"], s["end"]) for s in data["sentences"]}
    assert meta["sync"]
    for entry in meta["sync"]:
        assert timed[(entry["beat"], entry["sentence"])] == pytest.approx(entry["spoken"], abs=2e-3)
    starts = [s["start"] for s in data["sentences"]]
    assert starts == sorted(starts)


def test_thumbnail_is_a_1280x720_title_card(published):
    out, _ = published
    card = Image.open(out / "thumbnail.png")
    assert card.size == (1280, 720)
    pixels = np.asarray(card.convert("L"), dtype=float)
    assert pixels[100:500, 40:600].std() > 20  # text on the left, not an empty card


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("--clips", "--clips: a GIF has no sound and no keyframes to cut at"),
        ("--slides", "--slides: slides embed each beat's clip as mp4"),
    ],
)
def test_clips_or_slides_of_a_gif_is_an_error(tmp_path, monkeypatch, flag, message):
    monkeypatch.chdir(tmp_path)
    args = ["render", str(TEXTBOOK), "--format", "gif", *flag.split()]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "renders").exists()


def test_slides_without_python_pptx_name_the_extra(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pptx" else real(name, *a)
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", str(TEXTBOOK), "--slides"])
    assert result.exit_code == 2, result.output
    assert "--slides needs python-pptx, which the 'slides' extra installs" in result.output
    assert "pip install 'backprop-anim[slides]'" in result.output
    assert not (tmp_path / "renders").exists()


def test_slides_one_per_beat_with_its_clip_poster_and_notes(published):
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    out, meta = published
    deck = Presentation(str(out / f"{NAME}.pptx"))
    # Speaker notes are the words as spoken: script.json's [[part]] marks are not read out.
    script = {line["beat"]: strip_marks(line["text"]) for line in _script(out)}
    assert any("[[" in line["text"] for line in _script(out))  # the marks are there to strip
    slides = list(deck.slides)
    assert len(slides) == len(meta["beats"])
    assert slides[0].shapes.title.text == "One step of backpropagation, number by number"
    for slide, beat in zip(slides, meta["beats"], strict=True):
        movies = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.MEDIA]
        assert len(movies) == 1
        notes = slide.notes_slide.notes_text_frame.text
        assert notes.startswith(script[beat["id"]]) and notes.strip() and "[[" not in notes
        if slide is not slides[0]:
            assert slide.shapes.title.text == meta["beat_titles"][beat["id"]]
        # The embedded movie is the beat's clip, byte for byte; its poster is a picture.
        parts = {rel.target_part.partname: rel.target_part for rel in slide.part.rels.values()}
        media = [p for name, p in parts.items() if name.endswith(".mp4")]
        assert [m.blob for m in media] == [(out / meta["clips"][beat["id"]]).read_bytes()]
        assert any(name.endswith(".png") for name in parts)


@pytest.mark.slow
def test_slides_open_in_libreoffice_one_page_per_slide(published, tmp_path):
    """LibreOffice is a 300 MB install: not part of make setup, so this check is slow-marked
    and runs where ``soffice`` is installed (apt-get install libreoffice-impress)."""
    import re
    import shutil
    import subprocess

    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-impress)")
    out, meta = published
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(out / f"{NAME}.pptx"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pdf = (tmp_path / f"{NAME}.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == len(meta["beats"])


# --- the lecture page in headless Chromium -------------------------------------------

CHAPTERS = """[...document.querySelectorAll("#chapters li")].map(
  (li) => [Number(li.dataset.start), li.querySelector(".title").textContent])"""
CURRENT = """({
  time: lecture.video.currentTime,
  paused: lecture.video.paused,
  chapter: Number(document.querySelector("#chapters li.current")?.dataset.index ?? -1),
  sentence: Number(document.querySelector("#transcript .current")?.dataset.index ?? -1),
  beat: lecture.state.beat,
})"""


def click_and_seek(target: str) -> str:
    """Click ``target``; the page's state when the seek it makes is done.

    The click also starts playing; that call is held back here so that the time read is
    where the seek landed, not where a loaded machine has played on to.
    """
    return (
        "new Promise((resolve) => {"
        " lecture.video.play = () => Promise.resolve();"
        f' lecture.video.addEventListener("seeked", () => {{ delete lecture.video.play;'
        f" resolve({CURRENT}); }}, {{once: true}});"
        f" {target}.click(); }})"
    )


READY = "document.body.dataset.ready === '1' && lecture.video.readyState >= 3"


def _chromium():
    pytest.importorskip("tornado", reason="the DevTools client uses tornado (dask extra)")
    from batch_chromium import Chromium, chromium_binary

    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (make setup installs it)")
    return Chromium(binary)


def _screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: BACKPROP_ANIM_SCREENSHOTS (docs/images) or the test's folder."""
    import os

    folder = Path(os.environ.get("BACKPROP_ANIM_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_lecture_page_offline_chapters_transcript_and_keys(published, tmp_path):
    import asyncio

    out, meta = published
    page = out / "index.html"
    text = page.read_text()
    assert "http://" not in text and "https://" not in text  # no CDN
    assert (out / "page" / "katex" / "LICENSE").is_file()
    chapters, beats = meta["chapters"], meta["beats"]
    sentences = _page_data(out)["sentences"]
    frame = 1 / FPS
    shots = _screenshots(tmp_path)

    async def scenario() -> dict:
        async with _chromium() as browser:
            await browser.open(page.as_uri(), width=1280, height=900)
            await browser.wait_for(READY)
            seen: dict = {"chapters": await browser.evaluate(CHAPTERS)}
            seen["math"] = await browser.evaluate(
                "[document.querySelectorAll('#notes .math').length,"
                " document.querySelectorAll('#notes .math .katex-display').length]"
            )
            seen["tracks"] = await browser.evaluate(
                "[...lecture.video.textTracks].map((t) => [t.kind, t.cues ? t.cues.length : -1])"
            )
            # Clicking a chapter seeks to its start (and plays) and marks it.
            await browser.evaluate("lecture.video.muted = true")
            seen["clicked"] = await browser.evaluate(
                click_and_seek("document.querySelectorAll('#chapters li button')[2]")
            )
            await browser.evaluate("lecture.video.pause()")
            # Playing across a chapter boundary moves the highlight.
            await browser.evaluate(
                f"lecture.video.currentTime = {chapters[3]['start'] - 0.4};lecture.video.play()"
            )
            spoken = min(x["start"] for x in sentences if x["start"] >= chapters[3]["start"])
            await browser.wait_for(f"lecture.video.currentTime > {spoken + 0.1}")
            seen["playing"] = await browser.evaluate(CURRENT)
            await browser.evaluate("lecture.video.pause()")
            await browser.screenshot(shots / "lecture-page.png")
            # A sentence of the transcript seeks to where it is spoken.
            sentence = "document.querySelectorAll('#transcript .sentence')[1]"
            seen["sentence_start"] = await browser.evaluate(f"Number({sentence}.dataset.start)")
            seen["after_sentence"] = await browser.evaluate(click_and_seek(sentence))
            await browser.evaluate("lecture.video.pause()")  # a click seeks and plays
            # Keys: → goes to the next beat's start, ← back, space plays.
            await browser.evaluate(f"lecture.video.currentTime = {beats[1]['start'] + 0.5}")
            await browser.wait_for("!lecture.video.seeking")
            await browser.press("ArrowRight")
            await browser.wait_for("!lecture.video.seeking")
            seen["right"] = await browser.evaluate(CURRENT)
            await browser.press("ArrowLeft")
            await browser.wait_for("!lecture.video.seeking")
            seen["left"] = await browser.evaluate(CURRENT)
            await browser.press(" ")
            await browser.wait_for("!lecture.video.paused")
            await browser.press(" ")
            seen["space"] = await browser.evaluate(CURRENT)
            # A phone: one column, nothing wider than the screen.
            await browser.open(page.as_uri(), width=390, height=844)
            await browser.wait_for(READY)
            seen["phone_width"] = await browser.evaluate("document.documentElement.scrollWidth")
            await browser.screenshot(shots / "lecture-page-phone.png")
            seen["problems"] = browser.problems()
            seen["urls"] = browser.requested_urls()
            return seen

    seen = asyncio.run(scenario())
    assert seen["problems"] == []
    assert all(u.startswith(("file://", "data:", "blob:")) for u in seen["urls"]), seen["urls"]
    assert seen["chapters"] == [[pytest.approx(c["start"], abs=5e-4), c["title"]] for c in chapters]
    assert seen["math"][0] > 0 and seen["math"][0] == seen["math"][1]  # formulas typeset
    assert ["subtitles", len(meta_cues(out))] in seen["tracks"]
    assert ["chapters", len(chapters)] in seen["tracks"]
    clicked = seen["clicked"]
    assert clicked["time"] == pytest.approx(chapters[2]["start"], abs=frame)
    assert clicked["chapter"] == 2
    assert seen["playing"]["chapter"] == 3 and not seen["playing"]["paused"]
    assert seen["playing"]["sentence"] >= 0
    assert seen["after_sentence"]["time"] == pytest.approx(seen["sentence_start"], abs=frame)
    assert seen["after_sentence"]["sentence"] == 1
    assert seen["right"]["time"] == pytest.approx(beats[2]["start"], abs=frame)
    assert seen["left"]["time"] == pytest.approx(beats[1]["start"], abs=frame)
    assert seen["space"]["paused"] and seen["space"]["time"] > beats[1]["start"]
    assert seen["phone_width"] <= 390


def meta_cues(out: Path) -> list:
    return webvtt.read(str(out / f"{NAME}.vtt")).captions


def test_presenter_stops_at_each_beat_end_and_the_speaker_view_follows(published, tmp_path):
    import asyncio

    out, meta = published
    beats = meta["beats"]
    frame = 1 / FPS
    page = out / "index.html"
    shots = _screenshots(tmp_path)

    async def scenario() -> dict:
        async with _chromium() as browser:
            await browser.open(page.as_uri() + "?present", width=1280, height=720)
            await browser.wait_for(READY)
            seen: dict = {"mode": await browser.evaluate("lecture.mode")}
            seen["controls"] = await browser.evaluate("lecture.video.controls")
            stops = []
            for k in range(2):  # → plays beat k to its end, and stops there
                await browser.press("ArrowRight" if k == 0 else "PageDown")
                await browser.wait_for(f"document.body.dataset.stopped === '{k}'", timeout=30)
                await browser.wait_for("!lecture.video.seeking")
                stops.append(await browser.evaluate(CURRENT))
            seen["stops"] = stops
            await browser.screenshot(shots / "presenter.png")
            await browser.press("ArrowLeft")  # back to the start of the previous beat
            await browser.wait_for("!lecture.video.seeking")
            seen["back"] = await browser.evaluate(CURRENT)
            await browser.press("End")
            await browser.wait_for("!lecture.video.seeking")
            seen["end"] = await browser.evaluate(CURRENT)
            await browser.press("Home")
            await browser.wait_for("!lecture.video.seeking")
            seen["home"] = await browser.evaluate(CURRENT)
            await browser.press("b")
            seen["blank"] = await browser.evaluate("!document.getElementById('blank').hidden")
            await browser.press("b")
            seen["unblank"] = await browser.evaluate("document.getElementById('blank').hidden")
            # The speaker view: what the opener posts (beat 1) is what it shows.
            await browser.open(page.as_uri() + "?speaker", width=1280, height=720)
            await browser.wait_for("document.body.classList.contains('speaker')")
            await browser.evaluate(
                "window.postMessage({kind: 'lecture-state', beat: 1, playing: false}, '*')"
            )
            await browser.wait_for("document.body.dataset.beat === '1'")
            seen["speaker"] = await browser.evaluate(
                """({text: document.getElementById('speaker-text').textContent,
                     title: document.getElementById('speaker-title').textContent,
                     next: document.getElementById('speaker-next-still').getAttribute('src'),
                     nextLoaded: document.getElementById('speaker-next-still').naturalWidth,
                     clock: document.getElementById('speaker-clock').textContent,
                     timer: document.getElementById('speaker-timer').textContent})"""
            )
            await browser.wait_for("document.getElementById('speaker-next-still').naturalWidth")
            await browser.screenshot(shots / "speaker-view.png")
            seen["problems"] = browser.problems()
            return seen

    seen = asyncio.run(scenario())
    assert seen["problems"] == []
    assert seen["mode"] == "present" and seen["controls"] is False
    for k, stop in enumerate(seen["stops"]):
        assert stop["paused"] and stop["beat"] == k
        assert stop["time"] == pytest.approx(beats[k]["end"], abs=frame), k
    assert seen["back"]["time"] == pytest.approx(beats[0]["start"], abs=frame)
    assert seen["end"]["beat"] == len(beats) - 1
    assert seen["home"]["time"] == pytest.approx(0, abs=frame)
    assert seen["blank"] and seen["unblank"]
    script = {line["beat"]: strip_marks(line["text"]) for line in _script(out)}
    speaker = seen["speaker"]
    assert speaker["text"] == script[beats[1]["id"]]
    assert speaker["title"] == meta["beat_titles"][beats[1]["id"]]
    assert speaker["next"].endswith(".jpg") and "03-" in speaker["next"]
    assert speaker["clock"] and speaker["timer"].startswith("0:0")


def _script(out: Path) -> list[dict]:
    return json.loads((out / "script.json").read_text(encoding="utf-8"))["lines"]
