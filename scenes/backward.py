"""Backward beats, in the engine's order: each unit's delta, then its layer's gradients.

At the output, dL/da times the activation's derivative is delta (the chain rule:
dL/dz = dL/da · da/dz), with the derivative shown as the slope of the tangent on the
activation's curve. At a hidden unit, dL/da gathers the deltas of the next layer along
the unit's outgoing edges (those edges light up). Then dL/dw = delta · a_prev is written
on every edge; a weight whose gradient is exactly zero is drawn dashed grey: it does
not move.
"""

from __future__ import annotations

import numpy as np
from manim import (
    RIGHT,
    Create,
    FadeIn,
    FadeOut,
    GrowFromCenter,
    Mobject,
    ShowPassingFlash,
    SurroundingRectangle,
    VGroup,
    Write,
)

from backprop_anim.maths.losses import get_loss
from backprop_anim.narration.explain import zero_gradient_reasons
from backprop_anim.numbers import fmt
from backprop_anim.storyboard import Beat, example_weight
from backprop_anim.visual import formula as F
from backprop_anim.visual.panels import (
    ActivationPlot,
    Label,
    ValueTable,
)

from .base import BeatScene, unit_label

MAX_TERMS = 3
MAX_GRAD_ROWS = 10
MAX_EDGE_LABELS = 8


# How the lecture names each reason a gradient is exactly zero (see zero_gradient_reasons).
ZERO_REASONS = {
    "zero input": "its input is 0",
    "dead unit": "dead ReLU: z ≤ 0, so δ = 0",
    "zero delta": "δ = 0",
    "cancelled": "the samples' contributions cancel",
}


