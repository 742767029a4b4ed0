"""Run a batch: decide what needs rendering, farm it out, move finished output into place.

The runner is the only code that writes ``renders/<batch>/``. Pools (local processes
or Dask) render into a staging folder inside the batch folder; when a variant is done
the runner adds its poster frame, swaps the finished folder in with a rename, and
rewrites the manifest. So at any moment a variant folder is either a complete render
or absent, an interrupted batch (Ctrl-C) keeps every variant that finished, and a
re-run renders only what is missing, failed or changed (by content hash).
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import UserError
from .compare import compare_hash
from .gallery import POSTER, extract_poster, write_gallery
from .manifest import CompareRecord, Manifest, VariantRecord, now
from .pool import LocalPool, Pool
from .progress import Reporter, SilentReporter
from .sweep import Batch, Variant
from .task import run_isolated

MANIFEST = "manifest.json"
GALLERY = "index.html"
COMPARE_DIR = "compare"  # reserved: no variant may be called this (see naming.RESERVED_NAMES)
STAGING_PREFIX = ".staging-"
OLD_MARK = ".old-"


@dataclass
class PlanItem:
    variant: Variant
    render: bool
    reason: str  # why it renders (or why not): "new", "changed", "failed before", ...


@dataclass
class BatchReport:
    """What a run did, for the command line's summary and for callers."""

    batch: Batch
    manifest: Manifest
    rendered: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    compare: str | None = None  # what happened to the comparison video, in words
    manifest_path: Path | None = None
    gallery_path: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan(batch: Batch, *, force: bool = False) -> list[PlanItem]:
    """For every variant: render it, or is its finished output already there?"""
    old = Manifest.load(batch.output_dir / MANIFEST)
    items = []
    for variant in batch.variants:
        rec = old.record(variant.name) if old else None
        if force:
            items.append(PlanItem(variant, True, "--force"))
        elif rec is None:
            items.append(PlanItem(variant, True, "new"))
        elif rec.hash != variant.hash:
            items.append(PlanItem(variant, True, "changed"))
        elif rec.status != "ok":
            items.append(
                PlanItem(variant, True, "failed before" if rec.status == "failed" else "unfinished")
            )
        elif not all((batch.output_dir / f).is_file() for f in rec.files):
            items.append(PlanItem(variant, True, "files missing"))
        else:
            items.append(PlanItem(variant, False, "up to date"))
    return items


def make_task(batch: Batch, variant: Variant, *, force: bool = False) -> dict[str, Any]:
    """Everything a worker needs, as plain JSON: it may be another machine.

    ``force`` also bypasses the render's own cache of finished renders (a forced
    batch really renders again) and the render size limit (``limits.py``).
    """
    options = batch.options.to_json()
    if force and "use_cache" in options:
        options["use_cache"] = False
    return {
        "batch": batch.name,
        "variant": variant.name,
        "config": variant.config.model_dump(mode="json"),
        "source": f"{batch.source} (variant {variant.name})",
        "base_dir": str(batch.base_dir),
        "options": options,
        "hash": variant.hash,
        "version": __version__,
        "allow_large": force,
    }


def run_batch(
    batch: Batch,
    *,
    pool: Pool | None = None,
    force: bool = False,
    reporter: Reporter | None = None,
    compare: bool = False,
) -> BatchReport:
    """Render every variant that needs it; never raises for a variant's failure.

    A failed variant is recorded with its message and the others go on; the report
    lists failures for the caller to act on (the CLI exits 1). Ctrl-C stops the pool,
    keeps finished variants, removes staging, and re-raises KeyboardInterrupt.
    With ``compare``, the comparison video follows the variants (see :mod:`.compare`).
    """
    pool = pool or LocalPool(default_jobs())
    reporter = reporter or SilentReporter()
    out = batch.output_dir
    items = plan(batch, force=force)
    todo = [item.variant for item in items if item.render]
    if todo:
        pool.prepare()  # e.g. reach the cluster: an unreachable one fails before any write
    try:
        _prepare_folder(out)
    except BaseException:
        pool.stop()
        raise
    old = Manifest.load(out / MANIFEST)
    manifest = Manifest(
        batch=batch.name,
        source=batch.source,
        base=str(batch.base),
        mode=batch.mode,
        package_version=__version__,
        render=batch.options.to_json(),
        variants=[],
        compare=old.compare if old else None,
    )
    report = BatchReport(batch=batch, manifest=manifest)
    for item in items:
        kept = old.record(item.variant.name) if old and not item.render else None
        manifest.variants.append(
            kept
            or VariantRecord(
                name=item.variant.name,
                overrides=item.variant.overrides_dict(),
                hash=item.variant.hash,
            )
        )
        if not item.render:
            report.reused.append(item.variant.name)
    report.manifest_path = manifest.save(out / MANIFEST)

    reporter.begin(f"batch {batch.name}", [v.name for v in todo], report.reused)
    staging = out / f"{STAGING_PREFIX}{os.getpid()}"
    events: queue.Queue = queue.Queue()
    try:
        if todo:
            pool.start([make_task(batch, v, force=force) for v in todo], staging, events)
        remaining = {v.name for v in todo}
        while remaining:
            try:
                kind, name, payload = events.get(timeout=0.2)
            except queue.Empty:
                continue
            if kind == "phase":
                if name in remaining:
                    reporter.phase(name, *payload)
                continue
            remaining.discard(name)
            rec = manifest.record(name)
            assert rec is not None
            with _deferred_interrupt():
                _finish(rec, payload, out)
                manifest.save(out / MANIFEST)
            if rec.status == "ok":
                report.rendered.append(name)
            else:
                report.failed.append((name, rec.error or "failed"))
            reporter.finished(rec)
        pool.close()
        if compare:
            _compare(batch, manifest, old, report, staging, reporter, force=force)
    except BaseException:
        pool.stop()
        raise
    finally:
        reporter.end()
        shutil.rmtree(staging, ignore_errors=True)
        cmp = manifest.compare
        if cmp is not None and cmp.hash != compare_hash(manifest, batch.options):
            cmp.status = "stale"  # made from other variants: the gallery no longer shows it
        manifest.save(out / MANIFEST)
        report.gallery_path = write_gallery(manifest, out / GALLERY)
    return report


