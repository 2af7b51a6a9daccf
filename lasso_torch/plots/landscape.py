"""Family 7, the loss landscape (p = 2): every solver's iterates moving over the RSS contours.

The datafit ``f(w) = 1/(2n)||y_c - X_c w||^2`` of two features is drawn as contours
around the OLS point, with the L1 diamond and the L2 circle of the solution's budget
``t = ||w*||_1``, the OLS point and the solution ``w*``. Each solver's recorded iterates
``w_0, w_1, ...`` are a polyline with markers in the solver's colour; where a coordinate
became exactly ``0.0`` and stayed, the iterate is marked (a diamond) with its iteration.
A zoom panel frames the solution on the axis: subgradient descent keeps crossing the
axis there, the proximal solvers land on it and stay.

Artists are tagged with ``gid`` for the animation (:mod:`.animate`):
``iterates/<label>`` (the polyline, one vertex per record) and ``zero/<label>/<k>``
(a zero event at iteration ``k``), on both panels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Polygon, Rectangle

from . import style
from .geometry import datafit_value
from .trajectories import landing_index

BALL_COLOR = "#8c6d31"  # the L1 diamond: not a solver's colour (red is subgradient's)
CIRCLE_COLOR = "#7f7f7f"
ZOOM_FRACTION = 0.15  # the zoom panel's half-width, as a fraction of the budget t


def sign_changes(values: np.ndarray) -> int:
    """How often a sequence changes sign (strictly: from > 0 to < 0 or back; 0.0 skipped)."""
    s = np.sign(np.asarray(values, dtype=np.float64))
    s = s[s != 0]
    return int((s[1:] != s[:-1]).sum())


def zero_events(iteration: np.ndarray, coef: np.ndarray) -> list[tuple[int, int, int]]:
    """``(record index, iteration, coordinate)`` where a coordinate became exactly 0.0 and
    stayed (see :func:`.trajectories.landing_index`), in iteration order."""
    events = []
    for j in range(coef.shape[1]):
        k = landing_index(coef[:, j])
        if k is not None:
            events.append((k, int(iteration[k]), j))
    return sorted(events, key=lambda e: (e[0], e[2]))


def _legend_text(label: str, info: Mapping[str, Any] | None, it: np.ndarray, c: np.ndarray,
                 null: np.ndarray) -> str:
    """``ista, lr 0.6: w2 = 0.0 from k = 3`` or ``subgradient: crosses w2 = 0 199 times``."""
    name = style.solver_label(label, info)
    events = {j: k for _, k, j in zero_events(it, c)}
    notes = []
    for j in np.flatnonzero(null):
        if j in events:
            notes.append(f"$w_{j + 1}$ = 0.0 from k = {events[j]}")
        elif np.all(c[1:, j] == 0.0):
            notes.append(f"$w_{j + 1}$ = 0.0 throughout")
        else:
            notes.append(f"crosses $w_{j + 1}$ = 0 {sign_changes(c[:, j])}x, "
                         f"never 0.0 (k ≤ {int(it[-1])})")
    return name + (": " + "; ".join(notes) if notes else "")


def _limits(points: np.ndarray, t: float, ols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo = np.minimum(np.minimum(points.min(0), ols), -t)
    hi = np.maximum(np.maximum(points.max(0), ols), t)
    pad = 0.08 * float((hi - lo).max())
    return lo - pad, hi + pad


def objective_value(G: np.ndarray, c: np.ndarray, yty: float, w: np.ndarray, alpha: float,
                    l1_ratio: float = 1.0) -> np.ndarray:
    """The full objective ``f(w) + alpha (rho ||w||_1 + (1 - rho)/2 ||w||^2)`` at points
    ``w (..., 2)``: its contours have kinks where a coordinate is 0."""
    w = np.asarray(w, dtype=np.float64)
    pen = l1_ratio * np.abs(w).sum(-1) + 0.5 * (1 - l1_ratio) * (w ** 2).sum(-1)
    return datafit_value(G, c, yty, w) + alpha * pen


def _draw_background(ax: Axes, G: np.ndarray, c: np.ndarray, yty: float, lo: np.ndarray,
                     hi: np.ndarray, t: float, ols: np.ndarray, solution: np.ndarray,
                     labels: bool, alpha: float = 0.0, l1_ratio: float = 1.0) -> None:
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], 241), np.linspace(lo[1], hi[1], 241))
    pts = np.stack([g1, g2], axis=-1)
    F = objective_value(G, c, yty, pts, alpha, l1_ratio)
    f_sol = float(objective_value(G, c, yty, solution, alpha, l1_ratio))
    f_hi = float(np.nanpercentile(F, 60))
    span = max(f_hi - f_sol, 1e-12)
    levels = f_sol + span * np.array([0.002, 0.01, 0.03, 0.08, 0.18, 0.35, 0.6, 1.0])
    ax.contour(g1, g2, F, levels=levels, colors="#8f8f8f", linewidths=0.7, zorder=1)
    ax.add_patch(Polygon([(t, 0), (0, t), (-t, 0), (0, -t)], closed=True,
                         fc=to_rgba(BALL_COLOR, 0.10), ec=BALL_COLOR, lw=1.4, zorder=1,
                         label=f"L1 ball $\\|w\\|_1 \\leq t$ = {t:.3g}" if labels else None))
    ax.add_patch(Circle((0, 0), t, fc="none", ec=CIRCLE_COLOR, lw=1.1, ls="-.", zorder=1,
                        label="L2 ball $\\|w\\|_2 \\leq t$" if labels else None))
    ax.axhline(0.0, color="black", lw=0.8, zorder=1)
    ax.axvline(0.0, color="black", lw=0.8, zorder=1)
    ax.plot(*ols, "k*", ms=11, ls="none", zorder=6,
            label=f"OLS ({ols[0]:.3g}, {ols[1]:.3g})" if labels else None)
    sol = ", ".join("0" if v == 0.0 else f"{v:.3g}" for v in solution)
    ax.plot(*solution, "o", ms=13, mfc="none", mec="black", mew=1.6, ls="none", zorder=6,
            label=f"solution w* = ({sol})" if labels else None)


def _draw_iterates(ax: Axes, label: str, it: np.ndarray, c: np.ndarray, color: str,
                   lw: float, text: str | None) -> None:
    ms = 2.6 if len(it) > 60 else 4.5
    ax.plot(c[:, 0], c[:, 1], "-o", color=color, lw=lw, ms=ms, mec="white", mew=0.3,
            alpha=0.9, zorder=3, gid=f"iterates/{label}", label=text)
    for k_rec, k_it, _ in zero_events(it, c):
        ax.plot([c[k_rec, 0]], [c[k_rec, 1]], "D", ms=9, mfc="white", mec=color, mew=2.0,
                ls="none", zorder=5, gid=f"zero/{label}/{k_it}")


def landscape_figure(
    gram: np.ndarray,
    xty: np.ndarray,
    yty: float,
    ols: np.ndarray,
    solution: np.ndarray,
    traces: Mapping[str, Mapping[str, np.ndarray]],
    solvers: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    zoom: float | None = None,
    title: str | None = None,
    alpha: float = 0.0,
    l1_ratio: float = 1.0,
) -> Figure:
    """Contours of the objective (``alpha`` > 0: the full penalized objective, kinked
    along the axes; 0: the RSS alone), L1 diamond and L2 circle of budget
    ``t = ||solution||_1``, OLS, the solution, and every solver's iterates, beside a zoom
    on the solution.

    Args:
        gram, xty, yty: ``X_c^T X_c / n`` (2, 2), ``X_c^T y_c / n`` (2,), ``y_c^T y_c / n``.
        ols, solution: the OLS point and the solution ``w*`` (2,).
        traces: ``label -> {"iteration": (T,), "coef": (T, 2)}``, drawn in this order.
        solvers: ``label -> {"kind", "lr"}`` (colours and legend names).
        zoom: the zoom panel's half-width (default ``ZOOM_FRACTION * t``); 0 for none.
    """
    G, c = np.asarray(gram, dtype=np.float64), np.asarray(xty, dtype=np.float64)
    ols, w_star = (np.asarray(v, dtype=np.float64) for v in (ols, solution))
    labels = [lab for lab, tr in traces.items() if np.shape(tr.get("coef", ()))[-1:] == (2,)]
    if not labels:
        raise ValueError("no solver recorded its two coefficients (record_coef was off)")
    solvers = {lab: (solvers or {}).get(lab, {"kind": lab}) for lab in labels}
    colors = style.assign_colors(solvers)
    coefs = {lab: np.asarray(traces[lab]["coef"], dtype=np.float64) for lab in labels}
    iters = {lab: np.asarray(traces[lab]["iteration"]) for lab in labels}
    t = float(np.abs(w_star).sum()) or float(np.abs(ols).sum())
    half = ZOOM_FRACTION * t if zoom is None else float(zoom)
    lo, hi = _limits(np.concatenate([coefs[lab] for lab in labels]), t, ols)
    null = w_star == 0.0
    with style.context():
        panels = 2 if half > 0 else 1
        fig, axes = style.new_figure(1, panels, size=(5.6 * panels, 5.6),
                                     gridspec_kw={"width_ratios": [1.25, 1][:panels]})
        main = axes[0, 0]
        _draw_background(main, G, c, float(yty), lo, hi, t, ols, w_star, labels=True,
                         alpha=alpha, l1_ratio=l1_ratio)
        widths = {lab: 1.0 if len(iters[lab]) > 60 else 1.8 for lab in labels}
        for lab in labels:  # long (subgradient) traces thin, so the others stay visible
            text = _legend_text(lab, solvers[lab], iters[lab], coefs[lab], null)
            _draw_iterates(main, lab, iters[lab], coefs[lab], colors[lab], widths[lab], text)
        main.set_xlim(lo[0], hi[0])
        main.set_ylim(lo[1], hi[1])
        main.set_aspect("equal")
        main.set_xlabel("$w_1$")
        main.set_ylabel("$w_2$")
        main.set_title("Iterates on the contours of the objective P(w)\n"
                       "(" + ("kinked along the axes by α‖w‖₁" if alpha > 0 else "RSS only")
                       + ")")
        if panels == 2:
            zax = axes[0, 1]
            zlo, zhi = w_star - half, w_star + half
            main.add_patch(Rectangle(tuple(zlo), 2 * half, 2 * half, fill=False, ec="black",
                                     lw=0.9, ls=":", zorder=7, gid="zoombox"))
            _draw_background(zax, G, c, float(yty), zlo, zhi, t, ols, w_star, labels=False,
                             alpha=alpha, l1_ratio=l1_ratio)
            for lab in labels:
                _draw_iterates(zax, lab, iters[lab], coefs[lab], colors[lab], widths[lab],
                               None)
            zax.set_xlim(zlo[0], zhi[0])
            zax.set_ylim(zlo[1], zhi[1])
            zax.set_aspect("equal")
            zax.set_xlabel("$w_1$")
            zax.set_title(f"zoom: ±{half:.2g} around w* (dotted box)")
        handles, texts = main.get_legend_handles_labels()
        if any(g.startswith("zero/") for g in _gids(fig)):
            handles.append(Line2D([], [], marker="D", mfc="white", mec="black", ls="none"))
            texts.append("iterate where a coordinate became exactly 0.0 and stayed")
        fig.legend(handles, texts, loc="outside lower center", ncol=2, fontsize="small")
        if title:
            fig.suptitle(title)
    return fig


def _gids(fig: Figure) -> list[str]:
    return [ln.get_gid() for ax in fig.get_axes() for ln in ax.get_lines() if ln.get_gid()]
