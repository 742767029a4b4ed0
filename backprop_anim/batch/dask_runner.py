"""The Dask pool: variants as tasks on a Dask distributed cluster.

``--scheduler local`` starts a ``LocalCluster`` (N single-threaded workers);
``--scheduler tcp://HOST:PORT`` submits to a cluster someone started with
``dask scheduler`` and ``dask worker`` (docs/batch.md). Workers may be other machines
with no file system in common with the client, so a task renders into a temporary
folder on its worker, reads the finished files into memory and returns their bytes;
the client writes them into its staging folder and the runner moves them into place,
exactly as for the local pool. Each task still renders in a fresh process on its
worker (see :mod:`.task`): a Dask worker runs many tasks, and Manim's configuration
must not leak between them.

Dask is an extra (``pip install backprop-anim[dask]``): it is imported only here, and
only when a scheduler is asked for.
"""

from __future__ import annotations

import logging
import queue
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

from ..errors import UserError
from .task import collect, failed, run_isolated

TOPIC = "backprop-anim-batch"
CONNECT_TIMEOUT = "10s"


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise UserError(
            "--scheduler needs Dask's distributed scheduler, which is not installed; "
            "install it with: pip install 'backprop-anim[dask]'"
        ) from None
    return distributed


def render_on_worker(task: dict[str, Any]) -> dict[str, Any]:
    """The Dask task: render in a fresh process on this worker, return the files' bytes."""
    from distributed import get_worker

    worker = get_worker()
    name = task["variant"]

    def on_phase(phase: str, done: int, total: int) -> None:
        worker.log_event(TOPIC, {"variant": name, "phase": [phase, done, total]})

    on_phase("starting", 0, 0)
    staging = Path(tempfile.mkdtemp(prefix="backprop-anim-batch-"))
    try:
        result = run_isolated(task, staging, on_phase=on_phase)
        result = collect(result)
        result["worker"] = worker.address
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_blobs(result: dict[str, Any], staging: Path) -> dict[str, Any]:
    """Write a returned render's files into a new folder under ``staging`` (client side)."""
    blobs: dict[str, bytes] = result.pop("blobs", None) or {}
    if result["status"] != "ok":
        result["output_dir"] = None
        return result
    staging.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=staging, prefix=f"{result.get('variant', 'variant')}."))
    out = work / "out"
    for rel, data in blobs.items():
        target = (out / rel).resolve()
        if not target.is_relative_to(out.resolve()):  # a file name must not escape the folder
            raise UserError(f"a worker returned a file outside its output folder: {rel!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    result["work_dir"] = str(work)
    result["output_dir"] = str(out)
    return result


class DaskPool:
    """Variants as Dask tasks, on a local cluster or an existing one."""

    def __init__(self, scheduler: str, jobs: int, *, verbose: bool = False) -> None:
        if scheduler != "local" and "://" not in scheduler:
            raise UserError(
                f"--scheduler {scheduler!r}: expected 'local' or an address such as "
                "tcp://127.0.0.1:8786"
            )
        _distributed()  # fail before anything is written when the extra is missing
        self.scheduler = scheduler
        self.jobs = max(1, jobs)
        self.verbose = verbose
        self._client: Any = None
        self._cluster: Any = None
        self._futures: list[Any] = []
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def describe(self) -> str:
        if self.scheduler == "local":
            return f"a local Dask cluster of {self.jobs} worker{'s' if self.jobs != 1 else ''}"
        return f"the Dask cluster at {self.scheduler}"

    def prepare(self) -> None:
        """Start the local cluster, or connect to the scheduler (a clear error if unreachable)."""
        if self._client is not None:
            return
        distributed = _distributed()
        if not self.verbose:
            for name in ("distributed", "bokeh", "tornado"):
                logging.getLogger(name).setLevel(logging.ERROR)
        if self.scheduler == "local":
            with warnings.catch_warnings():
                # Without a dashboard the scheduler still opens an HTTP port (8787, or any
                # free one, with a warning when 8787 is taken): nothing the user must act on.
                warnings.filterwarnings("ignore", message="Port .* is already in use")
                self._cluster = distributed.LocalCluster(
                    n_workers=self.jobs,
                    threads_per_worker=1,  # one render at a time per worker
                    processes=False,  # workers only wait on render processes: threads suffice
                    dashboard_address=None,
                    silence_logs=logging.INFO if self.verbose else logging.ERROR,
                )
            self._client = distributed.Client(self._cluster)
            return
        try:
            self._client = distributed.Client(self.scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise UserError(
                f"--scheduler: cannot reach the Dask scheduler at {self.scheduler} ({exc}); "
                "is 'dask scheduler' running there? (see docs/batch.md)"
            ) from None

    def start(self, tasks: list[dict[str, Any]], staging: Path, events: queue.Queue) -> None:
        self.prepare()
        distributed = _distributed()

        def on_event(event: tuple[float, dict[str, Any]]) -> None:
            _, msg = event
            events.put(("phase", msg["variant"], tuple(msg["phase"])))

        self._client.subscribe_topic(TOPIC, on_event)
        by_key: dict[str, str] = {}
        for task in tasks:
            key = f"backprop-anim-{task['batch']}-{task['variant']}-{task['hash'][:12]}"
            by_key[key] = task["variant"]
            self._futures.append(
                self._client.submit(render_on_worker, task, key=key, pure=False, retries=0)
            )

        def gather() -> None:
            for future in distributed.as_completed(self._futures):
                if self._stopping.is_set():
                    return
                name = by_key[future.key]
                try:
                    result = future.result()
                    result["variant"] = name
                    result = write_blobs(result, staging)
                except Exception as exc:  # the task raised, or its worker died
                    result = failed(f"Dask task failed: {type(exc).__name__}: {exc}")
                    result["output_dir"] = None
                events.put(("done", name, result))

        self._thread = threading.Thread(target=gather, name="dask-gather", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Cancel what has not run; a render already running on a worker finishes there."""
        self._stopping.set()
        if self._client is not None and self._futures:
            self._client.cancel(self._futures, force=True)
        self.close()

    def close(self) -> None:
        if self._thread is not None and not self._stopping.is_set():
            self._thread.join(timeout=30)
        if self._client is not None:
            try:
                self._client.unsubscribe_topic(TOPIC)
            except Exception:  # the connection may already be gone; nothing to undo then
                logging.getLogger(__name__).debug("unsubscribe failed", exc_info=True)
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
