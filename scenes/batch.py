"""The batch beat: each sample's own ∂L/∂w side by side, their mean, the update from it.

A batch of several samples (up to 8: the trace keeps their own gradients) trains on the
mean of their gradients. For the weight whose samples disagree most, the beat lists each
sample's gradient, the mean (the step's gradient) and the update made from it; then the
whole layer as rows of cells on one colour scale, one row per sample and the mean last,
so the disagreement and the averaging are seen for every weight at once.
"""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, FadeIn, FadeOut, Group, VGroup

from backprop_anim.numbers import fmt
from backprop_anim.storyboard import Beat, batch_weight
from backprop_anim.visual.matrix import heat_rows
from backprop_anim.visual.panels import ValueTable

from .base import BeatScene, unit_label


class BatchBeats(BeatScene):
    def beat_batch(self, beat: Beat) -> None:
        step = self.step_of(beat)
        t = self.theme
        trace = self.plan.trace
        i, j, k = batch_weight(step)
        layer = step.layers[i]
        per_sample = layer.grad_W_per_sample
        assert per_sample is not None
        own = per_sample[:, j, k]
        size = len(own)
        wname = f"{unit_label(trace, i + 1, j)} ← {unit_label(trace, i, k)}"
        intro = self.ensure_diagram(step)
        header = self.set_header(f"The batch · {size} samples · weight {wname}", "backward")
        rows, colors = [], []
        for s, g in enumerate(own):
            rows.append([f"sample {step.samples[s] + 1}", fmt(g, self.digits)])
            colors.append([None, t.positive if g >= 0 else t.negative])  # as the cells below
        rows.append(["mean", fmt(layer.grad_W[j, k], self.digits)])
        colors.append([t.highlight, t.highlight])
        table = ValueTable(["", "own ∂L/∂w"], rows, t, font_size=18, colors=colors)
        opt = trace.network.optimizer
        if layer.updated:
            how = (
                f"w − η · mean, η = {fmt(opt['learning_rate'], self.digits)}"
                if opt["name"] == "sgd" and not opt.get("weight_decay")
                else "the update uses the mean"
            )
            rule = self.text(
                f"w: {fmt(layer.W[j, k], self.digits)} → {fmt(layer.W_next[j, k], self.digits)}"
                f"  ({how})",
                font_size=20,
                color=t.highlight,
            )
        else:
            rule = self.text("this layer is not updated this step", font_size=20, color=t.frozen)
        flat = per_sample.reshape(size, -1)
        mean = layer.grad_W.reshape(1, -1)
        top = float(np.abs(flat).max()) or 1.0
        row_h = min(0.3, 2.0 / (size + 1))
        strips = heat_rows(flat, t, width=3.6, row_height=row_h, top=top)
        mean_strip = heat_rows(mean, t, width=3.6, row_height=row_h, top=top)
        mean_strip.next_to(strips, DOWN, buff=0.1)
        labels = VGroup(
            self.text(f"{size} samples", font_size=16, color=t.muted).next_to(
                strips, LEFT, buff=0.12
            ),
            self.text("mean", font_size=16, color=t.highlight).next_to(mean_strip, LEFT, buff=0.12),
        )
        caption = self.text(
            f"every weight of {trace.network.layer_names[i]}: one row per sample, the mean below",
            font_size=16,
            color=t.muted,
        )
        heat = Group(labels, strips, mean_strip)
        caption.next_to(heat, DOWN, buff=0.12, aligned_edge=LEFT)
        block = Group(heat, caption)
        legend = self.text(
            "blue: ∂L/∂w > 0, pulls w down · orange: < 0, pulls w up",
            font_size=16,
            color=t.muted,
        )
        top_row = VGroup(table, legend, rule).arrange(DOWN, buff=0.16, aligned_edge=LEFT)
        panel = self.column_stack([top_row, block], buff=0.3)
        self.run(
            [
                ([*intro, *header], 0.6),
                ([FadeIn(table, lag_ratio=0.1), FadeIn(legend)], 1.6),
                (FadeIn(rule), 0.6),
                (FadeIn(block), 1.0),
                (None, 2.4),
                (FadeOut(panel), 0.5),
            ]
        )
