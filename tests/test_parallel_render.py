"""A lecture rendered in parts (``render -j N``, ``--scheduler``) is the serial render.

Every beat is encoded by a fresh encoder (serial renders too), and the parts are joined
by remuxing, so with the default lossy encoding (libx264, crf 23) the joined video must
be the serial render's packets, and every decoded frame equal bit for bit; the
narration is mixed once over the whole, so the decoded sound must be the same too.
Also: how the beats are cut, a part that fails, Ctrl-C in the middle, options that
cannot be split.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import interruptible

from backprop_anim.options import RenderOptions
from backprop_anim.parallel import (
    AUTO_GAIN,
    COSTS,
    _part_cost,
    assess_auto,
    choose_jobs,
    split_lecture,
)
from backprop_anim.render import render
from backprop_anim.storyboard import Beat
from backprop_anim.timeline import TimedBeat

REPO = Path(__file__).resolve().parent.parent
TEXTBOOK = REPO / "configs" / "textbook-2-2-2.yaml"
# Short, but with every kind of beat that carries state across a cut: the diagram, the
# values written into it, the header and phase bar, the panels.
SCENES = ("forward", "loss")


def small_options(**kw) -> RenderOptions:
    base = dict(
        quality="l",
        pace=4.0,
        voice="espeak",
        stills=True,
        sections=True,
        use_cache=False,
        scenes=SCENES,
    )
    return RenderOptions(**(base | kw))


def frames_of(video: Path) -> list[np.ndarray]:
    with av.open(str(video)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def packets_of(video: Path) -> list[tuple[int, int, bytes]]:
    """(pts, dts, bytes) of every video packet, past libx264's settings string.

    libx264 writes its settings, thread count included, into a text message inside the
    first packet of each encode; a part rendered on a machine with another core count
    differs there and nowhere else (decoded frames are equal either way).
    """
    with av.open(str(video)) as container:
        return [
            (p.pts, p.dts, bytes(p).replace(b"threads=", b""))
            for p in container.demux(video=0)
            if p.size
        ]


def sound_of(video: Path) -> np.ndarray:
    with av.open(str(video)) as container:
        return np.concatenate([f.to_ndarray().ravel() for f in container.decode(audio=0)])


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKPROP_ANIM_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def serial(cache, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("serial") / "lecture"
    result = render(TEXTBOOK, small_options(jobs=1), output_dir=out)
    return result, json.loads((out / "render.json").read_text())


def check_same_as_serial(serial, result, meta, parts: int) -> None:
    s_result, s_meta = serial
    assert meta["parallel"]["jobs"] == parts
    assert len(meta["parallel"]["parts"]) == parts
    assert meta["frames"] == s_meta["frames"]
    assert meta["beats"] == s_meta["beats"]  # frames, stills, text on screen, object counts
    # Lossy (libx264 crf 23, the default), and yet the same packets and the same frames.
    packets = packets_of(s_result.video)
    assert b"x264" in packets[0][2] and b"crf=23.0" in packets[0][2]
    # The serial render too encodes each beat with a fresh encoder (its settings string
    # opens each beat), so the parts' cuts change nothing.
    assert sum(b"x264 - core" in p[2] for p in packets) == len(s_meta["beats"])
    assert packets_of(result.video) == packets
    a, b = frames_of(s_result.video), frames_of(result.video)
    assert len(a) == len(b) == s_meta["frames"]
    different = [k for k, (x, y) in enumerate(zip(a, b, strict=True)) if not np.array_equal(x, y)]
    assert different == [], f"frames {different[:10]} differ from the serial render"
    # The narration is laid once over the whole: the same sound, sample for sample.
    assert np.array_equal(sound_of(s_result.video), sound_of(result.video))
    for beat in s_meta["beats"]:
        still = f"stills/{beat['id']}.png"
        assert (s_result.output_dir / still).read_bytes() == (
            result.output_dir / still
        ).read_bytes()
    # --sections: one silent clip per beat, cut from the lecture, in parts as in one.
    start = 0
    for beat in s_meta["beats"]:
        section = f"sections/{beat['id']}.mp4"
        assert packets_of(result.output_dir / section) == packets_of(s_result.output_dir / section)
        clip = frames_of(result.output_dir / section)
        assert all(np.array_equal(x, y) for x, y in zip(clip, b[start:], strict=False))
        start += len(clip)
    assert start == len(b)


def fake_player(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ``xdg-open`` (and ``open``) that notes what it was asked to open."""
    bin_dir, said = tmp_path / "bin", tmp_path / "opened.txt"
    bin_dir.mkdir()
    for name in ("xdg-open", "open"):
        (bin_dir / name).write_text(f'#!/bin/sh\necho "$1" >> {said}\n')
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return said


