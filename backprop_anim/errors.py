"""User-facing errors.

A mistake the user made (a bad config, a missing file, an unknown option) is a
:class:`UserError`: the CLI prints its message and exits with status 2, never a
traceback. Anything else that escapes is a bug in backprop-anim.
"""

from __future__ import annotations


class UserError(Exception):
    """An error caused by input, reported as one clear message (exit status 2)."""

    exit_code = 2


class ConfigError(UserError):
    """A config problem located in a file, at a line, in a field.

    The message reads ``file:line: field: what was expected`` so that editors
    and terminals can jump to it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.detail = message
        where = file or "<config>"
        if line is not None:
            where += f":{line}"
        prefix = f"{where}: {field}: " if field else f"{where}: "
        super().__init__(prefix + message)


class DivergenceError(Exception):
    """Training produced a NaN or infinite value (exit status 1, the trace is still written)."""

    exit_code = 1

    def __init__(self, message: str, *, step: int, layer: str | None, phase: str) -> None:
        super().__init__(message)
        self.step = step
        self.layer = layer
        self.phase = phase
