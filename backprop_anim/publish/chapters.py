"""Chapters: the beats of a lecture as the marks that players, pages and YouTube show.

One list of :class:`BeatSpan` (a timed beat with its title) gives every chapter list:

- :func:`video_chapters`: one chapter per beat when there are few (at most
  :data:`MAX_BEAT_CHAPTERS`), otherwise one per scene; written into the video, into
  ``<name>.chapters.vtt`` and into render.json, and listed on the lecture page;
- :func:`youtube_chapters`: the same, merged until YouTube accepts them (the first at
  0:00, at least three, each at least ten seconds), a short beat joining a neighbour of
  its own scene first.

Titles are the headings of the narration (the same words as the notes' sections) or,
for a silent lecture, the scene and the layer or unit the beat is about.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..narration.notes import SCENE_TITLES
from ..timeline import TimedBeat
from ..trace.model import write_atomic
from .remux import ChapterMark

MAX_BEAT_CHAPTERS = 30
YOUTUBE_MIN_SECONDS = 10
YOUTUBE_MIN_CHAPTERS = 3


@dataclass(frozen=True)
class BeatSpan:
    """A beat placed in the video: ``[start, end)`` seconds, its scene and its title."""

    id: str
    scene: str
    step: int | None
    start: float
    end: float
    title: str

    @property
    def section(self) -> tuple[int | None, str]:
        """The scene run this beat belongs to (a scene of one training step)."""
        return (self.step, self.scene)


def beat_spans(
    timed: Sequence[TimedBeat],
    fps: int,
    headings: Mapping[str, str],
    unit_names: Sequence[Sequence[str]] = (),
    layer_names: Sequence[str] = (),
) -> list[BeatSpan]:
    """Titled spans of the timed beats; ``headings`` maps beat id to the notes' heading."""
    steps = {tb.beat.step for tb in timed if tb.beat.scene not in ("title", "overview")}
    out = []
    for tb in timed:
        beat = tb.beat
        if beat.scene == "title":  # its heading is the lecture's title, already above
            title = SCENE_TITLES["title"]
        else:
            title = headings.get(beat.id, "").strip()
            title = title or _fallback_title(beat, unit_names, layer_names)
        if len(steps) > 1 and beat.step is not None and beat.scene not in ("title", "overview"):
            title = f"Step {beat.step}: {title}"
        out.append(BeatSpan(beat.id, beat.scene, beat.step, tb.start(fps), tb.end(fps), title))
    return out


def _fallback_title(beat, unit_names, layer_names) -> str:
    scene = SCENE_TITLES.get(beat.scene, beat.scene.capitalize())
    if beat.kind == "update_ranking":
        return f"{scene}: how much each weight moved"
    if beat.kind == "gradients":
        scene = "Gradients"
    layer = beat.layer
    if layer is not None and layer < len(layer_names):
        if beat.unit is not None and layer < len(unit_names):
            return f"{scene}: {unit_names[layer][beat.unit]}"
        return f"{scene}: {layer_names[layer]}"
    return scene


def _scene_title(span: BeatSpan, several_steps: bool) -> str:
    title = SCENE_TITLES.get(span.scene, span.scene.capitalize())
    if several_steps and span.step is not None and span.scene not in ("title", "overview"):
        return f"Step {span.step}: {title}"
    return title


def _several_steps(spans: Sequence[BeatSpan]) -> bool:
    return len({s.step for s in spans if s.scene not in ("title", "overview")}) > 1


@dataclass
class _Group:
    spans: list[BeatSpan]

    @property
    def start(self) -> float:
        return self.spans[0].start

    @property
    def end(self) -> float:
        return self.spans[-1].end


def _sections(spans: Sequence[BeatSpan]) -> list[list[BeatSpan]]:
    """Consecutive beats of the same scene of the same step."""
    runs: list[list[BeatSpan]] = []
    for span in spans:
        if runs and runs[-1][-1].section == span.section:
            runs[-1].append(span)
        else:
            runs.append([span])
    return runs


