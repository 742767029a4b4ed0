"""The trace: versioned record of every operation of training (see docs/trace-format.md)."""

from .model import (
    FORMAT,
    VERSION,
    LayerStep,
    NetworkInfo,
    Snapshot,
    Step,
    Summary,
    Trace,
    load_trace,
    write_atomic,
)

__all__ = [
    "FORMAT",
    "VERSION",
    "LayerStep",
    "NetworkInfo",
    "Snapshot",
    "Step",
    "Summary",
    "Trace",
    "load_trace",
    "write_atomic",
]
