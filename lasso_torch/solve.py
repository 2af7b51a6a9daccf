"""``solve``: one call from data to a certified solution, for any registered solver."""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .certificates import Certificate
from .checks import as_data, check_samples
from .datafits import Quadratic
from .errors import InputError
from .penalties import make_penalty
from .solvers import (
    SOLVERS,
    CoordinateDescent,
    ProximalEngine,
    SubgradientEngine,
    WorkingSet,
    run_loop,
)


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

    @property
    def n_zeros(self) -> int:
        return int((self.coef == 0).sum())


def _check_options(solver: str, alpha: float, l1_ratio: float, tol: float, max_iter: int,
                   check_every: int, lr: float | None) -> None:
    if solver not in SOLVERS:
        close = difflib.get_close_matches(solver, SOLVERS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"unknown solver {solver!r}{hint}; choose from {', '.join(SOLVERS)}")
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha > 0):
        raise InputError(f"alpha must be a finite number > 0, got {alpha!r}")
    if not 0.0 <= l1_ratio <= 1.0:
        raise InputError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}")
    if not tol >= 0:
        raise InputError(f"tol must be >= 0, got {tol!r}")
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise InputError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if not (isinstance(check_every, int) and check_every >= 1):
        raise InputError(f"check_every must be an integer >= 1, got {check_every!r}")
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise InputError(f"lr must be a finite number > 0, got {lr!r}")


def solve(
    X: Tensor | np.ndarray,
    y: Tensor | np.ndarray,
    alpha: float,
    l1_ratio: float = 1.0,
    solver: str = "fista",
    *,
    tol: float = 1e-6,
    max_iter: int = 10_000,
    fit_intercept: bool = True,
    lr: float | None = None,
    check_every: int | None = None,
    record_every: int = 0,
    record_coef: bool | list[int] | np.ndarray | Tensor = True,
    restart: bool = True,
    backtracking: bool = False,
    schedule: str = "constant",
    gram: bool | str = "auto",
    coef_init: Tensor | None = None,
    stall_patience: int | None = 20,
    callback: Callable[[int, Tensor, Certificate], bool | None] | None = None,
    catch_interrupt: bool = False,
    warn: bool = True,
    distributed: bool = False,
) -> SolveResult:
    """Minimize ``1/(2n)||y - Xw - b||^2 + alpha (l1_ratio |w|_1 + (1-l1_ratio)/2 |w|^2)``.

    Args:
        X, y: data (tensors or arrays); the solution lives on ``X``'s device and dtype.
        alpha, l1_ratio: scikit-learn's ElasticNet convention (1: Lasso, 0: Ridge).
        solver: ``"fista"`` (momentum + adaptive restart), ``"ista"``, ``"cd"`` (cyclic
            coordinate descent), ``"subgradient"`` (``torch.optim.SGD`` on the full loss)
            or ``"ws"`` (working sets solved in Gram form: the fastest on sparse problems).
        tol: stop when the relative duality gap ``gap / P(0)`` is ``<= tol``.
        max_iter: iterations (epochs for ``cd``, outer working-set iterations for ``ws``).
        lr: step size for the gradient solvers; default ``1/L``, ``L`` by power iteration.
        check_every: iterations between gap checks, the only host syncs (default 10; 1 for
            cd and ws).
        record_every: record a trace point every so many iterations (0: no trace).
        record_coef: record all coefficients (True), none (False), or these indices.
        restart, backtracking: FISTA's adaptive restart; backtracking line search.
        schedule: subgradient step schedule, ``"constant"`` (plain SGD) or ``"inv_sqrt"``.
        gram: use ``X^T X`` for the gradient (``"auto"``: when ``n >= 4p``).
        coef_init: warm start.
        stall_patience: checks without progress, near the dtype's precision, before
            stopping as ``stalled`` (None: never; at most 5 for ``ws``, whose every
            iteration is a check). Subgradient runs never stall-stop.
        callback: ``callback(iteration, coef, certificate)`` at each check; True stops.
        catch_interrupt: on Ctrl-C return what was reached (status ``interrupted``).
        warn: warn when max_iter is reached or the run diverges.
        distributed: ``X``, ``y`` are this rank's rows of the data, inside an initialized
            ``torch.distributed`` process group (ista/fista; see
            :mod:`lasso_torch.distributed`); every rank gets the same result.
    """
    if distributed:
        from .distributed import ShardedQuadratic, certify_sharded, sharded_data

        X, y = sharded_data(X, y, solver, (alpha, l1_ratio, tol, max_iter, fit_intercept, lr,
                                           check_every, record_every, restart, backtracking,
                                           gram, stall_patience))
    else:
        X, y = as_data(X, y)
        check_samples(X.shape[0], fit_intercept)
    if check_every is None:
        check_every = 1 if solver in ("cd", "ws") else 10
    _check_options(solver, alpha, l1_ratio, tol, max_iter, check_every, lr)
    datafit = (ShardedQuadratic if distributed else Quadratic)(
        X, y, fit_intercept=fit_intercept, gram=gram)
    penalty = make_penalty(float(alpha), float(l1_ratio))
    w0 = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    if coef_init is not None:
        w0 = torch.as_tensor(coef_init).to(dtype=X.dtype, device=X.device).clone()
    step = None
    if solver in ("ista", "fista", "subgradient"):
        lip = float(datafit.lipschitz) if lr is None else 0.0
        # L == 0 (constant columns, one sample): the datafit is flat, any step is exact.
        step = float(lr) if lr is not None else (1.0 / lip if lip > 0 else 1.0)
    if solver == "cd":
        engine: Any = CoordinateDescent(datafit, alpha, l1_ratio, w0)
    elif solver == "ws":
        engine = WorkingSet(datafit, alpha, l1_ratio, w0, tol=tol)
        if stall_patience is not None:  # each check is a whole outer iteration: stop sooner
            stall_patience = min(stall_patience, 5)
    elif solver == "subgradient":
        engine = SubgradientEngine(datafit, penalty, w0, step, schedule=schedule)
        stall_patience = None
    else:
        engine = ProximalEngine(datafit, penalty, w0, step, accelerated=solver == "fista",
                                restart=restart, backtracking=backtracking)
    out = run_loop(
        engine, datafit, alpha, l1_ratio, max_iter=max_iter, tol=tol, check_every=check_every,
        record_every=record_every, record_coef=record_coef, stall_patience=stall_patience,
        callback=callback, catch_interrupt=catch_interrupt,
        certify_fn=certify_sharded if distributed else None,
    )
    coef = engine.coef().detach().clone()
    if warn and out.status in ("max_iter", "diverged", "stalled"):
        warnings.warn(
            f"{solver}: {out.status} after {out.n_iter} iterations; relative duality gap "
            f"{float(out.cert.rel_gap):.3e} (tol {tol:.1e})",
            ConvergenceWarning, stacklevel=2,
        )
    return SolveResult(
        solver=solver, coef=coef, intercept=datafit.intercept(coef).detach(),
        n_iter=out.n_iter, gap=out.cert.rel_gap, gap_abs=out.cert.gap,
        objective=out.cert.objective, kkt=out.cert.kkt, converged=out.status == "converged",
        status=out.status, lr=getattr(engine, "lr", None), time=out.time,
        alpha=float(alpha), l1_ratio=float(l1_ratio),
        trace=out.trace.arrays() if out.trace is not None else None,
    )


class ConvergenceWarning(UserWarning):
    """A solver stopped before reaching ``tol`` (max_iter, divergence or a stall)."""
