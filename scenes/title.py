"""Title beat: the lecture's title, the network, the sample, the loss and optimizer."""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, FadeIn, FadeOut, Group, Mobject, VGroup, config

from backprop_anim.narration import scaling
from backprop_anim.narration.speech import title_sentences
from backprop_anim.numbers import counted, fmt
from backprop_anim.storyboard import BEAT_PARTS, Beat
from backprop_anim.trace.scaling import input_scaling
from backprop_anim.visual.image import image_shape, sample_picture
from backprop_anim.visual.network import Region
from backprop_anim.visual.panels import baseline, stand_on

from .base import BeatScene


class TitleBeats(BeatScene):
    def beat_title(self, beat: Beat) -> None:
        trace = self.plan.trace
        info = trace.network
        cfg = trace.config
        step = self.step_of(beat)
        t = self.theme
        # A title of two sentences (a question and its answer) is a heading and a line
        # under it, each coming in as the narration reads it (parts title, subtitle).
        head, *rest = title_sentences(cfg.get("title") or cfg["name"])
        title = self.text(head, font_size=44, color=t.text)
        if title.width > 12.5:
            title.scale_to_fit_width(12.5)
        subtitle = None
        if rest:
            subtitle = self.text(" ".join(rest), font_size=32, color=t.highlight)
            if subtitle.width > 12.5:
                subtitle.scale_to_fit_width(12.5)
        layers = " → ".join(
            [
                counted(len(info.input_names), "input")
                + (f" ({shape[0]}×{shape[1]} pixels)" if (shape := image_shape(trace)) else "")
            ]
            + [
                f"{name}: {len(units)} {act}"
                for name, units, act in zip(
                    info.layer_names, info.unit_names, info.activations, strict=True
                )
            ]
        )
        opt = info.optimizer
        opt_text = f"{opt['name']}, learning rate η = {fmt(opt['learning_rate'], self.digits)}"
        if opt["name"] == "momentum":
            opt_text += f", momentum μ = {fmt(opt['momentum'], self.digits)}"
        batch = len(step.samples)
        if batch == 1:
            x = ", ".join(fmt(v, self.digits) for v in step.x[0][:6])
            y = ", ".join(fmt(v, self.digits) for v in step.y[0][:6])
            more = ", …" if step.x.shape[1] > 6 else ""
            sample = (
                f"sample: x = ({x}{more})   target y = ({y}{', …' if step.y.shape[1] > 6 else ''})"
            )
        else:
            sample = f"a batch of {batch} samples"
        total = len(trace.summary.loss)
        # Each row is a part of its own (named by its key), so it comes in as the
        # narration's sentence about it starts; the task line closes the beat's words.
        lines = [
            ("network", layers),
            ("data", sample),
            *scaling.screen_rows(trace, step, self.digits),  # raw → scaled, if scaled
            ("loss", info.loss.replace("_", " ")),
            ("optimizer", opt_text),
            ("step", f"{step.step} of {total} (counted from 0, as in the trace and --steps)"),
        ]
        rows = VGroup()
        keys: list[str] = []
        # A row's continuation (the sample's raw → scaled values after the scaling rule)
        # stays on its line but comes in with a part of its own, as its sentence starts.
        more: dict[int, tuple[str, Mobject]] = {}
        for key, value in lines:
            v = self.text(value, font_size=26, color=t.text)
            if key == "raw" and len(rows):
                more[len(rows) - 1] = (key, v)
                continue
            k = self.text(key, font_size=26, color=t.muted)
            rows.add(VGroup(k, v))
            keys.append(key)
        # A table of lines: every key and value stands on its row's baseline (not box
        # centres: "data" and "sample: x = (0.05, …)" have different boxes), rows a
        # fixed pitch apart, values in one column, a continuation after its value.
        key_width = max(r[0].width for r in rows)
        pitch = max(max(r[0].height, r[1].height) for r in rows) + 0.22
        for n, r in enumerate(rows):
            stand_on(r[0], -n * pitch).align_to(np.zeros(3), LEFT)
            stand_on(r[1], -n * pitch).align_to(np.array([key_width + 0.35, 0, 0]), LEFT)
            if n in more:
                r.add(stand_on(more[n][1].next_to(r[1], RIGHT, buff=0.4), -n * pitch))
        if rows.width > 12.5:
            rows.scale_to_fit_width(12.5)
        task = self.text("forward → loss → backward → update", font_size=26, color=t.highlight)
        # Where the narration says it (the detailed level): what the numbers are.
        digits = None
        if "digits" in self.said_parts(beat):
            digits = self.text(
                f"every number: this step's value, {self.digits} significant digits",
                font_size=22,
                color=t.muted,
            )
            task = VGroup(task, digits).arrange(DOWN, buff=0.2)
        heading = title if subtitle is None else VGroup(title, subtitle).arrange(DOWN, buff=0.25)
        parts = [heading, rows]
        card = None
        if (shape := image_shape(trace)) is not None:
            # Inputs that are a picture: the first sample, seen as the digit it is.
            card = self.sample_card(step, shape)
            parts.append(card)
        block = Group(*parts, task).arrange(DOWN, buff=0.5 if card is not None else 0.6)
        if block.height > 7.0:  # more rows (scaled inputs, targets, a picture) stay inside
            block.scale_to_fit_height(7.0)
        block.move_to([0, 0.1, 0])
        # Where each row's key and value stand (pixels): boxes, and the baselines that
        # must be one line (tests; any tool that overlays the title).
        title_layout: dict[str, list[float]] = {}
        for key, r in zip(keys, rows, strict=True):
            title_layout[f"{key}.key"] = self._box_px(r[0])
            title_layout[f"{key}.value"] = self._box_px(r[1])
            title_layout[f"{key}.baseline"] = [
                self._pixel(np.array([0.0, baseline(m), 0.0]))[1] for m in r
            ]
        title_layout["title"] = self._box_px(title)
        if subtitle is not None:
            title_layout["subtitle"] = self._box_px(subtitle)
        self.plan.layout["title"] = title_layout
        # The picture of the sample comes in with the row that says what the data is.
        rows_in = []
        for n, (row, key) in enumerate(zip(rows, keys, strict=True)):
            rows_in.append(
                (
                    [FadeIn(row[0]), FadeIn(row[1])]
                    + ([FadeIn(card)] if card is not None and key == "data" else []),
                    0.4,
                    key if key in BEAT_PARTS["title"] else None,
                )
            )
            if n in more:
                rows_in.append((FadeIn(more[n][1]), 0.4, more[n][0]))
        self.run(
            [
                (FadeIn(title, shift=0.3 * DOWN), 1.0, "title"),
                *([(FadeIn(subtitle, shift=0.2 * UP), 0.6, "subtitle")] if subtitle else []),
                *rows_in,
                (FadeIn(task[0] if digits is not None else task), 0.5, "task"),
                *([(FadeIn(digits), 0.4, "digits")] if digits is not None else []),
                (None, 4.0),
                (FadeOut(block), 0.6),
            ]
        )

    def sample_card(self, step, shape: tuple[int, int]) -> Group:
        """The step's first sample as its picture, with the output it should give."""
        side = 1.5
        box = Region(0.0, side * shape[1] / max(shape), 0.0, side * shape[0] / max(shape))
        inputs = input_scaling(self.plan.trace)  # the picture in the data's own units
        x = step.x[0] if inputs is None else inputs.raw(step.x[0])
        picture = sample_picture(x, shape, box, self.theme, config.pixel_width / config.frame_width)
        info = self.plan.trace.network
        y = step.y[0]
        target = (
            f", target {info.unit_names[-1][int(np.argmax(y))]}"
            if self.plan.trace.data.get("kind") == "classification" and len(y) > 1
            else ""
        )
        which = "the sample" if len(step.samples) == 1 else "its first sample"
        words = self.text(f"{which}{target}", font_size=22, color=self.theme.muted)
        return Group(picture, words).arrange(RIGHT, buff=0.35)
