"""The lecture library in configs/: every config traces, and each lecture's claim holds.

A lecture is only worth showing if what it says is true of its own trace: these tests
train each config (and each variant of its sweep) and check the claim with numbers.
"""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from narration_fixtures import spoken_numbers

from backprop_anim import load_config, train
from backprop_anim import overview as ov
from backprop_anim.batch.sweep import load_batch
from backprop_anim.config.loader import LoadedConfig
from backprop_anim.narration import build_script
from backprop_anim.numbers import fmt, spoken
from backprop_anim.options import RenderOptions
from backprop_anim.storyboard import build_storyboard
from backprop_anim.trace.model import Trace

REPO = Path(__file__).resolve().parent.parent
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))
SWEEPS = sorted((REPO / "configs" / "sweeps").glob("*.yaml"))
LECTURES = {
    "textbook-2-2-2",
    "which-weights-move",
    "why-the-derivative",
    "regression-output",
    "tanh-saturation",
    "one-layer-at-a-time",
    "xor",
    "digits",
    "optimizers",
    "weight-decay",
}


@cache
def lecture(name: str) -> Trace:
    return train(load_config(REPO / "configs" / f"{name}.yaml"))


@cache
def variants(sweep: str) -> dict[str, Trace]:
    """Every variant of a sweep in configs/sweeps/, trained."""
    batch = load_batch(REPO / "configs" / "sweeps" / f"{sweep}.yaml")
    return {
        v.name: train(LoadedConfig(v.config, str(batch.base), batch.base_dir))
        for v in batch.variants
    }


def overview_text(trace: Trace, level: str = "standard") -> str:
    beats = build_storyboard(trace, RenderOptions(scenes=("title", "overview")))
    lines = build_script(trace, beats, level=level)
    return next(line.text for line in lines if line.beat_id == "overview")


# --- the library as a whole ------------------------------------------------------------


def test_the_library_has_every_lecture():
    assert {p.stem for p in CONFIGS} == LECTURES


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_config_validates_traces_and_is_a_lecture(path):
    loaded = load_config(path)
    cfg = loaded.config
    assert cfg.name == path.stem
    assert cfg.title and len(cfg.description.split()) >= 20
    assert cfg.narration.enabled
    trace = lecture(path.stem)
    assert trace.diverged is None
    assert trace.steps and len(trace.summary.loss) == cfg.training.steps
    # The overview reads this trace: keyframes from the first to the last snapshot.
    frames = ov.keyframes(trace)
    assert frames[0].step == 0 and frames[-1].step == cfg.training.steps
    assert 2 <= len(frames) <= ov.KEYFRAMES


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_every_sweep_loads_and_every_variant_validates(path):
    batch = load_batch(path)
    assert batch.base.resolve() == REPO / "configs" / f"{path.stem}.yaml"
    assert len(batch.variants) >= 2
    assert "overview" in batch.options.scenes
    assert len({v.hash for v in batch.variants}) == len(batch.variants)


# --- each lecture's claim ----------------------------------------------------------------


def test_which_weights_move_some_gradients_are_exactly_zero_and_the_rest_differ():
    step = lecture("which-weights-move").steps[0]
    hidden, output = step.layers
    assert step.x[0, 1] == 0.0  # x2 = 0: the weights leaving it get no gradient
    assert np.all(hidden.grad_W[:, 1] == 0.0)
    assert hidden.z[0, 1] <= 0.0  # h2's ReLU is off: nothing flows into or out of it
    assert np.all(hidden.grad_W[1] == 0.0) and output.grad_W[0, 1] == 0.0
    moves = np.concatenate([np.abs(layer.delta_W).ravel() for layer in step.layers])
    assert np.count_nonzero(moves == 0.0) == 6  # 3 into h2, 2 more from x2, 1 out of h2
    moving = moves[moves > 0]
    assert len(moving) == 6 and len(np.unique(moving)) == len(moving)


def test_why_the_derivative_the_slope_is_the_gradient_and_the_step_goes_against_it():
    trace = lecture("why-the-derivative")
    assert ov.view_of(trace) == "weight"
    lr = trace.network.optimizer["learning_rate"]
    snaps = trace.summary.snapshots
    for k in range(len(snaps) - 1):
        slope = ov.weight_slope(trace, snaps[k])
        # The slope of L(w) at the snapshot is the gradient the engine used at that step...
        assert abs(slope) == pytest.approx(trace.summary.grad_norms[k][0], rel=1e-12)
        # ...and the update moved w by the learning rate times it, downhill.
        w, w_next = float(snaps[k].W[0][0, 0]), float(snaps[k + 1].W[0][0, 0])
        assert w_next - w == pytest.approx(-lr * slope, rel=1e-9)
    # L(w) at the snapshot's own weight is the snapshot's loss.
    w0 = float(snaps[0].W[0][0, 0])
    assert ov.weight_loss(trace, snaps[0], np.array([w0]))[0] == pytest.approx(snaps[0].loss)


