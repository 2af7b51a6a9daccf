"""Family 7, the loss landscape (p = 2): every solver's iterates moving over the RSS contours.

The datafit ``f(w) = 1/(2n)||y_c - X_c w||^2`` of two features is drawn as contours
around the OLS point, with the L1 diamond and the L2 circle of the solution's budget
``t = ||w*||_1``, the OLS point and the solution ``w*``. Each solver's recorded iterates
``w_0, w_1, ...`` are a polyline with markers in the solver's colour; where a coordinate
became exactly ``0.0`` and stayed, the iterate is marked (a diamond) with its iteration.
Beside it, one small panel per solver draws the coordinate that is 0 in the solution
against the iteration on a symmetric-log axis, the band ``±lr·alpha`` shaded: subgradient
descent, Adam and momentum keep crossing the axis, the proximal solvers land on it and
stay. (Drawn in one zoom, those iterates tangle.) CD is drawn under ISTA where their
paths coincide.

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
from matplotlib.patches import Circle, Polygon
from matplotlib.ticker import NullLocator

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
    levels = np.unique(f_sol + span * np.array([0.002, 0.01, 0.03, 0.08, 0.18, 0.35, 0.6,
                                                 1.0]))
    if levels.size < 2:  # a flat box (all on w*): evenly spaced levels of what it holds
        levels = np.unique(np.linspace(float(np.nanmin(F)), float(np.nanmax(F)), 8)[1:-1])
    if levels.size >= 1 and np.isfinite(levels).all():
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
                   lw: float, text: str | None, zorder: float = 3.0) -> None:
    ms = 2.6 if len(it) > 60 else 4.5
    ax.plot(c[:, 0], c[:, 1], "-o", color=color, lw=lw, ms=ms, mec="white", mew=0.3,
            alpha=0.9, zorder=zorder, gid=f"iterates/{label}", label=text)
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
    strips = half > 0 and bool(null.any())
    with style.context():
        fig = Figure(figsize=(11.6 if strips else 6.2, max(6.0, 1.15 * len(labels) + 1.4)
                              if strips else 6.0), layout="constrained")
        grid = fig.add_gridspec(len(labels) if strips else 1, 2 if strips else 1,
                                width_ratios=[1.2, 1] if strips else [1])
        main = fig.add_subplot(grid[:, 0])
        _draw_background(main, G, c, float(yty), lo, hi, t, ols, w_star, labels=True,
                         alpha=alpha, l1_ratio=l1_ratio)
        widths = {lab: 1.0 if len(iters[lab]) > 60 else 1.8 for lab in labels}
        # exact solvers that share a path (CD under ISTA): the later-drawn thinner on top
        for z, lab in enumerate(labels):
            text = _legend_text(lab, solvers[lab], iters[lab], coefs[lab], null)
            _draw_iterates(main, lab, iters[lab], coefs[lab], colors[lab],
                           widths[lab] + (1.2 if solvers[lab].get("kind") == "cd" else 0.0),
                           text, zorder=2.5 if solvers[lab].get("kind") == "cd" else 3 + z / 10)
        main.set_xlim(lo[0], hi[0])
        main.set_ylim(lo[1], hi[1])
        main.set_aspect("equal")
        main.set_xlabel("$w_1$")
        main.set_ylabel("$w_2$")
        main.set_title("Iterates on the contours of the objective P(w)\n"
                       "(" + ("kinked along the axes by α‖w‖₁" if alpha > 0 else "RSS only")
                       + ")")
        if strips:
            _strips(fig, grid, labels, solvers, iters, coefs, colors, null, alpha, t)
        handles, texts = main.get_legend_handles_labels()
        if any(g.startswith("zero/") for g in _gids(fig)):
            handles.append(Line2D([], [], marker="D", mfc="white", mec="black", ls="none"))
            texts.append("iterate where a coordinate became exactly 0.0 and stayed")
        fig.legend(handles, texts, loc="outside lower center",
                   ncol=style.fit_columns(fig, texts, 2), fontsize="small")
        if title:
            fig.suptitle(title)
    return fig


def _strips(fig: Figure, grid: Any, labels: list[str], solvers: Mapping[str, Any],
            iters: Mapping[str, np.ndarray], coefs: Mapping[str, np.ndarray],
            colors: Mapping[str, str], null: np.ndarray, alpha: float, t: float) -> None:
    """One small panel per solver: the coordinate(s) that are 0 in the solution against
    k, on a symmetric-log axis (linear within the smallest ``lr α``), the band
    ``±lr α`` shaded (a subgradient step's overshoot; the prox's zero zone): crossing
    the axis again and again, or landing on it and staying."""
    j = int(np.flatnonzero(null)[0])
    bands = [float(solvers[lab]["lr"]) * alpha for lab in labels
             if solvers[lab].get("lr") is not None and alpha > 0]
    lin = min(bands) if bands else 1e-3 * t
    top = max(float(np.abs(coefs[lab][:, j]).max()) for lab in labels) or 1.0
    first = None
    for i, lab in enumerate(labels):
        ax = fig.add_subplot(grid[i, 1], sharex=first, sharey=first)
        first = first or ax
        it, w = iters[lab], coefs[lab][:, j]
        lr = solvers[lab].get("lr")
        if lr is not None and alpha > 0:
            ax.axhspan(-float(lr) * alpha, float(lr) * alpha, color=colors[lab], alpha=0.15,
                       lw=0, gid=f"bandlr/{lab}")
        ax.axhline(0.0, color="black", lw=0.7)
        ax.plot(it, w, color=colors[lab], lw=1.0, gid=f"coef/{lab}")
        for _, k_it, jj in zero_events(it, coefs[lab]):
            if jj == j:
                ax.plot([k_it], [0.0], "D", ms=6, mfc="white", mec=colors[lab], mew=1.6,
                        ls="none", zorder=5, gid=f"zero/{lab}/{k_it}")
        ax.set_yscale("symlog", linthresh=lin, linscale=0.6)
        ax.set_ylim(-1.3 * top, 1.3 * top)
        big = 10.0 ** np.floor(np.log10(1.3 * top))
        ticks = [0.0, big] + ([lin] if big / lin > 8 else [])
        ax.set_yticks(sorted({*ticks, *(-v for v in ticks)}),
                      [f"{v:.2g}" for v in sorted({*ticks, *(-v for v in ticks)})])
        ax.yaxis.set_minor_locator(NullLocator())
        ax.text(0.99, 0.95, style.solver_label(lab, solvers[lab]).split(",")[0],
                transform=ax.transAxes, ha="right", va="top", fontsize="small",
                color=colors[lab], gid=f"name/{lab}")
        ax.tick_params(labelsize="x-small")
        if i < len(labels) - 1:
            ax.tick_params(labelbottom=False)
    style.iteration_axis(first)
    ax.set_xlabel("iteration k")
    first.set_title(f"$w_{j + 1}$ (0 in the solution) against k: symmetric-log axis,\n"
                    "shaded: ±lr·α (the step's overshoot of 0, the prox's zero zone)",
                    fontsize="small")


def _gids(fig: Figure) -> list[str]:
    return [ln.get_gid() for ax in fig.get_axes() for ln in ax.get_lines() if ln.get_gid()]
