r"""The proximal solvers with the rows of ``X`` sharded over ``torch.distributed`` processes.

Rank ``r`` holds a block of rows ``X_r (n_r, p)``, ``y_r (n_r,)``; the coefficients ``w``
(``(p,)``, or the batch ``W (p, K)`` of a path) are replicated. Every sum over the rows is
one all-reduce (``SUM``) over the process group, so no rank ever gathers ``X``::

    n, x_mean, y_mean  = sum_r (n_r, X_r^T 1, 1^T y_r)            once, at setup
    r_r                = (y_r - y_mean) - (X_r w - x_mean^T w)     local: the centered residual
    X_c^T r            = sum_r X_r^T r_r                           each step: one all-reduce
                                                                   of p (or p x K) numbers
    L                  = power iteration on v -> sum_r X_r^T (X_r v - x_mean^T v) / n
    gap, P(w), KKT     = from sum_r (X_r^T r_r, ||r_r||^2, r_r^T y_c,r)   each check: one
                                                                   all-reduce of p + 2 numbers

An all-reduce leaves the same values on every rank, so every rank takes the same prox
step, the same restart and the same stopping decision: the iterates are replicated, and
equal the single-process ones up to the rounding of the sums. With the Gram form
(``gram``; ``"auto"`` when the *global* ``n >= 4p``), ``G = sum_r X_r^T X_r / n - x_mean
x_mean^T`` is all-reduced once and the steps need no communication, only the checks do.

Use it from an initialized process group (``torchrun`` sets the environment; gloo on the
CPU, nccl on CUDA, where each rank's data is on its own GPU)::

    torch.distributed.init_process_group("gloo")
    res = lt.solve(X_local, y_local, alpha, solver="fista", distributed=True)

Everything a rank passes that is not data (alpha, solver, tol, ...) must be the same on
every rank; :func:`sharded_data` checks that, and an invalid shard on any rank raises the
same :class:`~lasso_torch.InputError` on every rank instead of leaving the others waiting.
A ``callback`` must return the same answer on every rank, and ``catch_interrupt`` is
rank-local (a Ctrl-C that reaches the ranks at different iterations leaves the others
waiting in their next all-reduce): leave it off, the launcher stops every rank.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor

from .certificates import Certificate, certificate_from_sums
from .certificates import certify as _certify
from .checks import as_data
from .datafits import Quadratic, _col, power_iteration
from .errors import InputError
from .penalties import make_penalty
from .solve import ConvergenceWarning
from .solvers import ProximalEngine

DISTRIBUTED_SOLVERS = ("ista", "fista")
"""The solvers that run with the rows sharded (``lt.solve(..., distributed=True)``)."""


# --- the process group -------------------------------------------------------------------
def check_group(group: Any = None) -> None:
    """Raise :class:`InputError` unless a ``torch.distributed`` process group is initialized."""
    if not (dist.is_available() and dist.is_initialized()):
        raise InputError(
            "distributed=True needs an initialized torch.distributed process group: run under "
            "torchrun (or call torch.distributed.init_process_group) before solving"
        )


def init_from_env(device: str | torch.device = "cpu") -> bool:
    """Initialize the default process group from torchrun's environment, if there is one.

    Uses nccl for a CUDA ``device`` (and binds this rank to GPU ``LOCAL_RANK``), gloo
    otherwise. Returns True when a group is (now) initialized, False when the process
    was not started by a launcher (no ``WORLD_SIZE`` in the environment).
    """
    if dist.is_initialized():
        return True
    if "WORLD_SIZE" not in os.environ:
        return False
    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if cuda else "gloo")
    return True


def rank_and_world(group: Any = None) -> tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` when no process group is initialized."""
    if not (dist.is_available() and dist.is_initialized()):
        return 0, 1
    return dist.get_rank(group), dist.get_world_size(group)


