"""The narration script: numbers from the trace, words not symbols, levels, overrides,
script.json, and the notes."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from narration_fixtures import OTHER_CONFIGS, all_beats, other, spoken_numbers, textbook

from backprop_anim.errors import UserError
from backprop_anim.narration import (
    LEVELS,
    TimedLine,
    build_script,
    load_script,
    save_script,
    write_notes,
)
from backprop_anim.numbers import rounded
from backprop_anim.options import RenderOptions
from backprop_anim.storyboard import batch_weight, build_storyboard, gradient_input
from backprop_anim.trace.scaling import input_scaling, target_scaling

# Letters, digits, spaces and plain punctuation; a hyphen only inside a word.
ALLOWED = re.compile(r"^[A-Za-z0-9 .,:;'()?!-]*$")


def _expected(trace, beat, digits=4) -> list[float]:
    """The trace values a beat may speak (besides small counts), per the beat's kind."""
    net = trace.network
    if beat.kind == "title":
        step = trace.step(beat.step)
        counts = [len(net.input_names), *map(len, net.unit_names), len(trace.summary.loss)]
        return [
            *counts,
            *step.x[0],
            *step.y[0],
            net.optimizer["learning_rate"],
            step.step,
            digits,
        ]
    if beat.kind == "overview":
        s = trace.summary
        return [
            len(s.loss),
            s.snapshots[0].loss,
            s.snapshots[-1].loss,
            s.snapshots[-1].step,
            s.loss[0],
            s.loss[-1],
        ]
    step = trace.step(beat.step)
    i, j = beat.layer, beat.unit
    if beat.kind == "forward_unit":
        L = step.layers[i]
        a_prev = step.x if i == 0 else step.layers[i - 1].a
        return [*L.W[j], *a_prev[0], L.b[j], L.z[0, j], L.a[0, j]]
    if beat.kind == "loss":
        out = step.layers[-1]
        return [*out.a[0], *step.y[0], *step.loss_terms[0], step.loss]
    if beat.kind == "backward_unit":
        L = step.layers[i]
        own = [L.a[0, j], step.y[0, j] if i == len(step.layers) - 1 else np.nan]
        own += [L.dL_da[0, j], L.act_derivative[0, j], L.delta[0, j]]
        if i < len(step.layers) - 1:
            nxt = step.layers[i + 1]
            own += [*nxt.delta[0], *nxt.W[:, j]]
        return own
    if beat.kind == "gradients":
        L = step.layers[i]
        a_prev = step.x if i == 0 else step.layers[i - 1].a
        return [*L.delta[0], *a_prev[0], *L.grad_W.ravel(), L.grad_W.size]
    if beat.kind == "update":
        L = step.layers[i]
        return [net.optimizer["learning_rate"], *L.W.ravel(), *L.grad_W.ravel(), *L.W_next.ravel()]
    if beat.kind == "update_ranking":
        moves = np.concatenate([L.delta_W.ravel() for L in step.layers])
        # Moves are spoken as sizes, |w+ - w|, as the bars on screen show them.
        return [*np.abs(moves), moves.size, int(np.count_nonzero(moves))]
    if beat.kind == "summary":
        return [step.loss, step.loss_after]
    if beat.kind in ("matrix_forward", "matrix_backward"):
        L = step.layers[i]
        size = step.x.shape[0]
        counts = [size, *L.W.shape, j + 1]
        if beat.kind == "matrix_forward":
            return [*counts, L.z[0, j], L.a[0, j]]
        return [*counts, L.delta[0, j], *L.grad_W[j]]
    if beat.kind == "batch":
        li, lj, lk = batch_weight(step)
        L = step.layers[li]
        own = L.grad_W_per_sample[:, lj, lk]
        signs = [int(np.sum(own < 0)), int(np.sum(own > 0))]
        return [*own, *signs, len(own), L.grad_W[lj, lk], L.W[lj, lk], L.W_next[lj, lk]]
    if beat.kind == "weight_slope":
        L = step.layers[i]
        k = gradient_input(step, i, j)
        a_prev = step.x if i == 0 else step.layers[i - 1].a
        return [L.delta[0, j], a_prev[0, k], L.grad_W[j, k], L.W[j, k], L.W_next[j, k]]
    if beat.kind == "update_thrown":
        sizes = [L.grad_W.size for L in step.layers]
        used = sum(L.grad_W.size for L in step.layers if L.updated)
        tops = [L.grad_W.flat[np.argmax(np.abs(L.grad_W))] for L in step.layers]
        return [len(step.layers), sum(sizes), used, *tops]
    raise AssertionError(beat.kind)


