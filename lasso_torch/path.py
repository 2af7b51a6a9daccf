r"""Regularization paths: the solutions for a grid of ``K`` values of ``alpha``, one function.

:func:`lasso_path` builds one datafit and runs the registry's engines in the one loop
(:func:`lasso_torch.solvers.run_loop`), with one of two strategies, every alpha certified
by its duality gap:

* ``"warm"``: a warm-started sequence, ``alpha_max`` downwards, each alpha solved by the
  solver ``solver`` (default ``ws``) from the previous solution, sharing the datafit (its
  Lipschitz constant, Gram blocks) along the path; ``cd`` and ``anderson_cd`` run the
  whole grid as one compiled call per alpha on the Gram matrix where it applies
  (:mod:`lasso_torch.solvers.cd_path`, ``SolverSpec.path``), with CV folds' Gram
  matrices from the held-out blocks;
* ``"batched"``: all ``K`` problems at once in a ``(p, K)`` iterate of a batched solver
  (FISTA): one step is one pair of GEMMs (``X W`` and ``X^T R``), or one Gram GEMM when
  ``n >> p``. Converged columns retire (the GEMMs narrow as the path converges), gap-safe
  screening zeroes per column the features provably 0 and drops those screened in every
  column. Columns still open after ``handoff`` steps (small alphas, where first-order
  steps crawl) are finished by ``finish`` (``ws``), warm-started from the next larger
  alpha's solution.

Sample masks (``masks``: an ``(n, F)`` 0/1 tensor, e.g. CV folds) are row weights of the
datafit: ``F`` problems each with its own ``n``, means and intercept, solved in the same
batch (``F * K`` columns); results then have a leading fold axis: ``coefs (F, p, K)``.
``distributed=True``: the same code with the row-sharded datafit.
"""

from __future__ import annotations

import functools
import time
import warnings
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .certificates import final_certificate
from .checks import as_data, check_alphas, check_l1_ratio, check_sample_weight, widen_half
from .datafits import Quadratic
from .differentiable import differentiable_path
from .errors import ConvergenceWarning, InputError
from .multinomial_path import multinomial_path
from .path_result import PathResult
from .path_strategies import run_strategy
from .precision import centered_copy
from .problem import alpha_max as problem_alpha_max
from .problem import build_penalty, loss_name, make_datafit
from .solvers import get_solver
from .solvers.auto import choose_path, small_on_one_thread
from .solvers.loop import certified_status


def grid(alpha_max: float, n_alphas: int = 100, eps: float = 1e-3,
         like: Tensor | None = None) -> Tensor:
    """``n_alphas`` values geometrically spaced from ``alpha_max`` down to ``eps * alpha_max``
    (the package's one grid; ``alpha_max`` ~ 0 gives scikit-learn's grid of tiny values)."""
    if not (isinstance(n_alphas, int) and n_alphas >= 1):
        raise InputError(f"n_alphas must be an integer >= 1, got {n_alphas!r}")
    if not (isinstance(eps, (int, float)) and 0 < eps <= 1):
        raise InputError(f"eps must be in (0, 1], got {eps!r}")
    tiny = float(torch.finfo(torch.float64).resolution)
    if not alpha_max > tiny:  # y constant or uncorrelated: scikit-learn's grid of tiny values
        out = torch.full((n_alphas,), tiny, dtype=torch.float64)
    else:  # numpy's geomspace, as scikit-learn's _alpha_grid: the same floats
        out = torch.from_numpy(np.geomspace(float(alpha_max), float(alpha_max) * eps, n_alphas))
    return out if like is None else out.to(dtype=like.dtype, device=like.device)


def alpha_grid(X: Tensor, y: Tensor, n_alphas: int = 100, eps: float = 1e-3,
               l1_ratio: float = 1.0, fit_intercept: bool = True,
               sample_weight: Tensor | None = None) -> Tensor:
    """The one alpha grid: :func:`grid` from ``alpha_max = ||X_c^T S y_c||_inf / (n l1_ratio)``."""
    if l1_ratio <= 0:
        raise InputError("an automatic alpha grid needs l1_ratio > 0; pass alphas= for ridge")
    df = Quadratic(X, y, fit_intercept, gram=False, row_weights=sample_weight)
    return grid(float(df.Xty.abs().amax()) / l1_ratio, n_alphas, eps, like=X)


