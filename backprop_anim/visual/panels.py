"""Panels beside the network: formulas, an activation plot, tables, bars, heat strips.

Each builder returns mobjects (and, where something moves, the animations); none of
them calls ``play``. Sizes are in Manim units and font sizes; colours come from the
theme passed in.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Axes,
    Dot,
    ImageMobject,
    Line,
    MathTex,
    MathTypst,
    Mobject,
    Rectangle,
    Text,
    VGroup,
    VMobject,
    config,
)

from ..maths.activations import get_activation
from ..numbers import fmt, minus_signs
from .formula import Expr
from .glyphs import glyph_mobjects
from .theme import Theme, rgb

FONT = "DejaVu Sans"  # installed with fontconfig on Debian (fonts-dejavu-core in make setup)


# Formulas typeset recently, by source and style: a render builds every beat twice (once
# without drawing, to learn its parts; see render.measure_parts), and a copy costs a
# twentieth of typesetting again.
_RECENT_FORMULAS: OrderedDict[tuple, VMobject] = OrderedDict()
RECENT_FORMULAS_KEPT = 1024


def formula(expr: Expr, theme: Theme, *, tex: bool = False, font_size: float = 32) -> VMobject:
    """Typeset ``expr`` with Typst (default) or LaTeX; fraction bars drawn twice as thick.

    The same formula in the same style as a recent one is a copy of it (the same shapes)."""
    key = (expr.latex if tex else expr.typst, tex, font_size, theme.text, config.renderer)
    made = _RECENT_FORMULAS.get(key)
    if made is not None:
        _RECENT_FORMULAS.move_to_end(key)
        return made.copy()
    mob = _typeset(expr, theme, tex=tex, font_size=font_size)
    _RECENT_FORMULAS[key] = mob.copy()
    if len(_RECENT_FORMULAS) > RECENT_FORMULAS_KEPT:
        _RECENT_FORMULAS.popitem(last=False)
    return mob


def _typeset(expr: Expr, theme: Theme, *, tex: bool, font_size: float) -> VMobject:
    if tex:
        latex = expr.latex
        if "&" in latex:
            latex = r"\begin{aligned}" + latex + r"\end{aligned}"
        mob = MathTex(latex, font_size=font_size, color=theme.text, use_svg_cache=False)
    else:
        # No SVG cache: it would deep-copy each formula (glyph paths and all) and keep
        # that copy for the rest of the render; a lecture rarely shows one twice.
        mob = MathTypst(expr.typst, font_size=font_size, color=theme.text, use_svg_cache=False)
        _thicken_fraction_bars(mob)
    return lighten(mob)


def _thicken_fraction_bars(mob: VMobject) -> None:
    """Typst's fraction bars are hairlines at video sizes: draw them twice as thick.

    In Typst's SVG a fraction bar is the only stroked, zero-height path; glyphs (the
    minus sign included) are filled outlines and are left alone.
    """
    for part in mob.family_members_with_points():
        if part.height < 1e-3 and part.get_stroke_width() > 0:
            part.set_stroke(width=2 * part.get_stroke_width())


def lighten(mob: Mobject) -> Mobject:
    """Drop the parsed SVG path objects that glyphs keep after their points are built.

    Every animation deep-copies its mobjects; with the svgelements paths attached, a
    formula's copy costs tens of milliseconds, which dominated render time. The points
    are already computed, so nothing on screen changes.
    """
    for part in mob.get_family():
        if getattr(part, "path_obj", None) is not None:
            part.path_obj = None
    return mob


# Labels made recently, by text and style: a lecture writes the same words again and
# again (the phase bar on every beat, table headers, axis names), and typesetting a text
# (Pango to SVG, SVG parsed to shapes) costs twenty times a copy of one already made.
_RECENT_LABELS: OrderedDict[tuple, Text] = OrderedDict()
RECENT_LABELS_KEPT = 2048


def _label_key(text: str, kwargs: dict) -> tuple | None:
    plain = (str, int, float, bool, type(None))
    if not all(isinstance(v, plain) for v in kwargs.values()):
        return None  # colours as objects, gradients...: typeset every time
    return (text, config.renderer, tuple(sorted(kwargs.items())))


class Label(Text):
    """``Text`` in the lecture font, without the parsed SVG paths (see :func:`lighten`).

    A label with the same text and style as a recent one is a copy of it (the same
    shapes, so the same pixels), not typeset again. Pango's SVG is read by
    :func:`~backprop_anim.visual.glyphs.glyph_mobjects` (the same points, three times
    faster), or by Manim's parser when the file is not in the shape Cairo writes.
    """

    def generate_mobject(self) -> Label:
        glyphs = glyph_mobjects(self.get_file_path(), self.generate_config_style_dict())
        if glyphs is None:
            return super().generate_mobject()
        self.add(*glyphs)
        self.flip(RIGHT)  # SVG's y axis points down (as in Manim's own parser)
        return self

    def __init__(self, text: str, **kwargs) -> None:
        kwargs.setdefault("font", FONT)
        # Numbers as the formulas write them: "δ=−0.0381", not a hyphen (fmt's "-").
        text = minus_signs(text)
        key = _label_key(text, kwargs)
        made = _RECENT_LABELS.get(key) if key is not None else None
        if made is not None:
            _RECENT_LABELS.move_to_end(key)
            self.__dict__.update(made.copy().__dict__)
            return
        super().__init__(text, **kwargs)
        lighten(self)
        if key is not None:
            _RECENT_LABELS[key] = self.copy()
            if len(_RECENT_LABELS) > RECENT_LABELS_KEPT:
                _RECENT_LABELS.popitem(last=False)


# Characters whose glyph sits on the baseline: flat-bottomed ones end on it exactly,
# round ones (o, s, 0) overshoot it by about 1/100 of the font size. The median bottom
# of the flat ones (else of the round ones) is where a line of text stands.
_FLAT = frozenset("fhiklmnrxzBDEFHIKLMNPRTXZ1247")
_ROUND = frozenset("abcdeostuvwACGOSUVW035689ηλσ")


def baseline(label: Text) -> float:
    """The y of the line ``label``'s letters stand on (Manim units).

    Aligning boxes does not line text up: the box of "data" ends at its baseline, that
    of "sample (0.05)" lower, at its descenders, so centred or bottom-aligned labels of
    one row stand at different heights. Manim's ``Text`` has one glyph per character
    (spaces excepted) but for Pango's ligatures ("fi" is one glyph, flat like "f");
    where even that does not match, most glyphs still stand on the line, so the median
    of all bottoms is used; where no letter stands on it (only descenders and signs),
    the box's bottom is the best guess.
    """
    chars = "".join(label.text.split())
    glyphs = label.submobjects
    if len(chars) != len(glyphs):
        for ligature in ("ffi", "ffl", "ff", "fi", "fl"):
            chars = chars.replace(ligature, "f")
    if len(chars) != len(glyphs):
        return float(np.median([g.get_bottom()[1] for g in glyphs]))
    for standing in (_FLAT, _ROUND):
        bottoms = [
            float(g.get_bottom()[1]) for c, g in zip(chars, glyphs, strict=True) if c in standing
        ]
        if bottoms:
            return float(np.median(bottoms))
    return float(label.get_bottom()[1])


def stand_on(label: Text, y: float) -> Text:
    """Move ``label`` up or down so that its baseline is at ``y``."""
    label.shift((y - baseline(label)) * UP)
    return label


def fit(mob: Mobject, width: float, height: float | None = None) -> Mobject:
    """Shrink (never grow) ``mob`` to fit a box."""
    if mob.width > width:
        mob.scale_to_fit_width(width)
    if height is not None and mob.height > height:
        mob.scale_to_fit_height(height)
    return mob


class ActivationPlot(VGroup):
    """A small plot of an activation function, with a point (z, a) and its tangent."""

    def __init__(
        self,
        activation: str,
        theme: Theme,
        *,
        z_values: Sequence[float] = (),
        width: float = 3.0,
        height: float = 1.9,
        slope: float = 0.01,
    ) -> None:
        super().__init__()
        self.theme = theme
        self.fn = get_activation(
            activation, **({"slope": slope} if activation == "leaky_relu" else {})
        )
        span = max([4.0, *(abs(z) * 1.25 for z in z_values)])
        span = float(np.ceil(span))
        self.z_range = (-span, span)
        ys = (
            self.fn.forward(np.linspace(-span, span, 201)[None, :])
            if activation != "softmax"
            else None
        )
        if activation == "softmax":  # plotted as the logistic curve of one logit against 0
            self.fn = get_activation("sigmoid")
            ys = self.fn.forward(np.linspace(-span, span, 201)[None, :])
        lo, hi = float(ys.min()), float(ys.max())
        pad = 0.1 * (hi - lo or 1.0)
        self.axes = Axes(
            x_range=[-span, span, span / 2],
            y_range=[lo - pad, hi + pad, (hi - lo + 2 * pad) / 2],
            x_length=width,
            y_length=height,
            tips=False,
            axis_config={"color": theme.muted, "stroke_width": 2, "include_ticks": False},
        )
        self.curve = self.axes.plot(
            lambda z: float(self.fn.forward(np.array([[z]]))[0, 0]),
            x_range=[-span, span, span / 100],
            color=theme.neuron_fill,
            stroke_width=3,
        )
        z_label = Label("z", font_size=20, color=theme.muted).next_to(self.axes.x_axis, RIGHT, 0.08)
        a_label = Label("a", font_size=20, color=theme.muted).next_to(self.axes.y_axis, UP, 0.05)
        self.add(self.axes, self.curve, z_label, a_label)

    def point(self, z: float, a: float) -> Dot:
        zc = float(np.clip(z, *self.z_range))
        return Dot(self.axes.c2p(zc, a), radius=0.07, color=self.theme.highlight)

    def tangent(self, z: float, a: float, slope: float, length: float = 1.6) -> Line:
        """The tangent at (z, a): its slope is the activation's derivative (the chain rule's)."""
        zc = float(np.clip(z, *self.z_range))
        p = self.axes.c2p(zc, a)
        unit = self.axes.c2p(zc + 1, a + slope) - p
        unit = unit / np.linalg.norm(unit)
        return Line(
            p - unit * length / 2, p + unit * length / 2, color=self.theme.gradient, stroke_width=3
        )


class ValueTable(VGroup):
    """A small grid of text cells with a header row; columns right-aligned for numbers."""

    def __init__(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        theme: Theme,
        *,
        font_size: float = 22,
        col_gap: float = 0.35,
        row_gap: float = 0.12,
        colors: Sequence[Sequence[str | None]] | None = None,
    ) -> None:
        super().__init__()
        cells = [[Label(h, font_size=font_size, color=theme.muted) for h in header]]
        for r, row in enumerate(rows):
            cells.append(
                [
                    Label(
                        value,
                        font_size=font_size,
                        color=(colors[r][c] if colors and colors[r][c] else theme.text),
                    )
                    for c, value in enumerate(row)
                ]
            )
        widths = [max(row[c].width for row in cells) for c in range(len(header))]
        height = max(cell.height for row in cells for cell in row)
        self.rows: list[VGroup] = []
        y = 0.0
        for row in cells:
            x = 0.0
            group = VGroup()
            for c, cell in enumerate(row):
                cell.move_to([x + widths[c] - cell.width / 2, y, 0])
                x += widths[c] + col_gap
                group.add(cell)
            self.rows.append(group)
            self.add(group)
            y -= height + row_gap
        rule = Line(
            self.rows[0].get_corner(DOWN + LEFT) + 0.06 * DOWN,
            [self.rows[0].get_right()[0], self.rows[0].get_bottom()[1] - 0.06, 0],
            color=theme.muted,
            stroke_width=1.5,
        )
        self.add(rule)


class RankingBars(VGroup):
    """Horizontal bars of |Δw|, largest first: weights move by different amounts."""

    def __init__(
        self,
        labels: Sequence[str],
        values: Sequence[float],
        signs: Sequence[float],
        theme: Theme,
        *,
        width: float = 3.2,
        row_height: float = 0.3,
        digits: int = 4,
        font_size: float = 20,
    ) -> None:
        super().__init__()
        top = max(values) if len(values) and max(values) > 0 else 1.0
        for r, (name, value, sign) in enumerate(zip(labels, values, signs, strict=True)):
            y = -r * row_height
            name_mob = Label(name, font_size=font_size, color=theme.text)
            name_mob.move_to([-0.1 - name_mob.width / 2, y, 0])
            if value > 0:
                bar = Rectangle(
                    width=max(0.02, width * value / top),
                    height=row_height * 0.62,
                    stroke_width=0,
                    fill_color=theme.positive if sign >= 0 else theme.negative,
                    fill_opacity=0.9,
                )
                bar.move_to([bar.width / 2, y, 0])
                text = fmt(value, digits)
            else:
                bar = Line([0, y, 0], [0.5, y, 0], color=theme.frozen, stroke_width=2)
                bar.set_stroke(opacity=0.9)
                text = "0 (does not move)"
            value_mob = Label(text, font_size=font_size * 0.9, color=theme.muted)
            value_mob.next_to(bar, RIGHT, buff=0.1)
            self.add(VGroup(name_mob, bar, value_mob))


def heat_strip(
    values: np.ndarray, theme: Theme, *, width: float, height: float, symmetric: bool
) -> ImageMobject:
    """A layer's values as one row of coloured cells (one image, whatever the count)."""
    v = np.asarray(values, dtype=float).ravel()
    top = float(np.abs(v).max()) or 1.0
    if symmetric:
        t = np.clip(v / top, -1, 1)
        pos, neg = np.array(rgb(theme.positive)), np.array(rgb(theme.negative))
        bg = np.array(rgb(theme.panel))
        colors = np.where(
            t[:, None] >= 0, bg + (pos - bg) * t[:, None], bg + (neg - bg) * (-t[:, None])
        )
    else:
        lo = float(v.min())
        span = (float(v.max()) - lo) or 1.0
        t = (v - lo) / span
        fill, bg = np.array(rgb(theme.neuron_fill)), np.array(rgb(theme.panel))
        colors = bg + (fill - bg) * t[:, None]
    img = np.zeros((1, v.size, 4), dtype=np.uint8)
    img[0, :, :3] = np.clip(colors, 0, 255).astype(np.uint8)
    img[0, :, 3] = 255
    mob = ImageMobject(img, scale_to_resolution=False)
    mob.set_resampling_algorithm(0)  # nearest: crisp cells
    mob.stretch_to_fit_width(width).stretch_to_fit_height(height)
    return mob


