"""Family 6, soft thresholding: the one-coordinate update that creates exact zeros.

For a feature with ``||x_j||^2 / n = 1``, coordinate descent sets ``w_j`` to the minimizer
over that coordinate alone: with ``z_j = x_j^T r_j / n`` the correlation of the feature
with its partial residual ``r_j = y_c - sum_{k != j} x_k w_k``,

* lasso:  ``w_j = S(z_j, lambda) = sign(z_j) max(|z_j| - lambda, 0)``, ``lambda = alpha rho``;
  every ``|z_j| <= lambda`` gives exactly 0 (the shaded zero zone, width ``2 lambda``);
* ridge:  ``w_j = z_j / (1 + lambda)``, a proportional shrinkage that is 0 only at 0;
* no penalty: ``w_j = z_j`` (the identity).

``partial_residual_points`` turns a solved run (Gram matrix, ``X^T y`` and the solution)
into the points ``(z_j, w_j)``, which all lie on the one curve ``S(z, lambda)``: the
solution is a fixed point of the coordinate update.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from . import style

LASSO_COLOR = "#d62728"
RIDGE_COLOR = "#1f77b4"
ZONE_COLOR = "#fdd0a2"


def soft_threshold(z: np.ndarray, lam: float) -> np.ndarray:
    """``sign(z) max(|z| - lam, 0)`` in numpy (exactly 0.0 on ``|z| <= lam``)."""
    return z - np.clip(z, -lam, lam)


def partial_residual_points(
    gram: np.ndarray, xty: np.ndarray, coef: np.ndarray, alpha: float, l1_ratio: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """The points ``(z_j, v_j)`` of a solution that lie on ``S(., alpha l1_ratio)``.

    With ``G = X_c^T X_c / n`` and ``c = X_c^T y_c / n``, coordinate ``j``'s exact update is
    ``w_j = S(z_j, alpha rho) / (G_jj + alpha (1 - rho))`` with
    ``z_j = c_j - sum_{k != j} G_jk w_k``; a solution is a fixed point, so
    ``v_j = w_j (G_jj + alpha (1 - rho)) = S(z_j, alpha rho)`` for every feature whatever
    its norm (``v_j = w_j`` for a lasso on unit-norm features).
    """
    G = np.asarray(gram, dtype=np.float64)
    w = np.asarray(coef, dtype=np.float64)
    d = np.diag(G).copy()
    zp = np.asarray(xty, dtype=np.float64) - G @ w + d * w
    return zp, w * (d + alpha * (1.0 - l1_ratio))


def thresholding_figure(
    lam: float,
    *,
    points: tuple[np.ndarray, np.ndarray] | None = None,
    points_label: str = "solution",
    z_max: float | None = None,
    title: str | None = None,
) -> Figure:
    """``S(z, lam)``, ridge's ``z / (1 + lam)`` and the identity, zero zone shaded.

    Args:
        lam: the threshold, ``alpha * l1_ratio`` (scikit-learn scaling, unit-norm feature).
        points: optional ``(z, w)`` of a solved run (see :func:`partial_residual_points`).
        points_label: their legend name.
        z_max: the z range ``[-z_max, z_max]`` (default ``3 lam``, widened to the points).
    """
    if not lam > 0:
        raise ValueError(f"the threshold must be > 0, got {lam!r}")
    zm = 3.0 * lam if z_max is None else float(z_max)
    if points is not None and np.size(points[0]):
        zm = max(zm, 1.08 * float(np.abs(points[0]).max()))
    z = np.linspace(-zm, zm, 801)
    z = np.union1d(z, [-lam, lam])  # the kinks exactly
    with style.context():
        fig, axes = style.new_figure(1, 1, size=(6.0, 4.6))
        ax = axes[0, 0]
        ax.axvspan(-lam, lam, color=ZONE_COLOR, alpha=0.7, lw=0,
                   label=f"zero zone $|z| \\leq λ$ (width 2λ = {2 * lam:.3g})")
        ax.axhline(0.0, color="black", lw=0.7)
        ax.axvline(0.0, color="black", lw=0.7)
        ax.plot(z, z, color="#7f7f7f", ls=":", lw=1.4, label="no penalty: $w = z$")
        ax.plot(z, z / (1.0 + lam), color=RIDGE_COLOR, lw=1.8,
                label="ridge: $w = z / (1 + λ)$, never 0 for z ≠ 0")
        ax.plot(z, soft_threshold(z, lam), color=LASSO_COLOR, lw=2.4,
                label="lasso: $w = S(z, λ)$, exactly 0 on the zone")
        if points is not None and np.size(points[0]):
            zs, ws = (np.asarray(v, dtype=np.float64) for v in points)
            zero = ws == 0.0
            ax.plot(zs[~zero], ws[~zero], "o", color=LASSO_COLOR, mec="black", ms=6,
                    ls="none", label=f"{points_label}, $w_j \\neq 0$ ({int((~zero).sum())})")
            ax.plot(zs[zero], ws[zero], "o", color="white", mec="black", ms=6, ls="none",
                    label=f"{points_label}, $w_j$ = 0.0 ({int(zero.sum())})")
        ax.set_xlim(-zm, zm)
        ax.set_ylim(-zm, zm)
        ax.set_xlabel("z = $x_j^T r_j / n$  (partial-residual correlation, $\\|x_j\\|^2/n = 1$)")
        ax.set_ylabel("coordinate update $w_j$")
        ax.set_title(title or "Soft thresholding vs ridge shrinkage,\n"
                     f"λ = α·l1_ratio = {lam:.3g} (α in scikit-learn's scaling)")
        ax.legend(loc="upper left", fontsize="small")
    return fig
