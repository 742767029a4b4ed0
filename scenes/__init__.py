"""Manim scene templates: each reads a lecture plan (a trace and its timed beats).

``Lecture`` strings every scene together; ``TitleScene``, ``ForwardScene``,
``LossScene``, ``BackwardScene``, ``UpdateScene`` and ``SummaryScene`` play only
their own beats. Scenes never train: they read the trace.
"""

from .lecture import (
    BackwardScene,
    ForwardScene,
    Lecture,
    LossScene,
    SummaryScene,
    TitleScene,
    UpdateScene,
)

__all__ = [
    "BackwardScene",
    "ForwardScene",
    "Lecture",
    "LossScene",
    "SummaryScene",
    "TitleScene",
    "UpdateScene",
]
