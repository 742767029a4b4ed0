"""The slope beat: L as a function of one weight, inside the step, with its tangent.

Right after the backward beat of the first output unit explained, the loss of this
step's batch is drawn as a function of one weight into that unit (every other parameter
held at this step's values), computed by ``overview.step_weight_loss``, the same library
function the overview's L(w) uses. The tangent at the current weight has the slope the
backward pass traced, ∂L/∂w = δ · a (the chain rule's product), and the update's step
is drawn along it: from w to w⁺, where the tangent predicts the loss and where the curve
has it.
"""

from __future__ import annotations

import numpy as np
from manim import (
    RIGHT,
    Arrow,
    Create,
    DashedLine,
    Dot,
    FadeIn,
    FadeOut,
    GrowFromCenter,
    VGroup,
    Write,
)

from backprop_anim import overview as ov
from backprop_anim.numbers import fmt
from backprop_anim.storyboard import Beat, gradient_input
from backprop_anim.visual import formula as F
from backprop_anim.visual.network import Region
from backprop_anim.visual.plots import WeightPlot

from .base import PANEL_LEFT, PANEL_RIGHT, BeatScene, unit_label

PLOT = Region(left=PANEL_LEFT + 0.6, right=PANEL_RIGHT - 0.3, bottom=-2.6, top=0.5)


