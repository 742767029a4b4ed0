"""Traces shared by the narration tests: the textbook net and a few that exercise the
other branches (ReLU with dead units and zero inputs, softmax, momentum, Adam, a frozen
layer, random-layer updates, scaled regression targets, an elided large layer)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from backprop_anim import config_from_dict, load_config, train
from backprop_anim.options import SCENES, RenderOptions
from backprop_anim.storyboard import Beat, build_storyboard
from backprop_anim.trace.model import Trace

ROOT = Path(__file__).resolve().parents[1]
TEXTBOOK = ROOT / "configs" / "textbook-2-2-2.yaml"

OTHER_CONFIGS = {
    "relu-softmax-momentum": {
        "name": "relu",
        "network": {
            "inputs": 3,
            "layers": [
                {
                    "units": 4,
                    "activation": "relu",
                    "weights": [
                        [0.5, -0.2, 0.1],
                        [-0.5, -0.3, -0.2],
                        [0.2, 0.2, 0.2],
                        [0.1, 0.0, -0.4],
                    ],
                },
                {"units": 3, "activation": "softmax"},
            ],
        },
        "data": {"samples": [{"x": [1.0, 0.0, 0.5], "y": 2}, {"x": [0.2, 0.0, 0.1], "y": 0}]},
        "training": {
            "loss": "cross_entropy",
            "optimizer": {"name": "momentum", "learning_rate": 0.1},
            "batch_size": 2,
            "steps": 3,
        },
    },
    "adam-frozen-bce": {
        "name": "af",
        "title": "Adam with a frozen layer",
        "network": {
            "inputs": 2,
            "layers": [
                {"units": 2, "activation": "tanh", "trainable": False},
                {"units": 1, "activation": "sigmoid"},
            ],
        },
        "data": {"generator": {"name": "xor", "n": 8}},
        "training": {
            "loss": "bce",
            "optimizer": {"name": "adam", "learning_rate": 0.01},
            "steps": 4,
        },
    },
    "regression-scaled-random-layer": {
        "name": "reg",
        "network": {
            "inputs": 1,
            "layers": [{"units": 3, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}],
        },
        "data": {"generator": {"name": "sine", "n": 20}, "scale_targets": [0.1, 0.9]},
        "training": {"loss": "mse", "update": "random_layer", "steps": 5},
    },
    "unreachable-targets": {
        "name": "bt",
        "network": {
            "inputs": 1,
            "layers": [
                {"units": 2, "activation": "sigmoid"},
                {"units": 1, "activation": "sigmoid"},
            ],
        },
        "data": {"samples": [{"x": [1.0], "y": [3.0]}]},
        "training": {"loss": "half_sse", "steps": 1},
    },
    "large-layer": {
        "name": "wide",
        "network": {
            "inputs": 2,
            "layers": [
                {"units": 16, "activation": "relu"},
                {"units": 2, "activation": "softmax"},
            ],
        },
        "data": {"generator": {"name": "circles", "n": 40}},
        "training": {"loss": "cross_entropy", "steps": 3},
    },
}

# A spoken number: "0.7514", "minus 0.0381", "1.2 times ten to the minus 5". After a
# number, "minus" is the operator ("0.15 minus 0.5 times ..."), not a sign.
NUMBER = re.compile(
    r"(?:(?<!\d )(minus ))?(?<![\w.])(\d+(?:\.\d+)?)"
    r"(?: times ten to the (minus )?(\d+))?(?![\w])"
)


def spoken_numbers(text: str) -> list[float]:
    """The numbers in a narration text, as the float a viewer reads (same decimal string)."""
    out = []
    for minus, mantissa, exp_minus, exponent in NUMBER.findall(text):
        literal = ("-" if minus else "") + mantissa
        if exponent:
            literal += f"e{'-' if exp_minus else '+'}{exponent}"
        out.append(float(literal))
    return out


@cache
def textbook() -> Trace:
    return train(load_config(TEXTBOOK))


@cache
def other(name: str) -> Trace:
    return train(config_from_dict(OTHER_CONFIGS[name]))


def all_beats(trace: Trace) -> list[Beat]:
    """Every scene's beats, plus the storyboard's overview beat after the title (the
    narration has words for it even while no render option selects it)."""
    beats = build_storyboard(trace, RenderOptions(scenes=SCENES))
    if all(b.kind != "overview" for b in beats):
        beats.insert(1, Beat("overview", "overview", "overview"))
    return beats
