"""Loss beat: each output against its target, each output's share, and the total."""

from __future__ import annotations

from manim import Create, FadeIn, FadeOut, VGroup, Write

from backprop_anim.numbers import fmt
from backprop_anim.storyboard import Beat
from backprop_anim.visual import equations
from backprop_anim.visual.panels import ValueTable

from .base import BeatScene
from .pointers import first_line, layer_boxes, outline, seen

MAX_ROWS = 10


class LossBeats(BeatScene):
    def beat_loss(self, beat: Beat) -> None:
        step = self.step_of(beat)
        t = self.theme
        trace = self.plan.trace
        info = trace.network
        out_names = info.unit_names[-1]
        a = step.layers[-1].a
        terms = step.loss_terms.sum(axis=0)  # each output's share of the batch loss
        intro = self.ensure_diagram(step)
        header = self.set_header(f"Loss · {info.loss.replace('_', ' ')}", "loss")
        order = list(range(len(out_names)))
        if len(order) > MAX_ROWS:
            order = sorted(sorted(order, key=lambda k: -terms[k])[:MAX_ROWS])
        batch = len(step.samples)
        if batch == 1:
            header_row = ["output", "target y", "output a", "error a − y", "share of L"]
            rows = [
                [
                    out_names[k],
                    fmt(step.y[0, k], self.digits),
                    fmt(a[0, k], self.digits),
                    fmt(a[0, k] - step.y[0, k], self.digits),
                    fmt(terms[k], self.digits),
                ]
                for k in order
            ]
        else:
            header_row = ["output", f"share of L (batch of {batch})"]
            rows = [[out_names[k], fmt(terms[k], self.digits)] for k in order]
        table = ValueTable(header_row, rows, t, font_size=22)
        eq = self.math(equations.loss(trace, step, self.digits, shown=order))
        note_text = "each output adds its own share of the loss"
        if batch > 1:
            note_text = f"the loss is averaged over the batch of {batch} samples"
        note = self.text(note_text, font_size=22, color=t.muted)
        panel = self.column_stack([table, eq, note])
        out_col = len(info.unit_names)
        # Each output's value leaves its neuron for the table; the error and the share
        # are then worked out beside it.
        table_in, later = [], []
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row):
                k = order[r - 1] if r else None
                if r and batch == 1 and c == 2 and self.diagram.is_drawn(out_col, k):
                    where = self.diagram.positions[(out_col, k)]
                    table_in.append(
                        self.fly_from(cell, where, self.diagram.value_labels.get((out_col, k)))
                    )
                elif r and batch == 1 and c >= 3:
                    later.append(cell)
                else:
                    table_in.append(FadeIn(cell))
        # The detailed words read the formula first ("half the sum, over the outputs, of
        # ..."): its first line is written as they say it, the numbers after the table.
        said = self.said_parts(beat)
        symbols, numbers = first_line(eq) if "words" in said else (VGroup(), eq)
        # "The output layer is linear": the output layer's caption says so.
        linear = VGroup()
        if "linear" in said:
            linear.add(outline(self.diagram.captions[-1], t), *layer_boxes(self.diagram, t)[-1:])
        self.run(
            [
                ([*intro, *header], 0.6),
                (
                    [
                        self.diagram.neuron(out_col, k)
                        .animate.set_stroke(t.highlight, width=4)
                        .build()
                        for k in self.diagram.drawn[out_col]
                    ],
                    0.5,
                    "outputs",
                ),
                *([(seen(Write(symbols), 1.0), 1.0, "words")] if len(symbols) else []),
                (table_in, 1.2, "table"),
                ([FadeIn(c) for c in later], 0.6),
                (Write(numbers), 1.4, "formula"),
                (FadeIn(note), 0.4),
                *([(seen(Create(linear)), 0.5, "linear")] if len(linear) else []),
                (None, 2.0),
                (
                    [FadeOut(panel)]
                    + ([FadeOut(linear)] if len(linear) else [])
                    + [
                        self.diagram.neuron(out_col, k)
                        .animate.set_stroke(t.neuron_stroke, width=2)
                        .build()
                        for k in self.diagram.drawn[out_col]
                    ],
                    0.5,
                ),
            ]
        )
