"""Media checks and frame extraction with PyAV (no ffmpeg binary needed)."""

from __future__ import annotations

from pathlib import Path

import av
from PIL import Image, ImageDraw


def video_info(path: Path) -> dict:
    """Codec, size, frame rate, frame count and duration of a video's first stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = stream.frames
        if not frames:
            frames = sum(1 for _ in container.decode(video=0))
        rate = float(stream.average_rate or stream.guessed_rate or 0)
        return {
            "codec": stream.codec_context.name,
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "fps": rate,
            "frames": int(frames),
            "duration": frames / rate if rate else 0.0,
            "audio": [s.codec_context.name for s in container.streams.audio],
        }


def extract_frames(path: Path, indices: list[int]) -> list[Image.Image]:
    """The frames at the given indices (decoded in one pass), as RGB images."""
    wanted = sorted(set(indices))
    found: dict[int, Image.Image] = {}
    last = None
    with av.open(str(path)) as container:
        for n, frame in enumerate(container.decode(video=0)):
            last = frame
            if n in wanted:
                found[n] = frame.to_image().convert("RGB")
            if len(found) == len(wanted):
                break
    if last is not None:
        fallback = last.to_image().convert("RGB")
        for n in wanted:
            found.setdefault(n, fallback)
    return [found[n] for n in indices]


def storyboard_sheet(
    frames: list[Image.Image], labels: list[str], path: Path, columns: int = 4
) -> Path:
    """A contact sheet: one thumbnail per beat with its id underneath."""
    if not frames:
        raise ValueError("no frames")
    thumb_w = 320
    thumb_h = int(thumb_w * frames[0].height / frames[0].width)
    rows = (len(frames) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (thumb_w + 8) + 8, rows * (thumb_h + 28) + 8), "#202428")
    draw = ImageDraw.Draw(sheet)
    for n, (frame, label) in enumerate(zip(frames, labels, strict=True)):
        r, c = divmod(n, columns)
        x, y = 8 + c * (thumb_w + 8), 8 + r * (thumb_h + 28)
        sheet.paste(frame.resize((thumb_w, thumb_h)), (x, y))
        draw.text((x + 2, y + thumb_h + 6), label[:48], fill="#E0E0E0")
    tmp = path.with_suffix(".tmp.png")
    sheet.save(tmp)
    tmp.replace(path)
    return path


def copy_stream(out: av.container.OutputContainer, template: av.stream.Stream) -> av.stream.Stream:
    """A stream of ``out`` that takes ``template``'s packets as they are.

    Besides the codec parameters (``add_stream_from_template``) it keeps WebM's
    ``alpha_mode``: VP9 keeps a transparent picture's alpha in each block's
    BlockAdditional, and players (Chromium among them) only read it when the track says
    AlphaMode 1, which a remux would otherwise drop.
    """
    stream = out.add_stream_from_template(template)
    if any(k.lower() == "alpha_mode" and v == "1" for k, v in template.metadata.items()):
        stream.metadata["alpha_mode"] = "1"
    return stream
