"""Limits that protect the user's machine from a render it did not mean to start.

The config's own limits (network size, steps, detailed steps, samples) live with its
schema (``config/schema.py``, docs/config.md#limits) and a saved trace is held to them
when it loads. What a config cannot bound is the video: its size is the frame size times
its length, and its length grows with the steps and scenes asked for. A render is checked
against :data:`MAX_RENDER_PIXELS` before any speech is synthesized or frame drawn, and
refused with an estimate of its length unless the user insists (``--force``).
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import UserError
from .options import QUALITIES, RenderOptions
from .storyboard import Beat
from .timeline import schedule

# One hour of 1080p60: a render of this many pixels takes hours on a laptop and tens of
# gigabytes of frames pass through the encoder. Anything larger needs --force.
BUDGET_WIDTH, BUDGET_HEIGHT, BUDGET_FPS, BUDGET_SECONDS = 1920, 1080, 60, 3600
MAX_RENDER_PIXELS = BUDGET_WIDTH * BUDGET_HEIGHT * BUDGET_FPS * BUDGET_SECONDS


def _duration(seconds: float) -> str:
    """'2 h 05 min', '7 min 30 s', '45 s'."""
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} h {m:02d} min"
    return f"{m} min {s:02d} s" if m else f"{s} s"


def minimum_frames(beats: Sequence[Beat], options: RenderOptions) -> int:
    """Frames of the video at least: every beat at its natural length (speech adds more)."""
    timed = schedule(list(beats), {}, options.pace, options.frame_rate)
    return sum(tb.frames for tb in timed)


def check_render_size(beats: Sequence[Beat], options: RenderOptions) -> None:
    """Refuse a render larger than :data:`MAX_RENDER_PIXELS` (frame size x length)."""
    width, height = options.resolution
    frames = minimum_frames(beats, options)
    if width * height * frames <= MAX_RENDER_PIXELS:
        return
    fps = options.frame_rate
    steps = sorted({b.step for b in beats if b.step is not None})
    lower = next(
        (q for q, (_, w, h, _) in QUALITIES.items() if w * h * frames <= MAX_RENDER_PIXELS),
        None,
    )
    hints = ["fewer steps (--steps)"] if len(steps) > 1 else []
    if lower is not None and lower != options.quality:
        hints.append(f"a lower quality (-q {lower})")
    hints.append("a faster pace (--pace)")
    raise UserError(
        f"this render would be at least {_duration(frames / fps)} of video at "
        f"{width}x{height}, {fps} fps ({frames:,} frames, {len(beats)} beats over "
        f"{len(steps)} step{'s' if len(steps) != 1 else ''}), more than the limit of "
        f"{_duration(BUDGET_SECONDS)} at {BUDGET_HEIGHT}p{BUDGET_FPS} (in pixels); render "
        + ", ".join(hints)
        + ", or pass --force to render it anyway"
    )
