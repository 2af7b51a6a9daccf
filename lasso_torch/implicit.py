r"""Implicit differentiation of a certified solution: the autograd Function of ``lt.solve``.

On its support ``S`` (the nonzero coefficients strictly inside their bounds) a solution
``w`` of ``1/n sum_i s_i l(y_i, x_i^T w + b) + alpha sum_j c_j (rho |w_j| + (1-rho)/2 w_j^2)``
satisfies the smooth equations (``sigma = sign(w_S)``, ``s`` rescaled to sum ``n``)

.. math::
    g(w_S, b; \theta) = \begin{pmatrix} X_S^T S\, l'(\eta) / n
        + \alpha c_S (\rho \sigma + (1-\rho) w_S) \\ 1^T S\, l'(\eta) / n \end{pmatrix} = 0,
    \qquad \eta = X_S w_S + b,

(the second row only with an intercept). Off the support the coefficients are 0 (or at an
active bound) on a neighbourhood of ``theta = (X, y, alpha, l1_ratio, s, c)`` where the
support is stable, so their derivative is **exactly 0.0**; on it, by the implicit function
theorem, ``d(w_S, b)/d theta = -H^{-1} dg/d theta`` with the reduced Hessian

.. math::
    H = [X_S, 1]^T S\, l''(\eta) [X_S, 1] / n + \mathrm{diag}(\alpha (1-\rho) c_S, 0),

an ``(s+1) x (s+1)`` system (memory ``O(n s)``, no iterations kept). The backward pass
solves ``H u = v`` for the incoming gradient ``v`` and returns ``-u^T dg/d theta`` (one
vector-Jacobian product of ``g`` by autograd). Columns of a ``(p, K)`` solution (several
targets, or a path of alphas) each have their own support and system.

**Non-differentiable points.** Where a coefficient sits exactly at the threshold
(``w_j = 0`` with ``|x_j^T S l'(eta)| / n = alpha rho c_j``: it is about to enter or leave
the support), or a Huber residual exactly at ``delta``, the solution has only one-sided
derivatives. The derivative returned is the one of the branch on which the returned zeros
stay zero (and Huber's quadratic branch, ``l'' = 1`` at ``|r| = delta``): e.g. for a
coefficient entering the support as alpha decreases, the derivative as alpha increases.
The gradient is only as exact as the solution (tighten ``tol``); a solution not
``converged`` is differentiated as it is (solve warns). First order only: the backward
pass is not itself differentiable.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .errors import InputError


def attach(coef: Tensor, intercept: Tensor, *, X: Tensor, y: Tensor, alpha: Tensor,
           l1_ratio: Tensor | None = None, sample_weight: Tensor | None = None,
           weights: Tensor | None = None, loss: str = "squared", fit_intercept: bool = True,
           delta: float | None = None, positive: bool = False,
           bounds: tuple[Any, Any] | None = None) -> tuple[Tensor, Tensor]:
    """``(coef, intercept)`` of a solution (``(p,)`` or ``(p, K)``), attached to the inputs
    that require grad. ``alpha`` is 0-d or ``(K,)`` (one per column: a path); ``y`` is
    ``(n,)`` or ``(n, K)`` (one target per column)."""
    if loss == "logistic" and y.requires_grad:
        raise InputError("logistic labels are discrete: y cannot require grad")
    if l1_ratio is None:
        l1_ratio = torch.ones((), dtype=coef.dtype, device=coef.device)
    lo, hi = _box(positive, bounds, coef)
    spec = {"loss": loss, "fit_intercept": fit_intercept, "lower": lo, "upper": hi,
            "delta": 1.35 if delta is None else float(delta)}
    return ImplicitSolution.apply(spec, coef.detach(), intercept.detach(), X, y, alpha,
                                  l1_ratio, sample_weight, weights)


def _box(positive: bool, bounds: Any, like: Tensor) -> tuple[Tensor | None, Tensor | None]:
    p = like.shape[0]
    if positive:
        return torch.zeros(p, dtype=like.dtype, device=like.device), None
    if bounds is None:
        return None, None
    return tuple(None if b is None else  # type: ignore[return-value]
                 torch.as_tensor(b, dtype=like.dtype, device=like.device).expand(p)
                 for b in bounds)


class ImplicitSolution(torch.autograd.Function):
    """Forward: the solution as given (already solved). Backward: per column, the reduced
    system ``H u = v`` on the support and one vector-Jacobian product of ``g`` (module
    docstring); exact zeros for the off-support coefficients."""

    @staticmethod
    def forward(ctx: Any, spec: dict[str, Any], coef: Tensor, intercept: Tensor, X: Tensor,
                y: Tensor, alpha: Tensor, l1_ratio: Tensor, sample_weight: Tensor | None,
                weights: Tensor | None) -> tuple[Tensor, Tensor]:
        ctx.spec = spec
        ctx.save_for_backward(coef, intercept, X, y, alpha, l1_ratio, sample_weight, weights)
        return coef.clone(), intercept.clone()

    @staticmethod
    def backward(ctx: Any, g_coef: Tensor, g_int: Tensor) -> tuple[Any, ...]:
        coef, intercept, *params = ctx.saved_tensors
        want = ctx.needs_input_grad[3:]
        grads: list[Tensor | None] = [None] * len(params)
        if not any(want):
            return (None, None, None, *grads)
        W = coef[:, None] if coef.dim() == 1 else coef
        b = intercept.reshape(-1)
        Gc = g_coef.reshape(W.shape)
        Gb = g_int.reshape(-1) if ctx.spec["fit_intercept"] else torch.zeros_like(b)
        for k in range(W.shape[1]):
            part = _column_vjp(ctx.spec, W[:, k], b[k], Gc[:, k], Gb[k], params, want, k)
            grads = [g if q is None else (q if g is None else g + q)
                     for g, q in zip(grads, part, strict=True)]
        return (None, None, None, *grads)


def support(w: Tensor, lower: Tensor | None, upper: Tensor | None) -> Tensor:
    """Indices of the free coefficients: nonzero and strictly inside their bounds."""
    free = w != 0
    if lower is not None:
        free &= w > lower
    if upper is not None:
        free &= w < upper
    return free.nonzero().squeeze(1)


def _column_vjp(spec: dict[str, Any], w: Tensor, b: Tensor, gw: Tensor, gb: Tensor,
                params: list[Tensor | None], want: tuple[bool, ...],
                k: int) -> list[Tensor | None]:
    """``-u^T dg/d theta`` for one column, ``u = H^{-1} (gw_S, gb)``."""
    X, y, alpha, rho, sw, c = params
    S = support(w, spec["lower"], spec["upper"])
    v = gw[S] if not spec["fit_intercept"] else torch.cat([gw[S], gb.reshape(1)])
    if v.numel() == 0 or not bool((v != 0).any()):
        return [None] * len(params)
    wS = w[S]
    XS = X.detach().index_select(1, S)
    with torch.no_grad():
        yk, ak = _pick(y, alpha, k)
        sk = None if sw is None else sw.detach()
        H = _hessian(spec, XS, yk.detach(), wS, b, ak.detach(), rho.detach(), sk,
                     None if c is None else c.detach()[S])
        u = _solve(H, v)
    out: list[Tensor | None] = [None] * len(params)
    if want[0]:
        out[0] = _x_vjp(spec, XS, yk.detach(), wS, b, sk, u, S, X.shape[1])
    live = [(i, t) for i, (t, need) in enumerate(zip(params, want, strict=True))
            if i > 0 and need and t is not None]
    if live:
        with torch.enable_grad():
            yk, ak = _pick(y, alpha, k)  # slices inside the graph
            g = _reduced_gradient(spec, XS, yk, wS, b, ak, rho, sw,
                                  None if c is None else c[S])
            got = torch.autograd.grad(g, [t for _, t in live], grad_outputs=-u,
                                      allow_unused=True)
        for (i, t), q in zip(live, got, strict=True):
            out[i] = torch.zeros_like(t) if q is None else q
    return out


def _x_vjp(spec: dict[str, Any], XS: Tensor, y: Tensor, wS: Tensor, b: Tensor,
           sw: Tensor | None, u: Tensor, S: Tensor, p: int) -> Tensor:
    """``-u^T dg/dX`` in closed form: ``-(d u_w^T + (S l'' (X_S u_w + u_b)) w_S^T) / n`` on
    the support's columns, 0 elsewhere (``d = S l'(eta)``)."""
    n, s = XS.shape
    fit = spec["fit_intercept"]
    eta = XS @ wS + (b if fit else 0.0)
    d, h = loss_derivatives(spec, y, eta)
    sn = _weights(sw, n)
    if sn is not None:
        d, h = sn * d, sn * h
    uw = u[:s]
    q = XS @ uw + (u[s] if fit else 0.0)
    G = torch.zeros(n, p, dtype=XS.dtype, device=XS.device)
    G.index_copy_(1, S, -(torch.outer(d, uw) + torch.outer(h * q, wS)) / n)
    return G


def _pick(y: Tensor, alpha: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Column ``k``'s target and alpha (``y (n, K)``: targets; ``alpha (K,)``: a path)."""
    return (y[:, k] if y.dim() == 2 else y), (alpha[k] if alpha.dim() == 1 else alpha)


