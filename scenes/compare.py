"""The comparison of a batch's variants: loss curves in one plot, final networks in a grid.

Plays the beats of :mod:`backprop_anim.comparison` (title, one curve per variant,
the networks, the verdict) with the same beat timing as the lecture scenes: each
beat is a section, and its animations share the beat's frames by weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from manim import (
    DOWN,
    LEFT,
    ORIGIN,
    RIGHT,
    UP,
    Animation,
    Axes,
    Create,
    FadeIn,
    FadeOut,
    Group,
    Line,
    Mobject,
    Rectangle,
    VGroup,
    VMobject,
)

from backprop_anim.comparison import Compared, Comparison, describe
from backprop_anim.numbers import fmt
from backprop_anim.storyboard import Beat
from backprop_anim.visual.network import Region
from backprop_anim.visual.panels import Label, fit

from .base import HEADER_Y, BeatScene, LecturePlan

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
# Yellow comes last: it is also the highlight colour of the verdict.
CURVE_COLORS = ("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#0072B2", "#F0E442")
PLOT = Region(left=-5.6, right=1.7, bottom=-2.7, top=2.7)
LEGEND_LEFT, LEGEND_RIGHT = 2.2, 6.9
GRID = Region(left=-7.0, right=7.0, bottom=-2.55, top=3.1)
LOG_SPAN = 30.0  # plot the loss on a log scale when max/min exceeds this


@dataclass
class ComparePlan(LecturePlan):
    """A lecture plan whose beats compare variants; ``trace`` is the best variant's."""

    comparison: Comparison | None = None


def curve_color(k: int) -> str:
    return CURVE_COLORS[k % len(CURVE_COLORS)]


