"""Figures drawn from saved runs: eight families, one module each, headless (Agg).

* ``trajectories``: coefficient value against iteration, one panel per solver;
* ``convergence``: relative duality gap and suboptimality against iteration and time;
* ``sparsity``: the count of exact zeros against iteration;
* ``paths``: lasso and ridge regularization paths, alpha_max marked;
* ``geometry``: the L1 diamond, the L2 circle and the RSS ellipses of two features;
* ``landscape``: (p = 2) every solver's iterates on the RSS contours, zoom on w*;
* ``thresholding``: soft thresholding beside ridge shrinkage, zero zone shaded;
* ``cv``: held-out MSE against alpha (folds, mean +- std, chosen alpha) when the run's
  alpha was chosen by cross-validation (``objective.cv: K``).

:func:`plot_animation` writes ``landscape``, ``trajectories`` and ``paths`` as an
animated GIF (or MP4) (:mod:`.animate`). Each family module holds a pure function of
arrays returning a ``matplotlib`` Figure;
:mod:`.source` reads a run folder and feeds them; :func:`plot_run` and
:func:`plot_compare` write the files (what the CLI calls).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import warnings  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

from ..errors import InputError  # noqa: E402
from . import style  # noqa: E402
from .convergence import Series, convergence_figure, series_from_traces  # noqa: E402
from .cv import cv_figure  # noqa: E402
from .geometry import geometry_figure  # noqa: E402
from .landscape import landscape_figure  # noqa: E402
from .paths import entry_alpha, entry_alphas, path_figure  # noqa: E402
from .source import FAMILIES, RunData, build, read_run  # noqa: E402
from .sparsity import sparsity_figure  # noqa: E402
from .thresholding import partial_residual_points, thresholding_figure  # noqa: E402
from .trajectories import landing_index, trajectory_figure  # noqa: E402

FORMATS = ("png", "svg", "pdf")
RUN_LINESTYLES = ("-", "--", ":", "-.")  # plot_compare: colour = solver, line style = run


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(f"unknown figure format {fmt!r}; choose from {', '.join(FORMATS)}")


def plot_run(run_dir: str | Path, kinds: Sequence[str] | None = None,
             fmt: str = "png", force: bool = False) -> list[Path]:
    """Draw a run's figures into ``run_dir/figures/<kind>.<fmt>``; return the paths.

    ``kinds`` is a subset of :data:`FAMILIES` (default: every family the run has data
    for); asking for a family the run has no data for raises :class:`InputError`. A
    figure that exists is never overwritten (``<kind>-2.<fmt>``...) unless ``force``.
    """
    _check_format(fmt)
    unknown = [k for k in (kinds or ()) if k not in FAMILIES]
    if unknown:
        raise InputError(f"unknown figure kind(s) {', '.join(map(repr, unknown))}; "
                         f"choose from {', '.join(FAMILIES)}")
    run = read_run(run_dir)
    written = []
    for kind in kinds or FAMILIES:
        fig = build(run, kind)
        if fig is None:
            if kinds:
                raise InputError(f"run {run.path} has no data for the {kind!r} figure")
            continue
        target = run.path / "figures" / f"{kind}.{fmt}"
        target = target if force else free_path(target)
        written.append(style.save(fig, target.with_suffix(""), fmt))
    return written


def plot_animation(run_dir: str | Path, kind: str, fmt: str = "gif", *, frames: int = 40,
                   duration: float = 6.0, force: bool = False) -> Path:
    """``<run>/figures/<kind>.gif`` (or ``.mp4``; ``-2``... if it exists, unless
    ``force``): see :func:`.animate.animate_run`."""
    from .animate import animate_run

    target = Path(run_dir).expanduser() / "figures" / f"{kind}.{fmt}"
    return animate_run(run_dir, kind, fmt, frames=frames, duration=duration,
                       out=target if force else free_path(target))


def free_path(path: Path) -> Path:
    """``path``, or ``<stem>-2<suffix>``, ``-3``... if it exists: figures are never
    overwritten (as the run store never overwrites a run)."""
    out, k = path, 1
    while out.exists():
        k += 1
        out = path.with_name(f"{path.stem}-{k}{path.suffix}")
    return out


def run_legend_name(run: RunData, names: Sequence[str]) -> tuple[str, str]:
    """The run's legend name and its title entry ``name (n = 200, α = 0.178)``: the name
    is the run's own when the runs' names are distinct, and the folder name (with the
    stamp) for every run when they are not."""
    pb = run.problem
    name = run.name if len(set(names)) == len(names) else run.path.name
    alpha = pb.get("alpha")
    what = [f"n = {pb['n']}"] if "n" in pb else []
    what.append(f"α = {alpha:.3g}" if alpha is not None else "a path")
    return name, f"{name} ({', '.join(what)})"


def plot_compare(run_dirs: Sequence[str | Path], out_dir: str | Path,
                 fmt: str = "png") -> Path:
    """Convergence of every solver of every run, overlaid; written to
    ``out_dir/compare_convergence.<fmt>`` (``-2``, ``-3``... when that file exists: never
    overwritten). Colour names the solver, line style the run; each run's suboptimality
    uses its own ``P*``; each run is named the same way (see :func:`run_legend_name`).
    A run without convergence traces (a path run) is named in a note on the figure and
    in a warning, not dropped silently."""
    _check_format(fmt)
    if not run_dirs:
        raise InputError("plot_compare needs at least one run folder")
    runs = [read_run(d) for d in run_dirs]
    names = [r.name for r in runs]
    series: list[Series] = []
    shown, missing = [], []
    for i, run in enumerate(runs):
        name, entry = run_legend_name(run, names)
        p_star = run.metrics.get("reference", {}).get("objective")
        prefix = f"{name}: " if len(runs) > 1 else ""
        linestyle = RUN_LINESTYLES[i % len(RUN_LINESTYLES)]
        got = series_from_traces(run.traces, run.solvers, p_star, prefix=prefix)
        (shown if got else missing).append(entry)
        series.extend(s._replace(linestyle=linestyle) for s in got)
    if not series:
        raise InputError("none of the runs recorded a convergence trace (record_every was 0, "
                         "or path runs only)")
    fig = convergence_figure(series, title="Convergence across runs: " + "; ".join(shown))
    if missing:
        note = ("not drawn (no per-iteration convergence trace: a path run or "
                f"record_every 0): {'; '.join(missing)}")
        fig.text(0.5, 1.0, note, ha="center", va="bottom", color="#7f0000",
                 fontsize="small", gid="missing")
        warnings.warn(f"compare --plot: {note}", stacklevel=2)
    return style.save(fig, free_path(Path(out_dir) / f"compare_convergence.{fmt}"), fmt)


__all__ = [
    "FAMILIES", "FORMATS", "RunData", "Series", "build", "convergence_figure", "cv_figure",
    "free_path", "landscape_figure", "plot_animation", "run_legend_name",
    "entry_alpha", "entry_alphas", "geometry_figure", "landing_index", "partial_residual_points",
    "path_figure", "plot_compare", "plot_run", "read_run", "series_from_traces",
    "sparsity_figure", "style", "thresholding_figure", "trajectory_figure",
]
