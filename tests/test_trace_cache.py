"""The trace cache: changing what a lecture shows or says never re-runs training."""

from __future__ import annotations

from pathlib import Path

import pytest

import backprop_anim.engine.trainer as trainer
from backprop_anim.config.loader import load_config
from backprop_anim.render import cached_train

TEXTBOOK = Path(__file__).resolve().parent.parent / "configs" / "textbook-2-2-2.yaml"


@pytest.fixture
def trainings(monkeypatch, tmp_path):
    """Count calls of the trainer; an empty cache folder for this test."""
    monkeypatch.setenv("BACKPROP_ANIM_CACHE", str(tmp_path / "cache"))
    calls = []
    real = trainer.train

    def counted(loaded):
        calls.append(loaded.config.name)
        return real(loaded)

    monkeypatch.setattr(trainer, "train", counted)
    return calls


def test_narration_and_title_changes_reuse_the_trace(trainings):
    first = cached_train(load_config(TEXTBOOK))
    assert len(trainings) == 1
    again = cached_train(
        load_config(
            TEXTBOOK,
            ["narration.level=brief", "title=Backprop by hand", "name=by-hand"],
        )
    )
    assert len(trainings) == 1  # the cached trace was reused
    # ... and it carries the new presentation settings, with the same numbers.
    assert again.config["narration"]["level"] == "brief"
    assert again.config["title"] == "Backprop by hand"
    assert again.config["name"] == "by-hand"
    assert again.summary.loss == first.summary.loss


def test_a_training_change_trains_again(trainings):
    cached_train(load_config(TEXTBOOK))
    changed = cached_train(load_config(TEXTBOOK, ["training.optimizer.learning_rate=0.1"]))
    assert len(trainings) == 2
    assert changed.config["training"]["optimizer"]["learning_rate"] == 0.1
