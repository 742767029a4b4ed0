"""One variant's render, always in a fresh Python process.

Manim's configuration is process-global (resolution, frame rate, media folders), so a
render must never share a process with another: each variant runs as
``python -m backprop_anim.batch.task TASK.json OUTPUT_DIR RESULT.json``. The same entry
serves the local pool (a thread per slot, each waiting on its child) and Dask workers
(the task function starts the child on the worker's machine), so both paths render in
exactly the same way.

The child trains first and stops there if training diverged (the variant has failed
and there is nothing worth rendering); otherwise it renders the trace it just made, so
nothing is trained twice. It reports its phase on stdout with a marker line and its
outcome as a small JSON file; everything else it prints is kept only to explain a crash.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import UserError
from ..trace.model import write_atomic

PHASE_MARK = "@@backprop-anim-batch phase "
# on_phase(phase, done, total): what a render is doing; done/total count beats (0/0: none).
OnPhase = Callable[[str, int, int], None]
OUTPUT_TAIL = 30  # lines of a crashed child's output kept for its error message


def failed(message: str, timings: dict[str, float] | None = None) -> dict[str, Any]:
    return {"status": "failed", "error": message, "timings": timings or {}}


def render_variant(task: dict[str, Any], output_dir: Path, on_phase: OnPhase) -> dict[str, Any]:
    """Train and render one variant into ``output_dir`` (in this process)."""
    start = time.perf_counter()
    timings: dict[str, float] = {}
    if task["version"] != __version__:
        return failed(
            f"this worker has backprop-anim {__version__}, the batch was made with "
            f"{task['version']}; install the same version on every worker"
        )
    try:
        from ..config.loader import config_from_dict
        from ..engine.trainer import train
        from ..options import RenderOptions

        loaded = config_from_dict(
            task["config"], source=task["source"], base_dir=Path(task["base_dir"])
        )
        options = RenderOptions(**{**task["options"], "scenes": tuple(task["options"]["scenes"])})
        on_phase("training", 0, 0)
        trace = train(loaded)
        timings["train"] = time.perf_counter() - start
        if trace.diverged:
            return failed(trace.diverged["message"], timings)

        on_phase("rendering", 0, 0)
        from ..render import render

        result = render(
            trace,
            options,
            output_dir=output_dir,
            on_beat=lambda i, n, timed: on_phase(f"beat {i + 1}/{n}: {timed.beat.scene}", i, n),
            allow_large=task.get("allow_large", False),
        )
    except UserError as exc:
        return failed(str(exc), timings)
    except Exception as exc:  # a bug, but only this variant's: report it, keep the batch going
        traceback.print_exc()
        return failed(f"{type(exc).__name__}: {exc}", timings)
    timings.update({f"render.{k}": float(v) for k, v in result.timings.items()})
    timings["process"] = time.perf_counter() - start
    # CPU seconds of the whole render process (all its threads, the encoder's included):
    # unlike wall time, it does not grow when other programs share the cores.
    timings["cpu"] = time.process_time()
    files = sorted(str(p.relative_to(output_dir)) for p in output_dir.rglob("*") if p.is_file())
    return {
        "status": "ok",
        "error": None,
        # The loss on the data set after the last step: the figure a sweep is judged
        # by, and the one the comparison video plots (the same as render.json's).
        "final_loss": trace.summary.final_loss,
        "duration": float(result.duration),
        "timings": timings,
        "files": files,
        "video": str(Path(result.video).relative_to(output_dir)),
    }


def run_isolated(
    task: dict[str, Any],
    staging: Path,
    *,
    on_phase: OnPhase = lambda phase, done, total: None,
    on_start: Callable[[subprocess.Popen], None] = lambda proc: None,
) -> dict[str, Any]:
    """Render ``task`` in a fresh Python process; output lands in a new folder under ``staging``.

    Returns the child's outcome plus ``output_dir`` (the finished folder, for the
    caller to move into place) and the wall time including process start-up.
    """
    staging.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=staging, prefix=f"{task['variant']}."))
    task_file, result_file, output_dir = work / "task.json", work / "result.json", work / "out"
    task_file.write_text(json.dumps(task), encoding="utf-8")
    # Manim's media folder is named after the config, which all variants share, and
    # Manim writes its typesetting files there without an atomic rename (a render
    # reading one that another is still writing would fail): give each variant a
    # cache of its own. Re-running the batch finds each variant's cache again.
    from ..render import cache_dir

    env = {
        **os.environ,
        "BACKPROP_ANIM_CACHE": str(cache_dir() / "batch" / task["batch"] / task["variant"]),
    }
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", __name__, str(task_file), str(output_dir), str(result_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        env=env,
        start_new_session=True,  # Ctrl-C reaches the batch, which stops its children itself
    )
    on_start(proc)
    tail: collections.deque[str] = collections.deque(maxlen=OUTPUT_TAIL)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(PHASE_MARK):
            phase, done, total = json.loads(line[len(PHASE_MARK) :])
            on_phase(phase, done, total)
        else:
            tail.append(line.rstrip())
    code = proc.wait()
    try:
        result = json.loads(result_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = "\n".join(line for line in tail if line.strip())
        result = failed(
            f"the render process exited with status {code} without a result"
            + (f"; its last output:\n{last}" if last else "")
        )
    result["timings"] = {**result.get("timings", {}), "wall": time.perf_counter() - start}
    result["work_dir"] = str(work)
    result["output_dir"] = str(output_dir) if result["status"] == "ok" else None
    return result


def collect(result: dict[str, Any]) -> dict[str, Any]:
    """Read a finished render's files into memory and delete its work folder.

    For workers that share no file system with the client (Dask): the bytes travel
    back with the result and the client writes them into place.
    """
    work = Path(result.pop("work_dir"))
    out = result.pop("output_dir")
    try:
        if out is not None:
            root = Path(out)
            result["blobs"] = {name: (root / name).read_bytes() for name in result["files"]}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def main(argv: list[str]) -> int:
    task_file, output_dir, result_file = (Path(a) for a in argv)
    task = json.loads(task_file.read_text(encoding="utf-8"))

    def on_phase(phase: str, done: int, total: int) -> None:
        print(PHASE_MARK + json.dumps([phase, done, total]), flush=True)

    if task.get("kind") == "compare":
        from .compare import render_comparison

        try:
            result = render_comparison(task, output_dir, on_phase)
        except UserError as exc:
            result = failed(str(exc))
        except Exception as exc:  # a bug in the comparison: report it like a variant's
            traceback.print_exc()
            result = failed(f"{type(exc).__name__}: {exc}")
    else:
        result = render_variant(task, output_dir, on_phase)
    write_atomic(result_file, json.dumps(result, allow_nan=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
