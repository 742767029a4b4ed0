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

        # The loss on the data at every snapshot, drawn keyframe by keyframe.
        losses = [s.loss for s in snaps]
        plot = LossPlot(
            snaps[-1].step, losses, [losses[0], losses[-1]], LOSS, t, digits=self.digits
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
        self.plan.layout["overview"] = {key: self._box(r) for key, r in boxes.items()}
        # Manim redraws, every frame, everything from the first changing mobject on in
        # z order; what never changes goes below it and is drawn once per animation.
        for m in statics:
            m.set_z_index(STATIC_Z)
        for mob in [*diagram.neurons.values(), diagram.extras]:
            mob.set_z_index(0)  # above the edges, which change at every keyframe

        # --- the beat: everything at the first keyframe, then each next one ------------
        changing = [*swaps[0], *(m for m, _ in morphs), marker]
        first = [FadeIn(m) for m in [*statics, *changing]]
        parts: list[tuple[list[Animation] | None, float]] = [(leaving + first, 1.0)]
        for k in range(1, len(frames)):
            anims: list[Animation] = []
            for old, new in zip(swaps[k - 1], swaps[k], strict=True):
                anims += [FadeOut(old), FadeIn(new)]
            anims += [Transform(m, shapes[k]) for m, shapes in morphs]
            anims += [Create(piece) for piece in draws[k - 1]]
            anims.append(rides[k - 1])
            # A short change, then a held look at the keyframe (held frames cost nothing).
            parts += [(anims, 0.6), (None, 0.4)]
        parts.append((None, 1.6))
        if not self._is_last(beat):
            drawn = itertools.chain(*draws)
            shown = [*statics, *swaps[-1], *(m for m, _ in morphs), marker, *drawn]
            parts.append(([FadeOut(m) for m in shown], 0.4))
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
        for k, s in enumerate(frames):
            w = float(s.W[0][0, 0])
            slope = ov.weight_slope(trace, s)
            swaps[k] += [
                plot.tangent(w, s.loss, slope),
                plot.point(w, s.loss),
                self._slope_label(w, slope),
            ]
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

    def _box(self, region: Region) -> list[float]:
        """A region's pixel box [left, top, right, bottom] in the video's frame."""
        top_left = self._pixel(np.array([region.left, region.top, 0.0]))
        bottom_right = self._pixel(np.array([region.right, region.bottom, 0.0]))
        return [*top_left, *bottom_right]


class OverviewScene(OverviewBeats):
    """The overview beat alone (``--scenes overview``)."""

    scene_filter = ("overview",)