def test_two_processes_render_the_serial_video(serial, tmp_path, monkeypatch):
    out = tmp_path / "lecture"
    opened = fake_player(tmp_path, monkeypatch)
    result = render(TEXTBOOK, small_options(jobs=2, preview=True), output_dir=out)
    meta = json.loads((out / "render.json").read_text())
    check_same_as_serial(serial, result, meta, 2)
    # --preview opened the finished video, with its sound, once.
    assert opened.read_text().splitlines() == [str(result.video.resolve())]
    assert len(sound_of(result.video)) > 0
    parts = meta["parallel"]["parts"]
    # Consecutive runs of beats covering the lecture; each part's facts are recorded.
    assert parts[0]["frames"][0] == 0 and parts[-1]["frames"][1] == meta["frames"]
    assert parts[0]["frames"][1] == parts[1]["frames"][0]
    ids = [b["id"] for b in meta["beats"]]
    assert parts[0]["beats"][0] == ids[0] and parts[1]["beats"][1] == ids[-1]
    assert ids.index(parts[1]["beats"][0]) == ids.index(parts[0]["beats"][1]) + 1
    for part in parts:
        assert part["seconds"] > 0 and 0 < part["peak_rss_mib"] < 1024
        assert set(part["beat_seconds"]) == set(
            ids[ids.index(part["beats"][0]) : ids.index(part["beats"][1]) + 1]
        )
    assert meta["parallel"]["join_seconds"] < 0.1 * meta["timings"]["manim"]


def test_a_dask_cluster_renders_the_serial_video(serial, tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    out = tmp_path / "lecture"
    result = render(TEXTBOOK, small_options(jobs=2, scheduler="local"), output_dir=out)
    meta = json.loads((out / "render.json").read_text())
    check_same_as_serial(serial, result, meta, 2)
    assert "Dask" in meta["parallel"]["runner"]
    assert all(p.get("worker") for p in meta["parallel"]["parts"])


def timed_beats(frames: list[int]) -> list[TimedBeat]:
    out, start = [], 0
    for k, n in enumerate(frames):
        out.append(TimedBeat(Beat(f"b{k}", "loss", "loss"), start, n, 0.0))
        start += n
    return out


def test_beats_are_cut_into_balanced_consecutive_runs():
    options = RenderOptions(quality="h")
    timed = timed_beats([120, 30, 300, 60, 60, 240, 90, 30, 150, 45])
    parts = split_lecture(timed, 3, options)
    assert parts[0].first == 0 and parts[-1].stop == len(timed)
    assert all(a.stop == b.first for a, b in itertools.pairwise(parts))
    assert sum(p.frames for p in parts) == sum(tb.frames for tb in timed)
    # No other way of cutting makes the costliest part cheaper (all cuts tried).
    draw = [tb.frames * COSTS.frame_seconds(options) + COSTS.build for tb in timed]
    prefix_draw = np.concatenate([[0.0], np.cumsum(draw)]).tolist()
    prefix_skip = [COSTS.skip * k for k in range(len(timed) + 1)]
    best = min(
        max(
            _part_cost(0, i, prefix_draw, prefix_skip, COSTS),
            _part_cost(i, j, prefix_draw, prefix_skip, COSTS),
            _part_cost(j, len(timed), prefix_draw, prefix_skip, COSTS),
        )
        for i in range(1, len(timed) - 1)
        for j in range(i + 1, len(timed))
    )
    assert max(p.expected for p in parts) == pytest.approx(best, abs=1e-3)
    # More parts than beats: one beat each.
    assert len(split_lecture(timed[:2], 4, options)) == 2


def test_auto_renders_a_short_lecture_in_one_process(cache, tmp_path):
    out = tmp_path / "lecture"
    render(TEXTBOOK, small_options(jobs="auto", voice="none", scenes=("loss",)), output_dir=out)
    meta = json.loads((out / "render.json").read_text())
    par = meta["parallel"]
    assert par["jobs"] == 1
    # What auto weighed is recorded: the machine now, the lecture, the model's verdict.
    auto = par["auto"]
    assert auto["jobs"] == 1 and par["why"] == auto["why"]
    assert auto["cores"] == len(os.sched_getaffinity(0))
    # This render's own share of the load average is not counted as others' load.
    assert 0 <= auto["own_load"] <= auto["load_average"]
    assert auto["others_load"] == pytest.approx(auto["load_average"] - auto["own_load"], abs=0.011)
    assert auto["idle_cores"] == pytest.approx(
        max(1.0, min(auto["cores"], auto["cores"] - auto["others_load"])), abs=0.011
    )
    assert auto["video_seconds"] == pytest.approx(meta["duration"], abs=0.1)
    assert auto["pixels"] == meta["resolution"]
    assert auto["expected_gain"] < auto["gain_needed"] == AUTO_GAIN


def test_auto_splits_by_idle_cores_length_and_resolution():
    hd, low = RenderOptions(quality="h"), RenderOptions(quality="l")
    long = timed_beats([20 * 60] * 20)  # 20 beats of 20 s at 60 fps: 400 s
    short = timed_beats([45] * 3)  # 9 s at 15 fps
    # Two idle cores: even a long 1080p lecture stays in one process, because libx264
    # already fills both (measured quiet at 720p30: -j 2 took 0.93x the serial time).
    auto = assess_auto(long, hd, n=2, load=0.0)
    assert COSTS.cores_busy(hd) >= 2 and auto["jobs"] == 1
    assert "2 parts are expected to take" in auto["why"] and auto["expected_gain"] <= 1.0
    # Eight idle cores: it is split, and gains no more than the cores it has allow.
    auto = assess_auto(long, hd, n=8, load=0.0)
    assert auto["jobs"] >= 2 and AUTO_GAIN <= auto["expected_gain"] <= auto["jobs"]
    assert auto["why"].startswith(f"auto: 8 cores (8.0 idle): {auto['jobs']} parts expected")
    # At 480p one render keeps about 1.45 cores busy: two cores can give up to 2/1.45.
    assert COSTS.cores_busy(low) == pytest.approx(1.45, abs=0.01)
    assert 1.0 < assess_auto(long, low, n=2, load=0.0)["expected_gain"] < 2 / 1.45
    # A short 480p lecture is not: start-up and replaying would eat the gain.
    auto = assess_auto(short, low, n=2, load=0.0)
    assert auto["jobs"] == 1 and auto["expected_gain"] < AUTO_GAIN
    assert "less than 1.15x (a 9 s lecture at 480p)" in auto["why"]
    # On 8 cores a shorter lecture gains less (start-up and replay weigh more), and a
    # smaller picture more (one render of it leaves more cores idle).
    shorter = timed_beats([20 * 60] * 4)
    assert (
        assess_auto(shorter, hd, n=8, load=0.0)["expected_gain"]
        < assess_auto(long, hd, n=8, load=0.0)["expected_gain"]
        < assess_auto(long, low, n=8, load=0.0)["expected_gain"]
    )
    # Others keep the cores busy: no split, whatever the length.
    auto = assess_auto(long, hd, n=2, load=1.5)
    assert auto["jobs"] == 1 and auto["idle_cores"] == 1.0
    assert auto["why"] == "auto: 2 cores, but only 1.0 idle (other programs' load 1.5)"
    assert assess_auto(long, hd, n=1, load=0.0)["why"] == "auto: one core"
    # Asked for more parts than beats: one beat a part.
    assert choose_jobs(short, RenderOptions(quality="l", jobs=4))[:2] == (
        3,
        "-j 4, but the lecture has 3 beat(s)",
    )
    # Sixteen idle cores: more parts, each expected faster than the two-part split.
    many = assess_auto(long, hd, n=16, load=0.0)
    two = assess_auto(long, hd, n=2, load=0.0)
    assert many["jobs"] > 2 and many["expected_split_seconds"] < two["expected_split_seconds"]


def test_options_that_cannot_be_split_say_so(cache, tmp_path):
    out = tmp_path / "out"
    proc = cli(
        "-j",
        "2",
        "--format",
        "gif",
        "--voice",
        "none",
        "--scenes",
        "loss",
        "-o",
        str(out),
        env=dict(os.environ),
    )
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err
    assert err.strip() == (
        "Error: -j/--scheduler: a gif is rendered in one process (its palette is made from "
        "every frame); leave out -j and --scheduler, or use --format mp4"
    )
    assert not out.exists()


def cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "backprop_anim.cli", "render", str(TEXTBOOK), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
        preexec_fn=interruptible,
    )