def stack(mobs: Sequence[Mobject], *, buff: float = 0.25, align=LEFT) -> VGroup:
    group = VGroup(*mobs)
    group.arrange(DOWN, buff=buff, aligned_edge=align)
    return group


def paragraph(
    text: str, theme: Theme, *, width: float, font_size: float = 22, color: str | None = None
) -> VGroup:
    """Text wrapped at word boundaries to ``width`` (Manim units), left-aligned lines."""
    lines = _wrap(text.split(), width, font_size)
    group = VGroup(*[Label(line, font_size=font_size, color=color or theme.text) for line in lines])
    return group.arrange(DOWN, buff=0.08, aligned_edge=LEFT)


def _wrap(words: list[str], width: float, font_size: float) -> list[str]:
    """Lines of ``words``, greedily as long as fits ``width`` (a longer word stands alone).

    Where each word begins and ends is read off one typesetting of the whole text on
    one line, glyph by glyph (ligatures off, so that glyphs and letters correspond),
    instead of typesetting every growing prefix of the text to measure it: that cost a
    number of glyphs quadratic in the paragraph's length, about a tenth of a lecture's
    render time. Text whose glyphs cannot be matched to its letters is measured the
    slow way.
    """
    if not words:
        return []
    joined = " ".join(words)
    glyphs = Label(joined, font_size=font_size, disable_ligatures=True).submobjects
    # Pango gives a space a glyph of its own (with no ink) or none.
    spaces = 1 if len(glyphs) == len(joined) else 0
    lines: list[str] = []
    start = 0
    if len(glyphs) == len(joined) - (1 - spaces) * (len(words) - 1):
        extents, k = [], 0
        for w in words:
            extents.append((glyphs[k].get_left()[0], glyphs[k + len(w) - 1].get_right()[0]))
            k += len(w) + spaces
        for k in range(1, len(words)):
            if extents[k][1] - extents[start][0] > width:
                lines.append(" ".join(words[start:k]))
                start = k
    else:  # a letter without ink, or a ligature
        for k in range(1, len(words)):
            trial = " ".join(words[start : k + 1])
            if Label(trial, font_size=font_size).width > width:
                lines.append(" ".join(words[start:k]))
                start = k
    lines.append(" ".join(words[start:]))
    return lines
