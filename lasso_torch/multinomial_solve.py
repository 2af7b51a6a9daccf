"""``lt.solve(X, y, alpha, loss="multinomial")``: sparse multinomial logistic regression.

The problem and its certificate: :mod:`lasso_torch.glm.multinomial`. ``penalty="l1"``
(elementwise, scikit-learn's ``penalty="l1"``) or ``"grouped"`` (glmnet's
``type.multinomial = "grouped"``); ``l1_ratio`` as everywhere. Two solvers:

* ``"prox_newton"`` (``"auto"`` on the CPU; a sparse ``X`` is densified): the compiled
  proximal Newton of :mod:`lasso_torch.solvers.mn_newton` (exact softmax Hessian, block
  CD over a working set of feature rows, a line search on the true objective), stopped by
  its compiled running certificate; ``max_iter`` counts outer iterations;
* ``"fista"`` (``"auto"`` on a GPU): FISTA with adaptive (gradient) restart on ``(W, b)``
  jointly, step ``1/L`` with ``L = ||[X 1]||_S^2 / (2 N)`` (the softmax Hessian is at
  most ``1/2``), the gap checked every ``check_every`` steps.

Either way the answer's status is ``converged`` only when the certificate of
:func:`lasso_torch.glm.multinomial.certificate` (float64, torch, at the profiled
intercepts, recomputed from the returned coefficients) is within ``tol``.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import torch
from torch import Tensor

from .checks import as_data, check_alpha, check_l1_ratio, check_sample_weight
from .errors import ConvergenceWarning, InputError
from .glm import multinomial as mn
from .solvers.mn_host import MnHost, compiled_applies

SOLVERS = ("auto", "prox_newton", "fista")


def multinomial_classes(y: Tensor) -> tuple[Tensor, Tensor]:
    """``(classes, codes)``: the sorted labels and each row's class index."""
    classes, codes = torch.unique(y, return_inverse=True)
    if classes.numel() < 2:
        raise InputError("loss 'multinomial': y holds a single class; two or more are needed")
    return classes, codes


def multinomial_kind(penalty: Any) -> str:
    """``"l1"`` or ``"grouped"`` from the user's ``penalty``."""
    kind = "l1" if penalty in (None, "l1", "lasso", "elasticnet") else str(penalty)
    if kind not in ("l1", "grouped"):
        raise InputError(f"loss 'multinomial' takes penalty 'l1' or 'grouped', got {penalty!r}")
    return kind


class Problem:
    """The data of one multinomial problem: ``X`` dense, one-hot ``Y``, row weights ``s``,
    ``P(0)`` (the loss at ``W = 0``, profiled intercepts: the gap's scale)."""

    def __init__(self, X: Any, y: Any, fit_intercept: bool, sample_weight: Any) -> None:
        X, y = as_data(X, y)
        self.X = X.to_dense() if X.layout != torch.strided else X
        s = check_sample_weight(sample_weight, self.X)
        self.s = torch.ones_like(y) if s is None else s
        self.classes, self.codes = multinomial_classes(y)
        self.K, self.p = self.classes.numel(), self.X.shape[1]
        self.Y = mn.one_hot(self.codes, self.K, self.X)
        self.fit_intercept = fit_intercept
        # at W = 0 the profiled intercepts are the log class frequencies (centered), and
        # P(0) their entropy (log K without an intercept)
        freq = (self.s[:, None] * self.Y).sum(0) / self.s.sum()
        logf = torch.log(freq.clamp(min=1e-300))
        self.b0 = logf - logf.mean() if fit_intercept else torch.zeros_like(freq)
        self.p0 = float(-(freq * logf).sum()) if fit_intercept else math.log(self.K)
        self._x64: tuple[Tensor, ...] | None = None  # the certificate's float64 columns

    def certificate(self, W: Tensor, b: Tensor, alpha: float, rho: float, grouped: bool
                    ) -> tuple[float, float, float, Tensor]:
        """:func:`lasso_torch.glm.multinomial.certificate` in float64, on the weighted-
        centered columns with an intercept (the same problem: ``X W + b = X_c W + (b +
        xbar W)``; column means far above their spread would swamp ``X W`` and ``X^T U``),
        the float64 copy made once per problem; the intercept returned in ``X``'s columns."""
        d = torch.float64
        if self._x64 is None:
            X, s = self.X.to(d), self.s.to(d)
            xbar = (s @ X) / s.sum() if self.fit_intercept else torch.zeros_like(X[0])
            self._x64 = (X - xbar, xbar, self.Y.to(d), s)
        Xc, xbar, Y, s = self._x64
        W = W.to(d)
        out = mn.certificate(Xc, Y, s, W, b.to(d) + xbar @ W, alpha, rho, grouped,
                             self.fit_intercept)
        b = out[3] - xbar @ W
        return out[0], out[1], out[2], (b - b.mean()).to(self.X.dtype)  # sum b = 0

    def host(self, W0: Tensor | None = None) -> MnHost:
        return MnHost(self.X, self.codes, self.s, self.K, self.fit_intercept, W0)


def certified_status(rel_gap: float, tol: float, it: int, max_iter: int) -> str:
    """``converged`` (the float64 certificate within ``tol`` and not negative beyond
    rounding: a negative gap is a broken certificate, never a solution), ``max_iter``, or
    ``stalled`` (the compiled solver found no decrease before ``max_iter``)."""
    if -1e-12 <= rel_gap <= tol:
        return "converged"
    return "max_iter" if it >= max_iter else "stalled"