def _title(group: Sequence[BeatSpan], runs: Sequence[Sequence[BeatSpan]], several: bool) -> str:
    """A chapter's title: one beat's, a whole scene's, or what its beats have in common.

    Beats of one scene titled "Forward pass: h1", "Forward pass: h2" become "Forward
    pass: h1, h2"; beats of several scenes, the scenes' titles joined.
    """
    if len(group) == 1:
        return group[0].title
    sections = list(dict.fromkeys(s.section for s in group))
    if len(sections) > 1:
        return " & ".join(dict.fromkeys(_scene_title(s, several) for s in group))
    run = next(r for r in runs if group[0] in r)
    if len(run) == len(group):
        return _scene_title(group[0], several)
    heads = {s.title.rpartition(": ")[0] for s in group}
    if len(heads) == 1 and "" not in heads:
        return f"{heads.pop()}: " + ", ".join(s.title.rpartition(": ")[2] for s in group)
    joined = "; ".join(s.title for s in group)
    return joined if len(joined) <= 70 else f"{group[0].title} …"


def _marks(groups: Sequence[Sequence[BeatSpan]], spans: Sequence[BeatSpan]) -> list[ChapterMark]:
    runs, several = _sections(spans), _several_steps(spans)
    return [ChapterMark(g[0].start, g[-1].end, _title(g, runs, several)) for g in groups]


def video_chapters(spans: Sequence[BeatSpan]) -> list[ChapterMark]:
    """One chapter per beat (at most MAX_BEAT_CHAPTERS of them), else one per scene."""
    groups = [[s] for s in spans] if len(spans) <= MAX_BEAT_CHAPTERS else _sections(spans)
    return _marks(groups, spans)


def youtube_chapters(spans: Sequence[BeatSpan]) -> list[tuple[int, str]]:
    """(whole second, title) chapters that YouTube accepts, or [] if the video is too short.

    Starts are whole seconds (as a description shows them). Starting from
    :func:`video_chapters`' grouping, the shortest chapter under ten seconds is merged
    into a neighbour, of its own scene when it has one (the shorter such neighbour),
    until every chapter lasts ten seconds.
    """
    if not spans:
        return []
    total = spans[-1].end
    groups = [[s] for s in spans] if len(spans) <= MAX_BEAT_CHAPTERS else _sections(spans)

    def start(g: Sequence[BeatSpan]) -> int:
        return 0 if g is groups[0] else math.floor(g[0].start)

    def length(k: int) -> float:
        end = math.floor(groups[k + 1][0].start) if k + 1 < len(groups) else total
        return end - start(groups[k])

    while len(groups) > 1:
        short = [k for k in range(len(groups)) if length(k) < YOUTUBE_MIN_SECONDS]
        if not short:
            break
        k = min(short, key=lambda i: (length(i), i))
        neighbours = [j for j in (k - 1, k + 1) if 0 <= j < len(groups)]
        same = [
            j
            for j in neighbours
            if groups[j][-1].section == groups[k][0].section
            or groups[j][0].section == groups[k][-1].section
        ]
        j = min(same or neighbours, key=lambda i: (length(i), i))
        a, b = sorted((j, k))
        groups[a : b + 1] = [groups[a] + groups[b]]
    if len(groups) < YOUTUBE_MIN_CHAPTERS or total < YOUTUBE_MIN_CHAPTERS * YOUTUBE_MIN_SECONDS:
        return []
    if any(length(k) < YOUTUBE_MIN_SECONDS for k in range(len(groups))):
        return []
    marks = _marks(groups, spans)
    return [(start(g), m.title) for g, m in zip(groups, marks, strict=True)]


def timestamp(seconds: int) -> str:
    """YouTube's form: 0:00, 12:34, 1:02:03."""
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def youtube_text(title: str, description: str, chapters: Sequence[tuple[int, str]]) -> str:
    """A video description ready to paste: title, description, then the chapter list."""
    out = [title.strip(), ""]
    if description.strip():
        out += [" ".join(description.split()), ""]
    if chapters:
        out += ["Chapters:"] + [f"{timestamp(t)} {name}" for t, name in chapters]
    else:
        out += ["(This video is too short for YouTube chapters: at least three of ten seconds.)"]
    out += ["", "Made with backprop-anim: every number on screen comes from the real training."]
    return "\n".join(out) + "\n"


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def write_chapters_vtt(chapters: Sequence[ChapterMark], path: Path) -> Path:
    """A WebVTT file of chapters (a ``<track kind="chapters">``); times in milliseconds."""
    out = ["WEBVTT", ""]
    for n, ch in enumerate(chapters, 1):
        title = " ".join(ch.title.replace("-->", "→").split())
        out += [str(n), f"{_vtt_time(ch.start)} --> {_vtt_time(ch.end)}", title, ""]
    return write_atomic(path, "\n".join(out))