def _prepare_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"-o {out}: cannot create the batch folder: {exc.strerror}") from None
    if not os.access(out, os.W_OK):
        raise UserError(f"-o {out}: the batch folder is not writable")
    _clean_leftovers(out)


def _compare(
    batch: Batch,
    manifest: Manifest,
    old: Manifest | None,
    report: BatchReport,
    staging: Path,
    reporter: Reporter,
    *,
    force: bool,
) -> None:
    """Render the comparison video, unless one made from the same inputs is there."""
    out = batch.output_dir
    wanted = compare_hash(manifest, batch.options)
    previous = old.compare if old else None
    if (
        not force
        and previous is not None
        and previous.status == "ok"
        and previous.hash == wanted
        and all((out / f).is_file() for f in previous.files)
    ):
        manifest.compare = previous
        report.compare = f"{previous.video} (up to date)"
        return
    task = {
        "kind": "compare",
        "batch": batch.name,
        "variant": COMPARE_DIR,
        "batch_dir": str(out.resolve()),
        "options": batch.options.to_json(),
        "version": __version__,
    }
    procs: list[subprocess.Popen] = []
    try:
        result = run_isolated(
            task,
            staging,
            on_phase=lambda phase, done, total: reporter.phase(COMPARE_DIR, phase, done, total),
            on_start=procs.append,
        )
    except BaseException:
        for proc in procs:
            proc.terminate()
        raise
    record = CompareRecord(hash=wanted, status=result["status"], rendered_at=now())
    try:
        with _deferred_interrupt():
            if result["status"] == "ok":
                staged = Path(result["output_dir"])
                files = list(result["files"])
                with contextlib.suppress(OSError, ValueError):
                    # The verdict (near the end) says the most about the whole sweep.
                    extract_poster(staged / result["video"], staged / POSTER, at=0.97)
                    files.append(POSTER)
                    record.poster = f"{COMPARE_DIR}/{POSTER}"
                _replace(staged, out / COMPARE_DIR)
                record.files = [f"{COMPARE_DIR}/{f}" for f in sorted(files)]
                record.video = f"{COMPARE_DIR}/{result['video']}"
                record.duration = result["duration"]
                record.voiced = bool(result.get("voiced"))
            else:
                record.error = result.get("error") or "failed"
                _replace(None, out / COMPARE_DIR)
            manifest.compare = record
            manifest.save(out / MANIFEST)
    finally:
        shutil.rmtree(result["work_dir"], ignore_errors=True)
    if record.status == "ok":
        narrated = "narrated" if record.voiced else "silent"
        report.compare = f"{record.video} ({record.duration:.1f} s, {narrated})"
    else:
        report.compare = f"failed: {record.error}"
        report.failed.append(("comparison", record.error or "failed"))
    reporter.note(f"comparison: {report.compare}")


def _finish(rec: VariantRecord, result: dict[str, Any], out: Path) -> None:
    """Record one variant's outcome; put its finished folder in place (or clear a stale one)."""
    final = out / rec.name
    rec.timings = {k: round(float(v), 3) for k, v in result.get("timings", {}).items()}
    rec.rendered_at = now()
    rec.worker = result.get("worker", "local")
    work = result.get("work_dir")
    try:
        if result["status"] != "ok":
            rec.status, rec.error = "failed", result.get("error") or "failed"
            rec.final_loss = rec.duration = rec.video = rec.poster = None
            rec.files = []
            _replace(None, final)
            return
        staged = Path(result["output_dir"])
        files = list(result["files"])
        video = result["video"]
        rec.poster = None
        with contextlib.suppress(OSError, ValueError):  # the gallery shows no poster then
            extract_poster(staged / video, staged / POSTER)
            files.append(POSTER)
            rec.poster = f"{rec.name}/{POSTER}"
        _replace(staged, final)
        rec.status, rec.error = "ok", None
        rec.final_loss = result.get("final_loss")
        rec.duration = result.get("duration")
        rec.video = f"{rec.name}/{video}"
        rec.files = [f"{rec.name}/{f}" for f in sorted(set(files))]
    finally:
        if work:
            shutil.rmtree(work, ignore_errors=True)


def _replace(staged: Path | None, final: Path) -> None:
    """Swap ``staged`` in for ``final`` by renames (``None``: just remove ``final``)."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}{OLD_MARK}{secrets.token_hex(4)}")
        final.rename(old)
    if staged is not None:
        staged.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _clean_leftovers(out: Path) -> None:
    """Remove staging folders of batches that are no longer running, and swapped-out folders."""
    for entry in out.iterdir():
        if entry.name.startswith(STAGING_PREFIX):
            pid = entry.name[len(STAGING_PREFIX) :]
            if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
                continue
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(".") and OLD_MARK in entry.name:
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _deferred_interrupt() -> Iterator[None]:
    """Hold Ctrl-C while a finished variant is moved into place and recorded."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[Any] = []
    previous = signal.signal(signal.SIGINT, lambda *args: caught.append(args))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt
