"""The commands: ``run``, ``list``, ``clean``, ``compare``, ``plot``, ``report`` (see
:mod:`lasso_torch.cli`). Torch is imported only by the commands that solve or draw."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from .common import FORMAT_HELP, app, echo_file, fail, log, one_line, user_errors
from .tables import LIST_HEADERS, format_table, list_row, print_differences, print_run, solver_table


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="The YAML config file.")],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a key: --set data.n=5000 (dotted path; repeatable).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="The output root (the config's `output`; default runs).")]
    = None,
    plots: Annotated[bool, typer.Option(
        "--plots/--no-plots", help="Draw the run's figures when it is saved.")] = True,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "png",
    report: Annotated[bool, typer.Option(
        "--report", help="Also write <run>/report.html (self-contained).")] = False,
) -> None:
    """Run a config: solve, record, and save a run folder under its output root."""
    from ..experiment.run import run_config

    if plots and fmt != "png":
        from ..plots import FORMATS

        if fmt not in FORMATS:
            fail(f"--format {fmt!r}: choose from {', '.join(FORMATS)}")
    overrides = list(set_ or []) + ([f"output={output}"] if output is not None else [])
    try:
        with user_errors():
            result = run_config(config, overrides, log=log)
        from ..distributed import rank_and_world

        runs = result if isinstance(result, list) else [result]
        if rank_and_world()[0] != 0:  # a distributed run: rank 0 reports it, draws figures
            _exit_if_stopped(runs, quiet=True)
            return
        for r in runs:
            if not r.skipped:
                print_run(r)
                if plots and r.status != "interrupted":
                    _figures(r.path, fmt)
                if report:
                    with user_errors():
                        from ..report import write_report

                        echo_file("report", write_report([r.path]))
    except KeyboardInterrupt as e:
        code = getattr(e, "exit_code", 130)
        typer.echo(f"{_stopped(code)}: runs saved before this point are kept", err=True)
        _exit(code)
    except typer.Exit:
        raise
    except Exception as e:
        _distributed_failure(e)
        raise
    _report_runs(runs)


def _distributed_failure(e: Exception) -> None:
    """A rank of a distributed run whose peer stopped (a SIGTERM, a crash): one line, exit
    status 1; rank 0 has saved the partial run as interrupted with the error."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() or "WORLD_SIZE" in os.environ:
        typer.echo(f"error: the distributed run stopped ({type(e).__name__}: "
                   f"{one_line(e)[:300]}); rank 0 keeps the partial run (status "
                   "interrupted)", err=True)
        _exit(1)


def _exit(code: int) -> NoReturn:
    """Exit with ``code``; in a distributed run at once, without interpreter teardown: gloo's
    threads can abort in C++ destructors after a peer stopped (measured: SIGABRT,
    "terminate called without an active exception", instead of the intended status)."""
    if "torch.distributed" in sys.modules and sys.modules["torch.distributed"].is_available() \
            and sys.modules["torch.distributed"].is_initialized():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise typer.Exit(code)


def _stopped(code: int) -> str:
    import signal

    if code == 130 or code <= 128:
        return "interrupted"
    try:
        return f"terminated ({signal.Signals(code - 128).name})"
    except ValueError:
        return "terminated"


def _report_runs(runs: list[Any]) -> None:
    """The sweep table, where each run went, and exit 130 / 143 if one was interrupted."""
    if len(runs) > 1 or (runs and runs[0].skipped):
        typer.echo("\nsweep:")
        typer.echo(format_table(("run", "status", "note"), [
            [str(r.path), r.status, r.note if r.skipped else "new"] for r in runs]))
    for r in runs:
        if not r.skipped:
            typer.echo(f"run saved to {r.path}")
    _exit_if_stopped(runs)
    failed = [(r, label, m) for r in runs if not r.skipped
              for label, m in (r.metrics.get("solvers") or {}).items()
              if m.get("status") == "failed"]
    if failed:  # recorded in the run, and the exit status says so
        for r, label, m in failed:
            typer.echo(f"error: solver {label} failed: {m.get('error')} (the run is saved "
                       f"in {r.path.name}, status failed)", err=True)
        _exit(1)


def _exit_if_stopped(runs: list[Any], quiet: bool = False) -> None:
    """Exit 130 (Ctrl-C), or 128 + the signal (143 SIGTERM, 129 SIGHUP, 131 SIGQUIT), if a
    run was interrupted."""
    from ..signals import exit_code

    stopped = [r for r in runs if r.status == "interrupted"]
    if stopped:
        code = exit_code(stopped[0].meta.get("interrupted_by"))
        if not quiet:
            typer.echo(f"{_stopped(code)}: the partial run is kept (status interrupted)",
                       err=True)
        _exit(code)


