"""The command line: thin Click commands over the library.

Each command parses its options, calls one library function and reports. A mistake
the user made (a :class:`~backprop_anim.errors.UserError`) is printed as one message
and exits with status 2; no traceback reaches the user.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .config.loader import load_config
from .errors import UserError
from .summary import describe_config, describe_trace


class CliGroup(click.Group):
    """Turns user errors into one clear message and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UserError as exc:
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
    """Check CONFIG and print a short summary (layers, parameters, steps)."""
    loaded = load_config(config, overrides)
    click.echo(describe_config(loaded.config))
    click.echo("config is valid")


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


if __name__ == "__main__":  # pragma: no cover
    main()