def agree(error: str | None, group: Any = None) -> None:
    """Collective: raise the same :class:`InputError` on every rank if any rank has an error.

    Every rank must call it; ``error`` is this rank's message (``None`` when all is well).
    """
    errors: list[str | None] = [None] * dist.get_world_size(group)
    dist.all_gather_object(errors, error, group=group)
    bad = [(r, e) for r, e in enumerate(errors) if e]
    if bad:
        raise InputError("; ".join(f"rank {r}: {e}" for r, e in bad))


def sharded_data(
    X: Any, y: Any, solver: str, options: Sequence[Any] = (), group: Any = None
) -> tuple[Tensor, Tensor]:
    """Collective :func:`lasso_torch.solve.as_data` for one shard of rows per rank.

    Validates each rank's shard, then checks that the shards agree on the number of
    features, the dtype and the device type, that ``solver`` runs sharded and that
    ``options`` are equal on every rank. Any problem raises on every rank.
    """
    check_group(group)
    error, shape = None, None
    try:
        X, y = as_data(X, y)
        shape = (X.shape[1], str(X.dtype), X.device.type)
    except InputError as e:
        error = str(e)
    agree(error, group)
    world = dist.get_world_size(group)
    mine = (shape, solver, tuple(repr(o) for o in options))
    everyone: list[Any] = [None] * world
    dist.all_gather_object(everyone, mine, group=group)
    problems = []
    if len({s for s, _, _ in everyone}) > 1:
        problems.append("shards differ in (features, dtype, device): "
                        + ", ".join(f"rank {r} {s}" for r, (s, _, _) in enumerate(everyone)))
    if len({(s, o) for _, s, o in everyone}) > 1:
        problems.append("the options (solver, alpha, tol, ...) differ across ranks")
    if solver not in DISTRIBUTED_SOLVERS:
        problems.append(f"solver {solver!r} does not run with sharded rows; "
                        f"choose from {', '.join(DISTRIBUTED_SOLVERS)}")
    if problems:
        raise InputError("; ".join(problems))
    return X, y


def sharded_standardize(X: Tensor, group: Any = None) -> Tensor:
    """:func:`lasso_torch.data.standardize` of the global data, for this rank's rows.

    The column means and (population) standard deviations are all-reduced; constant
    columns keep scale 1. Returns this rank's standardized rows.
    """
    count = torch.tensor([X.shape[0]], dtype=torch.int64, device=X.device)
    dist.all_reduce(count, group=group)
    n = int(count)
    total = X.sum(0)
    dist.all_reduce(total, group=group)
    mean = total / n
    sq = ((X - mean) ** 2).sum(0)
    dist.all_reduce(sq, group=group)
    scale = (sq / n).sqrt()
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return (X - mean) / scale


