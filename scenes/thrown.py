"""The gradients a step computed and threw away (a layer not updated this step).

With ``update: random_layer`` (or a frozen layer) the backward pass still computes every
layer's gradients, because the chain rule passes through them to reach the layers before.
This beat lists, per layer, how many weight gradients were computed, how large they
were, and whether they were applied or thrown away, so the cost that the overview
measures over the whole training is visible in one step.
"""

from __future__ import annotations

import numpy as np
from manim import Create, FadeIn, FadeOut, Line

from backprop_anim.narration.thrown import largest_gradient
from backprop_anim.numbers import fmt
from backprop_anim.storyboard import Beat
from backprop_anim.visual.panels import ValueTable

from .base import BeatScene


class ThrownBeats(BeatScene):
    def beat_update_thrown(self, beat: Beat) -> None:
        step = self.step_of(beat)
        t = self.theme
        trace = self.plan.trace
        intro = self.ensure_diagram(step)
        header = self.set_header("Update · gradients applied, and thrown away", "update")
        rows, colors = [], []
        for i, layer in enumerate(step.layers):
            rows.append(
                [
                    trace.network.layer_names[i],
                    str(layer.grad_W.size),
                    fmt(largest_gradient(layer.grad_W), self.digits),
                    "applied" if layer.updated else "thrown away",
                ]
            )
            colors.append([None, None, t.gradient, t.highlight if layer.updated else t.frozen])
        table = ValueTable(
            ["layer", "computed", "largest ∂L/∂w", ""],
            rows,
            t,
            font_size=22,
            colors=colors,
        )
        for row in table.rows[1:]:
            for cell in row:
                self._record(cell.text)
        computed = sum(layer.grad_W.size for layer in step.layers)
        used = sum(layer.grad_W.size for layer in step.layers if layer.updated)
        note = self.paragraph(
            f"{computed - used} of the {computed} weight gradients this backward pass "
            "computed were not applied: the chain rule needed them to reach the layers "
            "before, and then they were thrown away",
            font_size=22,
            color=t.muted,
        )
        panel = self.column_stack([table, note])
        d = self.diagram
        assert d is not None
        # Computed: each layer's largest gradient leaves its edge (where the backward pass
        # computed it) for the table; the rest of the row comes in with it.
        computed_in = [FadeIn(m) for m in table.rows[0]]
        computed_in += [FadeIn(m) for m in table.submobjects if m not in table.rows]
        for i, layer in enumerate(step.layers):
            row = table.rows[i + 1]
            computed_in += [FadeIn(row[c]) for c in range(2)]
            j, k = (
                int(v)
                for v in np.unravel_index(int(np.argmax(np.abs(layer.grad_W))), layer.grad_W.shape)
            )
            if d.is_drawn(i, k) and d.is_drawn(i + 1, j):
                computed_in.append(self.fly_from(row[2], d.edge_point(i, j, k, 0.5)))
            else:
                computed_in.append(FadeIn(row[2]))
        applied = [i for i, layer in enumerate(step.layers) if layer.updated]
        thrown = [i for i, layer in enumerate(step.layers) if not layer.updated]
        applied_in = [FadeIn(table.rows[i + 1][3]) for i in applied]
        # Thrown away: the numbers drop out of their row, leaving grey, struck-through ghosts.
        dropped = []
        for i in thrown:
            row = table.rows[i + 1]
            dropped.append(FadeIn(row[3]))
            dropped.append(FadeOut(row[2].copy(), shift=[0, -0.45, 0]))
            dropped.append(row[2].animate.set_color(t.frozen))
            strike = Line(
                row[2].get_left() - [0.05, 0, 0],
                row[2].get_right() + np.array([0.05, 0, 0]),
                color=t.frozen,
                stroke_width=2,
            )
            table.add(strike)
            dropped.append(Create(strike))
        self.run(
            [
                ([*intro, *header], 0.6),
                (computed_in, 1.4, "computed"),
                (applied_in or [], 0.6, "applied"),
                (dropped, 1.0, "thrown"),
                (FadeIn(note), 0.6, "cost"),
                (None, 2.2),
                (self.clear_panel(panel), 0.5),
            ]
        )