@pytest.mark.parametrize("level", LEVELS)
def test_every_number_in_the_textbook_script_is_a_rounded_trace_value(level):
    trace = textbook()
    beats = all_beats(trace)
    lines = build_script(trace, beats, level=level)
    assert [line.beat_id for line in lines] == [b.id for b in beats]
    checked = 0
    for beat, line in zip(beats, lines, strict=True):
        allowed = {rounded(v) for v in _expected(trace, beat) if np.isfinite(v)}
        for number in spoken_numbers(line.spoken):
            assert number in allowed, f"{beat.id}: {number} is not a trace value: {line.spoken}"
            checked += 1
    assert checked > {"brief": 30, "standard": 60, "detailed": 100}[level]


def test_output_delta_reads_like_the_textbook():
    trace = textbook()
    lines = {line.beat_id: line.spoken for line in build_script(trace, all_beats(trace))}
    o1 = trace.step(0).layers[1]
    # The values of the classic walk-through, as the trace holds them.
    assert [rounded(v) for v in (o1.a[0, 0], o1.dL_da[0, 0], o1.act_derivative[0, 0])] == [
        0.7514,
        0.7414,
        0.1868,
    ]
    assert (
        "The output o1 is 0.7514, but the target is 0.01. The loss grows with the square of "
        "that gap, so its slope with respect to o1 is 0.7414. To get back to the weights, the "
        "chain rule multiplies this slope by the sigmoid's derivative at z, which is 0.1868: "
        "that's the delta of o1, 0.1385."
    ) in lines["s0.backward.output.o1"]
    # w5+ = 0.35891648 in the textbook, read with four significant digits.
    assert rounded(o1.W_next[0, 0]) == 0.3589
    assert "from h1 to o1: 0.4 minus 0.5 times 0.08217 gives 0.3589" in lines["s0.update.output"]
    assert "minus 0.0381" in lines["s0.backward.output.o2"]  # negatives are spoken


def test_the_script_answers_the_students_questions():
    trace = textbook()
    detailed = {
        line.beat_id: line.spoken
        for line in build_script(trace, all_beats(trace), level="detailed")
    }
    assert "Why the derivative?" in detailed["s0.backward.output.o1"]
    assert "sigma prime of z" in detailed["s0.backward.output.o1"]
    assert "first the deltas of the output layer" in detailed["s0.backward.output.o1"]
    assert "All 8 weights changed, each by its own amount" in detailed["s0.update.ranking"]
    assert "learning rate is a choice" in detailed["s0.update.hidden"]

    relu = other("relu-softmax-momentum")
    text = {line.beat_id: line.spoken for line in build_script(relu, all_beats(relu))}
    assert "the ReLU of h2 was off" in text["s0.backward.hidden1.h2"]
    assert "their input, x2, is zero" in text["s0.gradients.hidden1"]
    assert "the unit they feed, h2 or h4, was off" in text["s0.gradients.hidden1"]
    assert "14 of the 24 weights did not move" in text["s0.update.ranking"]
    assert "velocity" in text["s0.update.output"]

    frozen = other("adam-frozen-bce")
    text = {line.beat_id: line.spoken for line in build_script(frozen, all_beats(frozen))}
    assert "frozen" in text["s0.update.hidden1"]
    assert "m hat divided by the square root of v hat" in text["s0.update.output"]
    assert "the hidden1 layer is frozen" in text["s0.update.ranking"]

    reg = other("regression-scaled-random-layer")
    text = {line.beat_id: line.spoken for line in build_script(reg, all_beats(reg))}
    lo, hi = reg.data["scaling"]["range"]
    assert f"scaled into the range from {lo:g} to {hi:g}" in text["s0.loss"]
    not_chosen = [t for k, t in text.items() if k.startswith("s0.update.") and "chosen at" in t]
    assert len(not_chosen) == 1

    bad = other("unreachable-targets")
    assert bad.warnings
    text = {line.beat_id: line.spoken for line in build_script(bad, all_beats(bad))}
    assert "can never reach them" in text["s0.loss"]


