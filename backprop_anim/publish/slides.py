"""``<name>.pptx``: the lecture as slides, one per beat, each playing the beat's clip.

For a lecturer who presents from PowerPoint or LibreOffice Impress: each slide has the
beat's title, its clip (``clips/``, cut from the lecture with its narration) as an
embedded movie whose poster is the beat's still, and the narration as speaker notes.
The title beat's slide comes first and carries the lecture's title. python-pptx is an
optional dependency (the ``slides`` extra): a lecture renders without it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SLIDE_WIDTH_IN = 13.333  # 16:9, PowerPoint's default widescreen size
SLIDE_HEIGHT_IN = 7.5
TITLE_ONLY_LAYOUT = 5  # in python-pptx's default template


@dataclass(frozen=True)
class BeatSlide:
    title: str
    clip: Path
    still: Any  # a PIL image, the movie's poster
    notes: str


def write_slides(path: Path, title: str, description: str, slides: Sequence[BeatSlide]) -> Path:
    """Write the presentation (to a temporary name, then renamed into place)."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(SLIDE_WIDTH_IN), Inches(SLIDE_HEIGHT_IN)
    deck.core_properties.title = title
    deck.core_properties.subject = " ".join(description.split())
    layout = deck.slide_layouts[TITLE_ONLY_LAYOUT]
    top, margin = Inches(1.35), Inches(0.25)
    for n, beat in enumerate(slides):
        slide = deck.slides.add_slide(layout)
        heading = slide.shapes.title
        heading.left, heading.top = margin, Inches(0.15)
        heading.width, heading.height = deck.slide_width - 2 * margin, Inches(1.1)
        heading.text = title if n == 0 else beat.title
        for paragraph in heading.text_frame.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(36 if n == 0 else 30)
                run.font.color.rgb = RGBColor(0x1B, 0x1D, 0x21)
        aspect = beat.still.height / beat.still.width
        height = deck.slide_height - top - margin
        width = int(height / aspect)
        if width > deck.slide_width - 2 * margin:
            width = deck.slide_width - 2 * margin
            height = int(width * aspect)
        poster = io.BytesIO()
        beat.still.convert("RGB").save(poster, format="PNG")
        poster.seek(0)
        slide.shapes.add_movie(
            str(beat.clip),
            (deck.slide_width - width) // 2,
            top,
            width,
            height,
            poster_frame_image=poster,
            mime_type="video/mp4",
        )
        notes = beat.notes.strip() or beat.title
        if n == 0 and description.strip():
            notes = f"{notes}\n\n{' '.join(description.split())}"
        slide.notes_slide.notes_text_frame.text = notes
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        deck.save(str(tmp))
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
