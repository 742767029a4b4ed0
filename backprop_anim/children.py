"""Child render processes that must all stop when their parent does.

Batch variants and lecture parts each run in a fresh process. On Ctrl-C, SIGTERM or a
failure the parent stops every one it started, including one that starts while it is
stopping, so that no orphan keeps drawing. One place owns that, for both.
"""

from __future__ import annotations

import subprocess
import threading
import time


class Children:
    """The child processes started so far, and whether they are being stopped."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    def track(self, proc: subprocess.Popen) -> None:
        """Remember ``proc``; a child that starts after ``stop`` is stopped at once."""
        with self._lock:
            self._procs.append(proc)
            if self.stopping.is_set():
                proc.terminate()

    def stop(self, grace: float) -> None:
        """SIGTERM every child still running, then SIGKILL those alive after ``grace`` s."""
        self.stopping.set()
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
