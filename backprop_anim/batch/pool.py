"""The local pool: up to N variants at once, each in a fresh process on this machine.

A thread per slot starts a child process (see :mod:`.task`) and waits for it; the
threads only wait, so N slots cost N render processes and nothing more. Every event
(a phase change, a finished variant) goes onto one queue that the runner reads, which
keeps the runner the only place that touches ``renders/``.
"""

from __future__ import annotations

import queue
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from ..children import Children
from .task import failed, run_isolated

# Events on the runner's queue: ("phase", variant, (phase, done, total)) and
# ("done", variant, result).
Event = tuple[str, str, Any]


class Pool(Protocol):
    """Where variants run. ``start`` returns at once; results arrive as "done" events."""

    def prepare(self) -> None:
        """Get ready (e.g. connect to a cluster) before the batch folder is touched."""

    def start(self, tasks: list[dict[str, Any]], staging: Path, events: queue.Queue) -> None: ...

    def stop(self) -> None:
        """Abandon outstanding work (Ctrl-C): kill running renders, drop queued ones."""

    def close(self) -> None:
        """Release resources once every task has reported."""


class LocalPool:
    """``-j N``: N render processes at a time, each a fresh interpreter."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, jobs)
        self._executor: ThreadPoolExecutor | None = None
        self._children = Children()
        self._stopping = self._children.stopping

    def describe(self) -> str:
        return f"{self.jobs} local process{'es' if self.jobs != 1 else ''}"

    def prepare(self) -> None:
        return None

    def start(self, tasks: list[dict[str, Any]], staging: Path, events: queue.Queue) -> None:
        self._executor = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="batch")
        for task in tasks:
            self._executor.submit(self._run, task, staging, events)

    def _run(self, task: dict[str, Any], staging: Path, events: queue.Queue) -> None:
        name = task["variant"]
        if self._stopping.is_set():
            return
        events.put(("phase", name, ("starting", 0, 0)))
        try:
            result = run_isolated(
                task,
                staging,
                on_phase=lambda phase, done, total: events.put(
                    ("phase", name, (phase, done, total))
                ),
                on_start=self._track,
            )
        except Exception as exc:  # could not even start the child (e.g. out of memory)
            result = failed(f"could not start the render process: {exc}")
        if not self._stopping.is_set():
            events.put(("done", name, result))

    def _track(self, proc: subprocess.Popen) -> None:
        self._children.track(proc)

    def stop(self) -> None:
        self._children.stop(10.0)
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