@pytest.mark.parametrize("name", ["textbook", *OTHER_CONFIGS])
@pytest.mark.parametrize("level", LEVELS)
def test_formulas_are_spoken_in_words_and_numbers_come_from_the_step(name, level):
    trace = textbook() if name == "textbook" else other(name)
    beats = all_beats(trace)
    lines = build_script(trace, beats, level=level)
    for beat, line in zip(beats, lines, strict=True):
        assert line.spoken, beat.id
        assert ALLOWED.match(line.spoken), f"{beat.id}: symbol in {line.spoken!r}"
        assert not re.search(r"(^|\s)-|-(\s|$|\d)", line.spoken), f"{beat.id}: bare minus sign"
        if beat.step is None:
            continue
        step = trace.step(beat.step)
        pool = [step.x, step.y, step.loss_terms, step.loss, step.loss_after]
        for L in step.layers:
            pool += [L.W, L.b, L.z, L.a, L.delta, L.dL_da, L.act_derivative, L.grad_W]
            pool += [L.W_next, L.delta_W, np.abs(L.delta_W), *L.state.values()]
            if L.grad_W_per_sample is not None:  # the batch beat: each sample's own gradient
                pool += [L.grad_W_per_sample]
        pool += [v for v in trace.network.optimizer.values() if not isinstance(v, str)]
        if trace.data.get("scaling"):
            pool += trace.data["scaling"]["range"]
            # The values read back in the data's units (trace/scaling.py): targets, outputs.
            targets = target_scaling(trace)
            pool += [targets.inverse(step.y), targets.inverse(step.layers[-1].a)]
        if (inputs := input_scaling(trace)) is not None:
            pool += [inputs.raw(step.x), inputs.shift, inputs.divisor]
        values = {rounded(v) for arr in pool for v in np.ravel(np.asarray(arr, dtype=float))}
        for number in spoken_numbers(line.spoken):
            if number != int(number) or number > 100:  # counts are small integers
                assert number in values, f"{beat.id}: {number} not in the step: {line.spoken}"


def test_large_layers_are_summarized_not_read_unit_by_unit():
    trace = other("large-layer")
    beats = all_beats(trace)
    lines = {line.beat_id: line.spoken for line in build_script(trace, beats)}
    layer = lines["s0.forward.hidden1"]
    assert "has 16 units, too many to show one by one" in layer
    focus = [b for b in beats if b.kind == "forward_unit" and b.layer == 0]
    a = trace.step(0).layers[0].a[0]
    for b in focus:
        assert f"h{b.unit + 1} at {rounded(a[b.unit]):g}" in layer
    assert f"{int(np.count_nonzero(a == 0))} of the 16 units output zero" in layer


def test_levels_change_the_length():
    trace = textbook()
    beats = all_beats(trace)
    words = {
        level: sum(len(line.spoken.split()) for line in build_script(trace, beats, level=level))
        for level in LEVELS
    }
    assert words["brief"] * 2 < words["standard"] < words["detailed"]
    with pytest.raises(UserError, match=r"unknown level 'detailled' \(did you mean 'detailed'\?\)"):
        build_script(trace, beats, level="detailled")


