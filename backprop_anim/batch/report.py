"""What the ``batch`` command prints: the plan (``--dry-run``) and the closing summary.

Kept in the library so that a notebook gets the same words as the terminal.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .runner import BatchReport, PlanItem
from .sweep import Batch


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _where(path: os.PathLike | str) -> str:
    text = os.fspath(path)
    try:
        rel = os.path.relpath(text)
    except ValueError:  # another drive (Windows)
        return text
    return rel if not rel.startswith("..") else text


def describe_batch(batch: Batch) -> list[str]:
    n_explicit = len(batch.explicit)
    n_generated = len(batch.variants) - n_explicit
    how = f"{batch.mode} of the varied values" if n_generated else ""
    if n_explicit:
        how += (" plus " if how else "") + f"{n_explicit} explicit"
    opts = batch.options
    return [
        f"batch {batch.name}: {len(batch.variants)} variants ({how}) from {_where(batch.source)}",
        f"base config {_where(batch.base)}; output {_where(batch.output_dir)}{os.sep}",
        f"render: quality {opts.quality}, pace {opts.pace:g}, scenes {', '.join(opts.scenes)}, "
        f"voice {opts.voice}, format {opts.format}",
    ]


def describe_plan(batch: Batch, items: list[PlanItem]) -> str:
    """The variants, what each changes against the base, and whether it would render."""
    lines = describe_batch(batch)
    width = max(len(item.variant.name) for item in items)
    for item in items:
        changes = "; ".join(
            f"{c.path} {_show(c.before)} → {_show(c.after)}"
            if c.before != c.after
            else f"{c.path} {_show(c.after)} (as in the base)"
            for c in item.variant.changes
        )
        state = f"render ({item.reason})" if item.render else "up to date"
        lines.append(
            f"  {item.variant.name:<{width}}  {item.variant.hash[:10]}  {state:<20}  {changes}"
        )
    n = sum(item.render for item in items)
    lines.append(
        f"all {len(items)} variants are valid; {n} would render, {len(items) - n} up to date "
        "(dry run: nothing rendered)"
    )
    return "\n".join(lines)


def summarize(report: BatchReport) -> str:
    """The closing lines: counts, every failure with its reason, where the results are."""
    total = len(report.batch.variants)
    parts = [f"{len(report.rendered)} rendered", f"{len(report.reused)} up to date"]
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    lines = [f"batch {report.batch.name}: {', '.join(parts)} (of {total})"]
    if report.failed:
        lines.append("failed:")
        for name, error in report.failed:
            first, *rest = error.splitlines() or [""]
            lines.append(f"  {name}: {first}")
            lines.extend(f"    {line}" for line in rest[:8])
    if report.compare:
        lines.append(f"comparison: {report.compare}")
    if report.manifest_path:
        lines.append(f"manifest: {_where(report.manifest_path)}")
    if report.gallery_path:
        lines.append(f"gallery:  {_where(report.gallery_path)}")
    return "\n".join(lines)
