"""One lecture on every core, or on a Dask cluster: beats rendered in parts, then joined.

A render's picture at a beat depends on every beat before it (the diagram, the values
written into it, the header), so a part cannot simply start drawing at its first beat.
Each part is therefore the whole lecture played by Manim with its section skipping for
the beats before the part's window (every animation runs to its end state, nothing is
drawn or encoded; :class:`~backprop_anim.visual.renderer.SkippingRenderer`), then drawn
and encoded for its own beats, and stopped after its last. Its video starts on a
keyframe (a fresh encoder always does) and is encoded with the same settings as every
other part, so the parts are joined by copying packets (:func:`backprop_anim.publish.remux.join`)
and the narration is mixed once over the whole, exactly as for a serial render.

Where the cuts go: :func:`split_lecture` cuts the beats into consecutive runs so that
the most expensive part is as cheap as possible, under a cost model measured on this
machine (:data:`COSTS`): a part pays the start of a fresh process, building (not
drawing) every beat before its window, and building and drawing its own beats.

Where parts run: fresh local processes (``-j N``), one per part, each its own session
so that Ctrl-C reaches only the parent, which stops them; or tasks on a Dask cluster
(``--scheduler``), each again a fresh process on its worker (Manim's configuration is
process-global), returning the part's video as bytes.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import json
import math
import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .children import Children
from .errors import UserError
from .options import RenderOptions
from .timeline import TimedBeat

if TYPE_CHECKING:
    from scenes.base import LecturePlan

    from .trace.model import Trace

BEAT_MARK = "@@backprop-anim-part beat "
OUTPUT_TAIL = 30  # lines of a crashed part's output kept for its error message
STOP_GRACE_SECONDS = 10.0  # a part asked to stop gets this long before it is killed


class PartFailed(UserError):
    """A part of the render failed; the message names the part and the beat (exit 1)."""

    exit_code = 1


@dataclass(frozen=True)
class CostModel:
    """Expected wall seconds of a render on this machine, at 1280x720.

    ``frame``: drawing and encoding one frame, in wall seconds of a render that has all
    the cores it keeps busy, scaled by the picture's pixels; ``build``: building one
    beat's objects (typesetting most of all); ``skip``: replaying a beat without
    drawing, paid by every later part; ``start``: a fresh process (imports, fonts, the
    trace) before the first beat; ``busy``/``busy_per_720p``: cores one render keeps
    busy (the drawing thread, edge painting, and libx264's threads, which find more
    work in bigger pictures; see :meth:`cores_busy`).
    Measured with benchmarks/parallel_bench.py (figures in benchmarks/README.md).
    """

    # Quiet machine, 720p30, 21 beats, 13,109 frames: Manim's part of the serial render
    # took 99.0 s (7.55 ms a frame, builds included) and about 1.9 cores' worth of CPU.
    frame: float = 0.0074
    build: float = 0.12
    # Replaying a beat without drawing: measured at 720p30 as 6 % of drawing it (23.7 s
    # for 10 beats against 409 s for 10 drawn, both under the same load).
    skip: float = 0.2
    start: float = 3.0
    # 1.45 cores at 480p (854x480), 1.9-2.0 (every core there was) at 720p on 2 cores.
    busy: float = 1.0
    busy_per_720p: float = 1.0
    busy_most: float = 4.0  # not measured beyond 2 cores: a guess that caps 1080p and up

    def frame_seconds(self, options: RenderOptions) -> float:
        width, height = options.resolution
        return self.frame * (width * height) / (1280 * 720)

    def cores_busy(self, options: RenderOptions) -> float:
        """Cores one render of this picture size keeps busy when it has them.

        The drawing is one thread; libx264 encodes on more threads the bigger the
        picture, so at 720p one render already fills two cores and a second process
        on a 2-core machine only halves each one's share (0.93x measured, quiet).
        """
        width, height = options.resolution
        pixels = width * height / (1280 * 720)
        return min(self.busy_most, self.busy + self.busy_per_720p * pixels)


COSTS = CostModel()


@dataclass(frozen=True)
class Part:
    """A run of consecutive beats rendered by one process: beats [first, stop)."""

    index: int
    first: int
    stop: int
    start_frame: int
    frames: int
    expected: float  # seconds, by the cost model


def beat_costs(timed: list[TimedBeat], options: RenderOptions, costs: CostModel = COSTS):
    """(drawing cost, building cost) per beat, in expected seconds."""
    per_frame = costs.frame_seconds(options)
    return [(tb.frames * per_frame, costs.build) for tb in timed]


def _part_cost(first: int, stop: int, prefix_draw, prefix_skip, costs: CostModel) -> float:
    return costs.start + prefix_skip[first] + (prefix_draw[stop] - prefix_draw[first])


def split_lecture(
    timed: list[TimedBeat], parts: int, options: RenderOptions, costs: CostModel = COSTS
) -> list[Part]:
    """Cut the beats into ``parts`` consecutive runs, the costliest as cheap as possible.

    A part's cost is a process start, the building of every beat before it (replayed
    without drawing) and the building and drawing of its own beats; later parts
    therefore get fewer frames. Exact: dynamic programming over the cut positions.
    """
    n = len(timed)
    parts = max(1, min(parts, n))
    draw = beat_costs(timed, options, costs)
    prefix_draw = [0.0]
    prefix_skip = [0.0]
    for d, b in draw:
        prefix_draw.append(prefix_draw[-1] + d + b)
        prefix_skip.append(prefix_skip[-1] + costs.skip)
    inf = float("inf")
    # best[p][j]: the least possible cost of the costliest part when the first j beats
    # are cut into p parts; cut[p][j]: where the last of those parts starts.
    best = [[inf] * (n + 1) for _ in range(parts + 1)]
    cut = [[0] * (n + 1) for _ in range(parts + 1)]
    best[0][0] = 0.0
    for p in range(1, parts + 1):
        for j in range(p, n + 1):
            for i in range(p - 1, j):
                if best[p - 1][i] == inf:
                    continue
                worst = max(best[p - 1][i], _part_cost(i, j, prefix_draw, prefix_skip, costs))
                if worst < best[p][j]:
                    best[p][j], cut[p][j] = worst, i
    bounds = []
    j = n
    for p in range(parts, 0, -1):
        i = cut[p][j]
        bounds.append((i, j))
        j = i
    bounds.reverse()
    return [
        Part(
            index=k,
            first=i,
            stop=j,
            start_frame=timed[i].start_frame,
            frames=sum(tb.frames for tb in timed[i:j]),
            expected=round(_part_cost(i, j, prefix_draw, prefix_skip, costs), 3),
        )
        for k, (i, j) in enumerate(bounds)
    ]


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def others_load() -> tuple[float, float]:
    """(1-minute load average, the part of it this process accounts for itself).

    The load average counts this render too: training, speech synthesis and typesetting
    before the beats are split can keep a core busy for a minute, which alone would make
    an idle machine look half busy. The kernel's average is exponentially damped over a
    minute, so a process that has used ``c`` CPU seconds in its ``t`` seconds of life
    accounts for about ``c / t * (1 - exp(-t / 60))`` of it (Linux; elsewhere 0).
    """
    try:
        load = os.getloadavg()[0]
    except OSError:
        return 0.0, 0.0
    own = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = Path("/proc/self/stat").read_text()
        started = int(stat[stat.rindex(")") + 2 :].split()[19]) / os.sysconf("SC_CLK_TCK")
        alive = float(Path("/proc/uptime").read_text().split()[0]) - started
        if alive > 0:
            own = time.process_time() / alive * (1 - math.exp(-alive / 60))
    return load, min(own, load)


def idle_cores(n: int, load: float) -> float:
    """Cores not kept busy by other programs: ``n`` minus their load, at least one.

    On a shared machine, a render split into more processes than there are idle cores
    only takes CPU from the others (two processes get twice one process's share)
    without finishing sooner than the work spread over the cores it really has.
    """
    return max(1.0, min(float(n), n - load))


def expected_wall(
    timed: list[TimedBeat],
    jobs: int,
    options: RenderOptions,
    costs: CostModel = COSTS,
    free: float | None = None,
) -> tuple[float, list[Part]]:
    """Expected wall seconds with ``jobs`` parts on ``free`` idle cores, and the parts.

    One process (a serial render) costs its beats without a second start-up. Parts
    run at once; they finish no sooner than the costliest part, nor sooner than all
    their work spread over the idle cores (each render keeps ``cores_busy`` busy:
    one render alone on fewer cores than that is slowed down too).
    """
    free = float(cores()) if free is None else free
    busy = costs.cores_busy(options)
    parts = split_lecture(timed, jobs, options, costs)
    if len(parts) == 1:
        return (parts[0].expected - costs.start) * max(1.0, busy / free), parts
    total = sum(p.expected for p in parts) * busy / free
    return max(max(p.expected for p in parts), total), parts


# -j auto splits when the model expects the render to finish at least this much sooner:
# the model's per-beat figures vary by about 10 % with the lecture (benchmarks/README.md),
# and a split that gains less is not worth a second process's memory.
AUTO_GAIN = 1.15


def assess_auto(
    timed: list[TimedBeat],
    options: RenderOptions,
    *,
    n: int | None = None,
    load: float | None = None,
    costs: CostModel = COSTS,
) -> dict[str, Any]:
    """What ``-j auto`` chooses for this lecture on this machine now, and the figures why.

    Tries every number of parts from 1 to the machine's cores on the cost model, with
    the cores other programs leave idle (``idle_cores``), and keeps the fastest; it
    splits only if that is :data:`AUTO_GAIN` times faster than one process. Recorded in
    render.json (``parallel.auto``) whatever ``-j`` was, so the model can be checked
    against measured times (benchmarks/parallel_bench.py).
    """
    n = cores() if n is None else n
    measured = {}
    if load is None:
        average, own = others_load()
        load = average - own
        measured = {"load_average": round(average, 2), "own_load": round(own, 2)}
    free = idle_cores(n, load)
    serial, _ = expected_wall(timed, 1, options, costs, free)
    # The best split (2 parts or more), even if it is slower than one process: the
    # reason then says by how much.
    best_jobs, best_wall = 1, serial
    for jobs in range(2, min(n, len(timed)) + 1):
        wall, parts = expected_wall(timed, jobs, options, costs, free)
        if best_jobs == 1 or wall < best_wall:
            best_jobs, best_wall = len(parts), wall
    gain = serial / best_wall
    chosen = best_jobs if gain >= AUTO_GAIN else 1
    seconds = sum(tb.frames for tb in timed) / options.frame_rate
    width, height = options.resolution
    if n < 2:
        reason = "one core"
    elif free < 1.5:
        reason = f"{n} cores, but only {free:.1f} idle (other programs' load {load:.1f})"
    elif best_jobs == 1:
        reason = f"{n} cores, but the lecture is one beat"
    elif chosen == 1:
        reason = (
            f"{n} cores ({free:.1f} idle), but {best_jobs} parts are expected to take "
            f"{best_wall:.1f} s against {serial:.1f} s in one process: {gain:.2f}x, "
            f"less than {AUTO_GAIN}x (a {seconds:.0f} s lecture at {height}p)"
        )
    else:
        reason = (
            f"{n} cores ({free:.1f} idle): {chosen} parts expected to take {best_wall:.1f} s "
            f"against {serial:.1f} s in one process ({gain:.2f}x)"
        )
    return {
        "jobs": chosen,
        "why": f"auto: {reason}",
        "cores": n,
        **measured,
        "others_load": round(load, 2),
        "idle_cores": round(free, 2),
        "video_seconds": round(seconds, 3),
        "pixels": [width, height],
        "expected_serial_seconds": round(serial, 1),
        "expected_split_seconds": round(best_wall, 1),
        "expected_gain": round(gain, 3),
        "gain_needed": AUTO_GAIN,
    }


def choose_jobs(timed: list[TimedBeat], options: RenderOptions) -> tuple[int, str, dict]:
    """How many parts to render in, why (said in render.json), and the auto figures."""
    jobs = options.jobs
    if options.format == "gif":
        if jobs not in ("auto", 1) or options.scheduler:
            raise UserError(
                "-j/--scheduler: a gif is rendered in one process (its palette is made "
                "from every frame); leave out -j and --scheduler, or use --format mp4"
            )
        return 1, "a gif is rendered in one process", {}
    auto = assess_auto(timed, options)
    if options.scheduler:
        return (cores() if jobs == "auto" else int(jobs)), f"--scheduler {options.scheduler}", auto
    if jobs != "auto":
        if int(jobs) > len(timed):  # a part is at least one beat
            return len(timed), f"-j {jobs}, but the lecture has {len(timed)} beat(s)", auto
        return int(jobs), f"-j {jobs}", auto
    return auto["jobs"], auto["why"], auto


# --- one part, in the process that renders it ----------------------------------------


@dataclass
class PartTask:
    """What a process needs to render one part: everything travels with it."""

    version: str
    name: str
    trace: Trace
    timed: list[TimedBeat]
    options: RenderOptions
    part: Part
    burn_captions: list
    encoder_options: dict[str, str] = field(default_factory=dict)
    speech: dict = field(default_factory=dict)  # beat id -> narration.speech.Speech


def render_part(task: PartTask, folder: Path, on_beat=None) -> dict[str, Any]:
    """Render one part in this process into ``folder``; return its video and its facts."""
    from manim import tempconfig

    from .render import _run_manim, cache_dir

    if task.version != __version__:
        raise UserError(
            f"this worker has backprop-anim {__version__}, the render was started with "
            f"{task.version}; install the same version everywhere"
        )
    start = time.perf_counter()
    part = task.part
    beat_started: dict[str, float] = {}

    def track(index: int, total: int, timed: TimedBeat) -> None:
        beat_started[timed.beat.id] = time.perf_counter()
        if on_beat is not None:
            on_beat(index, total, timed)

    # Typesetting caches are shared by the renders of this lecture, but two parts write
    # them at once: each part position has its own (Manim writes them non-atomically).
    media_dir = cache_dir() / "manim" / task.name / f"part-{part.index}"
    with tempconfig({"video_encoder_options": dict(task.encoder_options)}):
        movie, plan = _run_manim(
            task.trace,
            task.timed,
            task.options,
            media_dir,
            track,
            task.burn_captions,
            folder / "videos",
            window=(part.first, part.stop),
            speech=task.speech,
        )
    end = time.perf_counter()
    ids = [tb.beat.id for tb in task.timed[part.first : part.stop]]
    times = [beat_started.get(i, end) for i in ids] + [end]
    video = folder / f"part-{part.index}{movie.suffix}"
    shutil.move(str(movie), video)
    return {
        "video": str(video),
        "beat_seconds": {
            i: round(b - a, 3) for i, a, b in zip(ids, times, times[1:], strict=False)
        },
        "replay_seconds": round(times[0] - start, 3),
        "seconds": round(end - start, 3),
        "still_frames": {i: plan.still_frames[i] for i in ids if i in plan.still_frames},
        "still_images": {i: plan.still_images[i] for i in ids if i in plan.still_images},
        "screen_text": {i: plan.screen_text.get(i, []) for i in ids},
        "mobject_counts": {i: plan.mobject_counts[i] for i in ids if i in plan.mobject_counts},
        "layout": plan.layout,
        "sync": [e for e in plan.sync if e["beat"] in ids],
        "travels": [t for t in plan.travels if t["beat"] in ids],
    }


def _die_with_parent() -> None:
    """Linux: have the kernel stop this process if the process that started it dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    """``python -m backprop_anim.parallel TASK FOLDER``: one part, in a fresh process."""
    _die_with_parent()
    signal.signal(signal.SIGTERM, _interrupt)  # stopped: unwind, close files
    task_file, folder = Path(argv[0]), Path(argv[1])
    task: PartTask = pickle.loads(task_file.read_bytes())
    current = {"beat": None}

    def on_beat(index: int, total: int, timed: TimedBeat) -> None:
        current["beat"] = timed.beat.id
        print(BEAT_MARK + json.dumps([index, total]), flush=True)

    t0 = time.process_time()
    try:
        result = render_part(task, folder, on_beat)
        result["status"] = "ok"
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        traceback.print_exc()
        result = {"status": "failed", "beat": current["beat"], "error": _one_line(exc)}
    result["cpu_seconds"] = round(time.process_time() - t0, 3)
    result["peak_rss_mib"] = peak_rss_mib()
    tmp = folder / ".result.pkl.tmp"
    tmp.write_bytes(pickle.dumps(result))
    os.replace(tmp, folder / "result.pkl")
    return 0


def peak_rss_mib() -> float:
    """Peak resident memory of this process since it started its program, in MiB.

    Linux's ``VmHWM``: ``getrusage``'s ``ru_maxrss`` keeps, across ``exec``, the peak
    of the process that forked it (a part started by a 1 GiB test runner would report
    1 GiB).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


# --- running parts -----------------------------------------------------------------


def run_part_process(
    task: PartTask,
    folder: Path,
    *,
    on_beat: Callable[[int, int], None] = lambda index, total: None,
    on_start: Callable[[subprocess.Popen], None] = lambda proc: None,
) -> dict[str, Any]:
    """Render ``task`` in a fresh Python process; its files land in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    task_file = folder / "task.pkl"
    task_file.write_bytes(pickle.dumps(task))
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", __name__, str(task_file), str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,  # Ctrl-C reaches the parent, which stops its parts itself
    )
    on_start(proc)
    tail: collections.deque[str] = collections.deque(maxlen=OUTPUT_TAIL)
    assert proc.stdout is not None
    beat = None
    for line in proc.stdout:
        if line.startswith(BEAT_MARK):
            index, total = json.loads(line[len(BEAT_MARK) :])
            beat = task.timed[index].beat.id
            on_beat(index, total)
        else:
            tail.append(line.rstrip())
    code = proc.wait()
    try:
        result = pickle.loads((folder / "result.pkl").read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError):
        last = "\n".join(line for line in tail if line.strip())
        result = {
            "status": "failed",
            "beat": beat,
            "error": f"the part's process exited with status {code} without a result"
            + (f"; its last output:\n{last}" if last else ""),
        }
    result["wall_seconds"] = round(time.perf_counter() - started, 3)
    return result


class LocalParts:
    """``-j N``: every part in its own fresh process on this machine, all at once."""

    def __init__(self) -> None:
        self._children = Children()
        self._stopping = self._children.stopping

    def describe(self, jobs: int) -> str:
        return f"{jobs} local processes"

    def run(self, tasks: list[PartTask], work: Path, on_beat) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(tasks)
        failed = threading.Event()

        def one(k: int, task: PartTask) -> None:
            try:
                results[k] = run_part_process(
                    task,
                    work / f"part-{k}",
                    on_beat=lambda i, n: on_beat(i, n, task.timed[i]),
                    on_start=self._track,
                )
            except Exception as exc:  # the process could not even start
                results[k] = {"status": "failed", "beat": None, "error": _one_line(exc)}
            if results[k]["status"] != "ok":
                # A part stopped because another failed is not the one to blame.
                results[k]["stopped"] = self._stopping.is_set()
                failed.set()

        threads = [
            threading.Thread(target=one, args=(k, t), name=f"part-{k}", daemon=True)
            for k, t in enumerate(tasks)
        ]
        try:
            for thread in threads:
                thread.start()
            while any(t.is_alive() for t in threads):
                if failed.is_set() and not self._stopping.is_set():
                    self.stop()  # one part failed: the render has failed, stop the rest
                for thread in threads:
                    thread.join(timeout=0.2)
        except BaseException:
            self.stop()
            for thread in threads:
                thread.join(timeout=STOP_GRACE_SECONDS + 5)
            raise
        return [r if r is not None else {"status": "failed", "beat": None} for r in results]

    def _track(self, proc: subprocess.Popen) -> None:
        self._children.track(proc)

    def stop(self) -> None:
        """Stop every part still running: SIGTERM, then SIGKILL after a grace period."""
        self._children.stop(STOP_GRACE_SECONDS)


