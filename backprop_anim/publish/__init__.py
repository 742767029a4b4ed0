"""Present and publish a rendered lecture: chapters, clips, a thumbnail, a page.

Everything here reads what a render already made (the video, the timed beats, the
narration, the stills) and writes files beside the video; nothing re-renders or
re-encodes a picture. :func:`write_publish_outputs` is the one call ``render()``
makes; the pieces are usable alone:

- :mod:`.remux`: keyframe-exact cutting and joining by copying packets, chapter marks;
- :mod:`.chapters`: beat spans, video chapters, YouTube chapters, chapters WebVTT;
- :mod:`.clips`: one clip per beat with its own narration;
- :mod:`.thumbnail`: the 1280×720 title card;
- :mod:`.page`: ``index.html``, the offline lecture page with presenter mode;
- :mod:`.slides`: ``<name>.pptx``, one slide per beat with its clip (``slides`` extra).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..trace.model import Trace, write_atomic
from ..visual.theme import THEMES
from .chapters import (
    beat_spans,
    video_chapters,
    write_chapters_vtt,
    youtube_chapters,
    youtube_text,
)
from .remux import write_chapters

if TYPE_CHECKING:
    from PIL import Image

    from ..narrate import Narration
    from ..options import RenderOptions
    from ..timeline import TimedBeat

__all__ = ["Published", "write_publish_outputs"]


@dataclass
class Published:
    files: list[Path] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # added to render.json


def _thumbnail_still(timed: list[TimedBeat], frames: list[Image.Image]) -> Image.Image | None:
    """The first beat that shows the network (a forward beat), else the first frame."""
    for tb, frame in zip(timed, frames, strict=True):
        if tb.beat.scene == "forward":
            return frame
    return frames[0] if frames else None


def write_publish_outputs(
    folder: Path,
    video: Path,
    trace: Trace,
    timed: list[TimedBeat],
    narration: Narration,
    frames: list[Image.Image],
    options: RenderOptions,
) -> Published:
    """Chapters (in the video, ``.chapters.vtt``, ``.youtube.txt``), thumbnail, page;
    clips and slides when asked for."""
    from .thumbnail import write_thumbnail

    fps = options.frame_rate
    name = trace.config["name"]
    title = str(trace.config.get("title") or name)
    description = str(trace.config.get("description") or "")
    headings = {line.beat_id: line.heading for line in narration.lines}
    spans = beat_spans(timed, fps, headings, trace.network.unit_names, trace.network.layer_names)
    marks = video_chapters(spans)
    out = Published()
    if options.format != "gif":  # a GIF has nowhere to keep them
        write_chapters(video, marks)
    out.files.append(write_chapters_vtt(marks, folder / f"{name}.chapters.vtt"))
    youtube = youtube_chapters(spans)
    out.files.append(
        write_atomic(folder / f"{name}.youtube.txt", youtube_text(title, description, youtube))
    )
    out.files.append(
        write_thumbnail(
            folder / "thumbnail.png",
            title,
            description,
            _thumbnail_still(timed, frames),
            THEMES[options.theme],
        )
    )
    out.meta["chapters"] = [
        {"start": round(m.start, 3), "end": round(m.end, 3), "title": m.title} for m in marks
    ]
    out.meta["youtube_chapters"] = [{"start": t, "title": text} for t, text in youtube]
    out.meta["beat_titles"] = {s.id: s.title for s in spans}
    if options.clips or options.slides:  # slides embed the clips
        from .clips import write_clips

        clips = write_clips(video, timed, narration.clips, fps, folder / "clips")
        out.files += clips
        out.meta["clips"] = {
            tb.beat.id: f"clips/{path.name}" for tb, path in zip(timed, clips, strict=True)
        }
        if options.slides:
            from .slides import BeatSlide, write_slides

            texts = {line.beat_id: line.spoken for line in narration.lines}
            deck = [
                BeatSlide(span.title, clip, frame, texts.get(span.id, ""))
                for span, clip, frame in zip(spans, clips, frames, strict=True)
            ]
            out.files.append(write_slides(folder / f"{name}.pptx", title, description, deck))
            out.meta["slides"] = f"{name}.pptx"
    if options.format != "gif":  # the page plays the video in a <video> element
        from .page import Sentence, write_lecture_page

        starts = {tb.beat.id: tb.start(fps) for tb in timed}
        notes = folder / "notes.md"
        out.files += write_lecture_page(
            folder,
            title=title,
            description=description,
            video=video.name,
            fps=fps,
            duration=timed[-1].end(fps),
            spans=spans,
            chapters=marks,
            lines=[(line.beat_id, line.spoken) for line in narration.lines],
            sentences=[Sentence(*s) for s in narration.spoken_sentences(starts)],
            cues=narration.cues(starts) if options.captions != "burn" else [],
            stills=frames,
            notes_markdown=notes.read_text(encoding="utf-8") if notes.is_file() else None,
            clips=out.meta.get("clips"),
            theme=options.theme,
        )
        out.meta["page"] = "index.html"
    return out
