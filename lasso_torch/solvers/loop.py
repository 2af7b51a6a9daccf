"""The one run loop every solver shares.

A solver is an *engine*: ``step()`` advances one iteration (one epoch for coordinate
descent) without host synchronisation, and ``coef()`` returns the current (sparse)
iterate. The loop

* checks every ``check_every`` iterations (the only host syncs): the duality gap and the
  objective; stops on ``rel_gap <= tol`` (``converged``), a non-finite objective
  (``diverged``), no progress near the dtype's precision (``stalled``: a float32 run
  reports the gap it reached instead of looping to ``max_iter``), a callback asking to
  stop (``stopped``), Ctrl-C when ``catch_interrupt`` (``interrupted``), or ``max_iter``;
* records every ``record_every`` iterations (0: never) the iteration, elapsed solver
  time (recording itself excluded), objective, relative gap, KKT violation, the count of
  exact zeros and the coefficients (all of them, an index subset, or none).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from ..certificates import Certificate
from ..certificates import certify as _certify
from ..datafits import Quadratic


class Engine(Protocol):
    def step(self) -> None: ...
    def coef(self) -> Tensor: ...


@dataclass
class Trace:
    """What the loop recorded; ``arrays()`` gives numpy arrays (float64, int64)."""

    iteration: list[int] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    objective: list[float] = field(default_factory=list)
    gap: list[float] = field(default_factory=list)
    kkt: list[float] = field(default_factory=list)
    n_zeros: list[int] = field(default_factory=list)
    coef: list[np.ndarray] = field(default_factory=list)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {
            "iteration": np.asarray(self.iteration, dtype=np.int64),
            "time": np.asarray(self.time, dtype=np.float64),
            "objective": np.asarray(self.objective, dtype=np.float64),
            "gap": np.asarray(self.gap, dtype=np.float64),
            "kkt": np.asarray(self.kkt, dtype=np.float64),
            "n_zeros": np.asarray(self.n_zeros, dtype=np.int64),
        }
        if self.coef:
            out["coef"] = np.stack(self.coef).astype(np.float64)
        return out


@dataclass
class LoopResult:
    n_iter: int
    status: str
    cert: Certificate
    time: float
    trace: Trace | None


def _sync(t: Tensor) -> None:
    if t.is_cuda:
        torch.cuda.synchronize(t.device)


def stall_floor(dtype: torch.dtype) -> float:
    """Relative gaps below this are near the dtype's rounding noise (float64: 2e-12,
    float32: 1.2e-4); a run that stops improving above it is slow, not stalled."""
    return (1e4 if dtype == torch.float64 else 1e3) * torch.finfo(dtype).eps


def run_loop(
    engine: Engine,
    datafit: Quadratic,
    alpha: float,
    l1_ratio: float,
    *,
    max_iter: int,
    tol: float,
    check_every: int,
    record_every: int = 0,
    record_coef: bool | Tensor | np.ndarray | list[int] = True,
    stall_patience: int | None = 20,
    callback: Callable[[int, Tensor, Certificate], bool | None] | None = None,
    catch_interrupt: bool = False,
    certify_fn: Callable[[Quadratic, Tensor, float, float], Certificate] | None = None,
) -> LoopResult:
    """Iterate ``engine`` until a stopping rule fires (see the module docstring).

    ``certify_fn`` replaces :func:`~lasso_torch.certificates.certify` (the row-sharded
    solver passes one whose sums over the rows are all-reduced); otherwise an engine with
    a ``certify`` method of the same signature certifies itself (the working-set engine,
    to share the residual with its next step).
    """
    certify = certify_fn or getattr(engine, "certify", None) or _certify
    trace = Trace() if record_every > 0 else None
    index = None
    if not isinstance(record_coef, bool):
        index = torch.as_tensor(np.asarray(record_coef), dtype=torch.long)
    dtype = datafit.X.dtype
    floor = stall_floor(dtype)
    best, since_best = float("inf"), 0
    elapsed, status, k = 0.0, "max_iter", 0
    cert: Certificate | None = None
    cert_at = -1  # the iteration ``cert`` was measured at

    def record(k: int, c: Certificate) -> None:
        w = engine.coef()
        trace.iteration.append(k)
        trace.time.append(elapsed)
        trace.objective.append(float(c.objective))
        trace.gap.append(float(c.rel_gap))
        trace.kkt.append(float(c.kkt))
        trace.n_zeros.append(int((w == 0).sum()))
        if record_coef is not False:
            wc = w.detach().to("cpu", copy=True)
            trace.coef.append((wc if index is None else wc[index]).numpy())

    try:
        if trace is not None:
            record(0, certify(datafit, engine.coef(), alpha, l1_ratio))
        t0 = time.perf_counter()
        while k < max_iter:
            engine.step()
            k += 1
            checking = k % check_every == 0 or k == max_iter
            recording = trace is not None and k % record_every == 0
            if not (checking or recording):
                continue
            _sync(datafit.X)
            elapsed += time.perf_counter() - t0
            cert, cert_at = certify(datafit, engine.coef(), alpha, l1_ratio), k
            if recording:
                record(k, cert)
            obj, gap = float(cert.objective), float(cert.rel_gap)
            if not (np.isfinite(obj) and np.isfinite(gap)):
                status = "diverged"
                break
            if checking:
                if gap <= tol:
                    status = "converged"
                    break
                if callback is not None and callback(k, engine.coef(), cert):
                    status = "stopped"
                    break
                if gap < best * (1 - 1e-3):
                    best, since_best = gap, 0
                else:
                    since_best += 1
                    if stall_patience is not None and since_best >= stall_patience and best < floor:
                        status = "stalled"
                        break
            t0 = time.perf_counter()
    except KeyboardInterrupt:
        if not catch_interrupt:
            raise
        status = "interrupted"
    if cert_at != k:
        cert = certify(datafit, engine.coef(), alpha, l1_ratio)
    return LoopResult(n_iter=k, status=status, cert=cert, time=elapsed, trace=trace)
