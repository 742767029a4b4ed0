"""The overview beat: a whole training at a glance, from the trace's summary.

The loss curve draws itself over the steps while a handful of keyframes (parameter
snapshots) cross-fade: the network's edges (colour = sign, width = |w| on one scale
for all keyframes), and what the network does with the data: the decision boundary
under the samples for two inputs, the fitted curve against the targets for one, or
the loss along the first weight with its tangent for a chain of single neurons.
Histograms of each hidden layer's pre-activations show saturation; without a data
picture, the gradient norms per layer take its place.

Everything heavy is an image (heat maps, data points, edges), so the beat costs a few
seconds to render whatever the number of steps. The beat can open a lecture (after
the title) or close it (after the steps), and clears the stage either way.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Animation,
    Create,
    FadeIn,
    FadeOut,
    Line,
    Mobject,
    MoveAlongPath,
    Rectangle,
    SurroundingRectangle,
    Transform,
    VGroup,
    config,
)

from backprop_anim import overview as ov
from backprop_anim.numbers import counted, fmt
from backprop_anim.storyboard import Beat
from backprop_anim.trace.model import Snapshot
from backprop_anim.visual.network import NetworkDiagram, Region
from backprop_anim.visual.panels import fit
from backprop_anim.visual.plots import (
    FitPlot,
    Frame2D,
    Histogram,
    LossPlot,
    WeightPlot,
    boundary_line,
    class_color,
    heat_map,
    image,
    layer_color,
    points_layer,
)

from .base import HEADER_Y, BeatScene

NET = Region(left=-7.0, right=-0.5, bottom=0.2, top=2.95)
LOSS = Region(left=-5.2, right=-0.7, bottom=-2.75, top=-0.5)
DATA = Region(left=0.95, right=4.35, bottom=-0.55, top=2.75)
DATA_TALL = Region(left=0.95, right=4.35, bottom=-2.75, top=2.75)  # nothing under it
LEGEND_LEFT = 4.6
RIGHT_EDGE = 6.85
HIST_WITH_DATA = Region(left=0.95, right=RIGHT_EDGE, bottom=-2.95, top=-1.2)
HIST_ALONE = Region(left=0.95, right=RIGHT_EDGE, bottom=0.45, top=2.5)
GRADS = Region(left=1.75, right=5.7, bottom=-2.75, top=-0.6)
# What Snapshot.saturation counts, per activation (docs/trace-format.md).
SATURATION_WORDS = {"tanh": "saturated", "sigmoid": "saturated", "relu": "off"}
STATIC_Z = -2  # below the edge images (-1) and everything that changes (0)
MAX_GRAD_POINTS = 400  # gradient-norm curves are drawn through at most this many steps


class OverviewBeats(BeatScene):
    def beat_overview(self, beat: Beat) -> None:
        trace = self.plan.trace
        t = self.theme
        frames = ov.keyframes(trace)
        view = ov.view_of(trace)
        summary = trace.summary
        snaps = summary.snapshots
        leaving = self._clear_stage()

        header = self.text(
            f"The whole training: {counted(len(summary.loss), 'step')}", font_size=30
        )
        fit(header, 7.2)
        header.move_to([-7.0 + 0.2 + header.width / 2, HEADER_Y, 0])
        self.header = header
        statics: list[Mobject] = [header]
        # Per keyframe, the mobjects shown only then (cross-faded from one to the next).
        swaps: list[list[Mobject]] = [[self._readout(s)] for s in frames]
        # Mobjects on screen that change shape from keyframe to keyframe.
        morphs: list[tuple[Mobject, list[Mobject]]] = []
        # Per transition between keyframes, the curve pieces drawn during it.
        draws: list[list[Mobject]] = [[] for _ in frames[1:]]

        # The network, its edges redrawn at every keyframe on one width scale.
        diagram = self._diagram(frames[0])
        scale = max(float(np.abs(w).max()) for s in frames for w in s.W) or 1.0
        statics.append(diagram)
        for k, s in enumerate(frames):
            swaps[k].append(diagram.edge_raster(s.W, scale=scale))

        said = self.said_parts(beat)
        # The loss on the data at every snapshot, drawn keyframe by keyframe (and, where
        # the words speak of it, the training batch's loss of every step on the same axes).
        losses = [s.loss for s in snaps]
        batch_steps, batch_loss = self._batch_curve(summary.loss)
        plot = LossPlot(
            snaps[-1].step,
            [*losses, *(batch_loss if "batch" in said else [])],
            [losses[0], losses[-1]],
            LOSS,
            t,
            digits=self.digits,
        )
        self._record_all(plot.tick_texts)
        statics.append(plot)
        # The marker rides along each new piece of the curve as it is drawn.
        marker = plot.dot(frames[0].step, frames[0].loss, t.highlight)
        rides: list[Animation] = []
        for k, (a, b) in enumerate(itertools.pairwise(frames)):
            inside = [s for s in snaps if a.step <= s.step <= b.step]
            piece = plot.polyline([s.step for s in inside], [s.loss for s in inside], t.highlight)
            draws[k].append(piece)
            rides.append(MoveAlongPath(marker, piece.copy()))

        boxes = {"network": NET, "loss": LOSS}
        # What the sentences about the picture point at (filled by the view's builder).
        self._look: dict[str, Mobject] = {}
        if view == "boundary":
            boxes["data"] = self._boundary(frames, statics, swaps)
        elif view == "fit":
            boxes["data"] = self._fit(frames, statics, morphs)
        elif view == "weight":
            boxes["data"] = self._weight(frames, statics, swaps, morphs, draws)

        # Pre-activation histograms (a chain of single neurons has nothing to histogram).
        hist_region = HIST_WITH_DATA if view != "none" else HIST_ALONE
        if view != "weight" and self._histograms(frames, hist_region, statics, swaps, morphs):
            boxes["histograms"] = hist_region
        if view == "none" and summary.grad_norms:
            self._gradients(frames, statics, draws)
            boxes["gradients"] = GRADS
        layout = {key: self._box(r) for key, r in boxes.items()}
        self.plan.layout["overview"] = layout
        # Manim redraws, every frame, everything from the first changing mobject on in
        # z order; what never changes goes below it and is drawn once per animation.
        for m in statics:
            m.set_z_index(STATIC_Z)
        for mob in [*diagram.neurons.values(), diagram.extras]:
            mob.set_z_index(0)  # above the edges, which change at every keyframe

        # --- the beat: everything at the first keyframe, then each next one ------------
        changing = [*swaps[0], *(m for m, _ in morphs), marker]
        first = [FadeIn(m) for m in [*statics, *changing]]

        def between(a: int, b: int) -> list[Animation]:
            """From keyframe ``a`` to ``b``: swapped pieces cross-fade, shapes morph."""
            anims: list[Animation] = []
            for old, new in zip(swaps[a], swaps[b], strict=True):
                anims += [FadeOut(old), FadeIn(new)]
            return anims + [Transform(m, shapes[b]) for m, shapes in morphs]

        parts: list[tuple] = [(leaving + first, 1.0, "network")]
        for k in range(1, len(frames)):
            anims = between(k - 1, k)
            anims += [Create(piece) for piece in draws[k - 1]]
            anims.append(rides[k - 1])
            # A short change, then a held look at the keyframe (held frames cost nothing).
            parts += [(anims, 0.6, "curve" if k == 1 else None), (None, 0.4)]
        context = _Look(frames, swaps, between, marker, plot, diagram, boxes, self._look)
        extra = self._pointing(said, context, summary, batch_steps, batch_loss)
        parts += extra.parts
        parts.append((None, 1.6))
        if not self._is_last(beat):
            drawn = itertools.chain(*draws)
            shown = [*statics, *swaps[-1], *(m for m, _ in morphs), marker, *drawn]
            parts.append(([FadeOut(m) for m in [*shown, *extra.shown]], 0.4))
        self.run(parts)

    # --- what the network does with the data ---------------------------------------------
    def _boundary(self, frames, statics, swaps) -> Region:
        """Two inputs: class scores over the plane as a heat map, under the samples."""
        trace = self.plan.trace
        t = self.theme
        px = config.pixel_width / config.frame_width
        area = ov.plane(trace)
        region = self._aspect_box(DATA, area)
        X, _ = ov.data_arrays(trace)
        classes = [int(c) for c in trace.data.get("classes") or [0] * len(X)]
        frame2d = Frame2D(region, area.x_range, area.y_range, t)
        points = points_layer(frame2d, X, [class_color(c) for c in classes], px, t)
        rows, cols = points.shape[:2]  # one heat-map cell per pixel, the dots baked in
        for k, s in enumerate(frames):
            scores = ov.boundary(trace, s, area, cols, rows)
            swaps[k].append(heat_map(scores, region, t, overlay=points))
        # The final boundary, drawn over the map where the narration names it.
        self._look["boundary"] = boundary_line(scores, region, t.highlight)
        statics += [self._plane_titles(region), self._class_legend(max(classes) + 1)]
        return region

    def _fit(self, frames, statics, morphs) -> Region:
        """One input, one output: the network's curve against the data, targets unscaled."""
        trace = self.plan.trace
        t = self.theme
        px = config.pixel_width / config.frame_width
        X, Y = ov.data_arrays(trace)
        X = ov.display_inputs(trace, X)  # the axis reads the data's units, as the curve
        y_shown = ov.display_targets(trace, Y)[:, 0]
        x_lo, x_hi = float(X[:, 0].min()), float(X[:, 0].max())
        margin = 0.04 * ((x_hi - x_lo) or 1.0)  # dots at the ends stay whole
        x_range = (x_lo - margin, x_hi + margin)
        reach = ov.output_reach(trace)
        values = [*y_shown, *(reach or ())]
        lo, hi = min(values), max(values)
        pad = 0.1 * ((hi - lo) or 1.0)
        act = trace.network.activations[-1]
        plot = FitPlot(
            DATA,
            x_range,
            (lo - pad, hi + pad),
            t,
            reach=reach,
            reach_label=f"what a {act} output can reach",
            x_name=trace.network.input_names[0],
            y_name=trace.network.unit_names[-1][0],
        )
        samples = np.c_[X[:, 0], y_shown]
        points = image(points_layer(plot, samples, [t.muted] * len(X), px, t, radius=0.045), DATA)
        curves = [
            plot.polyline(*ov.fit_curve(trace, s, x_range), t.highlight, width=5) for s in frames
        ]
        statics += [plot, points, self._fit_legend()]
        morphs.append((curves[0].copy(), curves))
        self._look["fit"] = curves[-1]
        if reach is not None and len(plot.reach_lines):
            self._look["reach"] = plot.reach_lines
        return DATA

    def _weight(self, frames, statics, swaps, morphs, draws) -> Region:
        """A chain of single neurons: L(w) for the first weight, the point and its tangent."""
        trace = self.plan.trace
        t = self.theme
        w_range = ov.weight_range(trace, frames)
        ws = np.linspace(*w_range, ov.CURVE_POINTS)
        curves = [ov.weight_loss(trace, s, ws) for s in frames]
        finite = np.concatenate([c[np.isfinite(c)] for c in curves])
        top = max(
            float(np.percentile(finite, 98)) if finite.size else 1.0, *(s.loss for s in frames)
        )
        name = f"{trace.network.input_names[0]}→{trace.network.unit_names[0][0]}"
        plot = WeightPlot(DATA_TALL, w_range, (0.0, 1.08 * top), t, weight_name=name)
        shapes = [plot.polyline(ws, c, t.text, width=3) for c in curves]
        statics.append(plot)
        morphs.append((shapes[0].copy(), shapes))
        self._look["along"] = shapes[-1]
        for k, s in enumerate(frames):
            w = float(s.W[0][0, 0])
            slope = ov.weight_slope(trace, s)
            swaps[k] += [
                plot.tangent(w, s.loss, slope),
                plot.point(w, s.loss),
                self._slope_label(w, slope),
            ]
            if k in (0, len(frames) - 1):  # the start and now, where the words point
                key = "" if k else "0"
                self._look["tangent" + key], _, self._look["label" + key] = swaps[k][-3:]
            if k + 1 < len(frames):  # the path downhill stays marked
                draws[k].append(plot.trail(w, s.loss))
        return DATA_TALL

    # --- pieces -----------------------------------------------------------------------
    def _clear_stage(self) -> list[Animation]:
        """Fade out whatever the beats before left (a step's network, labels, header)."""
        leftovers = [m for m in self.mobjects if m is not self.caption]
        self.diagram = None
        self.diagram_step = None
        self.header = None
        self.phase_bar = None
        self.not_moving = {}
        return [FadeOut(m) for m in leftovers]

    def _is_last(self, beat: Beat) -> bool:
        return self.plan.timed[-1].beat.id == beat.id

    def _record_all(self, texts: list[str]) -> None:
        for text in texts:
            self._record(text)

    def _diagram(self, snap: Snapshot) -> NetworkDiagram:
        diagram = self.network_diagram(self.plan.trace.network, snap.W, NET)
        diagram.remove(diagram.edges_image)  # each keyframe brings its own edges
        return diagram

    def _readout(self, snap: Snapshot) -> Mobject:
        """Where the training is at this keyframe: steps done, loss on the data, accuracy."""
        total = len(self.plan.trace.summary.loss)
        text = f"after {snap.step} of {counted(total, 'step')} · loss {fmt(snap.loss, self.digits)}"
        if snap.accuracy is not None:
            text += f" · accuracy {fmt(100 * snap.accuracy, self.digits)}%"
        label = self.text(text, font_size=22)
        fit(label, 6.6)
        return label.move_to([RIGHT_EDGE - label.width / 2, HEADER_Y, 0])

    @staticmethod
    def _aspect_box(box: Region, area: ov.Plane) -> Region:
        """The largest part of ``box`` with the plane's aspect ratio (circles stay round)."""
        dx = area.x_range[1] - area.x_range[0]
        dy = area.y_range[1] - area.y_range[0]
        scale = min(box.width / dx, box.height / dy)
        return Region(box.left, box.left + dx * scale, box.top - dy * scale, box.top)

    def _plane_titles(self, region: Region) -> Mobject:
        names = self.plan.trace.network.input_names
        t = self.theme
        x_title = self.text(names[0], font_size=18, color=t.muted)
        x_title.next_to([(region.left + region.right) / 2, region.bottom, 0], DOWN, buff=0.08)
        y_title = self.text(names[1], font_size=18, color=t.muted)
        y_title.next_to([region.left, (region.bottom + region.top) / 2, 0], LEFT, buff=0.1)
        return VGroup(x_title, y_title)

    def _legend_at(self, group: Mobject) -> Mobject:
        fit(group, RIGHT_EDGE - LEGEND_LEFT)
        return group.move_to([LEGEND_LEFT + group.width / 2, DATA.top - group.height / 2, 0])

    def _class_legend(self, count: int) -> Mobject:
        rows = VGroup()
        for c in range(count):
            swatch = Rectangle(
                width=0.26, height=0.26, stroke_width=0, fill_color=class_color(c), fill_opacity=1
            )
            name = self.text(f"class {c}", font_size=20)
            rows.add(VGroup(swatch, name).arrange(RIGHT, buff=0.15))
        note = self._lines(
            ["colour: the network's", "answer at each point;", "thin line: its boundary"]
        )
        return self._legend_at(VGroup(*rows, note).arrange(DOWN, buff=0.2, aligned_edge=LEFT))

    def _lines(self, lines: list[str]) -> VGroup:
        """A short note in the legend column, broken by hand (measuring words costs time)."""
        group = VGroup(*[self.text(line, font_size=17, color=self.theme.muted) for line in lines])
        return group.arrange(DOWN, buff=0.06, aligned_edge=LEFT)

    def _fit_legend(self) -> Mobject:
        t = self.theme
        curve = VGroup(
            Line(LEFT * 0.2, RIGHT * 0.2, color=t.highlight, stroke_width=5),
            self.text("the network's output", font_size=20),
        ).arrange(RIGHT, buff=0.15)
        data = VGroup(
            Rectangle(width=0.12, height=0.12, stroke_width=0, fill_color=t.muted, fill_opacity=1),
            self.text("the data", font_size=20),
        ).arrange(RIGHT, buff=0.15)
        return self._legend_at(VGroup(curve, data).arrange(DOWN, buff=0.2, aligned_edge=LEFT))

    def _slope_label(self, w: float, slope: float) -> Mobject:
        t = self.theme
        lines = VGroup(
            self.text(f"w = {fmt(w, self.digits)}", font_size=20, color=t.highlight),
            self.text("slope dL/dw", font_size=20, color=t.gradient),
            self.text(f"= {fmt(slope, self.digits)}", font_size=20, color=t.gradient),
            self._lines(["each update moves w", "against the slope:", "downhill"]),
        ).arrange(DOWN, buff=0.12, aligned_edge=LEFT)
        return self._legend_at(lines)

    def _histograms(self, frames, region: Region, statics, swaps, morphs) -> bool:
        """Each hidden layer's pre-activations, keyframe by keyframe, saturated zones shaded."""
        trace = self.plan.trace
        info = trace.network
        bins = trace.summary.z_bins
        layers = ov.histogram_layers(trace)
        if not layers or not bins or not frames[0].z_hist:
            return False
        gap = 0.7  # room for one histogram's "≥ 6" and the next one's "≤ -6"
        width = (region.width - gap * (len(layers) - 1)) / len(layers)
        # Side by side, a layer's name and its saturated share need two lines.
        stacked = len(layers) > 1
        line = 0.28
        for n, i in enumerate(layers):
            left = region.left + n * (width + gap)
            top = region.top - 0.4 - (line if stacked else 0.0)
            box = Region(left, left + width, region.bottom + 0.3, top)
            shares = [np.asarray(s.z_hist[i], float) / max(1, sum(s.z_hist[i])) for s in frames]
            peak = max(float(v.max()) for v in shares) * 1.05 or 1.0
            title = f"{info.layer_names[i]} ({info.activations[i]})"
            self._record(title)
            hist = Histogram(
                bins,
                box,
                self.theme,
                top=peak,
                saturating_z=ov.saturating_z(info.activations[i]),
                title=title,
            )
            if stacked:
                hist.title.shift(line * UP)
            statics.append(hist)
            shapes = [hist.bars(v) for v in shares]
            morphs.append((shapes[0].copy(), shapes))
            word = SATURATION_WORDS.get(info.activations[i])
            for k, snap in enumerate(frames):
                if word is None:
                    continue
                share = self.text(
                    f"{word} {fmt(100 * snap.saturation[i], self.digits)}%",
                    font_size=16,
                    color=self.theme.negative,
                )
                if stacked:
                    share.next_to(hist.title, DOWN, buff=0.06, aligned_edge=LEFT)
                else:
                    share.next_to(hist.title, RIGHT, buff=0.2)
                swaps[k].append(share)
                if k in (0, len(frames) - 1):  # "before training, ...; after training, ..."
                    key = "share" if k else "share0"
                    self._look.setdefault(key, VGroup()).add(share)
        title = self.text(
            "pre-activations z of the hidden layers (shaded: saturated)",
            font_size=17,
            color=self.theme.muted,
        )
        fit(title, region.width)
        title.move_to([region.left + title.width / 2, region.top + 0.1, 0])
        statics.append(title)
        return True

    def _gradients(self, frames, statics, draws) -> None:
        """Each layer's gradient size over the steps (vanishing gradients show here)."""
        trace = self.plan.trace
        norms = np.asarray(trace.summary.grad_norms, dtype=float)
        keep = np.unique(np.linspace(0, len(norms) - 1, min(len(norms), MAX_GRAD_POINTS)))
        keep = keep.round().astype(int)
        steps = keep + 1  # the gradient of step k is computed before update k + 1
        shown = norms[keep]
        plot = LossPlot(
            int(steps[-1]),
            shown.ravel(),
            [float(shown.max()), float(shown[shown > 0].min()) if (shown > 0).any() else 0.0],
            GRADS,
            self.theme,
            digits=self.digits,
            y_title="gradient size |dL/dW|",
        )
        self._record_all(plot.tick_texts)
        legend = VGroup()
        for i, name in enumerate(trace.network.layer_names):
            color = layer_color(i)
            for k, (a, b) in enumerate(itertools.pairwise(frames)):
                sel = (steps >= max(1, a.step)) & (steps <= b.step)
                if sel.any():
                    draws[k].append(plot.polyline(steps[sel], shown[sel, i], color, width=3))
            legend.add(self.text(name, font_size=17, color=color))
        legend.arrange(DOWN, buff=0.08, aligned_edge=LEFT)
        legend.move_to([GRADS.right + 0.15 + legend.width / 2, (GRADS.top + GRADS.bottom) / 2, 0])
        statics += [plot, legend]

    # --- each sentence points at what it names -------------------------------------------
    @staticmethod
    def _batch_curve(loss: list[float]) -> tuple[np.ndarray, np.ndarray]:
        """The training batch's loss of each step (at most MAX_GRAD_POINTS of them): step
        k's batch loss is computed with the parameters after k steps."""
        values = np.asarray(loss, dtype=float)
        keep = np.unique(np.linspace(0, len(values) - 1, min(len(values), MAX_GRAD_POINTS)))
        keep = keep.round().astype(int)
        return keep.astype(float), values[keep]

    def _pointing(
        self, said: set[str], c: _Look, summary, batch_steps: np.ndarray, batch_loss: np.ndarray
    ) -> _Pointing:
        """The parts that point, each where its sentence speaks (``said``), in the order of
        ``BEAT_PARTS["overview"]``: an outline (one at a time) around what a sentence names,
        the boundary or a curve drawn over itself, the training replayed where the words go
        back to its start. They run after the training has played (the loss curve drawn)."""
        t = self.theme
        out = _Pointing([], [])
        outlines: list[Mobject] = []  # the outline on screen (one at a time)
        last = len(c.frames) - 1
        at = [last]  # the keyframe on screen

        def clear() -> list[Animation]:
            gone = [FadeOut(m) for m in outlines]
            outlines.clear()
            return gone

        def outline(*things: Mobject | Region, color: str | None = None) -> list[Animation]:
            boxes = VGroup()
            for thing in things:
                if isinstance(thing, Region):
                    box = Rectangle(width=thing.width + 0.16, height=thing.height + 0.16)
                    box.move_to([(thing.left + thing.right) / 2, (thing.top + thing.bottom) / 2, 0])
                else:
                    box = SurroundingRectangle(thing, buff=0.08)
                boxes.add(box.set_stroke(color or t.highlight, width=4).set_fill(opacity=0))
            gone = clear()
            outlines.append(boxes)
            return [Create(boxes), *gone]

        def go(k: int) -> list[Animation]:
            """To keyframe ``k``: the picture, the readout and the marker on the loss curve."""
            anims = c.between(at[0], k) if k != at[0] else []
            point = c.plot.p(c.frames[k].step, c.frames[k].loss)
            at[0] = k
            return [*anims, c.marker.animate.move_to(point).build()]

        def glow(curve: Mobject) -> list[Animation]:
            """The curve traced again, wide and translucent, from left to right."""
            copy = curve.copy().set_stroke(color=t.highlight, width=14, opacity=0.35)
            gone = clear()
            outlines.append(copy)  # a pointer like an outline: the next one replaces it
            return [Create(copy), *gone]

        def add(anims: list[Animation], weight: float, name: str | None) -> None:
            out.parts.append((anims, weight, name))

        look = c.look
        layers = len(self.plan.trace.network.layer_names)

        def column(layer: int) -> Mobject:
            return VGroup(*(m for (col, _), m in c.diagram.neurons.items() if col == layer + 1))

        if "accuracy" in said and c.frames[-1].accuracy is not None:
            add(outline(c.swaps[-1][0]), 0.5, "accuracy")
        if "batch" in said and len(batch_loss):
            # Thin, over the data's curve (with one sample they coincide), its two ends
            # marked: the two numbers the sentence says.
            curve = c.plot.polyline(batch_steps, batch_loss, t.text, width=2).set_z_index(1)
            ends = [
                c.plot.dot(x, y, t.text).scale(0.7).set_z_index(1)
                for x, y in ((batch_steps[0], batch_loss[0]), (batch_steps[-1], batch_loss[-1]))
            ]
            label = self.text(
                f"training batch: {fmt(batch_loss[0], self.digits)} → "
                f"{fmt(batch_loss[-1], self.digits)}",
                font_size=20,
                color=t.text,
            )
            fit(label, LOSS.width * 0.75)
            label.move_to([LOSS.right - label.width / 2, LOSS.top - label.height / 2, 0])
            out.shown += [curve, *ends, label]
            add([Create(curve), *map(FadeIn, [*ends, label]), *clear()], 0.8, "batch")
        if "background" in said and "data" in c.boxes:
            add(outline(c.boxes["data"]), 0.5, "background")
        if "boundary" in said and "boundary" in look:
            out.shown.append(look["boundary"])
            add([FadeIn(look["boundary"]), *clear()], 0.6, "boundary")
        if "bend" in said and layers > 1:
            add(outline(*(column(i) for i in range(layers - 1))), 0.5, "bend")
        if "fit" in said and "fit" in look:
            add(glow(look["fit"]), 0.8, "fit")
        if "reach" in said and "reach" in look:
            add(outline(look["reach"]), 0.5, "reach")
        if "remedy" in said:  # "... or use a linear output": the output layer, its caption
            caption = c.diagram.captions[layers] if len(c.diagram.captions) > layers else None
            shown = VGroup(column(layers - 1), *([caption] if caption is not None else []))
            add(outline(shown), 0.5, "remedy")
        if "scaled" in said and ("reach" in look or "data" in c.boxes):
            # "inside what the output can produce": its reach, where it is drawn.
            add(outline(look["reach"] if "reach" in look else c.boxes["data"]), 0.5, "scaled")
        if "along" in said and "along" in look:
            add(glow(look["along"]), 0.8, "along")
        if "tangent" in said and "tangent0" in look:
            # Back at the start, where the tangent is steep (at the end it is level).
            tangent = look["tangent0"].copy().set_stroke(color=t.highlight, width=7)
            gone = clear()
            outlines.append(tangent)
            add([*go(0), FadeIn(tangent), *gone], 0.6, "tangent")
        if "start" in said and "label0" in look:
            add(go(0) + outline(look["label0"]), 0.6, "start")
        if "moved" in said and last > 0:  # the weight walks downhill again, keyframe by keyframe
            for k in range(max(1, at[0] + 1), last + 1):
                add(go(k) + (clear() if k == 1 else []), 0.3, "moved" if k == 1 else None)
        if "before" in said and last > 0:  # the saturated share, as it was and as it is
            where = [look["share0"]] if "share0" in look else []
            add(go(0) + (outline(*where) if where else clear()), 0.6, "before")
        if "after" in said and last > 0:
            where = [look["share"]] if "share" in look else []
            add(go(last) + (outline(*where) if where else clear()), 0.6, "after")
        if "layer" in said:  # the layers the first steps updated, one after another
            for n, chosen in enumerate(summary.updated_layers[:3]):
                anims = outline(*(column(i) for i in chosen))
                label = self.text(f"step {n}", font_size=18, color=t.highlight)
                label.next_to(outlines[-1], DOWN, buff=0.08)
                outlines.append(label)
                add([*anims, FadeIn(label)], 0.8, None if n else "layer")
        if "all" in said:  # every backward pass computed every layer's gradients
            add(outline(*(column(i) for i in range(layers)), color=t.gradient), 0.6, "all")
        if "stopped" in said:
            add(outline(c.marker), 0.5, "stopped")
        if at[0] != last:
            add(go(last), 0.4, None)
        out.shown += outlines
        return out

    def _box(self, region: Region) -> list[float]:
        """A region's pixel box [left, top, right, bottom] in the video's frame."""
        top_left = self._pixel(np.array([region.left, region.top, 0.0]))
        bottom_right = self._pixel(np.array([region.right, region.bottom, 0.0]))
        return [*top_left, *bottom_right]


@dataclass
class _Look:
    """What the pointing parts of the overview need of the beat built so far."""

    frames: list[Snapshot]
    swaps: list[list[Mobject]]
    between: Callable[[int, int], list[Animation]]
    marker: Mobject
    plot: LossPlot
    diagram: NetworkDiagram
    boxes: dict[str, Region]
    look: dict[str, Mobject]


@dataclass
class _Pointing:
    parts: list[tuple]  # (animations, weight, part name or None), as BeatScene.run takes
    shown: list[Mobject]  # what they leave on screen until the beat's exit


class OverviewScene(OverviewBeats):
    """The overview beat alone (``--scenes overview``)."""

    scene_filter = ("overview",)
