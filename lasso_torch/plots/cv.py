"""The cross-validation curve: held-out mean squared error against alpha.

One thin line per fold, the mean over folds with a band of plus and minus one standard
*error* (``std / sqrt(F)``: the uncertainty of the mean, the band the 1-SE rule uses), the
alpha of the smallest mean error and the 1-SE rule's alpha (the largest alpha whose mean
is within one standard error of that minimum) marked, as ``LassoCV``'s ``mse_path_``
gives them, and (glmnet's convention) the number of nonzero coefficients of the path on
all the data along the top axis.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from . import style

FOLD_COLOR = "#9a9a9a"
MEAN_COLOR = "#1f77b4"
CHOSEN_COLOR = "#d62728"
ONE_SE_COLOR = "#9467bd"
NNZ_COLOR = "#2ca02c"


def cv_figure(alphas: np.ndarray, mse_path: np.ndarray, alpha_chosen: float | None = None, *,
              n_nonzero: np.ndarray | None = None, l1_ratio: float = 1.0,
              title: str | None = None) -> Figure:
    """Mean +- 1 SE of the held-out MSE across folds against alpha (log axis), folds thin.

    Args:
        alphas: the grid ``(K,)`` in scikit-learn's scaling (any order).
        mse_path: ``(K, n_folds)`` held-out mean squared errors (``mse_path_``).
        alpha_chosen: the alpha marked (default: the minimizer of the mean).
        n_nonzero: optional ``(K,)`` count of nonzero coefficients at each alpha (the
            path on all the data), on the top axis.
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
    mean = mse.mean(1)
    from ..cv import one_se_rule  # here: drawing a saved run never imports torch

    best, i_1se, se = one_se_rule(alphas, mse)
    if alpha_chosen is None:
        alpha_chosen = float(alphas[best])
    with style.context():
        fig, axes = style.new_figure(size=(6.4, 4.6))
        ax = axes[0, 0]
        for f in range(mse.shape[1]):
            ax.plot(alphas, mse[:, f], color=FOLD_COLOR, lw=0.7, ls=":",
                    label="each fold" if f == 0 else None)
        ax.fill_between(alphas, mean - se, mean + se, color=MEAN_COLOR, alpha=0.25, lw=0,
                        label="mean ± 1 standard error (std/√folds)")
        ax.plot(alphas, mean, color=MEAN_COLOR, lw=2.0, label="mean over folds")
        i = int(np.argmin(np.abs(np.log(alphas) - np.log(alpha_chosen))))
        ax.axvline(alpha_chosen, color=CHOSEN_COLOR, ls="--", lw=1.2, gid="alpha_min",
                   label=f"minimum mean error: α = {alpha_chosen:.3g}")
        ax.plot([alphas[i]], [mean[i]], "o", color=CHOSEN_COLOR, ms=6, zorder=5)
        a1 = float(alphas[i_1se])
        ax.axvline(a1, color=ONE_SE_COLOR, ls="-.", lw=1.2, gid="alpha_1se",
                   label=f"1-SE rule: α = {a1:.3g} (largest α within 1 SE of the minimum)")
        ax.plot([alphas[best], a1], [mean[best] + se[best]] * 2, color=ONE_SE_COLOR, lw=0.9,
                ls=":", zorder=4)
        ax.set_xscale("log")
        ax.set_xlabel("α (scikit-learn scaling, log axis)")
        ax.set_ylabel("held-out mean squared error")
        lines, labels = ax.get_legend_handles_labels()
        if n_nonzero is not None:
            style.nonzero_top_axis(ax, alphas, np.asarray(n_nonzero)[order])
        fig.legend(lines, labels, loc="outside lower center", ncols=1, fontsize="small")
        kind = "Lasso" if l1_ratio == 1.0 else f"Elastic net (l1_ratio = {l1_ratio:g})"
        ax.set_title(title or f"{kind}: {mse.shape[1]}-fold cross-validation, "
                              f"chosen α = {alpha_chosen:.3g}")
    return fig
