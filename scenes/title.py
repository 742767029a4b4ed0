"""Title beat: the lecture's title, the network, the sample, the loss and optimizer."""

from __future__ import annotations

from manim import DOWN, LEFT, FadeIn, FadeOut, VGroup

from backprop_anim.narration import scaling
from backprop_anim.numbers import counted, fmt
from backprop_anim.storyboard import BEAT_PARTS, Beat

from .base import BeatScene


class TitleBeats(BeatScene):
    def beat_title(self, beat: Beat) -> None:
        trace = self.plan.trace
        info = trace.network
        cfg = trace.config
        step = self.step_of(beat)
        t = self.theme
        title = self.text(cfg.get("title") or cfg["name"], font_size=44, color=t.text)
        if title.width > 12.5:
            title.scale_to_fit_width(12.5)
        layers = " → ".join(
            [counted(len(info.input_names), "input")]
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
        for key, value in lines:
            k = self.text(key, font_size=26, color=t.muted)
            v = self.text(value, font_size=26, color=t.text)
            rows.add(VGroup(k, v))
        key_width = max(r[0].width for r in rows)
        for r in rows:
            r[1].next_to(r[0], direction=[1, 0, 0], buff=0.35 + key_width - r[0].width)
        rows.arrange(DOWN, buff=0.28, aligned_edge=LEFT)
        if rows.width > 12.5:
            rows.scale_to_fit_width(12.5)
        task = self.text("forward → loss → backward → update", font_size=26, color=t.highlight)
        block = VGroup(title, rows, task).arrange(DOWN, buff=0.6)
        if block.height > 7.0:  # more rows (scaled inputs, targets) must stay in the frame
            block.scale_to_fit_height(7.0)
        block.move_to([0, 0.1, 0])
        self.run(
            [
                (FadeIn(title, shift=0.3 * DOWN), 1.0, "title"),
                *[
                    (FadeIn(row), 0.4, key if key in BEAT_PARTS["title"] else None)
                    for row, (key, _) in zip(rows, lines, strict=True)
                ],
                (FadeIn(task), 0.5, "task"),
                (None, 4.0),
                (FadeOut(block), 0.6),
            ]
        )
