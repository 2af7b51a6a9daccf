"""Family 5, geometry: why the L1 ball gives a zero coordinate and the L2 ball does not.

For two features, the datafit ``f(w) = 1/(2n)||y_c - X_c w||^2`` is a quadratic whose
level sets are ellipses around the OLS point::

    f(w) = 1/2 w^T G w - c^T w + 1/2 s,   G = X_c^T X_c / n,  c = X_c^T y_c / n,  s = y_c^T y_c / n

The constrained lasso (``||w||_1 <= t``) solution is where the smallest ellipse touches
the diamond, typically at a corner, so one coordinate is exactly 0; the ridge solution
(``||w||_2 <= r``) is where an ellipse touches the circle, on its smooth edge. Every
point drawn comes from the run (OLS, lasso and ridge solutions, ``t``, ``G``, ``c``, ``s``);
this module only evaluates ``f`` on a grid for the contours.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Polygon

from . import style

LASSO_COLOR = "#d62728"
RIDGE_COLOR = "#1f77b4"


def datafit_value(gram: np.ndarray, xty: np.ndarray, yty: float, w: np.ndarray) -> np.ndarray:
    """``f(w)`` for points ``w`` of shape ``(..., 2)``."""
    w = np.asarray(w, dtype=np.float64)
    quad = np.einsum("...i,ij,...j->...", w, gram, w)
    return 0.5 * quad - w @ xty + 0.5 * yty


def ellipse_extent(gram: np.ndarray, height: float) -> np.ndarray:
    """Half-widths along each axis of the level set ``f(w) = f(OLS) + height``, the
    ellipse ``(w - OLS)^T G (w - OLS) = 2 height``: ``sqrt(2 height (G^-1)_ii)``."""
    return np.sqrt(2.0 * max(height, 0.0) * np.diag(np.linalg.inv(gram)))


def _fmt_point(w: np.ndarray) -> str:
    return "(" + ", ".join("0" if v == 0.0 else f"{v:.3g}" for v in w) + ")"


def _panel(ax, G, c, yty, lo, hi, ols, point, f_touch, color, ball, name, shape) -> None:
    """One ball with the RSS contours around OLS and the contour that touches it."""
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
    F = datafit_value(G, c, float(yty), np.stack([g1, g2], axis=-1))
    f_ols = float(datafit_value(G, c, float(yty), ols))
    levels = np.unique(f_ols + (f_touch - f_ols) * np.array([0.08, 0.3, 0.6]))
    if levels.size == 3:  # none when the ball holds OLS (nothing to touch)
        ax.contour(g1, g2, F, levels=levels, colors="#9e9e9e", linewidths=0.8)
        ax.contour(g1, g2, F, levels=[f_touch], colors=color, linewidths=1.3,
                   linestyles="--")
    ax.add_patch(ball)
    ax.axhline(0.0, color="black", lw=0.7)
    ax.axvline(0.0, color="black", lw=0.7)
    ax.plot(*ols, "k*", ms=12, ls="none", label=f"OLS {_fmt_point(ols)}")
    ax.plot(*point, "o" if shape == "corner" else "s", color=color, ms=9, mec="black",
            ls="none", zorder=5, label=f"{name} {_fmt_point(point)}: "
            + ("a corner, one coefficient exactly 0" if np.any(point == 0.0)
               else "both nonzero"))
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize="small")


def geometry_figure(
    gram: np.ndarray,
    xty: np.ndarray,
    yty: float,
    ols: np.ndarray,
    lasso: np.ndarray,
    ridge: np.ndarray,
    t: float,
    *,
    feature_names: tuple[str, str] = ("$w_1$", "$w_2$"),
    title: str | None = None,
) -> Figure:
    """Two panels as in the textbook picture (ESL, Fig. 3.11): the L1 diamond of budget
    ``t`` (left) and the L2 disk through the ridge solution (right), each with the RSS
    contours around OLS and the contour that touches the ball (dashed), its solution
    marked: a corner for the lasso, a smooth point for ridge (module docstring).

    The disk's radius is ``||ridge||_2`` (the ridge solution's own budget; ``t`` when the
    run solved the ridge problem constrained to the same budget).
    """
    G = np.asarray(gram, dtype=np.float64)
    c = np.asarray(xty, dtype=np.float64)
    ols, lasso, ridge = (np.asarray(v, dtype=np.float64) for v in (ols, lasso, ridge))
    r = float(np.linalg.norm(ridge))
    same_budget = np.isclose(r, t, rtol=1e-6)
    f_lasso, f_ridge = (float(datafit_value(G, c, float(yty), v)) for v in (lasso, ridge))
    f_ols = float(datafit_value(G, c, float(yty), ols))
    # one box for both panels: both balls, OLS and both touching ellipses whole
    reach = ellipse_extent(G, max(f_lasso, f_ridge) - f_ols)
    lo = np.minimum(np.minimum(ols - reach, -max(t, r)), 0)
    hi = np.maximum(np.maximum(ols + reach, max(t, r)), 0)
    pad = 0.06 * float((hi - lo).max())
    lo, hi = lo - pad, hi + pad
    with style.context():
        fig, axes = style.new_figure(1, 2, size=(9.6, 5.6))
        lax, rax = axes[0, 0], axes[0, 1]
        diamond = Polygon([(t, 0), (0, t), (-t, 0), (0, -t)], closed=True,
                          fc=to_rgba(LASSO_COLOR, 0.15), ec=LASSO_COLOR, lw=1.8,
                          label=f"L1 ball $\\|w\\|_1 \\leq t$, t = {t:.3g}")
        disk = Circle((0, 0), r, fc=to_rgba(RIDGE_COLOR, 0.12), ec=RIDGE_COLOR, lw=1.8,
                      label="L2 ball $\\|w\\|_2 \\leq t$" if same_budget
                      else f"L2 ball $\\|w\\|_2 \\leq$ {r:.3g}")
        _panel(lax, G, c, yty, lo, hi, ols, lasso, f_lasso, LASSO_COLOR, diamond, "lasso",
               "corner")
        _panel(rax, G, c, yty, lo, hi, ols, ridge, f_ridge, RIDGE_COLOR, disk, "ridge",
               "smooth")
        lax.set_title("Lasso: the RSS contours first touch\nthe L1 diamond at a corner")
        rax.set_title("Ridge: they touch the L2 disk\non its smooth edge")
        for ax in (lax, rax):
            ax.set_xlabel(f"{feature_names[0]} (coefficient of feature 1)")
        lax.set_ylabel(f"{feature_names[1]} (coefficient of feature 2)")
        if title:
            fig.suptitle(title)
    return fig
