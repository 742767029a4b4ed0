"""The network diagram: neurons addressable by (layer, unit), edges by (layer, unit, input).

Edges are not one Manim ``Line`` each (thousands of those cost minutes per clip):
all edges of the picture are painted by Cairo into one raster image, at the camera's
pixel size, with each edge's colour from the sign of its weight and width from |w|.
Only the few edges a beat talks about become real ``Line`` mobjects, on top.

Layers with more units than fit are drawn elided: the first and last units, the
units a beat focuses on, a ⋮ for each gap, and a brace with the count.

Layer indices here count the input layer: column 0 is the inputs, column i + 1 is
the network's layer i.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cairo
import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Circle,
    Group,
    ImageMobject,
    Line,
    Mobject,
    VGroup,
)

from ..numbers import fmt
from .panels import Label
from .theme import Theme, rgb


@dataclass(frozen=True)
class Region:
    """A rectangle of the frame, in Manim units."""

    left: float
    right: float
    bottom: float
    top: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.top - self.bottom


def line_unit_px(px_per_unit: float) -> float:
    """Pixels of one unit of edge width: 1 at 480p and below, more on larger frames."""
    return max(1.0, px_per_unit / 60.0)


def stroke_px(weight: float, scale: float, px_per_unit: float) -> float:
    """Width in pixels of the edge of ``weight`` when |w| = ``scale`` is drawn at full
    width: 0.6 units for 0 to 5 at full, so a weight's size is read from its line."""
    return (0.6 + 4.4 * min(1.0, abs(weight) / scale)) * line_unit_px(px_per_unit)


