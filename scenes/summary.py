"""Step summary: the loss on this step's batch before and after the update."""

from __future__ import annotations

from manim import DOWN, Arrow, FadeIn, FadeOut, GrowArrow, VGroup

from backprop_anim.numbers import fmt
from backprop_anim.storyboard import Beat

from .base import BeatScene


class SummaryBeats(BeatScene):
    def beat_summary(self, beat: Beat) -> None:
        step = self.step_of(beat)
        t = self.theme
        intro = self.ensure_diagram(step)
        header = self.set_header(f"Step {step.step} · summary", None)
        before = self.text(
            f"loss before  {fmt(step.loss, self.digits)}", font_size=30, color=t.text
        )
        after = self.text(
            f"loss after  {fmt(step.loss_after, self.digits)}", font_size=30, color=t.text
        )
        change = step.loss_change
        pct = step.loss_change_percent
        verdict = self.text(
            f"{'down' if change < 0 else 'up'} by {fmt(abs(change), self.digits)} "
            f"({fmt(abs(pct), 3)}%) on the same sample{'s' if len(step.samples) > 1 else ''}",
            font_size=24,
            color=t.positive if change < 0 else t.negative,
        )
        arrow = Arrow(before.get_bottom(), before.get_bottom() + 0.9 * DOWN, color=t.muted)
        group = VGroup(before, arrow, after, verdict)
        before.move_to([3.7, 1.5, 0])
        arrow.next_to(before, DOWN, buff=0.15)
        after.next_to(arrow, DOWN, buff=0.15)
        verdict.next_to(after, DOWN, buff=0.4)
        if verdict.width > 6.2:
            verdict.scale_to_fit_width(6.2)
        verdict.set_x(3.7)
        # Where the words say them (the detailed level): the whole cycle lights up in the
        # phase bar, and the next step's starting point is written under the verdict.
        said = self.said_parts(beat)
        tail: list = []
        if "cycle" in said and self.phase_bar is not None:
            tail.append(
                ([m.animate.set_color(t.highlight).build() for m in self.phase_bar], 0.6, "cycle")
            )
        if "next" in said:
            following = self.text(
                "the next step starts from these new weights", font_size=22, color=t.muted
            )
            following.next_to(verdict, DOWN, buff=0.3).set_x(3.7)
            if following.width > 6.2:
                following.scale_to_fit_width(6.2)
            group.add(following)
            tail.append((FadeIn(following), 0.5, "next"))
        self.run(
            [
                ([*intro, *header], 0.6),
                (FadeIn(before), 0.6, "curve"),
                (GrowArrow(arrow), 0.5),
                (FadeIn(after), 0.6),
                (FadeIn(verdict), 0.5, "note"),
                *tail,
                (None, 2.0),
                (FadeOut(group), 0.4),
            ]
        )
