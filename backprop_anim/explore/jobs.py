"""Renders started from the page: one at a time, each in its own process.

A render runs Manim, which keeps process-wide settings and takes the CPU for a while;
in a child process it can neither block the server nor take it down when it fails. The
child reports each finished beat through a queue; a thread of the server reads it and
keeps the job's status. Every render goes to a folder the server chose
(``<render_dir>/job-<id>/``); a request names a job by its number, never a path.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.loader import LoadedConfig


def _render_worker(loaded: LoadedConfig, step: int | None, out: str, queue: Any) -> None:
    """Runs in the child process: the real render, with progress per beat."""
    try:
        from ..errors import DivergenceError, UserError
        from ..options import RenderOptions
        from ..render import render

        options = RenderOptions(quality="l", steps=None if step is None else [step])

        def on_beat(done: int, total: int, _beat: Any) -> None:
            queue.put(("progress", done, total))

        try:
            result = render(loaded, options, output_dir=out, on_beat=on_beat)
        except (UserError, DivergenceError) as exc:
            queue.put(("failed", str(exc)))
            return
        queue.put(("done", str(result.video), result.duration))
    except BaseException as exc:  # reported to the page; the server keeps serving
        lines = traceback.format_exception_only(type(exc), exc)
        queue.put(("failed", f"the render failed: {''.join(lines).strip()}"))


@dataclass
class Job:
    id: int
    folder: Path
    status: str = "running"  # running, done, failed
    done: int = 0
    total: int = 0
    error: str | None = None
    video: Path | None = None
    duration: float | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "job": self.id,
            "status": self.status,
            "progress": round(self.done / self.total, 3) if self.total else 0.0,
            "beats_done": self.done,
            "beats_total": self.total,
            "error": self.error,
            "video": f"/api/render/{self.id}/video" if self.video else None,
            "duration": self.duration,
            "seconds": round((self.finished or time.monotonic()) - self.started, 1),
        }


class RenderJobs:
    """The render jobs of one server; at most one runs at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.jobs: dict[int, Job] = {}
        self._lock = threading.Lock()
        self._process: Any = None
        self._queue: Any = None

    def busy(self) -> int | None:
        with self._lock:
            running = [j.id for j in self.jobs.values() if j.status == "running"]
        return running[0] if running else None

    def get(self, job_id: int) -> Job | None:
        return self.jobs.get(job_id)

    def start(self, loaded: LoadedConfig, step: int | None) -> Job:
        with self._lock:
            job_id = len(self.jobs) + 1
            job = Job(job_id, self.folder / f"job-{job_id}")
            self.jobs[job_id] = job
            ctx = mp.get_context("spawn")  # a fresh interpreter: no state shared with the server
            queue = ctx.Queue()
            proc = ctx.Process(
                target=_render_worker,
                args=(loaded, step, str(job.folder), queue),
                daemon=True,
            )
            proc.start()
            self._process, self._queue = proc, queue
        threading.Thread(target=self._follow, args=(job, proc, queue), daemon=True).start()
        return job

    def _follow(self, job: Job, proc: Any, queue: Any) -> None:
        while True:
            try:
                msg = queue.get(timeout=0.5)
            except Exception:
                if not proc.is_alive():
                    if job.status == "running":
                        job.status = "failed"
                        job.error = f"the render process stopped (exit code {proc.exitcode})"
                        job.finished = time.monotonic()
                    break
                continue
            kind = msg[0]
            if kind == "progress":
                job.done, job.total = msg[1], msg[2]
            elif kind == "done":
                job.video, job.duration = Path(msg[1]), msg[2]
                job.done = job.total
                job.status = "done"
                job.finished = time.monotonic()
            elif kind == "failed":
                job.error = msg[1]
                job.status = "failed"
                job.finished = time.monotonic()
        proc.join(timeout=5)

    def close(self) -> None:
        proc = self._process
        if proc is not None and proc.is_alive():
            proc.terminate()
            proc.join(timeout=10)
        if self._queue is not None:
            self._queue.cancel_join_thread()
            self._queue.close()
