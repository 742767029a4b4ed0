"""Plots of a whole training: the loss curve, the decision boundary, a fitted curve,
pre-activation histograms, gradient norms, and the loss along one weight.

Building blocks in the manner of :mod:`.panels`: each builds mobjects inside a given
region and hands out the pieces a scene animates (a curve segment, the next
keyframe's image); none calls ``play``. Anything with many cells or points (a heat
map, two hundred data points) is painted from numpy into one image, so a frame costs
the same whatever the data's size. Tick labels are trace values (the first and last
loss, the number of steps), rounded by :func:`backprop_anim.numbers.fmt`.
"""

from __future__ import annotations

from collections.abc import Sequence

import cairo
import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    DashedLine,
    Dot,
    Group,
    ImageMobject,
    Line,
    Rectangle,
    VGroup,
    VMobject,
)

from ..numbers import fmt
from ..overview import log_scale
from .network import Region
from .panels import Label
from .theme import Theme, rgb

# Okabe-Ito, without black: distinguishable with the common colour-vision deficiencies.
CLASS_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
LAYER_COLORS = ("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#F0E442", "#D55E00")
HEAT_STRENGTH = 0.6  # a certain answer tints the background this far toward the class colour


def class_color(k: int) -> str:
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def layer_color(k: int) -> str:
    return LAYER_COLORS[k % len(LAYER_COLORS)]


def _image(rgba: np.ndarray, region: Region) -> ImageMobject:
    image = ImageMobject(np.ascontiguousarray(rgba), scale_to_resolution=False)
    image.stretch_to_fit_width(region.width).stretch_to_fit_height(region.height)
    image.move_to([(region.left + region.right) / 2, (region.top + region.bottom) / 2, 0])
    return image


def _cairo_rgba(surface: cairo.ImageSurface) -> np.ndarray:
    """Cairo's premultiplied BGRA as straight RGBA."""
    surface.flush()
    h, w = surface.get_height(), surface.get_width()
    bgra = np.ndarray((h, w, 4), dtype=np.uint8, buffer=surface.get_data()).copy()
    rgba = bgra[:, :, [2, 1, 0, 3]]
    alpha = rgba[:, :, 3:4].astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        straight = np.where(alpha > 0, rgba[:, :, :3] * 255.0 / alpha, 0)
    return np.concatenate([np.clip(straight, 0, 255).astype(np.uint8), rgba[:, :, 3:4]], 2)


def scaled(lo: float, hi: float, log: bool) -> tuple[float, float]:
    return (float(np.log10(lo)), float(np.log10(hi))) if log else (lo, hi)


