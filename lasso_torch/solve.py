"""``solve``: one call from data to a certified solution, for any registered solver.

checks -> datafit -> registry -> engine -> the one loop -> :class:`SolveResult`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .certificates import Certificate, final_certificate
from .checks import (
    as_data,
    check_alpha,
    check_l1_ratio,
    check_options,
    check_sample_weight,
    check_samples,
    check_solver_options,
    start_coef,
    widen_half,
)
from .datafit_build import build_datafit
from .datafits import Quadratic
from .differentiable import differentiable
from .errors import ConvergenceWarning
from .multinomial_solve import solve_multinomial
from .precision import centered_copy
from .problem import build_penalty, loss_name, make_datafit, solver_check
from .solvers import LoopResult, get_solver, run_loop
from .solvers.auto import choose, small_on_one_thread
from .solvers.loop import STATUS_ORDER, certified_status, describe
from .solvers.registry import SolverSpec

WIDENED = "solved in float64 (float32 data: a GLM loss, or a sparse X with offsets)"

__all__ = ["ConvergenceWarning", "SolveResult", "solve", "build_engine"]


@dataclass
class SolveResult:
    """A solver's answer. Tensors are on the data's device and dtype.

    ``gap`` is the relative duality gap ``gap / P(0)`` (``gap_abs`` the absolute one, as
    scikit-learn's ``dual_gap_``); ``status`` is one of ``converged``, ``max_iter``,
    ``diverged``, ``stalled``, ``stopped``, ``interrupted``; ``trace`` holds the recorded
    arrays (see :class:`lasso_torch.solvers.Trace`) or ``None``.
    """

    solver: str
    coef: Tensor
    intercept: Tensor
    n_iter: int
    gap: Tensor
    gap_abs: Tensor
    objective: Tensor
    kkt: Tensor
    converged: bool
    status: str
    lr: float | None
    time: float
    alpha: float
    l1_ratio: float
    trace: dict[str, np.ndarray] | None = None
    notes: tuple[str, ...] = ()  # what the engine says about its run (AdamW's weight decay)
    certificate: str = "duality gap"
    loss: str = "squared"
    n_iters: np.ndarray | None = None  # per target, for ``y (n, T)``

    @property
    def n_zeros(self) -> int:
        return int((self.coef == 0).sum())


def _run(engine: Any, warm: bool, **loop: Any) -> LoopResult:
    """The loop; a warm start already within ``tol`` returns at once (0 iterations), as
    scikit-learn's coordinate descent checks the gap before its first epoch."""
    if warm:
        cert = engine.certificate()
        if bool((cert.rel_gap <= loop["tol"]).all()):
            w = engine.coef().detach()
            K = w.shape[1] if w.dim() == 2 else 1
            return LoopResult(n_iter=0, status="converged", cert=cert, time=0.0, trace=None,
                              coef=w, n_iters=np.zeros(K, dtype=np.int64),
                              statuses=np.array(["converged"] * K, dtype=object))
    return run_loop(engine, **loop)


def _per_target(X: Tensor, y: Tensor, alpha: float, l1_ratio: float, solver: str, w0: Tensor,
                loop: dict[str, Any], rest: dict[str, Any]) -> SolveResult:
    """``y (n, T)`` for a solver that serves one column: ``T`` solves, stacked."""
    warm = bool(w0.any())
    res = [solve(X, y[:, t], alpha, l1_ratio, solver, coef_init=w0[:, t] if warm else None,
                 **loop, **rest) for t in range(y.shape[1])]
    stack = {f: torch.stack([getattr(r, f) for r in res], -1)
             for f in ("coef", "intercept", "gap", "gap_abs", "objective", "kkt")}
    order = ("interrupted", "diverged", "max_iter", "stopped", "stalled", "converged")
    status = min((r.status for r in res), key=order.index)
    return SolveResult(solver=res[0].solver, **stack, n_iter=max(r.n_iter for r in res),
                       converged=all(r.converged for r in res), status=status, lr=res[0].lr,
                       time=sum(r.time for r in res), alpha=float(alpha),
                       l1_ratio=float(l1_ratio), trace=None,
                       n_iters=np.array([r.n_iter for r in res]))


def _backtrack_if_needed(spec: SolverSpec, datafit: Any, lr: float | None,
                         opts: dict[str, Any]) -> None:
    """A datafit of no known smoothness (a user's loss): the gradient solvers backtrack."""
    if getattr(datafit, "lipschitz_factor", 1.0) is None or getattr(
            datafit, "conjugate_gap", True) is False:
        if "backtracking" in spec.options and lr is None and opts.get("batch_size") is None:
            opts.setdefault("backtracking", True)


def build_engine(spec: SolverSpec, datafit: Quadratic, penalty: Any, w0: Tensor,
                 options: dict[str, Any]) -> Any:
    """``spec.build`` with the spec's defaults overridden by ``options`` (``tol`` always
    passed: an engine may size its inner work by it)."""
    return spec.build(datafit, penalty, w0, **{**spec.options, **options})


@differentiable  # inputs that require grad: lasso_torch.differentiable
@small_on_one_thread
def solve(
    X: Tensor | np.ndarray,
    y: Tensor | np.ndarray,
    alpha: float,
    l1_ratio: float = 1.0,
    solver: str = "auto",
    *,
    tol: float = 1e-6,
    max_iter: int = 10_000,
    fit_intercept: bool = True,
    lr: float | None = None,
    check_every: int | None = None,
    record_every: int = 0,
    record_coef: bool | list[int] | np.ndarray | Tensor = True,
    gram: bool | str = "auto",
    coef_init: Tensor | None = None,
    sample_weight: Tensor | np.ndarray | None = None,
    stall_patience: int | None = 20,
    callback: Callable[[int, Tensor, Certificate], bool | None] | None = None,
    catch_interrupt: bool = False,
    warn: bool = True,
    distributed: bool = False,
    options: dict[str, Any] | None = None,
    loss: str | Callable[[Tensor, Tensor], Tensor] | None = None,
    penalty: Any = None,
    weights: Tensor | np.ndarray | None = None, positive: bool = False,
    bounds: tuple[Any, Any] | None = None,
    gamma: float | None = None, delta: float | None = None, groups: Any = None,
    check_start: bool = False,
    **solver_options: Any,
) -> SolveResult:
    """Minimize ``1/(2n)||y - Xw - b||^2 + alpha (l1_ratio |w|_1 + (1-l1_ratio)/2 |w|^2)``.

    Other losses and penalties (:mod:`lasso_torch.problem`): ``loss`` ``"logistic"`` (y in
    {0,1} or {-1,1}), ``"huber"`` (``delta``), ``"poisson"``, ``"gamma"``, ``"tweedie(p)"``,
    ``"multinomial"`` (coef ``(p, K)``) or ``loss(pred, y)`` (autograd); ``penalty`` ``"l1"``,
    ``"elasticnet"``, ``"mcp"``/``"scad"`` (``gamma``), ``"group"``/``"sparse_group"``
    (``groups``) or an object; ``weights`` per-feature factors (0: unpenalized); ``positive``,
    ``bounds=(lower, upper)``. ``certificate``: ``"duality gap"``, or ``"kkt"`` (non-convex
    penalty, user's loss: ``gap`` NaN, ``kkt`` relative to ``||grad f(0)||_inf`` in the loop).

    Args:
        X, y: data (tensors or arrays); the solution lives on ``X``'s device and dtype.
            ``X`` may be sparse (torch CSR/CSC, scipy.sparse), never densified (the batched
            solvers, and ``ws`` in Gram form); ``y`` may be ``(n, T)``: ``T`` targets with
            one ``(p, T)`` iterate (a batched solver; others solve them one by one), the
            result's fields then per target (``coef (p, T)``, ``gap (T,)``, ``n_iters``).
        alpha, l1_ratio: scikit-learn's ElasticNet convention (1: Lasso, 0: Ridge).
        solver: ``"auto"`` (the default: the fastest certified solver for the data's
            shape, device, dtype and alpha, by the rule of :mod:`lasso_torch.solvers.auto`;
            the result's ``solver`` names the one it ran) or a name of the solver registry
            (:data:`lasso_torch.SOLVERS`): ``"fista"`` (momentum + adaptive restart),
            ``"ista"``, ``"cd"`` (coordinate descent), ``"anderson_cd"`` (compiled
            working-set CD), ``"ws"`` (active sets in Gram form), ``"subgradient"``
            (``torch.optim.SGD`` on the full loss), a torch optimizer (``"adam"``, ...).
        tol: stop when the relative duality gap ``gap / P(0)`` is ``<= tol``.
        max_iter: iterations (the solver's unit: steps, cd epochs, ws outer iterations).
        lr: step size for the gradient solvers; default ``1/L``, ``L`` by power iteration.
        check_every: iterations between gap checks, the only host syncs (default: the
            solver's, 10 for the gradient solvers, 1 for cd and ws).
        record_every: record a trace point every so many iterations (0: no trace).
        record_coef: record all coefficients (True), none (False), or these indices.
        gram: use ``X^T X`` for the gradient (``"auto"``: when ``n >= 4p``), or the matrix
            ``G = X_c^T S X_c / n`` itself, precomputed.
        coef_init: warm start (``(p,)``, or ``(p, T)`` for ``T`` targets).
        check_start: certify ``coef_init`` first: one already within ``tol`` returns at
            once with ``n_iter == 0`` (scikit-learn's coordinate descent does so).
        sample_weight: ``(n,)`` row weights (scikit-learn's convention: rescaled to sum n).
        stall_patience: checks without progress, near the dtype's precision, before
            stopping as ``stalled`` (None: never; the solver's spec may lower it).
        callback: ``callback(iteration, coef, certificate)`` at each check; True stops.
        catch_interrupt: on Ctrl-C return what was reached (status ``interrupted``).
        warn: warn when max_iter is reached or the run diverges.
        distributed: ``X``, ``y`` are this rank's rows of the data, inside an initialized
            ``torch.distributed`` process group (the solvers whose spec says ``sharded``;
            see :mod:`lasso_torch.distributed`); every rank gets the same result.
        options, solver_options: the solver's own options (``restart``, ``backtracking``,
            ``schedule``, ``ws_min``, ...): see its spec's ``options``.
    """
    if loss == "multinomial":  # coefficients (p, K); penalty "l1" or "grouped"
        return SolveResult(**solve_multinomial(X, y, alpha, l1_ratio, penalty, tol, max_iter,
                                               fit_intercept, sample_weight, coef_init, warn,
                                               check_every or 10, solver))
    opts = {**(options or {}), **solver_options}
    auto = solver == "auto"
    X, y, widened = widen_half(X, y)
    spec = get_solver("fista" if auto else solver)
    if not auto:
        check_solver_options(spec, opts)
    if distributed:
        from .distributed.datafit import sharded_data

        X, y = sharded_data(X, y, spec, (alpha, l1_ratio, tol, max_iter, fit_intercept, lr,
                                         check_every, record_every, gram, stall_patience,
                                         sorted(opts.items())))
    else:
        X, y = as_data(X, y, targets=True)
        check_samples(X.shape[0], fit_intercept)
    alpha, l1_ratio = check_alpha(alpha), check_l1_ratio(l1_ratio)
    s = check_sample_weight(sample_weight, X)
    pen = build_penalty(alpha, l1_ratio, p=X.shape[1], like=X, penalty=penalty, groups=groups,
                        weights=weights, positive=positive, bounds=bounds, gamma=gamma)
    problem = (X, y, s, fit_intercept)  # what the final certificate reads
    if not distributed:  # large means centered once where the dtype would lose them
        X, y = centered_copy(X, y, s, fit_intercept, loss_name(loss) in ("squared", "huber"),
                             widen=auto and loss_name(loss) != "squared")
    full = None
    if auto and not distributed:  # the rule of lasso_torch.solvers.auto, on the data
        full = make_datafit(loss, X, y, fit_intercept, gram, s, delta)
        spec = get_solver(choose(full, pen))
    check_every = spec.check_every if check_every is None else check_every
    check_options(tol, max_iter, check_every, lr)
    w0 = start_coef(coef_init, X, y)
    loop = dict(max_iter=max_iter, tol=tol, check_every=check_every, record_every=record_every,
                record_coef=record_coef, callback=callback, catch_interrupt=catch_interrupt)
    if y.dim() == 2 and not spec.batched:  # one target at a time
        X, y, s, fit_intercept = problem
        return _per_target(X, y, alpha, l1_ratio, spec.name, w0, loop, dict(
            fit_intercept=fit_intercept, lr=lr, gram=gram, sample_weight=s,
            stall_patience=stall_patience, warn=warn, options=opts, check_start=check_start,
            loss=loss, penalty=penalty, weights=weights, positive=positive, bounds=bounds,
            gamma=gamma, delta=delta, groups=groups))
    datafit, full = build_datafit(X, y, fit_intercept, gram, s, spec, distributed, full, loss,
                                  delta)
    if y.dim() == 2:  # one alpha per batch column (target)
        pen = build_penalty(torch.full((y.shape[1],), alpha, dtype=X.dtype, device=X.device),
                            l1_ratio, p=X.shape[1], like=X, penalty=penalty, weights=weights,
                            positive=positive, bounds=bounds, gamma=gamma, groups=groups)
    opts = {**{k: v for k, v in opts.items() if k in spec.options},
            **({"lr": lr} if spec.uses_lr else {})}
    solver_check(spec, datafit, pen, opts)
    _backtrack_if_needed(spec, datafit, lr, opts)
    engine = build_engine(spec, datafit, pen, w0, {**opts, "tol": tol})
    patience = None if spec.stall_patience is None or stall_patience is None else min(
        stall_patience, spec.stall_patience)
    out = _run(engine, check_start and coef_init is not None, stall_patience=patience, **loop)
    notes = tuple(n for n in (widened, WIDENED if X.dtype != problem[0].dtype else None) if n)
    return _result(spec, engine, out, problem, pen, full, tol, warn, distributed, notes,
                   alpha, l1_ratio, loss, y)


def _result(spec: SolverSpec, engine: Any, out: LoopResult, problem: tuple, pen: Any,
            full: Any, tol: float, warn: bool, distributed: bool, notes: tuple[str, ...],
            alpha: float, l1_ratio: float, loss: Any, y: Tensor) -> SolveResult:
    """The :class:`SolveResult` of a loop's outcome: the answer in the data's dtype, its
    final certificate (recomputed in float64, reported in the data's dtype) and the status
    that certificate decides."""
    X, y0, s, fit_intercept = problem
    coef = out.coef.detach().to(X.dtype)
    final = final_certificate(X, y0, coef, pen, full, sample_weight=s,
                              fit_intercept=fit_intercept,
                              reduce=full.reduce if distributed else None,
                              intercept_start=getattr(engine, "intercept_hint", None))
    status = min(certified_status(out.statuses, final, tol), key=STATUS_ORDER.index)
    if warn and status in ("max_iter", "diverged", "stalled"):
        warnings.warn(f"{spec.name}: {status} after {out.n_iter} iterations; "
                      f"{describe(final, tol)}", ConvergenceWarning, stacklevel=3)
    cert, kind = Certificate(*(t.to(coef.dtype) for t in final.cert)), final.kind
    nan = torch.full_like(cert.gap, float("nan"))
    return SolveResult(
        solver=spec.name, coef=coef, intercept=final.intercept.to(coef.dtype),
        n_iter=out.n_iter, gap=cert.rel_gap if kind != "kkt" else nan,
        gap_abs=cert.gap if kind != "kkt" else nan,
        objective=cert.objective, kkt=cert.kkt, converged=status == "converged",
        status=status, lr=getattr(engine, "lr", None), time=out.time,
        alpha=float(alpha), l1_ratio=float(l1_ratio), trace=out.trace and out.trace.arrays(),
        notes=(*notes, *getattr(engine, "notes", ())), certificate=kind, loss=loss_name(loss),
        n_iters=out.n_iters if y.dim() == 2 else None,
    )
