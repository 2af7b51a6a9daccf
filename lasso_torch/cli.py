"""``lasso-torch``: run configs, list and compare runs, draw their figures (typer).

    lasso-torch run configs/why_sparsity.yaml [--set data.n=5000 --set device=cuda]
    lasso-torch list [--output runs]
    lasso-torch compare runs/A runs/B [--plot]
    lasso-torch plot runs/A [--kind convergence --format svg]
    lasso-torch plot runs/A --kind landscape --format gif [--frames 40 --duration 6]
    lasso-torch report runs/A [runs/B ...]
    lasso-torch clean [--output runs]
    lasso-torch --version

User errors (a bad key, value, file or YAML, a damaged run folder) print one line on
stderr naming the key, file or value, and exit with status 2, without a traceback.
Ctrl-C during ``run`` keeps the partial run (``status: interrupted``) and exits with 130;
SIGTERM does the same and exits with 143. Torch is imported only by the commands that
solve or draw, so ``--help``, ``--version`` and ``list`` answer at once. Also runnable
as ``python -m lasso_torch.cli``.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml

from .errors import InputError

app = typer.Typer(
    name="lasso-torch",
    help="Sparse regression experiments from YAML configs: run, list, compare, plot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# --- errors and warnings: one line each -------------------------------------------------
def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn user mistakes into one line on stderr and exit status 2."""
    try:
        yield
    except InputError as e:
        _fail(_one_line(e))
    except ValueError as e:  # pydantic's ValidationError: the config loader converts these
        if not type(e).__module__.startswith("pydantic"):
            raise
        _fail(_one_line(str(e).splitlines()[0]))
    except yaml.YAMLError as e:
        _fail(f"malformed YAML: {_one_line(e)}")
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        _fail(f"{where}{e.strerror or _one_line(e)}")


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: Any = None, line: str | None = None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _version(value: bool) -> None:
    if value:
        from ._version import __version__

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


def _log(message: str) -> None:
    typer.echo(message, err=True)


# --- tables -----------------------------------------------------------------------------
def _fmt(value: Any, spec: str = ".3e") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else format(value, spec)
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1) -> str:
    """A plain fixed-width table (the first ``left`` columns left-aligned, the rest right)."""
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for k, row in enumerate(cells):
        parts = [c.ljust(w) if i < left else c.rjust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


SOLVER_HEADERS = ("solver", "status", "iters", "time [s]", "objective", "P - P*", "rel gap",
                  "zeros", "nnz")


def solver_rows(metrics: dict[str, Any]) -> list[list[str]]:
    """One row per solver of a run's metrics, then the reference."""
    ref = metrics.get("reference") or {}
    p_star = ref.get("objective")
    rows = []
    for label, m in metrics.get("solvers", {}).items():
        obj = m.get("objective")
        sub = obj - p_star if obj is not None and p_star is not None else None
        rows.append([label, m.get("status"), _fmt(m.get("n_iter")), _fmt(m.get("time"), ".3f"),
                     _fmt(obj, ".10g"), _fmt(sub, ".2e"), _fmt(m.get("gap"), ".2e"),
                     _fmt(m.get("n_zeros")), _fmt(m.get("nnz"))])
    if ref:  # a reference that did not converge shows its status and no P*
        reached = ref.get("objective", ref.get("objective_reached"))
        status = "" if ref.get("converged", True) else ref.get("status", "not converged")
        rows.append([f"reference ({ref.get('solver', '?')})", status, "", "",
                     _fmt(reached, ".10g"), "", _fmt(ref.get("gap"), ".2e"),
                     _fmt(ref.get("n_zeros")), _fmt(ref.get("nnz"))])
    return rows


def _alpha_text(pb: dict[str, Any]) -> str:
    alpha, amax = pb.get("alpha"), pb.get("alpha_max")
    if alpha:
        rel = f" = {alpha / amax:.3g} alpha_max" if amax else ""
        return f"alpha {alpha:.4g}{rel}"
    return f"path of {len(pb.get('alphas') or [])} alphas"


def _print_run(run: Any) -> None:
    pb = run.metrics.get("problem") or {}
    typer.echo(f"\n{run.path.name}: {pb.get('kind')}, n={pb.get('n')}, p={pb.get('p')}, "
               f"{_alpha_text(pb)}, status {run.status}")
    typer.echo(format_table(SOLVER_HEADERS, solver_rows(run.metrics), left=2))
    ref = run.metrics.get("reference") or {}
    if ref and not ref.get("converged", True):
        typer.echo(f"the reference did not converge ({ref.get('status')}, relative gap "
                   f"{_fmt(ref.get('gap'), '.2e')}): P - P* is not known")


# --- commands ---------------------------------------------------------------------------
FORMAT_HELP = "Figure format: png, svg or pdf."


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
    from .runner import run_config

    if plots and fmt != "png":
        from .plots import FORMATS

        if fmt not in FORMATS:
            _fail(f"--format {fmt!r}: choose from {', '.join(FORMATS)}")
    overrides = list(set_ or []) + ([f"output={output}"] if output is not None else [])
    try:
        with _user_errors():
            result = run_config(config, overrides, log=_log)
        from .distributed import rank_and_world

        runs = result if isinstance(result, list) else [result]
        if rank_and_world()[0] != 0:  # a distributed run: rank 0 reports it, draws figures
            _exit_if_stopped(runs, quiet=True)
            return
        for r in runs:
            if not r.skipped:
                _print_run(r)
                if plots and r.status != "interrupted":
                    _figures(r.path, fmt)
                if report:
                    with _user_errors():
                        from .report import write_report

                        _echo_file("report", write_report([r.path]))
    except KeyboardInterrupt as e:
        code = getattr(e, "exit_code", 130)
        typer.echo(f"{_stopped(code)}: runs saved before this point are kept", err=True)
        raise typer.Exit(code) from None
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
                   f"{_one_line(e)[:300]}); rank 0 keeps the partial run (status "
                   "interrupted)", err=True)
        raise typer.Exit(1) from None


