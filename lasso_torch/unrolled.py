r"""Unrolled differentiation: ``K`` ISTA/FISTA iterations kept by autograd (learned ISTA).

The comparison the field uses for differentiating a sparse solution: run a fixed number of
proximal-gradient steps as ordinary tensor operations and backpropagate through all of
them. Its gradient converges to the implicit one (:mod:`lasso_torch.implicit`) as ``K``
grows, at ``O(K)`` time and memory of the graph (every iterate is kept); the implicit
gradient costs one system on the support. Same objective as :func:`lasso_torch.solve`
(intercept profiled: the columns and ``y`` are centered).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .prox import enet_prox


def unrolled_solve(X: Tensor, y: Tensor, alpha: Tensor | float, l1_ratio: float = 1.0,
                   n_iter: int = 100, *, accelerate: bool = True, fit_intercept: bool = True,
                   step: Tensor | float | None = None) -> tuple[Tensor, Tensor]:
    """``(coef, intercept)`` after ``n_iter`` ISTA (``accelerate=False``) or FISTA steps from
    0, differentiable in every input through the iterations. ``X (n, p)``, ``y (n,)`` or
    ``(n, T)``; ``step`` defaults to ``1/L``, ``L = ||X_c||_2^2 / n`` (a constant: not
    differentiated, as in learned ISTA)."""
    n = X.shape[0]
    Xc = X - X.mean(0) if fit_intercept else X
    yc = y - y.mean(0) if fit_intercept else y
    if step is None:
        with torch.no_grad():
            step = float(n / torch.linalg.matrix_norm(Xc.detach(), 2) ** 2)
    w = torch.zeros((X.shape[1],) + tuple(y.shape[1:]), dtype=X.dtype, device=X.device)
    z, t = w, 1.0
    for _ in range(n_iter):
        grad = Xc.T @ (Xc @ z - yc) / n
        w_new = enet_prox(z - step * grad, step, alpha, l1_ratio)
        if accelerate:
            t_new = (1 + (1 + 4 * t * t) ** 0.5) / 2
            z = w_new + ((t - 1) / t_new) * (w_new - w)
            t = t_new
        else:
            z = w_new
        w = w_new
    b = (y.mean(0) - X.mean(0) @ w) if fit_intercept else torch.zeros_like(y.mean(0))
    return w, b
