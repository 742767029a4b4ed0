"""The words of the slope beat: the gradient is the slope of L along one weight."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..storyboard import Beat, gradient_input

if TYPE_CHECKING:
    from .explain import Explainer, Said


def weight_slope(ex: Explainer, beat: Beat) -> Said:
    from .explain import BRIEF, DETAIL, FULL, Said, _tex_name

    assert beat.layer is not None and beat.unit is not None
    step, i, j = ex.step_of(beat), beat.layer, beat.unit
    k = gradient_input(step, i, j)
    L = step.layers[i]
    a_prev = ex.a_prev(step, i)
    g, w, w_next = L.grad_W[j, k], L.W[j, k], L.W_next[j, k]
    u, src = ex.unit(i, j), ex.prev_name(i, k)
    edge = ex.edge(i, j, k)
    said = Said(f"The slope of the loss along {edge}")
    # Parts: the weight's edge, the curve L(w), δ and a flying into ∂L/∂w = δ·a, the
    # gradient, the tangent of that slope, the update's step along it, where it lands.
    brief = ex.level in BRIEF
    ex.say(
        said,
        "[[edge]]What does that delta mean for a weight? [[curve]]Here is the loss of this "
        f"step as a function of {edge} alone, everything else held where it is.",
        FULL,
    )
    if brief:  # one sentence: the curve, its slope, the step
        step_words = (
            f"; [[step]]the update steps down it, to {ex.n(w_next)}."
            if w_next != w
            else "; [[step]]this weight does not move."
        )
        ex.say(
            said,
            f"[[edge]]Along {edge}, [[curve]]the loss is this curve, [[delta]]and delta times "
            f"[[input]]input, [[gradient]]{ex.n(g)}, [[tangent]]is the slope of its tangent"
            + step_words,
            BRIEF,
        )
    elif len(step.samples) == 1:
        ex.say(
            said,
            f"[[delta]]The chain rule just gave the delta of {u}, {ex.n(L.delta[0, j])}; "
            f"[[input]]times the input {src} carries, {ex.n(a_prev[0, k])}, that is "
            f"[[gradient]]{ex.n(g)}: [[tangent]]exactly the slope of the tangent to this curve.",
        )
    else:
        ex.say(
            said,
            f"[[delta]]The chain rule's product, the delta of {u} times the activation of {src}, "
            f"summed over the batch, is [[gradient]]{ex.n(g)}: [[tangent]]exactly the slope of "
            "the tangent to this curve.",
        )
    way = "down" if w_next < w else "up"
    if w_next != w:
        ex.say(
            said,
            f"[[step]]The update steps against that slope: the weight goes {way}, from "
            f"{ex.n(w)} to {ex.n(w_next)}, and the loss along the tangent falls with it.",
            FULL,
        )
    else:
        ex.say(said, "[[step]]This weight does not move in this step.", FULL)
    ex.say_once(
        said,
        "tangent is local",
        "[[landed]]The tangent is only the curve's direction here: a small step follows it "
        "closely, a large step can overshoot where the curve bends.",
        DETAIL,
    )
    said.formulas.append(
        rf"\frac{{\partial L}}{{\partial {ex.edge_tex(i, j, k)}}} = "
        rf"\delta_{{{_tex_name(ex.units[i][j])}}}\, a_{{{ex.prev_tex(i, k)}}} = {ex.v(g)}"
    )
    return said
