"""The narration script: one text per beat, generated from the trace, editable as data.

:func:`build_script` writes the words (see :mod:`.explain`), then applies the lecturer's
per-beat overrides (``narration.beats`` in the config: ``"<beat id>": text`` replaces a
beat's text, ``"<beat id>+": text`` adds to it). :func:`save_script` and
:func:`load_script` keep the text as ``script.json`` so a lecturer can edit it and render
again with ``--script``; the timing in that file is informational and recomputed from the
new speech on the next render.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..numbers import DEFAULT_DIGITS
from ..options import SCENES, RenderOptions
from ..storyboard import Beat, build_storyboard
from ..trace.model import Trace, write_atomic
from .explain import LEVELS, Explainer
from .speech import strip_marks

SCRIPT_FORMAT = "backprop-anim-script"
SCRIPT_VERSION = 1
ADD_SUFFIX = "+"  # "<beat id>+": text appended to the generated text


@dataclass(frozen=True)
class ScriptLine:
    """What the narrator says during one beat; heading and formulas serve the notes."""

    beat_id: str
    text: str  # with its [[part]] marks, as in script.json
    heading: str = ""
    formulas: tuple[str, ...] = field(default_factory=tuple)

    @property
    def spoken(self) -> str:
        """The words as said and subtitled (marks removed)."""
        return strip_marks(self.text)


@dataclass(frozen=True)
class TimedLine:
    """A script line placed in the video: speech from ``start`` to ``end`` seconds."""

    beat_id: str
    text: str
    start: float
    end: float


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    hint = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def possible_beat_ids(trace: Trace) -> set[str]:
    """Every beat id some render of this trace could have (all scenes, steps, units).

    An override for a beat that this render leaves out (``--scenes``, ``--steps``) is not a
    mistake; an override for a beat no render could have is. Ids come from the storyboard
    itself, drawn once with every unit shown and once with every layer elided.
    """
    steps = [s.step for s in trace.steps]
    ids: set[str] = set()
    for wide in (True, False):
        options = RenderOptions(
            steps=steps,
            scenes=SCENES,
            max_units_drawn=10**9 if wide else 0,
            focus_units=0,
        )
        ids.update(b.id for b in build_storyboard(trace, options))
    return ids


def check_overrides(
    overrides: Mapping[str, str], trace: Trace, beats: Sequence[Beat], where: str
) -> None:
    """Reject an override key that names no beat, suggesting the closest beat id."""
    current = [b.id for b in beats]
    possible: set[str] | None = None
    for key, text in overrides.items():
        beat_id = key.removesuffix(ADD_SUFFIX)
        if beat_id in current:
            pass
        else:
            if possible is None:
                possible = possible_beat_ids(trace)
            if beat_id not in possible:
                raise UserError(
                    f"{where}: no beat {beat_id!r} in this lecture"
                    + _did_you_mean(beat_id, current or sorted(possible))
                    + "; beat ids are listed in script.json and render.json"
                )
        if not isinstance(text, str):
            raise UserError(f"{where}.{key}: expected a text, got {type(text).__name__}")


def build_script(
    trace: Trace,
    beats: Sequence[Beat],
    *,
    level: str = "standard",
    overrides: Mapping[str, str] | None = None,
    digits: int = DEFAULT_DIGITS,
) -> list[ScriptLine]:
    """The narrator's text for each beat, in order, with the trace's numbers as on screen."""
    if level not in LEVELS:
        raise UserError(
            f"narration.level: unknown level {level!r}{_did_you_mean(level, LEVELS)}; "
            f"expected one of: {', '.join(LEVELS)}"
        )
    overrides = dict(overrides or {})
    check_overrides(overrides, trace, beats, "narration.beats")
    explainer = Explainer(trace, beats, level, digits)
    lines = []
    for beat in beats:
        said = explainer.explain(beat)
        text = overrides.get(beat.id, said.text)
        extra = overrides.get(beat.id + ADD_SUFFIX)
        if extra:
            text = f"{text} {extra.strip()}".strip()
        lines.append(ScriptLine(beat.id, text, said.heading, tuple(said.formulas)))
    return lines


def save_script(lines_with_timing: Iterable[TimedLine], path: str | Path) -> Path:
    """Write ``script.json`` (beat, text, start, end per line), atomically."""
    lines = [
        {
            "beat": line.beat_id,
            "text": line.text,
            "start": round(float(line.start), 3),
            "end": round(float(line.end), 3),
        }
        for line in lines_with_timing
    ]
    doc = {"format": SCRIPT_FORMAT, "version": SCRIPT_VERSION, "lines": lines}
    return write_atomic(Path(path), json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def load_script(
    path: str | Path, beats: Sequence[Beat], trace: Trace | None = None
) -> dict[str, str]:
    """The texts of an edited ``script.json``, by beat id, checked against this lecture's beats.

    Beats missing from the file keep their generated text; a beat id the lecture does not
    have is an error (with the closest id), as is a file that is not a script. Given the
    trace, a beat that another render of it has but this one leaves out (``--scenes``,
    ``--steps``) is skipped, as for the config's overrides: a script written by the full
    lecture then serves a render of a part of it.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: script file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UserError(f"{path}: cannot read the script: {reason}") from None
    try:
        doc: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    entries = doc.get("lines") if isinstance(doc, dict) else doc
    if isinstance(doc, dict) and doc.get("format", SCRIPT_FORMAT) != SCRIPT_FORMAT:
        raise UserError(f"{path}: not a backprop-anim script (format {doc.get('format')!r})")
    version = doc.get("version", SCRIPT_VERSION) if isinstance(doc, dict) else SCRIPT_VERSION
    if type(version) is not int or version != SCRIPT_VERSION:
        raise UserError(
            f"{path}: version: expected {SCRIPT_VERSION} (the script format this backprop-anim "
            f"reads), got {doc.get('version')!r}; save a new script.json with a render"
        )
    if not isinstance(entries, list):
        raise UserError(
            f"{path}: expected a script: an object with 'lines', a list of "
            "{beat, text, start, end}"
        )
    known = [b.id for b in beats]
    known_set = set(known)
    possible: set[str] | None = None
    texts: dict[str, str] = {}
    seen: set[str] = set()
    for n, entry in enumerate(entries):
        where = f"{path}: lines[{n}]"
        if not isinstance(entry, dict):
            raise UserError(f"{where}: expected an object with 'beat' and 'text'")
        beat_id, text = entry.get("beat"), entry.get("text")
        if not isinstance(beat_id, str):
            raise UserError(f"{where}.beat: expected a beat id (text), got {beat_id!r}")
        if not isinstance(text, str):
            raise UserError(f"{where}.text: expected a text, got {type(text).__name__}")
        if not text.strip():
            raise UserError(
                f"{where}.text: expected the words to say, got an empty text "
                "(remove the line to keep the generated words)"
            )
        if beat_id in seen:
            raise UserError(f"{where}.beat: beat {beat_id!r} appears twice")
        seen.add(beat_id)
        if beat_id not in known_set:
            if trace is not None:
                possible = possible if possible is not None else possible_beat_ids(trace)
                if beat_id in possible:
                    continue  # in the lecture, not in this render
            raise UserError(
                f"{where}.beat: no beat {beat_id!r} in this lecture" + _did_you_mean(beat_id, known)
            )
        texts[beat_id] = text
    return texts
