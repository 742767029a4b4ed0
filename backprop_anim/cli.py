"""The command line: thin Click commands over the library.

Each command parses its options, calls one library function and reports. A mistake
the user made (a :class:`~backprop_anim.errors.UserError`) is printed as one message
and exits with status 2; no traceback reaches the user.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from . import __version__
from .config.loader import load_config
from .errors import DivergenceError, UserError
from .options import DEFAULT_SCENES, SCENES, RenderOptions
from .summary import describe_config, describe_trace


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


class CliGroup(click.Group):
    """Turns user errors into one clear message and exit status 2."""

    def invoke(self, ctx: click.Context):
        # A terminated run (SIGTERM) cleans up like Ctrl-C: temporary folders are removed.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            return super().invoke(ctx)
        except (UserError, DivergenceError) as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PATH=VALUE",
    help="Override a config field by dotted path, e.g. training.optimizer.learning_rate=0.1.",
)


@click.group(cls=CliGroup)
@click.version_option(__version__, prog_name="backprop-anim")
def main() -> None:
    """Turn a small neural network described in YAML into narrated lecture videos."""


@main.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@set_option
def validate(config: Path, overrides: tuple[str, ...]) -> None:
    """Check CONFIG (or a saved trace.json) and print a short summary."""
    from .engine.data import load_dataset

    if config.suffix.lower() == ".json":
        from .trace.model import load_trace

        if overrides:
            raise UserError("--set applies to a config; a saved trace is checked as it is")
        click.echo(describe_trace(load_trace(config)))
        click.echo("trace is valid")
        return

    loaded = load_config(config, overrides)
    data = load_dataset(loaded)  # a missing CSV column or a class count that does not fit
    click.echo(describe_config(loaded.config))
    click.echo(f"  data: {len(data.X)} samples ({data.kind})")
    click.echo("config is valid")


@main.command()
@click.option("--path", "show_path", is_flag=True, help="Print the shipped schema file's path.")
def schema(show_path: bool) -> None:
    """Print the config's JSON Schema (editors complete and check configs with it)."""
    from .config.jsonschema import SCHEMA_FILE, schema_text

    click.echo(str(SCHEMA_FILE) if show_path else schema_text(), nl=show_path)


@main.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@set_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the trace JSON (default: renders/<name>/trace.json).",
)
def trace(config: Path, overrides: tuple[str, ...], output: Path | None) -> None:
    """Train CONFIG and write its trace as JSON (exit 1 if training diverges)."""
    from .engine.trainer import train

    loaded = load_config(config, overrides)
    result = train(loaded)
    out = output or Path("renders") / loaded.config.name / "trace.json"
    result.save(out)
    click.echo(describe_trace(result))
    click.echo(f"trace written to {out}")
    if result.diverged:
        click.echo(f"Error: {result.diverged['message']}", err=True)
        sys.exit(1)


