"""Figures drawn from saved runs: six families, one module each, headless (Agg).

* ``trajectories``: coefficient value against iteration, one panel per solver;
* ``convergence``: relative duality gap and suboptimality against iteration and time;
* ``sparsity``: the count of exact zeros against iteration;
* ``paths``: lasso and ridge regularization paths, alpha_max marked;
* ``geometry``: the L1 diamond, the L2 circle and the RSS ellipses of two features;
* ``thresholding``: soft thresholding beside ridge shrinkage, zero zone shaded;
* ``cv``: held-out MSE against alpha (folds, mean +- std, chosen alpha) when the run's
  alpha was chosen by cross-validation (``objective.cv: K``).

Each family module holds a pure function of arrays returning a ``matplotlib`` Figure;
:mod:`.source` reads a run folder and feeds them; :func:`plot_run` and
:func:`plot_compare` write the files (what the CLI calls).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

from ..errors import InputError  # noqa: E402
from . import style  # noqa: E402
from .convergence import Series, convergence_figure, series_from_traces  # noqa: E402
from .cv import cv_figure  # noqa: E402
from .geometry import geometry_figure  # noqa: E402
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
             fmt: str = "png") -> list[Path]:
    """Draw a run's figures into ``run_dir/figures/<kind>.<fmt>``; return the paths.

    ``kinds`` is a subset of :data:`FAMILIES` (default: every family the run has data
    for); asking for a family the run has no data for raises :class:`InputError`.
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
        written.append(style.save(fig, run.path / "figures" / kind, fmt))
    return written


def plot_compare(run_dirs: Sequence[str | Path], out_dir: str | Path,
                 fmt: str = "png") -> Path:
    """Convergence of every solver of every run, overlaid; written to
    ``out_dir/compare_convergence.<fmt>``. Colour names the solver, line style the run;
    each run's suboptimality uses its own ``P*``."""
    _check_format(fmt)
    if not run_dirs:
        raise InputError("plot_compare needs at least one run folder")
    series: list[Series] = []
    names = []
    for i, run_dir in enumerate(run_dirs):
        run = read_run(run_dir)
        names.append(run.name if run.name not in names else run.path.name)
        p_star = run.metrics.get("reference", {}).get("objective")
        prefix = f"{names[-1]}: " if len(run_dirs) > 1 else ""
        linestyle = RUN_LINESTYLES[i % len(RUN_LINESTYLES)]
        for s in series_from_traces(run.traces, run.solvers, p_star, prefix=prefix):
            series.append(s._replace(linestyle=linestyle))
    if not series:
        raise InputError("none of the runs recorded a convergence trace (record_every was 0)")
    fig = convergence_figure(series, title="Convergence across runs: " + ", ".join(names))
    return style.save(fig, Path(out_dir) / "compare_convergence", fmt)


__all__ = [
    "FAMILIES", "FORMATS", "RunData", "Series", "build", "convergence_figure", "cv_figure",
    "entry_alpha", "entry_alphas", "geometry_figure", "landing_index", "partial_residual_points",
    "path_figure", "plot_compare", "plot_run", "read_run", "series_from_traces",
    "sparsity_figure", "style", "thresholding_figure", "trajectory_figure",
]
