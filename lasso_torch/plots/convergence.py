"""Family 2, convergence: how fast each solver certifies its answer.

A 2 x 2 grid: the relative duality gap ``gap / P(0)`` (top) and the objective
suboptimality ``P(w_k) - P*`` (bottom, ``P*`` the run's reference objective), against
iteration (left) and against solver wall time (right, recording excluded), on log axes.
Every solver of a run, or of several runs, is one line in every panel. A gap or a
suboptimality of exactly 0, negative, or below float64 rounding (an exact answer) has no
place on a log axis: such records are drawn as triangles on a dashed floor line labelled
"exactly 0 / below rounding" (never dropped: a converged curve ends on or below its
tolerance line); a diverging solver's line leaves the frame at 1000 times the highest
starting value.
A solver with one or two records (CD on an easy problem) is drawn with markers and says
so in the legend: its record at k = 0 has no place on a log time axis, so a line would
vanish there. The stopping tolerance(s) are dotted lines on the gap panels. The time
axis gets a few labels only (decades, or 1-2-5 steps within less than two decades).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from . import style
from .bands import SPREAD_TEXT, band

FEW_RECORDS = 2  # a series with this many records or fewer is drawn with markers


class Series(NamedTuple):
    """One solver's recorded convergence."""

    label: str
    iteration: np.ndarray
    time: np.ndarray
    gap: np.ndarray
    objective: np.ndarray
    p_star: float | None = None
    color: str | None = None
    linestyle: str = "-"
    gap_band: tuple[np.ndarray, np.ndarray] | None = None  # repeats: (q1, q3) per record
    objective_band: tuple[np.ndarray, np.ndarray] | None = None


def series_from_traces(
    traces: Mapping[str, Mapping[str, np.ndarray]],
    solvers: Mapping[str, Mapping[str, Any]],
    p_star: float | None = None,
    prefix: str = "",
) -> list[Series]:
    """One :class:`Series` per solver in ``solvers`` that has a ``gap`` trace.

    ``p_star`` defaults to the smallest finite objective any of these solvers recorded.
    """
    labels = [lab for lab in solvers if "gap" in traces.get(lab, {})]
    if p_star is None and labels:
        finite = np.concatenate([np.asarray(traces[lab]["objective"], dtype=np.float64)
                                 for lab in labels])
        finite = finite[np.isfinite(finite)]
        p_star = float(finite.min()) if finite.size else None
    colors = style.assign_colors({lab: solvers[lab] for lab in labels})
    out = []
    for lab in labels:
        name = prefix + style.solver_label(lab, solvers[lab])
        g, o = band(traces, lab, "gap"), band(traces, lab, "objective")
        if g is not None and o is not None:  # repeats: the median, its quartile band
            out.append(Series(f"{name} ({SPREAD_TEXT.format(n=g['n'])})", g["iteration"],
                              g["time"], g["median"], o["median"], p_star, colors[lab],
                              gap_band=(g["q1"], g["q3"]), objective_band=(o["q1"], o["q3"])))
            continue
        out.append(Series(name, np.asarray(traces[lab]["iteration"]),
                          np.asarray(traces[lab]["time"]), np.asarray(traces[lab]["gap"]),
                          np.asarray(traces[lab]["objective"]), p_star, colors[lab]))
    return out


def suboptimality(objective: np.ndarray, p_star: float | None, raw: bool = False
                  ) -> np.ndarray:
    """``objective - p_star``; values below rounding (``1e-16 |P*|``) or not finite (and a
    missing ``p_star``) NaN; ``raw``: the differences as they are."""
    if p_star is None:
        return np.full(np.shape(objective), np.nan)
    d = np.asarray(objective, dtype=np.float64) - p_star
    return d if raw else _positive(d, ROUNDING * max(abs(p_star), 1.0))


ROUNDING = 1e-16  # a relative quantity below this is float64 rounding: "exactly 0"
FLOOR_LABEL = "exactly 0 / below rounding"


