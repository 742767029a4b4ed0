"""Inputs that are pictures: the config says so, the frames show the sample and the weights.

A 4x4 picture network renders its forward pass (480p15, one step); the stills are the
camera's own frames (no compression), so each pixel square of the sample must have the
grey of its value, in reading order, and each square of a hidden unit's weights picture
the sign colour of its weight.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from conftest import BASE_CONFIG
from PIL import Image

from backprop_anim.cli import main
from backprop_anim.config.loader import config_from_dict
from backprop_anim.options import RenderOptions
from backprop_anim.render import render
from backprop_anim.trace.model import load_trace
from backprop_anim.visual.theme import DARK, rgb

# Four 4x4 "pictures": a bar, a cross, a frame and a gradient (inputs in reading order).
PICTURES = [
    [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0],
    [1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1],
    [k / 15 for k in range(16)],
]


def picture_config() -> dict:
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["network"]["inputs"] = 16
    cfg["network"]["layers"][0]["units"] = 2
    cfg["data"] = {
        "samples": [{"x": x, "y": [k % 2]} for k, x in enumerate(PICTURES)],
        "image": {"shape": [4, 4]},
    }
    cfg["training"].update(batch_size=1, steps=1)
    return cfg


def test_the_digits_are_pictures_by_default_and_a_shape_must_fit_the_inputs():
    digits = copy.deepcopy(BASE_CONFIG)
    digits["network"]["inputs"] = 64
    digits["network"]["layers"][-1] = {"units": 10, "activation": "softmax"}
    digits["training"]["loss"] = "cross_entropy"
    digits["data"] = {"generator": {"name": "digits", "n": 20}}
    assert config_from_dict(digits).config.data.image.shape == (8, 8)
    assert config_from_dict(BASE_CONFIG).config.data.image is None


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (
            "[4, 5]",
            "data.image.shape: the 4x5 picture has 20 pixels, but the network has 16 inputs "
            "(network.inputs); expected rows x columns = 16",
        ),
        ("[4, 0]", "data.image.shape.1: "),
        ("[16]", "data.image.shape: "),
    ],
)
def test_a_picture_that_does_not_fit_is_one_message_exit_2(tmp_path, shape, message):
    text = yaml.safe_dump(picture_config(), sort_keys=False).replace(
        "shape:\n    - 4\n    - 4", f"shape: {shape}"
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if ln.startswith("    shape"))
    assert lines[0].startswith(f"Error: {path}:{line}: {message}"), result.output


@pytest.fixture(scope="module")
def picture_render(tmp_path_factory):
    out = tmp_path_factory.mktemp("pictures")
    path = out / "pictures.yaml"
    path.write_text(yaml.safe_dump(picture_config()))
    options = RenderOptions(quality="l", voice="none", scenes=("forward",), stills=True)
    result = render(path, options, output_dir=out / "render", overrides=["narration=off"])
    meta = json.loads((result.output_dir / "render.json").read_text())
    return result, meta, load_trace(result.output_dir / "trace.json")


def _centres(box: list[float], shape: tuple[int, int]) -> list[tuple[int, int]]:
    """Pixel (x, y) of each square's centre, in reading order."""
    left, top, right, bottom = box
    rows, cols = shape
    return [
        (
            round(left + (c + 0.5) * (right - left) / cols),
            round(top + (r + 0.5) * (bottom - top) / rows),
        )
        for r in range(rows)
        for c in range(cols)
    ]


def test_the_sample_is_drawn_as_its_pixels_in_grey(picture_render):
    result, meta, trace = picture_render
    step = trace.steps[0]
    box = meta["layout"]["0"]["picture"]
    frame = np.asarray(Image.open(result.output_dir / "stills" / "s0.forward.hidden1.h1.png"))
    want = np.round(255 * step.x[0] / step.x[0].max())  # 0 black, the largest value white
    got = [frame[y, x, :3] for x, y in _centres(box, (4, 4))]
    for k, (pixel, level) in enumerate(zip(got, want, strict=True)):
        assert np.abs(pixel.astype(int) - int(level)).max() <= 2, (k, pixel, level)
    # The picture is the sample of this step, not another one.
    assert step.x[0].tolist() == PICTURES[step.samples[0]]


@pytest.mark.parametrize("unit", [0, 1])
def test_a_hidden_units_weights_are_drawn_in_the_weight_sign_colours(picture_render, unit):
    result, meta, trace = picture_render
    beat = f"s0.forward.hidden1.h{unit + 1}"
    W = trace.steps[0].layers[0].W[unit]
    box = meta["layout"][beat]["receptive_field"]
    frame = np.asarray(Image.open(result.output_dir / "stills" / f"{beat}.png"))
    positive, negative = np.array(rgb(DARK.positive)), np.array(rgb(DARK.negative))
    background = np.array(rgb(DARK.background))
    # From the background at w = 0 to the sign's full colour at the largest |w|.
    strength = np.abs(W)[:, None] / np.abs(W).max()
    want = background + (np.where(W[:, None] >= 0, positive, negative) - background) * strength
    for k, (x, y) in enumerate(_centres(box, (4, 4))):
        pixel = frame[y, x, :3].astype(int)
        assert np.abs(pixel - want[k]).max() <= 2.5, (k, pixel, want[k])
        if abs(W[k]) > 0.3 * np.abs(W).max():  # a clear colour: the sign's own hue
            nearer = (
                positive
                if np.sum((pixel - positive) ** 2) < np.sum((pixel - negative) ** 2)
                else negative
            )
            assert (nearer == (positive if W[k] > 0 else negative)).all(), (k, W[k], pixel)