def _weights(sw: Tensor | None, n: int) -> Tensor | None:
    """Row weights rescaled to sum ``n`` (:func:`lasso_torch.checks.check_sample_weight`)."""
    return None if sw is None else sw * (n / sw.sum())


def _labels(spec: dict[str, Any], y: Tensor) -> Tensor:
    if spec["loss"] == "logistic" and bool(((y == 0) | (y == 1)).all()):
        return 2 * y - 1  # as lasso_torch.glm.Logistic: labels used as +-1
    return y


def loss_derivatives(spec: dict[str, Any], y: Tensor, eta: Tensor) -> tuple[Tensor, Tensor]:
    """``l'(eta)`` and ``l''(eta)`` of the loss (as :mod:`lasso_torch.glm.losses`)."""
    name = spec["loss"]
    if name == "squared":
        return eta - y, torch.ones_like(eta)
    if name == "logistic":
        y = _labels(spec, y)
        p = torch.sigmoid(eta)
        return -y * torch.sigmoid(-y * eta), p * (1 - p)
    if name == "huber":
        r, d = y - eta, spec["delta"]
        return -r.clamp(-d, d), (r.abs() <= d).to(eta.dtype)
    mu = torch.exp(eta)  # poisson
    return mu - y, mu


def _reduced_gradient(spec: dict[str, Any], XS: Tensor, y: Tensor, wS: Tensor, b: Tensor,
                      alpha: Tensor, rho: Tensor, sw: Tensor | None,
                      cS: Tensor | None) -> Tensor:
    """``g(w_S, b; theta)`` of the module docstring (zero at the solution)."""
    n = XS.shape[0]
    eta = XS @ wS + (b if spec["fit_intercept"] else 0.0)
    d = loss_derivatives(spec, y, eta)[0]
    s = _weights(sw, n)
    d = d if s is None else s * d
    pen = alpha * (rho * torch.sign(wS) + (1 - rho) * wS)
    pen = pen if cS is None else cS * pen
    gw = XS.T @ d / n + pen
    return torch.cat([gw, (d.sum() / n).reshape(1)]) if spec["fit_intercept"] else gw