def test_overrides_replace_or_add_to_a_beat_and_unknown_ids_are_named():
    trace = textbook()
    beats = all_beats(trace)
    lines = build_script(
        trace,
        beats,
        overrides={"s0.loss": "My own words.", "s0.summary+": "See you next week."},
    )
    text = {line.beat_id: line.text for line in lines}
    assert text["s0.loss"] == "My own words."
    plain = {line.beat_id: line.text for line in build_script(trace, beats)}
    assert text["s0.summary"] == plain["s0.summary"] + " See you next week."
    assert text["s0.forward.hidden.h1"] == plain["s0.forward.hidden.h1"]
    with pytest.raises(UserError) as err:
        build_script(trace, beats, overrides={"s0.forwad.hidden.h1": "x"})
    assert "narration.beats: no beat 's0.forwad.hidden.h1'" in str(err.value)
    assert "did you mean 's0.forward.hidden.h1'?" in str(err.value)
    # A beat this render leaves out (--scenes forward) is not a mistake.
    forward_only = build_storyboard(trace, RenderOptions(scenes=("forward",)))
    lines = build_script(trace, forward_only, overrides={"s0.loss": "skipped"})
    assert all(line.text != "skipped" for line in lines)


def test_script_json_round_trip_and_bad_files(tmp_path):
    trace = textbook()
    beats = all_beats(trace)
    lines = build_script(trace, beats)
    timed = [
        TimedLine(line.beat_id, line.text, 2.0 * n, 2.0 * n + 1.5) for n, line in enumerate(lines)
    ]
    path = save_script(timed, tmp_path / "script.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["lines"][1] == {"beat": "overview", "text": lines[1].text, "start": 2.0, "end": 3.5}
    assert load_script(path, beats) == {line.beat_id: line.text for line in lines}

    loss_line = [line.beat_id for line in lines].index("s0.loss")
    doc["lines"][loss_line]["text"] = "An edited sentence."
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert load_script(path, beats)["s0.loss"] == "An edited sentence."

    def error(content: str | None) -> str:
        bad = tmp_path / "bad.json"
        if content is not None:
            bad.write_text(content, encoding="utf-8")
        with pytest.raises(UserError) as err:
            load_script(bad if content is not None else tmp_path / "missing.json", beats)
        return str(err.value)

    assert error(None).endswith("missing.json: script file not found")
    assert "bad.json:2: not valid JSON" in error('{"lines": [\n  oops]}')
    assert "bad.json: expected a script" in error('{"beats": 3}')
    doc["lines"][0]["beat"] = "s0.los"
    msg = error(json.dumps(doc))
    assert "bad.json: lines[0].beat: no beat 's0.los'" in msg
    assert "did you mean 's0.loss'?" in msg
    assert "lines[0].text: expected a text, got int" in error(
        json.dumps({"lines": [{"beat": "s0.loss", "text": 3}]})
    )
    assert "appears twice" in error(
        json.dumps({"lines": [{"beat": "s0.loss", "text": "a"}, {"beat": "s0.loss", "text": "b"}]})
    )
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UserError, match=r"binary\.json: cannot read the script"):
        load_script(tmp_path / "binary.json", beats)


def test_notes_hold_the_words_the_formulas_and_the_stills(tmp_path):
    trace = textbook()
    beats = all_beats(trace)
    lines = build_script(trace, beats)
    still = tmp_path / "stills" / "s0.update.output.png"
    still.parent.mkdir()
    still.write_bytes(b"png")
    path = write_notes(trace, lines, {"s0.update.output": still}, tmp_path / "notes.md")
    notes = path.read_text(encoding="utf-8")
    assert notes.startswith("# One step of backpropagation, number by number\n")
    assert "## Step 0: Backward pass" in notes
    assert "### Backward pass: the delta of o1" in notes
    assert lines[7].spoken in notes
    assert r"= 0.7414 \cdot 0.1868 = 0.1385" in notes
    assert r"w_{\text{o1},\text{h1}}^+ = 0.4 - 0.5 \cdot 0.08217 = 0.3589" in notes
    assert "![Update of the output layer](stills/s0.update.output.png)" in notes
    assert notes.count("$$") % 2 == 0
