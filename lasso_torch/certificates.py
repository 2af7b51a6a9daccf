"""Optimality certificates: the duality gap, the KKT violation and ``alpha_max``.

Primal (scikit-learn's ElasticNet scaling, ``rho = l1_ratio``)::

    P(w) = 1/(2n) ||y_c - X_c w||^2 + alpha * (rho ||w||_1 + (1-rho)/2 ||w||^2)

Dual, for ``rho > 0`` (scikit-learn's "formulation A"): with ``r = y_c - X_c w``,
``a1 = alpha rho``, ``a2 = alpha (1 - rho)`` and ``g = X_c^T r / n - a2 w``, the point
``theta = s r / n`` with ``s = min(1, a1 / ||g||_inf)`` is dual feasible and::

    gap = (1 + s^2)/(2n) (||r||^2 + n a2 ||w||^2) + a1 ||w||_1 - s r^T y_c / n

For ridge (``rho = 0``, no feasibility constraint; "formulation B")::

    gap = ||r||^2 / n + a2/2 ||w||^2 - r^T y_c / n + ||X_c^T r||^2 / (2 n^2 a2)

Both equal scikit-learn's ``dual_gap_`` (which is already divided by ``n_samples``). The
relative gap is ``gap / P(0)`` with ``P(0) = ||y_c||^2 / (2n)``; scikit-learn stops when
``gap < tol * ||y||^2 / n``, i.e. at relative gap ``2 * tol``.
With row weights ``s`` (see :mod:`lasso_torch.datafits`) every sum over the rows is
weighted (``||r||^2 -> sum s r^2``, ``X_c^T r -> X_c^T S r``) and ``n = sum s``: the same
formulas for the rows scaled by ``sqrt(s)``.
Every function accepts ``w`` of shape ``(p,)`` or a batch ``(p, K)`` (then ``alpha`` may
have shape ``(K,)``), and returns one value per column.

**Other losses and penalties** (:func:`certificate_from_sums` dispatches; the quadratic loss
with the uniform elastic net keeps the formulas above). For ``P(w) = f(w) + Omega(w)``
with ``f = 1/n sum_i s_i l_i(eta_i)`` and the generalized residual ``u = -l'(eta)``
(``r`` for the squared loss), Fenchel duality gives, for ``v = -grad f = X^T S u / n``
and the scale ``kappa = penalty.dual_scale(v)`` (largest ``kappa <= 1`` with
``Omega*(kappa v)`` finite)::

    gap = f(w) + Omega(w) + 1/n sum_i s_i l_i*(-kappa u_i) + Omega*(kappa v)

(the squared loss: ``1/n sum s l*(-kappa r) = (kappa^2 ||r||^2_S / 2 - kappa r^T S y_c) / n``;
the others: :mod:`lasso_torch.glm.losses`; the penalties' conjugates:
:mod:`lasso_torch.weighted`). A penalty that is not convex (MCP, SCAD), or a loss without
a conjugate (a user's callable), has no gap: its certificate is the KKT violation
(stationarity), ``gap = kkt`` and ``rel_gap = kkt / ||grad f(0)||_inf``, and
:func:`certificate_kind` says ``"kkt"`` (``"duality gap"`` otherwise).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .datafits import Quadratic
from .penalties import ElasticNet, is_plain, make_penalty
from .problem import profile_unpenalized, unpenalized


class Certificate(NamedTuple):
    """Everything measured at one check, all tensors on the data's device."""

    objective: Tensor  # P(w)
    gap: Tensor  # absolute duality gap
    rel_gap: Tensor  # gap / P(0)
    kkt: Tensor  # max_j dist(-grad_j, alpha d|w_j|)


PenaltyLike = ElasticNet | float | Tensor


def as_penalty(penalty: PenaltyLike, l1_ratio: float | None = None) -> ElasticNet:
    """A penalty object, or ``alpha`` (a number or a ``(K,)`` tensor) with ``l1_ratio``."""
    if isinstance(penalty, ElasticNet) or hasattr(penalty, "prox"):
        return penalty
    return make_penalty(penalty, 1.0 if l1_ratio is None else float(l1_ratio))


