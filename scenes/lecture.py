"""The lecture: every scene's beats strung together, and one scene class per part."""

from __future__ import annotations

from .backward import BackwardBeats
from .batch import BatchBeats
from .forward import ForwardBeats
from .loss import LossBeats
from .matrix import MatrixBeats
from .overview import OverviewBeats
from .slope import SlopeBeats
from .summary import SummaryBeats
from .thrown import ThrownBeats
from .title import TitleBeats
from .update import UpdateBeats


class Lecture(
    TitleBeats,
    OverviewBeats,
    ForwardBeats,
    LossBeats,
    BackwardBeats,
    SlopeBeats,
    MatrixBeats,
    BatchBeats,
    UpdateBeats,
    ThrownBeats,
    SummaryBeats,
):
    """Title, overview, forward, loss, backward, matrix form, batch, update and summary, in
    the storyboard's order."""


class TitleScene(Lecture):
    scene_filter = ("title",)


class ForwardScene(Lecture):
    scene_filter = ("forward",)


class LossScene(Lecture):
    scene_filter = ("loss",)


class BackwardScene(Lecture):
    scene_filter = ("backward",)


class MatrixScene(Lecture):
    scene_filter = ("matrix",)


class BatchScene(Lecture):
    scene_filter = ("batch",)


class UpdateScene(Lecture):
    scene_filter = ("update",)


class SummaryScene(Lecture):
    scene_filter = ("summary",)
