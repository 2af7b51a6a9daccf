"""The cross-validation curve: held-out mean squared error against alpha.

One thin line per fold, the mean over folds with a band of plus and minus one standard
deviation, and the chosen alpha (the minimum of the mean) marked, as ``LassoCV``'s
``mse_path_`` gives them. Optionally the number of nonzero coefficients of the path on
all the data along a second axis, so the figure also says how sparse each alpha is.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from . import style

FOLD_COLOR = "#9a9a9a"
MEAN_COLOR = "#1f77b4"
CHOSEN_COLOR = "#d62728"
NNZ_COLOR = "#2ca02c"


def cv_figure(alphas: np.ndarray, mse_path: np.ndarray, alpha_chosen: float | None = None, *,
              n_nonzero: np.ndarray | None = None, l1_ratio: float = 1.0,
              title: str | None = None) -> Figure:
    """Mean +- std of the held-out MSE across folds against alpha (log axis), folds thin.

    Args:
        alphas: the grid ``(K,)`` in scikit-learn's scaling (any order).
        mse_path: ``(K, n_folds)`` held-out mean squared errors (``mse_path_``).
        alpha_chosen: the alpha marked (default: the minimizer of the mean).
        n_nonzero: optional ``(K,)`` count of nonzero coefficients at each alpha, drawn as
            a step line on a right-hand axis.
        l1_ratio: named in the title when below 1 (elastic net).
        title: the figure title (default: the chosen alpha and the number of folds).
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    mse = np.asarray(mse_path, dtype=np.float64)
    if mse.ndim != 2 or mse.shape[0] != alphas.shape[0]:
        raise ValueError(f"mse_path must be (K, n_folds) with K = {alphas.shape[0]}, "
                         f"got shape {mse.shape}")
    order = np.argsort(alphas)
    alphas, mse = alphas[order], mse[order]
    mean, std = mse.mean(1), mse.std(1)
    best = int(np.argmin(mean))
    if alpha_chosen is None:
        alpha_chosen = float(alphas[best])
    with style.context():
        fig, axes = style.new_figure(size=(6.4, 4.2))
        ax = axes[0, 0]
        for f in range(mse.shape[1]):
            ax.plot(alphas, mse[:, f], color=FOLD_COLOR, lw=0.7, ls=":",
                    label="each fold" if f == 0 else None)
        ax.fill_between(alphas, mean - std, mean + std, color=MEAN_COLOR, alpha=0.18, lw=0,
                        label="mean ± 1 std across folds")
        ax.plot(alphas, mean, color=MEAN_COLOR, lw=2.0, label="mean over folds")
        i = int(np.argmin(np.abs(np.log(alphas) - np.log(alpha_chosen))))
        ax.axvline(alpha_chosen, color=CHOSEN_COLOR, ls="--", lw=1.2,
                   label=f"chosen α = {alpha_chosen:.3g}")
        ax.plot([alphas[i]], [mean[i]], "o", color=CHOSEN_COLOR, ms=6, zorder=5)
        ax.set_xscale("log")
        ax.set_xlabel("α (scikit-learn scaling, log axis)")
        ax.set_ylabel("held-out mean squared error")
        lines, labels = ax.get_legend_handles_labels()
        if n_nonzero is not None:
            nnz = np.asarray(n_nonzero)[order]
            twin = ax.twinx()
            twin.step(alphas, nnz, where="mid", color=NNZ_COLOR, lw=1.1,
                      label="nonzero coefficients, all data (right axis)")
            twin.set_ylabel("nonzero coefficients", color=NNZ_COLOR)
            twin.tick_params(axis="y", colors=NNZ_COLOR)
            twin.grid(False)
            twin.spines["right"].set_visible(True)
            twin.set_ylim(bottom=0)
            more, more_labels = twin.get_legend_handles_labels()
            lines, labels = lines + more, labels + more_labels
        fig.legend(lines, labels, loc="outside lower center", ncols=2)
        kind = "Lasso" if l1_ratio == 1.0 else f"Elastic net (l1_ratio = {l1_ratio:g})"
        ax.set_title(title or f"{kind}: {mse.shape[1]}-fold cross-validation, "
                              f"chosen α = {alpha_chosen:.3g}")
    return fig
