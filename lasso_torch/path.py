r"""Regularization paths: the solutions for a grid of ``K`` values of ``alpha``, one function.

:func:`lasso_path` builds one datafit and runs the registry's engines in the one loop
(:func:`lasso_torch.solvers.run_loop`), with one of two strategies, every alpha certified
by its duality gap:

* ``"warm"``: a warm-started sequence, ``alpha_max`` downwards, each alpha solved by the
  solver ``solver`` (default ``ws``) from the previous solution, sharing the datafit (its
  Lipschitz constant, Gram blocks) along the path;
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

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .checks import as_data, check_alphas, check_l1_ratio, check_sample_weight
from .datafits import Quadratic
from .errors import InputError
from .penalties import make_penalty
from .solvers import get_solver, run_loop
from .solvers.registry import SolverSpec
from .sparse import is_sparse, select


@dataclass
class PathResult:
    """Solutions along a grid of ``alpha`` (descending).

    Without masks: ``coefs (p, K)``, ``intercepts (K,)``, ``gaps (K,)`` (relative duality
    gaps ``gap / P(0)``), ``n_iters (K,)`` and ``converged (K,)``. With ``F`` masks every
    per-alpha field gets a leading fold axis: ``coefs (F, p, K)``, ``gaps (F, K)``, ...
    ``status`` per column is ``converged``, ``stalled`` (float precision reached),
    ``max_iter`` or ``diverged``; ``time`` is the wall time in seconds; ``trace`` the
    batched loop's record (``record_every > 0``).
    """

    alphas: Tensor
    coefs: Tensor
    intercepts: Tensor
    gaps: Tensor
    n_iters: Tensor
    converged: Tensor
    status: np.ndarray
    time: float
    strategy: str
    l1_ratio: float = 1.0
    trace: dict[str, np.ndarray] | None = None

    @property
    def all_converged(self) -> bool:
        return bool(self.converged.all())


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
    strategy: str = "batched",
    solver: str | None = None,
    masks: Tensor | np.ndarray | None = None,
    sample_weight: Tensor | np.ndarray | None = None,
    max_iter: int = 20_000,
    distributed: bool = False,
    catch_interrupt: bool = False,
    **kwargs: Any,
) -> PathResult:
    """The regularization path of the Lasso (elastic net with ``l1_ratio < 1``).

    Args:
        X, y: data ``(n, p)``, ``(n,)``; results follow ``X``'s device and dtype. With
            ``distributed``, this rank's rows inside an initialized process group.
        alphas: the grid (sorted descending); default :func:`alpha_grid`.
        l1_ratio: scikit-learn's ElasticNet convention (1: Lasso).
        tol: every alpha is solved to relative duality gap ``<= tol``.
        strategy: ``"batched"`` or ``"warm"`` (see the module docstring); ``batched``
            (True/False) is the older spelling of the same choice.
        solver: the solver of the warm sequence (default ``ws``; ``fista`` sharded) or
            of the batch (a batched solver, default ``fista``).
        masks: ``(n, F)`` 0/1 row masks: ``F`` subsets solved together.
        sample_weight: ``(n,)`` row weights.
        catch_interrupt: on Ctrl-C / SIGTERM return the alphas solved so far; the others
            have status ``interrupted`` (NaN gaps).
        kwargs: ``check_every``, ``screening``, ``stall_patience``, ``max_time``,
            ``finish``, ``handoff``, ``gram``, ``record_every`` (batched), or the solver's
            own options.
    """
    if batched is not None:
        strategy = "batched" if batched else "warm"
    if strategy not in ("batched", "warm"):
        raise InputError(f"strategy must be 'batched' or 'warm', got {strategy!r}")
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
        X, y = as_data(X, y)
        make = Quadratic
    s = check_sample_weight(sample_weight, X)
    M = None
    if masks is not None:
        M = _check_masks(masks, X)
    gram = kwargs.pop("gram", "auto")
    if alphas is None:
        if l1_ratio <= 0:
            raise InputError("an automatic alpha grid needs l1_ratio > 0; pass alphas= for ridge")
        amax = make(X, y, fit_intercept, gram=False, row_weights=s).Xty.abs().amax()
        alphas = grid(float(amax) / l1_ratio, n_alphas, eps, like=X)
    else:
        alphas = check_alphas(alphas, X)
    t0 = time.perf_counter()
    if strategy == "batched":
        W = M if s is None else (s[:, None] if M is None else M * s[:, None])
        df = make(X, y, fit_intercept, gram=gram, row_weights=W)
        res = batched_path(df, alphas, l1_ratio, tol=tol, max_iter=max_iter, solver=solver,
                           X=X, y=y, masks=M, sample_weight=s, catch_interrupt=catch_interrupt,
                           **kwargs)
    else:
        res = warm_path(X, y, alphas, l1_ratio, make, tol=tol, max_iter=max_iter,
                        fit_intercept=fit_intercept, masks=M, sample_weight=s, gram=gram,
                        solver=solver or ("fista" if distributed else "ws"),
                        catch_interrupt=catch_interrupt, **kwargs)
    res.time = time.perf_counter() - t0
    return _squeeze(res) if masks is None else res


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


def batched_path(datafit: Quadratic, alphas: Tensor, l1_ratio: float, *, tol: float,
                 max_iter: int, solver: str | None = None, X: Tensor, y: Tensor,
                 masks: Tensor | None, sample_weight: Tensor | None, check_every: int = 10,
                 screening: bool = True, stall_patience: int = 20,
                 max_time: float | None = None, finish: str | None = "ws", handoff: int = 50,
                 record_every: int = 0, catch_interrupt: bool = False,
                 **options: Any) -> PathResult:
    """All ``F x K`` columns in one batched engine, then ``finish`` on the open ones."""
    spec = get_solver(solver or "fista")
    if not spec.batched:
        raise InputError(f"solver {spec.name!r} does not run batched; use strategy='warm'")
    F, K = max(datafit.F, 1), alphas.numel()
    groups = torch.arange(F, device=alphas.device).repeat_interleave(K)
    df = datafit.columns(groups) if F > 1 else datafit
    if finish is not None and not get_solver(finish).sharded and type(datafit) is not Quadratic:
        finish = None  # the row-sharded datafit: the batch runs to the end
    W0 = torch.zeros(datafit.p, F * K, dtype=alphas.dtype, device=alphas.device)
    engine = spec.build(df, make_penalty(alphas.repeat(F), l1_ratio), W0,
                        **{**spec.options, **options, "screening": screening, "tol": tol})
    finish = finish if finish is not None and handoff < max_iter else None
    out = run_loop(engine, max_iter=handoff if finish else max_iter, tol=tol,
                   check_every=check_every, stall_patience=stall_patience,
                   max_time=max_time, record_every=record_every, record_coef=True,
                   catch_interrupt=catch_interrupt)
    coefs, rel = out.coef, out.cert.rel_gap.clone()
    n_iters, status = torch.as_tensor(out.n_iters), out.statuses.copy()
    for c in np.flatnonzero(status == "max_iter").tolist() if finish else []:
        f, k = divmod(c, K)
        start = coefs[:, c - 1] if k > 0 else coefs[:, c]
        rows = None if masks is None else masks[:, f].bool()
        r = _solve_one(X, y, rows, sample_weight, float(alphas[k]), l1_ratio, finish, tol,
                       max_iter, datafit.fit_intercept, start)
        coefs[:, c], rel[c] = r.coef, r.gap
        n_iters[c] += r.n_iter
        status[c] = r.status
    C = coefs.reshape(datafit.p, F, K).permute(1, 0, 2)
    inter = datafit.columns(groups).intercept(coefs) if F > 1 else datafit.intercept(coefs)
    return PathResult(
        alphas=alphas, coefs=C, intercepts=inter.reshape(F, K), gaps=rel.reshape(F, K),
        n_iters=n_iters.reshape(F, K), converged=torch.as_tensor(status == "converged")
        .reshape(F, K), status=status.reshape(F, K), time=0.0, strategy="batched",
        l1_ratio=l1_ratio, trace=out.trace.arrays() if out.trace is not None else None)


def _solve_one(X: Tensor, y: Tensor, rows: Tensor | None, s: Tensor | None, alpha: float,
               l1_ratio: float, solver: str, tol: float, max_iter: int, fit_intercept: bool,
               start: Tensor) -> Any:
    from .solve import solve

    if rows is not None:
        idx = rows.nonzero().squeeze(1)
        X, y, s = select(X, idx, 0), y[idx], None if s is None else s[idx]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gram: bool | str = "auto"
        if is_sparse(X):  # ws reads a sparse X through its Gram matrix only
            solver, gram = ("ws", True) if X.shape[1] <= 4096 else ("fista", "auto")
        return solve(X, y, alpha, l1_ratio, solver, tol=tol, max_iter=max_iter, gram=gram,
                     fit_intercept=fit_intercept, coef_init=start, sample_weight=s, warn=False)


def warm_path(X: Tensor, y: Tensor, alphas: Tensor, l1_ratio: float, make: type, *,
              tol: float, max_iter: int, fit_intercept: bool, masks: Tensor | None,
              sample_weight: Tensor | None, gram: bool | str, solver: str,
              catch_interrupt: bool = False, **options: Any) -> PathResult:
    """Each fold's alphas in order, each warm-started at the previous solution, one datafit
    (its Lipschitz constant, Gram blocks, the engine's caches) shared along the path."""
    spec: SolverSpec = get_solver(solver)
    loop = {"check_every": options.pop("check_every", None) or spec.check_every,
            "stall_patience": options.pop("stall_patience", spec.stall_patience)}
    Ms = [None] if masks is None else list(masks.bool().T)
    F, K, p = len(Ms), alphas.numel(), X.shape[1]
    z = dict(dtype=X.dtype, device=X.device)  # X may be sparse
    coefs = torch.zeros(F, p, K, **z)
    inter, gaps = torch.zeros(F, K, **z), torch.zeros(F, K, **z)
    n_iters = torch.zeros(F, K, dtype=torch.long)
    status = np.full((F, K), "interrupted", dtype=object)
    gaps.fill_(math.nan)
    try:
        for f, m in enumerate(Ms):
            _warm_fold(X, y, m, sample_weight, make, spec, alphas, l1_ratio, tol, max_iter,
                       fit_intercept, gram, catch_interrupt, options, loop,
                       (coefs[f], inter[f], gaps[f], n_iters[f], status[f]))
    except KeyboardInterrupt:
        if not catch_interrupt:
            raise
    return PathResult(
        alphas=alphas, coefs=coefs, intercepts=inter, gaps=gaps, n_iters=n_iters,
        converged=torch.as_tensor(status == "converged"), status=status, time=0.0,
        strategy="warm", l1_ratio=l1_ratio)


def _warm_fold(X: Tensor, y: Tensor, m: Tensor | None, sample_weight: Tensor | None,
               make: type, spec: SolverSpec, alphas: Tensor, l1_ratio: float, tol: float,
               max_iter: int, fit_intercept: bool, gram: bool | str, catch_interrupt: bool,
               options: dict[str, Any], loop: dict[str, Any], out: tuple[Any, ...]) -> None:
    """One fold's warm sequence, written into ``out = (coefs, inter, gaps, n_iters,
    status)``; stops at an interrupted alpha."""
    from .solve import GRAM_ONLY, build_datafit, build_engine, weighted_rows

    coefs, inter, gaps, n_iters, status = out
    p, K = X.shape[1], alphas.numel()
    Xf, yf = (X, y) if m is None else (select(X, m.nonzero().squeeze(1), 0), y[m])
    s = sample_weight if m is None or sample_weight is None else sample_weight[m]
    if s is not None:
        s = s * (s.numel() / s.sum())
    if make is Quadratic:  # as solve builds it (sparse X, row weights)
        gram = True if is_sparse(Xf) and spec.name in GRAM_ONLY and gram == "auto" else gram
        df, full = build_datafit(Xf, yf, fit_intercept, gram, s, spec, False)
    else:
        df = full = make(Xf, yf, fit_intercept, gram=gram, row_weights=s)
        if s is not None and not spec.weights:
            df = make(*weighted_rows(Xf, yf, s, fit_intercept), False, gram=gram)
    w, prev = torch.zeros(p, dtype=X.dtype, device=X.device), None
    opts = {**spec.options, **options, "tol": tol}
    for k in range(K):
        eng = build_engine(spec, df, make_penalty(float(alphas[k]), l1_ratio), w, opts)
        if prev is not None:
            eng.warm_from(prev)
        res = run_loop(eng, max_iter=max_iter, tol=tol, catch_interrupt=catch_interrupt, **loop)
        w, prev = res.coef.clone(), eng
        coefs[:, k], inter[k], gaps[k] = w, full.intercept(w), res.cert.rel_gap
        n_iters[k], status[k] = res.n_iter, res.status
        if res.status == "interrupted":
            raise KeyboardInterrupt


def _squeeze(res: PathResult) -> PathResult:
    for name in ("coefs", "intercepts", "gaps", "n_iters", "converged", "status"):
        setattr(res, name, getattr(res, name)[0])
    return res
