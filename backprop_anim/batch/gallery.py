"""``renders/<batch>/index.html``: the batch at a glance, one self-contained page.

Opened straight from the disk or copied to a course site with the variant folders, it
needs no network: styles and the few lines of script that sort the table are inline,
and every video and poster is a relative link into the batch folder. Each variant
shows its poster frame (taken from the middle of its video with PyAV) and a player,
what it changes, its final loss (rounded by the one rule in :mod:`backprop_anim.numbers`)
and its status; the table sorts by loss so the best and worst settings stand out.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..numbers import fmt
from ..trace.model import write_atomic
from .manifest import Manifest, VariantRecord

POSTER = "poster.jpg"
VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime"}


def extract_poster(video: Path, dest: Path, *, at: float = 0.5) -> Path:
    """Save the frame ``at`` (a fraction) of the way through ``video`` as a JPEG."""
    import av

    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            seconds = (container.duration or 0) / 1_000_000 or float(
                (stream.duration or 0) * (stream.time_base or 0)
            )
            target = seconds * at
            if target > 0:
                container.seek(int(target / stream.time_base), stream=stream)
            frame = None
            for frame in container.decode(stream):
                if frame.time is None or frame.time >= target:
                    break
            if frame is None:
                raise ValueError(f"{video}: no video frames")
            frame.to_image().convert("RGB").save(dest, "JPEG", quality=85)
    except av.FFmpegError as exc:
        raise ValueError(f"{video}: {exc}") from None
    return dest


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _player(video: str, files: list[str], *, alt: str, width: int, poster: str | None) -> str:
    """A <video> with its captions (an <img> for a GIF, which is a picture)."""
    src = quote(video)
    suffix = Path(video).suffix.lower()
    if suffix not in VIDEO_TYPES:
        return f'<img src="{src}" alt="{html.escape(alt)}" width="{width}">'
    poster_attr = f' poster="{quote(poster)}"' if poster else ""
    tracks = "".join(
        f'<track kind="captions" src="{quote(f)}" srclang="en" label="English">'
        for f in files
        if f.endswith(".vtt") and not f.endswith(".chapters.vtt")
    )
    return (
        f'<video controls preload="metadata" width="{width}"{poster_attr}>'
        f'<source src="{src}" type="{VIDEO_TYPES[suffix]}">{tracks}</video>'
    )


def _cell_video(rec: VariantRecord) -> str:
    if rec.status != "ok" or not rec.video:
        return '<div class="novideo">no video</div>'
    return _player(rec.video, rec.files, alt=rec.name, width=320, poster=rec.poster)


def _page_link(rec: VariantRecord) -> str:
    """A link to the variant's lecture page (chapters, transcript, presenter mode)."""
    page = f"{rec.name}/index.html"
    if rec.status != "ok" or page not in rec.files:
        return ""
    return f'<br><a class="page" href="{quote(page)}">lecture page</a>'