# Part processes started by Dask tasks in this process (a LocalCluster runs its workers
# as threads of the client): stopped with the render on Ctrl-C.
_DASK_PROCS: set[subprocess.Popen] = set()
_DASK_LOCK = threading.Lock()


def part_on_worker(task: PartTask) -> dict[str, Any]:
    """The Dask task: render one part in a fresh process on this worker; return bytes."""
    from distributed import get_worker

    worker = get_worker()
    folder = Path(tempfile.mkdtemp(prefix="backprop-anim-part-"))

    def on_start(proc: subprocess.Popen) -> None:
        with _DASK_LOCK:
            _DASK_PROCS.add(proc)

    def on_beat(index: int, total: int) -> None:
        worker.log_event(DASK_TOPIC, {"index": index, "total": total})

    proc_holder: list[subprocess.Popen] = []
    try:
        result = run_part_process(
            task,
            folder / "out",
            on_beat=on_beat,
            on_start=lambda p: (proc_holder.append(p), on_start(p)),
        )
        if result["status"] == "ok":
            video = Path(result.pop("video"))
            result["video_bytes"] = video.read_bytes()
            result["video_suffix"] = video.suffix
        result["worker"] = worker.address
        return result
    finally:
        with _DASK_LOCK:
            for p in proc_holder:
                _DASK_PROCS.discard(p)
        shutil.rmtree(folder, ignore_errors=True)


