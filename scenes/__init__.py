"""Manim scene templates: each reads a lecture plan (a trace and its timed beats).

``Lecture`` strings every scene together; ``TitleScene``, ``ForwardScene``,
``LossScene``, ``BackwardScene``, ``UpdateScene``, ``SummaryScene`` and
``OverviewScene`` play only their own beats. Scenes never train: they read the trace.
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
from .overview import OverviewScene

__all__ = [
    "BackwardScene",
    "ForwardScene",
    "Lecture",
    "LossScene",
    "OverviewScene",
    "SummaryScene",
    "TitleScene",
    "UpdateScene",
]
