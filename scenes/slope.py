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

PLOT = Region(left=PANEL_LEFT + 0.6, right=PANEL_RIGHT - 0.3, bottom=-2.2, top=0.9)


class SlopeBeats(BeatScene):
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
        g = F.grad(F.var("L"), F.sub("w", f"{me},{src}"))
        per = (
            F.num(layer.delta[0, j], self.digits) + F.sym("dot") + F.num(a_prev[0, k], self.digits)
        )
        eq = g + F.lit("=") + F.sub("delta", me) + F.sym("dot") + F.sub("a", src)
        if len(step.samples) == 1:
            eq = eq + F.lit("=") + per
        eq = eq + F.lit("=") + F.number(slope, self.digits)
        m1 = self.math(eq, font_size=28)
        words = self.paragraph(
            f"the tangent's slope is this gradient; the update steps w from "
            f"{fmt(w, self.digits)} to {fmt(w_next, self.digits)}, against the slope",
            font_size=18,
            color=t.gradient,
        )
        top = self.column_stack([m1, words], top=3.0, buff=0.16)
        d = self.diagram
        assert d is not None
        edge = VGroup()
        if (i, k) in d.positions and (i + 1, j) in d.positions:
            edge = VGroup(d.edge(i, j, k, t.highlight, 6))
        self.run(
            [
                ([*intro, *header], 0.6),
                ([Write(m1), *([Create(edge)] if len(edge) else [])], 1.0),
                ([FadeIn(plot), Create(curve)], 1.2),
                ([GrowFromCenter(here), Create(tangent)], 1.0),
                (FadeIn(words), 0.6),
                ([GrowFromCenter(move)], 1.0),
                ([Create(drop), GrowFromCenter(landed)], 0.6),
                (None, 2.0),
                (
                    [
                        FadeOut(top),
                        FadeOut(VGroup(curve, here, tangent, move, landed, drop, edge)),
                        FadeOut(plot),
                    ],
                    0.5,
                ),
            ]
        )
