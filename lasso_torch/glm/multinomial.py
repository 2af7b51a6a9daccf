r"""Multinomial logistic regression (softmax loss) with coefficients ``W (p, K)``.

For labels ``y_i`` in ``K`` classes (one-hot ``Y``), row weights ``s`` (``N = sum s``) and
``eta = X W + 1 b^T``::

    f(W, b) = 1/N sum_i s_i (logsumexp(eta_i) - eta_{i, y_i})

(scikit-learn's ``LogisticRegression`` multinomial loss, ``C = 1 / (N alpha)``), with the
penalty ``alpha (rho sum |W_jk| + (1 - rho)/2 ||W||^2)`` (``"l1"``) or glmnet's grouped
``alpha (rho sum_j ||W_j.||_2 + (1 - rho)/2 ||W||^2)`` (``"grouped"``: each feature's row
across the classes in or out together). The intercepts ``b`` are free; they are defined
up to a common shift, and :func:`profile_intercept` takes the one with ``sum b = 0``.

**Certificate: the duality gap.** With ``P = softmax(eta)`` at the profiled intercept
(so ``sum_i s_i (Y - P)_i = 0``, the dual's constraint), ``U = Y - P`` and
``V = X^T S U / N``, the point ``kappa U`` is dual feasible for ``kappa`` the penalty's
scaling (``min(1, a1 / ||V||_inf)`` for the lasso, ``min(1, a1 / max_j ||V_j||_2)`` for
the grouped lasso, 1 with a ridge part) and, row by row, ``l*(-kappa u_i) = sum_k q_k log
q_k`` with ``q = (1 - kappa) e_{y_i} + kappa p_i`` (in the simplex), so::

    gap = f + Omega(W) + 1/N sum_i s_i sum_k q_ik log q_ik + Omega*(kappa V)

``Omega*`` is ``sum S(v, a1)^2 / (2 a2)`` (``sum_j max(0, ||v_j|| - a1)^2 / (2 a2)``
grouped) when ``a2 > 0``, 0 inside the ball otherwise. ``P(0)`` above the floor 0 is
``f`` at ``W = 0`` (the class frequencies).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..prox import soft_threshold


def one_hot(codes: Tensor, K: int, like: Tensor) -> Tensor:
    return torch.nn.functional.one_hot(codes, K).to(like.dtype)


def softmax(eta: Tensor) -> Tensor:
    """``softmax(eta)`` by rows, as ``exp(eta - logsumexp(eta))`` (``torch.softmax`` along
    a short last axis is 4x slower)."""
    return torch.exp(eta - torch.logsumexp(eta, 1, keepdim=True))


def loss_value(eta: Tensor, Y: Tensor, s: Tensor) -> Tensor:
    return (s * (torch.logsumexp(eta, 1) - (eta * Y).sum(1))).sum() / s.sum()


def profile_intercept(Z: Tensor, Y: Tensor, s: Tensor, b: Tensor,
                      steps: int = 50) -> Tensor:
    """``argmin_b f`` given ``Z = X W`` (Newton with backtracking, ``sum b = 0``)."""
    K = Y.shape[1]
    N = s.sum()
    ones = torch.ones(K, K, dtype=Z.dtype) / K
    for _ in range(steps):
        eta = Z + b
        P = softmax(eta)
        g = (s[:, None] * (P - Y)).sum(0) / N
        if float(g.abs().max()) <= 1e-15:
            break
        H = (torch.diag((s[:, None] * P).sum(0)) - (s[:, None] * P).T @ P) / N
        d = -torch.linalg.solve(H + ones, g)  # the constant direction: H's null space
        d = d - d.mean()
        f0, t = loss_value(eta, Y, s), 1.0
        slope = float(g @ d)
        for _ in range(40 if -slope > 1e-14 * max(1.0, abs(float(f0))) else 0):  # measurable
            if float(loss_value(Z + b + t * d, Y, s)) <= float(f0) + 1e-4 * t * slope:
                break
            t /= 2
        b = b + t * d
        if float((t * d).abs().max()) <= 1e-15 * (1 + float(b.abs().max())):
            break
    return b - b.mean()


def penalty_value(W: Tensor, alpha: float, rho: float, grouped: bool) -> Tensor:
    l1 = torch.linalg.vector_norm(W, dim=1).sum() if grouped else W.abs().sum()
    return alpha * (rho * l1 + 0.5 * (1 - rho) * (W * W).sum())


def prox(Z: Tensor, step: float, alpha: float, rho: float, grouped: bool) -> Tensor:
    a1, a2 = step * alpha * rho, step * alpha * (1 - rho)
    if grouped:
        norms = torch.linalg.vector_norm(Z, dim=1, keepdim=True)
        out = Z * (1 - a1 / norms.clamp(min=1e-300)).clamp(min=0)
    else:
        out = soft_threshold(Z, a1)
    return out / (1 + a2)


def certificate(X: Tensor, Y: Tensor, s: Tensor, W: Tensor, b: Tensor, alpha: float,
                rho: float, grouped: bool, intercept: bool = True
                ) -> tuple[float, float, float, Tensor]:
    """``(P(W), gap, kkt, b*)`` (module docstring; without intercept ``b`` stays 0)."""
    N = s.sum()
    Z = X @ W
    b = profile_intercept(Z, Y, s, b) if intercept else torch.zeros_like(b)
    eta = Z + b
    lse = torch.logsumexp(eta, 1, keepdim=True)
    P = torch.exp(eta - lse)
    U = Y - P
    V = X.T @ (s[:, None] * U) / N
    a1, a2 = alpha * rho, alpha * (1 - rho)
    loss = (s * (lse[:, 0] - (eta * Y).sum(1))).sum() / N
    primal = float(loss + penalty_value(W, alpha, rho, grouped))
    vn = torch.linalg.vector_norm(V, dim=1) if grouped else V.abs()
    if a2 > 0:
        kappa, pconj = 1.0, float(((vn - a1).clamp(min=0) ** 2).sum() / (2 * a2))
    else:
        kappa, pconj = min(1.0, a1 / max(float(vn.max()), 1e-300)), 0.0
    Q = ((1 - kappa) * Y + kappa * P).clamp(0.0, 1.0)
    lconj = float((s * torch.xlogy(Q, Q).sum(1)).sum() / N)
    G = V - a2 * W  # -grad of the smooth part with the ridge term
    if grouped:
        wn = torch.linalg.vector_norm(W, dim=1, keepdim=True)
        on = torch.linalg.vector_norm(G - a1 * W / wn.clamp(min=1e-300), dim=1)
        off = (torch.linalg.vector_norm(G, dim=1) - a1).clamp(min=0)
        kkt = float(torch.where(wn[:, 0] > 0, on, off).max())
    else:
        kkt = float(torch.where(W != 0, (G - a1 * torch.sign(W)).abs(),
                                (G.abs() - a1).clamp(min=0)).max())
    gap = primal + lconj + pconj
    return primal, gap, kkt, b
