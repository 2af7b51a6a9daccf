"""What a run needs before its first solve, built before any file is written: the data
(through the backend), alpha (a number, a fraction of alpha_max, a grid, or chosen by
cross-validation), and every solver checked. Every user error of a run raises here."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..cv import cross_validate, one_se_rule
from ..errors import ConvergenceWarning, InputError
from ..path import lasso_path
from ..progress import Phase
from ..solve import solve
from ..solvers import get_solver
from .backend import Local, describe_data
from .config import AlphaTune, Config, resolve_alphas
from .record import Log, quiet, record_coef, solver_options
from .resources import SLOW_BYTES, check_memory, gb
from .rows import column_names


@dataclass
class Setup:
    """Everything a run needs before its first solve (built before any file is written)."""

    X64: Tensor  # float64 on the backend's device: the reference and the statistics
    y64: Tensor
    X: Tensor  # the solvers' copy: the config's dtype and device
    y: Tensor
    alphas: list[float]
    alpha_max: float
    beta_true: Tensor | None
    metrics: dict[str, Any]
    traces: dict[str, dict[str, np.ndarray]]
    reference: Tensor | None = field(default=None)
    sample_weight: Tensor | None = field(default=None)  # data.sample_weight, float64 (n,)
    weights: list[float] | None = field(default=None)  # tuned per-feature alphas / alpha
    repeat_setups: dict[int, Setup] = field(default_factory=dict)  # repeat_data: per repeat

    def problem(self, config: Config) -> dict[str, Any]:
        """``lt.solve`` / ``lt.lasso_path``'s problem options of this run: the objective's
        (:meth:`ObjectiveConfig.problem_options`) and the data's ``sample_weight``."""
        opts = {**config.objective.problem_options(), "sample_weight": self.sample_weight}
        return opts if self.weights is None else {**opts, "weights": self.weights}


def alpha_max_error(amax: float) -> InputError:
    """Why there is no alpha to fit: an overflow, or a constant / uncorrelated y."""
    if not math.isfinite(amax):
        return InputError(f"alpha_max of the data is {amax:g}: X^T y / n overflows; rescale "
                          "the data (objective.standardize: true scales X)")
    return InputError(f"alpha_max of the data is {amax:g} (y is constant or uncorrelated "
                      "with X): there is nothing to fit")


def check_solvers(config: Config) -> None:
    """Build every optimizer-family solver once, one step on a tiny problem, so that one
    that refuses its options (a bad value, a wrong type) fails before a run is started."""
    X = torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    for i, s in enumerate(config.solvers):
        if get_solver(s.kind).family != "optimizer":
            continue
        kw = {**solver_options(s, False, config.seed), "max_iter": 1, "check_every": 1}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                solve(X, y, 0.1, float(config.objective.l1_ratio), warn=False, **kw)
            except InputError as e:
                raise InputError(f"solvers.{i} ({s.kind}): {e}") from None
            except Exception:  # noqa: BLE001 (a user's optimizer that raises: the run
                pass  # records it as failed, with its error, and runs the other solvers)


def setup(config: Config, backend: Local, log: Log = quiet) -> Setup:
    """Load the data, resolve alpha, check the solvers; user errors raise here."""
    torch.manual_seed(config.seed)
    backend.check(config)
    check_solvers(config)
    need = check_memory(config, backend.world)  # refused before anything is allocated
    if need is not None and need > SLOW_BYTES:  # minutes of generating or reading: say so
        with Phase(f"data ({describe_data(config)}, about {gb(need)} in memory)", log=log):
            pb = backend.load(config)
    else:
        pb = backend.load(config)
    obj = config.objective
    l1_ratio = float(obj.l1_ratio)
    if not (math.isfinite(pb.alpha_max) and pb.alpha_max > 0):
        raise alpha_max_error(pb.alpha_max)
    alphas = resolve_alphas(obj, pb.alpha_max)
    p = pb.X.shape[1]
    for i, s in enumerate(config.solvers):
        if isinstance(s.record_coef, list):
            record_coef(s, f"solvers.{i}", p, torch.zeros(p))
    metrics: dict[str, Any] = {
        "problem": {"n": pb.n, "p": p, "alpha": None if obj.is_path else alphas[0],
                    "alphas": alphas if obj.is_path else None, "alpha_max": pb.alpha_max,
                    "l1_ratio": l1_ratio, "kind": obj.kind, "fit_intercept": obj.fit_intercept,
                    "standardize": obj.standardize, "data": config.data.kind,
                    "loss": obj.loss, "gamma": obj.gamma,
                    "feature_names": column_names(config, p),
                    **{k: v for k, v in backend.meta().items() if k == "world_size"}},
        "solvers": {},
    }
    traces: dict[str, dict[str, np.ndarray]] = {}
    if pb.arrays is not None:
        traces["problem"] = dict(pb.arrays)
    if pb.beta_true is not None:
        traces.setdefault("problem", {})["beta_true"] = pb.beta_true.numpy()
    if pb.sample_weight is not None:  # the weights as read (the run is self-contained)
        sw = pb.sample_weight
        traces.setdefault("problem", {})["sample_weight"] = sw.numpy()
        metrics["problem"]["sample_weight"] = {
            "sum": float(sw.sum()), "min": float(sw.min()), "max": float(sw.max()),
            "zeros": int((sw == 0).sum())}
    X = pb.X.to(device=backend.device, dtype=getattr(torch, config.dtype))
    y = pb.y.to(device=backend.device, dtype=getattr(torch, config.dtype))
    if obj.cv is not None:  # the schema keeps cv local
        alpha, traces["cv"], metrics["problem"]["cv"] = cross_validated_alpha(
            obj.cv, l1_ratio, obj.fit_intercept, config.seed, X, y, alphas, log=log,
            sample_weight=pb.sample_weight)
        alphas = [alpha]
        metrics["problem"]["alpha"] = alpha
    weights = None
    if isinstance(obj.alpha, AlphaTune):
        alpha, weights, traces["tune"], metrics["problem"]["tune"] = tuned_alpha(
            obj, config.seed, X, y, alphas[0], log, pb.sample_weight)
        alphas = [alpha]
        metrics["problem"]["alpha"] = alpha
    return Setup(pb.X, pb.y, X, y, alphas, pb.alpha_max, pb.beta_true, metrics, traces,
                 sample_weight=pb.sample_weight, weights=weights)


