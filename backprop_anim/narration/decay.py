"""The words for weight decay: the update offset by the weight itself.

Kept beside :mod:`explain` (which calls these from its update and ranking beats) so the
decay's sentences live in one place. Every number is a trace value: λ from the trace's
optimizer, λw from the layer's state term ``decay``, the two parts of a move from
:meth:`LayerStep.move_parts`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..trace.model import LayerStep, Step
from . import pictures

if TYPE_CHECKING:
    from .explain import Explainer, Said


def mark(said: Said, name: str) -> str:
    """``[[name]]`` unless a sentence of this beat already opened that part (a part starts
    once: the first sentence that names it)."""
    return "" if any(f"[[{name}]]" in text for text in said.sentences) else f"[[{name}]]"


def decay_update(ex: Explainer, said: Said, i: int, layer: LayerStep, j: int, k: int) -> bool:
    """Say how one weight moved with weight decay; False when this layer has no decay."""
    from .explain import BRIEF, FULL

    if "decay" not in layer.state:
        return False
    opt = ex.opt
    lr, lam = opt["learning_rate"], opt["weight_decay"]
    w, g, w_next = layer.W[j, k], layer.grad_W[j, k], layer.W_next[j, k]
    decay = layer.state["decay"][j, k]
    from_grad, from_weight = layer.move_parts(opt)
    # Parts of the update beat (storyboard.BEAT_PARTS["update"]): the rule, the table, the
    # edges changing, the note; each sentence opens the part it speaks.
    ex.say_once(
        said,
        "weight decay rule",
        f"{mark(said, 'rule')}With weight decay, lambda {ex.n(lam)}, the step is offset by the "
        "weight itself: lambda times the weight joins the gradient, so every weight is also "
        "pulled toward zero, in proportion to its size; the biases are not decayed.",
        FULL,
    )
    ex._explained.add("biases not decayed")
    edge = ex.edge(i, j, k)
    # Without the rule's sentence (a later layer) the table's sentence opens the rule too.
    opening = mark(said, "rule") if ex.level in FULL else ""
    split = (
        f"of its move, {ex.n(from_grad[j, k])} comes from the gradient and "
        f"{ex.n(from_weight[j, k])} from the weight itself."
    )
    # The example's w⁺ lands on its edge as its value is said ([[weight]]); every other
    # edge turns to its w⁺ at the sentence that says they move too ([[edges]]).
    if opt.get("name", "sgd") == "sgd":
        ex.say(
            said,
            f"{opening or '[[table]]'}{edge.capitalize()}: {'[[table]]' if opening else ''}its "
            f"gradient is {ex.n(g)} and lambda times the weight is {ex.n(decay)}; {ex.n(w)} minus "
            f"{ex.n(lr)} times their sum gives [[weight]]{ex.n(w_next)}: {split}",
            FULL,
        )
    else:
        ex.say(
            said,
            f"{opening or '[[table]]'}{edge.capitalize()} {'[[table]]' if opening else ''}goes "
            f"from {ex.n(w)} to [[weight]]{ex.n(w_next)}; lambda times the weight, "
            f"{ex.n(decay)}, is part of that step: {split}",
            FULL,
        )
    ex.other_weights(said, i, layer)
    ex.say(
        said,
        f"{mark(said, 'rule')}{ex.layer(i).capitalize()}: each weight moves against its gradient "
        f"and toward zero; {edge} becomes [[weight]]{ex.n(w_next)}{ex.others_too(layer)}",
        BRIEF,
    )
    pictures.weights_change(ex, said, i, layer, j)
    zero = np.argwhere((layer.grad_W == 0.0) & (layer.W != 0.0))
    if len(zero):
        jj, kk = (int(v) for v in zero[0])
        ex.say(
            said,
            f"[[note]]Even {ex.edge(i, jj, kk)}, whose gradient is exactly zero, moves: from "
            f"{ex.n(layer.W[jj, kk])} to {ex.n(layer.W_next[jj, kk])}, by the weight's own "
            "term alone.",
        )
    said.formulas.append(
        rf"{ex.edge_tex(i, j, k)}^+ = {ex.v(w)} - {ex.t(lr)} \cdot ({ex.v(g)} + {ex.v(decay)}) "
        f"= {ex.v(w_next)}"
        if opt.get("name", "sgd") == "sgd"
        else rf"{ex.edge_tex(i, j, k)}^+ = {ex.v(w_next)},\quad \lambda w = {ex.v(decay)}"
    )
    return True


def decay_ranking(ex: Explainer, said: Said, step: Step) -> None:
    """Say how much of the moves came from the weights themselves (nothing without decay)."""
    from .explain import FULL

    opt = ex.opt
    if not opt.get("weight_decay"):
        return
    parts = [layer.move_parts(opt) for layer in step.layers if "decay" in layer.state]
    if not parts:
        return
    grad_total = sum(float(np.abs(g).sum()) for g, _ in parts)
    weight_total = sum(float(np.abs(w).sum()) for _, w in parts)
    ex.say(
        said,
        "[[split]]Each bar is split in two: the part of the move that came from the gradient, "
        "and the part that came from the weight itself, minus the learning rate times lambda "
        f"times w; added up over the moving weights, the gradients moved them by "
        f"{ex.n(grad_total)} and the decay by {ex.n(weight_total)}.",
        FULL,
    )
