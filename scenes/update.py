"""Update beats: w⁺ = w − η·∂L/∂w with numbers, edges changing, and |Δw| ranked."""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Create,
    FadeIn,
    FadeOut,
    Group,
    ShowPassingFlash,
    SurroundingRectangle,
    VGroup,
    Write,
)

from backprop_anim.numbers import fmt
from backprop_anim.storyboard import Beat, example_weight
from backprop_anim.trace.model import LayerStep
from backprop_anim.visual import equations
from backprop_anim.visual import formula as F
from backprop_anim.visual.image import image_shape, receptive_field
from backprop_anim.visual.moves import MovePartsBars
from backprop_anim.visual.network import Region
from backprop_anim.visual.panels import RankingBars, ValueTable, baseline, stand_on
from backprop_anim.visual.placement import crosses, place_together

from .base import BeatScene, unit_label
from .pointers import glyphs_below, layer_sweep, outline, seen

MAX_ROWS = 9
MAX_EDGE_LABELS = 12  # a layer with more edges labels its example only
MAX_BARS = 10


def decay_split(trace, step, where: list[tuple[int, int, int]]):
    """(from the gradient, from the weight) of the weights at ``where``, or None without
    weight decay: the ranking then shows |Δw| alone."""
    opt = trace.network.optimizer
    if not opt.get("weight_decay"):
        return None
    parts = [layer.move_parts(opt) for layer in step.layers]
    return (
        [float(parts[i][0][j, k]) for i, j, k in where],
        [float(parts[i][1][j, k]) for i, j, k in where],
    )


