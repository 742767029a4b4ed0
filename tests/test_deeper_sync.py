"""The deeper answers' beats (matrix, batch, slope, thrown, weight decay's update) on the
sync timeline: every sentence they say opens the part it speaks, at every level, and in a
real render each part starts on its words, the numbers fly from where they live in the
network into the cell that holds them, and the picture changes as the sentence starts."""

from __future__ import annotations

import copy

import pytest
from conftest import BASE_CONFIG, TEXTBOOK

from backprop_anim import config_from_dict, load_config, train
from backprop_anim.narration import build_script
from backprop_anim.narration.speech import split_sentences
from backprop_anim.options import RenderOptions
from backprop_anim.storyboard import BEAT_PARTS, build_storyboard

NEW_KINDS = {"matrix_forward", "matrix_backward", "batch", "weight_slope", "update_thrown"}


def small_batch_config(**training) -> dict:
    """BASE_CONFIG's 2-3-1 net on its 4 samples as one batch (per-sample gradients kept)."""
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["training"].update(training)
    return cfg


@pytest.fixture(scope="module")
def traces():
    return {
        "textbook": train(load_config(TEXTBOOK)),
        "batch": train(
            config_from_dict(
                small_batch_config(
                    update="random_layer",
                    optimizer={"name": "sgd", "learning_rate": 0.5, "weight_decay": 0.01},
                )
            )
        ),
    }


@pytest.mark.parametrize("level", ["brief", "standard", "detailed"])
def test_every_sentence_of_the_new_beats_opens_its_own_part(traces, level):
    seen: set[str] = set()
    for name, trace in traces.items():
        beats = build_storyboard(trace, RenderOptions())
        kinds = {b.id: b.kind for b in beats}
        for line in build_script(trace, beats, level=level):
            kind = kinds[line.beat_id]
            if kind not in NEW_KINDS:
                continue
            seen.add(kind)
            parts = BEAT_PARTS[kind]
            sentences = split_sentences(line.text)
            assert sentences, (name, line.beat_id)
            opened = []
            for s in sentences:
                # The sentence's first word starts a part of this beat...
                assert s.marks and s.marks[0].word == 0, (level, line.beat_id, s.text)
                names = [m.name for m in s.marks]
                assert set(names) <= set(parts), (line.beat_id, names)
                opened += names
            # ...each part at most once, in the order the scene plays them.
            assert len(opened) == len(set(opened)), (level, line.beat_id, opened)
            assert opened == sorted(opened, key=parts.index), (level, line.beat_id, opened)
    assert seen == NEW_KINDS