def _stopped(code: int) -> str:
    return "terminated (SIGTERM)" if code == 143 else "interrupted"


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


def _exit_if_stopped(runs: list[Any], quiet: bool = False) -> None:
    """Exit 130 (Ctrl-C) or 143 (SIGTERM) if a run was interrupted."""
    stopped = [r for r in runs if r.status == "interrupted"]
    if stopped:
        code = 143 if stopped[0].meta.get("interrupted_by") == "SIGTERM" else 130
        if not quiet:
            typer.echo(f"{_stopped(code)}: the partial run is kept (status interrupted)",
                       err=True)
        raise typer.Exit(code)


def _figures(run_dir: Path, fmt: str) -> None:
    """Draw a run's figures if the plots are installed; a failure never loses the run."""
    try:
        from .plots import plot_run
    except ImportError:
        return
    try:
        paths = plot_run(run_dir, None, fmt)
    except Exception as e:  # noqa: BLE001 (the run is saved; report and go on)
        typer.echo(f"warning: figures not drawn: {type(e).__name__}: {e}", err=True)
        return
    if paths:
        typer.echo(f"figures: {', '.join(p.name for p in paths)} in {paths[0].parent}")


LIST_HEADERS = ("run", "created (UTC)", "status", "n", "p", "objective", "alpha", "solvers",
                "best gap")


def _list_row(folder: Path) -> tuple[list[str], str | None]:
    """A run's row of ``list``, and the reason it is unreadable (None if it is not)."""
    from .runs import load_run

    try:
        r = load_run(folder, traces=False)
    except (InputError, OSError) as e:
        return [folder.name, "?", "unreadable", *["-"] * 6], _one_line(e)
    pb = r.metrics.get("problem") or {}
    gaps = [m.get("gap") for m in r.metrics.get("solvers", {}).values()
            if m.get("gap") is not None]
    ratio = pb.get("l1_ratio")
    objective = str(pb.get("kind", "?")) + (f" {ratio:g}" if pb.get("kind") == "elasticnet"
                                            and ratio is not None else "")
    if pb.get("cv"):
        alpha = f"{_fmt(pb.get('alpha'), '.3g')} (cv)"
    elif pb.get("alpha") is None and pb.get("alphas"):
        alpha = f"path of {len(pb['alphas'])}"
    else:
        alpha = _fmt(pb.get("alpha"), ".3g")
    return [folder.name, str(r.meta.get("created", "?"))[:19].replace("T", " "), r.status,
            _fmt(pb.get("n")), _fmt(pb.get("p")), objective, alpha, ",".join(r.solvers),
            _fmt(min(gaps) if gaps else None, ".2e")], None


