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
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..certificates import Certificate
from .engine import Engine

STATUS_ORDER = ("interrupted", "diverged", "max_iter", "stopped", "stalled", "converged")


@dataclass
class Trace:
    """What the loop recorded; ``arrays()`` gives numpy arrays (float64, int64)."""

    iteration: list[int] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    objective: list[np.ndarray] = field(default_factory=list)
    gap: list[np.ndarray] = field(default_factory=list)
    kkt: list[np.ndarray] = field(default_factory=list)
    n_zeros: list[np.ndarray] = field(default_factory=list)
    coef: list[np.ndarray] = field(default_factory=list)
    epoch: list[float] = field(default_factory=list)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"iteration": np.asarray(self.iteration, dtype=np.int64),
               "time": np.asarray(self.time, dtype=np.float64)}
        for name in ("objective", "gap", "kkt"):
            out[name] = np.asarray(getattr(self, name), dtype=np.float64)
        out["n_zeros"] = np.asarray(self.n_zeros, dtype=np.int64)
        if self.coef:
            out["coef"] = np.stack(self.coef).astype(np.float64)
        if self.epoch:
            out["epoch"] = np.asarray(self.epoch, dtype=np.float64)
        return out


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
    """Book-keeping of a loop's columns: which are live, what the retired ones reached."""

    def __init__(self, w: Tensor) -> None:
        self.batch = w.dim() == 2
        K = w.shape[1] if self.batch else 1
        self.ids = torch.arange(K)  # global ids of the engine's columns
        self.active = torch.ones(K, dtype=torch.bool)  # engine columns still running
        self.coef = w.detach().clone()
        self.n_iters = np.zeros(K, dtype=np.int64)
        self.status = np.array(["max_iter"] * K, dtype=object)
        self.best = torch.full((K,), math.inf, dtype=torch.float64)
        self.since = torch.zeros(K, dtype=torch.long)
        self.dev_cert: list[Tensor] | None = None  # final certificates, on the device

    def live(self) -> Tensor:
        return self.ids[self.active]

    def finish(self, engine: Engine, cert: Certificate, final: Tensor, status: np.ndarray,
               k: int) -> None:
        """Store the columns ``final`` (a mask over the engine's columns) as done."""
        final = final & self.active
        if not bool(final.any()):
            return
        gids = self.ids[final]
        w = engine.coef().detach()
        fields = [f.reshape(-1) for f in cert]
        if self.dev_cert is None:
            self.dev_cert = [torch.full((len(self.status),), math.nan, dtype=f.dtype,
                                        device=f.device) for f in fields]
        if self.batch:
            sel = final.nonzero().squeeze(1).to(w.device)
            self.coef[:, gids.to(w.device)] = w[:, sel]
        else:
            self.coef = w.clone()
        for dst, f in zip(self.dev_cert, fields, strict=True):
            dst[gids.to(f.device)] = f[final.to(f.device)]
        self.n_iters[gids.numpy()] = k
        self.status[gids.numpy()] = status[final.numpy()]
        self.active &= ~final

    def retire(self, engine: Engine) -> None:
        """Let the engine drop its finished columns, if it can."""
        if self.batch and not bool(self.active.all()) and bool(self.active.any()):
            if engine.retire(self.active.to(engine.coef().device)):
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
    rec = _Recorder(trace, cols, record_coef)
    floor = stall_floor(engine.coef().dtype)
    elapsed, k, t_start = 0.0, 0, time.perf_counter()
    try:
        if trace is not None:
            rec(0, 0.0, engine, engine.certificate())
        t0 = time.perf_counter()
        while k < max_iter and bool(cols.active.any()):
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
        cols.finish(engine, engine.certificate(), cols.active.clone(),
                    np.array(["interrupted"] * len(cols.active), dtype=object), k)
    if bool(cols.active.any()):  # a check at k was not reached (max_time between checks)
        cols.finish(engine, engine.certificate(), cols.active.clone(),
                    np.array(["max_iter"] * len(cols.active), dtype=object), k)
    return cols.result(k, elapsed, trace)