# --- the sharded datafit -----------------------------------------------------------------
class ShardedQuadratic(Quadratic):
    """:class:`~lasso_torch.datafits.Quadratic` on this rank's rows; sums all-reduced.

    ``X``, ``y``, ``n_local`` are this rank's; ``n``, ``x_mean``, ``y_mean``, the gradient,
    ``Xty``, ``gram``, ``lipschitz`` and ``p0`` are global and equal on every rank.
    ``residual(w)`` is this rank's block of the global centered residual.
    Set ``timed = True`` (a diagnostic, off by default) to time every all-reduce: a
    barrier first, whose seconds (waiting for the slowest rank: load imbalance) go to
    ``wait_seconds``, then the all-reduce itself, device synchronized, to ``comm_seconds``.
    """

    def __init__(self, X: Tensor, y: Tensor, fit_intercept: bool = True,
                 gram: bool | str = "auto", group: Any = None) -> None:
        check_group(group)
        self.group = group
        self.n_local = X.shape[0]
        self.timed, self.comm_calls = False, 0
        self.comm_seconds = self.wait_seconds = 0.0
        super().__init__(X, y, fit_intercept, gram)  # n and the means through the hooks below

    def count_rows(self, X: Tensor) -> int:
        count = torch.tensor([X.shape[0]], dtype=torch.int64, device=X.device)
        return int(self.all_reduce(count))

    def reduce(self, t: Tensor) -> Tensor:
        return self.all_reduce(t)

    def all_reduce(self, t: Tensor) -> Tensor:
        """Sum ``t`` over the ranks, in place (pass a temporary), and return it."""
        t = t.contiguous()
        if not self.timed:
            dist.all_reduce(t, group=self.group)
            return t
        _sync(t)
        t0 = time.perf_counter()
        dist.barrier(group=self.group)
        t1 = time.perf_counter()
        dist.all_reduce(t, group=self.group)
        _sync(t)
        self.wait_seconds += t1 - t0
        self.comm_seconds += time.perf_counter() - t1
        self.comm_calls += 1
        return t

    fused_pass = False  # rmatvec all-reduces: keep the two products apart

    def residual(self, w: Tensor) -> Tensor:
        """This rank's rows of ``y_c - X_c w``: ``(y_r - y_mean) - (X_r w - x_mean^T w)``."""
        Xw = self.X @ w
        if self.fit_intercept:
            Xw = Xw - self.x_mean @ w
        return _col(self.yc, w) - Xw

    def rmatvec(self, r: Tensor) -> Tensor:
        """``X_c^T r = sum_r X_r^T r_r`` for the rank blocks of a centered ``r``."""
        return self.all_reduce(self.X.T @ r)

    @cached_property
    def Xty(self) -> Tensor:
        return self.all_reduce(self.X.T @ self.yc) / self.n

    @cached_property
    def gram(self) -> Tensor:
        G = self.all_reduce(self.X.T @ self.X) / self.n
        if self.fit_intercept:
            G = G - torch.outer(self.x_mean, self.x_mean)
        return G

    def value(self, w: Tensor) -> Tensor:
        r = self.residual(w)
        return self.all_reduce((r * r).sum(0)) / (2 * self.n)

    @cached_property
    def lipschitz(self) -> Tensor:
        """``sigma_max(X_c)^2 / n`` by power iteration, one all-reduce per power step."""
        if self.use_gram:
            return power_iteration(lambda v: self.gram @ v, self.p, self.X)

        def op(v: Tensor) -> Tensor:
            Xv = self.X @ v
            if self.fit_intercept:
                Xv = Xv - self.x_mean @ v
            return self.rmatvec(Xv) / self.n

        return power_iteration(op, self.p, self.X)


def _sync(t: Tensor) -> None:
    if t.is_cuda:
        torch.cuda.synchronize(t.device)


def certify_sharded(datafit: ShardedQuadratic, w: Tensor, alpha: float | Tensor,
                    l1_ratio: float) -> Certificate:
    """:func:`lasso_torch.certificates.certify` with one all-reduce of ``p + 2`` numbers
    (``p + 2`` rows of ``K`` for a batch): ``X_r^T r_r``, ``||r_r||^2`` and ``r_r^T y_c,r``."""
    r = datafit.residual(w)
    local = torch.cat([
        datafit.X.T @ r,
        (r * r).sum(0).unsqueeze(0),
        (r * _col(datafit.yc, r)).sum(0).unsqueeze(0),
    ])
    sums = datafit.all_reduce(local)
    p = datafit.p
    Xtr, r2, ry = sums[:p], sums[p], sums[p + 1]
    return certificate_from_sums(datafit, w, r2, ry, Xtr, alpha, l1_ratio)


# --- the batched path --------------------------------------------------------------------
@dataclass
class BatchedRun:
    """What :func:`run_batched` reached: per-column arrays of length ``K``.

    ``trace`` (when ``record_every > 0``) holds ``iteration (T,)``, ``objective (T, K)``,
    ``gap (T, K)`` (relative) and ``coef (T, p, K)`` when ``record_coef``.
    """

    coef: Tensor
    n_iters: Tensor
    status: np.ndarray
    cert: Certificate
    n_iter: int
    time: float
    trace: dict[str, np.ndarray] | None


