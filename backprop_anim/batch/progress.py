"""How a running batch reports itself: a live rich display, or one line per event.

On a terminal, a rich progress display shows an overall bar plus one row per running
variant (its phase and time so far), and prints a line above it as each variant
finishes. When the output is a file or a CI log, live displays turn into noise, so
:class:`LineReporter` writes one plain line per event instead.
"""

from __future__ import annotations

from typing import IO, Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from ..numbers import fmt
from .manifest import VariantRecord


class Reporter(Protocol):
    def begin(self, title: str, todo: list[str], reused: list[str]) -> None: ...
    def phase(self, name: str, phase: str, done: int, total: int) -> None:
        """``name`` is now doing ``phase``; ``done``/``total`` count its beats (0/0: none)."""

    def finished(self, record: VariantRecord) -> None: ...
    def note(self, text: str) -> None:
        """A line of its own (e.g. the comparison's outcome)."""

    def end(self) -> None: ...


def outcome(record: VariantRecord) -> str:
    """One variant's result in words, as the log line and the summary say it."""
    if record.status == "ok":
        wall = record.timings.get("wall")
        parts = [f"final loss {fmt(record.final_loss)}" if record.final_loss is not None else ""]
        if record.duration is not None:
            parts.append(f"{record.duration:.1f} s of video")
        if wall is not None:
            parts.append(f"rendered in {wall:.1f} s")
        return ", ".join(p for p in parts if p)
    return record.error or record.status


class SilentReporter:
    """For library use: no output at all."""

    def begin(self, title: str, todo: list[str], reused: list[str]) -> None:
        return None

    def phase(self, name: str, phase: str, done: int, total: int) -> None:
        return None

    def finished(self, record: VariantRecord) -> None:
        return None

    def note(self, text: str) -> None:
        return None

    def end(self) -> None:
        return None


class LineReporter:
    """One line per event, for logs and pipes."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.total = 0
        self.done = 0

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def begin(self, title: str, todo: list[str], reused: list[str]) -> None:
        self.total = len(todo)
        self._line(f"{title}: {len(todo)} to render, {len(reused)} up to date")
        for name in reused:
            self._line(f"{'up to date':<11} {name}")

    def phase(self, name: str, phase: str, done: int, total: int) -> None:
        self._line(f"{'running':<11} {name}: {phase}")

    def finished(self, record: VariantRecord) -> None:
        self.done += 1
        status = "done" if record.status == "ok" else record.status
        first = outcome(record).splitlines()[0] if outcome(record) else ""
        self._line(f"{status:<11} {record.name} [{self.done}/{self.total}]: {first}")

    def note(self, text: str) -> None:
        self._line(text.splitlines()[0] if text else "")

    def end(self) -> None:
        return None


class RichReporter:
    """A live display: an overall bar and a row per running variant."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[phase]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.overall: TaskID | None = None
        self.total = 0
        self.rows: dict[str, TaskID] = {}

    def begin(self, title: str, todo: list[str], reused: list[str]) -> None:
        self.console.print(
            f"[bold]{escape(title)}[/]: {len(todo)} to render, {len(reused)} up to date"
        )
        self.progress.start()
        self.total = len(todo)
        self.overall = self.progress.add_task(
            "[bold]all variants[/]", total=self.total, phase=f"0/{self.total} done"
        )

    def phase(self, name: str, phase: str, done: int, total: int) -> None:
        if name not in self.rows:
            self.rows[name] = self.progress.add_task(f"  {escape(name)}", total=None, phase="")
        self.progress.update(
            self.rows[name], phase=escape(phase), completed=done, total=total or None
        )

    def finished(self, record: VariantRecord) -> None:
        row = self.rows.pop(record.name, None)
        if row is not None:
            self.progress.remove_task(row)
        if self.overall is not None:
            self.progress.advance(self.overall)
            done = int(self.progress.tasks[self.overall].completed)
            self.progress.update(self.overall, phase=f"{done}/{self.total} done")
        mark = "[green]✓[/]" if record.status == "ok" else "[red]✗[/]"
        text = outcome(record).splitlines()[0] if outcome(record) else ""
        self.progress.console.print(
            f"{mark} {escape(record.name)}: {escape(text)}", highlight=False
        )

    def note(self, text: str) -> None:
        row = self.rows.pop("compare", None)
        if row is not None:
            self.progress.remove_task(row)
        first = text.splitlines()[0] if text else ""
        self.progress.console.print(escape(first), highlight=False)

    def end(self) -> None:
        self.progress.stop()
