"""Inputs that are pictures: a sample drawn as its pixels, a unit's weights as a picture.

When a config says its inputs form an image (``data.image.shape``, set for the digits),
64 numbers in a column of circles hide what a viewer should see: a handwritten 3. The
input column is drawn as the picture (each pixel a square in the grey of its value,
row by row as the inputs are numbered), and a hidden unit's 64 weights into it as a
picture too, its receptive field, in the weight-sign colours of the edges (blue
positive, orange negative, stronger for larger |w|), so the eye can match the two.

A picture is one raster (an ``ImageMobject`` painted at the camera's pixel size, each
square uniform): cheap to draw and composited once by the caching camera, like the edges.
"""

from __future__ import annotations

import numpy as np
from manim import Group, ImageMobject, Rectangle, Square
from manim.constants import RESAMPLING_ALGORITHMS

from ..trace.model import Trace
from .network import Region
from .theme import Theme, rgb


def image_shape(trace: Trace) -> tuple[int, int] | None:
    """The picture the inputs form (``data.image.shape`` of the trace's config), if any."""
    image = (trace.config.get("data") or {}).get("image")
    if not image:
        return None
    rows, cols = image["shape"]
    return int(rows), int(cols)


def grey_levels(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Each value's grey level, 0 (black, ``lo`` or less) to 255 (white, ``hi`` or more)."""
    span = hi - lo if hi > lo else 1.0
    t = np.clip((np.asarray(values, dtype=np.float64) - lo) / span, 0.0, 1.0)
    return np.round(255.0 * t).astype(np.uint8)


def grey_colours(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """[n][3] RGB: the pixels of a sample in grey scale."""
    levels = grey_levels(values, lo, hi)
    return np.repeat(levels[:, None], 3, axis=1)


def weight_colours(weights: np.ndarray, theme: Theme, scale: float | None = None) -> np.ndarray:
    """[n][3] RGB: each weight's sign colour (as its edge), from the background at 0 to
    the full colour at ``scale`` (default: the largest |w| of the set; pictures of one
    unit's weights at two times share one, so that a weight that grew looks stronger)."""
    w = np.asarray(weights, dtype=np.float64)
    scale = scale or float(np.abs(w).max()) or 1.0
    t = np.minimum(np.abs(w) / scale, 1.0)[:, None]
    back = np.array(rgb(theme.background), dtype=np.float64)
    pos = np.array(rgb(theme.positive), dtype=np.float64)
    neg = np.array(rgb(theme.negative), dtype=np.float64)
    full = np.where(w[:, None] >= 0, pos, neg)
    return np.round(back + (full - back) * t).astype(np.uint8)


class PixelPicture(Group):
    """``colours`` ([rows·cols][3], row by row) as squares filling ``box``, with a frame.

    ``cell_centre(k)`` is where input ``k``'s square is (Manim units): connectors from
    the input neurons and a highlight on a term's pixel aim there.
    """

    def __init__(
        self,
        colours: np.ndarray,
        shape: tuple[int, int],
        box: Region,
        theme: Theme,
        px_per_unit: float,
        *,
        frame_colour: str | None = None,
    ) -> None:
        super().__init__()
        rows, cols = shape
        self.shape = (rows, cols)
        self.box = box
        w_px = max(cols, round(box.width * px_per_unit))
        h_px = max(rows, round(box.height * px_per_unit))
        # Pixel (y, x) of the raster belongs to square (y·rows/h, x·cols/w): every
        # square is uniform, its edges on whole screen pixels.
        r_of = (np.arange(h_px) * rows) // h_px
        c_of = (np.arange(w_px) * cols) // w_px
        grid = np.asarray(colours, dtype=np.uint8).reshape(rows, cols, 3)
        rgba = np.empty((h_px, w_px, 4), dtype=np.uint8)
        rgba[:, :, :3] = grid[r_of[:, None], c_of[None, :]]
        rgba[:, :, 3] = 255
        image = ImageMobject(rgba, scale_to_resolution=False)
        image.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
        image.stretch_to_fit_width(box.width).stretch_to_fit_height(box.height)
        image.move_to([(box.left + box.right) / 2, (box.bottom + box.top) / 2, 0])
        frame = Rectangle(
            width=box.width + 0.04,
            height=box.height + 0.04,
            stroke_color=frame_colour or theme.neuron_stroke,
            stroke_width=1.5,
        ).move_to(image)
        self.image = image
        self.frame = frame
        self.add(image, frame)

    def cell_centre(self, k: int) -> np.ndarray:
        """Centre of input ``k``'s square, wherever the picture now stands."""
        r, c = divmod(k, self.shape[1])
        left, top = self.image.get_left()[0], self.image.get_top()[1]
        w, h = self.cell_size()
        return np.array([left + (c + 0.5) * w, top - (r + 0.5) * h, 0.0])

    def cell_size(self) -> tuple[float, float]:
        rows, cols = self.shape
        return self.image.width / cols, self.image.height / rows

    def cell_mark(self, k: int, colour: str) -> Square:
        """An outline around input ``k``'s square (a term of the sum being read)."""
        w, _ = self.cell_size()
        return Square(side_length=w, stroke_color=colour, stroke_width=3).move_to(
            self.cell_centre(k)
        )


def sample_picture(
    values: np.ndarray,
    shape: tuple[int, int],
    box: Region,
    theme: Theme,
    px_per_unit: float,
) -> PixelPicture:
    """A sample's inputs as a grey-scale picture: 0 (or its smallest value, if lower) black,
    its largest value white."""
    v = np.asarray(values, dtype=np.float64)
    lo = min(0.0, float(v.min()))
    hi = max(float(v.max()), lo + 1e-12)
    return PixelPicture(grey_colours(v, lo, hi), shape, box, theme, px_per_unit)


def receptive_field(
    weights: np.ndarray,
    shape: tuple[int, int],
    box: Region,
    theme: Theme,
    px_per_unit: float,
    *,
    scale: float | None = None,
) -> PixelPicture:
    """A unit's weights into the picture (or their change in a step), laid out as the
    picture, in sign colours (full at ``scale``, default their largest |w|)."""
    return PixelPicture(
        weight_colours(weights, theme, scale),
        shape,
        box,
        theme,
        px_per_unit,
        frame_colour=theme.muted,
    )
