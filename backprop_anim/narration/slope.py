"""The words of the slope beat: the gradient is the slope of L along one weight."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..storyboard import Beat, gradient_input

if TYPE_CHECKING:
    from .explain import Explainer, Said


def weight_slope(ex: Explainer, beat: Beat) -> Said:
    from .explain import ALL, BRIEF, DETAIL, FULL, Said, _tex_name

    assert beat.layer is not None and beat.unit is not None
    step, i, j = ex.step_of(beat), beat.layer, beat.unit
    k = gradient_input(step, i, j)
    L = step.layers[i]
    a_prev = ex.a_prev(step, i)
    g, w, w_next = L.grad_W[j, k], L.W[j, k], L.W_next[j, k]
    u, src = ex.unit(i, j), ex.prev_name(i, k)
    edge = ex.edge(i, j, k)
    said = Said(f"The slope of the loss along {edge}")
    ex.say(
        said,
        f"What does that delta mean for a weight? Here is the loss of this step as a "
        f"function of {edge} alone, everything else held where it is.",
        FULL,
    )
    if len(step.samples) == 1:
        ex.say(
            said,
            f"The chain rule just gave the delta of {u}, {ex.n(L.delta[0, j])}; times the "
            f"input {src} carries, {ex.n(a_prev[0, k])}, that is {ex.n(g)}: exactly the "
            "slope of the tangent to this curve.",
            ALL,
        )
    else:
        ex.say(
            said,
            f"The chain rule's product, the delta of {u} times the activation of {src}, summed "
            f"over the batch, is {ex.n(g)}: exactly the slope of the tangent to this curve.",
            ALL,
        )
    way = "down" if w_next < w else "up"
    if w_next != w:
        ex.say(
            said,
            f"The update steps against that slope: the weight goes {way}, from {ex.n(w)} to "
            f"{ex.n(w_next)}, and the loss along the tangent falls with it.",
            FULL,
        )
        ex.say(said, f"The update moves the weight from {ex.n(w)} to {ex.n(w_next)}.", BRIEF)
    else:
        ex.say(said, "This weight does not move in this step.", ALL)
    ex.say_once(
        said,
        "tangent is local",
        "The tangent is only the curve's direction here: a small step follows it closely, a "
        "large step can overshoot where the curve bends.",
        DETAIL,
    )
    said.formulas.append(
        rf"\frac{{\partial L}}{{\partial {ex.edge_tex(i, j, k)}}} = "
        rf"\delta_{{{_tex_name(ex.units[i][j])}}}\, a_{{{ex.prev_tex(i, k)}}} = {ex.v(g)}"
    )
    return said