def run_batched(
    engine: ProximalEngine,
    datafit: Quadratic,
    alphas: Tensor,
    l1_ratio: float,
    *,
    max_iter: int,
    tol: float,
    check_every: int,
    record_every: int = 0,
    record_coef: bool = True,
) -> BatchedRun:
    """Iterate a columnwise engine on ``W (p, K)`` until every column's gap is ``<= tol``.

    Checks (the host syncs) every ``check_every`` steps measure all ``K`` gaps with one
    certificate; columns that have converged keep iterating with the rest (a column's
    ``n_iters`` is the first check it passed). Stops at ``max_iter`` or on a non-finite
    gap. Works on :class:`ShardedQuadratic` (certified with one all-reduce) or on a plain
    :class:`~lasso_torch.datafits.Quadratic` (one process, the reference).
    """
    certify = certify_sharded if isinstance(datafit, ShardedQuadratic) else _certify
    K = alphas.shape[0]
    n_iters = torch.full((K,), -1, dtype=torch.int64)
    rec: dict[str, list[Any]] | None = None
    if record_every > 0:
        rec = {"iteration": [], "objective": [], "gap": [], "coef": []}

    def record(k: int, c: Certificate) -> None:
        rec["iteration"].append(k)
        rec["objective"].append(c.objective.detach().cpu().numpy())
        rec["gap"].append(c.rel_gap.detach().cpu().numpy())
        if record_coef:
            rec["coef"].append(engine.coef().detach().to("cpu", copy=True).numpy())

    if rec is not None:
        record(0, certify(datafit, engine.coef(), alphas, l1_ratio))
    status, k, elapsed, cert = "max_iter", 0, 0.0, None
    t0 = time.perf_counter()
    while k < max_iter:
        engine.step()
        k += 1
        checking = k % check_every == 0 or k == max_iter
        recording = rec is not None and k % record_every == 0
        if not (checking or recording):
            continue
        _sync(datafit.X)
        elapsed += time.perf_counter() - t0
        cert = certify(datafit, engine.coef(), alphas, l1_ratio)
        if recording:
            record(k, cert)
        gaps = cert.rel_gap.detach().cpu()
        if not bool(torch.isfinite(gaps).all()):
            status = "diverged"
            break
        if checking:
            n_iters = torch.where((n_iters < 0) & (gaps <= tol), k, n_iters)
            if bool((n_iters >= 0).all()):
                status = "converged"
                break
        t0 = time.perf_counter()
    if cert is None or k % check_every != 0 and k != max_iter and status != "diverged":
        cert = certify(datafit, engine.coef(), alphas, l1_ratio)
    done = n_iters >= 0
    col_status = np.where(done.numpy(), "converged", status if status != "converged"
                          else "max_iter").astype(object)
    n_iters = torch.where(done, n_iters, k)
    trace = None
    if rec is not None:
        trace = {"iteration": np.asarray(rec["iteration"], dtype=np.int64),
                 "objective": np.stack(rec["objective"]).astype(np.float64),
                 "gap": np.stack(rec["gap"]).astype(np.float64)}
        if record_coef:
            trace["coef"] = np.stack(rec["coef"]).astype(np.float64)
    return BatchedRun(engine.coef().detach().clone(), n_iters, col_status, cert, k, elapsed,
                      trace)


