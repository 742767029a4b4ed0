"""Forward beats: a neuron's equation fills in with the real numbers; a large layer as a strip."""

from __future__ import annotations

import numpy as np
from manim import (
    Create,
    FadeIn,
    FadeOut,
    GrowFromCenter,
    VGroup,
    Write,
)

from backprop_anim.numbers import fmt
from backprop_anim.storyboard import Beat
from backprop_anim.visual import formula as F
from backprop_anim.visual.panels import ActivationPlot

from .base import PANEL_TOP, BeatScene, unit_label

MAX_TERMS = 3  # terms of a weighted sum written out before "…"
MAX_EDGE_LABELS = 6


class ForwardBeats(BeatScene):
    def weighted_sum(self, beat: Beat, values: np.ndarray, result: float) -> F.Expr:
        """z_j = Σ w a + b, written out with the step's numbers (the trace's, rounded once)."""
        step = self.step_of(beat)
        i, j = beat.layer, beat.unit
        layer = step.layers[i]
        trace = self.plan.trace
        me = unit_label(trace, i + 1, j)
        fan_in = layer.W.shape[1]
        shown = list(range(min(fan_in, MAX_TERMS)))
        sym_terms = [
            F.sub("w", f"{me},{unit_label(trace, i, k)}")
            + F.sym("dot")
            + F.sub("a", unit_label(trace, i, k))
            for k in shown
        ]
        num_terms = [
            F.num(layer.W[j, k], self.digits) + F.sym("dot") + F.num(values[k], self.digits)
            for k in shown
        ]
        if fan_in > MAX_TERMS:
            sym_terms.append(F.sym("dots"))
            num_terms.append(F.sym("dots"))
        sym_terms.append(F.sub("b", me))
        num_terms.append(F.num(layer.b[j], self.digits))
        z = F.sub("z", me)
        return (
            z
            + F.Expr(" &= ", " &= ")
            + F.join(sym_terms, "+")
            + F.Expr(" \\ &= ", r" \\ &= ")
            + F.join(num_terms, "+")
            + F.lit("=")
            + F.num(result, self.digits)
        )

    def beat_forward_unit(self, beat: Beat) -> None:
        step = self.step_of(beat)
        t = self.theme
        trace = self.plan.trace
        i, j = beat.layer, beat.unit
        assert i is not None and j is not None
        layer = step.layers[i]
        act = trace.network.activations[i]
        me = unit_label(trace, i + 1, j)
        prev = step.x[0] if i == 0 else step.layers[i - 1].a[0]
        z, a = float(layer.z[0, j]), float(layer.a[0, j])
        intro = self.ensure_diagram(step)
        header = self.set_header(
            f"Forward pass · {trace.network.layer_names[i]} · neuron {me}", "forward"
        )
        d = self.diagram
        assert d is not None
        sources = d.drawn[i]
        edges = VGroup(*[d.edge(i, j, s, t.highlight, 4) for s in sources])
        labels = VGroup()
        if len(sources) <= MAX_EDGE_LABELS:
            for s in sources:
                text = self.text(fmt(layer.W[j, s], self.digits), font_size=20, color=t.highlight)
                text.add_background_rectangle(color=t.background, opacity=0.85, buff=0.04)
                text.move_to(d.edge_point(i, j, s, 0.3))
                labels.add(text)
        eq_z = self.math(self.weighted_sum(beat, prev, z))
        symbol = F.activation_symbol(act)
        if act == "softmax":
            eq_a = self.math(
                F.sub("a", me)
                + F.lit("=")
                + F.frac(
                    F.sup(F.var("e"), F.sub("z", me)),
                    F.sym("sum") + F.sup(F.var("e"), F.sub("z", "k")),
                )
                + F.lit("=")
                + F.num(a, self.digits)
            )
        else:
            eq_a = self.math(
                F.sub("a", me)
                + F.lit("=")
                + F.call(symbol, F.sub("z", me))
                + F.lit("=")
                + F.call(symbol, F.num(z, self.digits))
                + F.lit("=")
                + F.num(a, self.digits)
            )
        note = None
        if len(step.samples) > 1:
            note = self.text(
                f"first sample of a batch of {len(step.samples)}", font_size=20, color=t.muted
            )
        items = [eq_z, eq_a]
        plot = dot = None
        if act != "softmax":
            slope = float(trace.config["network"]["layers"][i].get("slope", 0.01))
            plot = ActivationPlot(act, t, z_values=[z], slope=slope)
            point_label = self.text(
                f"(z, a) = ({fmt(z, self.digits)}, {fmt(a, self.digits)})",
                font_size=20,
                color=t.highlight,
            )
            items += [plot, point_label]
        if note is not None:
            items.append(note)
        panel = self.column_stack(items, top=PANEL_TOP)
        parts = [
            ([*intro, *header], 0.8),
            ([Create(edges), FadeIn(labels)], 1.0),
            (Write(eq_z), 1.4),
            (Write(eq_a), 1.0),
        ]
        if plot is not None:
            dot = plot.point(z, a)
            panel.remove(point_label)
            parts += [(FadeIn(plot), 0.5), ([GrowFromCenter(dot), FadeIn(point_label)], 0.5)]
        if note is not None:
            parts.append((FadeIn(note), 0.3))
        lo, hi = self.activation_range(i, step)
        parts += [
            (self.fill_neuron(i + 1, j, a, lo, hi), 0.7),
            (None, 2.0),
            (
                [FadeOut(edges), FadeOut(labels), FadeOut(panel)]
                + ([FadeOut(dot), FadeOut(point_label)] if dot else []),
                0.5,
            ),
        ]
        self.run(parts)

    def activation_range(self, i: int, step) -> tuple[float, float]:
        """The range neuron colours span for layer i: the activation's, or the layer's values."""
        act = self.plan.trace.network.activations[i]
        if act in ("sigmoid", "softmax"):
            return 0.0, 1.0
        if act == "tanh":
            return -1.0, 1.0
        a = step.layers[i].a[0]
        return float(min(0.0, a.min())), float(max(1e-9, a.max()))

    def beat_forward_layer(self, beat: Beat) -> None:
        """A layer too large to explain neuron by neuron: all activations as one strip."""
        step = self.step_of(beat)
        trace = self.plan.trace
        i = beat.layer
        assert i is not None
        layer = step.layers[i]
        name = trace.network.layer_names[i]
        n = layer.a.shape[1]
        intro = self.ensure_diagram(step)
        header = self.set_header(f"Forward pass · {name} · all {n} neurons at once", "forward")
        act = trace.network.activations[i]
        eq = self.math(
            F.var("z")
            + F.lit("=")
            + F.Expr("W a", "W a")
            + F.lit("+")
            + F.var("b")
            + F.Expr(",  ", ",  ")
            + F.var("a")
            + F.lit("=")
            + F.call(F.activation_symbol(act), F.var("z"))
        )
        lo, hi = self.activation_range(i, step)
        self.layer_strip(
            eq,
            layer.a[0],
            f"{n} activations of {name}: min {fmt(layer.a[0].min(), self.digits)}, "
            f"max {fmt(layer.a[0].max(), self.digits)}",
            [*intro, *header],
            symmetric=act == "tanh",
            then=self.fill_layer(i + 1, layer.a[0], lo, hi),
        )