@differentiable_path  # inputs that require grad: lasso_torch.differentiable
@small_on_one_thread
def lasso_path(
    X: Tensor | np.ndarray,
    y: Tensor | np.ndarray,
    alphas: Tensor | np.ndarray | list[float] | None = None,
    n_alphas: int = 100,
    eps: float = 1e-3,
    l1_ratio: float = 1.0,
    tol: float = 1e-6,
    batched: bool | None = None,
    fit_intercept: bool = True,
    *,
    strategy: str = "auto",
    solver: str | None = None,
    masks: Tensor | np.ndarray | None = None,
    sample_weight: Tensor | np.ndarray | None = None,
    max_iter: int = 20_000,
    distributed: bool = False,
    catch_interrupt: bool = False,
    loss: Any = None, penalty: Any = None, weights: Any = None, positive: bool = False,
    bounds: Any = None, gamma: float | None = None, delta: float | None = None,
    groups: Any = None, warn: bool = True,
    **kwargs: Any,
) -> PathResult:
    """The regularization path of the Lasso (elastic net with ``l1_ratio < 1``).

    ``loss``, ``penalty``, ``weights``, ``positive``, ``bounds``, ``gamma``, ``delta``,
    ``groups``: the problem, as in :func:`lasso_torch.solve` (the grid's ``alpha_max``
    honours them). ``strategy="auto"`` runs a loss other than the squared one, or a group
    penalty, as the warm sequence of the compiled ``prox_newton`` (warm starts, one host
    copy of ``X`` for the whole grid). ``loss="multinomial"`` (``penalty`` ``"l1"`` or
    ``"grouped"``): :func:`lasso_torch.multinomial_path.multinomial_path`, the result with
    a class axis (``coefs (p, K, A)``, ``intercepts (K, A)``); no masks there.

    Args:
        X, y: data ``(n, p)``, ``(n,)``; results follow ``X``'s device and dtype. With
            ``distributed``, this rank's rows inside an initialized process group.
        alphas: the grid (sorted descending); default :func:`alpha_grid`.
        l1_ratio: scikit-learn's ElasticNet convention (1: Lasso).
        tol: every alpha is solved to relative duality gap ``<= tol``.
        strategy: ``"auto"`` (on the CPU the warm sequence of the compiled CD path when
            ``n >= p``, of ``ws`` when ``n < p``; the batched FISTA path on a GPU, sharded
            rows or a sparse X: :func:`lasso_torch.solvers.auto.choose_path`),
            ``"batched"`` or ``"warm"`` (see the module docstring); ``batched``
            (True/False) is the older spelling of the same choice.
        solver: the solver of the warm sequence (default ``ws``; ``fista`` sharded) or
            of the batch (a batched solver, default ``fista``).
        masks: ``(n, F)`` 0/1 row masks: ``F`` subsets solved together.
        sample_weight: ``(n,)`` row weights.
        warn: one ``ConvergenceWarning`` (as :func:`lasso_torch.solve` gives) when points
            stopped at ``max_iter``, stalled or diverged, whatever the strategy.
        catch_interrupt: on Ctrl-C / SIGTERM return the alphas solved so far; the others
            have status ``interrupted`` (NaN gaps).
        kwargs: ``check_every``, ``screening``, ``stall_patience``, ``max_time``,
            ``finish``, ``handoff``, ``gram``, ``record_every`` (batched), or the solver's
            own options.
    """
    if batched is not None:
        strategy = "batched" if batched else "warm"
    if loss == "multinomial":  # coefs (p, K, A): lasso_torch.multinomial_path
        return _warn_unconverged(multinomial_path(
            X, y, alphas, l1_ratio, tol, fit_intercept, penalty=penalty,
            sample_weight=sample_weight, max_iter=max_iter, solver=solver,
            catch_interrupt=catch_interrupt, masks=masks, strategy=strategy,
            distributed=distributed, make_grid=functools.partial(grid, n_alphas=n_alphas,
                                                                 eps=eps)), tol, warn)
    if strategy not in ("auto", "batched", "warm"):
        raise InputError(f"strategy must be 'auto', 'batched' or 'warm', got {strategy!r}")
    l1_ratio = check_l1_ratio(l1_ratio)
    if distributed:
        if masks is not None:
            raise InputError("masks are not supported with distributed=True")
        from .distributed.datafit import ShardedQuadratic, sharded_data

        spec = get_solver(solver or "fista")
        grid_opts = (None if alphas is None else torch.as_tensor(alphas).tolist(), l1_ratio,
                     n_alphas, eps, tol, max_iter, fit_intercept, strategy)
        X, y = sharded_data(X, y, spec, grid_opts)
        make = ShardedQuadratic
    else:
        X, y = as_data(*widen_half(X, y)[:2])
        make = functools.partial(make_datafit, loss, delta=delta)
    prob = {"penalty": penalty, "weights": weights, "positive": positive, "bounds": bounds,
            "gamma": gamma, "groups": groups}
    pen = functools.partial(build_penalty, l1_ratio=l1_ratio, p=X.shape[1], like=X, **prob)
    objective = {**prob, "loss": loss, "delta": delta}
    s = check_sample_weight(sample_weight, X)
    problem = (X, y)  # what the final certificates read
    if not distributed:  # large means centered once where the dtype would lose them
        X, y = centered_copy(X, y, s, fit_intercept, loss_name(loss) in ("squared", "huber"))
    M = None if masks is None else _check_masks(masks, X)
    gram = kwargs.pop("gram", "auto")
    if alphas is None:
        if l1_ratio <= 0 and groups is None:
            raise InputError("an automatic alpha grid needs l1_ratio > 0; pass alphas= for ridge")
        amax = problem_alpha_max(make(X, y, fit_intercept, gram=False, row_weights=s), pen(1.0))
        alphas = grid(amax, n_alphas, eps, like=X)
    else:
        alphas = check_alphas(alphas, X)
    if strategy == "auto":  # lasso_torch.solvers.auto's rule for paths
        strategy, chosen = choose_path(X, distributed)
        if loss_name(loss) != "squared" or groups is not None:  # compiled prox-Newton, warm
            strategy, chosen = "warm", "prox_newton"
        solver = solver or chosen
    t0 = time.perf_counter()
    res = run_strategy(strategy, make, X, y, alphas, l1_ratio, tol, max_iter, fit_intercept,
                       M, s, gram, solver, distributed, catch_interrupt,
                       {**kwargs, "pen": pen, "objective": objective, "loss": loss})
    if X.dtype != problem[0].dtype:  # widened by centered_copy: the answer in the data's
        res.coefs, res.intercepts, res.gaps = (t.to(problem[0].dtype) for t in (  # dtype
            res.coefs, res.intercepts, res.gaps))
    certify_path(res, *problem, make(*problem, fit_intercept, gram=False, row_weights=s),
                 pen(alphas), M, s, fit_intercept, tol, distributed)
    res.time = time.perf_counter() - t0
    _warn_unconverged(res, tol, warn)
    return _squeeze(res) if masks is None else res


