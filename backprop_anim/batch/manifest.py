"""``renders/<batch>/manifest.json``: what every variant is, and how its render went.

The manifest is the batch's memory: resume reads it to find variants whose finished
output matches their content hash, the gallery and the comparison video are built
from it, and a script can read it to find the videos. It is rewritten atomically
after every finished variant, so an interrupted batch still describes what exists.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..trace.model import write_atomic

FORMAT = "backprop-anim-batch"
VERSION = 1
STATUSES = ("ok", "failed", "pending")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class VariantRecord:
    """One variant: its overrides and hash, and the outcome of its last render."""

    name: str
    overrides: dict[str, Any]
    hash: str
    status: str = "pending"  # ok | failed | pending (not rendered yet, or interrupted)
    error: str | None = None
    final_loss: float | None = None  # loss on the data set after training (trace's last snapshot)
    duration: float | None = None  # video seconds
    timings: dict[str, float] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # relative to the batch folder
    video: str | None = None  # relative to the batch folder
    poster: str | None = None
    rendered_at: str | None = None
    worker: str | None = None  # where it rendered: "local" or a Dask worker's address

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> VariantRecord:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


@dataclass
class CompareRecord:
    """The comparison video (``--compare``): its inputs' hash and how its render went."""

    hash: str
    status: str  # ok | failed | stale (variants changed since; re-run with --compare)
    error: str | None = None
    video: str | None = None  # relative to the batch folder
    files: list[str] = field(default_factory=list)
    poster: str | None = None
    duration: float | None = None
    voiced: bool = False
    rendered_at: str | None = None

    @classmethod
    def from_json(cls, d: Any) -> CompareRecord | None:
        if not isinstance(d, dict):
            return None
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class Manifest:
    batch: str
    source: str  # the sweep file (or base config) the batch came from
    base: str  # the base config
    mode: str
    package_version: str
    render: dict[str, Any]  # the render options shared by all variants
    variants: list[VariantRecord]
    compare: CompareRecord | None = None
    updated: str = field(default_factory=now)

    def record(self, name: str) -> VariantRecord | None:
        return next((r for r in self.variants if r.name == name), None)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for rec in d["variants"]:
            loss = rec["final_loss"]
            rec["final_loss"] = loss if loss is None or math.isfinite(loss) else None
        return {"format": FORMAT, "version": VERSION, **d}

    def save(self, path: Path) -> Path:
        self.updated = now()
        text = json.dumps(self.to_json(), indent=2, allow_nan=False)
        return write_atomic(path, text + "\n")

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        """The manifest at ``path``, or None when there is none (or it is not ours).

        An unreadable or foreign manifest is not an error: the batch simply renders
        everything again and writes a fresh one.
        """
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(d, dict) or d.get("format") != FORMAT or d.get("version") != VERSION:
            return None
        try:
            return cls(
                batch=d["batch"],
                source=d["source"],
                base=d["base"],
                mode=d["mode"],
                package_version=d["package_version"],
                render=d["render"],
                variants=[VariantRecord.from_json(v) for v in d["variants"]],
                compare=CompareRecord.from_json(d.get("compare")),
                updated=d.get("updated", ""),
            )
        except (KeyError, TypeError):
            return None