class BackwardBeats(BeatScene):
    def per_sample(self, expr: F.Expr, step) -> F.Expr:
        """``expr`` for one sample of ``step``'s batch: the loss is a mean (over the batch,
        and over the outputs for MSE and BCE), so one term's share of a gradient is
        divided by the loss's divisor."""
        loss = get_loss(self.plan.trace.network.loss)
        n = loss.divisor(step.layers[-1].a.shape)
        return expr if n == 1 else F.frac(expr, F.Expr(str(n), str(n)))

    def fused_output(self, i: int) -> bool:
        """Layer i is the output, and its loss and activation make δ = a − y (the chain
        rule's product simplifies: softmax with cross-entropy, sigmoid with BCE); the
        engine's loss says which pairs do."""
        info = self.plan.trace.network
        if i != len(info.layer_names) - 1:
            return False
        return get_loss(info.loss).fused_activation == info.activations[i]

    def delta_label(self, column: int, unit: int, value: float) -> Label:
        d = self.diagram
        assert d is not None
        size = min(20.0, d.font_size())
        text = self.text(f"δ={fmt(value, self.digits)}", font_size=size, color=self.theme.gradient)
        text.add_background_rectangle(color=self.theme.background, opacity=0.85, buff=0.03)
        circle = d.neuron(column, unit)
        text.next_to(circle, [0, -1, 0], buff=0.05)
        return text

    def pulses_back(self, edges: VGroup) -> list:
        """The next layer's deltas running back along the edges, right to left (the
        engine's order), into the unit whose delta is being worked out."""
        return [
            ShowPassingFlash(
                edge.copy().reverse_points().set_stroke(self.theme.gradient, width=8),
                time_width=0.5,
            )
            for edge in edges
        ]

    def beat_backward_unit(self, beat: Beat) -> None:
        step = self.step_of(beat)
        t = self.theme
        trace = self.plan.trace
        info = trace.network
        i, j = beat.layer, beat.unit
        assert i is not None and j is not None
        n = len(info.layer_names)
        layer = step.layers[i]
        act = info.activations[i]
        me = unit_label(trace, i + 1, j)
        dL_da = float(layer.dL_da[0, j])
        deriv = float(layer.act_derivative[0, j])
        delta = float(layer.delta[0, j])
        z, a = float(layer.z[0, j]), float(layer.a[0, j])
        intro = self.ensure_diagram(step)
        where = "output" if i == n - 1 else "hidden"
        header = self.set_header(f"Backward pass · {where} neuron {me} · its delta", "backward")
        d = self.diagram
        assert d is not None
        grad_a = F.grad(F.var("L"), F.sub("a", me))
        items = []
        edges = VGroup()
        if i == n - 1:
            y = float(step.y[0, j])
            if info.loss == "half_sse":
                rhs = (
                    self.per_sample(F.sub("a", me) + F.lit("-") + F.sub("y", me), step)
                    + F.lit("=")
                    + self.per_sample(
                        F.num(a, self.digits) + F.lit("-") + F.num(y, self.digits), step
                    )
                )
                eq1 = grad_a + F.lit("=") + rhs + F.lit("=")
            else:
                eq1 = grad_a + F.lit("=")
            why = "how the loss changes with this output"
        else:
            nxt = step.layers[i + 1]
            targets = d.drawn[i + 2]
            edges = VGroup(*[d.edge(i + 1, k, j, t.gradient, 4) for k in targets])
            k_all = list(range(nxt.W.shape[0]))
            shown = k_all[:MAX_TERMS]
            terms_sym = [
                F.sub("w", f"{unit_label(trace, i + 2, k)},{me}")
                + F.sym("dot")
                + F.sub("delta", unit_label(trace, i + 2, k))
                for k in shown
            ]
            terms_num = [
                F.num(nxt.W[k, j], self.digits) + F.sym("dot") + F.num(nxt.delta[0, k], self.digits)
                for k in shown
            ]
            if len(k_all) > MAX_TERMS:
                terms_sym.append(F.sym("dots"))
                terms_num.append(F.sym("dots"))
            eq1 = (
                grad_a
                + F.Expr(" &= ", " &= ")
                + F.join(terms_sym, "+")
                + F.Expr(" \\ &= ", r" \\ &= ")
                + F.join(terms_num, "+")
                + F.lit("=")
                + F.number(dL_da, self.digits)
            )
            why = "the deltas of the next layer, sent back along this neuron's edges"
        symbol = F.activation_symbol(act)
        deriv_name = F.Expr(f"{symbol.typst}'", f"{symbol.latex}'")
        if act == "sigmoid":
            form = F.sub("a", me) + F.paren(F.Expr("1", "1") + F.lit("-") + F.sub("a", me))
        elif act == "tanh":
            form = F.Expr("1", "1") + F.lit("-") + F.sup(F.sub("a", me), "2")
        else:
            form = None
        eq2 = F.call(deriv_name, F.sub("z", me)) + F.lit("=")
        if form is not None:
            eq2 = eq2 + form + F.lit("=")
        fused = self.fused_output(i)
        if fused:
            y = float(step.y[0, j])
            eq3 = (
                F.sub("delta", me)
                + F.lit("=")
                + self.per_sample(F.sub("a", me) + F.lit("-") + F.sub("y", me), step)
                + F.lit("=")
                + self.per_sample(F.num(a, self.digits) + F.lit("-") + F.num(y, self.digits), step)
                + F.lit("=")
                + F.number(delta, self.digits)
            )
        else:
            eq3 = (
                F.sub("delta", me)
                + F.lit("=")
                + grad_a
                + F.sym("dot")
                + F.call(deriv_name, F.sub("z", me))
                + F.lit("=")
                + F.num(dL_da, self.digits)
                + F.sym("dot")
                + F.num(deriv, self.digits)
                + F.lit("=")
                + F.number(delta, self.digits)
            )
        # At an output, the slope dL/da is its own piece: it comes in as it is said.
        m1 = self.value_row(eq1, F.number(dL_da, self.digits)) if i == n - 1 else self.math(eq1)
        # Wrapped, not one long line each: a line wider than the panel would make the
        # whole stack, formulas included, shrink to fit it.
        c1 = self.paragraph(why, font_size=20, color=t.muted)
        m2 = self.value_row(eq2, F.number(deriv, self.digits))
        chain = self.paragraph(
            "chain rule: ∂L/∂z = ∂L/∂a · ∂a/∂z  (the slope of the curve at z)"
            if not fused
            else "the chain rule's product simplifies to a − y for this loss",
            font_size=20,
            color=t.gradient,
        )
        m3 = self.math(eq3)
        items = [m1, c1, m2]
        plot = None
        if act != "softmax":
            slope = float(trace.config["network"]["layers"][i].get("slope", 0.01))
            plot = ActivationPlot(act, t, z_values=[z], slope=slope, height=1.6)
            items.append(plot)
        items += [chain, m3]
        panel = self.column_stack(items, buff=0.22)
        label = self.delta_label(i + 1, j, delta)
        self.delta_labels = getattr(self, "delta_labels", {})
        error = m1[0] if i == n - 1 else m1
        parts = [
            ([*intro, *header], 0.6, "header"),
            ([Create(edges)] if len(edges) else None, 0.6, "edges"),
            ([Write(error), FadeIn(c1), *self.pulses_back(edges)], 1.4, "error"),
        ]
        if i == n - 1:
            parts.append((Write(m1[1]), 0.5, "dL_da"))
        tag = None
        if plot is not None:
            # The derivative is the slope of the tangent: its value leaves the tangent
            # and lands in the formula as the narration says it.
            tangent = plot.tangent(z, a, deriv)
            dot = plot.point(z, a)
            tag = self.text(f"slope {fmt(deriv, self.digits)}", font_size=18, color=t.gradient)
            tag.add_background_rectangle(color=t.background, opacity=0.85, buff=0.03)
            tag.next_to(tangent.get_end(), RIGHT, buff=0.06)
            parts += [
                ([Write(m2[0]), FadeIn(plot), GrowFromCenter(dot)], 1.0, "slope"),
                ([Create(tangent), FadeIn(tag)], 0.6, "tangent"),
                (self.fly_from(m2[1], tag.get_center(), tag), 0.7),
            ]
        else:
            parts.append(([Write(m2[0]), FadeIn(m2[1])], 1.0, "slope"))
        parts += [
            ([FadeIn(chain), Write(m3)], 1.4, "delta"),
            (self.fly_from(label, m3.get_right() - [label.width / 2, 0, 0]), 0.5, "label"),
        ]
        # Why the derivative (the detailed level; the flat slope, wherever it is said):
        # each sentence points at what it explains, already on screen.
        said = self.said_parts(beat)
        boxes: list[Mobject] = []  # one outline at a time: each sentence points at one thing
        if plot is not None and tag is not None:

            def point_at(mob: Mobject) -> list:
                box = SurroundingRectangle(mob, color=t.highlight, buff=0.06)
                anims = [Create(box)] + ([FadeOut(boxes[-1])] if boxes else [])
                boxes.append(box)
                return anims

            if "why" in said:  # the slope the chain rule needs is this tangent's
                parts.append(
                    (
                        [
                            tangent.animate.set_stroke(color=t.highlight, width=6).build(),
                            dot.animate.scale(1.5).build(),
                        ],
                        0.6,
                        "why",
                    )
                )
            if "chain" in said:  # how z reaches the loss: through a, times the slope
                parts.append((point_at(chain), 0.6, "chain"))
            if "rule" in said:  # the slope's own formula, in a
                parts.append((point_at(m2[0]), 0.6, "rule"))
            if "flat" in said:  # a small number: the tangent is almost level
                parts.append(
                    (
                        [*point_at(tag.copy().scale(1.3)), tag.animate.scale(1.3).build()],
                        0.6,
                        "flat",
                    )
                )
        parts += [
            (None, 2.0),
            (
                [FadeOut(panel), FadeOut(edges)]
                + ([FadeOut(tangent), FadeOut(dot), FadeOut(tag)] if plot else [])
                + ([FadeOut(boxes[-1])] if boxes else []),
                0.5,
            ),
        ]
        self.delta_labels[(i + 1, j)] = label
        self.run(parts)

    def beat_backward_layer(self, beat: Beat) -> None:
        step = self.step_of(beat)
        trace = self.plan.trace
        i = beat.layer
        assert i is not None
        layer = step.layers[i]
        name = trace.network.layer_names[i]
        n = layer.delta.shape[1]
        intro = self.ensure_diagram(step)
        header = self.set_header(f"Backward pass · {name} · all {n} deltas at once", "backward")
        if i < len(trace.network.layer_names) - 1:
            rule = (
                F.paren(F.sup(F.var("W"), "T") + F.Expr(" ", " ") + F.sym("delta"))
                + F.sym("odot")
                + F.Expr("f'(z)", "f'(z)")
            )
        elif self.fused_output(i):
            rule = self.per_sample(F.var("a") + F.lit("-") + F.var("y"), step)
        else:
            rule = F.grad(F.var("L"), F.var("a")) + F.sym("odot") + F.Expr("f'(z)", "f'(z)")
        eq = self.math(F.sym("delta") + F.lit("=") + rule)
        zero = int(np.sum(layer.delta[0] == 0.0))
        self.layer_strip(
            eq,
            layer.delta[0],
            f"{n} deltas of {name}: largest |δ| {fmt(np.abs(layer.delta[0]).max(), self.digits)}"
            + (f", {zero} exactly 0" if zero else ""),
            [*intro, *header],
            symmetric=True,
            lead_in_weight=0.6,
        )

    def beat_gradients(self, beat: Beat) -> None:
        step = self.step_of(beat)
        t = self.theme
        trace = self.plan.trace
        i = beat.layer
        assert i is not None
        layer = step.layers[i]
        name = trace.network.layer_names[i]
        a_prev = step.x if i == 0 else step.layers[i - 1].a
        intro = self.ensure_diagram(step)
        header = self.set_header(
            f"Backward pass · {name} · weight gradients ∂L/∂w = δ · a", "backward"
        )
        d = self.diagram
        assert d is not None
        # Weights whose gradient is exactly zero stay dashed grey from here on.
        self.not_moving[i] = layer.grad_W == 0.0
        still = [
            self.not_moving.get(n, np.zeros_like(s.W, dtype=bool))
            for n, s in enumerate(step.layers)
        ]
        rows_drawn = d.drawn[i + 1]
        cols_drawn = d.drawn[i]
        pairs = [(j, k) for j in rows_drawn for k in cols_drawn]
        labels = VGroup()
        if len(pairs) <= MAX_EDGE_LABELS:
            for j, k in pairs:
                g = layer.grad_W[j, k]
                color = t.frozen if g == 0.0 else t.gradient
                text = self.text(fmt(g, self.digits), font_size=18, color=color)
                text.add_background_rectangle(color=t.background, opacity=0.85, buff=0.03)
                text.move_to(d.edge_point(i, j, k, 0.35))
                labels.add(text)
            if not d.labels_fit(list(labels)):
                labels = VGroup()
        others = {n: 0.3 for n in range(len(step.layers)) if n != i}
        grad_view = d.edge_raster(
            [layer.grad_W if n == i else s.W for n, s in enumerate(step.layers)],
            still=still,
            color_by_layer={i: t.gradient},
            alpha_by_layer=others,
        )
        weight_view = d.edge_raster([s.W for s in step.layers], still=still)
        all_pairs = [(j, k) for j in range(layer.W.shape[0]) for k in range(layer.W.shape[1])]
        if len(all_pairs) > MAX_GRAD_ROWS:
            nonzero = sorted(all_pairs, key=lambda p: -abs(layer.grad_W[p]))[: MAX_GRAD_ROWS - 2]
            zeros = [p for p in all_pairs if layer.grad_W[p] == 0.0][:2]
            table_pairs = sorted(set(nonzero + zeros))
        else:
            table_pairs = all_pairs
        batch = len(step.samples)
        header_row = ["weight", "δ", "a (input)", "∂L/∂w"] if batch == 1 else ["weight", "∂L/∂w"]
        rows, colors = [], []
        for j, k in table_pairs:
            g = layer.grad_W[j, k]
            wname = f"{unit_label(trace, i + 1, j)} ← {unit_label(trace, i, k)}"
            if batch == 1:
                rows.append(
                    [
                        wname,
                        fmt(layer.delta[0, j], self.digits),
                        fmt(a_prev[0, k], self.digits),
                        fmt(g, self.digits),
                    ]
                )
                colors.append([None, None, None, t.frozen if g == 0 else t.gradient])
            else:
                rows.append([wname, fmt(g, self.digits)])
                colors.append([None, t.frozen if g == 0 else t.gradient])
        table = ValueTable(header_row, rows, t, font_size=20, colors=colors)
        n_zero = int(np.sum(layer.grad_W == 0.0))
        total = layer.grad_W.size
        if n_zero:
            reasons = [ZERO_REASONS[key] for key in sorted(zero_gradient_reasons(step, i))]
            text = (
                f"{n_zero} of {total} gradients are exactly 0 ({'; '.join(reasons)}): "
                "those weights do not move"
            )
        else:
            text = (
                "its one gradient is non-zero"
                if total == 1
                else f"all {total} gradients are non-zero, each of its own size"
            )
        note = self.paragraph(text, font_size=20, color=t.frozen if n_zero else t.muted)
        if batch > 1:
            note2 = self.text(f"summed over the batch of {batch}", font_size=20, color=t.muted)
            panel = self.column_stack([table, note, note2])
            meet: list = []
            extras: list = []
        else:
            example = example_weight(layer.grad_W, largest=True)
            row, meet, labels, extras = self.gradient_meets(i, example, labels)
            panel = self.column_stack([row, table, note])
        old_edges = d.edges_image
        d.edges_image = weight_view
        first = meet[0] if meet else []
        self.run(
            [
                ([*intro, *header], 0.6),
                ([FadeIn(grad_view), FadeOut(old_edges), *first], 0.8, "gradients"),
                *meet[1:],
                ([FadeIn(labels), FadeIn(table)], 1.4, "table"),
                (FadeIn(note), 0.5, "note"),
                (None, 2.2),
                (
                    [FadeOut(labels), FadeOut(panel), FadeOut(grad_view), FadeIn(weight_view)]
                    + [FadeOut(m) for m in extras],
                    0.5,
                ),
            ]
        )

    def gradient_meets(self, i: int, example: tuple[int, int], labels: VGroup):
        """δ and a meet to make ∂L/∂w, for the example weight of layer i.

        Returns the formula row ∂L/∂w = δ · a = 0.1385 · 0.5933 = 0.08217; the parts
        that build it (the first part's animations, then named parts: δ flies in from under
        its neuron, a from the neuron before, the product is written, and a copy of it
        lands on the edge as its label); the other edges' labels (shown with the table);
        and what to fade out at the end (the highlighted edge, the example's label).
        """
        step = self.step_of(self.current.beat)
        t = self.theme
        d = self.diagram
        trace = self.plan.trace
        layer = step.layers[i]
        a_prev = step.x if i == 0 else step.layers[i - 1].a
        j, k = example
        me, src = unit_label(trace, i + 1, j), unit_label(trace, i, k)
        g = float(layer.grad_W[j, k])
        lhs = (
            F.grad(F.var("L"), F.sub("w", f"{me},{src}"))
            + F.lit("=")
            + F.sub("delta", me)
            + F.sym("dot")
            + F.sub("a", src)
            + F.lit("=")
        )
        pieces = [
            lhs,
            F.num(layer.delta[0, j], self.digits),
            F.sym("dot"),
            F.num(a_prev[0, k], self.digits),
            F.lit("="),
            F.number(g, self.digits),
        ]
        row = VGroup(*[self.math(p) for p in pieces]).arrange(RIGHT, buff=0.12)
        for mob in row:
            mob.set_y(row.get_y())
        drawn = (i, k) in d.positions and (i + 1, j) in d.positions
        first: list = [Write(row[0])]
        pairs = [(jj, kk) for jj in d.drawn[i + 1] for kk in d.drawn[i]]
        label = None
        extras: list = []
        if drawn:
            edge = d.edge(i, j, k, t.highlight, 4)
            first.append(Create(edge))
            extras.append(edge)
            if len(labels) == len(pairs):  # every drawn edge has its label
                label = labels[pairs.index((j, k))]
                labels = VGroup(*[m for m in labels if m is not label])
            else:
                label = self.edge_label(i, j, k, fmt(g, self.digits), t.gradient)
        delta_at = getattr(self, "delta_labels", {}).get((i + 1, j))
        a_at = d.value_labels.get((i, k))

        def arrive(piece, source, where):
            if source is not None:
                return self.fly_from(piece, source.get_center(), source)
            if where in d.positions:
                return self.fly_from(piece, d.positions[where])
            return FadeIn(piece)

        parts = [
            first,
            (arrive(row[1], delta_at, (i + 1, j)), 0.7, "delta"),
            ([FadeIn(row[2]), arrive(row[3], a_at, (i, k))], 0.7, "input"),
            ([FadeIn(row[4]), Write(row[5])], 0.6, "product"),
        ]
        if label is not None:
            parts.append((self.fly_from(label, row[5].get_center(), row[5]), 0.7))
            extras.append(label)
        return row, parts, labels, extras
