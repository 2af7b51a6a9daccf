"""The two strategies of :func:`lasso_torch.lasso_path` (see :mod:`lasso_torch.path`): the
batched engine over all ``F x K`` columns, and the warm-started sequence, both run by the one
loop on one datafit."""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .datafits import Quadratic
from .errors import InputError
from .path_result import PathResult
from .penalties import is_plain, make_penalty
from .problem import loss_name
from .solvers import get_solver, run_loop
from .solvers.registry import SolverSpec
from .sparse import is_sparse, select


def run_strategy(strategy: str, make: type, X: Tensor, y: Tensor, alphas: Tensor,
                  l1_ratio: float, tol: float, max_iter: int, fit_intercept: bool,
                  M: Tensor | None, s: Tensor | None, gram: bool | str, solver: str | None,
                  distributed: bool, catch_interrupt: bool, kwargs: dict[str, Any]
                  ) -> PathResult:
    loss = kwargs.pop("loss", None)
    if strategy == "batched":
        W = M if s is None else (s[:, None] if M is None else M * s[:, None])
        df = make(X, y, fit_intercept, gram=gram, row_weights=W)
        res = batched_path(df, alphas, l1_ratio, tol=tol, max_iter=max_iter, solver=solver,
                           X=X, y=y, masks=M, sample_weight=s, catch_interrupt=catch_interrupt,
                           **kwargs)
    else:
        res = warm_path(X, y, alphas, l1_ratio, make, tol=tol, max_iter=max_iter,
                        fit_intercept=fit_intercept, masks=M, sample_weight=s, gram=gram,
                        solver=solver or ("fista" if distributed else "ws" if loss_name(
                            loss) == "squared" else "prox_newton"),
                        catch_interrupt=catch_interrupt, squared=loss_name(loss) == "squared",
                        **{k: v for k, v in kwargs.items() if k != "objective"})
    return res


def batched_path(datafit: Quadratic, alphas: Tensor, l1_ratio: float, *, tol: float,
                 max_iter: int, solver: str | None = None, X: Tensor, y: Tensor,
                 masks: Tensor | None, sample_weight: Tensor | None, check_every: int = 10,
                 screening: bool = True, stall_patience: int = 20,
                 max_time: float | None = None, finish: str | None = "ws", handoff: int = 50,
                 record_every: int = 0, catch_interrupt: bool = False, pen: Any = None,
                 objective: dict[str, Any] | None = None, **options: Any) -> PathResult:
    """All ``F x K`` columns in one batched engine, then ``finish`` on the open ones."""
    spec = get_solver(solver or "fista")
    pen = pen or functools.partial(make_penalty, l1_ratio=l1_ratio)
    quadratic = isinstance(datafit, Quadratic)
    if getattr(datafit, "lipschitz_factor", 1.0) is None or getattr(
            datafit, "name", "") == "autograd":
        raise InputError(f"loss {datafit.name!r} has no Lipschitz constant for a batch: use "
                         "strategy='warm'")
    screening = screening and quadratic and is_plain(pen(alphas[:1]))
    if not quadratic and finish == "ws":
        finish = "prox_newton"
    if not spec.batched:
        raise InputError(f"solver {spec.name!r} does not run batched; use strategy='warm'")
    F, K = max(datafit.F, 1), alphas.numel()
    groups = torch.arange(F, device=alphas.device).repeat_interleave(K)
    df = datafit.columns(groups) if F > 1 else datafit
    if finish is not None and not get_solver(finish).sharded and quadratic and type(
            datafit) is not Quadratic:
        finish = None  # the row-sharded datafit: the batch runs to the end
    W0 = torch.zeros(datafit.p, F * K, dtype=alphas.dtype, device=alphas.device)
    engine = spec.build(df, pen(alphas.repeat(F)), W0,
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
                       max_iter, datafit.fit_intercept, start, objective or {})
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
               start: Tensor, objective: dict[str, Any]) -> Any:
    from .solve import solve

    if rows is not None:
        idx = rows.nonzero().squeeze(1)
        X, y, s = select(X, idx, 0), y[idx], None if s is None else s[idx]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gram: bool | str = "auto"
        if is_sparse(X) and not get_solver(solver).sparse:  # the sparse working sets
            solver = "anderson_cd"
        return solve(X, y, alpha, l1_ratio, solver, tol=tol, max_iter=max_iter, gram=gram,
                     fit_intercept=fit_intercept, coef_init=start, sample_weight=s, warn=False,
                     **objective)


def warm_path(X: Tensor, y: Tensor, alphas: Tensor, l1_ratio: float, make: type, *,
              tol: float, max_iter: int, fit_intercept: bool, masks: Tensor | None,
              sample_weight: Tensor | None, gram: bool | str, solver: str,
              catch_interrupt: bool = False, pen: Any = None, squared: bool = False,
              **options: Any) -> PathResult:
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
    grams = (_fold_grams(X, Ms, sample_weight, fit_intercept) if squared and isinstance(
        gram, bool | str) and gram in ("auto", True) and spec.path is not None else None)
    grams = grams or [gram] * F
    try:
        for f, m in enumerate(Ms):
            _warm_fold(X, y, m, sample_weight, make, spec, alphas, pen or functools.partial(
                       make_penalty, l1_ratio=l1_ratio), tol, max_iter,
                       fit_intercept, grams[f], catch_interrupt, options, loop,
                       (coefs[f], inter[f], gaps[f], n_iters[f], status[f]))
    except KeyboardInterrupt:
        if not catch_interrupt:
            raise
    return PathResult(
        alphas=alphas, coefs=coefs, intercepts=inter, gaps=gaps, n_iters=n_iters,
        converged=torch.as_tensor(status == "converged"), status=status, time=0.0,
        strategy="warm", l1_ratio=l1_ratio)