@main.command()
@click.argument(
    "source", metavar="SWEEP_OR_CONFIG", type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--vary",
    multiple=True,
    metavar="PATH=V1,V2,...",
    help="Values to try for a config field, e.g. training.optimizer.learning_rate=0.05,0.5,5.",
)
@click.option(
    "--zip", "zip_mode", is_flag=True, help="Pair the i-th values (default: all combinations)."
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Renders at once (default: cores).",
)
@click.option("--scheduler", metavar="local|tcp://HOST:PORT", help="Run on a Dask cluster.")
@click.option("--dry-run", is_flag=True, help="Validate and list the variants; render nothing.")
@click.option(
    "--force",
    is_flag=True,
    help="Render every variant, even those up to date or larger than the size limit.",
)
@click.option(
    "--compare", is_flag=True, help="Also render one video comparing the variants' losses."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Batch folder (default: renders/<batch>).",
)
@click.option("-q", "--quality", help="l, m, h or k (as in Manim).")
@click.option("--pace", type=float, help="Slow motion factor (0.5 = twice as slow).")
@click.option("--scenes", metavar="A,B,...", help="Scenes to render, e.g. forward,backward,update.")
@click.option("--steps", metavar="0,1,-1", help="Training steps to animate.")
@click.option("--voice", help="auto, piper, espeak or none.")
@click.option("--format", "video_format", help="mp4, webm, gif or mov.")
@click.option("-v", "--verbose", is_flag=True, help="Show Dask's and Manim's own messages.")
def batch(
    source: Path,
    vary: tuple[str, ...],
    zip_mode: bool,
    jobs: int | None,
    scheduler: str | None,
    dry_run: bool,
    force: bool,
    compare: bool,
    output: Path | None,
    quality: str | None,
    pace: float | None,
    scenes: str | None,
    steps: str | None,
    voice: str | None,
    video_format: str | None,
    verbose: bool,
) -> None:
    """Render many variations of a config: a sweep file, or CONFIG with --vary.

    Every variant is validated before anything renders. Finished variants whose
    content hash matches are skipped on a re-run. Exit 1 if any variant failed.
    """
    from .batch import LocalPool, default_jobs, load_batch, parse_vary, plan, run_batch
    from .batch.progress import LineReporter, RichReporter
    from .batch.report import describe_plan, summarize

    render = {"quality": quality, "pace": pace, "voice": voice, "format": video_format}
    render = {k: v for k, v in render.items() if v is not None}
    if scenes:
        render["scenes"] = [s.strip() for s in scenes.split(",") if s.strip()]
    if steps:
        render["steps"] = _int_list(steps, "--steps")
    the_batch = load_batch(
        source, vary=parse_vary(vary), zip_mode=zip_mode, render=render, output_dir=output
    )
    if dry_run:
        click.echo(describe_plan(the_batch, plan(the_batch, force=force)))
        return
    jobs = jobs or default_jobs()
    if scheduler:
        from .batch.dask_runner import DaskPool

        pool = DaskPool(scheduler, jobs, verbose=verbose)
    else:
        pool = LocalPool(jobs)
    if sys.stderr.isatty():
        from rich.console import Console

        reporter = RichReporter(Console(stderr=True))
    else:
        reporter = LineReporter(sys.stderr)
    report = run_batch(the_batch, pool=pool, force=force, reporter=reporter, compare=compare)
    click.echo(summarize(report))
    if not report.ok:
        sys.exit(1)


def _jobs(text: str) -> int | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise UserError(
            f"-j/--jobs: expected a whole number from 1, or auto; got {text!r}"
        ) from None


def _int_list(text: str | None, option: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(
            f"{option}: expected whole numbers separated by commas, got {text!r}"
        ) from None


@main.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@set_option
@click.option(
    "-q",
    "--quality",
    type=click.Choice(["l", "m", "h", "k"]),
    default="l",
    show_default=True,
    help="l = 480p15, m = 720p30, h = 1080p60, k = 2160p60 (as in Manim).",
)
@click.option("--fps", type=int, default=None, help="Frame rate (default: the quality's).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mp4", "webm", "gif", "mov"]),
    default="mp4",
    show_default=True,
)
@click.option("--steps", default=None, help="Training steps to animate, e.g. 0,1,-1.")
@click.option(
    "--scenes",
    default=",".join(DEFAULT_SCENES),
    show_default=True,
    help=f"Comma-separated, from: {', '.join(SCENES)}.",
)
@click.option("--pace", type=float, default=1.0, show_default=True, help="0.5 = twice as slow.")
@click.option("--theme", type=click.Choice(["dark", "light"]), default="dark", show_default=True)
@click.option("--tex", is_flag=True, help="Typeset formulas with LaTeX (needs a TeX install).")
@click.option("--stills", is_flag=True, help="Also write one PNG per beat into stills/.")
@click.option("--sections", is_flag=True, help="Also write one silent clip per beat.")
@click.option(
    "--clips", is_flag=True, help="Also write clips/NN-<beat>.mp4: each beat with its narration."
)
@click.option(
    "--slides", is_flag=True, help="Also write <name>.pptx: a slide per beat playing its clip."
)
@click.option("--transparent", is_flag=True, help="Transparent background (mov/webm).")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: renders/<name>/).",
)
@click.option("--preview", is_flag=True, help="Open the video when done.")
@click.option("--digits", type=click.IntRange(2, 8), default=4, show_default=True)
@click.option(
    "--voice",
    default="auto",
    show_default=True,
    help="auto (piper if installed, else espeak-ng), piper, espeak, or none (subtitles only).",
)
@click.option(
    "--captions",
    type=click.Choice(["file", "burn"]),
    default="file",
    show_default=True,
    help="file: .srt/.vtt beside the video; burn: drawn into the picture.",
)
@click.option(
    "--script",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="An edited script.json whose texts replace the generated narration.",
)
@click.option(
    "-j",
    "--jobs",
    default="auto",
    show_default=True,
    metavar="N|auto",
    help="Processes rendering the beats at once, joined without re-encoding "
    "(auto: every core when the lecture is long enough to repay the start-up).",
)
@click.option(
    "--scheduler",
    metavar="local|tcp://HOST:PORT",
    help="Render the beats on a Dask cluster (local: start one with -j workers).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Render even if an identical render is cached, or larger than the size limit.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show Manim's own log.")
