"""Panel building blocks: paragraph wrapping."""

from __future__ import annotations

import itertools

import pytest

from backprop_anim.visual.panels import Label, paragraph
from backprop_anim.visual.theme import DARK

TEXTS = [
    "Every weight of this layer changes: its gradient is the delta of the unit it feeds "
    "times the activation that flows into it, so weights whose input is zero stay exactly "
    "where they are.",
    "The update w ← w − η · ∂L/∂w moves each weight against its gradient: a positive "
    "gradient makes the weight smaller, a negative one larger.",
    "fine fluffy office affluence: ligatures (fi, ffl) and a supercalifragilisticword",
    "One.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_paragraph_lines_are_greedy_and_fit(text):
    width, size = 5.0, 20
    group = paragraph(text, DARK, width=width, font_size=size)
    lines = [line.original_text for line in group]
    assert " ".join(lines).split() == text.split()  # every word, in order
    for n, line in enumerate(lines):
        # each line fits (a single word longer than the line may stand alone) ...
        assert Label(line, font_size=size).width <= width + 1e-6 or " " not in line
        # ... and the next line's first word would not have fitted on it
        if n + 1 < len(lines):
            longer = f"{line} {lines[n + 1].split()[0]}"
            assert Label(longer, font_size=size).width > width
    # left-aligned, top to bottom
    lefts = [m.get_left()[0] for m in group]
    assert max(lefts) - min(lefts) < 1e-6
    assert all(a.get_y() > b.get_y() for a, b in itertools.pairwise(group))


def test_empty_paragraph():
    assert len(paragraph("   ", DARK, width=5.0)) == 0