def sharded_path(
    X: Any,
    y: Any,
    alphas: Any = None,
    l1_ratio: float = 1.0,
    *,
    n_alphas: int = 100,
    eps: float = 1e-3,
    solver: str = "fista",
    tol: float = 1e-6,
    max_iter: int = 20_000,
    fit_intercept: bool = True,
    lr: float | None = None,
    check_every: int = 10,
    restart: bool = True,
    gram: bool | str = "auto",
    record_every: int = 0,
    sharded: bool = True,
    warn: bool = True,
) -> Any:
    """The batched path with the rows sharded: all ``K`` alphas in one ``W (p, K)``.

    ``X``, ``y`` are this rank's rows. One FISTA (or ISTA) step is ``X_r W``, ``X_r^T R``
    and one all-reduce of the ``p x K`` block (none per step in the Gram form); every
    ``check_every`` steps one all-reduce of ``(p + 2) x K`` numbers certifies all
    columns. The default grid is ``n_alphas`` values from the global ``alpha_max`` down
    to ``eps * alpha_max``. ``sharded=False`` runs the same algorithm on one process
    (the reference the sharded one is tested against). The result's ``trace`` attribute
    (``record_every > 0``) is :attr:`BatchedRun.trace`.
    """
    from .path import PathResult

    grid = None if alphas is None else torch.as_tensor(alphas, dtype=torch.float64).tolist()
    opts = (grid, l1_ratio, n_alphas, eps, tol, max_iter, fit_intercept, lr, check_every,
            restart, gram)
    if sharded:
        X, y = sharded_data(X, y, solver, opts)
    else:
        X, y = as_data(X, y)
    if solver not in DISTRIBUTED_SOLVERS:
        raise InputError(f"unknown solver {solver!r}; choose from "
                         f"{', '.join(DISTRIBUTED_SOLVERS)}")
    if not 0.0 <= l1_ratio <= 1.0:
        raise InputError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}")
    t_start = time.perf_counter()
    datafit = (ShardedQuadratic if sharded else Quadratic)(X, y, fit_intercept, gram)
    if alphas is None:
        if l1_ratio == 0:
            raise InputError("an automatic alpha grid needs l1_ratio > 0; pass alphas")
        amax = float(datafit.Xty.abs().amax()) / l1_ratio
        expo = torch.linspace(0.0, math.log10(eps), n_alphas, dtype=torch.float64)
        alphas = amax * 10.0**expo
    alphas = torch.as_tensor(alphas, dtype=X.dtype, device=X.device).reshape(-1)
    if alphas.numel() == 0 or not bool((alphas > 0).all() & torch.isfinite(alphas).all()):
        raise InputError("alphas must be a non-empty list of finite numbers > 0")
    alphas = alphas.sort(descending=True).values
    K = alphas.numel()
    lip = float(datafit.lipschitz) if lr is None else 0.0
    step = float(lr) if lr is not None else (1.0 / lip if lip > 0 else 1.0)
    W0 = torch.zeros(datafit.p, K, dtype=X.dtype, device=X.device)
    engine = ProximalEngine(datafit, make_penalty(alphas, l1_ratio), W0, step,
                            accelerated=solver == "fista", restart=restart, columnwise=True)
    run = run_batched(engine, datafit, alphas, l1_ratio, max_iter=max_iter, tol=tol,
                      check_every=check_every, record_every=record_every)
    if warn and not bool((run.status == "converged").all()):
        warnings.warn(
            f"sharded path: {int((run.status != 'converged').sum())} of {K} alphas did not "
            f"reach tol {tol:.1e} in {run.n_iter} iterations "
            f"(largest relative gap {float(run.cert.rel_gap.max()):.3e})",
            ConvergenceWarning, stacklevel=2,
        )
    res = PathResult(
        alphas=alphas, coefs=run.coef, intercepts=datafit.intercept(run.coef).detach(),
        gaps=run.cert.rel_gap, n_iters=run.n_iters,
        converged=torch.as_tensor(run.status == "converged"), status=run.status,
        time=time.perf_counter() - t_start, strategy="sharded" if sharded else "batched",
        l1_ratio=float(l1_ratio),
    )
    res.trace = run.trace  # type: ignore[attr-defined]
    return res
