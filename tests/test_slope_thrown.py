"""Two answers inside the step: the gradient is the slope of L along a weight (the slope
beat), and a one-layer-at-a-time update throws away gradients it computed (the thrown
beat). Each is checked on its own trace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backprop_anim import load_config, train
from backprop_anim import overview as ov
from backprop_anim.narration import build_script
from backprop_anim.narration.speech import strip_marks
from backprop_anim.numbers import fmt
from backprop_anim.options import RenderOptions
from backprop_anim.storyboard import build_storyboard, gradient_input

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def textbook():
    return train(load_config(REPO / "configs" / "textbook-2-2-2.yaml"))


@pytest.fixture(scope="module")
def one_layer():
    return train(load_config(REPO / "configs" / "one-layer-at-a-time.yaml", ["training.steps=3"]))


@pytest.mark.parametrize("config", ["textbook-2-2-2", "why-the-derivative", "xor"])
def test_the_tangent_slope_is_the_traced_gradient(config):
    trace = train(load_config(REPO / "configs" / f"{config}.yaml"))
    step = trace.steps[0]
    beats = build_storyboard(trace, RenderOptions(scenes=("backward",)))
    (slope,) = [b for b in beats if b.kind == "weight_slope"]
    i, j = slope.layer, slope.unit
    # Right after the backward beat of the unit it is about.
    ids = [b.id for b in beats]
    assert ids[ids.index(slope.id) - 1] == slope.id.removesuffix(".slope")
    k = gradient_input(step, i, j)
    layer = step.layers[i]
    w, g = float(layer.W[j, k]), float(layer.grad_W[j, k])
    # L(w) through the overview's own function: at the step's weight, the step's loss...
    assert ov.step_weight_loss(trace, step, i, j, k, np.array([w]))[0] == pytest.approx(
        step.loss, rel=1e-12
    )
    # ...and its slope there (a central difference) is the traced gradient.
    h = 1e-6
    left, right = ov.step_weight_loss(trace, step, i, j, k, np.array([w - h, w + h]))
    assert (right - left) / (2 * h) == pytest.approx(g, rel=1e-6, abs=1e-10)
    assert g != 0.0
    # The curve's axis holds the update's step, and the step goes downhill along it.
    ws, losses = ov.step_weight_curve(trace, step, i, j, k)
    w_next = float(layer.W_next[j, k])
    assert ws[0] < min(w, w_next) and max(w, w_next) < ws[-1]
    assert np.all(np.isfinite(losses))
    assert (w_next - w) * g < 0


def test_slope_narration_ties_the_slope_to_the_chain_rule(textbook):
    beats = build_storyboard(textbook, RenderOptions(scenes=("backward",)))
    lines = {line.beat_id: strip_marks(line.text) for line in build_script(textbook, beats)}
    text = lines["s0.backward.output.o1.slope"]
    step = textbook.steps[0]
    out = step.layers[1]
    k = gradient_input(step, 1, 0)
    assert f"the delta of o1, {fmt(out.delta[0, 0])}" in text
    assert f"that is {fmt(out.grad_W[0, k])}: exactly the slope of the tangent" in text
    assert f"from {fmt(out.W[0, k])} to {fmt(out.W_next[0, k])}" in text


def test_one_layer_at_a_time_thrown_away_gradients_are_nonzero_and_unapplied(one_layer):
    for step in one_layer.steps:
        thrown = [L for L in step.layers if not L.updated]
        applied = [L for L in step.layers if L.updated]
        assert len(applied) == 1 and len(thrown) == len(step.layers) - 1
        for L in thrown:
            assert np.abs(L.grad_W).max() > 1e-3  # computed, and not small...
            np.testing.assert_array_equal(L.W_next, L.W)  # ...and thrown away
            assert "random_layer" in L.update_reason
        assert np.any(applied[0].W_next != applied[0].W)
        beats = build_storyboard(one_layer, RenderOptions(scenes=("update",), steps=[step.step]))
        assert beats[-1].kind == "update_thrown"
        (line,) = [x for x in build_script(one_layer, beats) if x.beat_id.endswith(".thrown")]
        computed = sum(L.grad_W.size for L in step.layers)
        text = strip_marks(line.text)
        assert f"{computed} weight gradients" in text
        assert f"{applied[0].grad_W.size} of the {computed}" in text
        big = max(thrown, key=lambda L: np.abs(L.grad_W).max())
        top = big.grad_W.flat[np.argmax(np.abs(big.grad_W))]
        assert f"the largest is {fmt(top)}" in text.replace("minus ", "-")


def test_no_thrown_beat_when_every_layer_is_updated(textbook):
    beats = build_storyboard(textbook, RenderOptions())
    assert not [b for b in beats if b.kind == "update_thrown"]
