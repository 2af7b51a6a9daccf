r"""Weighted and bounded elastic net: glmnet's penalty factors, ``positive=``, box bounds.

.. math::
    \Omega(w) = \sum_j \alpha\, c_j \big(\rho |w_j| + \tfrac{1-\rho}{2} w_j^2\big)
                + \iota_{[l_j, u_j]}(w_j)

``c_j >= 0`` the per-feature factor (glmnet's ``penalty.factor``, scaling both terms as
glmnet does; ``c_j = 0``: feature ``j`` is never penalized); ``l_j <= 0 <= u_j`` the bounds
(``positive=True`` is ``[0, inf)``). For the lasso, factor ``c_j`` is the lasso on the
column ``x_j / c_j`` (``w_j = w'_j / c_j``). Write ``a1_j = alpha rho c_j``,
``a2_j = alpha (1 - rho) c_j``:

* prox: ``clip(S(z, t a1) / (1 + t a2), l, u)`` (exact in 1-D: see :func:`~lasso_torch.prox.clip`);
* conjugate: ``omega_j*(v) = sup_{l <= w <= u} v w - a1 |w| - a2 w^2 / 2``, attained at
  ``clip(S(v, a1) / a2, l, u)`` when ``a2 > 0``, at ``l``, ``0`` or ``u`` when ``a2 = 0``
  (finite everywhere on a bounded side; ``v <= a1`` needed on an unbounded one);
* subdifferential at ``w``: ``[a1 + a2 w]`` (``w > 0``), ``[-a1 + a2 w]`` (``w < 0``),
  ``[-a1, a1]`` (``w = 0``), opened to ``+inf`` at ``w = u`` and ``-inf`` at ``w = l``.

The gap (:mod:`lasso_torch.certificates`) is the constrained problem's: the dual point
``kappa u`` is scaled so every unbounded side is feasible. An unpenalized feature
(``c_j = 0``) needs ``x_j^T S u = 0`` exactly: the certificate takes its dual point where
the unpenalized features are optimal given the others
(:func:`lasso_torch.problem.profile_unpenalized`), so those features are left out of the
scaling and the conjugate here.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .penalties import AlphaSplit, ElasticNet
from .prox import clip, soft_threshold

INF = math.inf


def per_feature(v: Tensor | None, like: Tensor) -> Tensor | None:
    """A per-feature ``(p,)`` vector against ``like`` (``(p,)`` or ``(p, K)``)."""
    if v is None:
        return None
    v = v.to(dtype=like.dtype, device=like.device)
    return v[:, None] if like.dim() == 2 else v


class WeightedElasticNet(AlphaSplit):
    """``alpha sum_j c_j (rho |w_j| + (1 - rho)/2 w_j^2)`` on ``lower <= w <= upper``."""

    convex = True

    def __init__(self, alpha: float | Tensor, l1_ratio: float = 1.0,
                 weights: Tensor | None = None, lower: Tensor | None = None,
                 upper: Tensor | None = None) -> None:
        ElasticNet(alpha, l1_ratio)  # the same checks of alpha and l1_ratio
        self.alpha, self.l1_ratio = alpha, float(l1_ratio)
        self.weights, self.lower, self.upper = weights, lower, upper

    def _a(self, like: Tensor) -> tuple[Tensor, Tensor]:
        """``(a1, a2)`` per feature (and per column) against ``like``."""
        c = per_feature(self.weights, like)
        one = torch.ones_like(like)
        a1, a2 = self.l1 * one, self.l2 * one
        return (a1, a2) if c is None else (a1 * c, a2 * c)

    def _bounds(self, like: Tensor) -> tuple[Tensor, Tensor]:
        one = torch.ones_like(like)
        lo, hi = per_feature(self.lower, like), per_feature(self.upper, like)
        return (-INF * one if lo is None else lo * one), (INF * one if hi is None else hi * one)

    def value(self, w: Tensor) -> Tensor:
        """The penalty (the bounds' indicator is not added: iterates stay in the box)."""
        a1, a2 = self._a(w)
        return (a1 * w.abs() + 0.5 * a2 * w * w).sum(0)

    def prox(self, z: Tensor, step: float | Tensor) -> Tensor:
        a1, a2 = self._a(z)
        out = soft_threshold(z, step * a1) / (1 + step * a2)
        return clip(out, per_feature(self.lower, z), per_feature(self.upper, z))

    def subdiff_distance(self, w: Tensor, grad: Tensor) -> Tensor:
        """``dist(-grad_j, d omega_j(w_j))`` per coordinate (see the module docstring)."""
        a1, a2 = self._a(w)
        lo, hi = self._bounds(w)
        c = -grad
        point = a1 * torch.sign(w) + a2 * w
        L = torch.where(w == 0, -a1, point)
        U = torch.where(w == 0, a1, point)
        U = torch.where(w >= hi, INF, U)
        L = torch.where(w <= lo, -INF, L)
        return (L - c).clamp(min=0) + (c - U).clamp(min=0)

    def dual_scale(self, v: Tensor) -> Tensor:
        """Largest ``kappa <= 1`` keeping ``kappa v`` in the conjugate's domain (unbounded
        sides of penalized, pure-L1 coordinates; unpenalized ones are left out)."""
        a1, a2 = self._a(v)
        lo, hi = self._bounds(v)
        live = (a2 == 0) & (a1 > 0)
        up = live & torch.isinf(hi) & (v > a1)
        down = live & torch.isinf(lo) & (v < -a1)
        ratio = torch.where(up | down, a1 / v.abs(), torch.full_like(v, INF))
        return ratio.amin(0).clamp(max=1.0)

    def conjugate(self, v: Tensor) -> Tensor:
        """``sum_j omega_j*(v_j)`` for a ``v`` scaled by :meth:`dual_scale`."""
        a1, a2 = self._a(v)
        lo, hi = self._bounds(v)
        smooth = a2 > 0
        ws = clip(soft_threshold(v, a1) / torch.where(smooth, a2, 1.0), lo, hi)
        val_smooth = v * ws - a1 * ws.abs() - 0.5 * a2 * ws * ws
        up = torch.where(torch.isinf(hi), 0.0, (v - a1) * torch.where(torch.isinf(hi), 0.0, hi))
        down = torch.where(torch.isinf(lo), 0.0, (v + a1) * torch.where(torch.isinf(lo), 0.0, lo))
        val_l1 = torch.maximum(torch.maximum(up, down), torch.zeros_like(v))
        val = torch.where(smooth, val_smooth, val_l1)
        return torch.where(a1 + a2 > 0, val, torch.zeros_like(v)).sum(0)

    def alpha_max(self, grad0: Tensor) -> Tensor:
        """Smallest alpha with every penalized coefficient 0, given ``grad0 = -grad f`` at
        the unpenalized features' optimum (the others 0): ``max_j need_j / (rho c_j)``."""
        if self.l1_ratio == 0:
            return torch.full_like(grad0.abs().amax(0), INF)
        lo, hi = self._bounds(grad0)
        need = torch.where(hi > 0, grad0.clamp(min=0), 0.0) + torch.where(
            lo < 0, (-grad0).clamp(min=0), 0.0)
        c = per_feature(self.weights, grad0)
        c = torch.ones_like(grad0) if c is None else c * torch.ones_like(grad0)
        ratio = torch.where(c > 0, need / torch.where(c > 0, c, 1.0), 0.0)
        return ratio.amax(0) / self.l1_ratio

    def select(self, keep: Tensor) -> WeightedElasticNet:
        alpha = self.alpha[keep] if isinstance(self.alpha, Tensor) and self.alpha.dim() else (
            self.alpha)
        return WeightedElasticNet(alpha, self.l1_ratio, self.weights, self.lower, self.upper)

    def features(self, idx: Tensor) -> WeightedElasticNet:
        def cut(v: Tensor | None) -> Tensor | None:
            return None if v is None else v[idx.to(v.device)]

        return WeightedElasticNet(self.alpha, self.l1_ratio, cut(self.weights),
                                  cut(self.lower), cut(self.upper))

    def scale(self, c: float) -> WeightedElasticNet:
        return WeightedElasticNet(self.alpha * c, self.l1_ratio, self.weights, self.lower,
                                  self.upper)

    def __repr__(self) -> str:
        return (f"WeightedElasticNet(alpha={self.alpha}, l1_ratio={self.l1_ratio}, "
                f"weighted={self.weights is not None}, bounded="
                f"{self.lower is not None or self.upper is not None})")
