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
    DL,
    DOWN,
    DR,
    LEFT,
    RIGHT,
    UL,
    UP,
    UR,
    Circle,
    Create,
    FadeIn,
    FadeOut,
    GrowFromCenter,
    Mobject,
    ShowPassingFlash,
    SurroundingRectangle,
    VGroup,
    Write,
    config,
)

from backprop_anim.maths.losses import get_loss
from backprop_anim.narration.explain import zero_gradient_reasons
from backprop_anim.numbers import fmt
from backprop_anim.storyboard import Beat, example_weight, largest_terms, shown_samples
from backprop_anim.visual import formula as F
from backprop_anim.visual.network import LEGIBLE_HEIGHT
from backprop_anim.visual.panels import (
    ActivationPlot,
    Label,
    ValueTable,
)

from .base import NETWORK_REGION, PANEL_LEFT, BeatScene, _overlap, unit_label
from .forward import DIM
from .forward import MAX_EDGE_LABELS as MAX_FOCUS_UNITS
from .pointers import layer_sweep, old_weights, outline, seen

MAX_TERMS = 3  # a next layer this wide is summed term by term
WIDE_TERMS = 2  # else its largest terms, on a line that fits the panel
MAX_GRAD_ROWS = 10
MAX_EDGE_LABELS = 8
# Where a delta may stand beside its neuron, in order of preference.
DELTA_PLACES = (DOWN, DR, RIGHT, DL, LEFT, UR, UL, UP)
DELTA_BUFF = 0.03
TANGENT_SHARE = 1.6 / 3.0  # the tangent's length against the plot's width
FLAT_GROW = 1.3  # the slope tag grows as a sentence says the tangent is almost flat


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
        """δ under its neuron (issue 11: "δ lands under the neuron"), covering no other
        text and no neuron.

        In a tall column the gap under a hidden unit also holds the next unit's name, so
        the delta shrinks to fit it, down to the smallest size legible at 720p; where
        even that does not fit it goes below-right, right, below-left, left or above.
        Every delta of a column stands in the same place beside its neuron, chosen for
        all the deltas this step explains in the column at once (they stay on screen
        for the rest of the step), clear of the deltas placed before.
        """
        d = self.diagram
        assert d is not None
        if column not in self._delta_places:  # reset with each step's diagram
            self._delta_places[column] = self._delta_place(column)
        size, direction = self._delta_places[column]
        label = self._delta_text(value, size)
        label.next_to(d.neuron(column, unit), direction, buff=DELTA_BUFF)
        lit = self._lit_edge_points(column, unit)
        if self._clash(label, self._delta_obstacles(column, unit), lit) == 0.0:
            return label
        # Nowhere clean for the whole column: the least crowded place for this one.
        best: tuple[float, Label] | None = None
        labels = [self._delta_text(value, size) for size in self._delta_sizes()]
        for direction in DELTA_PLACES:
            for label in labels:
                label.next_to(d.neuron(column, unit), direction, buff=DELTA_BUFF)
                cost = self._clash(label, self._delta_obstacles(column, unit), lit)
                if best is None or cost < best[0]:
                    best = (cost, label.copy())
        assert best is not None
        return best[1]

    def _delta_text(self, value: float, size: float) -> Label:
        text = self.text(f"δ={fmt(value, self.digits)}", font_size=size, color=self.theme.gradient)
        text.add_background_rectangle(color=self.theme.background, opacity=0.85, buff=0.03)
        # Above the edges a beat lights up (drawn later, in the delta's own colour).
        text.set_z_index(2)
        return text

    def _delta_sizes(self) -> list[float]:
        """Text sizes to try: the diagram's, then smaller in steps of 10 %, down to the
        smallest legible at 720p (a little above LEGIBLE_HEIGHT)."""
        d = self.diagram
        assert d is not None
        size = min(20.0, d.font_size())
        probe = Label("δ=0.1234", font_size=size)
        smallest = size * LEGIBLE_HEIGHT * 1.1 / probe.height
        sizes = [size]
        while sizes[-1] * 0.9 > smallest:
            sizes.append(sizes[-1] * 0.9)
        return sizes + ([smallest] if smallest < size else [])

    def _delta_obstacles(self, column: int, unit: int) -> list:
        others = [m for k, m in self.delta_labels.items() if k != (column, unit)]
        return [*self.diagram_texts(), *others]

    def _delta_place(self, column: int) -> tuple[float, np.ndarray]:
        """(text size, direction) at which every delta this step explains in ``column``
        sits clear of the diagram's texts, the neurons, the deltas already placed and
        each other; the first place in order of preference."""
        d = self.diagram
        assert d is not None
        step = self.step_of(self.current.beat)
        units = [
            tb.beat.unit
            for tb in self.plan.timed
            if tb.beat.kind == "backward_unit"
            and tb.beat.step == step.step
            and tb.beat.layer == column - 1
            and d.is_drawn(column, tb.beat.unit)
        ]
        values = step.layers[column - 1].delta[0]
        obstacles = [
            *self.diagram_texts(),
            *[m for (c, _), m in self.delta_labels.items() if c != column],
        ]
        sizes = self._delta_sizes()
        texts = {
            (u, n): self._delta_text(float(values[u]), size)
            for u in units
            for n, size in enumerate(sizes)
        }
        for direction in DELTA_PLACES:
            for n, size in enumerate(sizes):
                placed: list[Label] = []
                for u in units:
                    label = texts[(u, n)]
                    label.next_to(d.neuron(column, u), direction, buff=DELTA_BUFF)
                    lit = self._lit_edge_points(column, u)
                    if self._clash(label, [*obstacles, *placed], lit) > 0.0:
                        break
                    placed.append(label)
                else:
                    return size, direction
        return sizes[0], DOWN

    def diagram_texts(self) -> list:
        """What the diagram writes around its neurons: names, layer captions, the "⋮"
        and "64 units" marks, values beside small neurons, raw inputs, the picture."""
        d = self.diagram
        assert d is not None
        texts = [*d.name_labels, *d.captions, *d.extras, *d.value_labels.values()]
        texts += list(self.raw_labels)
        if self.picture is not None:
            texts.append(self.picture)
        return texts

    def _lit_edge_points(self, column: int, unit: int) -> np.ndarray:
        """Points along the edges a hidden unit's beat lights (to the next layer's drawn
        units, outside the circles), which its delta should not cover: written right
        of digits' h5 it sat on the fan of its ten lit edges, where they leave it."""
        d = self.diagram
        assert d is not None
        if column + 1 >= len(d.drawn) or not d.is_drawn(column, unit):
            return np.zeros((0, 3))
        return np.array(
            [
                d.edge_point(column, k, unit, t)
                for k in d.drawn[column + 1]
                for t in np.linspace(0.0, 1.0, 25)
            ]
        )

    def _clash(self, label, obstacles: list, lit: np.ndarray | None = None) -> float:
        """How badly ``label`` sits: the area it shares with other texts and neurons,
        plus what leaves the network's side of the frame, plus the points of the lit
        edges ``lit`` it covers (0: a clean place)."""
        d = self.diagram
        assert d is not None
        x0, x1 = label.get_left()[0], label.get_right()[0]
        y0, y1 = label.get_bottom()[1], label.get_top()[1]
        cost = 0.0
        if lit is not None and len(lit):
            inside = (lit[:, 0] > x0) & (lit[:, 0] < x1) & (lit[:, 1] > y0) & (lit[:, 1] < y1)
            cost += 0.01 * float(inside.sum())
        for m in obstacles:
            w = min(x1, m.get_right()[0]) - max(x0, m.get_left()[0])
            h = min(y1, m.get_top()[1]) - max(y0, m.get_bottom()[1])
            if w > 0 and h > 0:
                cost += w * h + 1.0
        for pos in d.positions.values():
            cx, cy = min(max(pos[0], x0), x1), min(max(pos[1], y0), y1)
            if (cx - pos[0]) ** 2 + (cy - pos[1]) ** 2 < d.radius**2:
                cost += 1.0 + d.radius**2
        left, right = -config.frame_width / 2 + 0.05, PANEL_LEFT - 0.1
        bottom = NETWORK_REGION.bottom - 0.4
        top = min((c.get_bottom()[1] for c in d.captions), default=NETWORK_REGION.top)
        cost += max(0.0, left - x0) + max(0.0, x1 - right)
        cost += max(0.0, bottom - y0) + max(0.0, y1 - top)
        return cost

    def wide_net(self) -> bool:
        """A tangle: a layer drawn elided, or more units in a column than the forward
        beat labels (digits, one-layer-at-a-time's 8-8 layers, XOR's 8 hidden units)."""
        d = self.diagram
        assert d is not None
        return any(
            len(drawn) < len(names) or len(drawn) > MAX_FOCUS_UNITS
            for drawn, names in zip(d.drawn, d.unit_names, strict=True)
        )

    def dim_tangle(self, step) -> tuple[list, list]:
        """In a wide net the tangle steps back while a beat talks about one unit's edges,
        as in the forward beat: every edge at under 20 % (``DIM``), weights that do not
        move still dashed grey. Animations to dim (before the beat's own edges are drawn:
        at one depth, what is added later is on top) and to restore; none in a small net.
        """
        d = self.diagram
        assert d is not None
        if not self.wide_net():
            return [], []
        weights = [s.W for s in step.layers]
        still = [
            self.not_moving.get(n, np.zeros_like(W, dtype=bool)) for n, W in enumerate(weights)
        ]
        undimmed = d.edges_image
        dimmed = d.edge_raster(
            weights, still=still, alpha_by_layer=dict.fromkeys(range(len(weights)), DIM)
        )
        return [FadeIn(dimmed), FadeOut(undimmed)], [FadeOut(dimmed), FadeIn(undimmed)]

    def place_slope_tag(
        self, tag: Mobject, tangent, plot, target: Mobject, texts: list, grow: float = 1.0
    ) -> None:
        """Put "slope 0.8757" by the tangent where neither it nor its travel into
        ``target`` (the derivative's place in its row) crosses another text of the panel.

        Tried in order: beyond the tangent's upper end, beside it above or below, right
        of the plot, left of the tangent's lower end; the travel (a copy of the number
        moving straight from the tag to ``target``, growing to its size) is checked at
        eight points along the way. The first clean place, else the least crossed.
        (The tag stood on tanh'(z) = 1 − a² and its travel ran through it.) ``grow``: the
        tag is later scaled by this much about its centre (the "flat" sentence), and must
        still cover nothing then (tanh-saturation's grown tag covered the plot's "z")."""
        obstacles = self._panel_text_boxes(texts, target)
        obstacles += [_box(m) for m in plot.submobjects if isinstance(m, Label)]
        low, end = sorted([tangent.get_start(), tangent.get_end()], key=lambda p: p[1])
        places = [
            (end, RIGHT),
            (end, DR),
            (end, UR),
            (plot.get_right(), RIGHT),
            (plot.get_corner(DR), RIGHT),
            (low, LEFT),
            (low, DR),
        ]
        best: tuple[float, np.ndarray] | None = None
        # Far enough that the tag, grown about its centre, still keeps clear of its anchor.
        buff = 0.06 + (grow - 1.0) * tag.width / 2
        for point, direction in places:
            tag.next_to(point, direction, buff=buff)
            cost = _travel_cost(_box(tag), _box(target), min(tag.height, target.height), obstacles)
            if grow != 1.0:
                x, y = tag.get_center()[:2]
                w, h = tag.width * grow / 2, tag.height * grow / 2
                big = (x - w, x + w, y - h, y + h)
                cost += _travel_cost(big, big, 2 * h, obstacles, samples=1)
                cost += 10.0 * max(0.0, PANEL_LEFT - big[0])
                cost += max(0.0, big[1] - (config.frame_width / 2 - 0.05))
            # Inside the panel: left of it are the network's neurons and lit edges
            # (tanh-saturation's h23, whose tangent ends left of its plot).
            cost += max(0.0, tag.get_right()[0] - (config.frame_width / 2 - 0.05))
            cost += 10.0 * max(0.0, PANEL_LEFT - tag.get_left()[0])
            if cost == 0.0:
                return
            if best is None or cost < best[0]:
                best = (cost, tag.get_center())
        assert best is not None
        tag.move_to(best[1])

    def _panel_text_boxes(self, texts: list, target: Mobject) -> list:
        """Boxes of the panel's texts; a row typeset whole with its number set apart
        (``value_row``) counts up to the number only: the number's place is the landing."""
        boxes = []
        for m in texts:
            if isinstance(m, VGroup) and len(m.submobjects) == 2 and m[1] is target:
                x0, x1, y0, y1 = _box(m[0])
                boxes.append((x0, min(x1, target.get_left()[0] - 0.02), y0, y1))
            else:
                boxes.append(_box(m))
        return boxes

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
            # A wide next layer: the terms that matter most (largest |w·δ|), said so, and
            # few enough that the panel keeps its size (digits' first three, d0 to d2,
            # with the sum on their line, shrank every formula to 60 %, unreadable).
            wide = len(k_all) > MAX_TERMS
            shown = largest_terms(nxt.W[:, j], nxt.delta[0], WIDE_TERMS) if wide else k_all
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
            if wide:
                terms_sym.append(F.sym("dots"))
                terms_num.append(F.sym("dots"))
            eq1 = (
                grad_a
                + F.Expr(" &= ", " &= ")
                + F.join(terms_sym, "+")
                + F.Expr(" \\ &= ", r" \\ &= ")
                + F.join(terms_num, "+")
                + (F.Expr(" \\ &= ", r" \\ &= ") if wide else F.lit("="))
                + F.number(dL_da, self.digits)
            )
            why = "the deltas of the next layer, sent back along this neuron's edges" + (
                f" (the {len(shown)} largest of {len(k_all)} terms)" if wide else ""
            )
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
        error = m1[0] if i == n - 1 else m1
        dim, undim = self.dim_tangle(step)
        if dim:  # in the dimmed tangle, the neuron this beat is about, ringed
            ring = Circle(radius=d.radius * 1.2, color=t.gradient, stroke_width=3)
            ring.move_to(d.positions[(i + 1, j)])
            dim, undim = [*dim, Create(ring)], [*undim, FadeOut(ring)]
        said = self.said_parts(beat)
        order, lit, old = self.backward_order(beat, step, i, [j])
        parts = [
            ([*intro, *header], 0.6, "header"),
            *order,
            ([*dim, Create(edges)] if len(edges) else (dim or None), 0.6, "edges"),
            (
                [Write(error), FadeIn(c1), *self.pulses_back(edges)]
                + ([FadeOut(lit), FadeOut(old)] if len(lit) else []),
                1.4,
                "error",
            ),
        ]
        if i == n - 1:
            parts.append((Write(m1[1]), 0.5, "dL_da"))
        tag = None
        if plot is not None:
            # The derivative is the slope of the tangent: its value leaves the tangent
            # and lands in the formula as the narration says it.
            # As long against the plot as at its full size: a panel shrunk to fit a wide
            # formula (digits) let a fixed 1.6 reach up into the tanh' row.
            tangent = plot.tangent(z, a, deriv, length=TANGENT_SHARE * plot.axes.width)
            dot = plot.point(z, a)
            tag = self.text(f"slope {fmt(deriv, self.digits)}", font_size=18, color=t.gradient)
            tag.add_background_rectangle(color=t.background, opacity=0.85, buff=0.03)
            self.place_slope_tag(
                tag,
                tangent,
                plot,
                m2[1],
                [m1, c1, m2, chain, m3],
                grow=FLAT_GROW if "flat" in self.said_parts(beat) else 1.0,
            )
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
        long_way = VGroup()
        if "long" in said:  # the long way: the slope dL/da times the derivative, on screen
            # (softmax: not that product, a sum over every output; the rule and δ instead)
            pair = (chain, m3) if act == "softmax" else (m1, m2)
            long_way.add(*[outline(m, t) for m in pair])
            parts.append((seen(Create(long_way)), 0.6, "long"))
        # Why the derivative (the detailed level; the flat slope, wherever it is said):
        # each sentence points at what it explains, already on screen.
        if "blames" in said and len(edges):  # every edge carries its share back, again
            parts.append((self.pulses_back(edges), 0.8, "blames"))
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
                        [
                            *point_at(tag.copy().scale(FLAT_GROW)),
                            tag.animate.scale(FLAT_GROW).build(),
                        ],
                        0.6,
                        "flat",
                    )
                )
        parts += [
            (None, 2.0),
            (
                [FadeOut(panel), FadeOut(edges), *undim]
                + ([FadeOut(long_way)] if len(long_way) else [])
                + ([FadeOut(tangent), FadeOut(dot), FadeOut(tag)] if plot else [])
                + ([FadeOut(boxes[-1])] if boxes else []),
                0.5,
            ),
        ]
        self.delta_labels[(i + 1, j)] = label
        self.run(parts)

    def backward_order(self, beat: Beat, step, i: int, units: list[int]):
        """The first backward beat's pointers, where its words say them: the layers lit
        right to left ("in the opposite order"), then the edges into ``units`` with their
        weights as they were ("It uses the weights as they were"). Returns (parts, the
        lit edges, their labels): the next part takes the edges away."""
        said = self.said_parts(beat)
        parts = layer_sweep(self, "order", backwards=True) if "order" in said else []
        lit, old = VGroup(), VGroup()
        if "weights" in said:
            lit, old = old_weights(self, step, i, units)
            parts.append((seen([Create(lit), FadeIn(old)]), 0.6, "weights"))
        return parts, lit, old

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
        order, lit, old = self.backward_order(beat, step, i, self.diagram.drawn[i + 1])
        self.layer_strip(
            eq,
            layer.delta[0],
            f"{n} deltas of {name}: largest |δ| {fmt(np.abs(layer.delta[0]).max(), self.digits)}"
            + (f", {zero} exactly 0" if zero else ""),
            [*intro, *header],
            symmetric=True,
            lead_in_weight=0.6,
            pointers=order,
            leave=[FadeOut(lit), FadeOut(old)] if len(lit) else [],
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
            # Together, clear of the neurons, of each other and of the deltas and names.
            others = [*self.diagram_texts(), *self.delta_labels.values()]
            if not d.labels_fit(list(labels)) or any(
                _overlap(label, m) for label in labels for m in others
            ):
                labels = VGroup()
        # The layers not discussed step back: under 20 % in a wide net, as the forward
        # beat's tangle (digits' 60 hidden -> output edges stood at 30 % around the pink).
        back = DIM if self.wide_net() else 0.3
        others = {n: back for n in range(len(step.layers)) if n != i}
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
        example = example_weight(layer.grad_W, largest=True)
        said = self.said_parts(beat)
        bias = self.bias_gradient(step, i, example[0]) if "bias" in said else None
        # The panel is laid out before the numbers' journeys are drawn up (they start
        # and end where its pieces finally stand).
        meets = self.batch_gradient_meets if batch > 1 else self.gradient_meets
        below = [table, note] if bias is None else [table, bias, note]
        panel, meet, labels, extras = meets(i, example, labels, below)
        size = self.activation_on_edge(i, *example) if "size" in said else []
        extras += size[1:]
        old_edges = d.edges_image
        d.edges_image = weight_view
        first = meet[0] if meet else []
        self.run(
            [
                ([*intro, *header], 0.6),
                ([FadeIn(grad_view), FadeOut(old_edges), *first], 0.8, "gradients"),
                *meet[1:],
                ([FadeIn(labels), FadeIn(table)], 1.4, "table"),
                *(
                    [
                        (
                            seen(self.bias_arrives(bias, i, example[0])),
                            0.7,
                            "bias",
                        )
                    ]
                    if bias
                    else []
                ),
                (FadeIn(note), 0.5, "note"),
                *([(seen(size[0]), 0.7, "size")] if size else []),
                (None, 2.2),
                (
                    [FadeOut(labels), FadeOut(panel), FadeOut(grad_view), FadeIn(weight_view)]
                    + [FadeOut(m) for m in extras],
                    0.5,
                ),
            ]
        )

    def bias_gradient(self, step, i: int, j: int):
        """∂L/∂b = δ = its value, for unit j of layer i ("Each bias has a gradient too:
        the delta itself"; with a batch, the sum of the samples' deltas, each carrying
        the mean's 1/B): the formula and the number as two pieces (value_row), so that
        a single sample's number can leave the δ under the neuron."""
        me = unit_label(self.plan.trace, i + 1, j)
        delta = F.sub("delta", me) if len(step.samples) == 1 else F.sym("sum") + F.sub("delta", me)
        lhs = F.grad(F.var("L"), F.sub("b", me)) + F.lit("=") + delta + F.lit("=")
        return self.value_row(lhs, F.number(float(step.layers[i].grad_b[j]), self.digits))

    def bias_arrives(self, row, i: int, j: int) -> list:
        """The bias row written, its number flown from the δ label under the neuron (one
        sample: the label shows that very number)."""
        source = self.delta_labels.get((i + 1, j))
        if source is not None and len(self.step_of(self.current.beat).samples) == 1:
            number = self.fly_from(row[1], source.get_center(), source)
        else:
            number = FadeIn(row[1])
        return [Write(row[0]), number]

    def activation_on_edge(self, i: int, j: int, k: int) -> list:
        """ "A gradient is only as large as the activation on its edge": the input's value
        (else its neuron) outlined as a pulse runs along the example edge. Returns [the
        part's animations, then what leaves with the panel]."""
        d, t = self.diagram, self.theme
        assert d is not None
        if not (d.is_drawn(i, k) and d.is_drawn(i + 1, j)):
            return []
        value = d.value_labels.get((i, k))
        box = outline(value if value is not None else d.neuron(i, k), t)
        edge = d.edge(i, j, k, t.highlight, 8)
        return [[Create(box), ShowPassingFlash(edge, time_width=0.5)], box]

    def _example_edge(self, i: int, j: int, k: int, g: float, labels, first: list, drawn: bool):
        """The example edge lit (its Create joins ``first``) and its gradient label.

        The label is the one ``labels`` already has for that edge when every drawn edge
        has one (it is taken out of ``labels``), else a new one. Returns (label or None,
        the other labels, the lit edge in a list), for the single-sample and the batch
        gradient beats alike.
        """
        d, t = self.diagram, self.theme
        assert d is not None
        if not drawn:
            return None, labels, []
        # In a wide net, the text colour: the highlight's yellow is near the orange of a
        # negative weight, and no sign colour can be mistaken for it (the forward beat's).
        edge = d.edge(i, j, k, t.text if self.wide_net() else t.highlight, 4)
        first.append(Create(edge))
        pairs = [(jj, kk) for jj in d.drawn[i + 1] for kk in d.drawn[i]]
        if len(labels) == len(pairs):  # every drawn edge has its label
            label = labels[pairs.index((j, k))]
            return label, VGroup(*[m for m in labels if m is not label]), [edge]
        return self.edge_label(i, j, k, fmt(g, self.digits), t.gradient), labels, [edge]

    def gradient_meets(self, i: int, example: tuple[int, int], labels: VGroup, below: list):
        """δ and a meet to make ∂L/∂w, for the example weight of layer i.

        Returns the panel: the formula row ∂L/∂w = δ · a = 0.1385 · 0.5933 = 0.08217 over
        the pieces ``below`` (laid out first: the journeys end where they stand); the parts
        that build it (the first part's animations, then named parts: δ flies in from under
        its neuron, a from the neuron before, the product is written, and a copy of it
        lands on the edge as its label); the other edges' labels (shown with the table);
        and what to fade out at the end (the highlighted edge, the example's label).
        """
        step = self.step_of(self.current.beat)
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
        panel = self.column_stack([row, *below])
        drawn = (i, k) in d.positions and (i + 1, j) in d.positions
        first: list = [Write(row[0])]
        label, labels, extras = self._example_edge(i, j, k, g, labels, first, drawn)
        delta_at = self.delta_labels.get((i + 1, j))
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
        return panel, parts, labels, extras

    def batch_gradient_meets(self, i: int, example: tuple[int, int], labels: VGroup, below: list):
        """A batch's gradient for the example weight of layer i, as the engine computes it.

        Each sample's δ (the trace's, carrying the batch mean's 1/B) meets the input it
        carried; their products (``Step.gradient_terms``) fly into one sum, which is the
        mean of the samples' own gradients and the traced ∂L/∂w; a copy of it lands on
        the edge as its label. Sample 1's δ and a leave the labels that show them (under
        its neuron, in the input's neuron); the other samples' leave the neurons. A batch
        larger than four shows its three largest terms, and says so.

        Returns what :meth:`gradient_meets` returns: the panel (the block over
        ``below``), the parts (the first part's animations, then the named parts delta,
        input, product, mean and edge), the other edges' labels and what to fade out.
        """
        step = self.step_of(self.current.beat)
        t = self.theme
        d = self.diagram
        assert d is not None
        trace = self.plan.trace
        layer = step.layers[i]
        a_prev = step.a_prev(i)
        j, k = example
        me, src = unit_label(trace, i + 1, j), unit_label(trace, i, k)
        g = float(layer.grad_W[j, k])
        terms = step.gradient_terms(i, j, k)
        samples = shown_samples(terms)
        size = len(terms)
        head = self.math(
            F.grad(F.var("L"), F.sub("w", f"{me},{src}"))
            + F.lit("=")
            + F.sym("sum")
            + F.sub("delta", me)
            + F.sym("dot")
            + F.sub("a", src)
        )
        rows = [
            [
                f"sample {step.samples[s] + 1}",
                fmt(layer.delta[s, j], self.digits),
                fmt(a_prev[s, k], self.digits),
                fmt(terms[s], self.digits),
            ]
            for s in samples
        ]
        colors = [[None, t.gradient, None, t.gradient] for _ in samples]
        table = ValueTable(
            ["", f"δ {me}", f"a {src}", "δ · a"], rows, t, font_size=20, colors=colors
        )
        for row in table.rows[1:]:
            for cell in row:
                self._record(cell.text)
        total = self.text(fmt(g, self.digits), font_size=22, color=t.gradient)
        words = self.text(
            "sum: the mean of the samples' own ∂L/∂w"
            if size == len(samples)
            else f"sum over all {size}: the mean of their own ∂L/∂w",
            font_size=18,
            color=t.muted,
        )
        last = table.rows[-1]
        total.next_to(last, DOWN, buff=0.2)
        total.align_to(last[3], RIGHT)
        words.next_to(total, LEFT, buff=0.25)
        sum_line = VGroup(words, total)
        why = (
            f"the {len(samples)} largest of {size} samples; " if len(samples) < size else ""
        ) + f"each δ carries the batch mean's 1/{size}"
        caption = self.text(why, font_size=18, color=t.muted)
        block = VGroup(head, VGroup(table, sum_line), caption).arrange(
            DOWN, buff=0.18, aligned_edge=LEFT
        )
        panel = self.column_stack([block, *below], buff=0.22)
        drawn = d.is_drawn(i, k) and d.is_drawn(i + 1, j)
        first: list = [Write(head), *[FadeIn(m) for m in table.rows[0]]]
        first += [FadeIn(m) for m in table.submobjects if m not in table.rows]
        first += [FadeIn(row[0]) for row in table.rows[1:]]
        label, labels, extras = self._example_edge(i, j, k, g, labels, first, drawn)

        def arrive(piece, s: int, label_there, where):
            """From the label that shows sample 1's number, else from the neuron."""
            if s == 0 and label_there is not None:
                return self.fly_from(piece, label_there.get_center(), label_there)
            if where in d.positions:
                return self.fly_from(piece, d.positions[where])
            return FadeIn(piece)

        deltas = [
            arrive(row[1], s, self.delta_labels.get((i + 1, j)), (i + 1, j))
            for s, row in zip(samples, table.rows[1:], strict=True)
        ]
        inputs = [
            arrive(row[2], s, d.value_labels.get((i, k)), (i, k))
            for s, row in zip(samples, table.rows[1:], strict=True)
        ]
        products = [Write(row[3]) for row in table.rows[1:]]
        # Each product goes into the sum: one copy of the sum leaves each product's cell,
        # all land on the sum (the extra copies leave with the panel).
        copies = [total, *[total.copy() for _ in samples[1:]]]
        into_sum = [
            self.fly_from(c, row[3].get_center(), row[3])
            for c, row in zip(copies, table.rows[1:], strict=True)
        ]
        extras += copies[1:]
        parts = [
            first,
            (deltas, 0.7, "delta"),
            (inputs, 0.7, "input"),
            (products, 0.6, "product"),
            ([*into_sum, FadeIn(words), FadeIn(caption)], 0.8, "mean"),
        ]
        if label is not None:
            parts.append((self.fly_from(label, total.get_center(), total), 0.7, "edge"))
            extras.append(label)
        return panel, parts, labels, extras


def _box(m: Mobject) -> tuple[float, float, float, float]:
    """(left, right, bottom, top) of a mobject's bounding box."""
    return (m.get_left()[0], m.get_right()[0], m.get_bottom()[1], m.get_top()[1])


def _travel_cost(start, end, start_height: float, obstacles: list, samples: int = 8) -> float:
    """The area a number travelling from box ``start`` to box ``end`` shares with
    ``obstacles`` on the way (straight, as ``fly_from`` moves it, its size going from
    ``start_height`` high to ``end``'s), checked at ``samples`` + 1 points: 0 when clear.
    The start box itself (the tag) counts too."""
    cost = 0.0
    w1, h1 = end[1] - end[0], end[3] - end[2]
    h0 = start_height
    w0 = w1 * h0 / h1 if h1 > 0 else w1
    c0 = np.array([(start[0] + start[1]) / 2, (start[2] + start[3]) / 2])
    c1 = np.array([(end[0] + end[1]) / 2, (end[2] + end[3]) / 2])
    boxes = [start]
    for n in range(samples + 1):
        f = n / samples
        cx, cy = c0 + (c1 - c0) * f
        w, h = w0 + (w1 - w0) * f, h0 + (h1 - h0) * f
        boxes.append((cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2))
    for b in boxes:
        for o in obstacles:
            w = min(b[1], o[1]) - max(b[0], o[0])
            h = min(b[3], o[3]) - max(b[2], o[2])
            if w > 0 and h > 0:
                cost += w * h + 0.01
    return cost
