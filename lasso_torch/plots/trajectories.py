"""Family 1, coefficient trajectories: where each coefficient goes, iteration by iteration.

One column per solver, side by side on shared axes, the zero line drawn. The top row
shows every coefficient; the bottom row zooms on the coefficients that are 0 in the
solution, scaled to the late-iteration amplitude of those that are still not exactly 0:
the subgradient's, which oscillate around 0 by about ``lr * alpha`` forever. The iteration
at which a coefficient became exactly ``0.0`` and stayed there is marked with a circle on
the zero line; only proximal solvers (ISTA, FISTA, CD) produce such points. With two
coefficients or fewer there is no zoom row (the top row shows them all). When only some
coefficients were recorded (``record_coef``), the titles count zeros among the recorded
ones and give the run's own count beside it.

Artists carry ``gid``s for the animation: ``coef/<label>`` (a coefficient's curve) and
``landing/<label>`` (the circles).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from . import style

NULL_COLOR = "#e6550d"  # coefficient is 0 in the solution
ACTIVE_COLOR = "#3182bd"  # coefficient is nonzero in the solution
UNKNOWN_COLOR = "#636363"


def landing_index(values: np.ndarray, min_hold: int = 1) -> int | None:
    """Index of the first record from which ``values`` is exactly 0.0 to the end, after
    having been nonzero; ``None`` if it ends nonzero or was never nonzero, or if it is 0.0
    at fewer than ``min_hold`` records (a minibatch iterate at 0.0 at the last record
    only has not "stayed" anywhere)."""
    nonzero = np.flatnonzero(values != 0.0)
    if nonzero.size == 0 or nonzero[-1] >= values.size - min_hold:
        return None
    return int(nonzero[-1] + 1)


def min_hold(info: Mapping[str, Any] | None) -> int:
    """Records at 0.0 that make a landing: 2 (it stayed past one record) unless the solver
    converged (its last record is the certified answer: 1)."""
    return 1 if (info or {}).get("status") == "converged" else 2


def landing_marks(x: np.ndarray) -> list[tuple[float, int]]:
    """``(iteration, how many coefficients landed there)``: landings at one iteration are
    one circle with a count, not circles drawn over each other."""
    values, counts = np.unique(np.asarray(x, dtype=np.float64), return_counts=True)
    return [(float(v), int(c)) for v, c in zip(values, counts, strict=True)]


def _zero_count(last: np.ndarray, k: int, p: int | None, run_zeros: int | None) -> str:
    """``30/40 exactly 0.0 at k = 80``, or, when only ``m < p`` were recorded,
    ``90 of the 100 recorded exactly 0.0 at k = 80 (run: 190/200)``."""
    n_zero, m = int((last == 0.0).sum()), last.shape[0]
    if p is None or p == m:
        return f"{n_zero}/{m} exactly 0.0 at k = {k}"
    run = f"run: {run_zeros}/{p}" if run_zeros is not None else f"p = {p}"
    return f"{n_zero} of the {m} recorded exactly 0.0\nat k = {k} ({run})"


def null_amplitude(coefs: Sequence[np.ndarray], null: np.ndarray) -> float:
    """How far the coefficients that are 0 in the solution still wander from 0 in the late
    iterations (second half) of any trace; ``0.0`` when every one of them is exactly 0."""
    amp = 0.0
    for c in coefs:
        tail = c[c.shape[0] // 2:, null]
        if tail.size:
            amp = max(amp, float(np.abs(tail).max()))
    return amp


PER_ROW = 5  # solver columns per band of panels


def trajectory_figure(
    traces: Mapping[str, Mapping[str, np.ndarray]],
    solvers: Mapping[str, Mapping[str, Any]] | None = None,
    reference: np.ndarray | None = None,
    *,
    feature_index: np.ndarray | None = None,
    n_features: int | None = None,
    final_zeros: Mapping[str, int | None] | None = None,
    title: str | None = None,
    spread: Mapping[str, tuple[np.ndarray, np.ndarray, int]] | None = None,
) -> Figure:
    """Coefficient value against iteration, one column of panels per solver.

    Top row: every recorded coefficient. Bottom row (when ``reference`` tells which
    coefficients are 0 in the solution): a zoom on those only, the y range set by the
    late-iteration amplitude of the ones that are not yet exactly 0 (the subgradient's
    chatter), so that "oscillates around 0" and "is exactly 0.0" are told apart at a glance.

    Args:
        traces: ``label -> {"iteration": (T,), "coef": (T, m)}`` (labels without a
            ``coef`` array are skipped); ``coef_index`` (m,) in a trace overrides
            ``feature_index``.
        solvers: ``label -> {"kind", "lr"}`` for the panel titles.
        reference: the solution's coefficients (all ``p`` of them, or already the ``m``
            shown): colours each curve (nonzero in the solution, or 0 in it).
        feature_index: which features the ``m`` recorded columns are.
        n_features: ``p``, when only ``m < p`` coefficients were recorded.
        final_zeros: ``label -> `` the run's own zero count of all ``p`` coefficients.
        spread: ``label -> (q1, q3, n)`` (T, m) for a repeated solver whose ``coef`` trace
            is the median over its ``n`` repeats: the quartile band of every coefficient.
    """
    spread = spread or {}
    labels = [lab for lab, tr in traces.items() if "coef" in tr and np.size(tr["coef"])]
    if not labels:
        raise ValueError("no trace has recorded coefficients (record_coef was off)")
    solvers = solvers or {}
    coefs = [np.asarray(traces[lab]["coef"], dtype=np.float64) for lab in labels]
    m = coefs[0].shape[1]
    null = None
    if reference is not None:
        ref = np.asarray(reference, dtype=np.float64)
        index = traces[labels[0]].get("coef_index", feature_index)
        if index is not None and ref.shape[0] != m:
            ref = ref[np.asarray(index)]
        null = ref == 0.0
    zoom = null is not None and bool(null.any()) and m > 2
    top = max(float(np.abs(c).max()) for c in coefs) or 1.0
    amp = null_amplitude(coefs, null) if zoom else 0.0
    half = 1.3 * amp if amp > 0 else 0.02 * top
    ncols = min(len(labels), PER_ROW)  # many solvers: bands of PER_ROW columns
    bands, per = -(-len(labels) // ncols), 2 if zoom else 1
    width = min(3.4 * ncols, 13.0)
    with style.context():
        fig, grid = style.new_figure(per * bands, ncols, size=(
            width, (6.0 if zoom else 3.8) * bands), sharex=True, sharey="row")
        for ax in grid[-per:, len(labels) - (bands - 1) * ncols:].ravel():
            ax.set_visible(False)  # the last band's unused columns
        any_landed = False
        for i, (lab, c) in enumerate(zip(labels, coefs, strict=True)):
            band, col = divmod(i, ncols)
            axes = grid[band * per:(band + 1) * per]
            it = np.asarray(traces[lab]["iteration"])
            hold = min_hold(solvers.get(lab))
            landed = [j for j in range(c.shape[1])
                      if landing_index(c[:, j], hold) is not None]
            landed_x = [it[landing_index(c[:, j], hold)] for j in landed]
            marks = landing_marks(np.asarray(landed_x))
            any_landed = any_landed or bool(landed_x)
            for row in range(axes.shape[0]):
                ax = axes[row, col]
                ax.axhline(0.0, color="black", lw=0.8, zorder=1)
                for j in range(c.shape[1]):
                    if row == 1 and not null[j]:
                        continue
                    color = (UNKNOWN_COLOR if null is None
                             else NULL_COLOR if null[j] else ACTIVE_COLOR)
                    ax.plot(it, c[:, j], color=color, lw=0.9, alpha=0.85, zorder=2,
                            gid=f"coef/{lab}")
                    if lab in spread:
                        ax.fill_between(it, spread[lab][0][:, j], spread[lab][1][:, j],
                                        color=color, alpha=0.15, lw=0, zorder=1,
                                        gid=f"band/{lab}")
                if marks:
                    xs = [m[0] for m in marks]
                    ax.plot(xs, np.zeros(len(xs)), "o", ms=4.5, mfc="white",
                            mec="black", mew=1.0, ls="none", zorder=4, gid=f"landing/{lab}")
                    shown = [m for m in marks if m[1] > 1] if row == axes.shape[0] - 1 else []
                    for n_shown, (k_x, count) in enumerate(shown):
                        if count > 1:  # alternately below and above: neighbours never touch
                            ax.annotate(f"{count}", (k_x, 0.0),
                                        xytext=(0, -9 if n_shown % 2 == 0 else 9),
                                        textcoords="offset points", ha="center",
                                        va="top" if n_shown % 2 == 0 else "bottom",
                                        fontsize="x-small", zorder=5,
                                        gid=f"landcount/{lab}/{k_x:g}")
            rep = (f"\nmedian of {spread[lab][2]} repeats, band: quartiles"
                   if lab in spread else "")
            tsize = "small" if bands > 1 else "medium"
            axes[0, col].set_title(style.fit_text(
                f"{style.solver_label(lab, solvers.get(lab))}{rep}\n"
                + _zero_count(c[-1], int(it[-1]), n_features, (final_zeros or {}).get(lab)),
                width * 0.95 / ncols, tsize), fontsize=tsize)
            if band == bands - 1 or i + ncols >= len(labels):
                axes[-1, col].set_xlabel(style.ITERATION_LABEL if bands == 1 else "iteration k")
        for ax in grid.ravel():  # after plotting: xlim(left=0) ends x autoscaling
            style.iteration_axis(ax)
        for band in range(bands):
            grid[band * per, 0].set_ylabel("coefficient $w_j$")
            if zoom:
                grid[band * per + 1, 0].set_ylim(-half, half)
                grid[band * per + 1, 0].set_ylabel(f"zoom: the {int(null.sum())} $w_j$ "
                                                   "that are 0\nin the solution")
        handles = []  # only what the figure shows
        if null is not None and not null.all():
            handles.append(Line2D([], [], color=ACTIVE_COLOR, label="nonzero in the solution"))
        if zoom:
            handles.append(Line2D([], [], color=NULL_COLOR, label="0 in the solution"))
        if any_landed:
            handles.append(Line2D([], [], marker="o", mfc="white", mec="black", ls="none",
                                  label=style.fit_text(
                                      "iteration where $w_j$ became exactly 0.0 and stayed "
                                      "(number: how many at that iteration)", width * 0.85,
                                      "medium")))
        if handles:
            fig.legend(handles=handles, loc="outside lower center",  # never wider than it
                       ncol=style.fit_columns(fig, [h.get_label() for h in handles],
                                              len(handles), "medium"))
        if title:
            fig.suptitle(style.fit_text(title, width * 0.98, "large"))
    return fig