def test_why_the_derivative_learning_rates_too_small_right_and_too_large():
    runs = variants("why-the-derivative")
    small, right, large = runs["lr-0.5"], runs["lr-2"], runs["lr-40"]
    final = {k: r.summary.snapshots[-1].loss for k, r in runs.items()}
    assert final["lr-2"] < final["lr-0.5"] / 50  # the small rate creeps
    # The large rate jumps past the minimum (w* = logit(0.9) / 2) onto the flat tail...
    w_star = np.log(0.9 / 0.1) / 2.0
    w_large = [float(s.W[0][0, 0]) for s in large.summary.snapshots]
    assert w_large[1] > 3 * w_star
    # ...where the slope is almost zero, so it stays far from the minimum.
    assert abs(ov.weight_slope(large, large.summary.snapshots[-1])) < 1e-3
    assert w_large[-1] > 3 * w_star and final["lr-40"] > final["lr-2"] * 100
    assert small.diverged is None and right.diverged is None


def _rmse(trace: Trace) -> float:
    X, Y = ov.data_arrays(trace)
    shown = ov.display_targets(trace, Y)
    return float(np.sqrt(np.mean((ov.predict(trace, trace.summary.snapshots[-1], X) - shown) ** 2)))


def test_regression_output_linear_fits_unscaled_sigmoid_cannot_scaled_sigmoid_can():
    runs = variants("regression-output")
    linear, raw, scaled = runs["linear"], runs["sigmoid-unscaled"], runs["sigmoid-scaled"]
    assert _rmse(linear) < 0.15 and _rmse(scaled) < 0.15  # noise is 0.08
    # A sigmoid output lives in (0, 1): the sine's negative half (and its noisy peaks
    # above 1) are out of reach.
    X, Y = ov.data_arrays(raw)
    out = ov.predict(raw, raw.summary.snapshots[-1], X)
    assert out.min() > 0.0 and out.max() < 1.0
    assert ov.targets_out_of_reach(raw) == pytest.approx(np.mean((Y <= 0.0) | (Y >= 1.0)))
    assert ov.targets_out_of_reach(raw) > 0.4 and _rmse(raw) > 0.4
    assert raw.warnings and "scale the targets" in raw.warnings[0]
    # Scaled targets: the sigmoid's reach, in the data's units, covers every target.
    assert ov.targets_out_of_reach(scaled) == 0.0
    lo, hi = ov.output_reach(scaled)
    shown = ov.display_targets(scaled, ov.data_arrays(scaled)[1])
    assert lo < shown.min() and shown.max() < hi
    assert "percent of the targets lie outside" in overview_text(raw)
    percent = spoken(100 * ov.targets_out_of_reach(raw))
    assert f"{percent} percent of the targets" in overview_text(raw)


def test_tanh_saturation_naive_init_saturates_and_starves_the_gradient():
    runs = variants("tanh-saturation")
    naive, xavier, nw = (
        runs["init-uniform"],
        runs["init-xavier_uniform"],
        runs["init-nguyen_widrow"],
    )
    sat = {k: r.summary.snapshots[0].saturation[0] for k, r in runs.items()}
    assert sat["init-uniform"] > 0.6
    assert sat["init-uniform"] > 5 * sat["init-xavier_uniform"] > 0
    assert sat["init-uniform"] > 5 * sat["init-nguyen_widrow"]
    # The histogram shows it: most pre-activations lie beyond the saturating |z|.
    z_sat = ov.saturating_z("tanh")
    bins = np.asarray(naive.summary.z_bins)
    centres = (bins[:-1] + bins[1:]) / 2
    counts = np.asarray(naive.summary.snapshots[0].z_hist[0], dtype=float)
    assert counts[np.abs(centres) > z_sat].sum() / counts.sum() > 0.6
    # Saturated units pass little gradient back: the hidden layer's first gradient is
    # less than half of the scaled inits', and the network learns less in 300 steps.
    g = {k: r.summary.grad_norms[0][0] for k, r in runs.items()}
    assert g["init-uniform"] < 0.5 * min(g["init-xavier_uniform"], g["init-nguyen_widrow"])
    last = {k: r.summary.snapshots[-1] for k, r in runs.items()}
    scaled = max(last["init-xavier_uniform"].loss, last["init-nguyen_widrow"].loss)
    assert last["init-uniform"].loss > 1.5 * scaled
    assert last["init-uniform"].accuracy < min(
        last["init-xavier_uniform"].accuracy, last["init-nguyen_widrow"].accuracy
    )
    text = overview_text(naive)
    assert f"{spoken(100 * sat['init-uniform'])} percent of the hidden layer's outputs" in text
    assert "saturated" not in overview_text(xavier) and "saturated" not in overview_text(nw)


