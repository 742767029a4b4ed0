"""The matrix beats and the batch beat: where they come in the storyboard, the numbers
they put on screen and in the narration, and that the two views are one computation."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TEXTBOOK

from backprop_anim import config_from_dict, load_config, train
from backprop_anim.narration import build_script
from backprop_anim.numbers import fmt
from backprop_anim.options import DEFAULT_SCENES, RenderOptions
from backprop_anim.storyboard import batch_weight, build_storyboard, gradient_input


@pytest.fixture(scope="module")
def textbook():
    return train(load_config(TEXTBOOK))


@pytest.fixture(scope="module")
def batch4(request):
    import copy

    from conftest import BASE_CONFIG

    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["training"].update(batch_size=4, steps=2)
    return train(config_from_dict(cfg))


def test_default_lecture_has_matrix_beats_per_layer_and_no_batch_beat_for_one_sample(textbook):
    assert "matrix" in DEFAULT_SCENES and "batch" in DEFAULT_SCENES
    beats = build_storyboard(textbook, RenderOptions())
    ids = [b.id for b in beats]
    assert [b.id for b in beats if b.scene == "matrix"] == [
        "s0.matrix.forward.hidden",
        "s0.matrix.forward.output",
        "s0.matrix.backward.output",
        "s0.matrix.backward.hidden",
    ]
    # After the per-neuron beats they sum up: forward matrices before the loss, backward
    # ones after the last gradients, before the update.
    assert ids.index("s0.matrix.forward.output") < ids.index("s0.loss")
    assert ids.index("s0.forward.output.o2") < ids.index("s0.matrix.forward.hidden")
    assert ids.index("s0.gradients.hidden") < ids.index("s0.matrix.backward.output")
    assert ids.index("s0.matrix.backward.hidden") < ids.index("s0.update.hidden")
    assert not [b for b in beats if b.scene == "batch"]  # one sample: nothing to average


def test_brief_lecture_has_one_matrix_beat_per_pass():
    """At the brief level the matrix form is said once per pass: the first layer forward,
    the last hidden layer backward (where Δ_next·W_next appears)."""
    brief = train(load_config(TEXTBOOK, ["narration.level=brief"]))
    beats = build_storyboard(brief, RenderOptions())
    assert [b.id for b in beats if b.scene == "matrix"] == [
        "s0.matrix.forward.hidden",
        "s0.matrix.backward.hidden",
    ]


def test_batch_beat_for_a_small_batch_and_scenes_by_name(batch4):
    beats = build_storyboard(batch4, RenderOptions(scenes=("batch", "matrix")))
    assert [b.kind for b in beats] == [
        "matrix_forward",
        "matrix_forward",
        "matrix_backward",
        "matrix_backward",
        "batch",
    ]
    (b,) = [b for b in beats if b.kind == "batch"]
    step = batch4.step(b.step)
    i, j, k = batch_weight(step)
    assert (b.layer, b.unit) == (i, j)
    own = step.layers[i].grad_W_per_sample[:, j, k]
    # The weight whose samples disagree most, and the mean the update used.
    spreads = np.ptp(step.layers[i].grad_W_per_sample, axis=0)
    assert np.ptp(own) == spreads.max()
    assert own.mean() == pytest.approx(step.layers[i].grad_W[j, k], abs=1e-12)


def test_batch_narration_speaks_each_samples_gradient_range_and_the_mean(batch4):
    beats = build_storyboard(batch4, RenderOptions(scenes=("batch",)))
    (line,) = build_script(batch4, beats, level="standard")
    step = batch4.step(0)
    i, j, k = batch_weight(step)
    L = step.layers[i]
    own = L.grad_W_per_sample[:, j, k]
    spoken = line.text.replace("minus ", "-")
    assert f"from {fmt(own.min())} to {fmt(own.max())}" in spoken
    assert f"their mean, {fmt(L.grad_W[j, k])}" in spoken
    assert f"from {fmt(L.W[j, k])} to {fmt(L.W_next[j, k])}" in spoken
    assert "4" in line.formulas[0] and fmt(L.grad_W[j, k]) in line.formulas[0]


def test_matrix_highlights_are_the_per_neuron_numbers(textbook):
    """The cells a matrix beat highlights hold the values the per-neuron beats showed."""
    pytest.importorskip("manim")
    from backprop_anim.visual.matrix import MatrixGrid, shown_indices
    from backprop_anim.visual.theme import DARK

    step = textbook.step(0)
    layer = step.layers[0]
    j = 1
    grid = MatrixGrid(layer.z, DARK, name="Z", highlight=[(0, j)])
    hot = [k for k, cell in grid.cells.items() if cell.color.to_hex().upper() == DARK.highlight]
    assert hot == [(0, j)]
    assert grid.cells[(0, j)].text == fmt(layer.z[0, j])  # z of h2 as its forward beat said
    # Z = X Wᵀ + b is the engine's z, entry for entry.
    np.testing.assert_allclose(step.x @ layer.W.T + layer.b, layer.z, rtol=0, atol=1e-15)
    # Large matrices are elided to first rows, a gap, the last.
    assert shown_indices(3) == [0, 1, 2]
    assert shown_indices(10) == [0, None, 9]
    # The numbers a per-neuron beat showed are never elided: column 4 of 10 stays, between
    # ellipses (few columns: numbers large enough to read at 480p).
    assert shown_indices(10, keep={4}) == [None, 4, None]
    assert shown_indices(10, keep={0}) == [0, None]
    assert shown_indices(10, keep={1, 2}) == [None, 1, 2, None]
    big = MatrixGrid(np.arange(60.0).reshape(6, 10), DARK, highlight=[(0, 4)])
    assert set(big.cells) == {(0, 4)} and big.cells[(0, 4)].text == "4"
    plain = MatrixGrid(np.arange(60.0).reshape(6, 10), DARK)
    assert set(plain.cells) == {(r, c) for r in (0, 5) for c in (0, 9)}
    assert plain.cells[(5, 9)].text == "59"


def test_matrix_backward_is_the_engines_matrix_code(batch4):
    step = batch4.step(0)
    hidden, output = step.layers
    # Δ = (Δ_next · W_next) ⊙ f'(Z) and ∂L/∂W = Δᵀ · A: the per-neuron values, all at once.
    np.testing.assert_allclose(
        (output.delta @ output.W) * hidden.act_derivative, hidden.delta, rtol=0, atol=1e-15
    )
    np.testing.assert_allclose(hidden.delta.T @ step.x, hidden.grad_W, rtol=0, atol=1e-15)
    np.testing.assert_allclose(output.delta.T @ hidden.a, output.grad_W, rtol=0, atol=1e-15)
    k = gradient_input(step, 0, 0)
    assert abs(hidden.grad_W[0, k]) == np.abs(hidden.grad_W[0]).max()
