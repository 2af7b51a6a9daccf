"""Figures that move: a run's recorded iterates or its path, frame by frame (GIF or MP4).

* ``landscape``: every solver's iterates advancing over the RSS contours (p = 2);
* ``trajectories``: each coefficient's curve advancing over the iterations, the circles
  appearing where a coefficient lands on exactly 0.0;
* ``paths``: the paths figure itself (same panels, colours, labels), alpha sweeping down
  from alpha_max: features enter one by one; the names and order numbers (the final
  state) on the last frame.

Early frames never state the end: titles keep their first line, legend entries their
name (:func:`without_final_numbers`); the last frame is held (``HOLD``).

The static figures of :mod:`.source` are drawn once with all the data; a frame shows the
part of every tagged artist (``gid``) recorded up to the frame's iteration. Frames are
spaced evenly in log(iteration) over the recorded iterations (the early ones move most),
one frame per distinct iteration at most. GIFs use matplotlib's Pillow writer; MP4 needs
ffmpeg. Nothing here solves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib import animation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..errors import InputError
from . import style
from .source import RunData, build, read_run

ANIMATED = ("landscape", "trajectories", "paths")
MOVIE_FORMATS = ("gif", "mp4")
MAX_FRAMES = 300
MAX_DURATION = 60.0

Update = Callable[[int], None]


def pick_frames(values: np.ndarray, n: int) -> np.ndarray:
    """``min(n, len(values))`` of the sorted distinct ``values``, spaced evenly in log of
    their rank (dense at the start), always the first and the last, strictly increasing."""
    u = np.unique(np.asarray(values))
    m = u.size
    n = min(int(n), m)
    if n <= 1:
        return u[-1:] if n == 1 else u[:0]
    idx = np.round(np.geomspace(1, m, n) - 1).astype(np.int64)
    idx[0] = 0
    for i in range(1, n):  # strictly increasing ...
        idx[i] = max(idx[i], idx[i - 1] + 1)
    idx = np.minimum(idx, m - n + np.arange(n))  # ... and ending at the last
    return u[idx]


def _progressive(fig: Figure, run: RunData, x_is_iteration: bool) -> tuple[np.ndarray, Update]:
    """Frames over the recorded iterations for the ``iterates/``, ``coef/``, ``zero/`` and
    ``landing/`` artists of a landscape or trajectories figure."""
    lines = [ln for ax in fig.get_axes() for ln in ax.get_lines() if ln.get_gid()]
    full = {ln: (np.asarray(ln.get_xdata()), np.asarray(ln.get_ydata())) for ln in lines}
    recorded = {lab: np.asarray(run.group(lab).get("iteration", ())) for lab in run.solvers}
    every = np.concatenate([v for v in recorded.values() if v.size] or [np.zeros(1)])
    label = fig.text(0.01, 0.99, "", ha="left", va="top", fontsize="large", weight="bold")
    counts = [t for ax in fig.get_axes() for t in ax.texts
              if (t.get_gid() or "").startswith("landcount/")]

    def update(k: int) -> None:
        for ln, (x, y) in full.items():
            kind, _, rest = ln.get_gid().partition("/")
            if kind == "zero":  # zero/<label>/<iteration>
                ln.set_visible(int(rest.rpartition("/")[2]) <= k)
            elif kind in ("coef", "landing") or x_is_iteration:
                keep = x <= k
                ln.set_data(x[keep], y[keep])
            elif kind == "iterates":
                keep = recorded.get(rest, np.arange(x.size)) <= k
                ln.set_data(x[keep], y[keep])
        for text in counts:  # landcount/<label>/<iteration>: shown once it happened
            text.set_visible(float(text.get_gid().rpartition("/")[2]) <= k)
        label.set_text(f"k = {k}")

    return every, update


def _path_sweep(run: RunData) -> tuple[Figure, np.ndarray, Update]:
    """The paths figure itself (same panels, colours and labels as ``paths.png``),
    revealed from ``alpha_max`` down the grid: each frame draws every curve for the alphas
    at or above the frame's alpha, a cursor there and the count of nonzeros; the names,
    the leave-order numbers and the true coefficients (the final state) appear on the
    last frame only."""
    path = run.group("path")
    if "alphas" not in path or "coefs" not in path:
        raise InputError(f"run {run.path} has no path (objective.alpha is not a grid)")
    fig = build(run, "paths")
    a = np.sort(np.asarray(path["alphas"], dtype=np.float64))[::-1]
    W = np.asarray(path["coefs"], dtype=np.float64)[np.argsort(
        -np.asarray(path["alphas"], dtype=np.float64), kind="stable")]
    p = W.shape[1]
    lines = [ln for ax in fig.get_axes() for ln in ax.get_lines()
             if (ln.get_gid() or "").split("/")[0] in ("path", "compare", "ridge", "entries")]
    full = {ln: (np.asarray(ln.get_xdata(), dtype=np.float64), np.asarray(ln.get_ydata()))
            for ln in lines}
    final = [t for ax in fig.get_axes() for t in ax.texts
             if (t.get_gid() or "").split("/")[0] in ("name", "order")]
    final += [c for ax in fig.get_axes() for c in ax.collections if c.get_gid() == "truth"]
    cursors = [ax.axvline(a[0], color="#d62728", lw=1.4, zorder=7) for ax in fig.get_axes()]
    label = fig.text(0.01, 0.99, "", ha="left", va="top", fontsize="large", weight="bold")

    def update(i: int) -> None:
        k = int(i)
        for ln, (x, y) in full.items():
            keep = x >= a[k] * (1 - 1e-12)
            ln.set_data(x[keep], y[keep])
        for artist in final:
            artist.set_visible(k == len(a) - 1)
        for cur in cursors:
            cur.set_xdata([a[k], a[k]])
        label.set_text(f"α = {a[k]:.3g}: {int((W[k] != 0).sum())} of {p} nonzero")

    return fig, np.arange(len(a)), update


HOLD = 0.25  # the last frame is held this fraction of the frames longer


def without_final_numbers(fig: Figure) -> None:
    """An early frame must not state the end: panel titles keep their first line (the
    solver), legend entries their name before ``:`` (no final counts or iterations)."""
    for ax in fig.get_axes():
        ax.set_title(ax.get_title().split("\n")[0])
    for leg in [*fig.legends, *[a.get_legend() for a in fig.get_axes() if a.get_legend()]]:
        for text in leg.get_texts():
            text.set_text(text.get_text().split(": ")[0])
    for text in fig.texts:
        if (text.get_gid() or "").startswith("landcount/"):
            text.set_visible(False)


def _writer(fmt: str, fps: float) -> animation.AbstractMovieWriter:
    if fmt == "gif":
        return animation.PillowWriter(fps=fps)
    if not animation.writers.is_available("ffmpeg"):
        raise InputError("--format mp4 needs ffmpeg, which was not found on PATH; "
                         "install it or use --format gif")
    return animation.FFMpegWriter(fps=fps)


def animate_run(run_dir: str | Path, kind: str, fmt: str = "gif", *, frames: int = 40,
                duration: float = 6.0, dpi: int = 80, out: str | Path | None = None) -> Path:
    """Write the ``kind`` animation of a run to ``out`` (default
    ``<run>/figures/<kind>.<fmt>``) and return its path.

    ``frames`` (2 to 300) is an upper bound: a run with fewer distinct recorded
    iterations (or path points) gets one frame each. ``duration`` is the whole
    animation's length in seconds (at most 60).
    """
    if kind not in ANIMATED:
        raise InputError(f"no animation for {kind!r}; choose from {', '.join(ANIMATED)}")
    if fmt not in MOVIE_FORMATS:
        raise InputError(f"unknown animation format {fmt!r}; choose from gif, mp4")
    if not 2 <= frames <= MAX_FRAMES:
        raise InputError(f"--frames {frames}: choose 2 to {MAX_FRAMES}")
    if not 0 < duration <= MAX_DURATION:
        raise InputError(f"--duration {duration:g}: choose more than 0 and at most "
                         f"{MAX_DURATION:g} seconds")
    run = read_run(run_dir)
    if kind == "paths":
        fig, values, update = _path_sweep(run)
    else:
        fig = build(run, kind)
        if fig is None:
            raise InputError(f"run {run.path} has no data for the {kind!r} figure")
        values, update = _progressive(fig, run, x_is_iteration=kind == "trajectories")
    chosen = list(pick_frames(values, frames))
    if kind != "paths":
        without_final_numbers(fig)
    # hold the last frame (the answer) for about a quarter of the animation
    hold = max(2, round(len(chosen) * HOLD))
    chosen = chosen + [chosen[-1]] * hold
    writer = _writer(fmt, fps=len(chosen) / (duration * (1 + HOLD)))
    canvas = FigureCanvasAgg(fig)
    with style.context():  # lay out once, for the final state; frames do not move it
        update(chosen[-1])
        canvas.draw()
        fig.set_layout_engine("none")
    target = Path(out) if out is not None else run.path / "figures" / f"{kind}.{fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with style.context():
        anim = animation.FuncAnimation(fig, update, frames=list(chosen), blit=False,
                                       repeat=False, cache_frame_data=False)
        anim.save(target, writer=writer, dpi=dpi)
    return target
