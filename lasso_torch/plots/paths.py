"""Family 4, regularization paths, in glmnet's convention.

Coefficients against alpha (log axis, scikit-learn's scaling), ``alpha_max`` marked, the
number of nonzero coefficients along the top axis. Each feature keeps one colour in every
panel (and in the animation): the configured objective's path solid; beside it, on the
same axes, a comparison path dashed (the lasso beside an MCP/SCAD path), or in its own
panel the ridge path dashed on its own, longer grid (ridge shrinks smoothly and needs
alphas far above ``alpha_max`` to approach 0; it is never exactly 0). Where the true
coefficients are known (synthetic data) they are marked (crosses at the small-alpha end)
and the true support's names carry a star.

On the main panel each feature's entry point is marked on the zero line; its number, the
order in which features *leave* the model as alpha grows (1 leaves first; the last one
leaves exactly at ``alpha_max``), sits in a row above the line, spread so that no two
numbers collide, with a leader line to its marker. The curves are labelled by feature
name at the small-alpha end, each name tied to its curve's end by a leader line.

The lasso path is piecewise linear in alpha, so a feature's entry point is found by
extending its first two nonzero grid points linearly to 0, clipped to the grid interval
where it turned nonzero: exact when no other feature enters within those two grid steps,
in particular for the first feature, which enters at ``alpha_max`` (and is put there
exactly when a coarse grid lets a second feature enter within the same step).

Artists carry ``gid``s for the animation: ``path/<j>``, ``compare/<j>``, ``ridge/<j>``
(a feature's curves), ``name/<j>`` and ``order/<r>`` (the labels of the final state).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from . import style

MAX_LABELS = 12  # features named (the first ones to enter); the others are drawn grey
OTHER_COLOR = "#c4c4c4"
# twelve colours of equal weight, no pale/dark pairs of one hue (tab10, then navy and olive)
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#000080", "#556b2f")


def feature_colors(p: int) -> list[str]:
    """``p`` distinct colours of :data:`PALETTE` (repeated beyond twelve)."""
    return [PALETTE[j % len(PALETTE)] for j in range(p)]


def path_colors(alphas: np.ndarray, coefs: np.ndarray, alpha_max: float,
                ridge_only: bool = False) -> tuple[list[str], np.ndarray, list]:
    """Every feature's colour (the first :data:`MAX_LABELS` to enter get the palette, the
    others grey), the labelled features (first to enter first) and the entry alphas:
    one assignment, shared by the figure and its animation. ``alphas`` decreasing."""
    W = np.asarray(coefs, dtype=np.float64)
    p = W.shape[1]
    entries = [None] * p if ridge_only else entry_alphas(alphas, W, alpha_max)
    entered = [j for j in range(p) if entries[j] is not None]
    first = sorted(entered, key=lambda j: -entries[j])  # stable: ties keep the index order
    labelled = np.array(first[:MAX_LABELS], dtype=np.int64)
    if ridge_only:  # name the largest coefficients instead
        labelled = np.argsort(-np.abs(W[-1]), kind="stable")[:MAX_LABELS]
    colors = [OTHER_COLOR] * p
    for c, j in zip(feature_colors(len(labelled)), labelled, strict=True):
        colors[int(j)] = c
    return colors, labelled, entries


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


def _sorted(alphas: np.ndarray, coefs: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    order = np.argsort(-np.asarray(alphas, dtype=np.float64), kind="stable")
    a = np.asarray(alphas, dtype=np.float64)[order]
    return a, None if coefs is None else np.asarray(coefs, dtype=np.float64)[order]


def path_figure(
    alphas: np.ndarray,
    coefs: np.ndarray,
    ridge_coefs: np.ndarray | None,
    alpha_max: float,
    *,
    l1_ratio: float = 1.0,
    feature_names: Sequence[str] | None = None,
    title: str | None = None,
    objective: str | None = None,
    ridge_alphas: np.ndarray | None = None,
    compare: tuple[str, np.ndarray] | None = None,
    beta_true: np.ndarray | None = None,
) -> Figure:
    """The objective's path (solid), a comparison (dashed, same colours), see module
    docstring.

    Args:
        alphas: (K,) grid, any order. coefs: (K, p) solutions on it.
        ridge_coefs: (K', p) ridge solutions on ``ridge_alphas`` (default: ``alphas``),
            drawn in their own panel; None for none.
        alpha_max: the smallest alpha with an all-zero lasso solution.
        l1_ratio: the ``coefs`` path's l1_ratio (0: a ridge run, one panel).
        feature_names: p names (default ``x0 .. x{p-1}``).
        objective: the solved objective's name (titles; default from ``l1_ratio``).
        compare: ``(name, (K, p) coefs on alphas)`` drawn dashed on the main panel.
        beta_true: the true coefficients (synthetic data): crosses and starred names.
    """
    a, W = _sorted(alphas, coefs)
    p = W.shape[1]
    names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(p)]
    ridge_only = l1_ratio == 0.0  # a ridge run: no entries, its own panel is enough
    objective = objective or ("Ridge (L2)" if ridge_only else "Lasso (L1)" if l1_ratio == 1.0
                              else f"Elastic net (l1_ratio = {l1_ratio:g})")
    if ridge_only:
        ridge_coefs = None
    colors, labelled, entries = path_colors(a, W, alpha_max, ridge_only)
    if beta_true is not None:
        truth = np.asarray(beta_true, dtype=np.float64)
        names = [f"{nm}*" if truth[j] != 0 else nm for j, nm in enumerate(names)]
    entered = [j for j in range(p) if entries[j] is not None]
    by_leaving = sorted(entered, key=lambda j: entries[j])  # the smallest entry leaves first
    rank = {j: i + 1 for i, j in enumerate(by_leaving)}
    widths = [1.6 if colors[j] != OTHER_COLOR else 0.7 for j in range(p)]
    panels = 2 if ridge_coefs is not None else 1
    order_plot = [j for j in range(p) if colors[j] == OTHER_COLOR] + [int(j) for j in
                                                                     labelled[::-1]]
    with style.context():
        fig, axes = style.new_figure(1, panels, size=(5.6 * panels, 4.9), sharey=True)
        ax = axes[0, 0]
        for j in order_plot:  # named curves on top
            ax.plot(a, W[:, j], color=colors[j], lw=widths[j], gid=f"path/{j}")
        handles = [Line2D([], [], color="black", lw=1.6, label=objective)]
        if compare is not None:
            cname, C = compare
            C = _sorted(alphas, C)[1]
            for j in order_plot:
                ax.plot(a, C[:, j], color=colors[j], lw=max(widths[j] - 0.4, 0.6), ls="--",
                        gid=f"compare/{j}")
            handles.append(Line2D([], [], color="black", lw=1.2, ls="--", label=cname))
        xs = np.array([entries[j] for j in by_leaving])
        if len(xs):
            ax.plot(xs, np.zeros(len(xs)), "o", ms=5 if len(xs) <= MAX_LABELS else 4,
                    mfc="white", mec="black", mew=0.9, ls="none", zorder=5, gid="entries",
                    label="feature enters / leaves")
            handles.append(Line2D([], [], marker="o", mfc="white", mec="black", ls="none",
                                  label="feature enters / leaves (n: the n-th to leave)"))
        if beta_true is not None:
            sup = np.flatnonzero(truth != 0)
            ax.scatter(np.full(sup.size, a[-1]), truth[sup], marker="x", s=30, zorder=6,
                       c=[colors[j] for j in sup], linewidths=1.6, gid="truth")
            handles.append(Line2D([], [], marker="x", color="black", ls="none",
                                  label="true coefficient (names with *: true support)"))
        numbered = [int(j) for j in labelled if int(j) in rank] if len(xs) <= MAX_LABELS \
            else []
        ax.set_title(f"{objective}: features leave one by one as α grows" if not ridge_only
                     else "Ridge (L2): shrinks, never exactly 0")
        axes_list = [ax]
        if ridge_coefs is not None:
            ra, R = _sorted(alphas if ridge_alphas is None else ridge_alphas, ridge_coefs)
            rax = axes[0, 1]
            for j in order_plot:
                rax.plot(ra, R[:, j], color=colors[j], lw=widths[j], ls="--",
                         gid=f"ridge/{j}")
            rax.set_title("Ridge (L2), same colours: shrinks smoothly,\n"
                          f"never exactly 0 ({ra[0] / alpha_max:.3g} $α_{{max}}$ at the right)")
            axes_list.append(rax)
            handles.insert(1, Line2D([], [], color="black", lw=1.6, ls="--",
                                     label="Ridge (L2), right panel"))
        for axi in axes_list:
            axi.axhline(0.0, color="black", lw=0.8)
            axi.axvline(alpha_max, color="black", ls=":", lw=1.0)
            axi.set_xscale("log")
            axi.set_xlabel("α (scikit-learn scaling, log axis; dotted: $α_{max}$)")
        ax.set_ylabel("coefficient $w_j(α)$")
        ax.set_xlim(a[-1] * (a[-1] / a[0]) ** 0.25, a[0] * (a[0] / a[-1]) ** 0.04)
        style.nonzero_top_axis(ax, a, (W != 0).sum(1))
        if numbered:  # with many markers the names carry the ranks
            _number_entries(ax, [entries[j] for j in numbered], [rank[j] for j in numbered])
        ranked = [f"{names[j]} ({rank[j]})" if j in rank else names[j] for j in range(p)]
        _label_ends(ax, a[-1], W[-1], ranked, colors, labelled)
        if ridge_coefs is not None:
            rx = axes_list[1].get_xlim()
            axes_list[1].set_xlim(rx[0] / (rx[1] / rx[0]) ** 0.2, rx[1])
            _label_ends(axes_list[1], ra[-1], R[-1], names, colors, labelled)
        fig.legend(handles=handles, loc="outside lower center",
                   ncol=style.fit_columns(fig, [h.get_label() for h in handles], 2),
                   fontsize="small")
        if title:
            fig.suptitle(title)
    return fig