def newton_certified(prob: Problem, host: MnHost, alpha: float, rho: float, grouped: bool,
                     tol: float, max_iter: int) -> tuple[Tensor, Tensor, tuple, int]:
    """The compiled solver from ``host``'s state until the final certificate (torch,
    float64) is within ``tol`` (the running one tightened tenfold, up to 3 times, where
    their roundings differ) or ``max_iter``: ``(W, b, certificate, outer iterations)``."""
    a1, a2 = alpha * rho, alpha * (1 - rho)
    inner, total = tol, 0
    for _ in range(4):
        _, it = host.solve(a1, a2, grouped, prob.p0, inner, max_iter - total)
        total += it
        W, b = host.answer(prob.X)
        cert = prob.certificate(W, b, alpha, rho, grouped)
        if cert[1] / prob.p0 <= tol or total >= max_iter:
            break
        inner /= 10
    return W, cert[3], cert, total


def solve_multinomial(X: Any, y: Any, alpha: float, l1_ratio: float = 1.0,
                      penalty: str | None = None, tol: float = 1e-6, max_iter: int = 100_000,
                      fit_intercept: bool = True, sample_weight: Any = None,
                      coef_init: Tensor | None = None, warn: bool = True,
                      check_every: int = 10, solver: str | None = "auto") -> dict[str, Any]:
    """The fields of :class:`lasso_torch.solve.SolveResult` (module docstring)."""
    solver = solver or "auto"
    if solver not in SOLVERS:
        raise InputError(f"loss 'multinomial' takes solver 'auto', 'prox_newton' or 'fista', "
                         f"got {solver!r}")
    alpha, rho = float(check_alpha(alpha)), check_l1_ratio(l1_ratio)
    kind = multinomial_kind(penalty)
    grouped = kind == "grouped"
    prob = Problem(X, y, fit_intercept, sample_weight)
    W0 = None if coef_init is None else torch.as_tensor(coef_init).to(prob.X).clone()
    t0 = time.perf_counter()
    compiled = solver == "prox_newton" or (solver == "auto" and compiled_applies(prob.X))
    if compiled:
        if not compiled_applies(prob.X):
            raise InputError("solver 'prox_newton' (multinomial) needs a dense X on the CPU")
        W, b, cert, it = newton_certified(prob, prob.host(W0), alpha, rho, grouped, tol,
                                          max_iter)
        name, step = "prox_newton (multinomial, compiled)", None
    else:
        W, b, cert, it, step = fista_multinomial(prob, alpha, rho, grouped, tol, max_iter, W0,
                                      check_every)
        name = "fista (multinomial)"
    primal, gap, kkt, b = cert
    status = certified_status(gap / prob.p0, tol, it, max_iter)
    if warn and status != "converged":
        warnings.warn(f"multinomial: {status} after {it} iterations; relative duality gap "
                      f"{gap / prob.p0:.3e} (tol {tol:.1e})", ConvergenceWarning, stacklevel=3)
    f, dt = torch.tensor, prob.X.dtype
    return dict(
        solver=name, coef=W, intercept=b,
        n_iter=it, gap=f(gap / prob.p0, dtype=dt), gap_abs=f(gap, dtype=dt),
        objective=f(primal, dtype=dt), kkt=f(kkt, dtype=dt),
        converged=status == "converged", status=status, lr=step,
        time=time.perf_counter() - t0, alpha=alpha, l1_ratio=rho, loss="multinomial",
        notes=(f"classes {prob.classes.tolist()}", f"penalty {kind}"))


def fista_multinomial(prob: Problem, alpha: float, rho: float, grouped: bool, tol: float,
           max_iter: int, W0: Tensor | None, check_every: int
           ) -> tuple[Tensor, Tensor, tuple, int, float]:
    """FISTA with restart (module docstring): ``(W, b, certificate, steps, step size)``.
    With an intercept it runs on the weighted-centered columns (large column means would
    swamp the step ``1/L`` and the products), its intercept ``c = b + xbar W``; the
    restart test stays on the device (no host sync per step)."""
    X, Y, s = prob.X, prob.Y, prob.s
    xbar = (s @ X) / s.sum() if prob.fit_intercept else torch.zeros_like(X[0])
    X = X - xbar
    A = torch.cat([X, torch.ones_like(X[:, :1])], 1) if prob.fit_intercept else X
    L = float(torch.linalg.matrix_norm(A * s.sqrt()[:, None], 2)) ** 2 / (2 * float(s.sum()))
    step = 1.0 / max(L, 1e-300)
    W = torch.zeros(prob.p, prob.K, dtype=X.dtype) if W0 is None else W0
    c = prob.b0 + xbar @ W
    Wy, cy, Wold, cold = W, c, W, c
    t = torch.ones((), dtype=X.dtype, device=X.device)
    it, cert = 0, None
    for it in range(1, max_iter + 1):
        P = mn.softmax(X @ Wy + cy)
        R = s[:, None] * (P - Y) / s.sum()
        W = mn.prox(Wy - step * (X.T @ R), step, alpha, rho, grouped)
        c = cy - step * R.sum(0) if prob.fit_intercept else cy
        up = ((Wy - W) * (W - Wold)).sum() + ((cy - c) * (c - cold)).sum()
        t = torch.where(up > 0, torch.ones_like(t), t)  # gradient restart (O'Donoghue-Candes)
        tn = (1 + (1 + 4 * t * t).sqrt()) / 2
        Wy, cy = W + (t - 1) / tn * (W - Wold), c + (t - 1) / tn * (c - cold)
        Wold, cold, t = W, c, tn
        if it % check_every == 0 or it == max_iter:
            cert = prob.certificate(W, c - xbar @ W, alpha, rho, grouped)
            if cert[1] / prob.p0 <= tol:
                break
    if cert is None:
        cert = prob.certificate(W, c - xbar @ W, alpha, rho, grouped)
    return W, cert[3], cert, it, step