def render(
    source: Path,
    overrides: tuple[str, ...],
    quality: str,
    fps: int | None,
    fmt: str,
    steps: str | None,
    scenes: str,
    pace: float,
    theme: str,
    tex: bool,
    stills: bool,
    sections: bool,
    clips: bool,
    slides: bool,
    transparent: bool,
    output: Path | None,
    preview: bool,
    digits: int,
    voice: str,
    captions: str,
    script: Path | None,
    jobs: str,
    scheduler: str | None,
    force: bool,
    verbose: bool,
) -> None:
    """Render a lecture video from a CONFIG (trained now) or a saved trace.json."""
    from .progress import beat_progress
    from .render import render as render_lecture

    options = RenderOptions(
        quality=quality,
        fps=fps,
        format=fmt,
        steps=_int_list(steps, "--steps"),
        scenes=tuple(s.strip() for s in scenes.split(",") if s.strip()),
        pace=pace,
        theme=theme,
        tex=tex,
        stills=stills,
        sections=sections,
        clips=clips,
        slides=slides,
        transparent=transparent,
        preview=preview,
        digits=digits,
        voice=voice,
        captions=captions,
        script=script,
        verbose=verbose,
        jobs=_jobs(jobs),
        scheduler=scheduler,
        use_cache=not force,
    )
    with beat_progress(enabled=not verbose) as on_beat:
        result = render_lecture(
            source,
            options,
            overrides=overrides,
            output_dir=output,
            on_beat=on_beat,
            allow_large=force,
        )
    click.echo(
        f"video: {result.video} ({result.duration:.1f} s, rendered in "
        f"{result.timings['total']:.1f} s)"
    )
    click.echo(f"all files: {result.output_dir}/")
    if result.diverged:
        click.echo(f"Error: {result.diverged['message']}", err=True)
        sys.exit(1)


@main.command()
@click.argument(
    "source", metavar="CONFIG_OR_TRACE", type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port (default: a free one)."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--no-browser", is_flag=True, help="Print the address; do not open a browser.")
def explore(source: Path, port: int, host: str, no_browser: bool) -> None:
    """Serve a page that edits CONFIG_OR_TRACE and replays its training step, number by number."""
    try:
        from .explore.server import serve
    except ImportError as exc:  # pragma: no cover - the extra is part of make setup
        raise UserError(
            f"explore needs the 'explore' extra (pip install 'backprop-anim[explore]'): {exc}"
        ) from None
    serve(source, host=host, port=port, open_browser=not no_browser, echo=click.echo)


if __name__ == "__main__":  # pragma: no cover
    main()
