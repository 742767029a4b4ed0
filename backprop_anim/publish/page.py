"""The lecture page: ``index.html`` beside the video, for class, a course site or a USB stick.

One HTML file and a ``page/`` folder (stylesheet, script, KaTeX with its licence, one
JPEG still per beat): no server, no CDN, no build step; it works opened from disk
(``file://``). Everything the page shows is in one JSON object inside it (beats,
chapters, transcript sentences with their times, subtitle cues), so nothing is fetched:
browsers refuse ``fetch`` and ``<track src>`` on ``file://`` pages, so the subtitle and
chapter tracks are built in the page with ``addTextTrack`` from the same cues as the
``.vtt`` files. The notes are ``notes.md`` rendered here (CommonMark, markdown-it-py),
their formulas typeset in the browser by KaTeX.

Modes (``page/page.js``): the page (chapters and transcript follow the video; click to
seek), ``?present`` (stops at the end of every beat; a clicker's next key plays the next
one; b blanks; s opens the speaker view) and ``?speaker`` (the window the presenter
opens: the beat's narration, the next beat's still, a clock and a timer, kept in step
with ``postMessage``, which works between ``file://`` windows).
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..narration.subtitles import Cue
from ..trace.model import write_atomic
from ..vendor import KATEX
from .chapters import BeatSpan
from .remux import ChapterMark

ASSETS = Path(__file__).parent / "assets"
PAGE_DIR = "page"


@dataclass(frozen=True)
class Sentence:
    """A sentence of the narration and when it is spoken (seconds in the video)."""

    beat: str
    start: float
    end: float
    text: str


_MATH = re.compile(r"^\$\$\n(.*?)\n\$\$$", re.S | re.M)
_SUB = re.compile(r"^<sub>(.*)</sub>$", re.M)


def notes_html(markdown: str) -> str:
    """notes.md as HTML: formulas as ``<div class="math">`` for KaTeX, raw HTML escaped."""
    from markdown_it import MarkdownIt

    kept: list[str] = []

    def keep(fragment: str) -> str:
        kept.append(fragment)
        return f"\n\nPUBLISHKEPT{len(kept) - 1}X\n\n"

    text = _MATH.sub(lambda m: keep(f'<div class="math">{html.escape(m[1])}</div>'), markdown)
    text = _SUB.sub(
        lambda m: keep(f'<p class="beat-id">{html.escape(m[1]).replace("`", "")}</p>'), text
    )
    rendered = MarkdownIt("commonmark", {"html": False}).render(text)
    return re.sub(r"<p>PUBLISHKEPT(\d+)X</p>", lambda m: kept[int(m[1])], rendered)


def _json_for_script(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>``)."""
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def write_lecture_page(
    folder: Path,
    *,
    title: str,
    description: str,
    video: str,
    fps: int,
    duration: float,
    spans: Sequence[BeatSpan],
    chapters: Sequence[ChapterMark],
    lines: Sequence[tuple[str, str]],
    sentences: Sequence[Sentence],
    cues: Sequence[Cue],
    stills: Sequence[Any],
    notes_markdown: str | None,
    clips: Mapping[str, str] | None = None,
    theme: str = "dark",
) -> list[Path]:
    """Write ``index.html`` and ``page/`` into ``folder``; return the files written.

    ``stills``: one PIL image per beat (in order), saved as the storyboard's JPEGs;
    ``lines``: (beat id, narration text); ``sentences``: the transcript, each sentence
    with the seconds the voice speaks it (the subtitles' times, from one place).
    """
    from .clips import clip_name

    page = folder / PAGE_DIR
    shutil.copytree(ASSETS, page, dirs_exist_ok=True)
    shutil.copytree(KATEX, page / "katex", dirs_exist_ok=True)
    (page / "stills").mkdir(exist_ok=True)
    files = [p for p in page.rglob("*") if p.is_file()]
    still_paths = []
    for n, (span, image) in enumerate(zip(spans, stills, strict=True)):
        name = clip_name(n, span.id, len(spans), ".jpg")
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=85)
        files.append(write_atomic(page / "stills" / name, buffer.getvalue()))
        still_paths.append(f"{PAGE_DIR}/stills/{name}")
    texts = dict(lines)
    data = {
        "title": title,
        "video": video,
        "fps": fps,
        "duration": round(duration, 3),
        "beats": [
            {
                "id": s.id,
                "title": s.title,
                "start": round(s.start, 6),
                "end": round(s.end, 6),
                "text": texts.get(s.id, ""),
                "still": still,
                "clip": (clips or {}).get(s.id),
            }
            for s, still in zip(spans, still_paths, strict=True)
        ],
        "chapters": [
            {"start": round(c.start, 6), "end": round(c.end, 6), "title": c.title} for c in chapters
        ],
        "sentences": [
            {"beat": s.beat, "start": round(s.start, 3), "end": round(s.end, 3), "text": s.text}
            for s in sentences
        ],
        "cues": [{"start": c.start, "end": c.end, "text": c.text} for c in cues],
    }
    notes = notes_html(notes_markdown) if notes_markdown else ""
    poster = still_paths[0] if still_paths else ""
    document = TEMPLATE.format(
        title=html.escape(title),
        description=html.escape(" ".join(description.split())),
        video=html.escape(video),
        poster=html.escape(poster),
        theme=html.escape(theme),
        notes=notes or "<p>This lecture has no narration, so no notes.</p>",
        data=_json_for_script(data),
    )
    files.append(write_atomic(folder / "index.html", document))
    return files