def _gradients_to_reach(trace: Trace, loss: float) -> float:
    """Layer gradients computed before the loss on the data first fell to ``loss``."""
    s = trace.summary
    for snap in s.snapshots:
        if snap.loss <= loss:
            return s.gradient_evaluations[snap.step - 1] if snap.step else 0
    return float("inf")


def test_one_layer_at_a_time_needs_more_gradient_computations():
    runs = variants("one-layer-at-a-time")
    one, every = runs["update-random_layer"], runs["update-all"]
    assert all(len(u) == 1 for u in one.summary.updated_layers)
    assert all(len(u) == 3 for u in every.summary.updated_layers)
    # Both compute every layer's gradient at every step: the same work per step.
    assert one.summary.gradient_evaluations == every.summary.gradient_evaluations
    for target in (0.3, 0.25):
        assert _gradients_to_reach(one, target) > _gradients_to_reach(every, target)
    assert one.summary.snapshots[-1].loss > 5 * every.summary.snapshots[-1].loss
    text = overview_text(one)
    assert f"{spoken(one.summary.gradient_evaluations[-1])} layer gradients in all" in text
    assert "one pass" in text


def test_xor_learns_with_a_hidden_layer():
    trace = lecture("xor")
    assert ov.view_of(trace) == "boundary"
    first, last = trace.summary.snapshots[0], trace.summary.snapshots[-1]
    assert first.accuracy < 0.7 and last.accuracy > 0.95
    # The heat map's answer at the samples is the trainer's: same accuracy.
    X, _ = ov.data_arrays(trace)
    scores = ov.class_scores(trace, ov.snapshot_network(trace, last).forward(X).activations[-1])
    classes = np.asarray(trace.data["classes"])
    assert np.mean(scores.argmax(axis=1) == classes) == pytest.approx(last.accuracy)
    assert "The boundary now separates the classes" in overview_text(trace)


def test_digits_softmax_cross_entropy_reaches_a_good_accuracy():
    trace = lecture("digits")
    assert trace.network.sizes == [64, 16, 10]
    assert trace.network.activations[-1] == "softmax" and trace.network.loss == "cross_entropy"
    assert len(trace.summary.snapshot_samples) == 1797  # accuracy over the whole data set
    assert trace.summary.snapshots[-1].accuracy > 0.95
    # Large layers are drawn elided: more units than the diagram draws.
    assert max(trace.network.sizes) > RenderOptions().max_units_drawn
    # Ten softmax outputs are explained as a layer, then only the most active ones (the
    # digits the net thinks likely); not ten near-identical beats each way.
    options = RenderOptions(scenes=("forward", "backward"))
    kinds = [(b.kind, b.layer) for b in build_storyboard(trace, options)]
    for kind in ("forward", "backward"):
        assert kinds.count((f"{kind}_layer", 1)) == 1
        assert kinds.count((f"{kind}_unit", 1)) == options.focus_units
    probs = trace.step(0).layers[1].a[0]
    explained = [b.unit for b in build_storyboard(trace, options) if b.kind == "forward_unit"]
    assert set(explained[-options.focus_units :]) == set(np.argsort(-probs)[: options.focus_units])
    # A small layer is still explained neuron by neuron.
    small = build_storyboard(lecture("xor"), RenderOptions(scenes=("forward",)))
    assert [b.kind for b in small].count("forward_unit") == 4 + 1
    assert not [b for b in small if b.kind == "forward_layer"]


def test_optimizers_the_three_differ():
    runs = variants("optimizers")
    final = {k: r.summary.snapshots[-1].loss for k, r in runs.items()}
    assert set(final) == {"sgd", "momentum", "adam"}
    # Same start, same batches: the optimizer is the only difference...
    starts = {r.summary.snapshots[0].loss for r in runs.values()}
    assert len(starts) == 1
    # ...and it matters: each ends at least twice as low or high as any other.
    values = sorted(final.values())
    assert all(b > 2 * a for a, b in itertools.pairwise(values))
    assert final["momentum"] < final["sgd"] / 10 and final["adam"] < final["sgd"] / 2