def tuned_alpha(obj: Any, seed: int, X: Tensor, y: Tensor, start: float, log: Log = quiet,
                sample_weight: Tensor | None = None
                ) -> tuple[float, list[float] | None, dict[str, np.ndarray], dict[str, Any]]:
    """``alpha: {tune: hypergradient}``: :func:`lasso_torch.tune` from ``start``. Returns
    alpha, the per-feature weights (``per_feature``: ``alpha_j / max alpha``), the ``tune``
    trace group (the alpha iterates, criterion, gradient norm, inner tol per outer step)
    and its summary for ``metrics["problem"]["tune"]``."""
    from ..tune import tune

    t = obj.alpha
    if sample_weight is not None:
        raise InputError("objective.alpha: {tune: hypergradient} does not take "
                         "data.sample_weight yet")
    with Phase(f"hypergradient tuning ({t.criterion}, "
               f"{'per feature' if t.per_feature else 'one alpha'})", log=log):
        res = tune(X, y, weights="per_feature" if t.per_feature else "single",
                   criterion=t.criterion, n_folds=t.folds, val_fraction=t.val_fraction,
                   alpha0=start, max_iter=t.max_iter, seed=seed,
                   l1_ratio=float(obj.l1_ratio), fit_intercept=obj.fit_intercept)
    a = res.alpha
    alpha, weights = (float(a.max()), (a / a.max()).tolist()) if t.per_feature else (a, None)
    group = {"alphas": res.alphas, "criterion": res.criteria, "grad_norm": res.grad_norms,
             "inner_tol": res.inner_tols}
    summary_ = {"criterion": t.criterion, "per_feature": t.per_feature, "alpha": alpha,
                "value": res.criterion_value, "grad_norm": float(res.grad_norms[-1]),
                "n_iter": res.n_iter, "n_solves": res.n_solves, "status": res.status,
                "time": res.time}
    return alpha, weights, group, summary_


def cross_validated_alpha(folds: int, l1_ratio: float, fit_intercept: bool, seed: int,
                          X: Tensor, y: Tensor, grid: list[float], tol: float = 1e-6,
                          log: Log = quiet, sample_weight: Tensor | None = None
                          ) -> tuple[float, dict[str, np.ndarray], dict[str, Any]]:
    """``objective.cv: K``: K-fold cross-validation on ``grid`` (all folds x all alphas in
    one batched path, folds shuffled by ``seed``; rows weighted by ``sample_weight``, in the
    fits and the held-out MSE). Returns the chosen alpha, the ``cv`` trace group
    (``alphas``, ``mse_path`` (K, folds), ``alpha``, ``gaps``, ``alpha_1se``: the 1-SE
    rule's, ``n_nonzero``: the nonzero count of the path on all the data) and its summary for
    ``metrics["problem"]["cv"]`` (with ``alpha_1se`` and the standard error ``mse_se``)."""
    with Phase(f"cross-validation: {folds} folds x {len(grid)} alphas", log=log):
        res = cross_validate(X, y, grid, l1_ratio, n_folds=folds, seed=seed,
                             fit_intercept=fit_intercept, tol=tol, sample_weight=sample_weight)
    if not res.converged:
        warnings.warn(f"cross-validation paths: worst relative gap {res.gaps.max():.3e} > "
                      f"tol {tol:.1e}", ConvergenceWarning, stacklevel=2)
    _, i_1se, se = one_se_rule(res.alphas, res.mse_path)
    full = lasso_path(X, y, res.alphas.tolist(), l1_ratio=l1_ratio, tol=tol,
                      fit_intercept=fit_intercept, sample_weight=sample_weight)
    group = {"alphas": res.alphas, "mse_path": res.mse_path, "alpha": np.asarray(res.alpha),
             "gaps": res.gaps, "alpha_1se": np.asarray(res.alphas[i_1se]),
             "n_nonzero": (full.coefs != 0).sum(0).cpu().numpy().astype(np.int64)}
    summary_ = {"folds": folds, "num": len(grid), "alpha": res.alpha, "index": res.index,
                "mse": float(res.mse_mean[res.index]), "mse_se": float(se[res.index]),
                "alpha_1se": float(res.alphas[i_1se]), "index_1se": i_1se,
                "mse_1se": float(res.mse_mean[i_1se]), "converged": res.converged,
                "time": res.time}
    return res.alpha, group, summary_


__all__ = ["Setup", "alpha_max_error", "check_solvers", "cross_validated_alpha", "setup",
           "tuned_alpha"]
