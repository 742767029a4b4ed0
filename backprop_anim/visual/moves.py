"""Each weight's move split in two: the part from the gradient, the part from the weight.

With weight decay a move Δw is −η·(gradient term) − η·λ·w: the update ranking shows
both parts as two thin bars per weight on one scale, so a student sees which weights
moved because of the loss and which only because they are large.
"""

from __future__ import annotations

from collections.abc import Sequence

from manim import RIGHT, Line, Rectangle, VGroup

from ..numbers import fmt
from .panels import Label
from .theme import Theme


class MovePartsBars(VGroup):
    """Per weight, a name and two bars: |from the gradient| and |from the weight itself|."""

    def __init__(
        self,
        labels: Sequence[str],
        from_gradient: Sequence[float],
        from_weight: Sequence[float],
        theme: Theme,
        *,
        width: float = 2.0,
        row_height: float = 0.62,
        digits: int = 4,
        font_size: float = 19,
    ) -> None:
        super().__init__()
        top = max([abs(v) for v in (*from_gradient, *from_weight)] + [0.0]) or 1.0
        colors = (theme.gradient, theme.highlight)
        for r, (name, parts) in enumerate(
            zip(labels, zip(from_gradient, from_weight, strict=True), strict=True)
        ):
            y = -r * row_height
            name_mob = Label(name, font_size=font_size, color=theme.text)
            name_mob.move_to([-0.1 - name_mob.width / 2, y, 0])
            row = VGroup(name_mob)
            for n, (value, color) in enumerate(zip(parts, colors, strict=True)):
                yy = y + (0.11 if n == 0 else -0.11) * row_height / 0.5
                if value != 0.0:
                    bar = Rectangle(
                        width=max(0.02, width * abs(value) / top),
                        height=row_height * 0.34,
                        stroke_width=0,
                        fill_color=color,
                        fill_opacity=0.9,
                    )
                    bar.move_to([bar.width / 2, yy, 0])
                else:
                    bar = Line([0, yy, 0], [0.3, yy, 0], color=theme.frozen, stroke_width=2)
                value_mob = Label(fmt(value, digits), font_size=font_size * 0.9, color=color)
                value_mob.next_to(bar, RIGHT, buff=0.08)
                row.add(bar, value_mob)
            self.add(row)
