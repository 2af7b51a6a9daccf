"""A path run: the configured solver's path on the run's grid, then the comparison path
(ridge on its own longer grid, or the lasso beside an MCP / SCAD path)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..errors import ConvergenceWarning
from ..progress import Phase
from .backend import Local
from .config import Config
from .prepare import Setup
from .record import Log, labels, path_rows, path_summary, solver_options

RIDGE_REACH = 1e3  # the ridge grid reaches this many alpha_max: far enough to shrink


def ridge_grid(alphas: list[float], alpha_max: float) -> list[float]:
    """The ridge path's own grid: from ``RIDGE_REACH * alpha_max`` down to the smallest
    alpha of the run's grid (ridge is nearly unshrunk at ``alpha_max``), log-spaced."""
    top, low = RIDGE_REACH * alpha_max, min(alphas)
    num = min(max(2 * len(alphas), 20), 200)
    return np.geomspace(top, low, num).tolist()


def _path(config: Config, st: Setup, backend: Local, l1_ratio: float, log: Log,
          alphas: list[float] | None = None) -> dict[str, Any]:
    """One path of the configured solver on the grid (:func:`.record.path_rows`);
    ``alphas`` another grid. A comparison path (the ridge path, or the lasso path beside
    an MCP / SCAD one: any l1_ratio other than the objective's, or l1_ratio 1 of a
    non-convex penalty) drops the penalty's mcp / scad shape."""
    s = config.solvers[0]
    kw = solver_options(s, config.objective.fit_intercept, config.seed)
    kw.update(kw.pop("options"))
    kw.update(st.problem(config))
    if alphas is not None:  # a comparison path: the plain L1 / L2 penalty
        kw.update(penalty=None, gamma=None)
    alphas = st.alphas if alphas is None else alphas
    if kw["check_every"] is None:
        kw.pop("check_every")
    with Phase(f"path {s.kind} (l1_ratio {l1_ratio:g})", len(alphas), log=log,
               unit="alpha", tty=None if backend.rank == 0 else False) as phase:
        rows = path_rows(backend.path(st.X, st.y, alphas, l1_ratio, **kw))
        phase.update(len(rows["alphas"]))
    unconverged = sum(x not in ("converged", "interrupted") for x in rows["status"])
    if unconverged and backend.rank == 0:
        warnings.warn(f"{s.kind} path (l1_ratio {l1_ratio:g}): {unconverged} of "
                      f"{len(rows['alphas'])} points did not converge; worst relative gap "
                      f"{max(rows['gaps']):.3e} (tol {s.tol:.1e})", ConvergenceWarning,
                      stacklevel=2)
    return rows


def run_path(config: Config, st: Setup, backend: Local, log: Log) -> list[str]:
    """Path mode: the configured objective, then the lasso on the same grid (beside an
    MCP / SCAD path) or ridge on its own longer grid (:func:`ridge_grid`)."""
    s, label = config.solvers[0], labels(config.solvers)[0]
    l1_ratio = float(config.objective.l1_ratio)
    log(f"path: {len(st.alphas)} alphas with {s.kind} (l1_ratio {l1_ratio:g}), then ridge")
    main = _path(config, st, backend, l1_ratio, log)
    group = {"alphas": main["alphas"], "coefs": main["coefs"], "gaps": main["gaps"],
             "n_iters": main["n_iter"], "alpha_max": np.asarray(st.alpha_max)}
    st.traces["path"] = group
    statuses = list(main["status"])
    nonconvex = config.objective.kind in ("mcp", "scad")
    if statuses and statuses[-1] != "interrupted" and nonconvex:  # the lasso beside it
        lasso = _path(config, st, backend, 1.0, log, alphas=st.alphas)
        group["lasso_coefs"], group["lasso_gaps"] = lasso["coefs"], lasso["gaps"]
        statuses += [x for x in lasso["status"] if x == "interrupted"]
    elif statuses and statuses[-1] != "interrupted":  # ridge, on its own longer grid
        ridge = _path(config, st, backend, 0.0, log, alphas=ridge_grid(st.alphas,
                                                                        st.alpha_max))
        group["ridge_coefs"], group["ridge_gaps"] = ridge["coefs"], ridge["gaps"]
        group["ridge_alphas"] = ridge["alphas"]
        statuses += [x for x in ridge["status"] if x == "interrupted"]
    st.metrics["solvers"][label] = path_summary(
        s.kind, s.lr, main, "kkt" if config.objective.kind in ("mcp", "scad") else "duality gap")
    return [x for x in statuses if x in ("interrupted", "diverged", "failed")]


# --- one run -------------------------------------------------------------------------------