class SlopeBeats(BeatScene):
    @staticmethod
    def free_spot(label, plot: WeightPlot, ws, losses, tangent, w: float, loss: float):
        """Where ``label`` goes beside the point (w, L): the first candidate spot whose box
        stays inside the plot and holds no point of the curve or the tangent."""
        ink = np.array(
            [plot.p(x, y) for x, y in zip(ws, losses, strict=True)]
            + [tangent.point_from_proportion(a) for a in np.linspace(0, 1, 40)]
        )[:, :2]
        at = plot.p(w, loss)
        half = np.array([label.width / 2 + 0.06, label.height / 2 + 0.06])
        r = PLOT
        candidates = [
            at + np.array([sx * (half[0] + 0.05), sy * (half[1] + gap), 0])
            for gap in (0.12, 0.45, 0.8)
            for sy in (-1, 1)
            for sx in (-1, 1)
        ]
        for c in candidates:
            inside = (
                c[0] - half[0] >= r.left + 0.05
                and c[0] + half[0] <= r.right
                and c[1] - half[1] >= r.bottom + 0.12
                and c[1] + half[1] <= r.top
            )
            clear = not np.any(np.all(np.abs(ink - c[:2]) <= half, axis=1))
            if inside and clear:
                return c
        return candidates[0]

    def beat_weight_slope(self, beat: Beat) -> None:
        step = self.step_of(beat)
        t = self.theme
        trace = self.plan.trace
        i, j = beat.layer, beat.unit
        assert i is not None and j is not None
        k = gradient_input(step, i, j)
        layer = step.layers[i]
        a_prev = step.x if i == 0 else step.layers[i - 1].a
        me, src = unit_label(trace, i + 1, j), unit_label(trace, i, k)
        w, w_next = float(layer.W[j, k]), float(layer.W_next[j, k])
        slope = float(layer.grad_W[j, k])  # the traced gradient: the tangent's slope
        intro = self.ensure_diagram(step)
        header = self.set_header(f"Backward pass · {me} · the slope of L(w)", "backward")
        ws, losses = ov.step_weight_curve(trace, step, i, j, k)
        lo, hi = float(np.min(losses)), float(np.max(losses))
        pad = 0.08 * ((hi - lo) or 1.0)
        name = f"{src}→{me}"
        plot = WeightPlot(
            PLOT, (float(ws[0]), float(ws[-1])), (lo - pad, hi + pad), t, weight_name=name
        )
        curve = plot.polyline(ws, losses, t.text, width=3)
        here = plot.point(w, step.loss)
        tangent = plot.tangent(w, step.loss, slope, length=2.6)
        predicted = step.loss + slope * (w_next - w)
        after = float(ov.step_weight_loss(trace, step, i, j, k, np.array([w_next]))[0])
        move = Arrow(
            plot.p(w, step.loss),
            plot.p(w_next, predicted),
            buff=0.0,
            color=t.highlight,
            stroke_width=4,
            max_tip_length_to_length_ratio=0.3,
            tip_length=0.15,
        )
        landed = Dot(plot.p(w_next, after), radius=0.06, color=t.highlight)
        drop = DashedLine(plot.p(w_next, predicted), plot.p(w_next, after), color=t.muted)
        # ∂L/∂w = δ · a = g as separate pieces: δ comes from under its neuron, a from the
        # input's neuron, as the sentence names them (one sample: the numbers of the beats).
        single = len(step.samples) == 1
        g = F.grad(F.var("L"), F.sub("w", f"{me},{src}"))
        symbols = g + F.lit("=") + F.sub("delta", me) + F.sym("dot") + F.sub("a", src)
        pieces = [symbols + F.lit("=")]
        if single:
            pieces += [
                F.num(layer.delta[0, j], self.digits),
                F.sym("dot"),
                F.num(a_prev[0, k], self.digits),
                F.lit("="),
            ]
        pieces.append(F.number(slope, self.digits))
        row = VGroup(*[self.math(p, font_size=28) for p in pieces]).arrange(RIGHT, buff=0.1)
        for mob in row:
            mob.set_y(row.get_y())
        g_num = row[-1]
        words = self.paragraph(
            f"the tangent's slope is this gradient; the update steps w from "
            f"{fmt(w, self.digits)} to {fmt(w_next, self.digits)}, against the slope",
            width=6.3,
            font_size=20,
            color=t.gradient,
        )
        top = self.column_stack([row, words], top=3.0, buff=0.16)
        top.remove(words)
        d = self.diagram
        assert d is not None
        edge = VGroup()
        if (i, k) in d.positions and (i + 1, j) in d.positions:
            edge = VGroup(d.edge(i, j, k, t.highlight, 6))
        # The traced gradient becomes the tangent's slope: its number travels beside it.
        slope_label = VGroup(
            self.text("slope", font_size=20, color=t.gradient),
            self.text(fmt(slope, self.digits), font_size=22, color=t.gradient),
        ).arrange(RIGHT, buff=0.1)
        # Beside the tangent where nothing else is drawn: the first of a few places around
        # the point that stays inside the plot and clear of the curve and the tangent.
        slope_label.move_to(self.free_spot(slope_label, plot, ws, losses, tangent, w, step.loss))
        delta_from = self.delta_labels.get((i + 1, j))
        a_from = d.value_labels.get((i, k)) if d.is_drawn(i, k) else None
        if single:
            delta_in = (
                self.fly_from(row[1], delta_from.get_center(), delta_from)
                if delta_from is not None
                else FadeIn(row[1])
            )
            a_in = (
                self.fly_from(row[3], a_from.get_center(), a_from)
                if a_from is not None
                else FadeIn(row[3])
            )
            formula_parts = [
                ([Write(row[0]), delta_in], 0.8, "delta"),
                ([FadeIn(row[2]), a_in], 0.7, "input"),
                ([FadeIn(row[4]), Write(g_num)], 0.6, "gradient"),
            ]
        else:
            formula_parts = [
                (Write(row[0]), 0.8, "delta"),
                (Write(g_num), 0.6, "gradient"),
            ]
        self.run(
            [
                ([*intro, *header], 0.6),
                ([Create(edge)] if len(edge) else [], 0.6, "edge"),
                ([FadeIn(plot), Create(curve), GrowFromCenter(here)], 1.2, "curve"),
                *formula_parts,
                (
                    [
                        Create(tangent),
                        FadeIn(slope_label[0]),
                        self.fly_from(slope_label[1], g_num.get_center(), g_num),
                    ],
                    1.0,
                    "tangent",
                ),
                ([GrowFromCenter(move), FadeIn(words)], 1.0, "step"),
                ([Create(drop), GrowFromCenter(landed)], 0.6, "landed"),
                (None, 2.0),
                (
                    [
                        FadeOut(top),
                        FadeOut(words),
                        FadeOut(VGroup(curve, here, tangent, move, landed, drop, edge)),
                        FadeOut(slope_label),
                        FadeOut(plot),
                    ],
                    0.5,
                ),
            ]
        )
