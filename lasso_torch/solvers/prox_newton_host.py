"""The host side of the compiled proximal Newton (:mod:`lasso_torch.solvers.prox_newton`):
which problems the numba kernels serve, the float64 Fortran copy of ``X`` (once per
datafit), the penalty as per-feature arrays, and the compiled running certificate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..certificates import Certificate
from ..datafits import Quadratic
from ..group_penalty import SparseGroupLasso
from ..penalties import ElasticNet
from ..weighted import WeightedElasticNet
from .coordinate import as_certificate, cached_on
from .glm_kernels import gap_on, loss_sum, model_at, profile_intercept, row_loss
from .glm_screening import screened_solve, secant, strong_set
from .group_kernels import pn_group_iteration
from .pn_kernels import grad_cols, pn_descend

CODES = {"logistic": 0, "poisson": 1, "huber": 2, "gamma": 3, "tweedie": 4, "squared": 5}
GRAM_RATIO = 1 << 40  # the subproblem in Gram form where n >= GRAM_RATIO (|W| + 1): never.
# Measured (one thread, time to rel gap 1e-6, Gram where n >= 4 (|W| + 1) / Gram-free):
# logistic 569 x 30 2.9 / 2.1 ms, 2000 x 500 at 0.1 and 0.01 alpha_max 176 / 116 and
# 456 / 404 ms, 20000 x 100 531 / 466 and 1038 / 693 ms; Poisson 2000 x 200 73 / 42 and
# 187 / 100 ms: forming X_W^T H X_W every outer iteration costs more than the epochs save.
# Past max(10, |W| + 1) epochs of one subproblem the CD goes on in Gram form
# (pn_kernels.pn_descend): breast-cancer's 100-alpha path to 1e-3 alpha_max 100 -> 51 ms.


def compiled_applies(datafit: Any, penalty: Any, w: Tensor) -> bool:
    """Whether :func:`~lasso_torch.solvers.pn_kernels.pn_descend` serves this problem."""
    X = datafit.X
    group = isinstance(penalty, SparseGroupLasso)
    loss_ok = (type(datafit) is Quadratic and group) or (
        getattr(datafit, "name", None) in CODES
        and type(datafit).__module__.startswith("lasso_torch.glm"))
    return (loss_ok and X.device.type == "cpu" and X.layout == torch.strided
            and datafit.F == 1 and w.dim() == 1 and w.device.type == "cpu"
            and (group or isinstance(penalty, (ElasticNet, WeightedElasticNet)))
            and not (isinstance(penalty.alpha, Tensor) and penalty.alpha.numel() > 1))


def _host_design(datafit: Any) -> tuple[np.ndarray, np.ndarray]:
    """``X`` on the host in float64, Fortran order, columns shifted by their means when
    there is an intercept (once per datafit: the alphas of a path share it)."""
    def make() -> tuple[np.ndarray, np.ndarray]:
        X = datafit.X.detach().to(torch.float64).numpy()
        out = np.empty(X.shape, order="F")
        mean = X.mean(0) if datafit.fit_intercept else np.zeros(X.shape[1])
        np.subtract(X, mean, out=out)
        return out, mean
    return cached_on(datafit, "glm_host", make)


class Host:
    """The compiled engine's state: ``w``, the linear predictor, the penalty's arrays."""

    def __init__(self, datafit: Any, penalty: Any, w0: Tensor) -> None:
        self.X, self.mean = _host_design(datafit)
        self.datafit = datafit
        n, p = self.X.shape
        self.y = datafit.y.detach().to(torch.float64).numpy().copy()
        self.s = (np.ones(n) if datafit.s is None
                  else datafit.s.detach().to(torch.float64).numpy().copy())
        self.code = CODES["squared" if isinstance(datafit, Quadratic) else datafit.name]
        self.param = float(getattr(datafit, "delta", getattr(datafit, "power", 0.0)))
        a1, a2 = float(penalty.alpha) * penalty.l1_ratio, float(penalty.alpha) * (
            1 - penalty.l1_ratio)
        self.group = None
        if isinstance(penalty, SparseGroupLasso):  # groups as CSR-like (ptr, idx) arrays
            lab = penalty.labels.numpy()
            idx = np.argsort(lab, kind="stable")
            ptr = np.r_[0, np.cumsum(np.bincount(lab, minlength=penalty.n_groups))]
            self.group = (ptr.astype(np.int64), idx.astype(np.int64), a1,
                          a2 * penalty.group_weights.numpy())
        c = None if self.group else getattr(penalty, "weights", None)
        c = np.ones(p) if c is None else c.detach().to(torch.float64).numpy()
        self.a1, self.a2 = a1 * c, a2 * c
        lo, hi = getattr(penalty, "lower", None), getattr(penalty, "upper", None)
        self.lo = np.full(p, -np.inf) if lo is None else lo.detach().double().numpy().copy()
        self.hi = np.full(p, np.inf) if hi is None else hi.detach().double().numpy().copy()
        self.w = w0.detach().to(torch.float64).numpy().copy()
        self.intercept = bool(datafit.fit_intercept)
        z = self.X @ self.w  # the centered columns: the intercept absorbs the shift
        self.b = profile_intercept(self.code, self.y, self.s, z, self.param, 0.0) if (
            self.intercept) else 0.0
        self.eta = z + self.b
        # the rows' g = s l', h (Newton weights) and the gradient X^T g / N of the last
        # pass, shared by the certificate and the next step while ``fresh``
        self.g, self.h, self.grad = np.empty(n), np.empty(n), np.zeros(p)
        self.f, self.fresh, self.all = 0.0, False, np.arange(p)
        self.plain = isinstance(penalty, ElasticNet)
        self.conj = getattr(datafit, "conjugate_gap", True)
        # the running certificate, compiled for the uniform elastic net (the others: certify)
        self.p0 = self._p0(datafit) if self.plain else 0.0

    def _p0(self, datafit: Any) -> float:
        """``P(0)`` above the loss's floor (the conjugate gap's scale), or ``max |grad f(0)|``
        (the KKT certificate's), as :class:`~lasso_torch.glm.base.GLMDatafit` defines them."""
        zero = np.zeros(self.X.shape[0])
        b = profile_intercept(self.code, self.y, self.s, zero, self.param, 0.0) if (
            self.intercept) else 0.0
        N = self.s.sum()
        if not self.conj:
            g = np.array([row_loss(self.code, yi, b, self.param)[1] for yi in self.y])
            return float(np.abs(self.X.T @ (self.s * g)).max() / N)
        floor = datafit.saturated(datafit.y.detach().to(torch.float64)).numpy()
        return float((loss_sum(self.code, self.y, self.s, zero + b, self.param)
                      - (self.s * floor).sum()) / N)

    def scores(self, idx: np.ndarray, gap: bool = True) -> tuple[float, float, float]:
        """The intercept profiled, the rows' ``g``, ``h``, the gradient on ``idx`` (one pass
        over those columns): ``(P(w), gap, kkt)`` of the problem restricted to ``idx``
        (:func:`~lasso_torch.solvers.glm_kernels.gap_on`; uniform elastic net only;
        ``gap`` False: not formed, NaNs)."""
        f, db = model_at(self.code, self.y, self.s, self.eta, self.param, self.intercept,
                         self.g, self.h)
        N = self.s.sum()
        self.b += db
        self.f, self.fresh = f / N, True
        grad_cols(self.X, self.g, idx, N, self.grad)
        if not gap:
            return np.nan, np.nan, np.nan
        return gap_on(self.code, self.y, self.s, self.param, self.g, self.w, self.grad, idx,
                      self.a1[0], self.a2[0], self.f, self.conj)

    def full_gap(self, rest: np.ndarray) -> tuple[float, float, float]:
        """After :meth:`scores` on the other features: the gradient on ``rest`` too (one
        pass over them) and ``(P(w), gap, kkt)`` over every feature."""
        grad_cols(self.X, self.g, rest, self.s.sum(), self.grad)
        return gap_on(self.code, self.y, self.s, self.param, self.g, self.w, self.grad,
                      self.all, self.a1[0], self.a2[0], self.f, self.conj)

    def move_to(self, w: np.ndarray) -> None:
        """Restart from ``w``: the linear predictor recomputed (the intercept kept; the next
        :meth:`scores` profiles it)."""
        self.w[:] = w
        self.eta[:] = self.X @ w + self.b
        self.fresh = False

    def intercept_of_w(self) -> float:
        """The profiled intercept in the original (uncentered) columns."""
        return self.b - float(self.mean @ self.w)

    def certificate(self, w: Tensor) -> Certificate | None:
        if not self.plain or not self.p0 > 0:
            return None
        primal, gap, kkt = self.scores(self.all)
        if self.intercept:  # the datafit's own intercept (the result's) starts from here
            self.datafit._warm[(self.X.shape[0],)] = torch.tensor(self.intercept_of_w(),
                                                                   dtype=w.dtype)
        return as_certificate(primal, gap, kkt, self.p0, w)

    def step(self, ws_min: int, inner_ratio: float, max_epochs: int,
             cand: np.ndarray | None = None) -> float:
        """One outer iteration over the candidates ``cand`` (default all), from the last
        :meth:`scores` when no step has moved ``w`` since; returns the line search's step."""
        if self.group is not None:
            return pn_group_iteration(self.X, self.y, self.s, self.code, self.param, self.w,
                                      self.eta, *self.group, self.intercept, inner_ratio,
                                      1e-14, max_epochs)[1]
        cand = self.all if cand is None else cand
        if not self.fresh:
            self.scores(cand)
        db, t, _, _ = pn_descend(
            self.X, self.y, self.s, self.code, self.param, self.w, self.eta, self.g, self.h,
            self.f, self.grad, cand, self.a1, self.a2, self.lo, self.hi, self.intercept,
            ws_min, inner_ratio, 1e-14, max_epochs, GRAM_RATIO)
        self.b += db
        self.fresh = self.fresh and t == 0.0  # no step: the scores still hold
        return t


def pn_path(datafit: Any, alphas: Tensor, pen: Any, tol: float, max_iter: int,
            catch_interrupt: bool = False, *, ws_min: int = 10, inner_ratio: float = 0.03,
            max_inner: int = 5_000, inner: str = "compiled", screen: bool = True,
            predict: bool = True, **_: Any
            ) -> tuple[Tensor, Tensor, np.ndarray, np.ndarray, Tensor] | None:
    """The warm path of the compiled prox-Newton (``SolverSpec.path``): one host copy of
    ``X`` and one linear predictor carried from alpha to alpha, each alpha's outer
    iterations run until the compiled running certificate (over every feature) is within
    ``tol``, on the features the sequential strong rule keeps (``screen``; checked by the
    KKT conditions of the others: :mod:`~lasso_torch.solvers.glm_screening`), each alpha
    from the secant of the last two solutions (``predict``; the warm start's gap then about
    tenfold smaller); the subproblems to ``inner_ratio`` (0.03: one Newton step then
    finished most alphas; a 100-alpha logistic path on 20000 x 100 took 1.57 / 1.48 /
    1.52 s at 0.1 / 0.03 / 0.01, on 200 x 2000 243 / 245 / 301 ms); no engine,
    loop or result per alpha. None where the compiled certificate does not apply (then
    the warm path runs the engine per alpha).
    ``(W (p, A), rel_gaps, iterations, status, intercepts)``."""
    w0 = torch.zeros(datafit.p, dtype=datafit.X.dtype)
    first = pen(float(alphas[0]))
    if inner != "compiled" or not (isinstance(first, ElasticNet)
                                   and compiled_applies(datafit, first, w0)):
        return None
    host = Host(datafit, first, w0)
    if not host.p0 > 0:
        return None
    A, p = alphas.numel(), datafit.p
    W, rel, B = np.zeros((A, p)), np.full(A, np.nan), np.zeros(A)
    iters = np.zeros(A, dtype=np.int64)
    status = np.full(A, "interrupted", dtype=object)
    prev = None
    try:
        for k, a in enumerate(alphas.tolist()):
            rho = float(pen(a).l1_ratio)
            host.a1[:], host.a2[:] = a * rho, a * (1 - rho)
            cand = strong_set(host.grad, host.w, a * rho, prev if screen else None)
            if predict and k >= 2 and host.w.any():
                host.move_to(secant(W[k - 2], W[k - 1], alphas[k - 2:k + 1].tolist()))
            rel[k], iters[k], status[k] = screened_solve(
                host, cand, tol, max_iter, ws_min, inner_ratio, max_inner,
                settled=k == 0 or not host.w.any())
            W[k], B[k], prev = host.w, host.intercept_of_w(), a * rho
    except KeyboardInterrupt:
        if not catch_interrupt:
            raise
    Wt = torch.from_numpy(np.ascontiguousarray(W.T)).to(datafit.X.dtype)
    dt = datafit.X.dtype
    return Wt, torch.from_numpy(rel).to(dt), iters, status, torch.from_numpy(B).to(dt)