def _hessian(spec: dict[str, Any], XS: Tensor, y: Tensor, wS: Tensor, b: Tensor,
             alpha: Tensor, rho: Tensor, sw: Tensor | None, cS: Tensor | None) -> Tensor:
    """``H`` of the module docstring: the datafit's Hessian on the support (and intercept)
    plus the ridge part of the penalty."""
    n, k = XS.shape
    fit = spec["fit_intercept"]
    eta = XS @ wS + (b if fit else 0.0)
    h = loss_derivatives(spec, y, eta)[1]
    s = _weights(sw, n)
    h = h if s is None else s * h
    H = torch.empty(k + fit, k + fit, dtype=XS.dtype, device=XS.device)
    unit = spec["loss"] == "squared" and s is None  # h = 1: no (n, s) temporary
    H[:k, :k] = (XS.T @ XS if unit else XS.T @ (h[:, None] * XS)) / n
    if fit:  # the intercept's row and column: [X_S, 1]^T D [X_S, 1] / n
        H[:k, k] = H[k, :k] = XS.T @ h / n
        H[k, k] = h.sum() / n
    ridge = alpha * (1 - rho) * (torch.ones_like(wS) if cS is None else cS)
    idx = torch.arange(k, device=XS.device)
    H[idx, idx] += ridge
    return H


def _solve(H: Tensor, v: Tensor) -> Tensor:
    """``H^{-1} v`` (Cholesky; least squares where ``H`` is singular: a support of more
    than ``n`` features, or duplicated columns, has no unique solution)."""
    L, info = torch.linalg.cholesky_ex(H)
    if int(info) == 0:
        return torch.cholesky_solve(v[:, None], L)[:, 0]
    return torch.linalg.lstsq(H, v[:, None]).solution[:, 0]
