"""The batch's comparison video: which variants are compared, and when to re-render it.

The video itself is a render job beside the lecture (:mod:`backprop_anim.comparison`):
here the finished variants' traces are read from the batch folder, and the job runs in
a fresh process like any variant (Manim's configuration is global), into
``renders/<batch>/compare/``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .. import __version__
from ..comparison import (
    MAX_COMPARED,
    Compared,
    Comparison,
    behaviour,
    describe,
    script_comparison,
)
from ..comparison import render_comparison as render_comparison_video
from ..errors import UserError
from ..options import RenderOptions
from ..trace.model import load_trace
from .manifest import Manifest
from .sweep import RUN_OPTIONS

__all__ = [
    "Compared",
    "Comparison",
    "behaviour",
    "compare_hash",
    "describe",
    "load_comparison",
    "render_comparison",
]


def load_comparison(out: Path, manifest: Manifest) -> Comparison:
    """Read the finished variants' traces and write the comparison's script."""
    compared: list[Compared] = []
    left_out: list[tuple[str, str]] = []
    for rec in manifest.variants:
        if rec.status != "ok":
            left_out.append((rec.name, (rec.error or rec.status).split(". ")[0]))
            continue
        if len(compared) == MAX_COMPARED:
            left_out.append((rec.name, f"only {MAX_COMPARED} fit on one screen"))
            continue
        trace = load_trace(out / rec.name / "trace.json")
        compared.append(Compared(name=rec.name, overrides=rec.overrides, trace=trace))
    return script_comparison(manifest.batch, compared, left_out)


def compare_hash(manifest: Manifest, options: RenderOptions) -> str:
    """What the comparison depends on: every variant's hash and status, the options."""
    payload = {
        "variants": [(r.name, r.hash, r.status) for r in manifest.variants],
        "render": {k: v for k, v in options.to_json().items() if k not in RUN_OPTIONS},
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def render_comparison(task: dict[str, Any], output_dir: Path, on_phase) -> dict[str, Any]:
    """The batch task: load the comparison from the batch folder, run the render job."""
    out = Path(task["batch_dir"])
    options = RenderOptions(**{**task["options"], "scenes": tuple(task["options"]["scenes"])})
    manifest = Manifest.load(out / "manifest.json")
    if manifest is None:
        raise UserError(f"{out}: no batch manifest to compare")
    return render_comparison_video(load_comparison(out, manifest), options, output_dir, on_phase)
