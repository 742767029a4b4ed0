"""Matrix beats: the per-neuron computation of a layer as the matrix code people write.

Forward: Z = A·Wᵀ + b, A' = f(Z). Backward: Δ = (Δ_next·W_next) ⊙ f'(Z) (at the output,
∂L/∂A ⊙ f'(Z), or (A − Y)/B where the loss's closed form makes it so), and
∂L/∂W = Δᵀ·A. The matrices are the trace's own (elided when large), and the numbers
the per-neuron beats showed (sample 1, the beat's unit) are highlighted inside them, so
a student sees that the two views are one computation. docs/matrix-form.md quotes the
engine code these beats mirror.
"""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, FadeIn, FadeOut, VGroup, Write

from backprop_anim.maths.losses import get_loss
from backprop_anim.storyboard import Beat, gradient_input
from backprop_anim.visual.matrix import MatrixGrid, matrix_row

from .base import BeatScene, unit_label

FONT = 18


class MatrixBeats(BeatScene):
    def grid(self, values, name: str, highlight=()) -> MatrixGrid:
        """A trace matrix in brackets, its numbers recorded as this beat's screen text."""
        grid = MatrixGrid(
            np.asarray(values),
            self.theme,
            name=name,
            highlight=highlight,
            digits=self.digits,
            font_size=FONT,
        )
        for cell in grid.cells.values():
            self._record(cell.text)
        return grid

    def op(self, text: str):
        return self.text(text, font_size=24, color=self.theme.muted)

    def code_lines(self, *lines: str) -> VGroup:
        """The engine's numpy lines this beat mirrors (docs/matrix-form.md quotes them)."""
        return VGroup(
            *[
                self.text(line, font_size=17, color=self.theme.muted, font="DejaVu Sans Mono")
                for line in lines
            ]
        ).arrange(DOWN, buff=0.08, aligned_edge=LEFT)

    def beat_matrix_forward(self, beat: Beat) -> None:
        step = self.step_of(beat)
        trace = self.plan.trace
        i, j = beat.layer, beat.unit
        assert i is not None and j is not None
        layer = step.layers[i]
        a_prev = step.x if i == 0 else step.layers[i - 1].a
        a_name = "X" if i == 0 else "A"
        name = trace.network.layer_names[i]
        me = unit_label(trace, i + 1, j)
        intro = self.ensure_diagram(step)
        header = self.set_header(f"Matrix form · {name} · Z = {a_name}·Wᵀ + b", "forward")
        fan_in = a_prev.shape[1]
        row_one = [(0, c) for c in range(fan_in)]
        product = matrix_row(
            [
                self.grid(a_prev, a_name, row_one),
                self.op("·"),
                self.grid(layer.W.T, "Wᵀ", [(r, j) for r in range(fan_in)]),
                self.op("+"),
                self.grid(layer.b[None, :], "b", [(0, j)]),
            ]
        )
        result = matrix_row(
            [
                self.op("Z ="),
                self.grid(layer.z, "Z", [(0, j)]),
                self.op("A' = f(Z) ="),
                self.grid(layer.a, "A'", [(0, j)]),
            ]
        )
        note = self.paragraph(
            f"highlighted: sample 1's inputs, the weights into {me} and its bias give "
            f"z and a of {me}, the numbers of its forward beat",
            font_size=18,
            color=self.theme.highlight,
        )
        code = self.code_lines("z = a_prev @ W.T + b", "a = f(z)")
        panel = self.column_stack([product, result, note, code], buff=0.26)
        self.run(
            [
                ([*intro, *header], 0.6),
                (FadeIn(product), 1.4),
                (FadeIn(result), 1.2),
                ([FadeIn(note), Write(code)], 0.8),
                (None, 2.2),
                (FadeOut(panel), 0.5),
            ]
        )

    def beat_matrix_backward(self, beat: Beat) -> None:
        step = self.step_of(beat)
        trace = self.plan.trace
        info = trace.network
        i, j = beat.layer, beat.unit
        assert i is not None and j is not None
        layer = step.layers[i]
        last = i == len(step.layers) - 1
        a_prev = step.x if i == 0 else step.layers[i - 1].a
        a_name = "X" if i == 0 else "A"
        name = info.layer_names[i]
        me = unit_label(trace, i + 1, j)
        k = gradient_input(step, i, j)
        intro = self.ensure_diagram(step)
        header = self.set_header(f"Matrix form · {name} · Δ and ∂L/∂W", "backward")
        col_j = [(r, j) for r in range(layer.delta.shape[0])][:1]
        if last:
            loss = get_loss(info.loss)
            if loss.fused_activation == info.activations[i]:
                n = loss.divisor(layer.a.shape)
                delta_row = matrix_row(
                    [
                        self.op("Δ = (A − Y)" + (f" / {n}" if n > 1 else "") + " ="),
                        self.grid(layer.delta, "Δ", col_j),
                    ]
                )
                parts = [delta_row]
            else:
                parts = [
                    matrix_row(
                        [
                            self.op("Δ ="),
                            self.grid(layer.dL_da, "∂L/∂A", col_j),
                            self.op("⊙"),
                            self.grid(layer.act_derivative, "f'(Z)", col_j),
                        ]
                    ),
                    matrix_row([self.op("="), self.grid(layer.delta, "Δ", col_j)]),
                ]
        else:
            nxt = step.layers[i + 1]
            parts = [
                matrix_row(
                    [
                        self.op("Δ = ("),
                        self.grid(nxt.delta, "Δ next", [(0, c) for c in range(nxt.W.shape[0])]),
                        self.op("·"),
                        self.grid(nxt.W, "W next", [(r, j) for r in range(nxt.W.shape[0])]),
                        self.op(")"),
                    ]
                ),
                matrix_row(
                    [
                        self.op("⊙"),
                        self.grid(layer.act_derivative, "f'(Z)", col_j),
                        self.op("="),
                        self.grid(layer.delta, "Δ", col_j),
                    ]
                ),
            ]
        grad = matrix_row(
            [
                self.op("∂L/∂W = Δᵀ ·"),
                self.grid(a_prev, a_name, [(r, k) for r in range(a_prev.shape[0])]),
                self.op("="),
                self.grid(layer.grad_W, "∂L/∂W", [(j, k)]),
            ]
        )
        batch = layer.delta.shape[0]
        words = (
            f"highlighted: the delta of {me} from its backward beat, and the gradient of "
            f"{me} ← {unit_label(trace, i, k)}"
            + (f"; Δ holds the 1/{batch} of the batch mean" if batch > 1 else "")
        )
        note = self.paragraph(words, font_size=18, color=self.theme.highlight)
        code = self.code_lines(
            *(["delta = (delta_next @ W_next) * f'(z)"] if not last else []),
            "grad_W = delta.T @ a_prev",
            "grad_b = delta.sum(axis=0)",
        )
        panel = self.column_stack([*parts, grad, note, code], buff=0.24)
        self.run(
            [
                ([*intro, *header], 0.6),
                ([FadeIn(p) for p in parts], 1.6),
                (FadeIn(grad), 1.4),
                ([FadeIn(note), Write(code)], 0.8),
                (None, 2.2),
                (FadeOut(panel), 0.5),
            ]
        )