def _positive(values: np.ndarray, below: float = ROUNDING) -> np.ndarray:
    """Finite values above ``below``; NaN elsewhere (a log axis draws neither 0 nor inf;
    the values at or below rounding go to the floor: :func:`at_floor`)."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(v) & (v > below), v, np.nan)


def at_floor(values: np.ndarray, below: float = ROUNDING) -> np.ndarray:
    """Where a certificate is exactly 0, negative, or below rounding: the records a log
    axis cannot show, drawn on the floor line instead of vanishing."""
    v = np.asarray(values, dtype=np.float64)
    return np.isfinite(v) & (v <= below)


def _log_limits(curves: Sequence[np.ndarray]) -> tuple[float | None, float | None]:
    """y limits of a log panel: the data's range with a margin, the top capped at 1000
    times the highest starting value (set explicitly: autoscaling a diverged curve near
    1e308 overflows)."""
    values = [c[np.isfinite(c)] for c in curves]
    values = [v for v in values if v.size]
    if not values:
        return None, None
    lo = min(float(v.min()) for v in values)
    hi = max(float(v.max()) for v in values)
    start = max(float(v[0]) for v in values)
    return lo / 3.0, min(hi * 3.0, start * 1e3)


def time_axis(ax: Axes, times: Sequence[np.ndarray]) -> None:
    """A log time axis with labels that do not collide: one per decade (at most six) over
    two decades or more, 1-2-5 steps below that."""
    ax.set_xscale("log")
    t = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in times] or [[]])
    t = t[np.isfinite(t) & (t > 0)]
    decades = float(np.log10(t.max() / t.min())) if t.size else 3.0
    if decades >= 2:
        ax.xaxis.set_major_locator(LogLocator(base=10, numticks=6))
    else:
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=12))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _tolerances(tol: float | Mapping[str, float] | None) -> dict[float, list[str]]:
    """``tol`` as ``{value: [solver labels]}`` (one dotted line per distinct value)."""
    if tol is None:
        return {}
    if not isinstance(tol, Mapping):
        return {float(tol): []}
    out: dict[float, list[str]] = {}
    for label, value in tol.items():
        if value is not None:
            out.setdefault(float(value), []).append(label)
    return out


def coinciding(series: Sequence[Series]) -> dict[str, str]:
    """``label -> the first earlier label with the very same iterations and gaps`` (its
    line hides under that one: the legend says so)."""
    out: dict[str, str] = {}
    for i, s in enumerate(series):
        for t in series[:i]:
            if np.array_equal(s.iteration, t.iteration) and np.array_equal(
                    s.gap, t.gap, equal_nan=True):
                out[s.label] = t.label
                break
    return out


def _floor(ax_row: Sequence[Axes], row: int, series: Sequence[Series], lo: float
           ) -> float | None:
    """Draw the records at 0 / below rounding (gap, or ``P - P*``) on a floor line at
    ``lo``, labelled; returns ``lo`` when any was drawn."""
    drawn = False
    for i, s in enumerate(series):
        if row == 0:
            mask = at_floor(s.gap)
        else:
            sub = suboptimality(s.objective, s.p_star, raw=True)
            mask = at_floor(sub, ROUNDING * max(abs(s.p_star or 0.0), 1.0))
        if not mask.any():
            continue
        drawn = True
        color = s.color or style.EXTRA_COLORS[i % len(style.EXTRA_COLORS)]
        t = np.asarray(s.time, dtype=np.float64)
        for ax, x in ((ax_row[0], np.asarray(s.iteration)), (ax_row[1], t)):
            ax.plot(x[mask], np.full(int(mask.sum()), lo), "v", color=color, ms=6,
                    mec="black", mew=0.4, ls="none", zorder=5, scaley=False,
                    gid=f"floor/{s.label}")
    if drawn:
        for ax in ax_row:
            ax.axhline(lo, color="#555555", ls="--", lw=0.8, zorder=1, gid="floor")
        ax_row[0].annotate(f"▼ {FLOOR_LABEL}", (0.01, lo), xycoords=("axes fraction", "data"),
                           xytext=(0, 3), textcoords="offset points", fontsize="x-small",
                           color="#333333", va="bottom", gid="floor-label")
    return lo if drawn else None


def convergence_figure(series: Sequence[Series], *, title: str | None = None,
                       tol: float | Mapping[str, float] | None = None,
                       certificate: str | None = None) -> Figure:
    """Relative gap and suboptimality against iteration and time (see module docstring).

    ``tol`` (one value, or ``solver label -> tol``) draws the stopping tolerance as a
    dotted line on the gap panels; ``certificate`` names what the top row shows when it is
    not the relative duality gap (the KKT violation of MCP / SCAD).
    """
    if not series:
        raise ValueError("no solver recorded a convergence trace (record_every was 0)")
    with style.context():
        many = len(series) > 8  # a long legend goes beside the panels, not under them
        fig, axes = style.new_figure(2, 2, size=(14.0 if many else 10.0, 6.6),
                                     sharex="col", sharey="row")
        for ax in axes.ravel():
            ax.set_yscale("log")
        for i, s in enumerate(series):
            color = s.color or style.EXTRA_COLORS[i % len(style.EXTRA_COLORS)]
            sub = suboptimality(s.objective, s.p_star)
            gap = _positive(s.gap)
            t = np.where(np.asarray(s.time) > 0, s.time, np.nan)
            # y limits are set below from the finite data (autoscaling a diverged curve
            # near 1e308 overflows)
            few = len(s.iteration) <= FEW_RECORDS
            label = s.label + (f" ({len(s.iteration)} records: markers)" if few else "")
            kw = dict(color=color, lw=1.5, ls=s.linestyle, label=label, scaley=False,
                      marker="o" if few else None, ms=6)
            if s.gap_band is not None and s.objective_band is not None:
                lo_o, hi_o = (suboptimality(b, s.p_star) for b in s.objective_band)
                for ax, (lo_b, hi_b) in ((axes[0, 0], (_positive(s.gap_band[0]),
                                                       _positive(s.gap_band[1]))),
                                         (axes[1, 0], (lo_o, hi_o))):
                    ax.fill_between(s.iteration, lo_b, hi_b, color=color, alpha=0.2, lw=0,
                                    gid=f"band/{s.label}")
            axes[0, 0].plot(s.iteration, gap, **kw)
            axes[0, 1].plot(t, gap, **kw)
            axes[1, 0].plot(s.iteration, sub, **kw)
            axes[1, 1].plot(t, sub, **kw)
        tols = list(_tolerances(tol))
        for row, ax_row in enumerate(axes):
            lo, hi = _log_limits([_positive(s.gap) if row == 0
                                  else suboptimality(s.objective, s.p_star) for s in series])
            if lo is None:
                lo, hi = (min(tols) / 3, 1.0) if tols else (ROUNDING, 1.0)
            if row == 0 and tols:
                lo = min(lo, min(tols) / 3.0)
            floor = _floor(ax_row, row, series, lo)
            ax_row[0].set_ylim(floor / 3.0 if floor is not None else lo, hi)
        for ax in axes[:, 0]:
            style.iteration_axis(ax)
        for ax in axes[:, 1]:
            time_axis(ax, [s.time for s in series])
        tolerances = _tolerances(tol)
        for value, who in tolerances.items():
            whom = "" if not who or len(tolerances) == 1 else style.fit_text(
                f" ({', '.join(who)})", 4.0, "small")
            for ax in axes[0]:
                ax.axhline(value, color="black", ls=":", lw=1.0,
                           label=f"tol = {value:g}" + (" (every solver)" if who and not whom
                                                       else whom))
        axes[0, 0].set_ylabel(certificate or style.REL_GAP_LABEL)
        axes[1, 0].set_ylabel("suboptimality  $P(w_k) - P^*$")
        axes[1, 0].set_xlabel(style.ITERATION_LABEL)
        axes[1, 1].set_xlabel("solver wall time (s; recording excluded)")
        axes[0, 0].set_title("against iterations")
        axes[0, 1].set_title("against time")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        same = coinciding(series)
        labels = [lab + (f" (same curve as {same[lab]})" if lab in same else "")
                  for lab in labels]
        if many:
            fig.legend(handles, labels, loc="outside right center", fontsize="small")
        else:
            fig.legend(handles, labels, loc="outside lower center",
                       ncol=style.fit_columns(fig, labels, 3, "medium"))
        if title:
            fig.suptitle(style.fit_text(title, fig.get_figwidth() * 0.98, "large"))
            return fig
        fig.suptitle("Convergence: $P(w) = \\frac{1}{2n}\\|y - Xw - b\\|^2 + "
                     "\\alpha(\\rho\\|w\\|_1 + \\frac{1-\\rho}{2}\\|w\\|^2)$, "
                     "$P^*$ = reference solve")
    return fig
