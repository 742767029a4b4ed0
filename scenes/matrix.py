"""Matrix beats: the per-neuron computation of a layer as the matrix code people write.

Forward: Z = A·Wᵀ + b, A' = f(Z). Backward: Δ = (Δ_next·W_next) ⊙ f'(Z) (at the output,
∂L/∂A ⊙ f'(Z), or (A − Y)/B where the loss's closed form makes it so), and
∂L/∂W = Δᵀ·A. The matrices are the trace's own (elided when large), and the numbers
the per-neuron beats showed (sample 1, the beat's unit) fly from where they live in the
network (an input's neuron, a weight's edge, a delta under its neuron) into their cell
as the sentence names them, so a student sees that the two views are one computation.
docs/matrix-form.md quotes the engine code these beats mirror.
"""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, Create, FadeIn, FadeOut, SurroundingRectangle, VGroup, Write

from backprop_anim.maths.losses import get_loss
from backprop_anim.storyboard import Beat, gradient_input, largest_terms
from backprop_anim.visual.matrix import MAX_SHOWN, MatrixGrid, matrix_row

from .base import BeatScene, unit_label
from .forward import DIM, MAX_EDGE_LABELS

# The factors of Δ = (Δ_next·W_next) ⊙ f'(Z), each its own part, in the order spoken.
FACTORS = ("next", "weights", "deriv")
FONT = 24  # matrix numbers: about 15 px high at 480p, 22 px at 720p
OP_FONT = 26


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
        return self.text(text, font_size=OP_FONT, color=self.theme.muted)

    def code_lines(self, *lines: str) -> VGroup:
        """The engine's numpy lines this beat mirrors (docs/matrix-form.md quotes them)."""
        return VGroup(
            *[
                self.text(line, font_size=20, color=self.theme.muted, font="DejaVu Sans Mono")
                for line in lines
            ]
        ).arrange(DOWN, buff=0.08, aligned_edge=LEFT)

    def arrive(self, row: VGroup, flights: list, later=()) -> tuple[list, list]:
        """The row fades in but for its flying cells, each of which travels from where its
        number lives ((grid, cell, point)), and the ``later`` labels, which come in a part
        of their own.

        A cell whose number lives nowhere drawn (point None: an elided input, the edge
        from it) fades in in place, but with the flights, not with the row: its sentence
        speaks it there (digits' gradient cell for x38 → h5 came in with the row's frame,
        3.4 s before "minus 0.03469")."""
        flying = [(g.cells[c], at) for g, c, at in flights if c in g.cells]
        skip = {id(c) for c, _ in flying} | {id(c) for c in later}
        shell = []
        for part in row.submobjects:
            members = part.without(()) if isinstance(part, MatrixGrid) else [part]
            shell += [FadeIn(m) for m in members if id(m) not in skip]
        return shell, [
            FadeIn(cell) if at is None else self.fly_from(cell, at) for cell, at in flying
        ]

    def at_neuron(self, column: int, unit: int):
        """A drawn neuron's centre (a bias, a z: numbers of the neuron itself), else None."""
        d = self.diagram
        assert d is not None
        return d.positions[(column, unit)] if d.is_drawn(column, unit) else None

    def neuron_at(self, column: int, unit: int):
        """Where a unit's value lives: its drawn neuron (its value label), else None."""
        d = self.diagram
        assert d is not None
        if not d.is_drawn(column, unit):
            return None
        label = d.value_labels.get((column, unit))
        return label.get_center() if label is not None else d.positions[(column, unit)]

    def edge_at(self, layer: int, unit: int, source: int):
        """Where a weight (or its gradient) lives: a point on its drawn edge, else None."""
        d = self.diagram
        assert d is not None
        if not (d.is_drawn(layer, source) and d.is_drawn(layer + 1, unit)):
            return None
        return d.edge_point(layer, unit, source, 0.5)

    def delta_at(self, column: int, unit: int):
        """Where a delta lives: its label under the neuron (the backward beat's), else the
        neuron."""
        label = self.delta_labels.get((column, unit))
        if label is not None:
            return label.get_center()
        d = self.diagram
        assert d is not None
        return d.positions[(column, unit)] if d.is_drawn(column, unit) else None

    def focus_edges(self, step, edges: list[tuple[int, int, int]]) -> tuple[list, list]:
        """In a wide net, the tangle steps back while numbers leave their edges: every edge
        dimmed to under 20 % and the edges (layer, unit, source) the numbers come from drawn
        in the text colour, which no weight's sign colour can be mistaken for (as the
        forward beat does). Animations to dim at the start and to restore at the end."""
        d = self.diagram
        assert d is not None
        if max(len(units) for units in d.drawn) <= MAX_EDGE_LABELS:
            return [], []
        weights = [s.W for s in step.layers]
        undimmed = d.edges_image
        dimmed = d.edge_raster(weights, alpha_by_layer=dict.fromkeys(range(len(weights)), DIM))
        lines = VGroup(
            *[
                d.edge(i, j, k, self.theme.text, 3)
                for i, j, k in edges
                if d.is_drawn(i, k) and d.is_drawn(i + 1, j)
            ]
        )
        return (
            [FadeIn(dimmed), FadeOut(undimmed), *([Create(lines)] if len(lines) else [])],
            [FadeOut(dimmed), FadeIn(undimmed), *([FadeOut(lines)] if len(lines) else [])],
        )

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
        # A wide layer shows (and sends) the term that mattered most, not all of them.
        terms = (
            list(range(fan_in)) if fan_in <= MAX_SHOWN else largest_terms(layer.W[j], a_prev[0], 1)
        )
        x = self.grid(a_prev, a_name, [(0, k) for k in terms])
        wt = self.grid(layer.W.T, "Wᵀ", [(k, j) for k in terms])
        b = self.grid(layer.b[None, :], "b", [(0, j)])
        z = self.grid(layer.z, "Z", [(0, j)])
        a = self.grid(layer.a, "A'", [(0, j)])
        product = matrix_row([self.op("Z ="), x, self.op("·"), wt, self.op("+"), b])
        z_row = matrix_row([self.op("="), z])
        a_row = matrix_row([self.op("A' = f(Z) ="), a])
        code = self.code_lines("z = a_prev @ W.T + b", "a = f(z)")
        note = self.paragraph(
            f"in gold: sample 1's numbers for {me}, as its forward beat showed them",
            font_size=20,
            color=self.theme.highlight,
        )
        panel = self.column_stack([code, product, z_row, a_row, note], buff=0.24)
        panel.remove(note)  # it comes in last, with the sentence about every other entry
        shell, sends = self.arrive(
            product,
            [
                *[(x, (0, k), self.neuron_at(i, k)) for k in terms],
                *[(wt, (k, j), self.edge_at(i, j, k)) for k in terms],
                (b, (0, j), self.at_neuron(i + 1, j)),
            ],
        )
        z_shell, z_in = self.arrive(z_row, [(z, (0, j), self.at_neuron(i + 1, j))])
        a_shell, a_in = self.arrive(a_row, [(a, (0, j), self.neuron_at(i + 1, j))])
        frames = [
            SurroundingRectangle(g.body, color=self.theme.muted, buff=0.06, stroke_width=2)
            for g in (z, a)
        ]
        dim, undim = self.focus_edges(step, [(i, j, k) for k in terms])
        self.run(
            [
                ([*intro, *header, *dim], 0.6),
                (Write(code), 0.8, "code"),
                (shell, 0.8, "product"),
                (sends, 1.0, "inputs"),
                ([*z_shell, *z_in], 0.8, "z"),
                ([*a_shell, *a_in], 0.8, "a"),
                ([*[Create(f) for f in frames], FadeIn(note)], 0.6, "rest"),
                (None, 2.0),
                ([*self.clear_panel(panel, note, *frames), *undim], 0.5),
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
        own = [(0, j)]  # sample 1, this unit: the delta its backward beat showed
        delta = self.grid(layer.delta, "Δ", own)
        flights: list = []
        factor_parts: dict = {}  # a factor's grid -> the part that brings it in
        shown_next: list[int] = []  # the next layer's units whose deltas come back here
        if last:
            loss = get_loss(info.loss)
            if loss.fused_activation == info.activations[i]:
                n = loss.divisor(layer.a.shape)
                rows = [
                    matrix_row(
                        [self.op("Δ = (A − Y)" + (f" / {n}" if n > 1 else "") + " ="), delta]
                    )
                ]
            else:
                dl = self.grid(layer.dL_da, "∂L/∂A", own)
                fz = self.grid(layer.act_derivative, "f'(Z)", own)
                rows = [
                    matrix_row([self.op("Δ ="), dl, self.op("⊙"), fz]),
                    matrix_row([self.op("="), delta]),
                ]
                flights.append((fz, (0, j), self.at_neuron(i + 1, j)))
                factor_parts[fz] = "deriv"
        else:
            nxt = step.layers[i + 1]
            outs = range(nxt.W.shape[0])
            shown_next = list(outs) if len(outs) <= MAX_SHOWN else [int(np.argmax(nxt.delta[0]))]
            dn = self.grid(nxt.delta, "Δ next", [(0, c) for c in shown_next])
            wn = self.grid(nxt.W, "W next", [(c, j) for c in shown_next])
            fz = self.grid(layer.act_derivative, "f'(Z)", own)
            rows = [
                matrix_row([self.op("Δ = ("), dn, self.op("·"), wn, self.op(")")]),
                matrix_row([self.op("⊙"), fz, self.op("="), delta]),
            ]
            for c in shown_next:
                flights.append((dn, (0, c), self.delta_at(i + 2, c)))
                flights.append((wn, (c, j), self.edge_at(i + 1, c, j)))
            flights.append((fz, (0, j), self.at_neuron(i + 1, j)))
            factor_parts.update({dn: "next", wn: "weights", fz: "deriv"})
        batch = layer.delta.shape[0]
        column = [(r, k) for r in range(batch)][:1]
        xs = self.grid(a_prev, a_name, column)
        grad = self.grid(layer.grad_W, "∂L/∂W", [(j, k)])
        grad_rows = [
            matrix_row([self.op("∂L/∂W = Δᵀ ·"), xs]),
            matrix_row([self.op("="), grad]),
        ]
        words = f"in gold: the delta of {me} and the gradient of {me} ← {unit_label(trace, i, k)}"
        if batch > 1:
            words += f"; Δ holds the 1/{batch} of the batch mean"
        note = self.paragraph(words, font_size=20, color=self.theme.highlight)
        code = self.code_lines(
            *(["delta = (delta_next @ W_next) * f'(z)"] if not last else []),
            "grad_W = delta.T @ a_prev",
        )
        panel = self.column_stack([*rows, *grad_rows, note, code], buff=0.22)
        # The rows' operators and Δ's frame come in first; each factor then comes in at
        # the word that names it (parts "next", "weights", "deriv"): its matrix, and its
        # highlighted numbers flying from where they live in the network.
        factors = {id(g): name for g, name in factor_parts.items()}
        shells: list = []
        by_factor: dict[str, list] = {}
        for row in rows:
            for piece in row.submobjects:
                part = factors.get(id(piece))
                mine = [f for f in flights if f[0] is piece]
                later = [delta.cells[(0, j)]] if piece is delta else []
                shell, fly = self.arrive(VGroup(piece), mine, later)
                if part is None:
                    shells += [*shell, *fly]
                else:
                    by_factor.setdefault(part, []).extend([*shell, *fly])
        # The delta of this unit, from under its neuron, as the sentence names it.
        delta_cell = delta.cells[(0, j)]
        at = self.delta_at(i + 1, j)
        unit_in = self.fly_from(delta_cell, at) if at is not None else FadeIn(delta_cell)
        g_shell, x_in = self.arrive(grad_rows[0], [(xs, (0, k), self.neuron_at(i, k))])
        g2_shell, cell_in = self.arrive(grad_rows[1], [(grad, (j, k), self.edge_at(i, j, k))])
        dim, undim = self.focus_edges(step, [*[(i + 1, c, j) for c in shown_next], (i, j, k)])
        self.run(
            [
                ([*intro, *header, *dim], 0.6),
                (shells, 0.8, "delta"),
                *[(by_factor[name], 0.7, name) for name in FACTORS if name in by_factor],
                ([unit_in], 0.6, "unit"),
                ([*g_shell, *x_in, *g2_shell], 1.0, "grad"),
                (cell_in, 0.6, "cell"),
                ([FadeIn(note), Write(code)], 0.8, "note"),
                (None, 2.2),
                ([*self.clear_panel(panel), *undim], 0.5),
            ]
        )
