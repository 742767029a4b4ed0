"""The gradients a step computed and threw away (a layer not updated this step).

With ``update: random_layer`` (or a frozen layer) the backward pass still computes every
layer's gradients, because the chain rule passes through them to reach the layers before.
This beat lists, per layer, how many weight gradients were computed, how large they
were, and whether they were applied or thrown away, so the cost that the overview
measures over the whole training is visible in one step.
"""

from __future__ import annotations

from manim import FadeIn, FadeOut

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
            applied = layer.updated
            rows.append(
                [
                    trace.network.layer_names[i],
                    str(layer.grad_W.size),
                    fmt(trace.summary.grad_norms[step.step][i], self.digits),
                    fmt(largest_gradient(layer.grad_W), self.digits),
                    "applied" if applied else "thrown away",
                ]
            )
            colors.append([None, None, None, None, t.highlight if applied else t.frozen])
        table = ValueTable(
            ["layer", "computed", "‖∂L/∂W‖", "largest ∂L/∂w", ""],
            rows,
            t,
            font_size=19,
            colors=colors,
        )
        computed = sum(layer.grad_W.size for layer in step.layers)
        used = sum(layer.grad_W.size for layer in step.layers if layer.updated)
        note = self.paragraph(
            f"{computed - used} of the {computed} weight gradients this backward pass "
            "computed were not applied: the chain rule needed them to reach the layers "
            "before, and then they were thrown away",
            font_size=19,
            color=t.muted,
        )
        panel = self.column_stack([table, note])
        self.run(
            [
                ([*intro, *header], 0.6),
                (FadeIn(table, lag_ratio=0.1), 1.6),
                (FadeIn(note), 0.6),
                (None, 2.2),
                (FadeOut(panel), 0.5),
            ]
        )
