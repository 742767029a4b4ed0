"""Colours and type sizes, passed explicitly (never read from a global at import time).

Edge colour is the sign of a weight, from the Okabe-Ito colour-blind-safe palette
(blue positive, orange negative); gradients flow in reddish purple; a weight that does
not move is drawn dashed grey.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    text: str
    muted: str
    positive: str  # weight > 0
    negative: str  # weight < 0
    gradient: str  # gradient flow, deltas
    highlight: str  # the thing being talked about
    frozen: str  # "does not move"
    neuron_fill: str  # fill at activation 1
    neuron_stroke: str
    panel: str  # label backgrounds

    def neuron_color(self, value: float, lo: float, hi: float) -> str:
        """Fill for an activation value, interpolated from background to neuron_fill."""
        t = 0.0 if hi <= lo else float(np.clip((value - lo) / (hi - lo), 0.0, 1.0))
        return mix(self.background, self.neuron_fill, 0.15 + 0.85 * t)

    def weight_color(self, w: float) -> str:
        return self.positive if w >= 0 else self.negative


def mix(a: str, b: str, t: float) -> str:
    ca = np.array([int(a[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    cb = np.array([int(b[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    c = np.round(ca + (cb - ca) * t).astype(int)
    return "#" + "".join(f"{v:02X}" for v in c)


def rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


DARK = Theme(
    name="dark",
    background="#101418",
    text="#F2F2F2",
    muted="#8A939C",
    positive="#3D9BE9",
    negative="#E69F00",
    gradient="#D66FB0",
    highlight="#F0E442",
    frozen="#6E7780",
    neuron_fill="#2FB58C",
    neuron_stroke="#C9D1D9",
    panel="#1C2329",
)

LIGHT = Theme(
    name="light",
    background="#FBFAF7",
    text="#1B1F23",
    muted="#6A737D",
    positive="#0072B2",
    negative="#D55E00",
    gradient="#B0467F",
    highlight="#C9A300",
    frozen="#A0A7AE",
    neuron_fill="#009E73",
    neuron_stroke="#3A4148",
    panel="#EDEBE6",
)

THEMES = {"dark": DARK, "light": LIGHT}
