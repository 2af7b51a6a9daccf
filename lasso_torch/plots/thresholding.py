"""Family 6, soft thresholding: the one-coordinate update that creates exact zeros.

For a feature with ``||x_j||^2 / n = 1``, coordinate descent sets ``w_j`` to the minimizer
over that coordinate alone: with ``z_j = x_j^T r_j / n`` the correlation of the feature
with its partial residual ``r_j = y_c - sum_{k != j} x_k w_k``,

* lasso:  ``w_j = S(z_j, lambda) = sign(z_j) max(|z_j| - lambda, 0)``, ``lambda = alpha rho``;
  every ``|z_j| <= lambda`` gives exactly 0 (the shaded zero zone, width ``2 lambda``);
* ridge:  ``w_j = z_j / (1 + lambda)``, a proportional shrinkage that is 0 only at 0;
* no penalty: ``w_j = z_j`` (the identity);
* hard thresholding (best subset, the l0 penalty ``lambda^2/2 [w != 0]``): ``z 1{|z| > lambda}``,
  the same zero zone, no shrinkage beyond it, a jump at the threshold;
* firm thresholding (MCP, ``gamma``): soft near the zone, linear up to ``gamma lambda``,
  then the identity: the zeros of the lasso without its bias on large coefficients.

``partial_residual_points`` turns a solved run (Gram matrix, ``X^T y`` and the solution)
into the points ``(z_j, w_j)``, which all lie on the one curve ``S(z, lambda)``: the
solution is a fixed point of the coordinate update.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from . import style

LASSO_COLOR = "#d62728"
RIDGE_COLOR = "#1f77b4"
ZONE_COLOR = "#fdd0a2"
HARD_COLOR = "#7f7f7f"
FIRM_COLOR = "#9467bd"


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


ZOOM_WHEN = 8.0  # a zoom panel on [-3 lam, 3 lam] when the z range is wider than this x lam


def firm_threshold(z: np.ndarray, lam: float, gamma: float) -> np.ndarray:
    """MCP's prox at step 1 (``gamma > 1``) in numpy: exactly 0.0 on ``|z| <= lam``."""
    soft = soft_threshold(z, lam) / (1 - 1 / gamma)
    return np.where(np.abs(z) > gamma * lam, z, soft)


def hard_threshold(z: np.ndarray, lam: float) -> np.ndarray:
    """``z 1{|z| > lam}``."""
    return np.where(np.abs(z) > lam, z, 0.0)


def _draw(ax, lam: float, zm: float, points, points_label: str, legend: bool,
          gamma: float | None = None) -> None:
    kinks = [-lam, lam] if gamma is None else [-gamma * lam, -lam, lam, gamma * lam]
    z = np.union1d(np.linspace(-zm, zm, 801), kinks)  # the kinks exactly
    ax.axvspan(-lam, lam, color=ZONE_COLOR, alpha=0.7, lw=0,
               label=f"zero zone $|z| \\leq λ$ (width 2λ = {2 * lam:.3g})")
    ax.axhline(0.0, color="black", lw=0.7)
    ax.axvline(0.0, color="black", lw=0.7)
    ax.plot(z, z, color="#7f7f7f", ls=":", lw=1.4, label="no penalty: $w = z$")
    ax.plot(z, z / (1.0 + lam), color=RIDGE_COLOR, lw=1.8,
            label="ridge: $w = z / (1 + λ)$, never 0 for z ≠ 0")
    if gamma is not None:
        ax.plot(z, hard_threshold(z, lam), color=HARD_COLOR, lw=1.6, ls="--",
                label="hard (best subset): $w = z$ beyond λ, a jump")
        ax.plot(z, firm_threshold(z, lam, gamma), color=FIRM_COLOR, lw=2.0,
                label=f"firm (MCP, γ = {gamma:g}): unbiased beyond γλ")
    ax.plot(z, soft_threshold(z, lam), color=LASSO_COLOR, lw=2.4,
            label="lasso: $w = S(z, λ)$, exactly 0 on the zone")
    if points is not None and np.size(points[0]):
        zs, ws = (np.asarray(v, dtype=np.float64) for v in points)
        zero = ws == 0.0
        ms = 6 if zs.size <= 60 else 4
        ax.plot(zs[~zero], ws[~zero], "o", color=LASSO_COLOR, mec="black", ms=ms, ls="none",
                alpha=0.8, label=f"{points_label}, $w_j \\neq 0$ ({int((~zero).sum())})")
        ax.plot(zs[zero], ws[zero], "o", color="white", mec="black", ms=ms, ls="none",
                alpha=0.8, label=f"{points_label}, $w_j$ = 0.0 ({int(zero.sum())})")
    ax.set_xlim(-zm, zm)
    ax.set_ylim(-zm, zm)
    if legend:
        ax.legend(loc="upper left", fontsize="small")