def _figures(run_dir: Path, fmt: str) -> None:
    """Draw a run's figures if the plots are installed; a failure never loses the run."""
    try:
        from ..plots import plot_run
    except ImportError:
        return
    try:
        paths = plot_run(run_dir, None, fmt)
    except Exception as e:  # noqa: BLE001 (the run is saved; report and go on)
        typer.echo(f"warning: figures not drawn: {type(e).__name__}: {e}", err=True)
        return
    if paths:
        typer.echo(f"figures: {', '.join(p.name for p in paths)} in {paths[0].parent}")



@app.command("list")
def list_(
    output: Annotated[Path, typer.Option("--output", "-o", help="The output root.")] = Path(
        "runs"),
) -> None:
    """List the runs under an output root: name, date, status, n, p, objective, alpha,
    solvers, best gap; then the unreadable runs with the reason, and the temporary folders
    left by runs that were killed."""
    from ..claims import leftovers
    from ..runs import run_like_folders

    with user_errors():
        root = output.expanduser()
        if not root.is_dir():
            what = "is not a folder" if root.exists() else "not found"
            fail(f"output root {what}: {output}")
        rows, unreadable = [], []
        for folder in run_like_folders(root):
            row, why = list_row(folder)
            rows.append(row)
            if why:
                unreadable.append(f"  {folder.name}: {why}")
        typer.echo(format_table(LIST_HEADERS, rows, left=3) if rows else f"no runs under "
                   f"{output}")
        if unreadable:
            typer.echo("\nunreadable runs:\n" + "\n".join(unreadable))
        left = leftovers(root)
        if left:
            typer.echo("\ntemporary folders (hidden):\n" + "\n".join(
                f"  {x.describe()}" for x in left))
            if any(x.alive is False for x in left):
                typer.echo(f"`lasso-torch clean -o {output}` removes those of killed runs")


@app.command()
def clean(
    output: Annotated[Path, typer.Option("--output", "-o", help="The output root.")] = Path(
        "runs"),
) -> None:
    """Remove the hidden temporary folders left by runs that were killed (their process
    is gone); folders of runs in progress, or of another host, are kept."""
    from ..claims import remove_leftovers

    with user_errors():
        root = output.expanduser()
        if not root.is_dir():
            fail(f"output root not found: {output}")
        removed, kept = remove_leftovers(root)
        for x in removed:
            typer.echo(f"removed {root / x.path.name} ({x.describe().split(': ', 1)[1]})")
        for x in kept:
            typer.echo(f"kept {x.describe()}")
        if not removed and not kept:
            typer.echo(f"nothing to clean under {output}")


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(help="Run folders.")],
    plot: Annotated[bool, typer.Option("--plot", help="Also draw the overlaid convergence.")]
    = False,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for --plot (default: <output root>/compare).")] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "png",
) -> None:
    """One table of the final metrics of several runs, side by side, then the config keys
    that differ between them."""
    from ..runs import load_run

    with user_errors():
        loaded = [load_run(r, traces=plot) for r in runs]  # --plot: damaged traces fail first
        typer.echo(solver_table(loaded, with_run=True))
        print_differences(loaded)
        if plot:
            from ..plots import plot_compare

            target = out if out is not None else Path(runs[0]).parent / "compare"
            echo_file("figure", plot_compare([r.path for r in loaded], target, fmt))


@app.command()
def plot(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    kind: Annotated[list[str] | None, typer.Option(
        "--kind", help="trajectories, convergence, sparsity, paths, geometry, landscape, "
        "thresholding, cv (repeatable; default: all the run has data for).")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", help="png, svg, pdf; or gif, mp4: an animation of --kind landscape, "
        "trajectories or paths.")] = "png",
    frames: Annotated[int, typer.Option(help="Animations: at most this many frames.")] = 40,
    duration: Annotated[float, typer.Option(help="Animations: length in seconds.")] = 6.0,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace figures of the same name (default: nothing is overwritten; "
        "a new figure is <kind>-2.<format>, -3...).")] = False,
) -> None:
    """Draw a run's figures (or animations) into <run>/figures/; print each file's size."""
    with user_errors():
        from ..plots import plot_animation, plot_run
        from ..runs import load_run

        load_run(run_dir, traces=False)  # a clear error if it is not a run folder
        if fmt in ("gif", "mp4"):
            if not kind:
                fail(f"--format {fmt}: name the animation, --kind landscape, trajectories "
                      "or paths")
            paths = [plot_animation(run_dir, k, fmt, frames=frames, duration=duration,
                                    force=force) for k in kind]
        else:
            paths = plot_run(run_dir, kind or None, fmt, force=force)
        for p in paths:
            echo_file("figure", p)


@app.command()
def report(
    runs: Annotated[list[Path], typer.Argument(help="One or several run folders.")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="The HTML file (default: <run>/report.html; several runs: "
        "<output root>/compare/report.html). Never overwritten.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Figures: png or svg.")] = "png",
) -> None:
    """A self-contained report.html: figures, config, metrics, status; runs side by side."""
    with user_errors():
        from ..report import write_report

        echo_file("report", write_report(runs, out, fmt=fmt))