class CompareScene(BeatScene):
    def __init__(self, plan: ComparePlan, **kwargs) -> None:
        assert plan.comparison is not None
        self.comparison = plan.comparison
        self.axes: Axes | None = None
        self.plot_parts: list[Mobject] = []
        self.legend = VGroup()
        self.log_scale = False
        self.y0 = 0.0
        self.cells: dict[str, Rectangle] = {}
        super().__init__(plan, **kwargs)

    # --- beats --------------------------------------------------------------------
    def beat_compare_title(self, beat: Beat) -> None:
        t = self.theme
        title = self._set_header(self.comparison.title)
        rows = VGroup()
        for k, v in enumerate(self.comparison.variants):
            swatch = Rectangle(width=0.35, height=0.12, fill_color=curve_color(k), fill_opacity=1)
            swatch.set_stroke(width=0)
            name = Label(v.name, font_size=24, color=t.text)
            what = Label(describe(v.overrides, v.network, say=False), font_size=20, color=t.muted)
            rows.add(VGroup(swatch, name, what).arrange(RIGHT, buff=0.25))
        for name, why in self.comparison.left_out:
            rows.add(Label(f"not compared: {name} ({why})", font_size=20, color=t.negative))
        rows.arrange(DOWN, aligned_edge=LEFT, buff=0.22)
        # The descriptions start in one column, after the longest name.
        named = [r for r in rows if len(r.submobjects) == 3]
        column = max((r[1].get_right()[0] for r in named), default=0.0) + 0.3
        for r in named:
            r[2].shift((column - r[2].get_left()[0]) * RIGHT)
        fit(rows, 13.0, 5.8)
        rows.move_to([0, 0.1, 0])
        self.run(
            [
                (title, 0.5),
                ([FadeIn(r, shift=0.2 * RIGHT) for r in rows], 1.2),
                (None, 2.0),
                (FadeOut(rows), 0.4),
            ]
        )

    def beat_compare_curve(self, beat: Beat) -> None:
        k = beat.unit or 0
        variant = self.comparison.variants[k]
        intro = [] if self.axes is not None else self._make_plot()
        assert self.axes is not None
        curve = self._curve(variant, curve_color(k))
        entry = self._legend_entry(k, variant)
        self.plot_parts.append(curve)
        self.run(
            [
                (intro or None, 0.8 if intro else 0.01),
                (Create(curve), 1.6),
                (FadeIn(entry, shift=0.2 * LEFT), 0.5),
                (None, 1.0),
            ]
        )

    def beat_compare_networks(self, beat: Beat) -> None:
        t = self.theme
        leaving = [FadeOut(m) for m in [*self.plot_parts, self.legend]]
        leaving += self._set_header("The networks after training")
        n = len(self.comparison.variants)
        cols = min(4, math.ceil(math.sqrt(n)) if n > 3 else n)
        rows = math.ceil(n / cols)
        cell_w = GRID.width / cols
        cell_h = GRID.height / rows
        cells = []
        for k, v in enumerate(self.comparison.variants):
            r, c = divmod(k, cols)
            left = GRID.left + c * cell_w
            top = GRID.top - r * cell_h
            region = Region(left + 0.1, left + cell_w - 0.1, top - cell_h + 0.75, top - 0.05)
            diagram = self.network_diagram(v.network, v.final_weights, region, captions=False)
            largest = max(float(np.abs(W).max()) for W in v.final_weights)
            name = Label(v.name, font_size=22, color=curve_color(k))
            numbers = Label(
                f"loss {fmt(v.final_loss, self.digits)} · largest |w| {fmt(largest, self.digits)}",
                font_size=18,
                color=t.muted,
            )
            caption = VGroup(name, numbers).arrange(DOWN, buff=0.08)
            fit(caption, cell_w - 0.3)
            caption.move_to([left + cell_w / 2, top - cell_h + 0.42, 0])
            cell = Group(caption, diagram)  # a Group: the diagram's edges are an image
            self.cells[v.name] = Rectangle(width=cell_w - 0.1, height=cell_h - 0.05).move_to(
                [left + cell_w / 2, top - cell_h / 2, 0]
            )
            cells.append(cell)
        self.run(
            [
                (leaving, 0.5),
                ([FadeIn(c) for c in cells], 1.0),
                (None, 3.0),
            ]
        )

    def beat_compare_verdict(self, beat: Beat) -> None:
        t = self.theme
        best = min(self.comparison.variants, key=lambda v: v.final_loss)
        box = self.cells[best.name].copy().set_stroke(color=t.highlight, width=4)
        verdict = Label(
            f"lowest final loss: {best.name}, {fmt(best.final_loss, self.digits)}",
            font_size=28,
            color=t.highlight,
        )
        fit(verdict, 13.5)
        verdict.move_to([0, -3.15, 0])
        self.run([(Create(box), 0.8), (FadeIn(verdict, shift=0.2 * UP), 0.6), (None, 2.5)])

    # --- building blocks ----------------------------------------------------------------
    def _set_header(self, text: str) -> list[Animation]:
        """The beat's title, top left, replacing the one before."""
        label = Label(text, font_size=30, color=self.theme.text)
        fit(label, 13.4)
        label.move_to([-7.0 + 0.2 + label.width / 2, HEADER_Y, 0])
        anims: list[Animation] = [FadeIn(label)]
        if self.header is not None:
            anims.insert(0, FadeOut(self.header))
        self.header = label
        return anims

    def _y(self, loss: float) -> float:
        return math.log10(loss) if self.log_scale else loss

    def _plot_y(self, loss: float) -> float:
        return self._y(loss) - self.y0

    def _make_plot(self) -> list:
        """Axes sized to every variant's curve, with tick labels in the numbers rule.

        The y axis starts at the lowest value plotted (0 on a linear scale), so the x
        axis sits at the bottom and its five ticks are the labelled values.
        """
        t = self.theme
        losses = [x for v in self.comparison.variants for x in v.losses]
        lo, hi = min(losses), max(losses)
        self.log_scale = lo > 0 and hi / lo > LOG_SPAN
        steps = max(v.steps for v in self.comparison.variants)
        self.y0 = self._y(lo) if self.log_scale else 0.0
        span = (self._y(hi) - self.y0) or 1.0
        x_tick = max(1, math.ceil(steps / 5))
        axes = Axes(
            x_range=[0, max(1, steps), x_tick],
            y_range=[0, span * 1.05, span / 4],
            x_length=PLOT.width,
            y_length=PLOT.height,
            axis_config={"color": t.muted, "include_ticks": True, "include_tip": False},
        )
        axes.move_to([(PLOT.left + PLOT.right) / 2, (PLOT.bottom + PLOT.top) / 2, 0])
        labels = VGroup()
        for step in range(0, max(1, steps) + 1, x_tick):
            lab = Label(str(step), font_size=18, color=t.muted)
            labels.add(lab.next_to(axes.c2p(step, 0), DOWN, buff=0.15))
        for k in range(5):
            y = self.y0 + k * span / 4
            lab = Label(fmt(10**y if self.log_scale else y, 3), font_size=18, color=t.muted)
            labels.add(lab.next_to(axes.c2p(0, k * span / 4), LEFT, buff=0.15))
        x_title = Label("training steps done", font_size=20, color=t.muted)
        x_title.next_to(axes.x_axis, DOWN, buff=0.5)
        y_title = Label(
            "loss on the data set" + (" (log scale)" if self.log_scale else ""),
            font_size=20,
            color=t.muted,
        )
        y_title.next_to(axes.c2p(0, span * 1.05), UP, buff=0.15).align_to(axes, LEFT)
        self.axes = axes
        self.plot_parts.extend([axes, labels, x_title, y_title])
        return [
            *self._set_header("Loss over the training steps"),
            FadeIn(axes),
            FadeIn(labels),
            FadeIn(x_title),
            FadeIn(y_title),
        ]

    def _curve(self, variant: Compared, color: str) -> VMobject:
        assert self.axes is not None
        points = [self.axes.c2p(step, self._plot_y(loss)) for step, loss in variant.curve]
        if len(points) == 1:
            return Line(points[0], points[0] + 0.01 * RIGHT, color=color, stroke_width=4)
        curve = VMobject(stroke_color=color, stroke_width=4)
        curve.set_points_as_corners(points)
        return curve

    def _legend_entry(self, k: int, variant: Compared) -> Mobject:
        t = self.theme
        swatch = Line(ORIGIN, 0.45 * RIGHT, color=curve_color(k), stroke_width=6)
        name = Label(variant.name, font_size=20, color=t.text)
        loss = Label(
            f"final loss {fmt(variant.final_loss, self.digits)}", font_size=18, color=t.muted
        )
        text = VGroup(name, loss).arrange(DOWN, aligned_edge=LEFT, buff=0.05)
        entry = VGroup(swatch, text).arrange(RIGHT, buff=0.2)
        fit(entry, LEGEND_RIGHT - LEGEND_LEFT)
        y = PLOT.top - 0.3 - k * min(0.75, (PLOT.height - 0.3) / len(self.comparison.variants))
        entry.move_to([LEGEND_LEFT + entry.width / 2, y, 0])
        self.legend.add(entry)
        return entry
