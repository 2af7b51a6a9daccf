"""One look for every figure: sizes, fonts, solver colours and legend labels.

Figures are built as ``matplotlib.figure.Figure`` objects (never through ``pyplot``), so
nothing is registered globally and nothing needs closing; ``Figure.savefig`` renders them
with the Agg canvas.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..colours import SOLVER_COLOURS


def solver_color(kind: str) -> str | None:
    """A solver kind's colour (None if unknown): from the solver registry where it is loaded
    (a solver the user registered has its own), else from :mod:`lasso_torch.colours`
    (drawing a saved run imports neither torch nor the solvers)."""
    if "lasso_torch.solvers" not in sys.modules:
        return SOLVER_COLOURS.get(str(kind))
    from ..solvers import get_solver

    try:
        return get_solver(str(kind)).colour
    except Exception:  # an unknown or unimportable kind: the caller picks an extra colour
        return None


SPARE_COLORS = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
                "#31a354", "#756bb1", "#636363")  # darker tones, for figures of many solvers
EXTRA_COLORS = ("#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
ZERO_COLOR = "#d62728"  # coefficients that are 0 in the solution
ACTIVE_COLOR = "#1f77b4"  # coefficients that are nonzero in the solution

RC: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
}

ITERATION_LABEL = "iteration k (log axis beyond 1)"
REL_GAP_LABEL = "relative duality gap  gap / P(0)"


@contextlib.contextmanager
def context() -> Iterator[None]:
    """The figures' rcParams, applied while a figure is being built."""
    with mpl.rc_context(RC):
        yield


@contextlib.contextmanager
def font_scale(factor: float) -> Iterator[None]:
    """Scale every font size of the figures built inside (e.g. for small README images)."""
    keys = [k for k in RC if k.endswith("size")]
    old = {k: RC[k] for k in keys}
    RC.update({k: v * factor for k, v in old.items()})
    try:
        yield
    finally:
        RC.update(old)


def new_figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] = (6.0, 4.0),
               **subplot_kw: Any) -> tuple[Figure, Any]:
    """A ``Figure`` (constrained layout) and its axes, as ``Figure.subplots`` returns them."""
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def iteration_axis(ax: Axes) -> None:
    """Iterations from 0 to many thousands: linear on [0, 1], logarithmic beyond."""
    ax.set_xscale("symlog", linthresh=1.0, linscale=0.4)
    ax.set_xlim(left=0)
    ax.xaxis.set_major_formatter(FuncFormatter(_plain_count))


def _plain_count(value: float, _pos: object = None) -> str:
    """``0, 1, 10, 100, 1000, 10⁴`` rather than ``0, 10⁰, 10¹``."""
    if value == 0 or abs(value) < 1e4:
        return f"{value:g}"
    return f"$10^{{{int(round(np.log10(abs(value))))}}}$"


def assign_colors(solvers: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Colours for solver labels: each kind's own colour (its registry colour) for its first
    label; the repeats (``sgd-batch30`` beside ``sgd``) and unknown kinds get colours that
    no label of the figure already has."""
    out: dict[str, str] = {}
    for label, info in solvers.items():
        color = solver_color(str(info.get("kind")))
        if color is not None and color not in out.values():
            out[label] = color
    taken = set(out.values())
    extra = (c for c in (*EXTRA_COLORS, *SPARE_COLORS) * 4 if c not in taken)
    for label in solvers:
        if label not in out:
            out[label] = next(extra)
            taken.add(out[label])
    return {label: out[label] for label in solvers}


def solver_label(label: str, info: Mapping[str, Any] | None = None) -> str:
    """Legend text naming the solver and its step size, e.g. ``fista (lr 2.1e-02)``."""
    info = info or {}
    kind = info.get("kind")
    name = label if kind in (None, label) else f"{label} [{kind}]"
    step = step_text(info)
    return name if step is None or kind == "cd" else f"{name}, {step}"


def step_text(info: Mapping[str, Any]) -> str | None:
    """The step by its rule: ``lr 0.05`` (constant), ``lr 0.05/√(k+1)`` (``inv_sqrt``),
    ``lr 0.05/(k+1)`` (``inv``), from the first step ``lr0`` (never the last step)."""
    schedule = info.get("schedule") or "constant"
    lr = info.get("lr0") if schedule != "constant" else info.get("lr")
    if lr is None:
        return None
    rule = {"inv_sqrt": "/√(k+1)", "inv": "/(k+1)"}.get(str(schedule), "")
    return f"lr {float(lr):.2g}{rule}"


def nonzero_top_axis(ax: Axes, alphas: np.ndarray, nnz: np.ndarray, ticks: int = 7) -> Axes:
    """glmnet's top axis: the number of nonzero coefficients at a few alphas of the grid
    (log x shared with ``ax``); returns the top axis (its tick labels are the counts)."""
    a = np.asarray(alphas, dtype=np.float64)
    order = np.argsort(a)
    a, nnz = a[order], np.asarray(nnz)[order]
    idx = np.unique(np.round(np.linspace(0, a.size - 1, min(ticks, a.size))).astype(int))
    top = ax.secondary_xaxis("top")
    top.set_xticks(a[idx], [str(int(v)) for v in nnz[idx]])
    top.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    top.set_xlabel("nonzero coefficients", fontsize="small")
    return top


CHAR_WIDTH = 0.58  # average glyph width, in units of the font size (DejaVu Sans)


def _points(fontsize: Any) -> float:
    from matplotlib.font_manager import FontProperties

    return float(FontProperties(size=fontsize).get_size_in_points())


def fit_columns(fig: Figure, labels: list[str], most: int = 3,
                fontsize: Any = "small") -> int:
    """Legend columns that fit the figure's width: at most ``most``, one when the
    longest entry alone is as wide as the figure (a legend never wider than its figure)."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    width = fig.get_figwidth() * 72.0
    renderer = RendererAgg(10, 10, 72.0)  # at 72 dpi, one pixel is one point
    prop = FontProperties(size=_points(fontsize))
    longest = max((renderer.get_text_width_height_descent(t, prop, ismath="TeX" if False
                                                          else "$" in t)[0]
                   for t in labels), default=1.0)
    entry = longest + 3.2 * _points(fontsize)  # the handle, its gap and the column gap
    return int(max(1, min(most, len(labels) or 1, (width - 10.0) // entry)))


def fit_text(text: str, width_inches: float, fontsize: Any = "medium") -> str:
    """``text`` wrapped (at spaces, each line separately) to fit ``width_inches``."""
    import textwrap

    chars = max(12, int(width_inches * 72.0 / (CHAR_WIDTH * _points(fontsize))))
    return "\n".join(textwrap.fill(line, chars) if len(line) > chars else line
                     for line in text.split("\n"))


def suptitle(fig: Figure, text: str, fontsize: Any = "medium") -> None:
    """A figure title wrapped to the figure's width."""
    with context():
        fig.suptitle(fit_text(text, fig.get_figwidth() * 0.98, fontsize), fontsize=fontsize)


def save(fig: Figure, path: Path, fmt: str = "png", dpi: int | None = None) -> Path:
    """Write ``fig`` to ``path`` (suffix set from ``fmt``) and return the path."""
    path = Path(path).with_suffix(f".{fmt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with context():
        fig.savefig(path, format=fmt, dpi=dpi)
    return path
