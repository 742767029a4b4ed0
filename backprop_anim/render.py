"""One render job: a config or a trace, plus options, to finished files in one folder.

The job trains (or loads a saved trace), builds the storyboard, times the beats,
runs Manim once for the whole lecture, and writes the video, ``trace.json``,
``render.json``, stills and a storyboard sheet. Everything is written into a
temporary folder beside the target and moved into place only when complete, so an
interrupted or failed render leaves the previous output untouched and no partial
file.

Manim's ``config`` is process-global: it is set here, in one place, inside
``tempconfig`` so that it is restored afterwards and two renders in one process do
not leak settings into each other (batches also run each render in its own process).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config.loader import LoadedConfig, load_config
from .errors import DivergenceError, UserError
from .limits import check_render_size
from .narrate import plan_narration
from .narration import mix_track, mux_audio, write_notes
from .options import QUALITIES, RenderOptions
from .parallel import PartFailed, choose_jobs, render_in_parts
from .publish import write_publish_outputs
from .storyboard import build_storyboard
from .timeline import BeatParts, PartSpec, TimedBeat, schedule
from .trace.model import Trace, load_trace, write_atomic
from .visual.theme import THEMES

if TYPE_CHECKING:
    from scenes.base import LecturePlan

DEFAULT_RENDERS = Path("renders")


@dataclass
class RenderResult:
    output_dir: Path
    video: Path
    files: list[Path]
    duration: float  # seconds of video
    final_loss: float  # on the data set after training (Summary.final_loss); nan if none
    timings: dict[str, float] = field(default_factory=dict)
    diverged: dict | None = None


def cache_dir() -> Path:
    """Where reusable work lives (Manim's partial movies, synthesized speech)."""
    root = os.environ.get("BACKPROP_ANIM_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "backprop-anim"


def obtain_trace(
    source: str | Path | LoadedConfig | Trace, overrides: tuple[str, ...] | list[str] = ()
) -> Trace:
    """A trace from a saved ``trace.json``, a config file (trained now), or objects."""
    if isinstance(source, Trace):
        return source
    if isinstance(source, LoadedConfig):
        return cached_train(source)
    path = Path(source)
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if path.suffix.lower() == ".json":
        if overrides:
            raise UserError("--set applies to a config; a saved trace is rendered as it is")
        return load_trace(path)
    return cached_train(load_config(path, overrides))


# Config sections that change what a lecture shows or says, never what training does.
PRESENTATION_FIELDS = ("name", "title", "description", "narration")


def cached_train(loaded: LoadedConfig, use_cache: bool = True) -> Trace:
    """Train, or reuse the trace of an identical earlier training (same config and data).

    Changing only how a lecture is shown (pace, scenes, narration text, title) then
    never re-runs training. The key covers the normalized config without its
    presentation fields, the bytes of a CSV data file, and the package and code
    versions.
    """
    from . import __version__
    from .engine.trainer import train

    cfg = loaded.config
    settings = cfg.model_dump(mode="json")
    # Names, titles and narration shape the lecture, not the training: left out of the
    # key, and taken from the current config when a trace is reused.
    shown = {key: settings.pop(key) for key in PRESENTATION_FIELDS if key in settings}
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(__version__.encode())
    digest.update(code_fingerprint().encode())
    if cfg.data.csv is not None:
        csv_path = Path(cfg.data.csv.path)
        csv_path = csv_path if csv_path.is_absolute() else loaded.base_dir / csv_path
        if csv_path.is_file():
            digest.update(csv_path.read_bytes())
    path = cache_dir() / "traces" / f"{digest.hexdigest()[:32]}.json"
    if use_cache and path.is_file():
        try:
            trace = load_trace(path)
        except UserError:
            path.unlink(missing_ok=True)  # a damaged cache entry is rebuilt
        else:
            trace.config.update(shown)
            return trace
    trace = train(loaded)
    trace.save(path)
    return trace


def config_hash(trace: Trace) -> str:
    text = json.dumps(trace.config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_writable(target: Path) -> None:
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{parent}: cannot create the output folder ({exc.strerror})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{parent}: the output folder is not writable")
    if target.exists() and not target.is_dir():
        raise UserError(f"{target}: exists and is not a folder")


def _copy_sections(source: Path, folder: Path, timed: list[TimedBeat]) -> list[Path]:
    """One clip per beat, named by beat id (Manim names them by section index)."""
    index = json.loads(next(source.glob("*.json")).read_text())
    folder.mkdir()
    out = []
    for entry, tb in zip(index, timed, strict=True):
        target = folder / f"{tb.beat.id}.{Path(entry['video']).suffix.lstrip('.')}"
        shutil.copyfile(source / entry["video"], target)
        out.append(target)
    return out


def _cut_sections(movie: Path, folder: Path, timed: list[TimedBeat]) -> list[Path]:
    """One silent clip per beat, named by beat id, cut from the silent movie.

    Every beat is its own encode starting on a keyframe, so a beat's clip is its packets
    copied out (``publish.remux.cut``): the lecture's frames, whether it was rendered in
    one process or in parts. A GIF has no keyframes; Manim writes its sections.
    """
    from .publish.remux import cut

    folder.mkdir()
    return [
        cut(
            movie,
            folder / f"{tb.beat.id}{movie.suffix}",
            tb.start_frame,
            tb.start_frame + tb.frames,
        )
        for tb in timed
    ]


@functools.cache
def code_fingerprint() -> str:
    """A hash of the library and scene sources: a cached render is only reused by the same code."""
    digest = hashlib.sha256()
    roots = [Path(__file__).parent, Path(__file__).parent.parent / "scenes"]
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            digest.update(path.relative_to(root.parent).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def render_key(trace: Trace, options: RenderOptions, narration, timed: list[TimedBeat]) -> str:
    """Everything that decides the output's bytes: trace, options, words, voice, versions."""
    import manim

    from . import __version__

    shown = options.to_json()
    # How many processes render it does not change the frames (backprop_anim.parallel).
    for key in ("preview", "verbose", "extra", "use_cache", "jobs", "scheduler"):
        shown.pop(key, None)
    shown["script"] = None  # its effect is in the narration lines below
    payload = {
        "trace": hashlib.sha256(trace.dumps().encode()).hexdigest(),
        "options": shown,
        "lines": [[line.beat_id, line.text] for line in narration.lines],
        "voice": narration.describe(),
        "frames": [[tb.beat.id, tb.start_frame, tb.frames] for tb in timed],
        "versions": [__version__, manim.__version__, code_fingerprint()],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def _store_in_cache(folder: Path, cached: Path) -> None:
    """Keep a copy of a finished render so an unchanged re-render is a file copy."""
    tmp = cached.parent / f".{cached.name}.tmp-{os.getpid()}"
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(folder, tmp)
        if cached.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            cached.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, cached)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # a cache that cannot be written is skipped


def _from_cache(cached: Path, target: Path, t0: float, diverged: dict | None) -> RenderResult:
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        shutil.copytree(cached, tmp)
        meta = json.loads((tmp / "render.json").read_text())
        _replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    files = sorted(p for p in target.rglob("*") if p.is_file())
    final_loss = meta.get("final_loss")
    return RenderResult(
        output_dir=target,
        video=target / meta["video"],
        files=files,
        duration=meta["duration"],
        final_loss=float("nan") if final_loss is None else final_loss,
        timings={"total": round(time.perf_counter() - t0, 3), "cached": 1.0},
        diverged=diverged,
    )


def _replace_dir(tmp: Path, target: Path) -> None:
    """Move a finished folder into place; the old one is removed only afterwards."""
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def open_video(path: Path) -> None:
    """``--preview``: open the finished video (picture and sound) in the system's player.

    The same for a render in one process, in parts, or taken from the cache. Uses
    Manim's opener (``xdg-open`` on Linux, ``open`` on macOS, or Manim's
    ``preview_command``).
    """
    from manim.utils.file_ops import open_file

    try:
        open_file(Path(path).resolve())
    except OSError as exc:
        raise UserError(
            f"--preview: the video was written to {path}, but could not be opened "
            f"({exc.strerror or exc}); open it yourself, or install xdg-utils"
        ) from None


def manim_settings(
    options: RenderOptions,
    media_dir: Path,
    output_file: str,
    *,
    sections: bool = False,
    video_dir: Path | None = None,
) -> dict[str, Any]:
    """Manim's configuration for one video of ``options`` (lectures and comparisons).

    ``video_dir``: where Manim writes the movie (and sections), default under
    ``media_dir``.

    Set once here and applied with ``tempconfig``, so Manim's global config is changed
    in one place and restored afterwards.
    """
    width, height = options.resolution
    placed = {"video_dir": str(video_dir)} if video_dir is not None else {}
    return placed | {
        "quality": QUALITIES[options.quality][0],
        "pixel_width": width,
        "pixel_height": height,
        "frame_rate": options.frame_rate,
        "media_dir": str(media_dir),
        "output_file": output_file,
        "format": options.format,
        "transparent": options.transparent or options.format == "mov",
        # Manim's partial-movie cache hashes every mobject of every play call: it cost
        # half of the render time. Re-renders are cached whole instead (see cache_key).
        "disable_caching": True,
        "write_to_movie": True,
        "save_last_frame": False,
        "save_sections": sections,
        # --preview opens the finished video, with its sound, once written (open_video);
        # Manim's would open its silent movie, which is a temporary file here.
        "preview": False,
        "progress_bar": "none",
        "verbosity": "INFO" if options.verbose else "ERROR",
        "background_color": THEMES[options.theme].background,
    }


def run_scene(
    make_scene: Callable[[dict[str, Any]], Any],
    options: RenderOptions,
    media_dir: Path,
    output_file: str,
    video_dir: Path | None,
    *,
    plain_manim: bool = False,
    sections: bool = False,
    build_only: bool = False,
) -> tuple[Path | None, Any]:
    """Run one Manim scene with ``options``' settings; return the movie and Manim's writer.

    The one place that runs Manim, for lectures, parts of lectures and comparisons:
    ``make_scene(kwargs)`` builds the scene with ``kwargs`` (the renderer to use: one
    encoder for the whole video, a camera that keeps the transformed edge image, no
    drawing while skipping; see visual/renderer.py), or with Manim's stock renderer
    when ``plain_manim``. ``build_only``: no movie is written (no path is returned).
    """
    from manim import tempconfig

    settings = manim_settings(
        options, media_dir, output_file, sections=sections, video_dir=video_dir
    )
    if build_only:
        settings["write_to_movie"] = False
        settings["format"] = "png"
    with tempconfig(settings):
        if plain_manim:
            scene = make_scene({})
        else:
            from .visual.renderer import CachingCamera, SkippingRenderer, StreamingFileWriter

            renderer = SkippingRenderer(
                file_writer_class=StreamingFileWriter, camera_class=CachingCamera
            )
            scene = make_scene({"renderer": renderer})
        if build_only:
            scene.construct()  # nothing is played, so there is no movie to finish
            return None, scene.renderer.file_writer
        scene.render()
        writer = scene.renderer.file_writer
        return (None if build_only else Path(writer.movie_file_path)), writer


def _run_manim(
    trace: Trace,
    timed: list[TimedBeat],
    options: RenderOptions,
    media_dir: Path,
    on_beat: Callable[[int, int, TimedBeat], None] | None,
    burn_captions: list,
    video_dir: Path | None = None,
    *,
    plain_manim: bool | None = None,
    window: tuple[int, int] | None = None,
    speech: dict | None = None,
) -> tuple[Path, LecturePlan]:
    """Run Manim once for the whole lecture; return the silent movie and the filled plan.

    ``window``: draw only the beats [first, stop) (one part of a lecture rendered in
    parts, see backprop_anim.parallel); the earlier beats are played without drawing.

    ``plain_manim`` (default: the environment variable ``BACKPROP_ANIM_PLAIN_MANIM``)
    renders with Manim's stock writer, camera and redraw rules: the reference the
    equivalence tests and benchmarks compare with, and a way out should a Manim upgrade
    break the faster path.
    """
    if plain_manim is None:
        plain_manim = os.environ.get("BACKPROP_ANIM_PLAIN_MANIM", "") not in ("", "0")

    from scenes.base import LecturePlan
    from scenes.lecture import Lecture

    logging.getLogger("manim").setLevel(logging.INFO if options.verbose else logging.ERROR)
    plan = LecturePlan(
        trace=trace,
        timed=timed,
        options=options,
        on_beat=on_beat,
        burn_captions=burn_captions,
        plain_manim=plain_manim,
        window=window,
        speech=speech or {},
    )
    # Every beat starts on a keyframe: clips and parts are cut by remuxing (a part's
    # encoder counts its frames from the part's first beat).
    window_beats = timed[window[0] : window[1]] if window else timed
    offset = window_beats[0].start_frame if window_beats else 0
    keyframes = frozenset(tb.start_frame - offset for tb in window_beats)

    def make_lecture(renderer: dict[str, Any]) -> Lecture:
        scene = Lecture(plan, **renderer)
        if renderer:
            scene.renderer.file_writer.keyframes = keyframes
        return scene

    # Sections are cut from the movie afterwards (render), except a GIF's (no keyframes).
    manim_sections = options.sections and options.format == "gif"
    movie, writer = run_scene(
        make_lecture,
        options,
        media_dir,
        "lecture",
        video_dir,
        plain_manim=plain_manim,
        sections=manim_sections,
    )
    plan.sections_dir = Path(writer.sections_output_dir) if manim_sections else None
    return movie, plan


def measure_parts(
    trace: Trace,
    timed: list[TimedBeat],
    options: RenderOptions,
    media_dir: Path,
    speech: dict,
) -> dict[str, BeatParts]:
    """Every beat's parts, learned by building the lecture's beats without playing them:
    what the timeline needs before the beats are timed, so that the words can wait where
    the picture needs longer (timeline.part_pauses). The formulas and labels it typesets
    are kept (visual.panels), so the render that follows copies them."""
    from scenes.base import LecturePlan
    from scenes.lecture import Lecture

    plan = LecturePlan(
        trace=trace,
        timed=timed,
        options=options,
        window=(len(timed), len(timed)),
        speech=speech,
        build_only=True,
    )
    made: list[Lecture] = []

    def make_lecture(renderer: dict[str, Any]) -> Lecture:
        made.append(Lecture(plan, **renderer))
        return made[-1]

    with tempfile.TemporaryDirectory(prefix="backprop-anim-measure-") as tmp:
        try:
            run_scene(make_lecture, options, media_dir, "measure", Path(tmp), build_only=True)
        except UserError:
            raise
        except Exception as exc:  # a scene that breaks: name its beat, as a part would
            current = made[0].current if made else None
            where = f" at beat {current.beat.id}" if current is not None else ""
            raise PartFailed(
                f"building the lecture's beats failed{where}: {type(exc).__name__}: {exc}"
            ) from None
    return plan.parts


def cached_parts(
    trace: Trace, timed: list[TimedBeat], options: RenderOptions, speech: dict
) -> dict[str, BeatParts]:
    """:func:`measure_parts`, kept under a key of what decides the parts (the trace, the
    options but the voice, the beats, the parts the words name, the code), so that a
    re-render builds nothing."""
    from . import __version__

    shown = options.to_json()
    for key in ("preview", "verbose", "extra", "use_cache", "jobs", "scheduler", "voice"):
        shown.pop(key, None)
    payload = {
        "trace": hashlib.sha256(trace.dumps().encode()).hexdigest(),
        "options": shown,
        "beats": [tb.beat.id for tb in timed],
        # Some parts are drawn only where a sentence names them (BeatScene.said_parts).
        "marks": {
            beat: sorted({name for s in said.sentences for name, _ in s.marks})
            for beat, said in speech.items()
        },
        "versions": [__version__, code_fingerprint()],
    }
    key = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    path = cache_dir() / "parts" / f"{key[:32]}.json"
    if options.use_cache and path.is_file():
        try:
            return {
                beat: BeatParts(
                    [PartSpec(*spec) for spec in doc["specs"]], doc["unit"], tuple(doc["names"])
                )
                for beat, doc in json.loads(path.read_text()).items()
            }
        except (ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)  # a damaged entry is measured again
    media = cache_dir() / "manim" / trace.config["name"]
    parts = measure_parts(trace, timed, options, media, speech)
    doc = {
        beat: {
            "specs": [[p.name, p.weight, p.hold, p.travel, p.least] for p in built.specs],
            "unit": built.unit,
            "names": list(built.names),
        }
        for beat, built in parts.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(doc))
    return parts


def render(
    source: str | Path | LoadedConfig | Trace,
    options: RenderOptions | None = None,
    *,
    overrides: tuple[str, ...] | list[str] = (),
    output_dir: str | Path | None = None,
    on_beat: Callable[[int, int, TimedBeat], None] | None = None,
    allow_large: bool = False,
) -> RenderResult:
    """Render one lecture; return where the files are. Raises UserError on bad input.

    A video larger than ``limits.MAX_RENDER_PIXELS`` is refused unless ``allow_large``.
    """
    from PIL import Image

    from . import __version__
    from .media import extract_frames, storyboard_sheet, video_info

    options = options or RenderOptions()
    if options.tex and not (shutil.which("latex") and shutil.which("dvisvgm")):
        raise UserError(
            "--tex needs a LaTeX installation (Debian: texlive-latex-base dvisvgm); "
            "without --tex, formulas are typeset with Typst, which needs nothing installed"
        )
    t0 = time.perf_counter()
    trace = obtain_trace(source, overrides)
    t_trace = time.perf_counter()
    name = trace.config["name"]
    if trace.diverged and not trace.steps:
        d = trace.diverged
        raise DivergenceError(d["message"], step=d["step"], layer=d.get("layer"), phase=d["phase"])
    target = Path(output_dir) if output_dir is not None else DEFAULT_RENDERS / name
    _check_writable(target)
    beats = build_storyboard(trace, options)
    if not beats:
        raise UserError("--scenes: nothing to render for the chosen scenes and steps")
    if not allow_large:
        check_render_size(beats, options)
    fps = options.frame_rate
    narration = plan_narration(trace, beats, options)
    t_speech = time.perf_counter()
    timed = schedule(beats, narration.speech, options.pace, fps)
    if narration.timing:
        # Where a part needs longer than its words leave it, the words wait: the beats'
        # parts are learned by building the lecture once without drawing it.
        parts = cached_parts(trace, timed, options, narration.timing)
        minimum = narration.wait_for_parts(parts, options.pace)
        timed = schedule(beats, narration.speech, options.pace, fps, minimum)
    t_parts = time.perf_counter()
    starts = {tb.beat.id: tb.start(fps) for tb in timed}
    cues = narration.cues(starts)

    key = render_key(trace, options, narration, timed)
    cached = cache_dir() / "renders" / key
    if options.use_cache and (cached / "render.json").is_file():
        result = _from_cache(cached, target, t0, trace.diverged)
        if options.preview:
            open_video(result.video)
        return result

    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    # Manim's typesetting caches are shared by every render of this lecture; its videos
    # go to a folder of this process, so that two renders of one lecture (two terminals,
    # two batch variants) never write the same movie file. Removed when done.
    media_dir = cache_dir() / "manim" / name
    video_dir = media_dir / f"videos-{os.getpid()}"
    try:
        burn = cues if options.captions == "burn" else []
        jobs, why, auto = choose_jobs(timed, options)
        split = None
        if jobs > 1 or options.scheduler:
            # Beats in parts, each in its own process, joined by remuxing (parallel.py).
            outcome = render_in_parts(
                name,
                trace,
                timed,
                options,
                jobs,
                why,
                burn,
                video_dir,
                on_beat,
                speech=narration.timing,
            )
            movie, plan, split = outcome.movie, outcome.plan, outcome.report
        else:
            movie, plan = _run_manim(
                trace,
                timed,
                options,
                media_dir,
                on_beat,
                burn,
                video_dir,
                speech=narration.timing,
            )
        still_frames = plan.still_frames
        t_manim = time.perf_counter()
        video = tmp / f"{name}.{options.format}"
        silent = info = video_info(movie)
        if narration.clips and options.format != "gif":
            track = mix_track(
                narration.placed_clips(starts),
                silent["duration"],
                path=tmp / ".narration.wav",
            )
            mux_audio(movie, track, video)
            track.unlink()
        else:
            shutil.copyfile(movie, video)
        trace.save(tmp / "trace.json")
        files = [video, tmp / "trace.json"]
        info = video_info(video)
        if narration.lines:
            files += narration.write(tmp, name, starts, cues, subtitles=not burn)
        wanted = [still_frames.get(tb.beat.id, tb.start_frame + tb.frames - 1) for tb in timed]
        if all(tb.beat.id in plan.still_images for tb in timed):
            # Taken from the camera while rendering: no need to decode the whole video.
            frames = [Image.open(io.BytesIO(plan.still_images[tb.beat.id])) for tb in timed]
        else:
            frames = extract_frames(video, wanted)
        stills: dict[str, Path] = {}
        if options.stills:
            (tmp / "stills").mkdir()
            for tb, image in zip(timed, frames, strict=True):
                path = tmp / "stills" / f"{tb.beat.id}.png"
                image.save(path)
                stills[tb.beat.id] = path
                files.append(path)
        if narration.lines:
            files.append(write_notes(trace, narration.lines, stills, tmp / "notes.md"))
        if options.sections and plan.sections_dir is not None:
            files += _copy_sections(plan.sections_dir, tmp / "sections", timed)
        elif options.sections:
            files += _cut_sections(movie, tmp / "sections", timed)
        sheet = tmp / "storyboard.png"
        storyboard_sheet(frames, [tb.beat.id for tb in timed], sheet)
        files.append(sheet)
        published = write_publish_outputs(tmp, video, trace, timed, narration, frames, options)
        files += published.files
        t_end = time.perf_counter()
        timings = {
            "trace": round(t_trace - t0, 3),
            "speech": round(t_speech - t_trace, 3),
            "parts": round(t_parts - t_speech, 3),
            "manim": round(t_manim - t_parts, 3),
            "outputs": round(t_end - t_manim, 3),
            "total": round(t_end - t0, 3),
        }
        import manim

        meta = {
            "backprop_anim": __version__,
            "manim": manim.__version__,
            "config_hash": config_hash(trace),
            "options": options.to_json(),
            "video": video.name,
            "duration": info["duration"],
            "frames": info["frames"],
            "fps": fps,
            "resolution": [info["width"], info["height"]],
            "beats": [
                {
                    "id": tb.beat.id,
                    "scene": tb.beat.scene,
                    "start": tb.start(fps),
                    "end": tb.end(fps),
                    "still_frame": still_frames.get(tb.beat.id),
                    "speech": round(tb.speech_seconds, 3),
                    "mobjects": plan.mobject_counts.get(tb.beat.id),
                    "screen_text": plan.screen_text.get(tb.beat.id, []),
                }
                for tb in timed
            ],
            "layout": plan.layout,
            # Per sentence: when it is spoken, the part it starts and when that part
            # plays (seconds in the video), so the lock can be checked without watching.
            "sync": plan.sync,
            "travels": plan.travels,
            # Silences put into the speech where a part needed longer than its words.
            "pauses": narration.placed_pauses(starts),
            "narration": narration.describe(),
            "parallel": (split or {"jobs": 1, "why": why}) | ({"auto": auto} if auto else {}),
            "timings": timings,
            "final_loss": trace.summary.final_loss,
            **published.meta,
        }
        write_atomic(tmp / "render.json", json.dumps(meta, indent=2))
        files.append(tmp / "render.json")
        _store_in_cache(tmp, cached)
        _replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(video_dir, ignore_errors=True)
    moved = [target / f.relative_to(tmp) for f in files]
    if options.preview:
        open_video(target / video.name)
    return RenderResult(
        output_dir=target,
        video=target / video.name,
        files=moved,
        duration=info["duration"],
        final_loss=meta["final_loss"] if meta["final_loss"] is not None else float("nan"),
        timings=timings,
        diverged=trace.diverged,
    )