def _check(cols: _Columns, engine: Engine, cert: Certificate, k: int, tol: float,
           checking: bool, patience: int | None, floor: float, last: bool,
           callback: Callable[[int, Tensor, Certificate], bool | None] | None) -> bool:
    """Decide which columns stop at iteration ``k``; True when the whole loop stops."""
    vals = torch.stack([cert.objective.reshape(-1), cert.rel_gap.reshape(-1)]).double().cpu()
    obj, rel = vals[0], vals[1]
    diverged = ~(torch.isfinite(obj) & torch.isfinite(rel))
    n = len(rel)
    status = np.array(["max_iter"] * n, dtype=object)
    status[diverged.numpy()] = "diverged"
    if not checking:
        cols.finish(engine, cert, diverged, status, k)
        return False
    done = (rel <= tol) & ~diverged
    status[done.numpy()] = "converged"
    gids = cols.ids
    improved = rel < cols.best[gids] * (1 - 1e-3)
    cols.best[gids] = torch.where(improved, rel, cols.best[gids])
    cols.since[gids] = torch.where(improved, 0, cols.since[gids] + 1)
    stalled = torch.zeros(n, dtype=torch.bool)
    if patience is not None:
        stalled = ~done & ~diverged & (cols.since[gids] >= patience) & (cols.best[gids] < floor)
    status[stalled.numpy()] = "stalled"
    final = done | diverged | stalled
    stop = False
    if callback is not None and bool((cols.active & ~final).any()):
        stop = bool(callback(k, engine.coef(), cert))
        if stop:
            status[(~final).numpy()] = "stopped"
    cols.finish(engine, cert, final | torch.tensor(last or stop), status, k)
    return stop or not bool(cols.active.any())


class _Recorder:
    """Appends one trace point: every column, retired ones with their final values."""

    def __init__(self, trace: Trace | None, cols: _Columns, record_coef: object) -> None:
        self.trace, self.cols, self.record_coef = trace, cols, record_coef
        self.index = None
        if not isinstance(record_coef, bool):
            self.index = torch.as_tensor(np.asarray(record_coef), dtype=torch.long)

    def __call__(self, k: int, elapsed: float, engine: Engine, cert: Certificate) -> None:
        tr, cols = self.trace, self.cols
        w = engine.coef().detach()
        fields = [cert.objective, cert.rel_gap, cert.kkt, (w == 0).sum(0)]
        if cols.batch:
            full = cols.coef.clone()
            full[:, cols.ids.to(w.device)] = w
            w = full
            fields = self._merge(fields)
        tr.iteration.append(k)
        tr.time.append(elapsed)
        if engine.epoch is not None:
            tr.epoch.append(float(engine.epoch))
        values = torch.stack([f.double().reshape(-1) for f in fields]).cpu().numpy()
        for name, v in zip(("objective", "gap", "kkt", "n_zeros"), values, strict=True):
            getattr(tr, name).append(v if cols.batch else v[0])
        if self.record_coef is not False:
            wc = w.to("cpu", copy=True)
            tr.coef.append((wc if self.index is None else wc[self.index]).numpy())

    def _merge(self, fields: list[Tensor]) -> list[Tensor]:
        """Batch fields over all ``K`` columns: live values, retired ones frozen."""
        cols = self.cols
        K = len(cols.status)
        frozen = cols.dev_cert
        sources = [None] * 3 if frozen is None else [frozen[0], frozen[2], frozen[3]]
        out = []
        for i, f in enumerate(fields):
            f = f.reshape(-1).double()
            if i == 3:
                full = (cols.coef == 0).sum(0).double().to(f.device)
            elif sources[i] is not None:
                full = sources[i].double().clone()
            else:
                full = torch.full((K,), math.nan, dtype=torch.float64, device=f.device)
            full[cols.ids.to(f.device)] = f
            out.append(full)
        return out