def drawn_units(n: int, max_units: int, focus: list[int]) -> list[int]:
    """Which units of an n-unit layer are drawn: all if they fit, else ends + focus.

    ``focus`` is a set of units (a unit named twice, by its forward and its backward
    beat, counts once): counted twice, it took the room of two ends, so the digits'
    hidden layer was drawn with 6 units in the whole lecture and 10 in its forward pass.
    """
    if n <= max_units:
        return list(range(n))
    focus = sorted(set(focus))
    keep = max(1, (max_units - len(focus)) // 2)
    chosen = set(range(keep)) | set(range(n - keep, n)) | set(focus)
    return sorted(chosen)


# One edge as Cairo draws it: red, green, blue, alpha, width (px), dashed, x0, y0, x1, y1.
_Stroke = tuple[float, float, float, float, float, bool, float, float, float, float]

# Below this many edges one thread paints them all: starting threads and compositing
# their images would cost more than it saves.
PARALLEL_EDGES = 2000


def _paint_chunk(
    strokes: list[_Stroke], w_px: int, h_px: int, line_px: float
) -> cairo.ImageSurface:
    """Stroke ``strokes`` in order onto a new transparent surface (premultiplied ARGB)."""
    surface = cairo.ImageSurface(cairo.FORMAT_ARGB32, w_px, h_px)
    ctx = cairo.Context(surface)
    ctx.set_line_cap(cairo.LINE_CAP_ROUND)
    dashes = [6 * line_px, 5 * line_px]
    for red, green, blue, alpha, width, dash, x0, y0, x1, y1 in strokes:
        ctx.set_source_rgba(red, green, blue, alpha)
        ctx.set_line_width(width)
        ctx.set_dash(dashes if dash else [])
        ctx.move_to(x0, y0)
        ctx.line_to(x1, y1)
        ctx.stroke()
    surface.flush()
    return surface


def _paint_strokes(strokes: list[_Stroke], w_px: int, h_px: int, line_px: float) -> np.ndarray:
    """Premultiplied BGRA pixels of ``strokes`` drawn in order, on every core.

    Cairo strokes one edge at a time (about 30 microseconds per edge at 720p) and
    releases the GIL while it does, so a large picture is cut into consecutive runs of
    edges painted on separate surfaces in parallel, then composited in drawing order
    (OVER is associative): 10,000 edges in 0.18 s instead of 0.29 s on two cores. The
    extra compositing step rounds differently from drawing onto one surface: one pixel
    in a thousand differs by more than a level, by up to four levels of 255
    (tests/test_network_diagram.py checks the bound).
    """
    workers = min(len(os.sched_getaffinity(0)), 4, max(1, len(strokes) // PARALLEL_EDGES))
    if workers == 1:
        surfaces = [_paint_chunk(strokes, w_px, h_px, line_px)]
    else:
        cuts = np.linspace(0, len(strokes), workers + 1).astype(int)
        with ThreadPoolExecutor(workers) as pool:
            surfaces = list(
                pool.map(
                    lambda ab: _paint_chunk(strokes[ab[0] : ab[1]], w_px, h_px, line_px),
                    itertools.pairwise(cuts),
                )
            )
        ctx = cairo.Context(surfaces[0])
        for later in surfaces[1:]:
            ctx.set_source_surface(later)
            ctx.paint()
        surfaces[0].flush()
    data = surfaces[0].get_data()
    return np.ndarray((h_px, w_px, 4), dtype=np.uint8, buffer=data).copy()


# The smallest text height (Manim units) that stays readable at 720p: about 12 pixels for
# a line of digits. A value that would be smaller inside its neuron is written beside it.
LEGIBLE_HEIGHT = 0.135


class NetworkDiagram(Group):
    """Columns of neurons, a raster of edges, unit names and layer captions."""

    def __init__(
        self,
        unit_names: list[list[str]],
        layer_captions: list[str],
        weights: list[np.ndarray],
        theme: Theme,
        region: Region,
        pixel_width: int,
        frame_width: float,
        *,
        max_units: int = 10,
        focus: dict[int, list[int]] | None = None,
        digits: int = 4,
        image_shape: tuple[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.theme = theme
        self.region = region
        self.digits = digits
        self.px_per_unit = pixel_width / frame_width
        self.unit_names = unit_names
        focus = focus or {}
        self.drawn = [
            drawn_units(len(names), max_units, focus.get(c, []))
            for c, names in enumerate(unit_names)
        ]
        n_cols = len(unit_names)
        most = max(len(d) + self._gaps(c) for c, d in enumerate(self.drawn))
        self.spacing = min(2.0, (region.height - 0.6) / max(most, 1))
        self.radius = float(np.clip(self.spacing * 0.3, 0.09, 0.5))
        # The first and last columns leave room for their names beside the circles
        # (inputs "size", "rooms" must not be cut at the frame's edge).
        inset = [1.0, 1.0]
        if self.radius >= 0.2:
            for side, c in ((0, 0), (1, n_cols - 1)):
                widest = max(
                    (
                        Label(unit_names[c][u], font_size=self._font(0.85)).width
                        for u in self.drawn[c]
                    ),
                    default=0.0,
                )
                inset[side] = max(1.0, 0.12 + widest + 0.08 + self.radius)
        cy = (region.top + region.bottom) / 2 - 0.1
        # Inputs that form a picture: the picture at the left (drawn by the scene with
        # the sample's pixels, visual/image.py), the elided input column beside it.
        self.picture_box: Region | None = None
        if image_shape is not None:
            rows, cols = image_shape
            longest = min(1.6, 0.4 * region.height)
            w = longest if cols >= rows else longest * cols / rows
            h = w * rows / cols
            left = region.left + 0.15
            self.picture_box = Region(left, left + w, cy - h / 2, cy + h / 2)
            inset[0] = max(inset[0], 0.15 + w + 0.35 + self.radius)
        xs = np.linspace(region.left + inset[0], region.right - inset[1], n_cols)
        self.positions: dict[tuple[int, int], np.ndarray] = {}
        self.neurons: dict[tuple[int, int], Circle] = {}
        self.value_labels: dict[tuple[int, int], Mobject] = {}
        self.extras = VGroup()
        for c in range(n_cols):
            rows = self._rows(c)
            top = cy + (len(rows) - 1) * self.spacing / 2
            for r, unit in enumerate(rows):
                y = top - r * self.spacing
                if unit is None:
                    dots = Label("⋮", font_size=self._font(1.6), color=theme.muted)
                    dots.move_to([xs[c], y, 0])
                    self.extras.add(dots)
                    continue
                pos = np.array([xs[c], y, 0.0])
                self.positions[(c, unit)] = pos
                circle = Circle(radius=self.radius, color=theme.neuron_stroke, stroke_width=2)
                circle.set_fill(theme.background, opacity=1.0).move_to(pos)
                self.neurons[(c, unit)] = circle
            if len(self.drawn[c]) < len(unit_names[c]):
                count = Label(
                    f"{len(unit_names[c])} units", font_size=self._font(0.85), color=theme.muted
                )
                count.next_to(self.neurons[(c, self.drawn[c][-1])], DOWN, buff=0.12)
                self.extras.add(count)
        self.name_labels = VGroup()
        if self.radius >= 0.2:
            gap = self.spacing - 2 * self.radius  # free height between two circles
            for (c, unit), circle in self.neurons.items():
                name = Label(unit_names[c][unit], font_size=self._font(0.85), color=theme.muted)
                last = c == len(unit_names) - 1
                above = c != 0 and not last
                if above and len(self._rows(c)) > 1 and name.height + 0.12 > gap:
                    continue  # above a circle it would sit on the one above: unnamed
                side = UP if above else (LEFT if c == 0 else RIGHT)
                if above:  # between two layers' edges: a box keeps the name readable
                    name.add_background_rectangle(color=theme.background, opacity=0.85, buff=0.02)
                name.next_to(circle, side, buff=0.08)
                self.name_labels.add(name)
        # Layer captions share one baseline above the tallest column (names included).
        self.captions = VGroup()
        tops = [circle.get_top()[1] for circle in self.neurons.values()]
        tops += [label.get_top()[1] for label in self.name_labels]
        caption_bottom = max(tops) + 0.15
        for c, caption in enumerate(layer_captions):
            label = VGroup(
                *[
                    Label(line, font_size=self._font(0.95 if n == 0 else 0.8), color=theme.muted)
                    for n, line in enumerate(caption.split("\n"))
                ]
            ).arrange(DOWN, buff=0.06)
            label.move_to([xs[c], caption_bottom + label.height / 2, 0])
            self.captions.add(label)
        self.edges_image = self.edge_raster(weights)
        self.add(self.edges_image, *self.neurons.values(), self.extras, self.captions)
        self.add(self.name_labels)

    # --- layout helpers -------------------------------------------------------------
    def _gaps(self, c: int) -> int:
        d = self.drawn[c]
        return sum(1 for a, b in itertools.pairwise(d) if b != a + 1)

    def _rows(self, c: int) -> list[int | None]:
        rows: list[int | None] = []
        prev = None
        for u in self.drawn[c]:
            if prev is not None and u != prev + 1:
                rows.append(None)
            rows.append(u)
            prev = u
        return rows

    def font_size(self, scale: float = 1.0) -> float:
        """The diagram's text size (``scale`` 1: a value inside a neuron)."""
        return self._font(scale)

    def _font(self, scale: float) -> float:
        """Font sizes follow the neuron size: ``scale`` 1 is the value written in a neuron."""
        return float(np.clip(50.0 * self.radius, 12.0, 24.0)) * scale

    # --- addressing ---------------------------------------------------------------
    def neuron(self, column: int, unit: int) -> Circle:
        return self.neurons[(column, unit)]

    def is_drawn(self, column: int, unit: int) -> bool:
        return (column, unit) in self.neurons

    def edge(self, layer: int, unit: int, source: int, color: str, width: float = 5.0) -> Line:
        """A real Line for edge (layer, unit ← source); layer counts network layers."""
        a = self.positions[(layer, source)]
        b = self.positions[(layer + 1, unit)]
        direction = (b - a) / np.linalg.norm(b - a)
        return Line(
            a + direction * self.radius,
            b - direction * self.radius,
            color=color,
            stroke_width=width,
        )

    def edge_point(self, layer: int, unit: int, source: int, t: float) -> np.ndarray:
        """The point a fraction ``t`` along the visible edge (between the two circles)."""
        a = self.positions[(layer, source)]
        b = self.positions[(layer + 1, unit)]
        direction = (b - a) / np.linalg.norm(b - a)
        a, b = a + direction * self.radius, b - direction * self.radius
        return a + (b - a) * t

    # --- edges as one raster ------------------------------------------------------
    def edge_raster(
        self,
        weights: list[np.ndarray],
        *,
        still: list[np.ndarray] | None = None,
        color_by_layer: dict[int, str] | None = None,
        alpha_by_layer: dict[int, float] | None = None,
        scale: float | None = None,
    ) -> ImageMobject:
        """Paint every drawn edge into one image.

        Colour is the sign of the value and width its size; ``still`` masks draw
        weights that do not move dashed grey; ``color_by_layer`` paints a layer in one
        colour (e.g. gradients, scaled by that layer's largest value) and
        ``alpha_by_layer`` dims layers that are not being discussed. ``scale`` is the
        |w| drawn at full width (default: the largest here); pictures of one network at
        several times share one, so that growing weights are seen to grow.
        """
        color_by_layer = color_by_layer or {}
        alpha_by_layer = alpha_by_layer or {}
        reg = self.region
        ppu = self.px_per_unit
        w_px = max(2, round(reg.width * ppu))
        h_px = max(2, round(reg.height * ppu))
        plain = [W for i, W in enumerate(weights) if i not in color_by_layer and W.size]
        scale_w = scale or max((float(np.abs(W).max()) for W in plain), default=1.0) or 1.0
        line_px = line_unit_px(ppu)
        strokes: list[_Stroke] = []
        for layer, W in enumerate(weights):
            fixed = color_by_layer.get(layer)
            scale = (float(np.abs(W).max()) or 1.0) if fixed else scale_w
            alpha = 0.9 * alpha_by_layer.get(layer, 1.0)
            rows = self.drawn[layer + 1]
            cols = self.drawn[layer]
            sub = W[np.ix_(rows, cols)]
            mask = None if still is None else still[layer][np.ix_(rows, cols)]
            for r, unit in enumerate(rows):
                b = self.positions[(layer + 1, unit)]
                for k, source in enumerate(cols):
                    a = self.positions[(layer, source)]
                    w = float(sub[r, k])
                    if mask is not None and mask[r, k]:
                        color, width, dash = self.theme.frozen, 1.2, True
                    else:
                        color = fixed or self.theme.weight_color(w)
                        width = stroke_px(w, scale, 1.0)
                        dash = False
                    strokes.append(
                        (
                            *(v / 255 for v in rgb(color)),
                            alpha,
                            width * line_px,
                            dash,
                            (a[0] - reg.left) * ppu,
                            (reg.top - a[1]) * ppu,
                            (b[0] - reg.left) * ppu,
                            (reg.top - b[1]) * ppu,
                        )
                    )
        bgra = _paint_strokes(strokes, w_px, h_px, line_px)
        rgba = bgra[:, :, [2, 1, 0, 3]]
        alpha = rgba[:, :, 3:4].astype(np.float32)
        with np.errstate(invalid="ignore", divide="ignore"):
            unpremul = np.where(alpha > 0, rgba[:, :, :3] * 255.0 / alpha, 0)
        rgba = np.concatenate([np.clip(unpremul, 0, 255).astype(np.uint8), rgba[:, :, 3:4]], 2)
        image = ImageMobject(rgba, scale_to_resolution=False)
        image.stretch_to_fit_width(reg.width).stretch_to_fit_height(reg.height)
        image.move_to([(reg.left + reg.right) / 2, (reg.top + reg.bottom) / 2, 0])
        image.set_z_index(-1)  # edges stay behind neurons and labels
        return image

    def labels_fit(self, labels: list[Mobject]) -> bool:
        """True if no two labels overlap and none covers a neuron (else show a table only)."""
        boxes = [
            (m.get_left()[0], m.get_right()[0], m.get_bottom()[1], m.get_top()[1]) for m in labels
        ]
        for n, (l1, r1, b1, t1) in enumerate(boxes):
            for l2, r2, b2, t2 in boxes[n + 1 :]:
                if l1 < r2 and l2 < r1 and b1 < t2 and b2 < t1:
                    return False
            for pos in self.positions.values():
                cx = min(max(pos[0], l1), r1)
                cy = min(max(pos[1], b1), t1)
                if (cx - pos[0]) ** 2 + (cy - pos[1]) ** 2 < self.radius**2:
                    return False
        return True

    # --- values -------------------------------------------------------------------
    @property
    def shows_values(self) -> bool:
        """Neurons too small for a legible number get a fill colour only."""
        return self.radius >= 0.16

    def value_label(self, column: int, unit: int, value: float, color: str | None = None) -> Label:
        """The value written inside a neuron (fits the circle), or beside it, on a
        background box, where inside it would be too small to read at 720p."""
        label = Label(
            fmt(value, self.digits), font_size=self._font(1.0), color=color or self.theme.text
        )
        max_w = 1.75 * self.radius
        if label.width > max_w:
            label.scale_to_fit_width(max_w)
        if label.height >= LEGIBLE_HEIGHT:
            return label.move_to(self.positions[(column, unit)])
        label.scale_to_fit_height(LEGIBLE_HEIGHT)
        # An opaque box, touching the circle: edges run under it (they are drawn behind
        # the values), and no piece of an edge shows between circle and number, where
        # it read as a minus sign (the digits' input 0.875 looked like -0.875).
        label.add_background_rectangle(color=self.theme.background, opacity=1.0, buff=0.02)
        circle = self.neurons[(column, unit)]
        last = column == len(self.unit_names) - 1
        named = self.radius >= 0.2
        if (
            column in (0, len(self.unit_names) - 1)
            and named
            and self._room_above(column, label.height)
        ):
            # A named input: its name is on its left, its edges fan out to its right,
            # the raw value (scaled inputs) stands under its left half; the value goes
            # above, right-aligned on the centre, clear of every edge (regression's
            # 1.213 sat on the eight edges leaving x). A named output mirrors it: its
            # edges converge from the left (regression's y hid the lit edges' meeting).
            label.next_to(circle, UP, buff=0.04)
            if column == 0:
                return label.shift(RIGHT * (circle.get_x() - label.get_right()[0]))
            return label.shift(RIGHT * (circle.get_x() - label.get_left()[0]))
        # Outputs' names are on their right: the value goes to the other side; a hidden
        # unit's goes to its right, over its outgoing edges. Outputs too small to be
        # named, and unnamed inputs, have the free space on their right for it.
        side = LEFT if last and named else RIGHT
        return label.next_to(circle, side, buff=0.0)

    def _room_above(self, column: int, height: float) -> bool:
        """Whether a text of ``height`` fits above every neuron of a column, with as much
        again below the neuron above it (its raw value): all of a column's values go to
        one side (XOR's x1 above and x2 beside read as two kinds of number)."""
        rows = self._rows(column)
        for k, unit in enumerate(rows):
            if unit is None:
                continue
            top = self.neurons[(column, unit)].get_top()[1]
            if k == 0:
                room = self.captions[column].get_bottom()[1] - top >= height + 0.12
            elif rows[k - 1] is None:
                room = False  # the "⋮" is right above
            else:
                below = self.neurons[(column, rows[k - 1])].get_bottom()[1]
                room = below - top >= 2 * (height + 0.12)
            if not room:
                return False
        return True
