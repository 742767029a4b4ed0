"""The batch beat: each sample's own ∂L/∂w side by side, their mean, the update from it.

A batch of several samples (up to 8: the trace keeps their own gradients) trains on the
mean of their gradients. For the weight whose samples disagree most, the beat lists each
sample's gradient, the mean (the step's gradient) and the update made from it; then the
whole layer as rows of cells on one colour scale, one row per sample and the mean last,
so the disagreement and the averaging are seen for every weight at once.
"""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, RIGHT, Create, FadeIn, FadeOut, Group, VGroup

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
        table = ValueTable(["", "own ∂L/∂w"], rows, t, font_size=20, colors=colors)
        for row in table.rows[1:]:
            for cell in row:
                self._record(cell.text)
        mean_cell = table.rows[-1][1]
        opt = trace.network.optimizer
        # The update written with the mean in it, so the mean can travel into it.
        if layer.updated:
            plain = opt["name"] == "sgd" and not opt.get("weight_decay")
            pieces = (
                [
                    f"w⁺ = {fmt(layer.W[j, k], self.digits)} − "
                    f"{fmt(opt['learning_rate'], self.digits)} ·",
                    fmt(layer.grad_W[j, k], self.digits),
                    f"= {fmt(layer.W_next[j, k], self.digits)}",
                ]
                if plain
                else [
                    "from the mean",
                    fmt(layer.grad_W[j, k], self.digits),
                    f"{opt['name']}: w {fmt(layer.W[j, k], self.digits)} → "
                    f"{fmt(layer.W_next[j, k], self.digits)}",
                ]
            )
            rule = VGroup(
                *[
                    self.text(p, font_size=22, color=t.highlight if n == 1 else t.text)
                    for n, p in enumerate(pieces)
                ]
            ).arrange(RIGHT, buff=0.12)
            mean_slot = rule[1]
        else:
            rule = VGroup(
                self.text("this layer is not updated this step", font_size=20, color=t.frozen)
            )
            mean_slot = None
        flat = per_sample.reshape(size, -1)
        mean = layer.grad_W.reshape(1, -1)
        top = float(np.abs(flat).max()) or 1.0
        row_h = min(0.3, 2.0 / (size + 1))
        strips = heat_rows(flat, t, width=3.6, row_height=row_h, top=top)
        mean_strip = heat_rows(mean, t, width=3.6, row_height=row_h, top=top)
        mean_strip.next_to(strips, DOWN, buff=0.1)
        labels = VGroup(
            self.text(f"{size} samples", font_size=18, color=t.muted).next_to(
                strips, LEFT, buff=0.12
            ),
            self.text("mean", font_size=18, color=t.highlight).next_to(mean_strip, LEFT, buff=0.12),
        )
        caption = self.text(
            f"every weight of {trace.network.layer_names[i]}: a row per sample, the mean below",
            font_size=18,
            color=t.muted,
        )
        heat = Group(labels, strips, mean_strip)
        caption.next_to(heat, DOWN, buff=0.12, aligned_edge=LEFT)
        block = Group(heat, caption)
        legend = self.text(
            "blue: ∂L/∂w > 0, pulls w down · orange: < 0, pulls w up",
            font_size=18,
            color=t.muted,
        )
        top_row = VGroup(table, legend, rule).arrange(DOWN, buff=0.16, aligned_edge=LEFT)
        panel = self.column_stack([top_row, block], buff=0.3)
        # The weight's edge, where its gradient lives.
        d = self.diagram
        assert d is not None
        edge = VGroup()
        if d.is_drawn(i, k) and d.is_drawn(i + 1, j):
            edge = VGroup(d.edge(i, j, k, t.highlight, 6))
        # Each sample's number goes into the mean: one copy of the mean leaves each sample's
        # cell and all land on the mean's cell (the extra copies leave with the panel).
        into_mean = [mean_cell, *[mean_cell.copy() for _ in own[1:]]]
        samples_in = [FadeIn(m) for row in table.rows[:-1] for m in row]
        samples_in += [FadeIn(m) for m in table.submobjects if m not in table.rows]
        means = [
            self.fly_from(copy, table.rows[s + 1][1].get_center(), table.rows[s + 1][1])
            for s, copy in enumerate(into_mean)
        ]
        update = [FadeIn(m) for m in rule if m is not mean_slot]
        update += [FadeOut(m) for m in into_mean[1:]]  # the copies, one number again
        if mean_slot is not None:
            update.append(self.fly_from(mean_slot, mean_cell.get_center(), mean_cell))
        self.run(
            [
                ([*intro, *header], 0.6),
                ([*samples_in, *([Create(edge)] if len(edge) else [])], 1.4, "samples"),
                (FadeIn(legend), 0.6, "signs"),
                ([FadeIn(table.rows[-1][0]), *means], 1.0, "mean"),
                (update, 0.8, "update"),
                (FadeIn(block), 1.0, "strip"),
                (None, 2.4),
                (self.clear_panel(panel, edge), 0.5),
            ]
        )
