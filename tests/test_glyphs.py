"""Pango's text SVG read without svgelements: the same shapes as Manim's parser."""

from __future__ import annotations

import numpy as np
import pytest
from manim import Text

from backprop_anim.numbers import minus_signs
from backprop_anim.visual import glyphs
from backprop_anim.visual.panels import FONT, Label

STRINGS = [
    "Forward pass · hidden · neuron h1",
    "δ=-0.0381",
    "∂L/∂w = δ · a",
    "w⁺ ← w − η · ∂L/∂w",
    "0.0004977",
    "1.23e-05",
    "o1 ← h2",
    "fi ffl office (ligatures)",
    "Ünïcödé → ≈ ≤ ≥ ⋮",
    "two\nlines",
    "a\ttab",
    "loss before  0.2984",
]
STYLES = [{}, {"font_size": 20, "color": "#3D9BE9"}, {"weight": "BOLD", "font_size": 30}]


def shapes(mob: Text) -> list[tuple]:
    return [
        (
            part.points,
            part.get_fill_color().to_hex(),
            part.get_fill_opacity(),
            part.get_stroke_width(),
            part.get_stroke_opacity(),
            part.get_stroke_color().to_hex(),
        )
        for part in mob.family_members_with_points()
    ]


@pytest.mark.parametrize("style", STYLES)
def test_glyphs_are_manims_shapes_point_for_point(style, monkeypatch):
    used = []
    real = glyphs.glyph_mobjects

    def spy(*args):
        out = real(*args)
        used.append(out is not None)
        return out

    monkeypatch.setattr("backprop_anim.visual.panels.glyph_mobjects", spy)
    for text in STRINGS:
        ours = Label(text, font=FONT, **style)
        # A label writes a number's sign as the minus sign (δ=−0.0381): so does Manim's.
        manims = Text(minus_signs(text), font=FONT, **style)
        a, b = shapes(ours), shapes(manims)
        assert len(a) == len(b) > 0, text
        for x, y in zip(a, b, strict=True):
            assert np.array_equal(x[0], y[0]), text  # exactly the same points
            assert x[1:] == y[1:], text  # and styles
        assert ours.width == manims.width and ours.height == manims.height
    assert used and all(used)  # the fast reader read every one of them


def test_unexpected_svg_falls_back_to_manims_parser(tmp_path):
    svg = tmp_path / "t.svg"
    head = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'width="10pt" height="10pt" viewBox="0 0 10 10" version="1.1">'
        '<defs><g><symbol overflow="visible" id="glyph0-1">'
        '<path style="stroke:none;" d="{d}"/></symbol></g></defs>'
    )
    use = '<g style="fill:rgb(100%,0%,0%);fill-opacity:1;">{use}</g></svg>'
    plain = '<use xlink:href="#glyph0-1" x="1" y="2"/>'
    ok = head.format(d="M 0 0 L 1 0 L 1 1 Z") + use.format(use=plain)
    svg.write_text(ok)
    found = glyphs.glyph_mobjects(svg, {})
    assert found is not None and len(found) == 1
    assert np.array_equal(found[0].points[0], [1.0, 2.0, 0.0])  # moved by the use's x, y
    assert found[0].get_fill_color().to_hex() == "#FF0000"
    # relative commands, a transform, a rectangle: not Cairo's text shape
    for bad in (
        head.format(d="m 0 0 l 1 0 z") + use.format(use=plain),
        head.format(d="M 0 0 L 1 0 Z")
        + use.format(use='<use xlink:href="#glyph0-1" x="1" y="2" transform="scale(2)"/>'),
        head.format(d="M 0 0 L 1 0 Z") + use.format(use='<rect width="1" height="1"/>'),
    ):
        svg.write_text(bad)
        assert glyphs.glyph_mobjects(svg, {}) is None


def test_path_string_reader_takes_cairos_commands_only():
    assert glyphs._segments("M 0 0 L 1 2 C 1 1 2 2 3 3 Z") == [
        ("M", [0.0, 0.0]),
        ("L", [1.0, 2.0]),
        ("C", [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]),
        ("Z", []),
    ]
    assert glyphs._segments("M 0 0 1 1") == [("M", [0.0, 0.0]), ("L", [1.0, 1.0])]
    assert glyphs._segments("") == []
    for bad in ("L 1 1", "M 0 0 Q 1 1 2 2", "M 0 0 L 1", "M 0 0 h 3", "M 0 0 Z 1"):
        assert glyphs._segments(bad) is None, bad
