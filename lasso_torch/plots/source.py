"""The thin layer between a run folder and the figure functions.

It loads a run folder with the run store (``metrics.json`` and ``traces.npz``, whose
groups are the solver labels, ``reference``, ``path``, ``problem`` and ``geometry``),
decides which figure families a run has data for, and calls the pure figure functions
with plain arrays. Nothing here solves.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.figure import Figure

from . import style
from .bands import band
from .convergence import convergence_figure, series_from_traces
from .cv import cv_figure
from .geometry import geometry_figure
from .landscape import landscape_figure
from .paths import path_figure
from .runinfo import (  # noqa: F401 (re-exported: plots.source.read_run, describe)
    RunData,
    base_step,
    describe,
    feature_names,
    objective_name,
    penalty_kind,
    read_run,
    run_loss,
    run_objective,
)
from .sparsity import sparsity_figure
from .thresholding import partial_residual_points, thresholding_figure
from .trajectories import trajectory_figure

FAMILIES = ("trajectories", "convergence", "sparsity", "paths", "geometry", "landscape",
            "thresholding", "cv")


def _solver_traces(run: RunData, field_name: str) -> dict[str, dict[str, np.ndarray]]:
    return {lab: run.group(lab) for lab in run.solvers
            if np.size(run.group(lab).get(field_name, ())) > 0}


def _trajectories(run: RunData) -> Figure | None:
    traces = _solver_traces(run, "coef")
    if not traces:
        return None
    ref = run.group("reference").get("coef")
    zeros = {lab: info.get("n_zeros") for lab, info in run.solvers.items()}
    p = run.problem.get("p", len(ref) if ref is not None else None)
    bands = {}
    for lab in list(traces):
        b = band(run.traces, lab, "coef")
        if b is not None:  # repeats: the median trajectory, quartile bands
            traces[lab] = {**traces[lab], "iteration": b["iteration"], "coef": b["median"]}
            bands[lab] = (b["q1"], b["q3"], b["n"])
    return trajectory_figure(traces, run.solvers, ref, n_features=p, final_zeros=zeros,
                             title=describe(run), spread=bands)


def _convergence(run: RunData) -> Figure | None:
    if not _solver_traces(run, "gap"):
        return None
    p_star = run.metrics.get("reference", {}).get("objective")
    series = series_from_traces(run.traces, run.solvers, p_star)
    kkt = any(info.get("certificate") == "kkt" for info in run.solvers.values())
    return convergence_figure(series, title=f"Convergence — {describe(run)}",
                              tol=solver_tolerances(run),
                              certificate="KKT violation (no duality gap)" if kkt else None)


def solver_tolerances(run: RunData) -> dict[str, float]:
    """``solver label -> tol`` from the run's config (its solvers in the metrics' order)."""
    configured = run.config.get("solvers") or []
    return {lab: float(s["tol"]) for lab, s in zip(run.solvers, configured, strict=False)
            if isinstance(s, dict) and s.get("tol") is not None}


def _sparsity(run: RunData) -> Figure | None:
    traces = _solver_traces(run, "n_zeros")
    if not traces:
        return None
    p = run.problem.get("p")
    if p is None:
        ref_coef = run.group("reference").get("coef")
        p = len(ref_coef) if ref_coef is not None else max(int(t["n_zeros"].max())
                                                           for t in traces.values())
    ref = run.metrics.get("reference", {}).get("n_zeros")
    solvers = {lab: info for lab, info in run.solvers.items() if lab in traces}
    fig = sparsity_figure(run.traces, solvers, n_features=int(p), reference_zeros=ref)
    style.suptitle(fig, describe(run))
    return fig


def _paths(run: RunData) -> Figure | None:
    path = run.group("path")
    if "alphas" not in path or "coefs" not in path:
        return None
    amax = path.get("alpha_max", run.problem.get("alpha_max"))
    p = int(np.shape(path["coefs"])[1])
    compare = ("Lasso (L1), same α grid", path["lasso_coefs"]) if "lasso_coefs" in path \
        else None
    truth = run.group("problem").get("beta_true")
    fig = path_figure(path["alphas"], path["coefs"], path.get("ridge_coefs"), float(amax),
                      l1_ratio=float(run.problem.get("l1_ratio", 1.0)),
                      feature_names=feature_names(run, p), objective=run_objective(run),
                      ridge_alphas=path.get("ridge_alphas"), compare=compare,
                      beta_true=truth if truth is not None and len(truth) == p else None)
    style.suptitle(fig, describe(run))
    return fig


def _geometry(run: RunData) -> Figure | None:
    """Lasso runs only: the stored solution is the configured objective's, and only the
    lasso's is the L1-ball-constrained solution the figure explains."""
    if float(run.problem.get("l1_ratio", 1.0)) != 1.0:
        return None
    geo, pb = run.group("geometry"), run.group("problem")
    need = ("ols", "lasso", "ridge", "t")
    if not all(k in geo for k in need) or not all(k in pb for k in ("gram", "xty", "yty")):
        return None
    fig = geometry_figure(pb["gram"], pb["xty"], float(pb["yty"]), geo["ols"], geo["lasso"],
                          geo["ridge"], float(geo["t"]))
    style.suptitle(fig, describe(run))
    return fig