def certify_path(res: PathResult, X: Tensor, y: Tensor, datafit: Any, penalty: Any,
                 M: Tensor | None, s: Tensor | None, fit_intercept: bool, tol: float,
                 distributed: bool = False) -> None:
    """Every alpha's final certificate (:func:`lasso_torch.certificates.final_certificate`,
    float64, from the returned coefficients), one batch per fold: the gaps, intercepts and
    statuses of ``res`` replaced by the certified ones (interrupted alphas keep NaN)."""
    for f in range(res.coefs.shape[0]):
        w = s if M is None else (M[:, f] if s is None else M[:, f] * s)
        final = final_certificate(X, y, res.coefs[f], penalty, datafit, sample_weight=w,
                                  fit_intercept=fit_intercept,
                                  reduce=datafit.reduce if distributed else None,
                                  intercept_start=res.intercepts[f])
        done = res.status[f] != "interrupted"
        res.status[f] = certified_status(res.status[f], final, tol)
        keep = torch.as_tensor(done, device=res.gaps.device)
        res.gaps[f] = torch.where(keep, final.cert.rel_gap.to(res.gaps), res.gaps[f])
        res.intercepts[f] = torch.where(keep, final.intercept.to(res.intercepts),
                                        res.intercepts[f])
    res.converged = torch.as_tensor(res.status == "converged")


def _warn_unconverged(res: PathResult, tol: float, warn: bool = True) -> PathResult:
    """One ConvergenceWarning (when ``warn``), as :func:`lasso_torch.solve` gives, when
    some points of the path stopped at max_iter, stalled or diverged (every strategy);
    returns ``res``."""
    status = [str(x) for x in np.asarray(res.status).reshape(-1)]
    bad = [x for x in status if x in ("max_iter", "diverged", "stalled")]
    if bad and warn:
        worst = float(torch.as_tensor(res.gaps).double().nan_to_num(float("inf")).max())
        kinds = ", ".join(f"{bad.count(k)} {k}" for k in ("max_iter", "stalled", "diverged")
                          if k in bad)
        warnings.warn(f"lasso_path: {len(bad)} of {len(status)} points did not converge "
                      f"({kinds}); worst relative gap {worst:.3e} (tol {tol:.1e}; certified "
                      "in float64)",
                      ConvergenceWarning, stacklevel=4)  # the caller of lasso_path
    return res


def _check_masks(masks: Any, X: Tensor) -> Tensor:
    M = torch.as_tensor(masks).to(dtype=X.dtype, device=X.device)
    n = X.shape[0]
    if M.dim() != 2 or M.shape[0] != n:
        raise InputError(f"masks must have shape (n, F) = ({n}, F), got {tuple(M.shape)}")
    if not bool(((M == 0) | (M == 1)).all()):
        raise InputError("masks must hold only 0 and 1")
    if bool((M.sum(0) < 1).any()):
        raise InputError("every mask must select at least one row")
    return M


def _squeeze(res: PathResult) -> PathResult:
    for name in ("coefs", "intercepts", "gaps", "n_iters", "converged", "status"):
        setattr(res, name, getattr(res, name)[0])
    return res
