"""Family 3, sparsity over iterations: how many coefficients are exactly ``0.0``.

The count of ``w_j == 0.0`` (exact float equality, no threshold) against iteration per
solver, with the solution's own zero count (the run's reference solve) as a dashed
horizontal line. Only what was recorded is drawn: a marker at every record, and a step
from a record to the next only where they are one iteration apart (a count held until
the next record would claim values nobody saw: subgradient descent recorded every 5
iterations would seem to keep its 40 initial zeros until k = 5). Proximal solvers climb
to that line and stay; subgradient descent stays near 0 however long it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from . import style
from .bands import SPREAD_TEXT, band


def recorded_steps(iteration: np.ndarray, n_zeros: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The step line through the records, broken (NaN) between records more than one
    iteration apart: a count is held only over the one iteration it is known for."""
    it = np.asarray(iteration, dtype=np.float64)
    nz = np.asarray(n_zeros, dtype=np.float64)
    xs, ys = [it[:1]], [nz[:1]]
    for i in range(1, it.size):
        if it[i] - it[i - 1] == 1:
            xs.append([it[i], it[i]])
            ys.append([nz[i - 1], nz[i]])
        else:
            xs.append([np.nan, it[i]])
            ys.append([np.nan, nz[i]])
    return np.concatenate(xs), np.concatenate(ys)


def coinciding(traces: Mapping[str, Mapping[str, np.ndarray]], labels: list[str]
               ) -> dict[str, list[str]]:
    """``label -> the other labels with the very same (iteration, n_zeros) record``: the
    legend says so, as their lines lie on each other."""
    out: dict[str, list[str]] = {}
    single = [lab for lab in labels if band(traces, lab, "n_zeros") is None]
    for a in single:
        for b in single:
            if a != b and np.array_equal(traces[a]["iteration"], traces[b]["iteration"]) \
                    and np.array_equal(traces[a]["n_zeros"], traces[b]["n_zeros"]):
                out.setdefault(a, []).append(b)
    return out


def _every(label: str, info: Mapping[str, Any], iteration: np.ndarray) -> str:
    steps = np.unique(np.diff(np.asarray(iteration)))
    every = f"recorded every {int(steps[0])}" if steps.size == 1 else "records"
    return f"{style.solver_label(label, info)} ({every})"


def sparsity_figure(
    traces: Mapping[str, Mapping[str, np.ndarray]],
    solvers: Mapping[str, Mapping[str, Any]],
    *,
    n_features: int,
    reference_zeros: int | None = None,
    title: str | None = None,
) -> Figure:
    """Exact-zero count against iteration, one step line per solver with an ``n_zeros`` trace.

    Args:
        traces: ``label -> {"iteration", "n_zeros"}``.
        solvers: ``label -> {"kind", "lr"}``, in legend order.
        n_features: ``p``, the top of the y axis.
        reference_zeros: the solution's zero count, drawn as the target line.
    """
    labels = [lab for lab in solvers if "n_zeros" in traces.get(lab, {})]
    if not labels:
        raise ValueError("no solver recorded an n_zeros trace (record_every was 0)")
    colors = style.assign_colors({lab: solvers[lab] for lab in labels})
    with style.context():
        fig, axes = style.new_figure(
            1, 1, size=(10.4 if len(labels) > 6 else 7.2, 4.0 + 0.16 * len(labels)))
        ax = axes[0, 0]
        handles: list = []
        if reference_zeros is not None:
            handles.append(ax.axhline(reference_zeros, color="black", ls="--", lw=1.1,
                       label=f"solution: {reference_zeros} of {n_features} zeros"))
        for i, lab in enumerate(labels):  # wide lines first: overlapping counts stay visible
            rep = band(traces, lab, "n_zeros")
            if rep is not None:  # repeats: the median and its interquartile band
                ax.fill_between(rep["iteration"], rep["q1"], rep["q3"], color=colors[lab],
                                alpha=0.25, lw=0, gid=f"band/{lab}")
                ax.plot(rep["iteration"], rep["median"], "s", color=colors[lab], ms=3.0,
                        ls="none", gid=f"median/{lab}")  # at the records only
                handles.append(Line2D([], [], color=colors[lab], marker="s", ms=4, ls="none",
                                      label=(
                    f"{style.solver_label(lab, solvers[lab])} "
                    f"({SPREAD_TEXT.format(n=rep['n'])})")))
                continue
            it, nz = recorded_steps(traces[lab]["iteration"], traces[lab]["n_zeros"])
            lw = max(3.4 - 0.7 * i, 1.2)
            ms = max(6.0 - 1.2 * i, 2.5)
            ax.plot(it, nz, color=colors[lab], lw=lw, solid_capstyle="butt", gid=f"steps/{lab}")
            ax.plot(traces[lab]["iteration"], traces[lab]["n_zeros"], "o", color=colors[lab],
                    ms=ms, ls="none", mec="white", mew=0.4, gid=f"records/{lab}")
            handles.append(Line2D([], [], color=colors[lab], lw=lw, marker="o", ms=ms,
                                  label=_every(lab, solvers[lab], traces[lab]["iteration"])))
        style.iteration_axis(ax)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(-0.02 * n_features - 0.3, n_features * 1.02 + 0.3)
        solver_handles = dict(zip(labels, handles[-len(labels):], strict=True))
        for lab, twins in coinciding(traces, labels).items():
            h = solver_handles[lab]
            first = min([lab, *twins], key=labels.index)
            h.set_label(h.get_label() + (f"; {len(twins) + 1} coincide: drawn widest"
                                         if lab == first else f"; same counts as {first}"))
        ax.set_xlabel(style.ITERATION_LABEL)
        ax.set_ylabel("coefficients exactly 0.0  (#{j : $w_j$ == 0.0})")
        ax.set_title(title or f"Exact zeros over iterations (p = {n_features})")
        # the legend under the axes, never over the counts nor squeezing the panel
        fig.legend(handles=handles, loc="outside lower center",
                   ncol=style.fit_columns(fig, [h.get_label() for h in handles], 2),
                   fontsize="small", title="dots: records; lines only between "
                   "records one iteration apart", title_fontsize="small")
    return fig