def children_of(pid: int) -> list[int]:
    """Every live process whose parent chain leads to ``pid``."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        frontier += kids
    return found


FAIL_AT_LOSS = """
import scenes.loss
def broken(self, beat):
    raise RuntimeError("the loss panel broke")
scenes.loss.LossBeats.beat_loss = broken
"""


def test_a_failing_part_fails_the_render_naming_its_beat(cache, tmp_path):
    # Every part process imports this sitecustomize: the loss beat raises there.
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FAIL_AT_LOSS)
    env = {**os.environ, "PYTHONPATH": f"{hook}{os.pathsep}{REPO}"}
    out = tmp_path / "out"
    proc = cli(
        "-j",
        "2",
        "--voice",
        "none",
        "--pace",
        "4",
        "--scenes",
        "title,loss",
        "--force",
        "-o",
        str(out),
        env=env,
    )
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    assert "failed at beat s0.loss" in err and "RuntimeError: the loss panel broke" in err, err
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def test_ctrl_c_leaves_no_file_and_no_part_process(cache, tmp_path):
    out = tmp_path / "out"
    proc = cli(
        "-j", "2", "--voice", "none", "--pace", "2", "--force", "-o", str(out), env=dict(os.environ)
    )
    deadline = time.monotonic() + 120
    parts: list[int] = []
    while time.monotonic() < deadline and len(parts) < 2:
        time.sleep(0.5)
        parts = [
            p
            for p in children_of(proc.pid)
            if "backprop_anim.parallel" in Path(f"/proc/{p}/cmdline").read_text(errors="replace")
        ]
    assert len(parts) == 2, "the part processes never started"
    time.sleep(3)  # well into drawing
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Interrupted." in err and "Traceback" not in err
    assert children_of(proc.pid) == [] and not any(Path(f"/proc/{p}").exists() for p in parts)
    assert not out.exists() and list(tmp_path.iterdir()) == []
