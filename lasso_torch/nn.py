"""``LassoLayer`` / ``ElasticNetLayer``: a certified solve as an ``nn.Module``.

``forward(X, y)`` returns the coefficients of ``min_w 1/(2n)||y - X w - b||^2 + alpha
(l1_ratio |w|_1 + (1 - l1_ratio)/2 |w|^2)`` and backpropagates by implicit differentiation
(:mod:`lasso_torch.implicit`: one system on the support, exact zeros off it) into ``X``,
``y`` and, with ``learn_alpha=True``, ``log alpha``. Sparse coding is the canonical use:
``X`` a dictionary ``(n, p)`` (atoms as columns), ``y`` signals; batched over a leading
dimension: ``y (B, n)`` against one ``X (n, p)`` (one batched solve of ``B`` targets), or
``X (B, n, p)`` with ``y (B, n)`` (one solve per item). :class:`UnrolledLassoLayer` is the
same layer by ``K`` unrolled ISTA/FISTA steps (:mod:`lasso_torch.unrolled`), the
comparison.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from .solve import solve
from .unrolled import unrolled_solve


class _SparseLayer(nn.Module):
    def __init__(self, alpha: float, l1_ratio: float, fit_intercept: bool, learn_alpha: bool,
                 **solve_options: Any) -> None:
        super().__init__()
        log_alpha = torch.tensor(math.log(alpha), dtype=torch.float64)
        if learn_alpha:
            self.log_alpha = nn.Parameter(log_alpha)
        else:
            self.register_buffer("log_alpha", log_alpha)
        self.l1_ratio, self.fit_intercept = float(l1_ratio), fit_intercept
        self.solve_options = solve_options

    @property
    def alpha(self) -> Tensor:
        return torch.exp(self.log_alpha)

    def _one(self, X: Tensor, y: Tensor) -> Tensor:
        """Coefficients for ``y (n,)`` or ``(n, T)`` (``(p,)`` or ``(p, T)``)."""
        raise NotImplementedError

    def forward(self, X: Tensor, y: Tensor) -> Tensor:
        """``coef (p,)`` for ``y (n,)``; ``(B, p)`` for ``y (B, n)`` (or ``X (B, n, p)``)."""
        if X.dim() == 3:
            return torch.stack([self._one(X[i], y[i]) for i in range(X.shape[0])])
        if y.dim() == 2:
            return self._one(X, y.T).T
        return self._one(X, y)

    def extra_repr(self) -> str:
        return (f"alpha={float(self.alpha.detach()):.4g}, l1_ratio={self.l1_ratio}, "
                f"fit_intercept={self.fit_intercept}")


class ElasticNetLayer(_SparseLayer):
    """Certified elastic-net solution as a layer (``solve_options``: ``tol`` (default
    1e-8), ``solver``, ... of :func:`lasso_torch.solve`)."""

    def __init__(self, alpha: float = 0.1, l1_ratio: float = 0.5, *,
                 fit_intercept: bool = False, learn_alpha: bool = False,
                 **solve_options: Any) -> None:
        super().__init__(alpha, l1_ratio, fit_intercept, learn_alpha, **solve_options)

    def _one(self, X: Tensor, y: Tensor) -> Tensor:
        opts = {"tol": 1e-8, "warn": False, **self.solve_options}
        alpha = self.alpha.to(X.dtype)
        return solve(X, y, alpha, self.l1_ratio, fit_intercept=self.fit_intercept,
                     **opts).coef


class LassoLayer(ElasticNetLayer):
    """Certified Lasso solution as a layer (``l1_ratio = 1``)."""

    def __init__(self, alpha: float = 0.1, *, fit_intercept: bool = False,
                 learn_alpha: bool = False, **solve_options: Any) -> None:
        super().__init__(alpha, 1.0, fit_intercept=fit_intercept, learn_alpha=learn_alpha,
                         **solve_options)


class UnrolledLassoLayer(_SparseLayer):
    """The same layer by ``n_iter`` unrolled FISTA (``accelerate``) or ISTA steps."""

    def __init__(self, alpha: float = 0.1, l1_ratio: float = 1.0, n_iter: int = 100, *,
                 accelerate: bool = True, fit_intercept: bool = False,
                 learn_alpha: bool = False) -> None:
        super().__init__(alpha, l1_ratio, fit_intercept, learn_alpha)
        self.n_iter, self.accelerate = n_iter, accelerate

    def _one(self, X: Tensor, y: Tensor) -> Tensor:
        return unrolled_solve(X, y, self.alpha.to(X.dtype), self.l1_ratio, self.n_iter,
                              accelerate=self.accelerate, fit_intercept=self.fit_intercept)[0]