def test_weight_decay_every_move_is_offset_by_the_weight_and_larger_lambda_shrinks():
    trace = lecture("weight-decay")
    opt = trace.network.optimizer
    lr, lam = opt["learning_rate"], opt["weight_decay"]
    step = trace.steps[0]
    hidden = step.layers[0]
    assert step.x[0, 1] == 0.0  # x2 = 0: the weights leaving it get no gradient...
    assert np.all(hidden.grad_W[:, 1] == 0.0)
    for layer in step.layers:
        from_weight = layer.move_parts(opt)[1]
        # ...and still every weight moves: w+ = w - eta (dL/dw + lambda w)...
        np.testing.assert_allclose(
            layer.W_next, layer.W - lr * (layer.grad_W + lam * layer.W), rtol=0, atol=1e-15
        )
        np.testing.assert_array_equal(from_weight, -lr * lam * layer.W)
        assert np.all(np.sign(from_weight) == -np.sign(layer.W))  # ...toward zero
        assert np.all(layer.delta_W != 0.0)
    np.testing.assert_array_equal(hidden.move_parts(opt)[0][:, 1], 0.0)
    # The sweep: the larger lambda, the smaller the weights at the end (and the worse
    # the fit: at the largest, the network can no longer solve XOR).
    runs = variants("weight-decay")
    by_lambda = sorted(runs.values(), key=lambda r: r.network.optimizer.get("weight_decay", 0))
    norms = [
        float(np.sqrt(sum((w**2).sum() for w in r.summary.snapshots[-1].W))) for r in by_lambda
    ]
    losses = [r.summary.snapshots[-1].loss for r in by_lambda]
    assert all(b < a for a, b in itertools.pairwise(norms))
    assert norms[-1] < norms[0] / 5
    assert losses[0] < losses[-1] / 3


def test_the_readme_quotes_the_lectures_own_numbers():
    """The README's lecture library quotes figures; they are these traces' values."""
    text = (REPO / "README.md").read_text(encoding="utf-8").split("## Lecture library", 1)[1]
    text = " ".join(text.split())  # phrases may wrap across lines
    reg = variants("regression-output")["sigmoid-unscaled"]
    tanh = variants("tanh-saturation")
    one = variants("one-layer-at-a-time")
    opt = variants("optimizers")
    quoted = [
        f"{fmt(100 * ov.targets_out_of_reach(reg))} % of the targets",
        *(
            f"{fmt(100 * tanh[k].summary.snapshots[0].saturation[0])} %"
            for k in ("init-uniform", "init-xavier_uniform", "init-nguyen_widrow")
        ),
        f"{fmt(one['update-random_layer'].summary.snapshots[-1].loss)} after 600 steps",
        f"against {fmt(one['update-all'].summary.snapshots[-1].loss)}",
        f"{fmt(100 * lecture('xor').summary.snapshots[-1].accuracy)} % accuracy",
        f"{fmt(100 * lecture('digits').summary.snapshots[-1].accuracy)} % accuracy",
        f"SGD is at a loss of {fmt(opt['sgd'].summary.snapshots[-1].loss)}",
        f"momentum at {fmt(opt['momentum'].summary.snapshots[-1].loss)}",
        f"Adam at {fmt(opt['adam'].summary.snapshots[-1].loss)}",
        f"loss {fmt(lecture('textbook-2-2-2').steps[0].loss)}",
    ]
    for phrase in quoted:
        assert phrase in text, phrase


def _overview_values(trace: Trace) -> list[float]:
    """Every trace value the overview narration may speak (and the counts it says)."""
    s = trace.summary
    first, last = s.snapshots[0], s.snapshots[-1]
    values = [len(s.loss), first.loss, last.loss, last.step, s.loss[0], s.loss[-1]]
    values += [100 * a for a in (first.accuracy, last.accuracy) if a is not None]
    values += [100 * v for v in (*first.saturation, *last.saturation)]
    values += [len(trace.network.layer_names), s.gradient_evaluations[-1]]
    values += [100 * ov.targets_out_of_reach(trace)]
    if trace.data.get("scaling"):
        values += trace.data["scaling"]["range"]
    if ov.view_of(trace) == "weight":
        values += [trace.network.optimizer["learning_rate"], ov.weight_slope(trace, first)]
        values += [float(first.W[0][0, 0]), float(last.W[0][0, 0])]
    return values


@pytest.mark.parametrize("level", ["brief", "standard", "detailed"])
def test_every_number_in_every_overview_narration_is_a_trace_value(level):
    runs = [lecture(p.stem) for p in CONFIGS]
    runs += [variants("regression-output")["sigmoid-scaled"]]
    checked = 0
    for trace in runs:
        allowed = {float(fmt(v)) for v in _overview_values(trace)}
        text = overview_text(trace, level)
        for number in spoken_numbers(text):
            assert number in allowed, (trace.config["name"], number, text)
            checked += 1
    assert checked > 20