DASK_TOPIC = "backprop-anim-parts"


class DaskParts:
    """``--scheduler``: every part a task on a Dask cluster (as ``batch`` does)."""

    def __init__(self, scheduler: str, jobs: int, verbose: bool = False) -> None:
        from .batch.dask_runner import DaskPool

        # The batch's pool knows how to reach a cluster or start a local one.
        self.pool = DaskPool(scheduler, jobs, verbose=verbose)

    def describe(self, jobs: int) -> str:
        return self.pool.describe()

    def workers(self) -> int:
        """Workers of the cluster (connecting now; a clear error if it is unreachable)."""
        self.pool.prepare()
        return max(1, len(self.pool._client.scheduler_info()["workers"]))

    def run(self, tasks: list[PartTask], work: Path, on_beat) -> list[dict[str, Any]]:
        import distributed

        self.pool.prepare()
        client = self.pool._client
        lock = threading.Lock()

        def on_event(event) -> None:
            _, msg = event
            with lock:
                on_beat(msg["index"], msg["total"], tasks[0].timed[msg["index"]])

        client.subscribe_topic(DASK_TOPIC, on_event)
        futures = [
            client.submit(
                part_on_worker,
                task,
                key=f"backprop-anim-part-{k}-{os.getpid()}",
                pure=False,
                retries=0,
            )
            for k, task in enumerate(tasks)
        ]
        index = {f.key: k for k, f in enumerate(futures)}
        results: list[dict[str, Any] | None] = [None] * len(tasks)
        try:
            for future in distributed.as_completed(futures):
                k = index[future.key]
                try:
                    result = future.result()
                except Exception as exc:  # the task raised, or its worker died
                    result = {"status": "failed", "beat": None, "error": _one_line(exc)}
                if result["status"] == "ok":
                    folder = work / f"part-{k}"
                    folder.mkdir(parents=True, exist_ok=True)
                    video = folder / f"part-{k}{result.pop('video_suffix')}"
                    video.write_bytes(result.pop("video_bytes"))
                    result["video"] = str(video)
                results[k] = result
                if result["status"] != "ok":
                    break
        except BaseException:
            self._cancel(futures)
            raise
        finally:
            if any(r is None or r["status"] != "ok" for r in results):
                self._cancel(futures)
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(DASK_TOPIC)
            self.pool.close()
        return [r if r is not None else {"status": "failed", "beat": None} for r in results]

    def _cancel(self, futures) -> None:
        client = self.pool._client
        if client is not None:
            with contextlib.suppress(Exception):
                client.cancel(futures, force=True)
        with _DASK_LOCK:
            procs = list(_DASK_PROCS)
        for proc in procs:  # parts of a local cluster run under this process: stop them
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()