def _row(rec: VariantRecord) -> str:
    changes = "".join(
        f"<li><code>{html.escape(path)}</code> = <code>{html.escape(_value(value))}</code></li>"
        for path, value in rec.overrides.items()
    )
    loss = rec.final_loss
    loss_text = fmt(loss) if loss is not None else "–"
    status = html.escape(rec.status)
    error = f'<div class="error">{html.escape(rec.error)}</div>' if rec.error else ""
    length = f"{rec.duration:.1f} s" if rec.duration is not None else "–"
    return (
        f'<tr class="{status}" data-name="{html.escape(rec.name)}" '
        f'data-loss="{"" if loss is None else repr(float(loss))}">'
        f"<td>{_cell_video(rec)}</td>"
        f'<td class="name">{html.escape(rec.name).replace("__", "__<wbr>")}{_page_link(rec)}</td>'
        f'<td><ul class="changes">{changes}</ul></td>'
        f'<td class="num">{loss_text}</td>'
        f'<td><span class="status">{status}</span>{error}</td>'
        f'<td class="num">{length}</td>'
        "</tr>"
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
p.meta { color: #555; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid #ddd; padding: .5rem; vertical-align: top; text-align: left; }
th button { font: inherit; font-weight: 600; border: 0; background: none; cursor: pointer;
  padding: 0; color: #0b57d0; }
th[aria-sort="ascending"] button::after { content: " ▲"; }
th[aria-sort="descending"] button::after { content: " ▼"; }
td.num { font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
td.name { font-family: ui-monospace, monospace; }
ul.changes { margin: 0; padding-left: 1rem; }
video, img { display: block; background: #000; max-width: 320px; }
#compare video, #compare img { max-width: 640px; margin-bottom: 1.2rem; }
.novideo { width: 320px; height: 180px; background: #eee; color: #777; display: flex;
  align-items: center; justify-content: center; }
.status { font-weight: 600; }
tr.ok .status { color: #137333; } tr.failed .status { color: #b3261e; }
tr.pending .status { color: #8a6d00; }
.error { color: #b3261e; max-width: 28rem; white-space: pre-wrap; font-size: .9rem; }
"""

# Sort rows by a data attribute; numbers numerically, rows without a value last.
SCRIPT = """
document.querySelectorAll("th[data-key] button").forEach((button) => {
  button.addEventListener("click", () => {
    const th = button.parentElement, key = th.dataset.key, numeric = th.dataset.numeric === "1";
    const asc = th.getAttribute("aria-sort") !== "ascending";
    document.querySelectorAll("th[data-key]").forEach((h) => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    const body = document.querySelector("#variants tbody");
    const value = (row) => numeric ? parseFloat(row.dataset[key]) : row.dataset[key];
    const rows = [...body.rows].sort((a, b) => {
      const x = value(a), y = value(b);
      if (numeric && isNaN(x) !== isNaN(y)) return isNaN(x) ? 1 : -1;
      const order = numeric ? x - y : String(x).localeCompare(String(y));
      return asc ? order : -order;
    });
    rows.forEach((row) => body.appendChild(row));
  });
});
"""


def render_gallery(manifest: Manifest) -> str:
    """The gallery page's HTML for ``manifest``."""
    counts = {s: sum(r.status == s for r in manifest.variants) for s in ("ok", "failed", "pending")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    opts = manifest.render
    rendering = (
        f"quality {opts.get('quality')}, pace {opts.get('pace')}, "
        f"scenes {', '.join(opts.get('scenes') or [])}, voice {opts.get('voice')}"
    )
    compare = ""
    cmp = manifest.compare
    if cmp is not None and cmp.status == "ok" and cmp.video:
        player = _player(cmp.video, cmp.files, alt="comparison", width=640, poster=cmp.poster)
        compare = f'<h2>All variants compared</h2><div id="compare">{player}</div>'
    meta = (
        f"Base config <code>{html.escape(manifest.base)}</code> ({html.escape(manifest.mode)}), "
        f"{html.escape(rendering)}. {html.escape(summary)}. Updated "
        f"{html.escape(manifest.updated)} by backprop-anim {html.escape(manifest.package_version)}."
    )
    rows = "\n".join(_row(r) for r in manifest.variants)
    title = html.escape(f"{manifest.batch}: {len(manifest.variants)} variants")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{title}</h1>
<p class="meta">{meta}</p>
{compare}
<table id="variants">
<thead><tr>
<th>Video</th>
<th data-key="name"><button type="button">Variant</button></th>
<th>Changes</th>
<th data-key="loss" data-numeric="1"><button type="button">Final loss</button></th>
<th>Status</th>
<th>Length</th>
</tr></thead>
<tbody>
{rows}
</tbody>
</table>
<script>{SCRIPT}</script>
</body>
</html>
"""


def write_gallery(manifest: Manifest, path: Path) -> Path:
    """Write the gallery page atomically, beside the variant folders it links into."""
    return write_atomic(path, render_gallery(manifest))
