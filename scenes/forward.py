"""Forward beats: a neuron's equation fills in with the real numbers; a large layer as a strip."""

from __future__ import annotations

from typing import Any

import numpy as np
from manim import (
    DOWN,
    RIGHT,
    Animation,
    Create,
    FadeIn,
    FadeOut,
    Group,
    Mobject,
    ShowPassingFlash,
    TransformFromCopy,
    VGroup,
    Write,
)

from backprop_anim.numbers import fmt
from backprop_anim.storyboard import SHOWN_TERMS, Beat, largest_terms
from backprop_anim.visual import formula as F
from backprop_anim.visual.image import image_shape, receptive_field
from backprop_anim.visual.network import Region
from backprop_anim.visual.panels import ActivationPlot

from .base import PANEL_TOP, BeatScene, unit_label
from .pointers import layer_sweep

MAX_TERMS = SHOWN_TERMS  # terms of a weighted sum written out before "…"
MAX_EDGE_LABELS = 6
DIM = 0.2 / 0.9  # edge_raster draws at 0.9 opacity: the others at 0.2 at most


class ForwardBeats(BeatScene):
    def weighted_sum(self, beat: Beat, values: np.ndarray, shown: list[int]) -> F.Expr:
        """z_j = Σ w·a + b in symbols, over the ``shown`` terms (…: the others)."""
        step = self.step_of(beat)
        i, j = beat.layer, beat.unit
        trace = self.plan.trace
        me = unit_label(trace, i + 1, j)
        sym_terms = [
            F.sub("w", f"{me},{unit_label(trace, i, k)}")
            + F.sym("dot")
            + F.sub("a", unit_label(trace, i, k))
            for k in shown
        ]
        if step.layers[i].W.shape[1] > len(shown):
            sym_terms.append(F.sym("dots"))
        sym_terms.append(F.sub("b", me))
        return F.sub("z", me) + F.lit("=") + F.join(sym_terms, "+")

    def number_row(self, pieces: list[F.Expr]) -> VGroup:
        """A formula line as separate pieces (numbers and operators), so that each number
        can arrive on its own: a copy flies in from where the number lives."""
        mobs = [self.math(p) for p in pieces]
        row = VGroup(*mobs).arrange(RIGHT, buff=0.12)
        for mob in mobs:  # one baseline: centre operators, bottom-align numbers
            mob.set_y(row.get_y())
        return row

    def beat_forward_unit(self, beat: Beat) -> None:
        """One neuron's forward step, as the numbers travel.

        Each shown weight leaves its edge and each input value leaves its neuron (a copy
        moves; the original stays) to land as a term of z = Σ w·a + b, as the narration
        reads that term; a pulse runs along the edges into the neuron as it "adds up";
        the sum moves into the neuron; σ(z) lands on the activation plot and the value a
        flies into the neuron. Each part is named, and starts on the words that say it.
        """
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
        fan_in = layer.W.shape[1]
        shown = largest_terms(layer.W[j], prev, MAX_TERMS)
        # In a large net the edges of this neuron stand out of a tangle: every other edge
        # is dimmed to under 20 % and these are drawn in the text colour, which no
        # weight's sign colour (blue, orange) can be mistaken for. A layer drawn elided
        # (the digits' 16 hidden units as 6) is a tangle too, however few edges reach
        # this neuron: its 60 edges into the output stood bright around d0's six.
        wide = len(sources) > MAX_EDGE_LABELS or fan_in > len(sources)
        weights = [s.W for s in step.layers]
        undimmed = d.edges_image
        dimmed = (
            d.edge_raster(weights, alpha_by_layer=dict.fromkeys(range(len(weights)), DIM))
            if wide
            else None
        )
        focus_colour = t.text if wide else t.highlight
        edges = VGroup(*[d.edge(i, j, s, focus_colour, 3 if wide else 4) for s in sources])
        # Behind the neurons and their values, as the edge raster is (z -1): where eight
        # edges converge on h2_4 (one-layer-at-a-time) they struck through the hidden1
        # values written beside their neurons.
        edges.set_z_index(-1)
        labels = VGroup()
        label_at: dict[int, Mobject] = {}
        # Each weight on its edge, clear of the neurons, their values and the other
        # weights, or left out (it still travels from its edge): where six edges
        # converge on one output, labels at a fixed 30 % covered the hidden values.
        values = [v for (c, _), v in d.value_labels.items() if c in (i, i + 1)]
        if len(sources) <= MAX_EDGE_LABELS:
            for s in sources:
                text = self.edge_label(
                    i, j, s, fmt(layer.W[j, s], self.digits), t.highlight, [*values, *labels]
                )
                if text is not None:
                    labels.add(text)
                    label_at[s] = text
        eq_sym = self.math(self.weighted_sum(beat, prev, shown))
        # The numbers' line: = w·a + w·a (+ …) + b = z, each piece its own mobject.
        pieces: list[F.Expr] = [F.lit("=")]
        term_slots: list[tuple[int, int, int]] = []  # (source, weight piece, input piece)
        for n, k in enumerate(shown):
            if n:
                pieces.append(F.lit("+"))
            term_slots.append((k, len(pieces), len(pieces) + 2))
            pieces += [F.num(layer.W[j, k], self.digits), F.sym("dot"), F.num(prev[k], self.digits)]
        if fan_in > len(shown):
            pieces += [F.lit("+"), F.sym("dots")]
        pieces.append(F.lit("+"))
        bias_slot = len(pieces)
        pieces += [F.num(layer.b[j], self.digits), F.lit("=")]
        z_slot = len(pieces)
        pieces.append(F.number(z, self.digits))
        row = self.number_row(pieces)
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
                + F.number(a, self.digits)
            )
        else:
            eq_a = self.math(
                F.sub("a", me)
                + F.lit("=")
                + F.call(symbol, F.sub("z", me))
                + F.lit("=")
                + F.call(symbol, F.number(z, self.digits))
                + F.lit("=")
                + F.number(a, self.digits)
            )
        notes = []
        if fan_in > len(shown):
            notes.append(
                self.text(
                    f"the {len(shown)} largest of {fan_in} terms (by |w·a|); … the others",
                    font_size=20,
                    color=t.muted,
                )
            )
        if len(step.samples) > 1:
            notes.append(
                self.text(
                    f"first sample of a batch of {len(step.samples)}", font_size=20, color=t.muted
                )
            )
        items: list[Mobject] = [eq_sym, row, eq_a]
        plot = dot = point_label = None
        if act != "softmax":
            slope = float(trace.config["network"]["layers"][i].get("slope", 0.01))
            plot = ActivationPlot(act, t, z_values=[z], slope=slope)
            point_label = self.text(
                f"(z, a) = ({fmt(z, self.digits)}, {fmt(a, self.digits)})",
                font_size=20,
                color=t.highlight,
            )
            items += [plot, point_label]
        # Inputs that are a picture: the unit's weights into it, as a picture (its
        # receptive field), beside the plot; each term's numbers leave their squares.
        field = self.receptive_field(beat) if i == 0 else None
        if field is not None:
            if plot is not None:
                items.remove(plot)
                items.insert(items.index(point_label), Group(plot, field).arrange(RIGHT, buff=0.6))
            else:
                items.append(field)
        items += notes
        panel = self.column_stack(items, top=PANEL_TOP)
        if point_label is not None:
            panel.remove(point_label)
        # Where the weights' picture and the numbers on the edges are, and whether the
        # tangle steps back: for tests and other tools.
        where: dict[str, Any] = {
            "edge_labels": [self._box_px(label) for label in labels],
            "values": [self._box_px(v) for v in values],
            "dimmed": dimmed is not None,
        }
        if field is not None:
            where["receptive_field"] = self._box_px(field[0].image)
        self.plan.layout[beat.id] = where
        neuron_at = d.positions[(i + 1, j)]

        flying = self.fly_from
        parts: list = [
            ([*intro, *header], 0.8),
            # "The forward pass goes layer by layer": the layers light left to right.
            *(layer_sweep(self, "layers") if "layers" in self.said_parts(beat) else []),
            (
                # The dimmed raster first: at the same depth, what is added later is on top.
                ([FadeIn(dimmed), FadeOut(undimmed)] if dimmed is not None else [])
                + [Create(edges), FadeIn(labels), Write(eq_sym), FadeIn(row[0])],
                1.0,
                "sum",
            ),
            # The unit's weights as a picture, as its sentence says what the colours mean.
            *([(FadeIn(field), 0.5, "field")] if field is not None else []),
            (ShowPassingFlash(edges.copy().set_stroke(t.highlight, width=8), time_width=0.5), 0.6),
        ]
        marks = VGroup()  # outlines on the pixel and the weight of each term read
        for n, (k, w_at, a_at) in enumerate(term_slots):
            anims: list[Animation] = []
            if n:
                anims.append(FadeIn(row[w_at - 1]))  # the "+" before the term
            if field is not None and self.picture is not None:
                # A picture's pixel and its weight: both squares are marked, and the
                # numbers leave them.
                weights, pixels = field[0], self.picture
                marks.add(weights.cell_mark(k, t.highlight), pixels.cell_mark(k, t.highlight))
                anims += [
                    FadeIn(marks[-2]),
                    FadeIn(marks[-1]),
                    flying(row[w_at], weights.cell_centre(k)),
                    flying(row[a_at], pixels.cell_centre(k)),
                ]
            elif (i, k) in d.positions and (i + 1, j) in d.positions:
                label = label_at.get(k)
                w_from = label.get_center() if label is not None else d.edge_point(i, j, k, 0.3)
                anims.append(flying(row[w_at], w_from, label))
                anims.append(flying(row[a_at], d.positions[(i, k)], d.value_labels.get((i, k))))
            else:  # an input the diagram elides: the number appears where it is used
                anims += [FadeIn(row[w_at]), FadeIn(row[a_at])]
            anims.append(FadeIn(row[w_at + 1]))  # the dot
            parts.append((anims, 0.7, f"term{n + 1}"))
        last_term = term_slots[-1][2] if term_slots else 0
        rest = [FadeIn(m) for m in row[last_term + 1 : bias_slot]]  # (+ …) +
        parts.append(([*rest, flying(row[bias_slot], neuron_at)], 0.6, "bias"))
        parts.append(([FadeIn(row[z_slot - 1]), Write(row[z_slot])], 0.6, "z"))
        z_in_neuron = row[z_slot].copy().scale(0.8).move_to(neuron_at)
        parts.append((TransformFromCopy(row[z_slot], z_in_neuron), 0.5))
        parts.append((Write(eq_a), 1.0, "a"))
        if plot is not None:
            dot = plot.point(z, a)
            parts += [
                (FadeIn(plot), 0.5, "plot"),
                ([flying(dot, eq_a.get_right()), FadeIn(point_label)], 0.5),
            ]
        if notes:
            parts.append(([FadeIn(n) for n in notes], 0.3))
        lo, hi = self.activation_range(i, step)
        fill = self.fill_neuron(i + 1, j, a, lo, hi)
        new_value = d.value_labels[(i + 1, j)]
        a_end = eq_a.get_right() - np.array([new_value.width / 2, 0, 0])
        fill = [
            flying(new_value, a_end) if isinstance(an, FadeIn) and an.mobject is new_value else an
            for an in fill
        ] + [FadeOut(z_in_neuron)]
        parts += [
            (fill, 0.7, "neuron"),
            (None, 2.0),
            (
                [FadeOut(edges), FadeOut(labels), FadeOut(panel)]
                + ([FadeOut(marks)] if marks.submobjects else [])
                + ([FadeOut(dimmed), FadeIn(undimmed)] if dimmed is not None else [])
                + ([FadeOut(dot), FadeOut(point_label)] if dot is not None else []),
                0.5,
            ),
        ]
        self.run(parts)
        if dimmed is not None:
            d.edges_image = undimmed

    def receptive_field(self, beat: Beat) -> Group | None:
        """A first-layer unit's weights as the input picture (None if the inputs are not
        a picture): squares in the weight-sign colours, with a caption saying so."""
        shape = image_shape(self.plan.trace)
        if shape is None or self.diagram is None:
            return None
        step, j = self.step_of(beat), beat.unit
        assert j is not None
        me = unit_label(self.plan.trace, 1, j)
        side = 2.6
        box = Region(0.0, side * shape[1] / max(shape), 0.0, side * shape[0] / max(shape))
        picture = receptive_field(
            step.layers[0].W[j], shape, box, self.theme, self.diagram.px_per_unit
        )
        fan_in = step.layers[0].W.shape[1]
        caption = self.text(f"{me}'s {fan_in} weights", font_size=20, color=self.theme.muted)
        legend = VGroup(
            self.text("+", font_size=24, color=self.theme.positive),
            self.text("−", font_size=24, color=self.theme.negative),
        ).arrange(RIGHT, buff=0.25)
        return Group(picture, VGroup(caption, legend).arrange(RIGHT, buff=0.25)).arrange(
            DOWN, buff=0.15
        )

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
