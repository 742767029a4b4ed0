"""Update beats: w⁺ = w − η·∂L/∂w with numbers, edges changing, and |Δw| ranked."""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, FadeIn, FadeOut, VGroup, Write

from backprop_anim.numbers import fmt
from backprop_anim.storyboard import Beat
from backprop_anim.visual import formula as F
from backprop_anim.visual.panels import RankingBars, ValueTable

from .base import BeatScene, unit_label

MAX_ROWS = 9
MAX_BARS = 10


class UpdateBeats(BeatScene):
    def update_rule(self) -> F.Expr:
        opt = self.plan.trace.network.optimizer
        w, g = F.var("w"), F.grad(F.var("L"), F.var("w"))
        eta = F.sym("eta")
        if opt["name"] == "momentum":
            return (
                F.sup(F.var("v"), "+")
                + F.lit("=")
                + F.sym("mu")
                + F.Expr(" v", " v")
                + F.lit("+")
                + g
                + F.Expr(", quad ", r",\quad ")
                + F.sup(w, "+")
                + F.lit("=")
                + w
                + F.lit("-")
                + eta
                + F.Expr(" ", " ")
                + F.sup(F.var("v"), "+")
            )
        if opt["name"] == "adam":
            return (
                F.sup(w, "+")
                + F.lit("=")
                + w
                + F.lit("-")
                + eta
                + F.Expr(" ", " ")
                + F.frac(
                    F.Expr("hat(m)", r"\hat m"),
                    F.Expr("sqrt(hat(v)) + epsilon", r"\sqrt{\hat v}+\epsilon"),
                )
            )
        return F.sup(w, "+") + F.lit("=") + w + F.lit("-") + eta + F.sym("dot") + g

    def beat_update(self, beat: Beat) -> None:
        step = self.step_of(beat)
        t = self.theme
        trace = self.plan.trace
        opt = trace.network.optimizer
        i = beat.layer
        assert i is not None
        layer = step.layers[i]
        name = trace.network.layer_names[i]
        intro = self.ensure_diagram(step)
        rule = {"sgd": "w⁺ = w − η · ∂L/∂w", "momentum": "momentum", "adam": "Adam"}[opt["name"]]
        header = self.set_header(f"Update · {name} · {rule}", "update")
        d = self.diagram
        assert d is not None
        eta = fmt(opt["learning_rate"], self.digits)
        eq = self.math(
            self.update_rule() + F.Expr(",  ", ",  ") + F.sym("eta") + F.lit("=") + F.Expr(eta, eta)
        )
        dw = layer.delta_W
        pairs = [(j, k) for j in range(layer.W.shape[0]) for k in range(layer.W.shape[1])]
        if len(pairs) > MAX_ROWS:
            pairs = sorted(sorted(pairs, key=lambda p: -abs(dw[p]))[:MAX_ROWS])
        state_cols: list[str] = []
        if opt["name"] == "momentum":
            state_cols = ["velocity"]
        elif opt["name"] == "adam":
            state_cols = ["m_hat", "v_hat"]
        header_row = ["weight", "w", "∂L/∂w", *[c.replace("_hat", "̂") for c in state_cols], "w⁺"]
        rows, colors = [], []
        for j, k in pairs:
            moved = dw[j, k] != 0.0
            rows.append(
                [
                    f"{unit_label(trace, i + 1, j)} ← {unit_label(trace, i, k)}",
                    fmt(layer.W[j, k], self.digits),
                    fmt(layer.grad_W[j, k], self.digits),
                    *[
                        fmt(layer.state[c][j, k], self.digits)
                        for c in state_cols
                        if c in layer.state
                    ],
                    fmt(layer.W_next[j, k], self.digits),
                ]
            )
            colors.append([None] * (len(rows[-1]) - 1) + [t.highlight if moved else t.frozen])
        table = ValueTable(header_row, rows, t, font_size=20, colors=colors)
        if not layer.updated:
            text = (
                f"this layer is not updated: {layer.update_reason}; "
                "its gradients were computed anyway"
            )
        else:
            moved = int(np.sum(dw != 0.0))
            text = (
                f"{moved} of {dw.size} weights move, each by its own amount"
                if moved < dw.size
                else (
                    "its one weight moves"
                    if dw.size == 1
                    else f"all {dw.size} weights move, each by its own amount"
                )
            )
            if not layer.biases_updated:
                text += "; biases stay (update_biases: false)"
        note = self.paragraph(text, font_size=20, color=t.muted)
        panel = self.column_stack([eq, table, note])
        weights_after = [s.W_next if idx <= i else s.W for idx, s in enumerate(step.layers)]
        still = [
            self.not_moving.get(n, np.zeros_like(s.W, dtype=bool))
            for n, s in enumerate(step.layers)
        ]
        still[i] = dw == 0.0
        new_edges = d.edge_raster(weights_after, still=still)
        old_edges = d.edges_image
        d.edges_image = new_edges
        self.run(
            [
                ([*intro, *header], 0.6),
                (Write(eq), 1.0, "rule"),
                (FadeIn(table), 1.2, "table"),
                ([FadeIn(new_edges), FadeOut(old_edges)], 1.2, "edges"),
                (FadeIn(note), 0.4, "note"),
                (None, 2.0),
                (FadeOut(panel), 0.5),
            ]
        )

    def beat_update_ranking(self, beat: Beat) -> None:
        step = self.step_of(beat)
        t = self.theme
        trace = self.plan.trace
        intro = self.ensure_diagram(step)
        header = self.set_header("Update · which weights moved, and by how much", "update")
        entries = []
        for i, layer in enumerate(step.layers):
            dw = layer.delta_W
            for j in range(dw.shape[0]):
                for k in range(dw.shape[1]):
                    entries.append(
                        (
                            abs(float(dw[j, k])),
                            float(dw[j, k]),
                            f"{unit_label(trace, i + 1, j)} ← {unit_label(trace, i, k)}",
                        )
                    )
        entries.sort(key=lambda e: -e[0])
        shown = entries[:MAX_BARS]
        zeros = [e for e in entries if e[0] == 0.0]
        if zeros and all(e[0] > 0 for e in shown):
            shown = shown[: MAX_BARS - 1] + zeros[:1]
        bars = RankingBars(
            [e[2] for e in shown],
            [e[0] for e in shown],
            [e[1] for e in shown],
            t,
            digits=self.digits,
            row_height=0.36,
        )
        # Two short lines, not one long one: a line wider than the panel would make the
        # whole stack, bars included, shrink to fit.
        title = VGroup(
            self.text("|Δw| = |w⁺ − w|, largest first", font_size=22, color=t.muted),
            self.text("blue: w grew · orange: w shrank", font_size=20, color=t.muted),
        ).arrange(DOWN, buff=0.1, aligned_edge=LEFT)
        n_zero = len(zeros)
        summary = (
            f"{len(entries) - n_zero} of {len(entries)} weights moved; {n_zero} did not"
            if n_zero
            else (
                "the one weight moved"
                if len(entries) == 1
                else f"all {len(entries)} weights moved, by different amounts"
            )
        )
        note = self.paragraph(summary, font_size=20, color=t.muted)
        panel = self.column_stack([title, bars, note])
        self.run(
            [
                ([*intro, *header], 0.6),
                (FadeIn(title), 0.4, "title"),
                (FadeIn(bars, lag_ratio=0.15), 1.6, "bars"),
                (FadeIn(note), 0.4, "note"),
                (None, 2.0),
                (FadeOut(panel), 0.5),
            ]
        )
