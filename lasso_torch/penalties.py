"""Penalties in scikit-learn's ElasticNet scaling: ``alpha (rho |w|_1 + (1-rho)/2 |w|^2)``.

Each penalty exposes ``value``, ``prox``, ``subdiff_distance`` and ``alpha_max`` (the
skglm interface). ``alpha`` may be a float or a tensor of shape ``(K,)`` that
broadcasts over the columns of a ``(p, K)`` coefficient batch.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .prox import enet_prox


class ElasticNet:
    """``alpha * (l1_ratio * |w|_1 + (1 - l1_ratio) / 2 * |w|_2^2)``."""

    def __init__(self, alpha: float | Tensor, l1_ratio: float = 0.5) -> None:
        if not 0.0 <= float(l1_ratio) <= 1.0:
            raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio}")
        if isinstance(alpha, Tensor):
            if bool((alpha < 0).any()):
                raise ValueError("alpha must be >= 0")
        elif not (alpha >= 0 and math.isfinite(alpha)):
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
        self.alpha = alpha
        self.l1_ratio = float(l1_ratio)

    @property
    def l1(self) -> float | Tensor:
        """Weight of ``|w|_1``: ``alpha * l1_ratio``."""
        return self.alpha * self.l1_ratio

    @property
    def l2(self) -> float | Tensor:
        """Weight of ``|w|^2 / 2``: ``alpha * (1 - l1_ratio)``."""
        return self.alpha * (1.0 - self.l1_ratio)

    def value(self, w: Tensor) -> Tensor:
        """Penalty value (a scalar for ``w`` of shape ``(p,)``, ``(K,)`` for ``(p, K)``)."""
        out = torch.zeros_like(w.sum(0))
        if self.l1_ratio > 0:
            out = out + self.l1 * w.abs().sum(0)
        if self.l1_ratio < 1:
            out = out + 0.5 * self.l2 * (w * w).sum(0)
        return out

    def prox(self, z: Tensor, step: float | Tensor) -> Tensor:
        """``argmin_w  |w - z|^2 / (2 step) + penalty(w)``, exact zeros where ``|z| <= step*l1``."""
        return enet_prox(z, step, self.alpha, self.l1_ratio)

    def subdiff_distance(self, w: Tensor, grad: Tensor) -> Tensor:
        """Per coordinate, ``dist(-grad_j, d penalty(w)_j)`` (``grad`` of the smooth part).

        Zero everywhere exactly at a minimizer of ``f + penalty`` (the KKT conditions).
        """
        g = grad + self.l2 * w if self.l1_ratio < 1 else grad
        if self.l1_ratio == 0:
            return g.abs()
        on_support = (g + self.l1 * torch.sign(w)).abs()
        off_support = (g.abs() - self.l1).clamp(min=0)
        return torch.where(w != 0, on_support, off_support)

    def alpha_max(self, grad0: Tensor) -> Tensor:
        """Smallest alpha whose solution is all zeros, given ``grad0 = X^T y / n`` (centered).

        ``||X^T y||_inf / (n * l1_ratio)``; infinite for ridge (``l1_ratio == 0``).
        """
        top = grad0.abs().amax(0)
        if self.l1_ratio == 0:
            return torch.full_like(top, math.inf)
        return top / self.l1_ratio

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha}, l1_ratio={self.l1_ratio})"


class L1(ElasticNet):
    """The Lasso penalty ``alpha * |w|_1``."""

    def __init__(self, alpha: float | Tensor) -> None:
        super().__init__(alpha, l1_ratio=1.0)

    def __repr__(self) -> str:
        return f"L1(alpha={self.alpha})"


class L2(ElasticNet):
    """The ridge penalty ``alpha / 2 * |w|^2`` (scikit-learn's ElasticNet with l1_ratio=0)."""

    def __init__(self, alpha: float | Tensor) -> None:
        super().__init__(alpha, l1_ratio=0.0)

    def __repr__(self) -> str:
        return f"L2(alpha={self.alpha})"


def make_penalty(alpha: float | Tensor, l1_ratio: float) -> ElasticNet:
    """The named penalty class for ``l1_ratio`` (1 -> L1, 0 -> L2, else ElasticNet)."""
    if l1_ratio == 1.0:
        return L1(alpha)
    if l1_ratio == 0.0:
        return L2(alpha)
    return ElasticNet(alpha, l1_ratio)
