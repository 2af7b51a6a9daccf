"""The typer app and what every command shares: user errors as one line and exit status 2,
warnings as one line, progress lines on stderr, the version."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml

from ..errors import InputError

app = typer.Typer(
    name="lasso-torch",
    help="Sparse regression experiments from YAML configs: run, list, compare, plot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
FORMAT_HELP = "Figure format: png, svg or pdf."


MAX_MESSAGE = 600  # characters of an error line, at most


def bounded(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` cut to ``limit`` characters (saying how long it was), non-printable
    characters shown as ``?``: no error line floods a terminal or a log."""
    text = "".join(c if c.isprintable() else "?" for c in message)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 40]}... ({len(text):,} characters in all)"


def fail(message: str) -> NoReturn:
    """``error: message`` (bounded: :func:`bounded`) on stderr, exit status 2."""
    typer.echo(f"error: {bounded(message)}", err=True)
    raise typer.Exit(2)


def one_line(text: object) -> str:
    return " ".join(str(text).split())


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn user mistakes into one line on stderr and exit status 2."""
    try:
        yield
    except InputError as e:
        fail(one_line(e))
    except ValueError as e:  # pydantic's ValidationError: the config loader converts these
        if not type(e).__module__.startswith("pydantic"):
            raise
        fail(one_line(str(e).splitlines()[0]))
    except yaml.YAMLError as e:
        fail(f"malformed YAML: {one_line(e)}")
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        fail(f"{where}{e.strerror or one_line(e)}")


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: Any = None, line: str | None = None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _version(value: bool) -> None:
    if value:
        from .._version import __version__

        typer.echo(f"lasso-torch {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")]
    = False,
) -> None:
    """Sparse regression experiments from YAML configs: run, list, compare, plot."""
    warnings.showwarning = _one_line_warning


def log(message: str) -> None:
    """A progress line, on stderr."""
    typer.echo(message, err=True)


def echo_file(what: str, path: Path) -> None:
    typer.echo(f"{what}: {path} ({path.stat().st_size / 1000:.0f} KB)")


__all__ = ["FORMAT_HELP", "MAX_MESSAGE", "app", "bounded", "echo_file", "fail", "log",
           "one_line", "user_errors"]
