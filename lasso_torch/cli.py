"""``lasso-torch``: run configs, list and compare runs, draw their figures (typer).

    lasso-torch run configs/why_sparsity.yaml [--set data.n=5000 --set device=cuda]
    lasso-torch list [--output runs]
    lasso-torch compare runs/A runs/B [--plot]
    lasso-torch plot runs/A [--kind convergence --format svg]
    lasso-torch plot runs/A --kind landscape --format gif [--frames 40 --duration 6]
    lasso-torch report runs/A [runs/B ...]

User errors (a bad key, value, file or YAML) print one line on stderr naming the key,
file or value, and exit with status 2, without a traceback. Ctrl-C during ``run`` keeps
the partial run (``status: interrupted``) and exits with 130. Also runnable as
``python -m lasso_torch.cli``.
"""

from __future__ import annotations

import math
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


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn user mistakes into one line on stderr and exit status 2."""
    from pydantic import ValidationError

    try:
        yield
    except InputError as e:
        _fail(str(e))
    except ValidationError as e:  # the config loader converts these; kept as a safety net
        _fail(str(e).splitlines()[0])
    except yaml.YAMLError as e:
        _fail(f"malformed YAML: {e}")
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        _fail(f"{where}{e.strerror or e}")


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: Any = None, line: str | None = None) -> None:
    print(f"warning: {message}", file=sys.stderr)


@app.callback()
def _main() -> None:
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
    if ref:
        rows.append([f"reference ({ref.get('solver', '?')})", "", "", "",
                     _fmt(ref.get("objective"), ".10g"), "", _fmt(ref.get("gap"), ".2e"),
                     _fmt(ref.get("n_zeros")), _fmt(ref.get("nnz"))])
    return rows


def _print_run(run: Any) -> None:
    pb = run.metrics.get("problem", {})
    alpha = pb.get("alpha")
    what = (f"alpha {alpha:.4g} = {alpha / pb['alpha_max']:.3g} alpha_max" if alpha
            else f"path of {len(pb.get('alphas') or [])} alphas")
    typer.echo(f"\n{run.path.name}: {pb.get('kind')}, n={pb.get('n')}, p={pb.get('p')}, "
               f"{what}, status {run.status}")
    typer.echo(format_table(SOLVER_HEADERS, solver_rows(run.metrics), left=2))


# --- commands ---------------------------------------------------------------------------
@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="The YAML config file.")],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a key: --set data.n=5000 (dotted path; repeatable).")] = None,
    plots: Annotated[bool, typer.Option(
        "--plots/--no-plots", help="Draw the run's figures when it is saved.")] = True,
    fmt: Annotated[str, typer.Option("--format", help="Figure format: png or svg.")] = "png",
    report: Annotated[bool, typer.Option(
        "--report", help="Also write <run>/report.html (self-contained).")] = False,
) -> None:
    """Run a config: solve, record, and save a run folder under its output root."""
    from .runner import run_config

    if plots and fmt != "png":
        from .plots import FORMATS

        if fmt not in FORMATS:
            _fail(f"--format {fmt!r}: choose from {', '.join(FORMATS)}")
    try:
        with _user_errors():
            result = run_config(config, list(set_ or []), log=_log)
        from .distributed import rank_and_world

        if rank_and_world()[0] != 0:
            return  # a distributed run: rank 0 reports it and draws its figures
        runs = result if isinstance(result, list) else [result]
        for r in runs:
            if not r.skipped:
                _print_run(r)
                if plots and r.status != "interrupted":
                    _figures(r.path, fmt)
                if report:
                    with _user_errors():
                        from .report import write_report

                        _echo_file("report", write_report([r.path]))
    except KeyboardInterrupt:
        typer.echo("interrupted: runs saved before this point are kept", err=True)
        raise typer.Exit(130) from None
    if len(runs) > 1 or (runs and runs[0].skipped):
        typer.echo("\nsweep:")
        typer.echo(format_table(("run", "status", "note"), [
            [str(r.path), r.status, "skipped (done before)" if r.skipped else "new"]
            for r in runs]))
    for r in runs:
        if not r.skipped:
            typer.echo(f"run saved to {r.path}")
    if any(r.status == "interrupted" for r in runs):
        typer.echo("interrupted: the partial run is kept (status interrupted)", err=True)
        raise typer.Exit(130)


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


@app.command("list")
def list_(
    output: Annotated[Path, typer.Option("--output", "-o", help="The output root.")] = Path(
        "runs"),
) -> None:
    """List the runs under an output root: name, date, status, solvers, best gap."""
    from .runs import list_runs, load_run

    with _user_errors():
        folders = list_runs(output)
        if not folders:
            typer.echo(f"no runs under {output}")
            return
        rows = []
        for folder in folders:
            try:
                r = load_run(folder, traces=False)
            except (InputError, OSError, yaml.YAMLError) as e:
                rows.append([folder.name, "?", "unreadable", str(e)[:40], "-"])
                continue
            gaps = [m.get("gap") for m in r.metrics.get("solvers", {}).values()
                    if m.get("gap") is not None]
            rows.append([folder.name, str(r.meta.get("created", "?"))[:19].replace("T", " "),
                         r.status, ",".join(r.solvers), _fmt(min(gaps) if gaps else None,
                                                             ".2e")])
        typer.echo(format_table(("run", "created (UTC)", "status", "solvers", "best gap"), rows,
                                left=4))


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(help="Run folders.")],
    plot: Annotated[bool, typer.Option("--plot", help="Also draw the overlaid convergence.")]
    = False,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for --plot (default: <output root>/compare).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Figure format: png or svg.")] = "png",
) -> None:
    """One table of the final metrics of several runs, side by side."""
    from .runs import load_run

    with _user_errors():
        loaded = [load_run(r, traces=False) for r in runs]
        rows = []
        for r in loaded:
            for row in solver_rows(r.metrics):
                rows.append([r.path.name, *row])
        typer.echo(format_table(("run", *SOLVER_HEADERS), rows, left=3))
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
