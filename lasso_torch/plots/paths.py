"""Family 4, regularization paths: lasso beside ridge on the same data and alpha grid.

Coefficients against alpha (log axis, scikit-learn's scaling), ``alpha_max`` marked.
On the lasso panel each feature's entry point is marked on the zero line; its number, the
order in which features *leave* the model as alpha grows (1 leaves first; the last one
leaves exactly at ``alpha_max``), sits in a row above the line, spread so that no two
numbers collide, with a leader line to its marker. The curves are labelled by feature
name at the small-alpha end, each name tied to its curve's end by a leader line. The
ridge panel shows the same features shrinking smoothly and never reaching 0.

The lasso path is piecewise linear in alpha, so a feature's entry point is found by
extending its first two nonzero grid points linearly to 0, clipped to the grid interval
where it turned nonzero: exact when no other feature enters within those two grid steps,
in particular for the first feature, which enters at ``alpha_max`` (and is put there
exactly when a coarse grid lets a second feature enter within the same step).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from . import style

MAX_LABELS = 12  # features named (the first ones to enter); the others are drawn grey
OTHER_COLOR = "#c4c4c4"


def feature_colors(p: int) -> list:
    """Distinct colours: tab10 for up to 10 features, then tab20's dark shades before its
    light ones (a light shade next to its own dark one is hard to tell apart)."""
    if p <= 10:
        return [style.mpl.colormaps["tab10"](j) for j in range(p)]
    cmap = style.mpl.colormaps["tab20"]
    order = list(range(0, 20, 2)) + list(range(1, 20, 2))
    return [cmap(order[j % 20]) for j in range(p)]


def entry_alpha(alphas: np.ndarray, coef: np.ndarray) -> float | None:
    """Where one feature's path leaves 0, walking the grid from large alpha to small.

    ``alphas`` must be sorted decreasing. ``None`` if the feature is 0 on the whole grid,
    ``alphas[0]`` if it is nonzero already there.
    """
    nz = np.flatnonzero(coef != 0.0)
    if nz.size == 0:
        return None
    k = int(nz[0])
    if k == 0:
        return float(alphas[0])
    lo, hi = float(alphas[k]), float(alphas[k - 1])
    if k + 1 < len(alphas) and coef[k + 1] != 0.0 and alphas[k] != alphas[k + 1]:
        slope = (coef[k] - coef[k + 1]) / (alphas[k] - alphas[k + 1])
        if slope != 0.0:
            return float(np.clip(alphas[k] - coef[k] / slope, lo, hi))
    return hi


def entry_alphas(alphas: np.ndarray, coefs: np.ndarray, alpha_max: float) -> list[float | None]:
    """Entry alpha of every feature (``alphas`` decreasing, ``coefs`` (K, p)).

    The first feature to enter does so exactly at ``alpha_max`` (KKT at ``w = 0``): among
    the features first nonzero at the top-most nonzero grid point, the one with the largest
    extrapolated entry is put at ``alpha_max`` when ``alpha_max`` lies in that grid interval
    (a coarse grid may let two features enter within one step).
    """
    p = coefs.shape[1]
    entries = [entry_alpha(alphas, coefs[:, j]) for j in range(p)]
    first_nz = [int(np.flatnonzero(coefs[:, j] != 0.0)[0]) for j in range(p)
                if entries[j] is not None]
    if not first_nz:
        return entries
    k = min(first_nz)
    if k == 0 or not alphas[k] <= alpha_max <= alphas[k - 1]:
        return entries
    group = [j for j in range(p) if entries[j] is not None and coefs[k, j] != 0.0]
    lead = max(group, key=lambda j: entries[j])
    entries[lead] = float(alpha_max)
    return entries


def _spread(values: np.ndarray, gap: float) -> np.ndarray:
    """Label positions at least ``gap`` apart and close to ``values``: the mean of pushing
    collisions upwards and pushing them downwards (both keep the gaps, so does the mean)."""
    order = np.argsort(values, kind="stable")
    v = values[order].astype(np.float64)
    up, down = v.copy(), v.copy()
    for i in range(1, len(v)):
        up[i] = max(up[i], up[i - 1] + gap)
    for i in range(len(v) - 2, -1, -1):
        down[i] = min(down[i], down[i + 1] - gap)
    out = np.empty_like(v)
    out[order] = (up + down) / 2
    return out


def _label_ends(ax: Axes, x: float, ends: np.ndarray, names: Sequence[str],
                colors: Sequence[str], which: np.ndarray) -> None:
    lo, hi = ax.get_ylim()
    ys = _spread(ends[which], 0.055 * (hi - lo))
    for y, j in zip(ys, which, strict=True):
        ax.annotate(names[j], xy=(x, ends[j]), xytext=(x * 0.8, y), textcoords="data",
                    ha="right", va="center", fontsize="small", color=colors[j],
                    xycoords="data", annotation_clip=False, gid=f"name/{j}",
                    arrowprops=dict(arrowstyle="-", color=colors[j], lw=0.7, shrinkA=1,
                                    shrinkB=0))


ORDER_GAP = 0.05  # the order numbers: at least this fraction of the axis width apart


def _number_entries(ax: Axes, entries: Sequence[float], ranks: Sequence[int]) -> None:
    """The leave-order numbers in a row above the zero line, spread along the (log) axis
    so that they never collide, each tied to its marker by a leader line."""
    lx0, lx1 = np.log10(ax.get_xlim())
    lo, hi = ax.get_ylim()
    xs = _spread(np.log10(np.asarray(entries, dtype=np.float64)), ORDER_GAP * (lx1 - lx0))
    y = 0.09 * (hi - lo)
    for x, e, r in zip(xs, entries, ranks, strict=True):
        ax.annotate(str(r), xy=(e, 0.0), xytext=(10 ** x, y), ha="center", va="center",
                    fontsize="x-small", zorder=6, gid=f"order/{r}",
                    bbox=dict(boxstyle="circle,pad=0.2", fc="white", ec="black", lw=0.6),
                    arrowprops=dict(arrowstyle="-", color="black", lw=0.5, shrinkA=0,
                                    shrinkB=2))


def path_figure(
    alphas: np.ndarray,
    coefs: np.ndarray,
    ridge_coefs: np.ndarray | None,
    alpha_max: float,
    *,
    l1_ratio: float = 1.0,
    feature_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Lasso (or elastic-net) path beside the ridge path on the same alpha grid.

    Args:
        alphas: (K,) grid, any order. coefs, ridge_coefs: (K, p) solutions on it.
        alpha_max: the smallest alpha with an all-zero lasso solution.
        l1_ratio: the ``coefs`` path's l1_ratio (for the title).
        feature_names: p names (default ``x0 .. x{p-1}``).
    """
    order = np.argsort(-np.asarray(alphas, dtype=np.float64), kind="stable")
    a = np.asarray(alphas, dtype=np.float64)[order]
    W = np.asarray(coefs, dtype=np.float64)[order]
    p = W.shape[1]
    names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(p)]
    ridge_only = l1_ratio == 0.0  # a ridge run: no entries, its own ridge panel is enough
    entries = [None] * p if ridge_only else entry_alphas(a, W, alpha_max)
    if ridge_only:
        ridge_coefs = None
    entered = np.array([j for j in range(p) if entries[j] is not None], dtype=np.int64)
    # leave order as alpha grows: the smallest entry alpha leaves first
    by_leaving = entered[np.argsort([entries[j] for j in entered], kind="stable")]
    rank = {int(j): i + 1 for i, j in enumerate(by_leaving)}
    by_leaving = [int(j) for j in by_leaving]
    # the first MAX_LABELS features to enter get colours, names and numbered markers;
    # the others (and those that never enter) are thin grey lines and plain markers
    labelled = np.array(by_leaving[::-1][:MAX_LABELS], dtype=np.int64)
    if ridge_only:  # name the largest coefficients instead
        labelled = np.argsort(-np.abs(W[-1]), kind="stable")[:MAX_LABELS]
    palette = feature_colors(len(labelled))
    colors: list = [OTHER_COLOR] * p
    for i, j in enumerate(labelled):
        colors[j] = palette[i]
    widths = [1.5 if colors[j] != OTHER_COLOR else 0.7 for j in range(p)]
    panels = 2 if ridge_coefs is not None else 1
    with style.context():
        fig, axes = style.new_figure(1, panels, size=(5.4 * panels, 4.4), sharex=True,
                                     sharey=True)
        ax = axes[0, 0]
        order_plot = [j for j in range(p) if colors[j] == OTHER_COLOR] + list(labelled[::-1])
        for j in order_plot:  # named curves on top
            ax.plot(a, W[:, j], color=colors[j], lw=widths[j])
        xs = np.array([entries[j] for j in by_leaving])
        if len(xs):
            ax.plot(xs, np.zeros(len(xs)), "o", ms=5 if len(xs) <= MAX_LABELS else 4,
                    mfc="white", mec="black", mew=0.9, ls="none", zorder=5,
                    label="feature enters / leaves")
        numbered = [int(j) for j in labelled if j in rank] if len(xs) <= MAX_LABELS else []
        kind = "Lasso" if l1_ratio == 1.0 else f"Elastic net (l1_ratio = {l1_ratio:g})"
        ax.set_title(f"{kind}: features leave one by one as α grows\n"
                     "(n in a circle and after a name: the n-th to leave)" if not ridge_only
                     else "Ridge (l1_ratio = 0): shrinks, never exactly 0")
        axes_list = [ax]
        if ridge_coefs is not None:
            R = np.asarray(ridge_coefs, dtype=np.float64)[order]
            rax = axes[0, 1]
            for j in order_plot:
                rax.plot(a, R[:, j], color=colors[j], lw=widths[j])
            rax.set_title("Ridge (l1_ratio = 0), same α grid:\nshrinks, never exactly 0")
            axes_list.append(rax)
        for axi in axes_list:
            axi.axhline(0.0, color="black", lw=0.8)
            axi.axvline(alpha_max, color="black", ls="--", lw=1.0)
            axi.set_xscale("log")
            axi.set_xlabel("α (scikit-learn scaling, log axis)")
        for axi in axes_list:
            lo, hi = axi.get_ylim()
            axi.annotate("$α_{max}$", (alpha_max, hi), xytext=(3, -10),
                         textcoords="offset points", fontsize="medium")
        ax.set_ylabel("coefficient $w_j(α)$")
        ax.set_xlim(a[-1] * (a[-1] / a[0]) ** 0.25, a[0] * (a[0] / a[-1]) ** 0.04)
        if numbered:  # with many markers the names carry the ranks
            _number_entries(ax, [entries[j] for j in numbered], [rank[j] for j in numbered])
        ranked = [f"{names[j]} ({rank[j]})" if j in rank else names[j] for j in range(p)]
        _label_ends(ax, a[-1], W[-1], ranked, colors, labelled)
        if ridge_coefs is not None:
            _label_ends(axes_list[1], a[-1], R[-1], names, colors, labelled)
        if title:
            fig.suptitle(title)
    return fig