def thresholding_figure(
    lam: float,
    *,
    points: tuple[np.ndarray, np.ndarray] | None = None,
    points_label: str = "solution",
    z_max: float | None = None,
    note: str | None = None,
    title: str | None = None,
    gamma: float | None = 3.0,
) -> Figure:
    """``S(z, lam)``, ridge's ``z / (1 + lam)`` and the identity, zero zone shaded.

    When the points spread over more than ``ZOOM_WHEN`` times ``lam`` (data with a wide
    range: the zero zone is a sliver and the zeros pile up on it), a second panel zooms
    on ``[-3 lam, 3 lam]``.

    Args:
        lam: the threshold, ``alpha * l1_ratio`` (scikit-learn scaling, unit-norm feature).
        points: optional ``(z, w)`` of a solved run (see :func:`partial_residual_points`).
        points_label: their legend name.
        z_max: the z range ``[-z_max, z_max]`` (default ``3 lam``, widened to the points).
        note: a line written under the panel (e.g. why a run's points are not drawn).
        gamma: also draw hard thresholding and MCP's firm thresholding with this ``gamma``
            (None: soft, ridge and the identity only).
    """
    if not lam > 0:
        raise ValueError(f"the threshold must be > 0, got {lam!r}")
    zm = (3.0 if gamma is None else max(3.0, 1.3 * gamma)) * lam if z_max is None else float(
        z_max)
    if points is not None and np.size(points[0]):
        zm = max(zm, 1.08 * float(np.abs(points[0]).max()))
    zoom = zm > ZOOM_WHEN * lam
    with style.context():
        fig, axes = style.new_figure(1, 2 if zoom else 1, size=(11.4 if zoom else 7.6, 4.8))
        ax = axes[0, 0]
        _draw(ax, lam, zm, points, points_label, legend=True, gamma=gamma)
        ax.set_xlabel("z = $x_j^T r_j / n$  (partial-residual correlation, $\\|x_j\\|^2/n = 1$)")
        ax.set_ylabel("coordinate update $w_j$")
        ax.set_title(title or "Soft, hard and firm thresholding vs ridge shrinkage,\n"
                     f"λ = α·l1_ratio = {lam:.3g} (α in scikit-learn's scaling)")
        if zoom:
            zax = axes[0, 1]
            _draw(zax, lam, 3.0 * lam, points, points_label, legend=False, gamma=gamma)
            zax.set_xlabel("z (zoom)")
            zax.set_title(f"zoom on the zero zone: z in ±{3 * lam:.3g}")
            ax.indicate_inset(bounds=(-3 * lam, -3 * lam, 6 * lam, 6 * lam), inset_ax=zax,
                              edgecolor="black", alpha=0.8)
        if note:  # a legend line: laid out with the axes, never over a label
            handles, labels = ax.get_legend_handles_labels()
            note_handle = Line2D([], [], ls="none", label=note)
            ax.legend(handles + [note_handle], labels + [note], loc="upper left",
                      fontsize="small")
            ax.get_legend().get_texts()[-1].set_color("#7f0000")
            ax.get_legend().get_texts()[-1].set_gid("note")
    return fig
