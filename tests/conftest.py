"""Shared fixtures: the textbook config and a small config builder (kept small on purpose)."""

from __future__ import annotations

import copy
import signal
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def interruptible() -> None:
    """``preexec_fn`` for a child that a test stops with SIGINT, as Ctrl-C would.

    A shell that starts a job in the background without job control (a CI runner, a
    script's ``cmd &``) makes it ignore SIGINT, and an ignored signal stays ignored
    across exec: the child would never see the test's Ctrl-C. Restore the default so
    that Python installs its KeyboardInterrupt handler in the child."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


TEXTBOOK = REPO / "configs" / "textbook-2-2-2.yaml"

# A tiny valid config as a dict; tests deep-copy it and change what they test.
BASE_CONFIG: dict[str, Any] = {
    "name": "tiny",
    "network": {
        "inputs": 2,
        "layers": [
            {"units": 3, "activation": "tanh"},
            {"units": 1, "activation": "sigmoid"},
        ],
        "init": {"scheme": "xavier_uniform", "seed": 1},
    },
    "data": {
        "samples": [
            {"x": [0.0, 0.0], "y": [0.0]},
            {"x": [0.0, 1.0], "y": [1.0]},
            {"x": [1.0, 0.0], "y": [1.0]},
            {"x": [1.0, 1.0], "y": [0.0]},
        ]
    },
    "training": {
        "loss": "half_sse",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "batch_size": "full",
        "steps": 3,
    },
}


@pytest.fixture
def textbook_path() -> Path:
    return TEXTBOOK


@pytest.fixture
def base_config() -> dict[str, Any]:
    """A fresh deep copy of :data:`BASE_CONFIG` to modify."""
    return copy.deepcopy(BASE_CONFIG)


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Renders, traces and speech cached in a per-session folder, not the user's ~/.cache."""
    import os

    previous = os.environ.get("BACKPROP_ANIM_CACHE")
    os.environ["BACKPROP_ANIM_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("BACKPROP_ANIM_CACHE", None)
    else:
        os.environ["BACKPROP_ANIM_CACHE"] = previous