TEMPLATE = """<!doctype html>
<html lang="en" data-theme="{theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="page/katex/katex.min.css">
<link rel="stylesheet" href="page/page.css">
</head>
<body>
<header class="top">
  <h1>{title}</h1>
  <nav class="modes">
    <a id="present-link" href="?present" title="Stop at every beat; → plays the next">Present</a>
    <button id="speaker-button" type="button" title="Speaker view (s)">Speaker view</button>
    <a id="page-link" href="?">Page</a>
  </nav>
</header>
<main class="lecture">
  <section class="stage" aria-label="Video">
    <div class="screen" id="screen">
      <video id="video" src="{video}" poster="{poster}" controls preload="auto" playsinline></video>
      <div id="blank" hidden></div>
      <div id="hud" aria-live="polite"></div>
    </div>
    <p class="description">{description}</p>
    <p class="keys">Keys: <kbd>space</kbd> play/pause · <kbd>←</kbd> <kbd>→</kbd> previous/next
      beat · <kbd>f</kbd> full screen. Present mode: <kbd>→</kbd>/<kbd>PageDown</kbd> next beat,
      <kbd>←</kbd> previous, <kbd>Home</kbd>/<kbd>End</kbd>, <kbd>b</kbd> blank,
      <kbd>s</kbd> speaker view.</p>
  </section>
  <aside class="chapters" aria-label="Chapters">
    <h2>Chapters</h2>
    <ol id="chapters"></ol>
  </aside>
  <section class="transcript" aria-label="Transcript">
    <h2>Transcript</h2>
    <div id="transcript"></div>
  </section>
  <section class="notes" aria-label="Notes">
    <h2>Notes</h2>
    <div id="notes">{notes}</div>
  </section>
  <section class="storyboard" aria-label="Storyboard">
    <h2>Storyboard</h2>
    <ol id="storyboard"></ol>
  </section>
</main>
<section class="speaker-view" id="speaker-view" hidden>
  <div class="speaker-now">
    <p class="speaker-count" id="speaker-count"></p>
    <h2 id="speaker-title"></h2>
    <p id="speaker-text"></p>
  </div>
  <div class="speaker-next">
    <h3>Next</h3>
    <img id="speaker-next-still" alt="">
    <p id="speaker-next-title"></p>
  </div>
  <div class="speaker-clock">
    <p><span class="label">Clock</span> <span id="speaker-clock"></span></p>
    <p><span class="label">Timer</span> <span id="speaker-timer">0:00</span>
      <button id="speaker-reset" type="button">Reset</button></p>
    <p class="speaker-buttons"><button id="speaker-prev" type="button">← Previous</button>
      <button id="speaker-next" type="button">Next →</button></p>
  </div>
</section>
<script type="application/json" id="lecture-data">{data}</script>
<script src="page/katex/katex.min.js" defer></script>
<script src="page/page.js" defer></script>
</body>
</html>
"""
