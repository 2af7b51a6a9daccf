"""Family 3, sparsity over iterations: how many coefficients are exactly ``0.0``.

The count of ``w_j == 0.0`` (exact float equality, no threshold) against iteration per
solver, as a step line, with the solution's own zero count (the run's reference solve)
as a dashed horizontal line. Proximal solvers climb to that line and stay; subgradient
descent stays near 0 however long it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from . import style


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
        fig, axes = style.new_figure(1, 1, size=(6.4, 4.0))
        ax = axes[0, 0]
        if reference_zeros is not None:
            ax.axhline(reference_zeros, color="black", ls="--", lw=1.1,
                       label=f"solution: {reference_zeros} of {n_features} zeros")
        for i, lab in enumerate(labels):  # wide lines first: overlapping counts stay visible
            tr = traces[lab]
            lw = max(3.4 - 0.7 * i, 1.2)
            ax.step(tr["iteration"], tr["n_zeros"], where="post", color=colors[lab], lw=lw,
                    label=style.solver_label(lab, solvers[lab]))
        style.iteration_axis(ax)
        ax.set_ylim(-0.02 * n_features - 0.3, n_features * 1.02 + 0.3)
        ax.set_xlabel(style.ITERATION_LABEL)
        ax.set_ylabel("coefficients exactly 0.0  (#{j : $w_j$ == 0.0})")
        ax.set_title(title or f"Exact zeros over iterations (p = {n_features})")
        ax.legend(loc="best")
    return fig

