"""``thumbnail.png``: a 1280×720 title card for the video's page (YouTube's size).

The lecture's title, large enough to read at a thumbnail's size, its description, and
a still of the lecture (the network being explained) on the theme's background. Drawn
with Pillow at full size, not scaled up from a 480p frame.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..trace.model import write_atomic
from ..visual.theme import Theme

SIZE = (1280, 720)
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in _FONT_DIRS:
        path = Path(folder) / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, max_lines: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(".,;:") + "…"
    return lines


def thumbnail(title: str, description: str, still: Image.Image | None, theme: Theme) -> Image.Image:
    """The title card: text on the left, the still on the right."""
    card = Image.new("RGB", SIZE, theme.background)
    draw = ImageDraw.Draw(card)
    margin = 64
    text_width = SIZE[0] - 2 * margin
    if still is not None:
        shown = still.convert("RGB")
        w = 560
        h = round(w * shown.height / shown.width)
        shown = shown.resize((w, h), Image.LANCZOS)
        x, y = SIZE[0] - w - margin // 2, (SIZE[1] - h) // 2
        card.paste(shown, (x, y))
        draw.rectangle((x - 1, y - 1, x + w, y + h), outline=theme.text, width=2)
        text_width = x - 2 * margin + margin // 2
    # The largest title size at which the whole title fits the column in 4 lines (the
    # smallest size, cut with an ellipsis, if none does).
    for size in range(68, 27, -4):
        title_font = _font(size, bold=True)
        lines = _wrap(draw, title, title_font, text_width, 99)
        fits = all(draw.textlength(line, font=title_font) <= text_width for line in lines)
        if fits and len(lines) <= 4:
            break
    lines = _wrap(draw, title, title_font, text_width, 4)
    footer = SIZE[1] - 72
    y = 96
    for line in lines:
        draw.text((margin, y), line, font=title_font, fill=theme.text)
        y += round(size * 1.2)
    if description.strip():
        body = _font(28)
        y += 20
        room = max(0, (footer - 24 - y) // 38)
        if room:
            for line in _wrap(draw, " ".join(description.split()), body, text_width, room):
                draw.text((margin, y), line, font=body, fill=theme.muted)
                y += 38
    draw.text((margin, footer), "backprop-anim", font=_font(26, bold=True), fill=theme.muted)
    return card


def write_thumbnail(
    path: Path, title: str, description: str, still: Image.Image | None, theme: Theme
) -> Path:
    buffer = io.BytesIO()
    thumbnail(title, description, still, theme).save(buffer, format="PNG")
    return write_atomic(path, buffer.getvalue())
