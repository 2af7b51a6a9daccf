r"""The built-in losses beyond the squared one, each with its convex conjugate.

With ``eta`` the linear predictor and ``u = -l'(eta)`` the generalized residual, each loss
gives ``l``, ``l'``, ``l''`` and ``l*(-v)`` on the dual points ``v = kappa u``
(``0 <= kappa <= 1``), which stay in the conjugate's domain:

* **Logistic** (labels ``y`` in {0, 1} or {-1, 1}, used as ``y = +-1``):
  ``l = log(1 + exp(-y eta))``, ``u = y sigmoid(-y eta)``, ``l'' <= 1/4``;
  ``l*(-v) = q log q + (1 - q) log(1 - q)`` with ``q = y v`` in ``[0, 1]``; floor 0.
  scikit-learn's ``LogisticRegression(penalty="l1", C=1/(n alpha))`` solves the same
  problem (its intercept unpenalized with ``solver="saga"``).
* **Huber** (``delta > 0``): ``l = r^2/2`` for ``|r| <= delta``, ``delta |r| - delta^2/2``
  beyond, ``r = y - eta``; ``u = clip(r, -delta, delta)``, ``l'' <= 1``;
  ``l*(-v) = v^2/2 - v y`` on ``|v| <= delta``; floor 0 (skglm's ``Huber``).
* **Poisson** (log link, counts ``y >= 0``): ``l = exp(eta) - y eta``, ``u = y - exp(eta)``,
  ``l''`` unbounded (the solvers backtrack); ``l*(-v) = t log t - t`` with
  ``t = y - v >= 0``; floor ``y - y log y`` (the relative gap is one of the deviance; skglm's
  ``Poisson``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .base import GLMDatafit, bad_labels, y_like


class Logistic(GLMDatafit):
    name = "logistic"
    lipschitz_factor = 0.25

    def prepare_y(self, y: Tensor) -> Tensor:
        vals = set(torch.unique(y).tolist())
        if vals <= {0.0, 1.0}:
            return 2 * y - 1
        if vals <= {-1.0, 1.0}:
            return y
        raise bad_labels("logistic", f"labels must be 0/1 or -1/1, got {sorted(vals)[:5]}")

    def check(self) -> None:
        if self.y.abs().sum() == self.y.sum().abs():
            raise bad_labels("logistic", "y holds a single class; both are needed")

    def bracket(self, z: Tensor, s: Tensor | None) -> tuple[Tensor, Tensor]:
        m = ((self._ymean(z, s) + 1) / 2).clamp(1e-12, 1 - 1e-12)
        c = torch.log(m) - torch.log1p(-m)
        zmin, zmax = self._masked(z, s)
        return c - zmax, c - zmin

    def loss(self, eta: Tensor) -> Tensor:
        return torch.nn.functional.softplus(-y_like(self, eta) * eta)

    def deriv(self, eta: Tensor) -> Tensor:
        y = y_like(self, eta)
        return -y * torch.sigmoid(-y * eta)

    def hess(self, eta: Tensor) -> Tensor:
        p = torch.sigmoid(eta)
        return p * (1 - p)

    def conj(self, v: Tensor) -> Tensor:
        q = (y_like(self, v) * v).clamp(0.0, 1.0)
        return torch.xlogy(q, q) + torch.xlogy(1 - q, 1 - q)


class Huber(GLMDatafit):
    name = "huber"
    lipschitz_factor = 1.0
    conj_linear_in_y = True  # conj(v) = v^2/2 - v y: y may be centered (exact.LossRows)

    def __init__(self, *args, delta: float = 1.35, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not (isinstance(delta, (int, float)) and math.isfinite(delta) and delta > 0):
            raise bad_labels("huber", f"delta must be a number > 0, got {delta!r}")
        self.delta = float(delta)

    def bracket(self, z: Tensor, s: Tensor | None) -> tuple[Tensor, Tensor]:
        return self._masked(y_like(self, z) - z, s)

    def loss(self, eta: Tensor) -> Tensor:
        r = (y_like(self, eta) - eta).abs()
        d = self.delta
        return torch.where(r <= d, 0.5 * r * r, d * r - 0.5 * d * d)

    def deriv(self, eta: Tensor) -> Tensor:
        return -(y_like(self, eta) - eta).clamp(-self.delta, self.delta)

    def hess(self, eta: Tensor) -> Tensor:
        return ((y_like(self, eta) - eta).abs() <= self.delta).to(eta.dtype)

    def conj(self, v: Tensor) -> Tensor:
        return 0.5 * v * v - v * y_like(self, v)

    def row_hessian(self, w: Tensor) -> tuple[Tensor, Tensor]:
        """Newton weights ``psi(r) / r = min(1, delta / |r|)``: the classical Huber IRLS
        weights, a quadratic majorizer at ``r`` (``l'' = 0`` beyond ``delta`` would leave
        those rows' gradient out of the model)."""
        eta = self.linear(w)[0]
        r = (y_like(self, eta) - eta).abs()
        h = torch.where(r <= self.delta, torch.ones_like(r), self.delta / r.clamp(min=1e-300))
        s = self._s(eta)
        return eta, h if s is None else s * h


class Poisson(GLMDatafit):
    name = "poisson"
    lipschitz_factor = None

    def prepare_y(self, y: Tensor) -> Tensor:
        if bool((y < 0).any()):
            raise bad_labels("poisson", "counts y must be >= 0")
        return y

    def check(self) -> None:
        if not float(self.y.sum()) > 0:
            raise bad_labels("poisson", "y is all 0: the intercept would be -inf")

    def bracket(self, z: Tensor, s: Tensor | None) -> tuple[Tensor, Tensor]:
        c = torch.log(self._ymean(z, s).clamp(min=1e-300))
        zmin, zmax = self._masked(z, s)
        return c - zmax, c - zmin

    def loss(self, eta: Tensor) -> Tensor:
        return torch.exp(eta) - y_like(self, eta) * eta

    def deriv(self, eta: Tensor) -> Tensor:
        return torch.exp(eta) - y_like(self, eta)

    def hess(self, eta: Tensor) -> Tensor:
        return torch.exp(eta)

    def conj(self, v: Tensor) -> Tensor:
        t = (y_like(self, v) - v).clamp(min=0.0)
        return torch.xlogy(t, t) - t

    def saturated(self, like: Tensor) -> Tensor:
        y = y_like(self, like) * torch.ones_like(like)
        return y - torch.xlogy(y, y)

    def local_curvature(self) -> float:
        return float(self.y.mean())


LOSSES = {"logistic": Logistic, "huber": Huber, "poisson": Poisson}