def _fold_grams(X: Tensor, Ms: list[Tensor | None], s: Tensor | None,
                fit_intercept: bool) -> list[Tensor] | None:
    """Each fold's Gram matrix ``X_c^T S X_c / n``: the Gram matrix of all rows minus the
    fold's held-out rows' (K-fold: the held-out blocks' products sum to all rows, so one
    full-size product in all instead of ``K - 1``), for the compiled warm path; None (each
    fold forms its own) where it does not pay: one fold, a sparse or GPU ``X``,
    ``p > 2048``, or a fold with fewer rows than features."""
    n, p = X.shape
    if (len(Ms) < 2 or is_sparse(X) or X.device.type != "cpu" or p > 2048
            or min(int(m.sum()) for m in Ms) < p):
        return None
    w = torch.ones(n, dtype=X.dtype) if s is None else s.to(X.dtype)
    # shifted by the overall mean first: each fold's mean is then near 0, and its
    # rank-one correction cancels nothing (see Quadratic.gram)
    Xs = X - (w @ X) / w.sum() if fit_intercept else X

    def gram_of(rows: Tensor | None) -> Tensor:
        Xr = Xs if rows is None else Xs[rows]
        return Xr.T @ (Xr if s is None else (w if rows is None else w[rows])[:, None] * Xr)

    held = [~m for m in Ms]
    count = torch.stack(held).sum(0)
    blocks = [gram_of(h) for h in held]
    if int(count.max()) <= 1:  # disjoint held-out sets (K-fold): the blocks sum to all rows
        all_rows = sum(blocks) + gram_of(count == 0)
    else:
        all_rows = gram_of(None)
    out: list[Tensor] = []
    for m, block in zip(Ms, blocks, strict=True):
        sw = w[m].sum()
        G = (all_rows - block) / sw
        if fit_intercept:
            xm = (w[m] @ Xs[m]) / sw
            G -= xm[:, None] * xm[None, :]
        out.append(G)
    return out


def _warm_fold(X: Tensor, y: Tensor, m: Tensor | None, sample_weight: Tensor | None,
               make: type, spec: SolverSpec, alphas: Tensor, pen: Any, tol: float,
               max_iter: int, fit_intercept: bool, gram: bool | str, catch_interrupt: bool,
               options: dict[str, Any], loop: dict[str, Any], out: tuple[Any, ...]) -> None:
    """One fold's warm sequence, written into ``out = (coefs, inter, gaps, n_iters,
    status)``; stops at an interrupted alpha."""
    from .datafit_build import GRAM_ONLY, build_datafit, weighted_rows
    from .solve import build_engine

    coefs, inter, gaps, n_iters, status = out
    p, K = X.shape[1], alphas.numel()
    Xf, yf = (X, y) if m is None else (select(X, m.nonzero().squeeze(1), 0), y[m])
    s = sample_weight if m is None or sample_weight is None else sample_weight[m]
    if s is not None:
        s = s * (s.numel() / s.sum())
    G = gram if isinstance(gram, Tensor) else None  # this fold's, from _fold_grams
    gram = True if G is not None else gram
    df = full = make(Xf, yf, fit_intercept, gram=gram, row_weights=s)
    if isinstance(full, Quadratic) and type(full) is Quadratic:  # as solve builds it
        gram = True if (is_sparse(Xf) and spec.name in GRAM_ONLY and gram == "auto"
                        and not spec.sparse) else gram
        df, full = build_datafit(Xf, yf, fit_intercept, gram if G is None else G, s, spec,
                                 False)
    elif s is not None and not spec.weights:
        df = make(*weighted_rows(Xf, yf, s, fit_intercept), False, gram=gram)
    opts = {**spec.options, **options, "tol": tol}
    if spec.path is not None and (got := spec.path(df, alphas, pen, tol, max_iter,
                                                   catch_interrupt, **options)) is not None:
        coefs[:], gaps[:], n_iters[:], status[:] = got[0], got[1], torch.from_numpy(got[2]), \
            got[3]
        inter[:] = got[4] if len(got) > 4 else full.intercept(got[0])  # the solver's own
        if (got[3] == "interrupted").any():
            raise KeyboardInterrupt
        return
    if df.use_gram:  # n >> p: one X^T X for the whole path; every alpha indexes it
        _ = df.gram
    w, prev = torch.zeros(p, dtype=X.dtype, device=X.device), None
    plain = isinstance(df, Quadratic) and df.F == 1 and is_plain(pen(1.0))
    top = float(df.Xty.abs().max()) / pen(1.0).l1_ratio if plain and pen(1.0).l1_ratio else (
        math.inf)
    for k in range(K):
        if float(alphas[k]) >= top and not bool(w.any()):  # alpha >= alpha_max: 0 is the
            status[k], n_iters[k] = "converged", 0  # solution exactly (no epoch's rounding)
            gaps[k], inter[k] = 0.0, full.intercept(w)  # (the final certificate's later)
            continue
        eng = build_engine(spec, df, pen(float(alphas[k])), w, opts)
        if prev is not None:
            eng.warm_from(prev)
        res = run_loop(eng, max_iter=max_iter, tol=tol, catch_interrupt=catch_interrupt, **loop)
        w, prev = res.coef.clone(), eng
        coefs[:, k], inter[k], gaps[k] = w, full.intercept(w), res.cert.rel_gap
        n_iters[k], status[k] = res.n_iter, res.status
        if res.status == "interrupted":
            raise KeyboardInterrupt
