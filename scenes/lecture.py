"""The lecture: every scene's beats strung together, and one scene class per part."""

from __future__ import annotations

from .backward import BackwardBeats
from .forward import ForwardBeats
from .loss import LossBeats
from .overview import OverviewBeats
from .summary import SummaryBeats
from .title import TitleBeats
from .update import UpdateBeats


class Lecture(
    TitleBeats, OverviewBeats, ForwardBeats, LossBeats, BackwardBeats, UpdateBeats, SummaryBeats
):
    """Title, overview, forward, loss, backward, update and summary, in the storyboard's order."""


class TitleScene(Lecture):
    scene_filter = ("title",)


class ForwardScene(Lecture):
    scene_filter = ("forward",)


class LossScene(Lecture):
    scene_filter = ("loss",)


class BackwardScene(Lecture):
    scene_filter = ("backward",)


class UpdateScene(Lecture):
    scene_filter = ("update",)


class SummaryScene(Lecture):
    scene_filter = ("summary",)
