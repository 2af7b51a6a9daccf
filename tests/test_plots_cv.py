"""The cross-validation curve figure: content, not only that it draws."""

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from lasso_torch.plots.cv import CHOSEN_COLOR, MEAN_COLOR, cv_figure


def curve(K=12, F=4, seed=0):
    rng = np.random.default_rng(seed)
    alphas = np.geomspace(1.0, 1e-3, K)
    base = (np.log10(alphas) + 1.5) ** 2 + 1.0  # minimum near alpha = 10^-1.5
    return alphas, base[:, None] + 0.1 * rng.random((K, F))


def test_folds_mean_band_and_chosen_alpha_are_drawn():
    alphas, mse = curve()
    fig = cv_figure(alphas, mse)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == len(alphas)]
    assert len(lines) == mse.shape[1] + 1  # one per fold + the mean
    mean_line = next(ln for ln in lines if ln.get_color() == MEAN_COLOR)
    order = np.argsort(alphas)
    np.testing.assert_allclose(mean_line.get_xdata(), alphas[order])
    np.testing.assert_allclose(mean_line.get_ydata(), mse.mean(1)[order])
    band = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(band) == 1
    ys = band[0].get_paths()[0].vertices[:, 1]
    se = mse.std(1, ddof=1) / np.sqrt(mse.shape[1])  # one standard error, not one std
    assert ys.max() == pytest.approx((mse.mean(1) + se).max())
    assert ys.min() == pytest.approx((mse.mean(1) - se).min())
    chosen = alphas[np.argmin(mse.mean(1))]  # the default mark is the minimizer of the mean
    vlines = [ln for ln in ax.get_lines() if ln.get_color() == CHOSEN_COLOR
              and ln.get_linestyle() == "--"]
    assert len(vlines) == 1 and vlines[0].get_xdata()[0] == chosen
    assert any(f"{chosen:.3g}" in t.get_text() for t in fig.legends[0].get_texts())
    assert "scikit-learn scaling" in ax.get_xlabel()


def test_nonzero_counts_on_a_second_axis_and_explicit_alpha():
    alphas, mse = curve()
    nnz = np.arange(len(alphas))
    fig = cv_figure(alphas, mse, alpha_chosen=float(alphas[3]), n_nonzero=nnz, l1_ratio=0.5)
    (top,) = fig.axes[0].child_axes  # glmnet's convention: the counts on the top axis
    assert top.get_xlabel() == "nonzero coefficients"
    labels = [t.get_text() for t in top.get_xticklabels()]
    order = np.argsort(alphas)
    assert labels[0] == str(nnz[order][0]) and labels[-1] == str(nnz[order][-1])
    assert "l1_ratio = 0.5" in fig.axes[0].get_title()
    assert any(f"{alphas[3]:.3g}" in t.get_text() for t in fig.legends[0].get_texts())


def test_shape_mismatch_is_an_error():
    alphas, mse = curve()
    with pytest.raises(ValueError, match="mse_path"):
        cv_figure(alphas[:-1], mse)
