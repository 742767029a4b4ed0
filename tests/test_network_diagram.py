"""The edge raster: every edge painted, in parallel, with the picture of one thread."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from backprop_anim.visual import network
from backprop_anim.visual.network import NetworkDiagram
from backprop_anim.visual.theme import DARK, rgb
from scenes.base import NETWORK_REGION

SIZES = [100, 80, 25]  # 10,000 edges
PIXEL_WIDTH, FRAME_WIDTH = 854, 14.222222222222221  # 480p


@pytest.fixture(scope="module")
def big():
    rng = np.random.default_rng(3)
    weights = [rng.normal(0, 0.3, (b, a)) for a, b in itertools.pairwise(SIZES)]
    names = [[f"u{k}" for k in range(n)] for n in SIZES]
    diagram = NetworkDiagram(
        names,
        ["in", "hidden", "out"],
        weights,
        DARK,
        NETWORK_REGION,
        PIXEL_WIDTH,
        FRAME_WIDTH,
        max_units=max(SIZES),
    )
    return diagram, weights


def seen(image) -> np.ndarray:
    """The image as composited over the background: what a viewer sees."""
    px = image.pixel_array.astype(float)
    back = np.array(rgb(DARK.background), dtype=float)
    return px[:, :, :3] * px[:, :, 3:] / 255 + back * (1 - px[:, :, 3:] / 255)


def test_parallel_painting_matches_one_thread(big, monkeypatch):
    diagram, weights = big
    assert sum(w.size for w in weights) >= 5 * network.PARALLEL_EDGES  # it does split
    parallel = seen(diagram.edge_raster(weights))
    monkeypatch.setattr(network, "PARALLEL_EDGES", 10**9)
    single = seen(diagram.edge_raster(weights))
    diff = np.abs(parallel - single)
    assert diff.max() <= 5.0  # levels of 255: compositing rounds once more
    assert (diff > 1).mean() < 0.001
    # and it is a picture of edges: a good part of the region is covered
    assert (np.abs(single - np.array(rgb(DARK.background))).max(axis=2) > 20).mean() > 0.2


def test_every_edge_is_painted_in_its_weights_colour(big):
    """Midpoints of a positive and a negative edge carry the sign's colour."""
    diagram, weights = big
    W = np.zeros_like(weights[1])
    W[0, 0], W[24, 79] = 1.0, -1.0  # only two edges of the last layer are visible
    image = diagram.edge_raster([np.zeros_like(weights[0]), W], scale=1.0)
    px = image.pixel_array
    reg, ppu = diagram.region, diagram.px_per_unit
    for (unit, source), colour in (((0, 0), DARK.positive), ((24, 79), DARK.negative)):
        a, b = diagram.positions[(1, source)], diagram.positions[(2, unit)]
        mid = (a + b) / 2
        x, y = round((mid[0] - reg.left) * ppu), round((reg.top - mid[1]) * ppu)
        assert px[y, x, 3] > 200
        assert np.abs(px[y, x, :3].astype(int) - rgb(colour)).max() <= 2
