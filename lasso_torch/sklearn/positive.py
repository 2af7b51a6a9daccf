"""``positive=True``: the elastic net over ``w >= 0``, by projected proximal gradient.

A stop-gap until ``lt.solve`` takes ``positive`` (a bounded penalty, the losses issue): then
:func:`solve_positive` is ``solve(..., positive=True)`` and this module goes. It is built
from the package's parts only: the prox of ``g + indicator(w >= 0)`` is the prox of ``g``
clipped at 0 (exact zeros stay ``+0.0``), and the certificate is scikit-learn's for the
positive problem: the dual scaling uses ``max_j (X_c^T S r / n - a2 w)_j`` (one-sided, the
conjugate of ``a1 w + indicator(w >= 0)``) instead of the absolute value, i.e. the usual
gap formula (:func:`~lasso_torch.certificates.gap_from_sums`) of the positive part.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..certificates import Certificate, gap_from_sums
from ..checks import check_sample_weight
from ..datafits import Quadratic
from ..penalties import ElasticNet, make_penalty
from ..solve import SolveResult
from ..solvers import ProximalEngine, run_loop


class PositiveElasticNet(ElasticNet):
    """``alpha (rho |w|_1 + (1-rho)/2 |w|^2) + indicator(w >= 0)``."""

    def prox(self, z: Tensor, step: float | Tensor) -> Tensor:
        return super().prox(z, step).clamp(min=0)

    def subdiff_distance(self, w: Tensor, grad: Tensor) -> Tensor:
        g = grad + self.l2 * w if self.l1_ratio < 1 else grad
        on = (g + self.l1).abs()  # w > 0: the subdifferential is {a1}
        off = (-g - self.l1).clamp(min=0)  # w = 0: (-inf, a1]
        return torch.where(w > 0, on, off)

    def alpha_max(self, grad0: Tensor) -> Tensor:
        return grad0.amax(0).clamp(min=0) / self.l1_ratio


def positive_certificate(df: Quadratic, w: Tensor, penalty: PositiveElasticNet) -> Certificate:
    """Objective, gap (scikit-learn's for the positive problem), relative gap and KKT."""
    r2, ry, Xtr = df.sums(w)
    n = df.n_cols
    if penalty.l1_ratio > 0:  # the one-sided dual norm through the two-sided formula
        a2w = penalty.l2 * w
        Xtr_pos = n * ((Xtr / n - a2w).clamp(min=0) + a2w)
    else:
        Xtr_pos = Xtr.clamp(min=0)
    plain = make_penalty(penalty.alpha, penalty.l1_ratio)
    primal, gap = gap_from_sums(r2, ry, Xtr_pos, w, n, plain)
    rel = gap / df.p0_cols.clamp(min=torch.finfo(gap.dtype).tiny)
    kkt = penalty.subdiff_distance(w, Xtr / -n).amax(0)
    return Certificate(primal, gap, rel, kkt)


class PositiveEngine(ProximalEngine):
    """FISTA whose prox is clipped at 0, certified by :func:`positive_certificate`."""

    def __init__(self, datafit: Quadratic, penalty: PositiveElasticNet, w0: Tensor,
                 **options: Any) -> None:
        super().__init__(datafit, penalty, w0, **{**options, "screening": False})

    def certificate(self) -> Certificate:
        return positive_certificate(self.datafit, self.coef(), self.penalty)

    def retire(self, keep: Tensor) -> bool:
        done = super().retire(keep)
        self.penalty = PositiveElasticNet(self.penalty.alpha, self.penalty.l1_ratio)
        self.opt.param_groups[0]["penalty"] = self.penalty
        return done


def solve_positive(X: Tensor, y: Tensor, alpha: float, l1_ratio: float, *, tol: float,
                   max_iter: int, fit_intercept: bool = True, sample_weight: Any = None,
                   coef_init: Tensor | None = None, gram: bool | str | Tensor = "auto",
                   ) -> SolveResult:
    """:func:`lasso_torch.solve` with ``w >= 0`` (one target ``y (n,)``), by projected FISTA."""
    s = check_sample_weight(sample_weight, X)
    df = Quadratic(X, y, fit_intercept, gram=True if isinstance(gram, Tensor) else gram,
                   row_weights=s)
    if isinstance(gram, Tensor):
        df.__dict__["gram"] = gram.to(dtype=X.dtype, device=X.device)
    z = dict(dtype=X.dtype, device=X.device)  # X may be sparse
    w0 = torch.zeros(X.shape[1], **z) if coef_init is None else coef_init.to(**z).clamp(min=0)
    engine = PositiveEngine(df, PositiveElasticNet(alpha, l1_ratio), w0, tol=tol)
    out = run_loop(engine, max_iter=max_iter, tol=tol, check_every=10)
    coef = out.coef.detach()
    return SolveResult(
        solver="fista (positive)", coef=coef, intercept=df.intercept(coef), n_iter=out.n_iter,
        gap=out.cert.rel_gap, gap_abs=out.cert.gap, objective=out.cert.objective,
        kkt=out.cert.kkt, converged=out.status == "converged", status=out.status,
        lr=engine.lr, time=out.time, alpha=float(alpha), l1_ratio=float(l1_ratio))


def positive_path(X: Tensor, y: Tensor, alphas: np.ndarray, l1_ratio: float, *, tol: float,
                  max_iter: int, fit_intercept: bool, weights: Tensor) -> tuple[Tensor, Tensor]:
    """Warm-started positive solutions ``(coefs (p, K), intercepts (K,))`` along ``alphas``
    (descending), rows weighted by ``weights`` (zero-weight rows left out)."""
    z = dict(dtype=X.dtype, device=X.device)
    coefs = torch.zeros(X.shape[1], len(alphas), **z)
    inter = torch.zeros(len(alphas), **z)
    w = None
    for k, a in enumerate(alphas):
        res = solve_positive(X, y, float(a), l1_ratio, tol=tol, max_iter=max_iter,
                             fit_intercept=fit_intercept, sample_weight=weights, coef_init=w)
        w = res.coef
        coefs[:, k], inter[k] = w, res.intercept
    return coefs, inter
