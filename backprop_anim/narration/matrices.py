"""The words of the matrix beats and the batch beat.

The matrix beats say that the per-neuron numbers just heard are entries of one matrix
product per layer (the code people write); the batch beat says why the samples of a
batch disagree about a weight and what averaging their gradients does. Every number is
a trace value read the way :class:`~backprop_anim.narration.explain.Explainer` reads it
(its ``n`` and ``v``), so the screen, the voice and the notes agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..maths.losses import get_loss
from ..storyboard import Beat, batch_weight, gradient_input

if TYPE_CHECKING:
    from .explain import Explainer, Said


def matrix_forward(ex: Explainer, beat: Beat) -> Said:
    from .explain import BRIEF, DETAIL, FULL, Said

    assert beat.layer is not None and beat.unit is not None
    step, i, j = ex.step_of(beat), beat.layer, beat.unit
    layer = step.layers[i]
    size = step.x.shape[0]
    u = ex.unit(i, j)
    said = Said(f"Matrix form: the forward pass of {ex.layer(i)}")
    a_name = "X" if i == 0 else "A"
    # Each sentence opens the part it speaks ([[name]], storyboard.BEAT_PARTS): the code,
    # the product, sample 1's numbers flying in from the network, z, a, every other entry.
    ex.say_once(
        said,
        "matrix forward",
        "[[code]]The same computation, as the code writes it: one matrix product per layer, "
        "each row of the input matrix a sample, each column of W transposed the weights into "
        "one neuron.",
        FULL,
    )
    # Without the sentence about the code (a later layer), this one opens the code too.
    opening = (
        f"[[product]]For {ex.layer(i)}, "
        if said.sentences
        else (f"[[code]]In code, for {ex.layer(i)}, [[product]]")
    )
    samples = f"{size} samples" if size > 1 else "one sample"
    units = "neuron" if layer.W.shape[0] == 1 else "neurons"
    ex.say(
        said,
        f"{opening}Z equals {a_name} times W transposed, plus b: {samples} times "
        f"{layer.W.shape[1]} inputs, into {layer.W.shape[0]} {units}.",
        FULL,
    )
    ex.say(
        said,
        f"[[inputs]]Row one times column {j + 1}, plus the bias, is z of {u}, "
        f"[[z]]{ex.n(layer.z[0, j])}, the number we computed neuron by neuron; [[a]]then f of "
        f"Z gives its activation, {ex.n(layer.a[0, j])}.",
        FULL,
    )
    # Brief: one sentence (the matrix beats are a third of a brief lecture otherwise).
    ex.say(
        said,
        f"[[code]]In code, [[product]]Z equals {a_name} times W transposed, plus b; "
        f"[[inputs]]row one, column {j + 1}, [[z]]is z of {u}, {ex.n(layer.z[0, j])}.",
        BRIEF,
    )
    ex.say_once(
        said,
        "matrix why",
        "[[rest]]Every other entry is another neuron or another sample: one product does them "
        "all at once, which is why the code is fast.",
        DETAIL,
    )
    said.formulas.append(rf"Z = {a_name}\,W^\top + b,\quad A' = f(Z)")
    said.formulas.append(
        rf"z_{{1,{j + 1}}} = {ex.v(layer.z[0, j])},\quad a_{{1,{j + 1}}} = {ex.v(layer.a[0, j])}"
    )
    return said


def matrix_backward(ex: Explainer, beat: Beat) -> Said:
    from .explain import BRIEF, FULL, Said

    assert beat.layer is not None and beat.unit is not None
    step, i, j = ex.step_of(beat), beat.layer, beat.unit
    layer = step.layers[i]
    k = gradient_input(step, i, j)
    u = ex.unit(i, j)
    size = step.x.shape[0]
    last = i == len(step.layers) - 1
    said = Said(f"Matrix form: the backward pass of {ex.layer(i)}")
    # Parts: the delta rows, then each factor as its words name it (the next layer's
    # deltas, its weights, f'(Z): each flies in from the network), this unit's delta, the
    # gradient rows, the gradient's cell (from its edge), the note and code.
    if last:
        loss = get_loss(ex.trace.network.loss)
        fused = loss.fused_activation == ex.trace.network.activations[i]
        slope = (
            "the output minus the target, the chain rule's product in closed form"
            if fused
            else "the loss's slope with respect to the outputs, element by element times "
            "[[deriv]]f prime of Z"
        )
        ex.say(
            said,
            f"[[delta]]Backwards in matrix form: at the output, Delta is {slope}; [[unit]]the "
            f"delta of {u}, {ex.n(layer.delta[0, j])}, is in row one.",
            FULL,
        )
    else:
        ex.say(
            said,
            f"[[delta]]For {ex.layer(i)}, Delta equals [[next]]the next layer's Delta times "
            "[[weights]]its weight matrix, element by element times [[deriv]]f prime of Z: "
            "the same sum over outgoing edges as before, for every neuron and sample at once.",
            FULL,
        )
        ex.say(
            said,
            f"[[unit]]The delta of {u}, {ex.n(layer.delta[0, j])}, is in row one, column {j + 1}.",
            FULL,
        )
    batch = f", summed over the {size} samples" if size > 1 else ""
    ex.say(
        said,
        f"[[grad]]The weight gradients are Delta transposed times the layer's inputs{batch}: "
        f"[[cell]]for {ex.edge(i, j, k)}, {ex.n(layer.grad_W[j, k])}.",
        FULL,
    )
    ex.say(
        said,
        f"[[delta]]Delta holds the deltas of {ex.layer(i)}; [[grad]]Delta transposed times the "
        f"inputs is every weight gradient, [[cell]]{ex.n(layer.grad_W[j, k])} for "
        f"{ex.edge(i, j, k)}.",
        BRIEF,
    )
    if size > 1:
        ex.say_once(
            said,
            "matrix batch mean",
            f"[[note]]Delta already carries the one over {size} of the batch mean, so the "
            "product is the mean of the samples' gradients.",
            FULL,
        )
    said.formulas.append(
        r"\Delta = \frac{\partial L}{\partial A} \odot f'(Z)"
        if last
        else r"\Delta = (\Delta_{\text{next}}\,W_{\text{next}}) \odot f'(Z)"
    )
    said.formulas.append(
        rf"\frac{{\partial L}}{{\partial W}} = \Delta^\top A_{{\text{{prev}}}},\quad "
        rf"\frac{{\partial L}}{{\partial {ex.edge_tex(i, j, k)}}} = {ex.v(layer.grad_W[j, k])}"
    )
    return said


def batch(ex: Explainer, beat: Beat) -> Said:
    from .explain import ALL, DETAIL, FULL, Said

    step = ex.step_of(beat)
    i, j, k = batch_weight(step)
    layer = step.layers[i]
    per_sample = layer.grad_W_per_sample
    assert per_sample is not None
    own = per_sample[:, j, k]
    size = len(own)
    said = Said("The batch: each sample's gradient, and their mean")
    edge = ex.edge(i, j, k)
    # Parts: the samples' own gradients, their signs, the mean (each sample's number goes
    # into it), the update made from the mean, the strip of the whole layer.
    ex.say(
        said,
        f"[[samples]]This step trains on a batch of {size} samples, and each has its own "
        f"gradient for {edge}: from {ex.n(own.min())} to {ex.n(own.max())}.",
        ALL,
    )
    ups, downs = int(np.sum(own < 0)), int(np.sum(own > 0))
    if ups and downs:
        ex.say(
            said,
            f"[[signs]]They disagree: {ups} of them would push the weight up, {downs} down, "
            "because each sample has its own error and its own activations.",
            FULL,
        )
    else:
        ex.say(
            said,
            "[[signs]]They agree on the direction but not on the size: each sample has its own "
            "error and its own activations.",
            FULL,
        )
    ex.say(
        said,
        f"[[mean]]The update uses their mean, {ex.n(layer.grad_W[j, k])}: averaging keeps what "
        "the samples agree on and lets their disagreements cancel.",
        ALL,
    )
    if layer.updated:
        ex.say(
            said,
            f"[[update]]So the weight goes from {ex.n(layer.W[j, k])} to "
            f"{ex.n(layer.W_next[j, k])}.",
            FULL,
        )
    strip = (
        "[[strip]]The strip below does the same for every weight of the layer: one row per "
        "sample, and the mean at the bottom"
    )
    if ex.level in DETAIL and "batch noise" not in ex._explained:
        ex._explained.add("batch noise")
        strip += (
            "; a larger batch gives a mean that changes less from step to step, a single "
            "sample a noisier, cheaper step"
        )
    ex.say(said, strip + ".", FULL)
    cells = " + ".join(ex.v(g) for g in own)
    said.formulas.append(
        rf"\frac{{\partial L}}{{\partial {ex.edge_tex(i, j, k)}}} = \frac{{1}}{{{size}}}"
        rf"\left({cells}\right) = {ex.v(layer.grad_W[j, k])}"
    )
    return said
