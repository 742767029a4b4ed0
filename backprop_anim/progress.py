"""Progress reporting: a rich progress line per beat on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from .timeline import TimedBeat


@contextmanager
def beat_progress(enabled: bool = True) -> Iterator[Callable[[int, int, TimedBeat], None] | None]:
    """Yield a callback ``on_beat(index, total, timed_beat)`` showing which beat renders."""
    if not enabled:
        yield None
        return
    console = Console(stderr=True)
    if not console.is_terminal:

        def plain(index: int, total: int, timed: TimedBeat) -> None:
            print(f"beat {index + 1}/{total}: {timed.beat.id}", file=sys.stderr, flush=True)

        yield plain
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} beats"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("rendering", total=None)

        def fancy(index: int, total: int, timed: TimedBeat) -> None:
            progress.update(task, description=timed.beat.id, completed=index, total=total)

        yield fancy
        total = progress.tasks[0].total
        progress.update(task, description="done", completed=total)
