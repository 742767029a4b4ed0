"""A real 4-variant batch on the local pool: manifest, files, failure isolation, resume,
Ctrl-C. Renders are tiny (480p15, pace 4, the one-beat summary scene, no voice)."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner, Result
from conftest import interruptible
from PIL import Image

from backprop_anim.batch import load_batch
from backprop_anim.cli import main

FIXTURES = Path(__file__).parent / "batch_fixtures"
LR = "training.optimizer.learning_rate"
ACT = "network.layers.0.activation"
OK_NAMES = ["lr-0.05__act-sigmoid", "lr-0.5__act-tanh", "relu-hidden"]
NAMES = [*OK_NAMES, "explode"]


@pytest.fixture(scope="module", autouse=True)
def fresh_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Renders here start cold: no Manim cache from earlier runs (also for workers)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKPROP_ANIM_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@dataclass
class Ran:
    folder: Path  # the sweep, its base config and the batch output (out/)
    out: Path
    result: Result


def batch_cli(sweep: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["batch", str(sweep), *args], catch_exceptions=False)


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def mtimes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.glob("*/*.mp4")}


@pytest.fixture(scope="module")
def tiny_batch(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    folder = tmp_path_factory.mktemp("batch") / "sweep"
    shutil.copytree(FIXTURES, folder)
    out = folder / "out"
    result = batch_cli(folder / "sweep.yaml", "-j", "2", "-o", str(out))
    return Ran(folder, out, result)


def test_batch_writes_manifest_and_files_and_isolates_the_failure(tiny_batch: Ran) -> None:
    result, out = tiny_batch.result, tiny_batch.out
    assert result.exit_code == 1, result.output  # one variant failed
    summary = result.stdout.splitlines()
    assert summary[0] == "batch tiny-sweep: 3 rendered, 0 up to date, 1 failed (of 4)"
    assert summary[1] == "failed:"
    assert summary[2].startswith("  explode: training diverged at step ")
    assert "Try a smaller learning rate (now 1e+30)" in summary[2]

    m = manifest(out)
    assert (m["format"], m["version"], m["batch"], m["mode"]) == (
        "backprop-anim-batch",
        1,
        "tiny-sweep",
        "zip",
    )
    assert m["render"]["scenes"] == ["summary"] and m["render"]["pace"] == 4.0
    expected_hash = {v.name: v.hash for v in load_batch(tiny_batch.folder / "sweep.yaml").variants}
    records = {r["name"]: r for r in m["variants"]}
    assert [r["name"] for r in m["variants"]] == NAMES
    assert {n: r["hash"] for n, r in records.items()} == expected_hash
    assert records["lr-0.05__act-sigmoid"]["overrides"] == {LR: 0.05, ACT: "sigmoid"}
    assert records["lr-0.5__act-tanh"]["overrides"] == {LR: 0.5, ACT: "tanh"}
    assert records["relu-hidden"]["overrides"] == {ACT: "relu"}
    assert records["explode"]["overrides"] == {LR: 1e30}

    bad = records["explode"]
    assert bad["status"] == "failed"
    assert bad["error"].startswith("training diverged at step ")
    assert bad["files"] == [] and bad["final_loss"] is None and bad["video"] is None
    assert not (out / "explode").exists()

    for name in OK_NAMES:
        rec = records[name]
        assert rec["status"] == "ok" and rec["error"] is None
        assert rec["worker"] == "local"
        core = ("poster.jpg", "render.json", "storyboard.png", "tiny.mp4", "trace.json")
        published = ("index.html", "thumbnail.png", "tiny.chapters.vtt", "tiny.youtube.txt")
        assert {f"{name}/{f}" for f in core + published} <= set(rec["files"])
        assert rec["files"] == sorted(set(rec["files"]))
        assert all((out / f).is_file() for f in rec["files"])
        assert rec["video"] == f"{name}/tiny.mp4"
        assert rec["poster"] == f"{name}/poster.jpg"
        assert rec["timings"]["wall"] > rec["timings"]["process"] > rec["timings"]["train"] > 0

        # The right config went to the right folder, and the manifest's numbers are the
        # render's own: final loss from the trace, length from render.json and the file.
        trace = json.loads((out / name / "trace.json").read_text())
        layer0 = trace["config"]["network"]["layers"][0]
        assert {
            LR: trace["config"]["training"]["optimizer"]["learning_rate"],
            ACT: layer0["activation"],
        } == {**{LR: 0.1, ACT: "sigmoid"}, **rec["overrides"]}
        assert rec["final_loss"] == trace["summary"]["snapshots"][-1]["loss"]
        meta = json.loads((out / name / "render.json").read_text())
        assert rec["duration"] == meta["duration"]
        with av.open(str(out / rec["video"])) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            assert (stream.codec_context.width, stream.codec_context.height) == (854, 480)
            assert stream.average_rate == 15
            frames = sum(1 for _ in container.decode(stream))
        assert frames / 15 == pytest.approx(meta["duration"], abs=1 / 15)
        poster = np.asarray(Image.open(out / rec["poster"]).convert("L"), dtype=float)
        assert poster.shape == (480, 854)
        assert poster.std() > 5  # a picture of the lecture, not a blank frame

    # No staging or swapped-out folders left behind.
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*OK_NAMES, "index.html", "manifest.json"]
    )
    # -j 2: the first two variants started before either finished.
    log = result.stderr.splitlines()
    first_done = next(i for i, line in enumerate(log) if line.startswith("done"))
    started = [
        line for line in log[:first_done] if line.startswith("running") and "starting" in line
    ]
    assert len(started) == 2


def test_resume_renders_nothing_then_exactly_the_changed_variant(
    tiny_batch: Ran, tmp_path: Path
) -> None:
    # A copy elsewhere: hashes depend on content, not on where the files are.
    folder = tmp_path / "moved"
    shutil.copytree(tiny_batch.folder, folder)
    out = folder / "out"
    before = mtimes(out)
    again = batch_cli(folder / "sweep.yaml", "-j", "2", "-o", str(out))
    assert again.exit_code == 1  # explode is retried, and fails again
    assert again.stdout.splitlines()[0] == (
        "batch tiny-sweep: 0 rendered, 3 up to date, 1 failed (of 4)"
    )
    assert mtimes(out) == before

    sweep = folder / "sweep.yaml"
    sweep.write_text(sweep.read_text().replace(f"{ACT}: relu}}", f"{ACT}: leaky_relu}}"))
    changed = batch_cli(sweep, "-j", "2", "-o", str(out))
    assert changed.stdout.splitlines()[0] == (
        "batch tiny-sweep: 1 rendered, 2 up to date, 1 failed (of 4)"
    )
    after = mtimes(out)
    assert {k for k in after if after[k] != before[k]} == {"relu-hidden/tiny.mp4"}
    rec = next(r for r in manifest(out)["variants"] if r["name"] == "relu-hidden")
    assert rec["hash"] == next(
        v.hash for v in load_batch(sweep).variants if v.name == "relu-hidden"
    )
    trace = json.loads((out / "relu-hidden" / "trace.json").read_text())
    assert trace["config"]["network"]["layers"][0]["activation"] == "leaky_relu"


def test_ctrl_c_keeps_finished_variants_and_leaves_no_partial_files(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "tiny.yaml", tmp_path)
    sweep = tmp_path / "two.yaml"
    sweep.write_text(
        f"base: tiny.yaml\nvary:\n  {LR}: [0.05, 0.5]\n"
        "render: {quality: l, pace: 1, scenes: [summary], voice: none}\n"
    )
    out = tmp_path / "out"
    log = (tmp_path / "log.txt").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "backprop_anim.cli", "batch", str(sweep), "-j", "1", "-o", str(out)],
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=interruptible,
    )
    try:
        # Interrupt once the first variant is done and the second is rendering.
        deadline = time.monotonic() + 180
        while "running     lr-0.5: rendering" not in (tmp_path / "log.txt").read_text():
            assert time.monotonic() < deadline, "the second variant did not start in time"
            assert proc.poll() is None, (tmp_path / "log.txt").read_text()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    text = (tmp_path / "log.txt").read_text()
    assert "Interrupted." in text and "Traceback" not in text

    statuses = {r["name"]: r["status"] for r in manifest(out)["variants"]}
    assert statuses == {"lr-0.05": "ok", "lr-0.5": "pending"}
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "lr-0.05", "manifest.json"]
    with av.open(str(out / "lr-0.05" / "tiny.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) > 0
    # The interrupted render's process was stopped too, not left running.
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(out) not in ps

    resumed = batch_cli(sweep, "-j", "1", "-o", str(out))
    assert resumed.exit_code == 0
    assert resumed.stdout.splitlines()[0] == "batch two: 1 rendered, 1 up to date (of 2)"
    assert os.path.isfile(out / "lr-0.5" / "tiny.mp4")


# Every <video>: wait until it can play, play it for a moment, report what happened.
PLAY_ALL = """
Promise.all([...document.querySelectorAll("video")].map((v) => new Promise((resolve) => {
  const report = (played) => resolve({src: v.currentSrc, readyState: v.readyState,
    played, time: v.currentTime, width: v.videoWidth, error: v.error && v.error.code});
  const play = () => v.play().then(
    () => setTimeout(() => report(v.currentTime > 0 && !v.paused), 400),
    (e) => report(String(e)));
  v.addEventListener("error", () => report(false), {once: true});
  if (v.readyState >= 3) { play(); return; }
  v.addEventListener("canplay", play, {once: true});
  v.preload = "auto"; v.load();
})))
"""
POSTERS = """
Promise.all([...document.querySelectorAll("video")].map((v) => new Promise((resolve) => {
  const img = new Image();
  img.onload = () => resolve([v.poster, img.naturalWidth, img.naturalHeight]);
  img.onerror = () => resolve([v.poster, 0, 0]);
  img.src = v.poster;
})))
"""
ROWS = """[...document.querySelectorAll("#variants tbody tr")].map(
  (r) => [r.dataset.name, r.cells[3].textContent, r.className])"""
PAGE_LINKS = """[...document.querySelectorAll("a.page")].map((a) => a.getAttribute("href"))"""
CLICK_LOSS = 'document.querySelector("th[data-key=loss] button").click()'


def videos_in_chromium(page: Path) -> tuple[list, list, list] | None:
    """Play every video of ``page`` in headless Chromium (None: no Chromium here)."""
    if importlib.util.find_spec("tornado") is None:
        return None
    from batch_chromium import Chromium, chromium_binary

    binary = chromium_binary()
    if binary is None:
        return None

    async def scenario() -> tuple[list, list, list]:
        async with Chromium(binary) as browser:
            await browser.open(page.as_uri())
            videos = await browser.evaluate(PLAY_ALL)
            posters = await browser.evaluate(POSTERS)
            return videos, posters, browser.problems()

    return asyncio.run(scenario())


def test_gallery_page_in_headless_chromium(tiny_batch: Ran, tmp_path: Path) -> None:
    pytest.importorskip("tornado", reason="the DevTools client uses tornado (dask extra)")
    from batch_chromium import Chromium, chromium_binary

    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (make setup installs it)")
    out = tiny_batch.out
    page = (out / "index.html").read_text()
    assert "http://" not in page and "https://" not in page  # no CDN, no network

    async def scenario() -> dict:
        async with Chromium(binary) as browser:
            await browser.open((out / "index.html").as_uri())
            seen = {
                "videos": await browser.evaluate(PLAY_ALL),
                "posters": await browser.evaluate(POSTERS),
                "rows": await browser.evaluate(ROWS),
                "pages": await browser.evaluate(PAGE_LINKS),
            }
            await browser.evaluate(CLICK_LOSS)
            seen["ascending"] = await browser.evaluate(ROWS)
            await browser.evaluate(CLICK_LOSS)
            seen["descending"] = await browser.evaluate(ROWS)
            seen["screenshot"] = await browser.screenshot(tmp_path / "gallery.png")
            seen["problems"] = browser.problems()
            seen["urls"] = browser.requested_urls()
            return seen

    seen = asyncio.run(scenario())
    assert seen["problems"] == []
    # Only local files (and the player's own built-in data: icons): nothing from a network.
    assert all(url.startswith(("file://", "data:")) for url in seen["urls"]), seen["urls"]

    records = {r["name"]: r for r in manifest(out)["variants"]}
    assert len(seen["videos"]) == 3
    # Each rendered variant links its own lecture page (the failed one has none).
    assert sorted(seen["pages"]) == sorted(f"{name}/index.html" for name in OK_NAMES)
    for video in seen["videos"]:
        assert video["error"] is None and video["played"] is True, video
        assert video["readyState"] >= 3 and video["width"] == 854
    assert sorted(v["src"] for v in seen["videos"]) == sorted(
        (out / records[n]["video"]).as_uri() for n in OK_NAMES
    )
    assert sorted(seen["posters"]) == sorted(
        [(out / records[n]["poster"]).as_uri(), 854, 480] for n in OK_NAMES
    )

    from backprop_anim.numbers import fmt

    assert seen["rows"] == [
        [n, fmt(records[n]["final_loss"]) if n != "explode" else "–", records[n]["status"]]
        for n in NAMES
    ]
    by_loss = sorted(OK_NAMES, key=lambda n: records[n]["final_loss"])
    assert [row[0] for row in seen["ascending"]] == [*by_loss, "explode"]
    assert [row[0] for row in seen["descending"]] == [*reversed(by_loss), "explode"]

    shot = Image.open(seen["screenshot"])
    assert shot.width == 1280 and np.asarray(shot.convert("L")).std() > 10


def color_pixels(image: Image.Image, hex_color: str, tolerance: float = 40) -> int:
    """Pixels within ``tolerance`` (RGB distance) of a colour: video-compressed colours drift."""
    rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])
    pixels = np.asarray(image.convert("RGB")).astype(int)
    return int((np.linalg.norm(pixels - rgb, axis=2) < tolerance).sum())


def test_compare_video_plots_the_finished_variants(tiny_batch: Ran, tmp_path: Path) -> None:
    from backprop_anim.media import extract_frames
    from backprop_anim.numbers import spoken
    from backprop_anim.visual.theme import DARK
    from scenes.compare import CURVE_COLORS

    folder = tmp_path / "cmp"
    shutil.copytree(tiny_batch.folder, folder)
    out = folder / "out"
    ran = batch_cli(folder / "sweep.yaml", "-j", "2", "-o", str(out), "--compare")
    assert ran.exit_code == 1  # explode still fails; the comparison leaves it out
    lines = ran.stdout.splitlines()
    assert lines[0] == "batch tiny-sweep: 0 rendered, 3 up to date, 1 failed (of 4)"
    cmp = manifest(out)["compare"]
    assert cmp["status"] == "ok" and cmp["error"] is None and cmp["voiced"] is False
    assert f"comparison: compare/compare.mp4 ({cmp['duration']:.1f} s, silent)" in lines
    assert cmp["files"] == [
        "compare/compare.mp4",
        "compare/compare.srt",
        "compare/compare.vtt",
        "compare/poster.jpg",
        "compare/script.json",
    ]
    assert cmp["poster"] == "compare/poster.jpg"
    with av.open(str(out / cmp["video"])) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames / 15 == pytest.approx(cmp["duration"], abs=1 / 15)

    # One beat per idea, end to end, and every number said comes from the traces.
    script = json.loads((out / "compare" / "script.json").read_text())
    assert [b["beat"] for b in script] == [
        "compare.title",
        *(f"compare.curve.{n}" for n in OK_NAMES),
        "compare.networks",
        "compare.verdict",
    ]
    assert script[0]["start"] == 0 and script[-1]["end"] == pytest.approx(frames / 15)
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(script))
    finals = {}
    for name in OK_NAMES:
        snaps = json.loads((out / name / "trace.json").read_text())["summary"]["snapshots"]
        finals[name] = snaps[-1]["loss"]
        text = next(b["text"] for b in script if b["beat"] == f"compare.curve.{name}")
        assert text.endswith(
            f"from {spoken(snaps[0]['loss'])} to {spoken(snaps[-1]['loss'])} after 10 steps."
        )
    assert next(b["text"] for b in script if b["beat"].endswith("lr-0.5__act-tanh")).startswith(
        "With a learning rate of 0.5 and a tanh activation in layer hidden1, the loss "
    )
    best = min(finals, key=finals.__getitem__)
    assert script[-1]["text"] == (
        f"The lowest final loss, {spoken(finals[best])}, comes with "
        + {
            "lr-0.05__act-sigmoid": "a learning rate of 0.05 and a sigmoid activation in layer "
            "hidden1.",
            "lr-0.5__act-tanh": "a learning rate of 0.5 and a tanh activation in layer hidden1.",
            "relu-hidden": "a relu activation in layer hidden1.",
        }[best]
    )

    # What is on screen at the end of the last curve, of the networks, of the verdict.
    ends = [round(b["end"] * 15) - 1 for b in script]
    curves, networks, verdict = extract_frames(out / cmp["video"], ends[-3:])
    for k in range(3):
        assert color_pixels(curves, CURVE_COLORS[k]) > 150  # each variant's curve is drawn
    assert color_pixels(networks, DARK.positive) > 150  # edges by sign of the final weights
    assert color_pixels(networks, DARK.negative) > 50
    assert color_pixels(networks, DARK.highlight) == 0
    assert color_pixels(verdict, DARK.highlight) > 300  # the best variant boxed, the verdict

    page = (out / "index.html").read_text()
    assert '<div id="compare"><video' in page and 'src="compare/compare.mp4"' in page
    played = videos_in_chromium(out / "index.html")
    if played is not None:  # the gallery plays the comparison too, with its poster
        videos, posters, problems = played
        assert problems == []
        assert len(videos) == 4 and all(v["played"] is True for v in videos)
        assert videos[0]["src"] == (out / "compare" / "compare.mp4").as_uri()
        assert posters[0] == [(out / "compare" / "poster.jpg").as_uri(), 854, 480]
    again = batch_cli(folder / "sweep.yaml", "-o", str(out), "--compare")
    assert "comparison: compare/compare.mp4 (up to date)" in again.stdout.splitlines()


@pytest.mark.slow
def test_compare_video_is_narrated_when_a_voice_is_on(tmp_path: Path) -> None:
    from backprop_anim.narration.voice import get_voice

    if get_voice("auto") is None:
        pytest.skip("no offline voice installed (pip install 'backprop-anim[voice]')")
    folder = tmp_path / "voiced"
    shutil.copytree(FIXTURES, folder)
    out = folder / "out"
    ran = batch_cli(
        folder / "sweep.yaml", "-j", "2", "-o", str(out), "--compare", "--voice", "auto"
    )
    cmp = manifest(out)["compare"]
    assert cmp["status"] == "ok" and cmp["voiced"] is True, ran.output
    assert f"comparison: compare/compare.mp4 ({cmp['duration']:.1f} s, narrated)" in ran.stdout
    with av.open(str(out / cmp["video"])) as container:
        assert [s.codec_context.name for s in container.streams.audio] == ["aac"]
        audio = container.streams.audio[0]
        samples = sum(f.samples for f in container.decode(audio))
        rate = audio.codec_context.sample_rate
    assert samples / rate == pytest.approx(cmp["duration"], abs=0.2)
    # Every spoken line is on time: each beat lasts at least as long as its speech, and
    # the captions carry exactly the script's words.
    script = json.loads((out / "compare" / "script.json").read_text())
    assert all(0.5 < b["speech"] <= b["end"] - b["start"] for b in script)
    vtt = (out / "compare" / "compare.vtt").read_text()
    spoken_words = " ".join(
        line for line in vtt.splitlines() if line and "-->" not in line and line != "WEBVTT"
    ).split()
    assert spoken_words == " ".join(b["text"] for b in script).split()