def gap_from_sums(r2: Tensor, ry: Tensor, Xtr: Tensor, w: Tensor, n: float | Tensor,
                  penalty: ElasticNet) -> tuple[Tensor, Tensor]:
    """``(P(w), gap)`` from the sums over the rows ``r2 = ||r||^2``, ``ry = r^T y_c`` and
    ``Xtr = X_c^T r`` (weighted: ``sum s r^2``, ``sum s r y_c``, ``X_c^T S r``), one value
    per column; ``n`` a number or one per column. The one gap formula of the package."""
    a1, a2, l1_ratio = penalty.l1, penalty.l2, penalty.l1_ratio
    l1 = w.abs().sum(0)
    if l1_ratio == 1:  # the Lasso: the same formulas without the a2 terms (fewer ops)
        primal = r2 / (2 * n) + a1 * l1
        s = (a1 / (Xtr.abs().amax(0) / n)).clamp(max=1.0)  # a1 / 0 = inf -> 1
        # = 0.5 (1 + s^2) r2 / n + a1 l1 - s ry / n, from the primal in fewer kernels
        return primal, primal + s * (0.5 * s * r2 - ry) / n
    w2 = (w * w).sum(0)
    primal = r2 / (2 * n) + a1 * l1 + 0.5 * a2 * w2
    if l1_ratio > 0:
        dual_norm = (Xtr / n - a2 * w).abs().amax(0)
        s = (a1 / dual_norm).clamp(max=1.0)
        gap = 0.5 * (1 + s * s) * (r2 / n + a2 * w2) + a1 * l1 - s * ry / n
    else:
        gap = r2 / n + 0.5 * a2 * w2 - ry / n + (Xtr * Xtr).sum(0) / (2 * n * n * a2)
    return primal, gap


def certify(datafit: Quadratic, w: Tensor, penalty: PenaltyLike,
            l1_ratio: float | None = None) -> Certificate:
    """Objective, gap, relative gap and KKT violation of ``w`` (one residual, one ``X^T r``).

    ``penalty``: a penalty object, or ``alpha`` with ``l1_ratio``."""
    r2, ry, Xtr = datafit.sums(w)
    return certificate_from_sums(datafit, w, r2, ry, Xtr, as_penalty(penalty, l1_ratio))


def certificate_from(datafit: Quadratic, w: Tensor, r: Tensor, Xtr: Tensor,
                     penalty: ElasticNet) -> Certificate:
    """:func:`certify` from a residual ``r`` and ``Xtr = X_c^T S r`` already computed."""
    return certificate_from_sums(datafit, w, *datafit.sums_from(r, Xtr), penalty)


def certificate_kind(datafit: object, penalty: object) -> str:
    """``"duality gap"`` where the gap exists (convex penalty, loss with a conjugate), else
    ``"kkt"`` (the certificate is the KKT violation: stationarity)."""
    if getattr(penalty, "convex", True) and getattr(datafit, "conjugate_gap", True):
        return "duality gap"
    return "kkt"


def certificate_from_sums(datafit: Quadratic, w: Tensor, r2: Tensor, ry: Tensor, Xtr: Tensor,
                          penalty: ElasticNet) -> Certificate:
    """:func:`certify` from ``r2``, ``ry`` and ``Xtr`` (see :func:`gap_from_sums`); for a
    datafit that is not quadratic, ``(eta, u, Xtr)`` (see :meth:`GLMDatafit.sums`)."""
    if not (isinstance(datafit, Quadratic) and is_plain(penalty)):
        return _general(datafit, w, r2, ry, Xtr, penalty)
    n = datafit.n_cols
    primal, gap = gap_from_sums(r2, ry, Xtr, w, n, penalty)
    rel = gap / datafit.p0_cols.clamp(min=torch.finfo(gap.dtype).tiny)  # y constant: gap 0
    kkt = penalty.subdiff_distance(w, Xtr / -n).amax(0)
    return Certificate(primal, gap, rel, kkt)


