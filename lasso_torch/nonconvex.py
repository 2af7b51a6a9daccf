r"""Non-convex penalties that remove the lasso's bias: MCP (Zhang 2010) and SCAD (Fan & Li 2001).

Both equal ``lambda |w|`` near 0 (so the same zero zone, the same ``alpha_max``, exact
zeros from their prox) and become flat for ``|w| >= gamma lambda``: large coefficients are
not shrunk. With ``lambda_j = alpha c_j`` (``c_j`` optional per-feature factors):

* MCP: ``lambda |w| - w^2 / (2 gamma)`` for ``|w| <= gamma lambda``, ``gamma lambda^2 / 2``
  beyond; prox: firm thresholding (:func:`~lasso_torch.prox.firm_threshold`);
* SCAD (``gamma > 2``): ``lambda |w|``, then ``(2 gamma lambda |w| - w^2 - lambda^2) /
  (2 (gamma - 1))``, then ``lambda^2 (gamma + 1) / 2``; prox
  :func:`~lasso_torch.prox.scad_threshold`.

There is no duality gap for them: a solver reaches a stationary point, certified by the
KKT violation ``dist(-grad f(w)_j, d p(w_j))`` (the Frechet subdifferential: the interval
``[-lambda, lambda]`` at 0, the derivative elsewhere). :func:`lasso_torch.certificates.certify`
reports that, and says so.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .errors import InputError
from .prox import firm_threshold, scad_threshold
from .weighted import per_feature


class _Folded:
    """What MCP and SCAD share: ``lambda_j = alpha c_j``, the subdifferential at 0, alpha_max."""

    convex = False
    l1_ratio = 1.0  # the zero zone is the lasso's
    min_gamma = 0.0

    def __init__(self, alpha: float | Tensor, gamma: float = 3.0,
                 weights: Tensor | None = None) -> None:
        if not (isinstance(gamma, (int, float)) and math.isfinite(gamma)
                and gamma > self.min_gamma):
            raise InputError(f"gamma of {type(self).__name__} must be a number > "
                             f"{self.min_gamma:g}, got {gamma!r}")
        if isinstance(alpha, Tensor):
            if bool((alpha < 0).any()):
                raise InputError("alpha must be >= 0")
        elif not (alpha >= 0 and math.isfinite(alpha)):
            raise InputError(f"alpha must be a finite number >= 0, got {alpha}")
        self.alpha, self.gamma, self.weights = alpha, float(gamma), weights

    @property
    def l1(self) -> float | Tensor:
        return self.alpha

    def lam(self, like: Tensor) -> Tensor:
        c = per_feature(self.weights, like)
        lam = self.alpha * torch.ones_like(like)
        return lam if c is None else lam * c

    def derivative(self, a: Tensor, lam: Tensor) -> Tensor:
        """``p'(|w|)`` for ``|w| > 0``."""
        raise NotImplementedError

    def subdiff_distance(self, w: Tensor, grad: Tensor) -> Tensor:
        lam = self.lam(w)
        c = -grad
        on = (c - torch.sign(w) * self.derivative(w.abs(), lam)).abs()
        off = (c.abs() - lam).clamp(min=0)
        return torch.where(w != 0, on, off)

    def alpha_max(self, grad0: Tensor) -> Tensor:
        c = per_feature(self.weights, grad0)
        if c is None:
            return grad0.abs().amax(0)
        c = c * torch.ones_like(grad0)
        return torch.where(c > 0, grad0.abs() / torch.where(c > 0, c, 1.0), 0.0).amax(0)

    def select(self, keep: Tensor) -> _Folded:
        alpha = self.alpha[keep] if isinstance(self.alpha, Tensor) and self.alpha.dim() else (
            self.alpha)
        return type(self)(alpha, self.gamma, self.weights)

    def features(self, idx: Tensor) -> _Folded:
        w = None if self.weights is None else self.weights[idx.to(self.weights.device)]
        return type(self)(self.alpha, self.gamma, w)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha}, gamma={self.gamma})"


class MCP(_Folded):
    """The minimax concave penalty; prox: firm thresholding."""

    def value(self, w: Tensor) -> Tensor:
        lam, a = self.lam(w), w.abs()
        inner = lam * a - a * a / (2 * self.gamma)
        return torch.where(a <= self.gamma * lam, inner, self.gamma * lam * lam / 2).sum(0)

    def prox(self, z: Tensor, step: float | Tensor) -> Tensor:
        return firm_threshold(z, step, self.lam(z), self.gamma)

    def derivative(self, a: Tensor, lam: Tensor) -> Tensor:
        return (lam - a / self.gamma).clamp(min=0)

    def scale(self, c: float) -> MCP:
        """``c MCP_{lambda, gamma} = MCP_{c lambda, gamma / c}``."""
        return MCP(self.alpha * c, self.gamma / c, self.weights)


class SCAD(_Folded):
    """The smoothly clipped absolute deviation penalty (``gamma > 2``)."""

    min_gamma = 2.0

    def value(self, w: Tensor) -> Tensor:
        lam, a, g = self.lam(w), w.abs(), self.gamma
        mid = (2 * g * lam * a - a * a - lam * lam) / (2 * (g - 1))
        return torch.where(a <= lam, lam * a, torch.where(
            a <= g * lam, mid, lam * lam * (g + 1) / 2)).sum(0)

    def prox(self, z: Tensor, step: float | Tensor) -> Tensor:
        return scad_threshold(z, step, self.lam(z), self.gamma)

    def derivative(self, a: Tensor, lam: Tensor) -> Tensor:
        return torch.where(a <= lam, lam, ((self.gamma * lam - a) / (self.gamma - 1))
                           .clamp(min=0))
