"""The one run loop every solver, path, CV fold set and sharded run shares.

An engine (:mod:`lasso_torch.solvers.engine`) holds ``w (p,)`` or a batch ``W (p, K)``.
The loop

* checks every ``check_every`` iterations (the only host syncs): one certificate of every
  live column. A column stops on ``rel_gap <= tol`` (``converged``), a non-finite
  objective or gap (``diverged``), no progress near the dtype's precision (``stalled``: a
  float32 run reports the gap it reached instead of looping to ``max_iter``), or at
  ``max_iter`` / ``max_time``; every column stops on a callback asking to (``stopped``)
  or on Ctrl-C / SIGTERM when ``catch_interrupt`` (``interrupted``). A stopped column
  *retires*: its coefficients and certificate are final, and an engine that can shrink
  its work drops it;
* records every ``record_every`` iterations (0: never) the iteration, elapsed solver time
  (checks and recording excluded), objective, relative gap, KKT violation, the count of
  exact zeros and the coefficients (all of them, an index subset, or none); for a batch
  every field has a trailing column axis, retired columns repeating their final values.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..certificates import Certificate, Final
from ..datafits import Quadratic
from .engine import Engine
from .trace import Recorder, Trace

STATUS_ORDER = ("interrupted", "diverged", "max_iter", "stopped", "stalled", "converged")


@dataclass
class LoopResult:
    """Per column (``K = 1`` for one problem): ``coef (p,)``/``(p, K)``, ``cert`` (0-d or
    ``(K,)`` fields), ``n_iters (K,)``, ``statuses (K,)``; ``status`` is the worst of them
    (``converged`` only when every column converged), ``n_iter`` the iterations run."""

    n_iter: int
    status: str
    cert: Certificate
    time: float
    trace: Trace | None
    coef: Tensor
    n_iters: np.ndarray
    statuses: np.ndarray


def _sync(t: Tensor) -> None:
    if t.is_cuda:
        torch.cuda.synchronize(t.device)


def stall_floor(dtype: torch.dtype) -> float:
    """Relative gaps below this are near the dtype's rounding noise (float64: 2e-12,
    float32: 1.2e-4); a run that stops improving above it is slow, not stalled."""
    return (1e4 if dtype == torch.float64 else 1e3) * torch.finfo(dtype).eps


class _Columns:
    """Book-keeping of a loop's columns on the host (numpy: a check of a tiny problem must
    cost microseconds): which are live, what the retired ones reached."""

    def __init__(self, w: Tensor) -> None:
        self.batch = w.dim() == 2
        K = w.shape[1] if self.batch else 1
        self.ids = np.arange(K)  # global ids of the engine's columns
        self.active = np.ones(K, dtype=bool)  # engine columns still running
        self.coef = w.detach().clone()
        self.n_iters = np.zeros(K, dtype=np.int64)
        self.status = np.array(["max_iter"] * K, dtype=object)
        self.best = np.full(K, math.inf)
        self.since = np.zeros(K, dtype=np.int64)
        self.dev_cert: list[Tensor] | None = None  # final certificates, on the device

    def finish(self, engine: Engine, cert: Certificate, final: np.ndarray,
               status: np.ndarray, k: int) -> None:
        """Store the columns ``final`` (a mask over the engine's columns) as done."""
        final = final & self.active
        if not final.any():
            return
        gids = self.ids[final]
        w = engine.coef().detach()
        if not self.batch:
            self.coef = w.clone()
            self.dev_cert = [f.reshape(1) for f in cert]
        else:
            fields = [f.reshape(-1) for f in cert]
            if self.dev_cert is None:
                self.dev_cert = [torch.full((len(self.status),), math.nan, dtype=f.dtype,
                                            device=f.device) for f in fields]
            sel = torch.from_numpy(np.flatnonzero(final)).to(w.device)
            dst_ids = torch.from_numpy(gids).to(w.device)
            self.coef[:, dst_ids] = w[:, sel]
            for dst, f in zip(self.dev_cert, fields, strict=True):
                dst[dst_ids.to(f.device)] = f[sel.to(f.device)]
        self.n_iters[gids] = k
        self.status[gids] = status[final]
        self.active &= ~final

    def retire(self, engine: Engine) -> None:
        """Let the engine drop its finished columns, if it can."""
        if self.batch and not self.active.all() and self.active.any():
            if engine.retire(torch.from_numpy(self.active).to(engine.coef().device)):
                self.ids = self.ids[self.active]
                self.active = self.active[self.active]

    def result(self, k: int, elapsed: float, trace: Trace | None) -> LoopResult:
        worst = min(set(self.status), key=STATUS_ORDER.index)
        cert = Certificate(*(f if self.batch else f[0] for f in self.dev_cert))
        return LoopResult(n_iter=k, status=worst, cert=cert, time=elapsed, trace=trace,
                          coef=self.coef, n_iters=self.n_iters, statuses=self.status)


def run_loop(
    engine: Engine,
    *,
    max_iter: int,
    tol: float,
    check_every: int,
    record_every: int = 0,
    record_coef: bool | Tensor | np.ndarray | list[int] = True,
    stall_patience: int | None = 20,
    callback: Callable[[int, Tensor, Certificate], bool | None] | None = None,
    catch_interrupt: bool = False,
    max_time: float | None = None,
) -> LoopResult:
    """Iterate ``engine`` until every column has stopped (see the module docstring)."""
    cols = _Columns(engine.coef())
    trace = Trace() if record_every > 0 else None
    rec = Recorder(trace, cols, record_coef)
    floor = stall_floor(engine.coef().dtype)
    elapsed, k, t_start = 0.0, 0, time.perf_counter()
    try:
        if trace is not None:
            rec(0, 0.0, engine, engine.certificate())
        t0 = time.perf_counter()
        while k < max_iter and cols.active.any():
            engine.step()
            k += 1
            timed_out = max_time is not None and time.perf_counter() - t_start > max_time
            checking = k % check_every == 0 or k == max_iter or timed_out
            recording = trace is not None and k % record_every == 0
            if not (checking or recording):
                continue
            _sync(engine.coef())
            elapsed += time.perf_counter() - t0
            cert = engine.certificate()
            if recording:
                rec(k, elapsed, engine, cert)
            if _check(cols, engine, cert, k, tol, checking, stall_patience, floor,
                      k >= max_iter or timed_out, callback):
                break
            cols.retire(engine)
            t0 = time.perf_counter()
    except KeyboardInterrupt:
        if not catch_interrupt:
            raise
        cols.finish(engine, engine.certificate(), cols.active.copy(),
                    np.array(["interrupted"] * len(cols.active), dtype=object), k)
    if cols.active.any():  # a check at k was not reached (max_time between checks)
        cols.finish(engine, engine.certificate(), cols.active.copy(),
                    np.array(["max_iter"] * len(cols.active), dtype=object), k)
    return cols.result(k, elapsed, trace)


def _check(cols: _Columns, engine: Engine, cert: Certificate, k: int, tol: float,
           checking: bool, patience: int | None, floor: float, last: bool,
           callback: Callable[[int, Tensor, Certificate], bool | None] | None) -> bool:
    """Decide which columns stop at iteration ``k``; True when the whole loop stops."""
    vals = torch.stack([cert.objective.reshape(-1), cert.rel_gap.reshape(-1),
                        cert.gap.reshape(-1)]).to("cpu", torch.float64).numpy()  # one sync
    worse = (_worse_than_zero(vals) & _p0_is_objective(engine) if last  # above P(0):
             else np.zeros(vals.shape[1], dtype=bool))  # diverged (checked at the end only)
    if not cols.batch:
        return _check_one(cols, engine, cert, k, tol, checking, patience, floor, last,
                          callback, float(vals[0, 0]), float(vals[1, 0]), bool(worse[0]))
    obj, rel = vals[0], vals[1]
    diverged = ~(np.isfinite(obj) & np.isfinite(rel))
    status = np.where(diverged, "diverged", "max_iter").astype(object)
    if not checking:
        cols.finish(engine, cert, diverged, status, k)
        return False
    done = (rel <= tol) & ~diverged
    status[done] = "converged"
    status[worse & ~done & ~diverged] = "diverged"
    gids = cols.ids
    improved = rel < cols.best[gids] * (1 - 1e-3)
    cols.best[gids] = np.where(improved, rel, cols.best[gids])
    cols.since[gids] = np.where(improved, 0, cols.since[gids] + 1)
    stalled = np.zeros(len(rel), dtype=bool)
    if patience is not None:
        stalled = ~done & ~diverged & (cols.since[gids] >= patience) & (cols.best[gids] < floor)
    status[stalled] = "stalled"
    final = done | diverged | stalled
    stop = False
    if callback is not None and (cols.active & ~final).any():
        stop = bool(callback(k, engine.coef(), cert))
        if stop:
            status[~final] = "stopped"
    cols.finish(engine, cert, final | (last or stop), status, k)
    return stop or not cols.active.any()


def _p0_is_objective(engine: Engine) -> bool:
    """Whether ``gap / rel_gap`` is ``P(0)`` itself: the squared loss with a duality gap (a
    GLM's scale excludes the loss's floor; a KKT certificate's is a gradient norm)."""
    df = getattr(engine, "datafit", None)
    return isinstance(df, Quadratic) and getattr(getattr(engine, "penalty", None), "convex",
                                                 True)


def _worse_than_zero(vals: np.ndarray) -> np.ndarray:
    """Per column, whether ``P(w) > P(0)`` (``P(0) = gap / rel_gap``) beyond rounding:
    an answer worse than all zeros."""
    obj, rel, gap = vals
    with np.errstate(divide="ignore", invalid="ignore"):
        p0 = np.where(rel > 0, gap / rel, np.inf)
    return np.isfinite(p0) & (obj > p0 * (1 + 1e-9))


def _check_one(cols: _Columns, engine: Engine, cert: Certificate, k: int, tol: float,
               checking: bool, patience: int | None, floor: float, last: bool,
               callback: Callable[[int, Tensor, Certificate], bool | None] | None,
               obj: float, rel: float, worse: bool = False) -> bool:
    """:func:`_check` for one problem, in Python floats (a tiny solve's checks are cheap)."""
    status = None
    if not (math.isfinite(obj) and math.isfinite(rel)):
        status = "diverged"
    elif worse and not (checking and rel <= tol):
        status = "diverged"  # max_iter with an objective above P(0): it went the wrong way
    elif checking and rel <= tol:
        status = "converged"
    elif checking:
        if rel < cols.best[0] * (1 - 1e-3):
            cols.best[0], cols.since[0] = rel, 0
        else:
            cols.since[0] += 1
            if patience is not None and cols.since[0] >= patience and cols.best[0] < floor:
                status = "stalled"
        if status is None and callback is not None and callback(k, engine.coef(), cert):
            status = "stopped"
        if status is None and last:
            status = "max_iter"
    if status is None:
        return False
    cols.finish(engine, cert, cols.active.copy(), np.array([status], dtype=object), k)
    return True


REVISABLE = ("converged", "stalled", "max_iter")  # statuses the final certificate decides


def certified_status(status: np.ndarray, final: Final, tol: float) -> np.ndarray:
    """Each column's status after its final certificate: ``converged`` exactly where the
    certified value is within ``tol`` (plus the rounding allowance) and not negative beyond
    it; a column the loop called converged that fails is ``stalled``; ``diverged``,
    ``stopped`` and ``interrupted`` stay."""
    rel = final.cert.rel_gap.reshape(-1).cpu().double().numpy()
    bound = final.bound.reshape(-1).cpu().double().numpy()
    ok = (rel <= tol + bound) & (rel >= -bound)
    out = np.asarray(status, dtype=object).reshape(-1).copy()
    for k, st in enumerate(out.tolist()):
        if st in REVISABLE:
            out[k] = "converged" if ok[k] else "stalled" if st == "converged" else st
    return out


def describe(final: Final, tol: float) -> str:
    """``relative duality gap 3.2e-05 (tol 1.0e-06; certified in float64)``: what a warning
    states of the final certificate."""
    what = "KKT violation" if final.kind == "kkt" else "duality gap"
    rel = final.cert.rel_gap.reshape(-1)
    worst = float(rel.abs().amax()) if rel.numel() else float("nan")
    if rel.numel() and bool((rel < -final.bound.reshape(-1)).any()):
        return (f"relative {what} {float(rel.amin()):.3e} is negative beyond rounding "
                "(a broken certificate, not a solution)")
    return f"relative {what} {worst:.3e} (tol {tol:.1e}; certified in float64)"