def _general(datafit: object, w: Tensor, a: Tensor, b: Tensor | None, Xtr: Tensor,
             penalty: object) -> Certificate:
    """The conjugate gap (or the KKT certificate) of any datafit and penalty."""
    n = datafit.n_cols
    v = Xtr / n  # -grad f
    kkt = penalty.subdiff_distance(w, -v).amax(0)
    quadratic = isinstance(datafit, Quadratic)
    f = a / (2 * n) if quadratic else datafit.value_at(a)
    primal = f + penalty.value(w)
    if certificate_kind(datafit, penalty) == "kkt":
        scale = datafit.Xty.abs().amax(0)
        scale = datafit._c(scale) if datafit.F > 1 else scale
        return Certificate(primal, kkt, kkt / scale.clamp(min=torch.finfo(kkt.dtype).tiny),
                           kkt)
    if unpenalized(penalty) is not None:  # the dual point where x_U^T S u = 0
        a, b, Xtr = datafit.sums(profile_unpenalized(datafit, penalty, w))
        v = Xtr / n
    kappa = penalty.dual_scale(v)
    if quadratic:  # a = ||r||^2_S, b = r^T S y_c
        loss_conj = (kappa * kappa * a / 2 - kappa * b) / n
    else:  # a = eta, b = u
        s = datafit._s(b)
        c = datafit.conj(kappa * b)
        loss_conj = (c if s is None else s * c).sum(0) / n
    gap = primal + loss_conj + penalty.conjugate(kappa * v)
    rel = gap / datafit.p0_cols.clamp(min=torch.finfo(gap.dtype).tiny)
    return Certificate(primal, gap, rel, kkt)


def _linear_weight_ok(fn):
    """Accept ``nn.Linear(p, 1)``'s ``(1, p)`` weight (any tensor needing grad) as ``(p,)``."""
    import functools

    @functools.wraps(fn)
    def wrapped(X: Tensor, y: Tensor, coef: Tensor, *args, **kwargs):
        coef = coef.detach()
        if coef.dim() == 2 and coef.shape[0] == 1 and coef.shape[1] == X.shape[1] != 1:
            coef = coef[0]
        return fn(X, y, coef, *args, **kwargs)
    return wrapped


@_linear_weight_ok
def duality_gap(
    X: Tensor,
    y: Tensor,
    coef: Tensor,
    alpha: float | Tensor,
    l1_ratio: float = 1.0,
    fit_intercept: bool = True,
    relative: bool = False,
) -> Tensor:
    """Duality gap of ``coef`` (scikit-learn's ``dual_gap_``); ``relative`` divides by P(0)."""
    cert = certify(Quadratic(X, y, fit_intercept, gram=False), coef, as_penalty(alpha, l1_ratio))
    return cert.rel_gap if relative else cert.gap


@_linear_weight_ok
def kkt_violation(
    X: Tensor,
    y: Tensor,
    coef: Tensor,
    alpha: float | Tensor,
    l1_ratio: float = 1.0,
    fit_intercept: bool = True,
) -> Tensor:
    """``max_j dist(-grad f(w)_j, alpha d(penalty)(w)_j)``: zero exactly at the solution."""
    cert = certify(Quadratic(X, y, fit_intercept, gram=False), coef, as_penalty(alpha, l1_ratio))
    return cert.kkt


def alpha_max(X: Tensor, y: Tensor, l1_ratio: float = 1.0, fit_intercept: bool = True,
              sample_weight: Tensor | None = None) -> Tensor:
    """``||X_c^T S y_c||_inf / (n * l1_ratio)``: the smallest alpha with an all-zero solution
    (one per weight column for ``(n, F)`` weights)."""
    df = Quadratic(X, y, fit_intercept, gram=False, row_weights=sample_weight)
    return make_penalty(1.0, l1_ratio).alpha_max(df.Xty)


class Final(NamedTuple):
    """The certificate of a returned answer (:func:`final_certificate`), float64."""

    cert: Certificate  # objective, gap, rel_gap (or the relative KKT), kkt: one per column
    intercept: Tensor  # the profiled intercept of the returned coefficients
    kind: str  # "duality gap" or "kkt"
    bound: Tensor  # rounding allowance on rel_gap: |error of the float64 arithmetic|