# --- the whole: split, run, join ------------------------------------------------------


@dataclass
class PartsOutcome:
    movie: Path
    plan: LecturePlan
    report: dict[str, Any]


def render_in_parts(
    name: str,
    trace: Trace,
    timed: list[TimedBeat],
    options: RenderOptions,
    jobs: int,
    why: str,
    burn_captions: list,
    work: Path,
    on_beat: Callable[[int, int, TimedBeat], None] | None,
    *,
    speech: dict | None = None,
) -> PartsOutcome:
    """Render ``timed`` in ``jobs`` parts and join them into one silent movie in ``work``."""
    from manim import config

    from scenes.base import LecturePlan

    from .publish.remux import join

    runner: LocalParts | DaskParts
    if options.scheduler:
        runner = DaskParts(options.scheduler, jobs, verbose=options.verbose)
        if options.jobs == "auto" and options.scheduler != "local":
            jobs = runner.workers()  # as many parts as the cluster has workers
            why = f"--scheduler {options.scheduler}: {jobs} workers"
    else:
        runner = LocalParts()
    parts = split_lecture(timed, jobs, options)
    base = replace(options, preview=False, jobs=1, scheduler=None)
    tasks = [
        PartTask(
            version=__version__,
            name=name,
            trace=trace,
            timed=timed,
            options=base,
            part=part,
            burn_captions=list(burn_captions),
            speech=dict(speech or {}),
            encoder_options={
                str(k): str(v) for k, v in (config.video_encoder_options or {}).items()
            },
        )
        for part in parts
    ]
    lock = threading.Lock()

    def report_beat(index: int, total: int, tb: TimedBeat) -> None:
        if on_beat is not None:
            with lock:
                on_beat(index, total, tb)

    t0 = time.perf_counter()
    results = runner.run(tasks, work, report_beat)
    t_parts = time.perf_counter()
    failures = [(p, r) for p, r in zip(parts, results, strict=True) if r["status"] != "ok"]
    failures.sort(key=lambda pr: bool(pr[1].get("stopped")))  # the part that failed first
    for part, result in failures[:1]:
        if result["status"] != "ok":
            beats = f"{timed[part.first].beat.id} .. {timed[part.stop - 1].beat.id}"
            where = f" at beat {result['beat']}" if result.get("beat") else ""
            raise PartFailed(
                f"part {part.index + 1} of {len(parts)} (beats {beats}) failed{where}: "
                f"{result.get('error', 'stopped because another part failed')}"
            )
    movie = work / f"lecture.{options.format}"
    join([Path(r["video"]) for r in results], movie)
    t_join = time.perf_counter()
    plan = LecturePlan(
        trace=trace,
        timed=timed,
        options=options,
        burn_captions=list(burn_captions),
    )
    for result in results:
        plan.still_frames.update(result["still_frames"])
        plan.still_images.update(result["still_images"])
        plan.screen_text.update(result["screen_text"])
        plan.mobject_counts.update(result["mobject_counts"])
        for step, where in result["layout"].items():
            plan.layout.setdefault(step, where)
        plan.sync.extend(result.get("sync", []))
        plan.travels.extend(result.get("travels", []))
    report = {
        "jobs": len(parts),
        "runner": runner.describe(len(parts)),
        "why": why,
        "parts": [
            {
                "beats": [timed[p.first].beat.id, timed[p.stop - 1].beat.id],
                "frames": [p.start_frame, p.start_frame + p.frames],
                "expected_seconds": p.expected,
                "seconds": r.get("wall_seconds"),
                "replay_seconds": r.get("replay_seconds"),
                "cpu_seconds": r.get("cpu_seconds"),
                "peak_rss_mib": r.get("peak_rss_mib"),
                "beat_seconds": r.get("beat_seconds"),
                **({"worker": r["worker"]} if "worker" in r else {}),
            }
            for p, r in zip(parts, results, strict=True)
        ],
        "parent_peak_rss_mib": peak_rss_mib(),
        "parts_seconds": round(t_parts - t0, 3),
        "join_seconds": round(t_join - t_parts, 3),
    }
    return PartsOutcome(movie=movie, plan=plan, report=report)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
