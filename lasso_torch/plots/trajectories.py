"""Family 1, coefficient trajectories: where each coefficient goes, iteration by iteration.

One panel per solver, side by side on shared axes, the zero line drawn. The y axis is
symmetric-log: linear on ``[-linthresh, linthresh]`` (chosen from the data so that the
subgradient's null coefficients, which oscillate around 0 by about ``lr * alpha``, fill
the linear band visibly) and logarithmic beyond. The iteration at which a coefficient
became exactly ``0.0`` and stayed there is marked with a circle on the zero line; only
proximal solvers (ISTA, FISTA, CD) produce such points.
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


def landing_index(values: np.ndarray) -> int | None:
    """Index of the first record from which ``values`` is exactly 0.0 to the end, after
    having been nonzero; ``None`` if it ends nonzero or was never nonzero."""
    nonzero = np.flatnonzero(values != 0.0)
    if nonzero.size == 0 or nonzero[-1] == values.size - 1:
        return None
    return int(nonzero[-1] + 1)


def symlog_threshold(coefs: Sequence[np.ndarray], null: np.ndarray | None) -> float:
    """The linear half-width of the y axis: a power of 10 just above the late-iteration
    amplitude of coefficients that are 0 in the solution but not exactly 0 in a trace."""
    top = max((float(np.abs(c).max()) for c in coefs if c.size), default=1.0) or 1.0
    amp = 0.0
    for c in coefs:
        if c.size == 0:
            continue
        tail = c[c.shape[0] // 2:]
        cols = null if null is not None else tail[-1] == 0.0
        wobbling = cols & (tail[-1] != 0.0)
        if wobbling.any():
            amp = max(amp, float(np.abs(tail[:, wobbling]).max()))
    if amp == 0.0:
        amp = top * 1e-3
    thresh = 10.0 ** np.ceil(np.log10(amp * 1.5))
    return float(min(thresh, top))


def trajectory_figure(
    traces: Mapping[str, Mapping[str, np.ndarray]],
    solvers: Mapping[str, Mapping[str, Any]] | None = None,
    reference: np.ndarray | None = None,
    *,
    feature_index: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Coefficient value against iteration, one panel per solver.

    Args:
        traces: ``label -> {"iteration": (T,), "coef": (T, m)}`` (labels without a
            ``coef`` array are skipped); ``coef_index`` (m,) in a trace overrides
            ``feature_index``.
        solvers: ``label -> {"kind", "lr"}`` for the panel titles.
        reference: the solution's coefficients (all ``p`` of them, or already the ``m``
            shown) used to colour each curve: nonzero in the solution or 0 in it.
        feature_index: which features the ``m`` recorded columns are.
    """
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
    lin = symlog_threshold(coefs, null)
    width = min(3.4 * len(labels), 13.0)
    with style.context():
        fig, axes = style.new_figure(1, len(labels), size=(width, 3.8), sharex=True,
                                     sharey=True)
        for ax, lab, c in zip(axes[0], labels, coefs, strict=True):
            it = np.asarray(traces[lab]["iteration"])
            ax.axhspan(-lin, lin, color="#f0f0f0", zorder=0, lw=0)
            ax.axhline(0.0, color="black", lw=0.8, zorder=1)
            landed_x = []
            for j in range(c.shape[1]):
                color = UNKNOWN_COLOR if null is None else (NULL_COLOR if null[j] else ACTIVE_COLOR)
                ax.plot(it, c[:, j], color=color, lw=0.9, alpha=0.85, zorder=2)
                k0 = landing_index(c[:, j])
                if k0 is not None:
                    landed_x.append(it[k0])
            if landed_x:
                ax.plot(landed_x, np.zeros(len(landed_x)), "o", ms=4.5, mfc="white",
                        mec="black", mew=1.0, ls="none", zorder=4, label="became exactly 0.0")
            n_zero = int((c[-1] == 0.0).sum())
            ax.set_title(f"{style.solver_label(lab, solvers.get(lab))}\n"
                         f"{n_zero} of {m} exactly 0.0 at k = {int(it[-1])}")
            ax.set_yscale("symlog", linthresh=lin, linscale=1.0)
            style.iteration_axis(ax)
            ax.set_xlabel(style.ITERATION_LABEL)
        axes[0, 0].set_ylabel(f"coefficient $w_j$ (linear in the band ±{lin:g})")
        handles = []
        if null is not None:
            handles += [Line2D([], [], color=ACTIVE_COLOR, label="nonzero in the solution"),
                        Line2D([], [], color=NULL_COLOR, label="0 in the solution")]
        handles.append(Line2D([], [], marker="o", mfc="white", mec="black", ls="none",
                              label="iteration where $w_j$ became exactly 0.0 and stayed"))
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles))
        if title:
            fig.suptitle(title)
    return fig