@app.command("list")
def list_(
    output: Annotated[Path, typer.Option("--output", "-o", help="The output root.")] = Path(
        "runs"),
) -> None:
    """List the runs under an output root: name, date, status, n, p, objective, alpha,
    solvers, best gap; then the unreadable runs with the reason, and the temporary folders
    left by runs that were killed."""
    from .claims import leftovers
    from .runs import run_like_folders

    with _user_errors():
        root = output.expanduser()
        if not root.is_dir():
            what = "is not a folder" if root.exists() else "not found"
            _fail(f"output root {what}: {output}")
        rows, unreadable = [], []
        for folder in run_like_folders(root):
            row, why = _list_row(folder)
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
    from .claims import remove_leftovers

    with _user_errors():
        root = output.expanduser()
        if not root.is_dir():
            _fail(f"output root not found: {output}")
        removed, kept = remove_leftovers(root)
        for x in removed:
            typer.echo(f"removed {root / x.path.name} ({x.describe().split(': ', 1)[1]})")
        for x in kept:
            typer.echo(f"kept {x.describe()}")
        if not removed and not kept:
            typer.echo(f"nothing to clean under {output}")


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    """A config as ``{dotted key: value}`` (lists of mappings by index)."""
    if isinstance(d, dict):
        items = d.items()
    elif isinstance(d, list) and any(isinstance(v, (dict, list)) for v in d):
        items = ((str(i), v) for i, v in enumerate(d))
    else:
        return {prefix: d}
    out: dict[str, Any] = {}
    for k, v in items:
        out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def config_differences(configs: Sequence[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """The dotted config keys whose values differ between runs (``name`` and ``output``
    aside), with each run's value (None where a run has no such key)."""
    flats = [_flat(c) for c in configs]
    keys = sorted({k for f in flats for k in f} - {"name", "output"})
    return [(k, [f.get(k) for f in flats]) for k in keys
            if len({repr(f.get(k)) for f in flats}) > 1]


def _print_differences(loaded: Sequence[Any]) -> None:
    if len(loaded) < 2:
        return
    diffs = config_differences([r.config for r in loaded])
    if not diffs:
        typer.echo("\nconfigs: identical (name and output aside)")
        return
    names = [r.path.name for r in loaded]
    typer.echo("\nconfig keys that differ:")
    typer.echo(format_table(("key", *names), [[k, *map(_short, vals)] for k, vals in diffs]))


def _short(value: Any) -> str:
    text = "-" if value is None else _one_line(value)
    return text if len(text) <= 40 else text[:37] + "..."


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
    from .runs import load_run

    with _user_errors():
        loaded = [load_run(r, traces=plot) for r in runs]  # --plot: damaged traces fail first
        rows = []
        for r in loaded:
            for row in solver_rows(r.metrics):
                rows.append([r.path.name, *row])
        typer.echo(format_table(("run", *SOLVER_HEADERS), rows, left=3))
        _print_differences(loaded)
        if plot:
            from .plots import plot_compare

            target = out if out is not None else Path(runs[0]).parent / "compare"
            _echo_file("figure", plot_compare([r.path for r in loaded], target, fmt))


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
) -> None:
    """Draw a run's figures (or animations) into <run>/figures/; print each file's size."""
    with _user_errors():
        from .plots import plot_animation, plot_run
        from .runs import load_run

        load_run(run_dir, traces=False)  # a clear error if it is not a run folder
        if fmt in ("gif", "mp4"):
            if not kind:
                _fail(f"--format {fmt}: name the animation, --kind landscape, trajectories "
                      "or paths")
            paths = [plot_animation(run_dir, k, fmt, frames=frames, duration=duration)
                     for k in kind]
        else:
            paths = plot_run(run_dir, kind or None, fmt)
        for p in paths:
            _echo_file("figure", p)


@app.command()
def report(
    runs: Annotated[list[Path], typer.Argument(help="One or several run folders.")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="The HTML file (default: <run>/report.html; several runs: "
        "<output root>/compare/report.html). Never overwritten.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Figures: png or svg.")] = "png",
) -> None:
    """A self-contained report.html: figures, config, metrics, status; runs side by side."""
    with _user_errors():
        from .report import write_report

        _echo_file("report", write_report(runs, out, fmt=fmt))


def _echo_file(what: str, path: Path) -> None:
    typer.echo(f"{what}: {path} ({path.stat().st_size / 1000:.0f} KB)")


def main() -> None:
    app(prog_name="lasso-torch")


if __name__ == "__main__":
    main()