def final_certificate(X: Tensor, y: Tensor, coef: Tensor, penalty: object, datafit: object, *,
                      sample_weight: Tensor | None = None, fit_intercept: bool = True,
                      reduce: object = None, intercept_start: Tensor | None = None) -> Final:
    """The certificate a result reports: recomputed from the returned ``coef`` ((p,) or
    (p, K)) on the problem's own data ``X``, ``y``, ``sample_weight``, in float64 on centered
    columns, by :func:`lasso_torch.exact.exact_sums` (never the solvers' datafit products);
    ``datafit`` only names the loss. A duality gap where the problem has one, else the KKT
    violation relative to ``||grad f(0)||_inf``; the intercept is the problem's optimal one
    for ``coef``. ``reduce`` sums over the rows of every process (sharded data).
    ``intercept_start``: the solver's intercept, where that profiling starts (only a
    starting point: the intercept is the certificate's own, to rounding)."""
    from .exact import datafit64, exact_sums, pen64, small_squared

    one = coef.dim() == 1
    kind = certificate_kind(datafit, penalty)
    if one and reduce is None and isinstance(datafit, Quadratic) and is_plain(penalty) and (
            small := small_squared(X, y, coef, sample_weight, fit_intercept,
                                   float(penalty.l1), float(penalty.l2))) is not None:
        return _final_of(*small[:5], kind, small[5])
    W = (coef[:, None] if one else coef).detach().to(torch.float64)
    pen = pen64(penalty)
    data = (X, y, sample_weight, fit_intercept, reduce)
    loss = None if isinstance(datafit, Quadratic) else datafit
    S = exact_sums(*data, W, loss, kkt=kind == "kkt", start=intercept_start)
    n = S.n
    v = S.Xtr / n
    kkt = pen.subdiff_distance(W, -v).amax(0)
    primal = S.f + pen.value(W)
    tiny = torch.finfo(torch.float64).tiny
    root_n = float(n) ** 0.5 + 1.0
    if kind == "kkt":
        scale = (S.Xty / n).abs().amax(0).clamp(min=tiny)
        rel, gap = kkt / scale, kkt
        bound = 64 * EPS64 * root_n * (v.abs().amax(0) + scale) / scale
    else:
        if S.rows is None and is_plain(pen):
            primal, gap = gap_from_sums(S.a, S.b, S.Xtr, W, n, pen)
        else:
            if unpenalized(pen) is not None:  # the dual point where x_U^T S u = 0
                S = exact_sums(*data, profile_unpenalized(datafit64(datafit, *data[:4]),
                                                          pen, W), loss)
            gap = primal + _dual_terms(S, pen)
        p0 = S.p0.clamp(min=tiny)
        rel = gap / p0
        bound = 64 * EPS64 * root_n * (primal.abs() + (primal - gap).abs()) / p0
    out = tuple(t[0] if one else t for t in (primal, gap, rel, kkt, S.intercept, bound))
    return Final(Certificate(*out[:4]), out[4], kind, out[5])


EPS64 = float(torch.finfo(torch.float64).eps)


def _final_of(primal: float, gap: float, p0: float, kkt: float, intercept: float, kind: str,
              n: float = 1.0) -> Final:
    """A :class:`Final` from numbers (the small numpy path), with the same rounding bound."""
    p0 = max(p0, torch.finfo(torch.float64).tiny)
    bound = 64 * EPS64 * (n ** 0.5 + 1.0) * (abs(primal) + abs(primal - gap)) / p0
    t = torch.tensor([primal, gap, gap / p0, kkt, intercept, bound],
                     dtype=torch.float64).unbind()
    return Final(Certificate(*t[:4]), t[4], kind, t[5])


def _dual_terms(S: object, pen: object) -> Tensor:
    """``1/n sum s l*(-kappa u) + Omega*(kappa v)``: minus the dual objective at the scaled
    generalized residual (:class:`~lasso_torch.exact.Sums` ``S``)."""
    v = S.Xtr / S.n
    kappa = pen.dual_scale(v)
    if S.rows is None:  # a = sum s r^2, b = sum s r y_c
        loss_conj = (kappa * kappa * S.a / 2 - kappa * S.b) / S.n
    else:  # a = eta; u = -l'(eta) unweighted
        loss_conj = S.rows.conj(kappa * -S.rows.twin.deriv(S.a))
    return loss_conj + pen.conjugate(kappa * v)
