"""The one rounding rule for every number shown, spoken or subtitled.

Numbers are rounded to ``digits`` significant digits (default 4) with Python's
``g`` format, so the screen, the narration and the subtitles can never disagree:
they all call :func:`fmt` on the same trace value. ``-0`` is shown as ``0``.
Very small or very large magnitudes use scientific notation (``1.2e-05``).
"""

from __future__ import annotations

import math
import re

DEFAULT_DIGITS = 4
MINUS = "\u2212"  # the minus sign, as typeset formulas write it
# A hyphen-minus that is a number's sign (at the start, after a space, "=", "(", "[" ...,
# not inside a word or "64-16-10") or an exponent's ("2.911e-12").
_SIGN = re.compile(r"(?<![\w.)\]])-(?=\.?\d)|(?<=\de)-(?=\d)")


def fmt(value: float, digits: int = DEFAULT_DIGITS) -> str:
    """Format ``value`` with ``digits`` significant digits (the documented rule)."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    text = f"{value:.{digits}g}"
    if text in ("-0", "-0.0"):
        text = "0"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent):+03d}"
    return text


def minus_signs(text: str) -> str:
    """``text`` with each number's hyphen-minus written as the minus sign (U+2212).

    :func:`fmt` writes ``-`` so that the narration, the subtitles and ``float`` read it;
    on screen a plain label must write what the formulas beside it write (Typst and
    LaTeX set ``-0.0381`` with the minus sign), or ``δ=-0.0381`` under a neuron shows a
    short hyphen beside ``δ = −0.0381`` in the panel. Hyphens in words and in
    ``64-16-10`` stay.
    """
    return _SIGN.sub(MINUS, text)


def plain_signs(text: str) -> str:
    """The inverse of :func:`minus_signs`: a number's minus sign as :func:`fmt` writes it
    (render.json's screen texts list the numbers a reader can match to ``fmt``)."""
    return re.sub(MINUS + r"(?=\.?\d)", "-", text)


def rounded(value: float, digits: int = DEFAULT_DIGITS) -> float:
    """The value a viewer reads: ``float(fmt(value))``; used by tests and narration checks."""
    return float(fmt(value, digits).replace("−∞", "-inf").replace("∞", "inf"))


def spoken(value: float, digits: int = DEFAULT_DIGITS) -> str:
    """The number as a narrator says it: the same digits as :func:`fmt`, minus as 'minus'."""
    text = fmt(value, digits)
    if "e" in text:
        mantissa, exponent = text.split("e")
        power = int(exponent)
        power_text = f"minus {-power}" if power < 0 else str(power)
        text = f"{mantissa} times ten to the {power_text}"
    if text.startswith("-"):
        text = "minus " + text[1:]
    return text


def counted(count: int, word: str) -> str:
    """A count and its noun, singular for one: "1 step", "3 steps" (never "1 steps")."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
