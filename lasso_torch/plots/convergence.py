"""Family 2, convergence: how fast each solver certifies its answer.

A 2 x 2 grid: the relative duality gap ``gap / P(0)`` (top) and the objective
suboptimality ``P(w_k) - P*`` (bottom, ``P*`` the run's reference objective), against
iteration (left) and against solver wall time (right, recording excluded), on log axes.
Every solver of a run, or of several runs, is one line in every panel. Suboptimality at
or below 0 (the reference reached within rounding) is not drawn: a log axis has no 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from matplotlib.figure import Figure

from . import style


class Series(NamedTuple):
    """One solver's recorded convergence."""

    label: str
    iteration: np.ndarray
    time: np.ndarray
    gap: np.ndarray
    objective: np.ndarray
    p_star: float | None = None
    color: str | None = None
    linestyle: str = "-"


def series_from_traces(
    traces: Mapping[str, Mapping[str, np.ndarray]],
    solvers: Mapping[str, Mapping[str, Any]],
    p_star: float | None = None,
    prefix: str = "",
) -> list[Series]:
    """One :class:`Series` per solver in ``solvers`` that has a ``gap`` trace.

    ``p_star`` defaults to the smallest objective any of these solvers recorded.
    """
    labels = [lab for lab in solvers if "gap" in traces.get(lab, {})]
    if p_star is None and labels:
        p_star = min(float(np.min(traces[lab]["objective"])) for lab in labels)
    colors = style.assign_colors({lab: solvers[lab] for lab in labels})
    return [
        Series(prefix + style.solver_label(lab, solvers[lab]),
               np.asarray(traces[lab]["iteration"]), np.asarray(traces[lab]["time"]),
               np.asarray(traces[lab]["gap"]), np.asarray(traces[lab]["objective"]),
               p_star, colors[lab])
        for lab in labels
    ]


def suboptimality(objective: np.ndarray, p_star: float | None) -> np.ndarray:
    """``objective - p_star`` with values ``<= 0`` (and a missing ``p_star``) as NaN."""
    if p_star is None:
        return np.full(objective.shape, np.nan)
    sub = np.asarray(objective, dtype=np.float64) - p_star
    return np.where(sub > 0, sub, np.nan)


def _positive(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return np.where(v > 0, v, np.nan)


def convergence_figure(series: Sequence[Series], *, title: str | None = None,
                       tol: float | None = None) -> Figure:
    """Relative gap and suboptimality against iteration and time (see module docstring).

    ``tol`` draws the stopping tolerance as a dotted line on the gap panels.
    """
    if not series:
        raise ValueError("no solver recorded a convergence trace (record_every was 0)")
    with style.context():
        fig, axes = style.new_figure(2, 2, size=(10.0, 6.6), sharex="col", sharey="row")
        for i, s in enumerate(series):
            color = s.color or style.EXTRA_COLORS[i % len(style.EXTRA_COLORS)]
            sub = suboptimality(s.objective, s.p_star)
            gap = _positive(s.gap)
            t = np.where(np.asarray(s.time) > 0, s.time, np.nan)
            kw = dict(color=color, lw=1.5, ls=s.linestyle, label=s.label)
            axes[0, 0].plot(s.iteration, gap, **kw)
            axes[0, 1].plot(t, gap, **kw)
            axes[1, 0].plot(s.iteration, sub, **kw)
            axes[1, 1].plot(t, sub, **kw)
        for ax in axes.ravel():
            ax.set_yscale("log")
        for ax in axes[:, 0]:
            style.iteration_axis(ax)
        for ax in axes[:, 1]:
            ax.set_xscale("log")
        if tol is not None:
            for ax in axes[0]:
                ax.axhline(tol, color="black", ls=":", lw=1.0, label=f"tol = {tol:g}")
        axes[0, 0].set_ylabel(style.REL_GAP_LABEL)
        axes[1, 0].set_ylabel("suboptimality  $P(w_k) - P^*$")
        axes[1, 0].set_xlabel(style.ITERATION_LABEL)
        axes[1, 1].set_xlabel("solver wall time (s; recording excluded)")
        axes[0, 0].set_title("against iterations")
        axes[0, 1].set_title("against time")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4))
        fig.suptitle(title or "Convergence: $P(w) = \\frac{1}{2n}\\|y - Xw - b\\|^2 + "
                     "\\alpha(\\rho\\|w\\|_1 + \\frac{1-\\rho}{2}\\|w\\|^2)$, "
                     "$P^*$ = reference solve")
    return fig