def _landscape(run: RunData) -> Figure | None:
    """Runs with p = 2 that stored the Gram moments and recorded both coefficients."""
    pb, ref = run.group("problem"), run.group("reference").get("coef")
    traces = {lab: tr for lab, tr in _solver_traces(run, "coef").items()
              if np.shape(tr["coef"])[-1:] == (2,)}
    if ref is None or len(ref) != 2 or not traces or not all(
            k in pb for k in ("gram", "xty", "yty")):
        return None
    ols = run.group("geometry").get("ols")
    if ols is None:
        ols = np.linalg.lstsq(pb["gram"], pb["xty"], rcond=None)[0]
    alpha = run.problem.get("alpha") or 0.0
    return landscape_figure(pb["gram"], pb["xty"], float(pb["yty"]), ols, ref, traces,
                            run.solvers, title=describe(run), alpha=float(alpha),
                            l1_ratio=float(run.problem.get("l1_ratio", 1.0)))


def _thresholding(run: RunData) -> Figure | None:
    """The threshold at the run's alpha with the solution's points (when the run stored the
    Gram moments; a note says so when it did not). A path run uses the grid point with
    about half the features at 0.0, where the zero zone has points on both sides (the
    title says so); other runs their reference solution."""
    rho = float(run.problem.get("l1_ratio", 1.0))
    if not rho > 0:
        return None
    pb, path = run.group("problem"), run.group("path")
    alpha = (run.metrics.get("reference") or {}).get("alpha", run.problem.get("alpha"))
    coef = run.group("reference").get("coef")
    title, kind, loss = None, penalty_kind(run), run_loss(run)
    gamma = (run.config.get("objective") or {}).get("gamma") or 3.0
    rule = f"Firm thresholding (MCP, γ = {gamma:g})" if kind == "mcp" else (
        "SCAD thresholding" if kind == "scad" else "Soft thresholding")
    if "coefs" in path and "alphas" in path and len(path["alphas"]):
        zeros = (path["coefs"] == 0.0).sum(1)
        k = int(np.argmin(np.abs(zeros - path["coefs"].shape[1] / 2)))
        alpha, coef = float(path["alphas"][k]), path["coefs"][k]
        amax = run.problem.get("alpha_max")
        rel = f" = {alpha / amax:.3g} α_max" if amax else ""
        title = (f"{rule} at one point of the path: α = {alpha:.3g}{rel},\n"
                 f"the grid point with {int(zeros[k])} of {len(coef)} coefficients at 0.0")
    elif loss != "squared":
        title = (f"{rule}: the prox of the penalty, applied after each gradient step\n"
                 f"of the {loss} loss (ISTA / FISTA), λ = α = {alpha:.3g}")
    elif kind in ("mcp", "scad"):
        title = f"{rule} vs soft thresholding, λ = α = {alpha:.3g}"
    if alpha is None or not alpha > 0:
        return None
    points, label, note = None, "solution", None
    if coef is not None and "gram" in pb and "xty" in pb and len(coef) == len(pb["xty"]):
        points = partial_residual_points(pb["gram"], pb["xty"], coef, float(alpha), rho)
        if rho < 1:
            label = "solution, scaled by $(\\|x_j\\|^2/n + α(1-ρ))$"
        elif kind == "mcp":
            label = "MCP solution (on the firm curve)"
    elif coef is not None:
        why = (f"the {loss} loss has no partial residual" if loss != "squared" else
               "the run stored no Gram moments (squared loss, p <= 50 only)")
        note = f"the solution's {len(coef)} points are not drawn: {why}"
    fig = thresholding_figure(float(alpha) * rho, points=points, points_label=label,
                              note=note, title=title,
                              gamma=float(gamma) if kind == "mcp" else 3.0)
    style.suptitle(fig, describe(run))
    return fig


def _cv(run: RunData) -> Figure | None:
    """The cross-validation curve of a run whose alpha was chosen by ``objective.cv: K``."""
    cv = run.group("cv")
    if "alphas" not in cv or "mse_path" not in cv:
        return None
    fig = cv_figure(cv["alphas"], cv["mse_path"], float(cv["alpha"]),
                    n_nonzero=cv.get("n_nonzero"),
                    title=f"{run_objective(run)}: {np.shape(cv['mse_path'])[1]}-fold "
                    "cross-validation")
    style.suptitle(fig, describe(run), fontsize=9)
    return fig


BUILDERS: dict[str, Callable[[RunData], Figure | None]] = {
    "trajectories": _trajectories,
    "convergence": _convergence,
    "sparsity": _sparsity,
    "paths": _paths,
    "geometry": _geometry,
    "landscape": _landscape,
    "thresholding": _thresholding,
    "cv": _cv,
}


def build(run: RunData, kind: str) -> Figure | None:
    """The ``kind`` figure of ``run``, or ``None`` when the run has no data for it."""
    return BUILDERS[kind](run)