class UpdateBeats(BeatScene):
    def update_rule(self) -> F.Expr:
        """The optimizer's rule (visual.equations: one place for the scenes and the explore
        page); with weight decay, the term λw of the weight itself."""
        return equations.update_rule(self.plan.trace.network.optimizer)

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
        lam = opt.get("weight_decay")
        if lam:
            rule = "w⁺ = w − η(∂L/∂w + λw)" if opt["name"] == "sgd" else f"{rule} + decay"
        header = self.set_header(f"Update · {name} · {rule}", "update")
        d = self.diagram
        assert d is not None
        eta = fmt(opt["learning_rate"], self.digits)
        values = F.sym("eta") + F.lit("=") + F.Expr(eta, eta)
        if lam:
            lam_text = fmt(lam, self.digits)
            values = values + F.Expr(",  ", ",  ") + F.sym("lambda") + F.lit("=")
            values = values + F.Expr(lam_text, lam_text)
        # The rule and its values in two pieces, so that a sentence can point at either
        # (Adam's step m̂ / (√v̂ + ε) a piece of its own: its words name its terms).
        said = self.said_parts(beat)
        adam_step = None
        if opt["name"] == "adam" and {"hat", "scale"} & said:
            rule_mob = self.value_row(*equations.adam_rule(opt))
            adam_step = rule_mob[1]
        else:
            rule_mob = self.math(self.update_rule())
        values_mob = self.math(values)
        eq = VGroup(rule_mob, values_mob).arrange(RIGHT, buff=0.45)
        values_mob.set_y(rule_mob.get_y())
        dw = layer.delta_W
        pairs = [(j, k) for j in range(layer.W.shape[0]) for k in range(layer.W.shape[1])]
        if len(pairs) > MAX_ROWS:
            pairs = sorted(sorted(pairs, key=lambda p: -abs(dw[p]))[:MAX_ROWS])
        state_cols: list[str] = []
        if opt["name"] == "momentum":
            state_cols = ["velocity"]
        elif opt["name"] == "adam":
            state_cols = ["m_hat", "v_hat"]
        if "decay" in layer.state:
            state_cols.append("decay")
        names = {"m_hat": "m̂", "v_hat": "v̂", "decay": "λw"}
        header_row = ["weight", "w", "∂L/∂w", *[names.get(c, c) for c in state_cols], "w⁺"]
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
        # Inputs that are a picture: the example unit's weights, before, change, after.
        field = self.weights_picture(layer, example_weight(dw)[0]) if i == 0 else None
        panel = self.column_stack([eq, table, note] + ([field] if field is not None else []))
        if field is not None:  # where the pictures are, for tests and other tools
            self.plan.layout[beat.id] = {
                f"field_{n}": self._box_px(pic.image)
                for n, pic in zip(("before", "delta", "after"), field.pictures, strict=True)
            }
        weights_after = [s.W_next if idx <= i else s.W for idx, s in enumerate(step.layers)]
        still = [
            self.not_moving.get(n, np.zeros_like(s.W, dtype=bool))
            for n, s in enumerate(step.layers)
        ]
        still[i] = dw == 0.0
        new_edges = d.edge_raster(weights_after, still=still)
        old_edges = d.edges_image
        d.edges_image = new_edges
        # The example weight changes first, as its sentence says its new value: w⁺ leaves
        # the table and lands on its edge over w, and that edge alone re-thickens; then
        # every other shown edge's label and line change.
        j, k = example_weight(dw)
        with_example = [w.copy() for w in weights_after]
        with_example[i] = layer.W.copy()
        with_example[i][j, k] = layer.W_next[j, k]
        mid_edges = d.edge_raster(with_example, still=still)
        before, after = self.weight_labels(i, layer.W, layer.W_next, (j, k))
        # What each edge's label says before and after, and where (tests read it back).
        self.plan.layout.setdefault(beat.id, {})["edge_labels"] = {
            f"{p[0]},{p[1]}": {
                "before": fmt(layer.W[p], self.digits),
                "after": fmt(layer.W_next[p], self.digits),
                "box": self._box_px(after[p]),
            }
            for p in after
        }
        example_old = before.pop((j, k), None)
        example_new = after.pop((j, k), None)
        weight_change: list = [FadeIn(mid_edges), FadeOut(old_edges)]
        if example_new is not None:
            cell = table.rows[1 + pairs.index((j, k))][-1] if (j, k) in pairs else None
            source = cell.get_center() if cell is not None else eq.get_center()
            weight_change += [self.fly_from(example_new, source, cell)]
            if example_old is not None:
                weight_change.append(FadeOut(example_old))
        others_old, others_new = VGroup(*before.values()), VGroup(*after.values())
        shown_old = [FadeIn(others_old)] + ([FadeIn(example_old)] if example_old else [])
        # Then every other edge at once, as the sentence says they move too: each w⁺
        # leaves its row of the table (if the table lists it) and replaces w on its edge.
        change_others: list = [FadeOut(others_old)]
        for p, label in after.items():
            if p in pairs:
                cell = table.rows[1 + pairs.index(p)][-1]
                change_others.append(self.fly_from(label, cell.get_center(), cell))
            else:
                change_others.append(FadeIn(label))
        # The other moving edges light up as the words say they move, a flash that runs
        # along each into its unit and leaves the re-drawn edge: where labels could not
        # all be placed (the textbook's crossing output edges), their lines re-thicken by
        # less than a pixel and the sentence pointed at an unchanged picture.
        moving = [
            (u, src)
            for u in d.drawn[i + 1]
            for src in d.drawn[i]
            if (u, src) != (j, k) and dw[u, src] != 0.0
        ]
        if moving:
            lit = VGroup(*[d.edge(i, u, src, t.highlight, 6) for u, src in moving])
            lit.set_z_index(-1)  # under the neurons and their values, as the edges are
            change_others.append(ShowPassingFlash(lit, time_width=0.6))
        edges_weight = 2.0 if moving else 1.0
        leave = [FadeOut(panel), FadeOut(others_new)]
        leave += [FadeOut(example_new)] if example_new else []
        # Where the detailed words explain the rule: its minus sign, then the learning rate.
        pointers: list = []
        boxes: list = []
        for part, mob in (("downhill", rule_mob), ("rate", values_mob)):
            if part in said:
                box = SurroundingRectangle(mob, color=t.highlight, buff=0.06)
                pointers.append(
                    ([Create(box)] + ([FadeOut(boxes[-1])] if boxes else []), 0.5, part)
                )
                boxes.append(box)
        leave += [FadeOut(boxes[-1])] if boxes else []
        # The first update's detailed words: every gradient is known (the edges drawn as
        # their gradients), the layers are updated in network order (lit left to right).
        first = []
        if "known" in said:
            gradients = d.edge_raster(
                [s.grad_W for s in step.layers],
                color_by_layer=dict.fromkeys(range(len(step.layers)), t.gradient),
            )
            first.append(
                (
                    seen([FadeIn(gradients), FadeOut(old_edges)]),
                    0.6,
                    "known",
                )
            )
            back = [FadeOut(gradients), FadeIn(old_edges)]
            if "layers" in said:
                first += layer_sweep(self, "layers", then=back)
            else:
                first.append((back, 0.3))
        elif "layers" in said:
            first = layer_sweep(self, "layers")
        # Adam's step: m̂ and v̂ as "correcting both" names them, then the denominator
        # √v̂ and the learning rate as "dividing by the square root of v" says why.
        hat = scale = VGroup()
        if adam_step is not None:
            bar = adam_step.get_center()[1]
            below = glyphs_below(adam_step, bar - 0.05)
            glyphs = adam_step.family_members_with_points()
            above = VGroup(*[g for g in glyphs if g.get_center()[1] > bar + 0.05])
            # Tight boxes: the fraction stands a thin space from η, which must stay clear.
            if "hat" in said:
                hat = VGroup(*[outline(m, t, buff=0.03) for m in (above, below) if len(m)])
            if "scale" in said:
                scale = VGroup(
                    outline(below if len(below) else adam_step, t, buff=0.03),
                    outline(values_mob, t),
                )
        self.run(
            [
                ([*intro, *header], 0.6),
                *first,
                (Write(eq), 1.0, "rule"),
                *([(seen(Create(hat)), 0.5, "hat")] if len(hat) else []),
                ([FadeIn(table), *shown_old] + ([FadeOut(hat)] if len(hat) else []), 1.2, "table"),
                (weight_change, 0.8, "weight"),
                *([(seen(Create(scale)), 0.5, "scale")] if len(scale) else []),
                (
                    [*change_others, FadeIn(new_edges), FadeOut(mid_edges)]
                    + ([FadeOut(scale)] if len(scale) else []),
                    edges_weight,  # a flash long enough to follow
                    "edges",
                ),
                *([(FadeIn(field), 0.8, "field")] if field is not None else []),
                (FadeIn(note), 0.4, "note"),
                *pointers,
                (None, 2.0),
                (leave, 0.5),
            ]
        )

    def weight_labels(
        self, i: int, before: np.ndarray, after: np.ndarray, example: tuple[int, int]
    ) -> tuple[dict, dict]:
        """Labels w and w⁺ on the drawn edges of layer i, by (unit, input).

        Every edge of the layer gets both when there are few edges and the labels can be
        placed together: w and its w⁺ share a spot on their edge (one replaces the
        other), and no two edges' spots overlap (``placement.place_together`` picks a
        spot along each edge: the crossing edges of a 2-2-2 net cannot both use their
        middle). Otherwise only the example's (none if its edge is not drawn or has no
        room): a layer half labelled would read as if the rest did not move.
        """
        d = self.diagram
        assert d is not None
        t = self.theme
        pairs = [(j, k) for j in d.drawn[i + 1] for k in d.drawn[i]]
        if len(pairs) > MAX_EDGE_LABELS:
            pairs = [p for p in pairs if p == example]
        made: dict[tuple[int, int], tuple] = {}
        for p in pairs:
            was = self.edge_label_unplaced(i, *p, fmt(before[p], self.digits), t.text)
            now = self.edge_label_unplaced(i, *p, fmt(after[p], self.digits), t.highlight)
            if was is None or now is None:  # too small to read on this edge
                continue
            spots = self.edge_label_spots(i, *p, [was, now])
            boxes = []
            for at in spots:
                was.move_to(d.edge_point(i, *p, at))
                now.move_to(was)
                boxes.append(
                    (
                        min(was.get_left()[0], now.get_left()[0]),
                        max(was.get_right()[0], now.get_right()[0]),
                        min(was.get_bottom()[1], now.get_bottom()[1]),
                        max(was.get_top()[1], now.get_top()[1]),
                    )
                )
            # Spots that cover fewer other edges of the layer come first: a number lying
            # across a crossing or a fan of edges reads as belonging to any of them.
            lines = [(d.edge_point(i, *q, 0.0), d.edge_point(i, *q, 1.0)) for q in pairs if q != p]
            cost = [sum(crosses(box, *ab) for ab in lines) for box in boxes]
            rank = sorted(range(len(spots)), key=lambda n: cost[n])
            made[p] = (
                was,
                now,
                [spots[n] for n in rank],
                [boxes[n] for n in rank],
                [cost[n] for n in rank],
            )
        chosen = place_together([m[3] for m in made.values()], [m[4] for m in made.values()])
        if chosen is not None and any(m[4][c] for m, c in zip(made.values(), chosen, strict=True)):
            # A number lying across another edge reads as that edge's (XOR's fan of 8
            # edges bunched its labels at the inputs): the table lists them all.
            chosen = None
        if chosen is None:  # not all together: the example alone, at its best spot
            made = {p: m for p, m in made.items() if p == example and m[2]}
            chosen = [0] * len(made)
        old, new = {}, {}
        for (p, (was, now, spots, *_)), c in zip(made.items(), chosen, strict=True):
            was.move_to(d.edge_point(i, *p, spots[c]))
            now.move_to(was)
            old[p], new[p] = was, now
        return old, new

    def weights_picture(self, layer: LayerStep, j: int) -> Group | None:
        """Inputs that are a picture: unit ``j``'s weights into it before the step, the
        step's change and after, side by side as the sum they are (w + Δw = w⁺).

        Before and after share one colour scale (their largest |w|), so that a weight
        that grew looks stronger; the change is scaled to its own largest |Δw| (a step
        is small beside the weights: on their scale it would be invisible), and says so.
        None without a picture or without a move.
        """
        shape = image_shape(self.plan.trace)
        delta = layer.delta_W[j]
        if shape is None or self.diagram is None or not np.any(delta):
            return None
        t = self.theme
        w, w_next = layer.W[j], layer.W_next[j]
        scale = float(max(np.abs(w).max(), np.abs(w_next).max())) or 1.0
        side = 1.6
        box = Region(0.0, side * shape[1] / max(shape), 0.0, side * shape[0] / max(shape))
        ppu = self.diagram.px_per_unit
        pictures = [
            receptive_field(w, shape, box, t, ppu, scale=scale),
            receptive_field(delta, shape, box, t, ppu),
            receptive_field(w_next, shape, box, t, ppu, scale=scale),
        ]
        names = ["w", "Δw = w⁺ − w", "w⁺"]
        captions = [self.text(name, font_size=20, color=t.muted) for name in names]
        columns = [
            Group(pic, caption).arrange(DOWN, buff=0.12)
            for pic, caption in zip(pictures, captions, strict=True)
        ]
        signs = [self.text(sign, font_size=30, color=t.text) for sign in ("+", "=")]
        row = Group(columns[0], signs[0], columns[1], signs[1], columns[2]).arrange(
            RIGHT, buff=0.22, aligned_edge=UP
        )
        for sign in signs:  # level with the pictures, not with the captions under them
            sign.set_y(pictures[0].get_y())
        line = min(baseline(c) for c in captions)  # the captions on one line
        for caption in captions:
            stand_on(caption, line)
        me = unit_label(self.plan.trace, 1, j)
        largest = fmt(float(np.abs(delta).max()), self.digits)
        caption = self.text(
            f"{me}'s {delta.size} weights; Δw at full colour: ±{largest}",
            font_size=20,
            color=t.muted,
        )
        group = Group(row, caption).arrange(DOWN, buff=0.15, aligned_edge=LEFT)
        group.pictures = pictures  # type: ignore[attr-defined]
        return group

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
                            (i, j, k),
                        )
                    )
        entries.sort(key=lambda e: -e[0])
        shown = entries[:MAX_BARS]
        zeros = [e for e in entries if e[0] == 0.0]
        if zeros and all(e[0] > 0 for e in shown):
            shown = shown[: MAX_BARS - 1] + zeros[:1]
        split = decay_split(trace, step, [e[3] for e in shown])
        if split is not None:
            bars = MovePartsBars(
                [f"{e[2]}  Δw = {fmt(e[1], self.digits)}" for e in shown],
                *split,
                t,
                digits=self.digits,
            )
            title = VGroup(
                self.text(
                    "Δw = w⁺ − w, largest |Δw| first, in two parts:", font_size=22, color=t.muted
                ),
                self.text("from ∂L/∂w", font_size=20, color=t.gradient),
                self.text("from the weight itself, −ηλw", font_size=20, color=t.highlight),
            ).arrange(DOWN, buff=0.08, aligned_edge=LEFT)
        else:
            bars = RankingBars(
                [e[2] for e in shown],
                [e[0] for e in shown],
                [e[1] for e in shown],
                t,
                digits=self.digits,
                row_height=0.36,
            )
            # Two short lines, not one long one: a line wider than the panel would make
            # the whole stack, bars included, shrink to fit.
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
        # With weight decay the legend of the two parts comes in as its sentence splits them.
        legend = list(title[1:]) if split is not None else []
        # Where a sentence names the largest and the smallest move, their bars are
        # outlined: the top one, and the smallest that moved where it is among the shown.
        largest = None
        if "largest" in self.said_parts(beat) and len(bars):
            moving = [e for e in entries if e[0] > 0]
            rows = [0] + [n for n, e in enumerate(shown) if n and moving and e[3] == moving[-1][3]]
            largest = VGroup(
                *[SurroundingRectangle(bars[n], color=t.highlight, buff=0.05) for n in rows]
            )
        blame, history = self.ranking_pointers(beat, step, entries, bars, note)
        self.run(
            [
                ([*intro, *header], 0.6),
                ([FadeIn(m) for m in title if m not in legend], 0.4, "title"),
                (FadeIn(bars, lag_ratio=0.15), 1.6, "bars"),
                *([(Create(largest), 0.5, "largest")] if largest is not None else []),
                *([([FadeIn(m) for m in legend], 0.6, "split")] if legend else []),
                (FadeIn(note), 0.4, "note"),
                *([(seen(Create(blame)), 0.7, "blame")] if len(blame) else []),
                *([(seen(FadeIn(history)), 0.5, "history")] if len(history) else []),
                (None, 2.0),
                (
                    [FadeOut(panel)]
                    + ([FadeOut(largest)] if largest is not None else [])
                    + [FadeOut(m) for m in (blame, history) if len(m)],
                    0.5,
                ),
            ]
        )

    def ranking_pointers(self, beat: Beat, step, entries: list, bars, note):
        """What the ranking's last detailed words point at: "a weight moves more when the
        unit it feeds is more to blame, ... and when the activation it carries is larger"
        outlines the largest move's bar, the δ of the unit it feeds and the activation on
        its edge, and lights that edge; "the step also depends on the gradients of earlier
        steps" writes, under the bars, which state carries them (momentum's velocity,
        Adam's m and v), with the largest move's value from the trace."""
        said = self.said_parts(beat)
        d, t = self.diagram, self.theme
        blame, history = VGroup(), VGroup()
        if not entries or entries[0][0] == 0.0:
            return blame, history
        i, j, k = entries[0][3]
        if "blame" in said:
            blame.add(outline(bars[0], t, buff=0.05))
            if d.is_drawn(i, k) and d.is_drawn(i + 1, j):
                edge = d.edge(i, j, k, t.highlight, 4)
                edge.set_z_index(-1)
                blame.add(edge)
                for mob in (self.delta_labels.get((i + 1, j)), d.value_labels.get((i, k))):
                    if mob is not None:
                        blame.add(outline(mob, t))
        name = self.plan.trace.network.optimizer.get("name")
        if "history" in said and name in ("momentum", "adam"):
            layer = step.layers[i]
            if name == "momentum":
                what = f"velocity {fmt(layer.state['velocity'][j, k], self.digits)}"
            else:
                m, v = layer.state["m"][j, k], layer.state["v"][j, k]
                what = f"m {fmt(m, self.digits)}, v {fmt(v, self.digits)}"
            history.add(
                self.paragraph(
                    f"{entries[0][2]}: {what}, running over the earlier steps' gradients",
                    font_size=20,
                    color=t.highlight,
                )
            )
            history.next_to(note, DOWN, buff=0.15).align_to(note, LEFT)
        return blame, history
