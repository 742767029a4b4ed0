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

from ..storyboard import Beat, batch_weight, gradient_input

if TYPE_CHECKING:
    from .explain import Explainer, Said


def matrix_forward(ex: Explainer, beat: Beat) -> Said:
    from .explain import ALL, BRIEF, DETAIL, FULL, Said

    assert beat.layer is not None and beat.unit is not None
    step, i, j = ex.step_of(beat), beat.layer, beat.unit
    layer = step.layers[i]
    size = step.x.shape[0]
    u = ex.unit(i, j)
    said = Said(f"Matrix form: the forward pass of {ex.layer(i)}")
    a_name = "X" if i == 0 else "A"
    ex.say_once(
        said,
        "matrix forward",
        "The same computation, as the code writes it: one matrix product per layer. Each "
        "row of the input matrix is a sample, each column of W transposed holds the "
        "weights into one neuron.",
        FULL,
    )
    samples = f"{size} samples" if size > 1 else "one sample"
    ex.say(
        said,
        f"For {ex.layer(i)}, Z equals {a_name} times W transposed, plus b: {samples} "
        f"times {layer.W.shape[1]} inputs, into {layer.W.shape[0]} "
        f"{'neuron' if layer.W.shape[0] == 1 else 'neurons'}.",
        ALL,
    )
    ex.say(
        said,
        f"Row one times column {j + 1}, plus the bias, is z of {u}, {ex.n(layer.z[0, j])}, "
        f"the number we computed neuron by neuron; then f of Z gives its activation, "
        f"{ex.n(layer.a[0, j])}.",
        FULL,
    )
    ex.say(
        said,
        f"The highlighted entry is z of {u}, {ex.n(layer.z[0, j])}.",
        BRIEF,
    )
    ex.say_once(
        said,
        "matrix why",
        "Every other entry is another neuron or another sample: one product does them all "
        "at once, which is why the code is fast.",
        DETAIL,
    )
    said.formulas.append(rf"Z = {a_name}\,W^\top + b,\quad A' = f(Z)")
    said.formulas.append(
        rf"z_{{1,{j + 1}}} = {ex.v(layer.z[0, j])},\quad a_{{1,{j + 1}}} = {ex.v(layer.a[0, j])}"
    )
    return said


def matrix_backward(ex: Explainer, beat: Beat) -> Said:
    from .explain import ALL, BRIEF, FULL, Said

    assert beat.layer is not None and beat.unit is not None
    step, i, j = ex.step_of(beat), beat.layer, beat.unit
    layer = step.layers[i]
    k = gradient_input(step, i, j)
    u = ex.unit(i, j)
    size = step.x.shape[0]
    last = i == len(step.layers) - 1
    said = Said(f"Matrix form: the backward pass of {ex.layer(i)}")
    if last:
        ex.say(
            said,
            f"Backwards in matrix form: at the output, Delta is the loss's slope with respect "
            f"to the outputs, element by element times f prime of Z; the delta of {u}, "
            f"{ex.n(layer.delta[0, j])}, is in row one.",
            FULL,
        )
    else:
        ex.say(
            said,
            f"For {ex.layer(i)}, Delta equals the next layer's Delta times its weight matrix, "
            f"element by element times f prime of Z: the same sum over outgoing edges as "
            f"before, for every neuron and sample at once. The delta of {u}, "
            f"{ex.n(layer.delta[0, j])}, is in row one, column {j + 1}.",
            FULL,
        )
    batch = f", summed over the {size} samples" if size > 1 else ""
    ex.say(
        said,
        f"The weight gradients are Delta transposed times the layer's inputs{batch}: for "
        f"{ex.edge(i, j, k)}, {ex.n(layer.grad_W[j, k])}.",
        ALL if not last else FULL,
    )
    if last:
        ex.say(
            said,
            f"Delta transposed times the inputs gives every weight gradient; for "
            f"{ex.edge(i, j, k)}, {ex.n(layer.grad_W[j, k])}.",
            BRIEF,
        )
    if size > 1:
        ex.say_once(
            said,
            "matrix batch mean",
            f"Delta already carries the one over {size} of the batch mean, so the product is "
            "the mean of the samples' gradients.",
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
    ex.say(
        said,
        f"This step trains on a batch of {size} samples, and each has its own gradient for "
        f"{edge}: from {ex.n(own.min())} to {ex.n(own.max())}.",
        ALL,
    )
    ups, downs = int(np.sum(own < 0)), int(np.sum(own > 0))
    if ups and downs:
        ex.say(
            said,
            f"They disagree: {ups} of them would push the weight up, {downs} down, because "
            "each sample has its own error and its own activations.",
            FULL,
        )
    else:
        ex.say(
            said,
            "They agree on the direction but not on the size: each sample has its own error "
            "and its own activations.",
            FULL,
        )
    ex.say(
        said,
        f"The update uses their mean, {ex.n(layer.grad_W[j, k])}: averaging keeps what the "
        "samples agree on and lets their disagreements cancel.",
        ALL,
    )
    if layer.updated:
        ex.say(
            said,
            f"So the weight goes from {ex.n(layer.W[j, k])} to {ex.n(layer.W_next[j, k])}.",
            FULL,
        )
    ex.say(
        said,
        "The strip below does the same for every weight of the layer: one row per sample, "
        "and the mean at the bottom.",
        FULL,
    )
    ex.say_once(
        said,
        "batch noise",
        "A larger batch gives a mean that changes less from step to step; a single sample "
        "gives a noisier, cheaper step.",
        DETAIL,
    )
    cells = " + ".join(ex.v(g) for g in own)
    said.formulas.append(
        rf"\frac{{\partial L}}{{\partial {ex.edge_tex(i, j, k)}}} = \frac{{1}}{{{size}}}"
        rf"\left({cells}\right) = {ex.v(layer.grad_W[j, k])}"
    )
    return said
