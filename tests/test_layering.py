"""The arrows point one way: what draws and speaks never imports the trainer or Manim's
reverse. Checked on the source's import statements, so a new module cannot slip past."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    """Absolute names of the modules a file imports (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base]) if base else ".".join(parts)
            names.add(base)
    return names


def files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize(
    "path",
    files("scenes", "backprop_anim/visual", "backprop_anim/narration"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_pictures_and_words_never_import_the_engine(path: Path) -> None:
    engine = sorted(m for m in imported_modules(path) if m.startswith("backprop_anim.engine"))
    assert engine == [], f"{path.relative_to(ROOT)} imports {engine}; use backprop_anim.maths"


@pytest.mark.parametrize(
    "path",
    files("backprop_anim/engine", "backprop_anim/maths", "backprop_anim/trace"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_engine_maths_and_trace_never_import_manim(path: Path) -> None:
    manim = sorted(m for m in imported_modules(path) if m.split(".")[0] in {"manim", "scenes"})
    assert manim == [], f"{path.relative_to(ROOT)} imports {manim}"