class Frame2D(Group):
    """A plotting box over data ranges: maps data coordinates into a region of the frame."""

    def __init__(
        self,
        region: Region,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        theme: Theme,
        *,
        log_y: bool = False,
    ) -> None:
        super().__init__()
        self.region = region
        self.x_range = x_range
        self.log_y = log_y
        self.y_range = scaled(*y_range, log_y)
        self.theme = theme

    def p(self, x: float, y: float) -> np.ndarray:
        """The frame point of data point (x, y)."""
        r = self.region
        x0, x1 = self.x_range
        y0, y1 = self.y_range
        yv = float(np.log10(max(y, 1e-300))) if self.log_y else y
        fx = (x - x0) / ((x1 - x0) or 1.0)
        fy = (yv - y0) / ((y1 - y0) or 1.0)
        return np.array([r.left + fx * r.width, r.bottom + fy * r.height, 0.0])

    def polyline(self, xs: Sequence[float], ys: Sequence[float], color: str, width: float = 4):
        """A curve through data points, clipped to the box's vertical range."""
        r = self.region
        pts = [self.p(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
        pts = [np.array([q[0], min(max(q[1], r.bottom), r.top), 0.0]) for q in pts]
        curve = VMobject(stroke_color=color, stroke_width=width)
        if len(pts) == 1:
            pts = [pts[0], pts[0] + 0.01 * RIGHT]
        curve.set_points_as_corners(pts)
        return curve

    def axis_titles(self, x_text: str, y_text: str, font_size: float) -> tuple[Label, Label]:
        """Axis names: x centred under the box, y above its top-left corner."""
        r = self.region
        x_title = Label(x_text, font_size=font_size, color=self.theme.muted)
        x_title.next_to([(r.left + r.right) / 2, r.bottom, 0], DOWN, buff=0.12)
        y_title = Label(y_text, font_size=font_size, color=self.theme.muted)
        y_title.next_to([r.left, r.top, 0], UP, buff=0.1).align_to([r.left, 0, 0], LEFT)
        return x_title, y_title

    def axes_lines(self) -> VGroup:
        r = self.region
        color = self.theme.muted
        return VGroup(
            Line([r.left, r.bottom, 0], [r.right, r.bottom, 0], color=color, stroke_width=2),
            Line([r.left, r.bottom, 0], [r.left, r.top, 0], color=color, stroke_width=2),
        )


class LossPlot(Frame2D):
    """A quantity against the training steps, on a log scale when it spans decades.

    The axes are labelled with trace values only: 0 and the last step on x, and on y
    the values given as ``labelled`` (for a loss: the first and the last).
    """

    def __init__(
        self,
        last_step: int,
        values: Sequence[float],
        labelled: Sequence[float],
        region: Region,
        theme: Theme,
        *,
        digits: int = 4,
        font_size: float = 18,
        y_title: str = "loss on the data",
    ) -> None:
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        positive = v[v > 0]
        log = log_scale(positive) and positive.size == v.size
        if log:
            y_range = (float(positive.min()) / 1.6, float(positive.max()) * 1.6)
        else:
            y_range = (0.0, (float(v.max()) if v.size and v.max() > 0 else 1.0) * 1.08)
        last = max(1, int(last_step))
        super().__init__(region, (0.0, float(last)), y_range, theme, log_y=log)
        muted = theme.muted
        self.axes = self.axes_lines()
        labels = VGroup()
        for step in sorted({0, last}):
            lab = Label(str(step), font_size=font_size, color=muted)
            labels.add(lab.next_to(self.p(step, y_range[0]), DOWN, buff=0.1))
        texts: list[str] = []
        for value in labelled:
            text = fmt(value, digits)
            if not np.isfinite(value) or text in texts or (log and value <= 0):
                continue
            texts.append(text)
            at = self.p(0, value)
            tick = Line(at, at + 0.1 * LEFT, color=muted)
            lab = Label(text, font_size=font_size, color=muted)
            lab.next_to(tick, LEFT, buff=0.06)
            labels.add(tick, lab)
        self.tick_texts = texts
        x_title = Label("training steps done", font_size=font_size, color=muted)
        x_title.next_to(self.p(last / 2, y_range[0]), DOWN, buff=0.42)
        y_text = y_title + (" (log scale)" if log else "")
        self.y_title = Label(y_text, font_size=font_size, color=muted)
        self.y_title.next_to([region.left, region.top, 0], UP, buff=0.12)
        self.y_title.align_to([region.left - 0.1, 0, 0], LEFT)
        self.add(self.axes, labels, x_title, self.y_title)

    def dot(self, step: float, value: float, color: str) -> Dot:
        return Dot(self.p(step, value), radius=0.07, color=color)


def points_layer(
    frame: Frame2D,
    X: np.ndarray,
    colors: Sequence[str],
    px_per_unit: float,
    theme: Theme,
    *,
    radius: float = 0.06,
) -> np.ndarray:
    """Samples as filled dots on a transparent RGBA array covering ``frame``'s region.

    Painted at the camera's pixel density, outlined in the background colour so a dot
    stands out on a background tinted in its own colour.
    """
    r = frame.region
    w_px, h_px = max(2, round(r.width * px_per_unit)), max(2, round(r.height * px_per_unit))
    surface = cairo.ImageSurface(cairo.FORMAT_ARGB32, w_px, h_px)
    ctx = cairo.Context(surface)
    outline = [v / 255 for v in rgb(theme.background)]
    for (x, y), color in zip(X, colors, strict=True):
        q = frame.p(float(x), float(y))
        cx, cy = (q[0] - r.left) * px_per_unit, (r.top - q[1]) * px_per_unit
        ctx.arc(cx, cy, radius * px_per_unit, 0, 2 * np.pi)
        ctx.set_source_rgb(*(v / 255 for v in rgb(color)))
        ctx.fill_preserve()
        ctx.set_source_rgb(*outline)
        ctx.set_line_width(max(1.0, 0.25 * radius * px_per_unit))
        ctx.stroke()
    return _cairo_rgba(surface)


def image(rgba: np.ndarray, region: Region) -> ImageMobject:
    """An RGBA array as an image mobject filling ``region``."""
    return _image(rgba, region)


def heat_map(
    scores: np.ndarray, region: Region, theme: Theme, overlay: np.ndarray | None = None
) -> ImageMobject:
    """Class scores ``[rows][cols][classes]`` as one image: each cell tinted toward its
    most likely class by how sure the network is, the boundary a thin line in the text
    colour, and ``overlay`` (an RGBA array of the same size, e.g. the data points) on top.

    One image per keyframe with the points baked in: the video shows one picture where
    a heat map under separate points would cost two per frame.
    """
    k = scores.shape[2]
    best = np.argmax(scores, axis=2)
    top = np.max(scores, axis=2)
    sure = np.clip((top - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
    palette = np.array([rgb(class_color(c)) for c in range(k)], dtype=float)
    bg = np.array(rgb(theme.background), dtype=float)
    t = (HEAT_STRENGTH * sure)[:, :, None]
    colors = bg + (palette[best] - bg) * t
    edge = class_edges(best)
    colors[edge] = np.array(rgb(theme.text), dtype=float) * 0.85 + bg * 0.15
    if overlay is not None:
        alpha = overlay[:, :, 3:4].astype(float) / 255.0
        colors = colors * (1.0 - alpha) + overlay[:, :, :3].astype(float) * alpha
    rgba = np.empty((*best.shape, 4), dtype=np.uint8)
    rgba[:, :, :3] = np.clip(colors, 0, 255).astype(np.uint8)
    rgba[:, :, 3] = 255
    mob = _image(rgba, region)
    mob.set_resampling_algorithm(0)  # one cell per pixel: keep the boundary and dots crisp
    return mob


def class_edges(best: np.ndarray) -> np.ndarray:
    """Cells whose most likely class differs from the one left of or above them: the
    decision boundary as the heat map draws it, one cell wide."""
    edge = np.zeros(best.shape, dtype=bool)
    edge[:, 1:] |= best[:, 1:] != best[:, :-1]
    edge[1:, :] |= best[1:, :] != best[:-1, :]
    return edge


def boundary_line(scores: np.ndarray, region: Region, color: str, width: int = 3) -> ImageMobject:
    """The heat map's boundary alone, ``width`` cells wide in ``color`` on transparency:
    laid over the heat map where the narration points at the boundary (its one-cell line
    is hard to find at 480p)."""
    line = class_edges(np.argmax(scores, axis=2))
    for _ in range(max(0, width - 1) // 2):  # grow by one cell on each side
        grown = line.copy()
        grown[1:, :] |= line[:-1, :]
        grown[:-1, :] |= line[1:, :]
        grown[:, 1:] |= line[:, :-1]
        grown[:, :-1] |= line[:, 1:]
        line = grown
    rgba = np.zeros((*line.shape, 4), dtype=np.uint8)
    rgba[line, :3] = rgb(color)
    rgba[line, 3] = 255
    mob = _image(rgba, region)
    mob.set_resampling_algorithm(0)
    return mob


class FitPlot(Frame2D):
    """Targets against the input, with the network's curve and an output's reach."""

    def __init__(
        self,
        region: Region,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        theme: Theme,
        *,
        reach: tuple[float, float] | None = None,
        reach_label: str = "",
        font_size: float = 18,
        x_name: str = "x",
        y_name: str = "y",
    ) -> None:
        super().__init__(region, x_range, y_range, theme)
        self.axes = self.axes_lines()
        parts: list = [
            self.axes,
            *self.axis_titles(f"input {x_name}", f"target {y_name}", font_size),
        ]
        if reach is not None:
            lines = VGroup()
            for value in reach:
                if y_range[0] < value < y_range[1]:
                    a, b = self.p(x_range[0], value), self.p(x_range[1], value)
                    lines.add(
                        DashedLine(a, b, color=theme.negative, stroke_width=2, dash_length=0.1)
                    )
            if len(lines):
                label = Label(reach_label, font_size=font_size * 0.9, color=theme.negative)
                label.next_to(lines[-1], UP, buff=0.05).align_to(lines[-1], RIGHT)
                lines.add(label)
                parts.append(lines)
            self.reach_lines = lines
        self.add(*parts)


class Histogram(Group):
    """One layer's pre-activations over fixed bins, with the saturating zones shaded."""

    def __init__(
        self,
        bins: Sequence[float],
        region: Region,
        theme: Theme,
        *,
        top: float,
        saturating_z: float | None = None,
        title: str = "",
        font_size: float = 16,
    ) -> None:
        super().__init__()
        self.bins = np.asarray(bins, dtype=float)
        self.frame = Frame2D(region, (self.bins[0], self.bins[-1]), (0.0, top), theme)
        self.theme = theme
        parts: list = []
        if saturating_z is not None:
            for a, b in ((self.bins[0], -saturating_z), (saturating_z, self.bins[-1])):
                left, right = self.frame.p(a, 0), self.frame.p(b, 0)
                zone = Rectangle(
                    width=right[0] - left[0],
                    height=region.height,
                    stroke_width=0,
                    fill_color=theme.negative,
                    fill_opacity=0.18,
                )
                zone.move_to([(left[0] + right[0]) / 2, (region.bottom + region.top) / 2, 0])
                parts.append(zone)
        base = Line(
            [region.left, region.bottom, 0], [region.right, region.bottom, 0], color=theme.muted
        )
        parts.append(base)
        # The end bins also count everything beyond them (the trace clips z to the bins).
        ends = {self.bins[0]: "≤ ", 0.0: "", self.bins[-1]: "≥ "}
        for z, prefix in ends.items():
            lab = Label(prefix + fmt(z, 2), font_size=font_size * 0.85, color=theme.muted)
            parts.append(lab.next_to(self.frame.p(z, 0), DOWN, buff=0.06))
        self.title = Label(title, font_size=font_size, color=theme.text)
        self.title.next_to([region.left, region.top, 0], UP, buff=0.08).align_to(
            [region.left, 0, 0], LEFT
        )
        parts.append(self.title)
        self.add(*parts)

    def bars(self, counts: Sequence[float]) -> VMobject:
        """The histogram as one filled outline (one mobject, whatever the bin count)."""
        c = np.asarray(counts, dtype=float)
        pts = [self.frame.p(self.bins[0], 0)]
        for k, v in enumerate(c):
            pts.append(self.frame.p(self.bins[k], v))
            pts.append(self.frame.p(self.bins[k + 1], v))
        pts.append(self.frame.p(self.bins[-1], 0))
        shape = VMobject(stroke_color=self.theme.neuron_fill, stroke_width=1.5)
        shape.set_points_as_corners([*pts, pts[0]])
        shape.set_fill(self.theme.neuron_fill, opacity=0.75)
        return shape


class WeightPlot(Frame2D):
    """The loss as a function of one weight, a point at the current weight and its tangent."""

    def __init__(
        self,
        region: Region,
        w_range: tuple[float, float],
        loss_range: tuple[float, float],
        theme: Theme,
        *,
        weight_name: str = "w",
        font_size: float = 18,
    ) -> None:
        super().__init__(region, w_range, loss_range, theme)
        titles = self.axis_titles(f"weight {weight_name}", f"loss L({weight_name})", font_size)
        self.add(self.axes_lines(), *titles)

    def point(self, w: float, loss: float) -> Dot:
        return Dot(self.p(w, loss), radius=0.08, color=self.theme.highlight)

    def tangent(self, w: float, loss: float, slope: float, length: float = 1.8) -> Line:
        """The tangent at (w, L): a line of the slope dL/dw, ``length`` long on screen."""
        a = self.p(w, loss)
        b = self.p(w + 1.0, loss + slope)
        direction = (b - a) / (np.linalg.norm(b - a) or 1.0)
        # Each half is shortened where it would leave the plot (downhill near the floor).
        r = self.region
        ends = []
        for sign in (-1.0, 1.0):
            d = sign * direction
            half = length / 2
            if d[1] < -1e-9:
                half = min(half, (a[1] - r.bottom) / -d[1])
            elif d[1] > 1e-9:
                half = min(half, (r.top - a[1]) / d[1])
            ends.append(a + d * max(half, 0.05))
        return Line(*ends, color=self.theme.gradient, stroke_width=4)

    def trail(self, w: float, loss: float) -> Dot:
        """A small mark where the weight was at an earlier keyframe."""
        return Dot(self.p(w, loss), radius=0.045, color=self.theme.muted)
