"""Text glyphs from Pango's SVG without a general SVG parser.

Manim typesets a ``Text`` by having Pango (through Cairo) write an SVG file and parsing
it with svgelements, which tokenizes every path string character by character in
Python and builds an object per point: a quarter of a lecture's render time went
there. Cairo writes text in one narrow, fixed shape: each glyph once as a
``<symbol>`` holding one ``<path>`` of absolute ``M``/``L``/``C``/``Z`` commands, then
the text as ``<use>`` references with an ``x``/``y`` offset, inside ``<g>`` elements
that set the fill. :func:`glyph_mobjects` reads exactly that shape (with the
standard library's XML parser and one regular expression) and builds the same
shapes Manim would, point for point: the same cubic Béziers for lines, the same
closing segments, the same styles. Anything else in the file (a transform, a
rectangle, a relative command, a stroke) makes it return None, and the caller
falls back to Manim's own parser. ``tests/test_glyphs.py`` checks the points and
styles against Manim's on many strings.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import svgelements as se
from manim.mobject.svg.svg_mobject import VMobjectFromSVGPath
from manim.mobject.types.vectorized_mobject import VMobject

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_COMMAND = re.compile(r"([MLCZ])([^MLCZ]*)")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_ARITY = {"M": 2, "L": 2, "C": 6, "Z": 0}
_STYLE_KEYS = ("fill", "fill-opacity", "stroke", "stroke-opacity", "stroke-width")


class GlyphPath(VMobjectFromSVGPath):
    """A glyph whose points were computed here; otherwise Manim's own SVG path shape."""

    def __init__(self, points: np.ndarray, **kwargs: Any) -> None:
        self._glyph_points = points
        self.path_obj = None
        self.long_lines = False
        self.should_subdivide_sharp_curves = False
        self.should_remove_null_curves = False
        VMobject.__init__(self, **kwargs)

    def generate_points(self) -> GlyphPath:
        self.points = self._glyph_points
        return self


def _segments(d: str) -> list[tuple[str, list[float]]] | None:
    """Commands of a path string, if it uses only absolute M, L, C and Z."""
    d = d.strip()
    if not d:
        return []
    out: list[tuple[str, list[float]]] = []
    pos = 0
    for match in _COMMAND.finditer(d):
        if d[pos : match.start()].strip():
            return None  # something between commands: not the shape Cairo writes
        pos = match.end()
        cmd, body = match.group(1), match.group(2)
        numbers = [float(x) for x in _NUMBER.findall(body)]
        arity = _ARITY[cmd]
        if _NUMBER.sub("", body).strip(" ,\n\t") or (arity == 0 and numbers):
            return None
        if arity == 0:
            out.append((cmd, []))
            continue
        if not numbers or len(numbers) % arity:
            return None
        for k in range(0, len(numbers), arity):
            # Repeated coordinates after M are implicit line-tos (SVG rules).
            out.append((cmd if k == 0 or cmd != "M" else "L", numbers[k : k + arity]))
    if d[pos:].strip() or (out and out[0][0] != "M"):
        return None  # trailing text, or a path that does not start with a move
    return out


def _points(segments: list[tuple[str, list[float]]], dx: float, dy: float) -> np.ndarray:
    """Manim's points for a glyph moved by (dx, dy): ``handle_commands`` for Cairo."""
    points: list[np.ndarray] = []
    last_move = last_true_move = None

    def at(x: float, y: float) -> np.ndarray:
        return np.array([x + dx, y + dy, 0.0])

    def line(start: np.ndarray, end: np.ndarray) -> None:
        points.extend((start, (start + start + end) / 3, (start + end + end) / 3, end))

    for cmd, v in segments:
        if cmd == "M":
            last_move = last_true_move = at(v[0], v[1])
        elif cmd == "L":
            end = at(v[0], v[1])
            line(last_move, end)
            last_move = end
        elif cmd == "C":
            end = at(v[4], v[5])
            points.extend((last_move, at(v[0], v[1]), at(v[2], v[3]), end))
            last_move = end
        else:  # Z
            if abs(np.linalg.norm(last_move - last_true_move)) > 0.0001:
                line(last_move, last_true_move)
                last_move = last_true_move
    if not points:
        return np.zeros((0, 3))
    return np.array(points, ndmin=2, dtype="float64")


def _style(node: ET.Element, inherited: dict[str, str]) -> dict[str, str]:
    """The fill and stroke settings in force at ``node`` (attributes, then ``style``);
    ``{"unsupported": key}`` for a style property this reader does not handle."""
    style = dict(inherited)
    for key in _STYLE_KEYS:
        if key in node.attrib:
            style[key] = node.attrib[key]
    for item in node.attrib.get("style", "").split(";"):
        if ":" in item:
            key, value = (s.strip() for s in item.split(":", 1))
            if key in _STYLE_KEYS:
                style[key] = value
            elif key:
                return {"unsupported": key}
    return style


def glyph_mobjects(path: Path, defaults: dict[str, str]) -> list[VMobject] | None:
    """The glyphs of Pango's SVG ``path`` as Manim would build them, or None.

    ``defaults``: the style Manim puts around the file (``generate_config_style_dict``).
    """
    root = ET.parse(path).getroot()
    if root.tag != f"{SVG}svg" or set(root.attrib) - {"width", "height", "viewBox", "version"}:
        return None
    symbols: dict[str, list[tuple[str, list[float]]]] = {}
    body: list[ET.Element] = []
    for child in root:
        if child.tag == f"{SVG}defs":
            for group in child:
                if group.tag != f"{SVG}g" or group.attrib:
                    return None
                for symbol in group:
                    paths = list(symbol)
                    if symbol.tag != f"{SVG}symbol" or len(paths) > 1:
                        return None
                    if not paths:
                        symbols[symbol.attrib["id"]] = []
                        continue
                    p = paths[0]
                    if p.tag != f"{SVG}path" or set(p.attrib) - {"style", "d"}:
                        return None
                    if p.attrib.get("style", "").replace(" ", "") not in ("stroke:none;", ""):
                        return None
                    segments = _segments(p.attrib.get("d", ""))
                    if segments is None:
                        return None
                    symbols[symbol.attrib["id"]] = segments
        else:
            body.append(child)
    mobjects: list[VMobject] = []
    styles: dict[tuple, dict[str, Any]] = {}

    def walk(node: ET.Element, inherited: dict[str, str]) -> bool:
        style = _style(node, inherited)
        if "unsupported" in style:
            return False
        if node.tag == f"{SVG}g":
            if set(node.attrib) - {"id", "style"}:
                return False
            return all(walk(child, style) for child in node)
        if node.tag != f"{SVG}use" or set(node.attrib) - {XLINK_HREF, "x", "y"}:
            return False
        segments = symbols.get(node.attrib.get(XLINK_HREF, "")[1:])
        if segments is None:
            return False
        # The symbol's path says stroke:none; Cairo's text never strokes.
        key = tuple(sorted(style.items()))
        if key not in styles:
            fill = se.Color(style.get("fill", "black"))
            if "fill-opacity" in style:
                fill.opacity = float(style["fill-opacity"])
            styles[key] = {
                "stroke_width": 0,
                "stroke_color": None,
                "stroke_opacity": None,
                "fill_color": fill.hexrgb,
                "fill_opacity": fill.opacity,
            }
        points = _points(segments, float(node.attrib.get("x", 0)), float(node.attrib.get("y", 0)))
        if len(points):
            mob = GlyphPath(points)
            mob.set_style(**styles[key])
            mobjects.append(mob)
        return True

    for node in body:
        if not walk(node, dict(defaults)):
            return None
    return mobjects
