"""Penalties in scikit-learn's ElasticNet scaling: ``alpha (rho |w|_1 + (1-rho)/2 |w|^2)``.

Each penalty exposes ``value``, ``prox``, ``subdiff_distance`` and ``alpha_max`` (the
skglm interface). ``alpha`` may be a float or a tensor of shape ``(K,)`` that
broadcasts over the columns of a ``(p, K)`` coefficient batch.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .prox import enet_prox, group_prox_diag, group_soft_threshold, soft_threshold


class AlphaSplit:
    """``alpha`` split by ``l1_ratio`` between the L1 part and the other (the ridge term, or
    the group norms): what every elastic-net-like penalty exposes."""

    alpha: float | Tensor
    l1_ratio: float

    @property
    def l1(self) -> float | Tensor:
        """Weight of ``|w|_1``: ``alpha * l1_ratio``."""
        return self.alpha * self.l1_ratio

    @property
    def l2(self) -> float | Tensor:
        """Weight of the other part: ``alpha * (1 - l1_ratio)``."""
        return self.alpha * (1.0 - self.l1_ratio)


class ElasticNet(AlphaSplit):
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

    # --- what the conjugate certificates, batches and working sets ask of a penalty -------
    convex = True

    def dual_scale(self, v: Tensor) -> Tensor:
        """The largest ``kappa <= 1`` with ``conjugate(kappa v)`` finite, per column: ``v`` is
        ``-grad f`` (``X_c^T S u / n``). Only the lasso's conjugate has a domain."""
        if self.l1_ratio == 1:
            return (self.l1 / v.abs().amax(0)).clamp(max=1.0)
        return torch.ones_like(v.sum(0))

    def conjugate(self, v: Tensor) -> Tensor:
        """``sum_j omega*(v_j)``: ``S(v, a1)^2 / (2 a2)`` (0 inside the lasso's domain)."""
        if self.l1_ratio == 1:
            return torch.zeros_like(v.sum(0))
        u = soft_threshold(v, self.l1) if self.l1_ratio > 0 else v
        return (u * u).sum(0) / (2 * self.l2)

    def select(self, keep: Tensor) -> ElasticNet:
        """The penalty of the batch columns ``keep`` (a bool mask over ``alpha``)."""
        return make_penalty(self.alpha[keep], self.l1_ratio) if isinstance(
            self.alpha, Tensor) and self.alpha.dim() else self

    def features(self, idx: Tensor) -> ElasticNet:
        """The penalty of the features ``idx`` (the same: it is uniform over features)."""
        return self

    def scale(self, c: float) -> ElasticNet:
        """``c`` times this penalty."""
        return make_penalty(self.alpha * c, self.l1_ratio)

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


class GroupL1:
    """Group lasso ``alpha * sum_g ||w_g||_2``, the groups being slices of ``w`` across ``dim``.

    For an ``nn.Linear`` weight ``(out_features, in_features)``, ``dim=0`` makes each
    input column a group: a zero group is an input the layer no longer reads. ``value``,
    ``subdiff_distance`` and ``subgradient`` return one value per group (or their sum).
    ``prox(z, step)`` takes a number or a tensor of ``z``'s shape (a diagonal metric, as in
    :class:`~lasso_torch.optim.ProxAdam`); either way whole groups become exactly 0.0.
    """

    def __init__(self, alpha: float, dim: int | tuple[int, ...] = 0) -> None:
        if not (alpha >= 0 and math.isfinite(alpha)):
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
        self.alpha = float(alpha)
        self.dim = dim

    def norms(self, w: Tensor) -> Tensor:
        """``||w_g||_2`` per group."""
        return torch.linalg.vector_norm(w, dim=self.dim)

    def value(self, w: Tensor) -> Tensor:
        return self.alpha * self.norms(w).sum()

    def prox(self, z: Tensor, step: float | Tensor) -> Tensor:
        if isinstance(step, Tensor) and step.numel() > 1:
            return group_prox_diag(z, step.expand_as(z), self.alpha, self.dim)
        return group_soft_threshold(z, step * self.alpha, self.dim)

    def subgradient(self, w: Tensor) -> Tensor:
        """``alpha w_g / ||w_g||`` (0 on a zero group): what autograd gives for ``value``."""
        norm = torch.linalg.vector_norm(w, dim=self.dim, keepdim=True)
        return torch.where(norm > 0, self.alpha * w / norm, torch.zeros_like(w))

    def subdiff_distance(self, w: Tensor, grad: Tensor) -> Tensor:
        """Per group, ``dist(-grad_g, alpha d||w_g||)``: 0 everywhere at a minimizer."""
        on = torch.linalg.vector_norm(grad + self.subgradient(w), dim=self.dim)
        off = (torch.linalg.vector_norm(grad, dim=self.dim) - self.alpha).clamp(min=0)
        return torch.where(self.norms(w) > 0, on, off)

    def alpha_max(self, grad0: Tensor) -> Tensor:
        """Smallest alpha whose solution is 0, given the smooth part's gradient at 0."""
        return torch.linalg.vector_norm(grad0, dim=self.dim).amax()

    def __repr__(self) -> str:
        return f"GroupL1(alpha={self.alpha}, dim={self.dim})"


def make_penalty(alpha: float | Tensor, l1_ratio: float) -> ElasticNet:
    """The named penalty class for ``l1_ratio`` (1 -> L1, 0 -> L2, else ElasticNet)."""
    if l1_ratio == 1.0:
        return L1(alpha)
    if l1_ratio == 0.0:
        return L2(alpha)
    return ElasticNet(alpha, l1_ratio)


def is_plain(penalty: object) -> bool:
    """Whether ``penalty`` is the uniform elastic net (L1, L2, ElasticNet) the quadratic
    machinery (``gap_from_sums``, cd, ws, screening) was written for."""
    return type(penalty) in (ElasticNet, L1, L2)
