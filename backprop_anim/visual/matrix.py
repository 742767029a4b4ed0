"""A matrix of trace numbers, in brackets, with chosen cells highlighted.

The matrix beats show the per-neuron computation as the matrix code people write
(``Z = A·Wᵀ + b``): each matrix is a grid of numbers formatted by ``fmt``, large ones
elided to their first rows/columns, ``⋯``/``⋮`` and the last, and the cells that the
per-neuron beats showed drawn in the highlight colour, so the two views are seen to be
one computation. Built from labels (not typeset as one formula) so a cell can be
coloured and addressed (``cell(r, c)``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from manim import RIGHT, UP, ImageMobject, Line, VGroup

from ..numbers import fmt
from .panels import Label
from .theme import Theme, rgb

MAX_SHOWN = 3  # rows or columns shown before a dimension is elided (readable at 480p)


def shown_indices(n: int, limit: int = MAX_SHOWN, keep: Collection[int] = ()) -> list[int | None]:
    """Indices drawn for a dimension of ``n`` (None: ⋯): all when it is short; else the
    ``keep`` ones (the numbers a per-neuron beat showed) between ⋯, or without any, the
    first and the last. Few columns, so the numbers stay large enough to read at 480p."""
    if n <= limit:
        return list(range(n))
    if not keep:
        return [0, None, n - 1]
    out: list[int | None] = [None] if min(keep) > 0 else []
    for k in sorted(keep):
        if out and out[-1] is not None and k > out[-1] + 1:
            out.append(None)
        out.append(k)
    if max(keep) < n - 1:
        out.append(None)
    return out


class MatrixGrid(VGroup):
    """``values`` (2-D) in brackets, a name above; ``highlight`` cells in the highlight colour.

    ``cells[(r, c)]`` is the label of the value at row ``r``, column ``c`` of ``values``
    (for drawn cells), so a scene can point at the number a per-neuron beat showed.
    """

    def __init__(
        self,
        values: np.ndarray,
        theme: Theme,
        *,
        name: str = "",
        highlight: Collection[tuple[int, int]] = (),
        digits: int = 4,
        font_size: float = 20,
        col_gap: float = 0.22,
        row_gap: float = 0.12,
    ) -> None:
        super().__init__()
        values = np.atleast_2d(np.asarray(values, dtype=float))
        rows = shown_indices(values.shape[0], keep={r for r, _ in highlight})
        cols = shown_indices(values.shape[1], keep={c for _, c in highlight})
        self.cells: dict[tuple[int, int], Label] = {}
        grid: list[list[Label]] = []
        for r in rows:
            line: list[Label] = []
            for c in cols:
                if r is None or c is None:
                    text = "⋮" if r is None and c is not None else "⋯"
                    if r is None and c is None:
                        text = "⋱"
                    line.append(Label(text, font_size=font_size, color=theme.muted))
                    continue
                hot = (r, c) in highlight
                label = Label(
                    fmt(values[r, c], digits),
                    font_size=font_size,
                    color=theme.highlight if hot else theme.text,
                    weight="BOLD" if hot else "NORMAL",
                )
                self.cells[(r, c)] = label
                line.append(label)
            grid.append(line)
        widths = [max(grid[i][j].width for i in range(len(rows))) for j in range(len(cols))]
        height = max(cell.height for line in grid for cell in line)
        body = VGroup()
        y = 0.0
        for line in grid:
            x = 0.0
            for j, cell in enumerate(line):
                cell.move_to([x + widths[j] - cell.width / 2, y, 0])  # right-aligned numbers
                x += widths[j] + col_gap
                body.add(cell)
            y -= height + row_gap
        pad = 0.08
        top, bottom = body.get_top()[1] + pad, body.get_bottom()[1] - pad
        left, right = body.get_left()[0] - pad, body.get_right()[0] + pad
        tick = 0.09
        color = theme.muted
        brackets = VGroup(
            Line([left, top, 0], [left, bottom, 0], color=color, stroke_width=2),
            Line([left, top, 0], [left + tick, top, 0], color=color, stroke_width=2),
            Line([left, bottom, 0], [left + tick, bottom, 0], color=color, stroke_width=2),
            Line([right, top, 0], [right, bottom, 0], color=color, stroke_width=2),
            Line([right, top, 0], [right - tick, top, 0], color=color, stroke_width=2),
            Line([right, bottom, 0], [right - tick, bottom, 0], color=color, stroke_width=2),
        )
        self.body = body
        self.add(brackets, body)
        if name:
            shape = "×".join(str(n) for n in values.shape)
            caption = Label(f"{name}  {shape}", font_size=font_size * 0.8, color=theme.muted)
            caption.next_to(VGroup(brackets, body), UP, buff=0.08)
            self.add(caption)

    def without(self, cells: Collection[Label]) -> list:
        """The grid's pieces (brackets, caption, labels) but ``cells``: a scene fades these
        in one by one while the numbers of ``cells`` fly in from elsewhere."""
        skip = {id(c) for c in cells}
        parts = [m for m in self.submobjects if m is not self.body]
        return [*parts, *[m for m in self.body.submobjects if id(m) not in skip]]


def matrix_row(parts: Sequence, *, buff: float = 0.16) -> VGroup:
    """Matrices and operator labels side by side, the bodies centred on one line."""
    row = VGroup(*parts)
    row.arrange(RIGHT, buff=buff)
    for part in parts:
        centre = part.body.get_center()[1] if isinstance(part, MatrixGrid) else part.get_y()
        part.shift([0, -centre, 0])
    return row


def heat_rows(
    rows: np.ndarray, theme: Theme, *, width: float, row_height: float, top: float | None = None
) -> ImageMobject:
    """Several rows of values as coloured cells on one shared scale (blue +, orange −).

    Unlike ``heat_strip`` (one row, its own scale), rows here are comparable: a
    sample's gradient and the batch mean side by side, cell for cell.
    """
    v = np.atleast_2d(np.asarray(rows, dtype=float))
    top = top or float(np.abs(v).max()) or 1.0
    t = np.clip(v / top, -1.0, 1.0)[..., None]
    pos, neg = np.array(rgb(theme.positive)), np.array(rgb(theme.negative))
    bg = np.array(rgb(theme.panel))
    colors = np.where(t >= 0, bg + (pos - bg) * t, bg + (neg - bg) * (-t))
    img = np.zeros((*v.shape, 4), dtype=np.uint8)
    img[..., :3] = np.clip(colors, 0, 255).astype(np.uint8)
    img[..., 3] = 255
    mob = ImageMobject(img, scale_to_resolution=False)
    mob.set_resampling_algorithm(0)  # nearest: crisp cells
    mob.stretch_to_fit_width(width).stretch_to_fit_height(row_height * v.shape[0])
    return mob
