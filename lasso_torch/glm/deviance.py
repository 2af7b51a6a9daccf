r"""Gamma and Tweedie deviance losses with the log link (``mu = exp(eta)``), glum's and
glmnet's families for positive skewed responses (claim sizes, costs, overdispersed counts).

Each loss is half the unit deviance up to a term in ``y`` alone, so the minimizers are
glum's (``GeneralizedLinearRegressor(family=..., link="log")``, whose objective is
``1/(2 sum s) sum s_i d(y_i, mu_i) + penalty``), and ``f(w) - sum s min l / n`` is half
the mean deviance:

* **Gamma** (``y > 0``): ``l = y exp(-eta) + eta``, ``l' = 1 - y exp(-eta)``,
  ``l'' = y exp(-eta)`` (unbounded: the gradient solvers backtrack); floor
  ``1 + log y`` (``d = 2 (y / mu - 1 - log(y / mu))``). **Certificate: the duality gap**;
  ``u = -l' = y exp(-eta) - 1`` and, for ``v = kappa u`` (``0 <= kappa <= 1``),
  ``l*(-v) = t log(t / y) - t`` with ``t = 1 + v >= 1 - kappa >= 0`` (``0`` at ``t = 0``):
  the supremum of ``-v eta - l(eta)`` is attained at ``exp(-eta) = t / y``.
* **Tweedie** (``power`` ``rho`` in ``(1, 2)``, compound Poisson-Gamma; ``y >= 0``):
  ``l = exp((2 - rho) eta) / (2 - rho) - y exp((1 - rho) eta) / (1 - rho)``,
  ``l' = mu^(2 - rho) - y mu^(1 - rho)``, ``l'' = (2 - rho) mu^(2 - rho) + (rho - 1) y
  mu^(1 - rho) > 0``; floor at ``mu = y``: ``y^(2 - rho) (1/(2 - rho) - 1/(1 - rho))``
  (``0`` at ``y = 0``). Its conjugate has no closed form: **certificate: the KKT
  violation** (``max_j dist(-grad_j f, d Omega_j)``, relative to ``||grad f(0)||_inf``).
  ``rho = 1`` is :class:`~lasso_torch.glm.losses.Poisson`, ``rho = 2`` :class:`Gamma`;
  beyond ``2`` the log-link loss is not convex (``l''`` turns negative for
  ``mu > (rho - 1) y / (rho - 2)``), so those powers are refused.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .base import GLMDatafit, bad_labels, y_like


class _LogLink(GLMDatafit):
    """The intercept's bracket of a log-link loss: ``b`` within ``log(mean y) - z``."""

    lipschitz_factor = None

    def bracket(self, z: Tensor, s: Tensor | None) -> tuple[Tensor, Tensor]:
        c = torch.log(self._ymean(z, s).clamp(min=1e-300))
        zmin, zmax = self._masked(z, s)
        return c - zmax, c - zmin

    def local_curvature(self) -> float:
        return 1.0


class Gamma(_LogLink):
    name = "gamma"

    def prepare_y(self, y: Tensor) -> Tensor:
        if not bool((y > 0).all()):
            raise bad_labels("gamma", "y must be > 0 (positive amounts)")
        return y

    def loss(self, eta: Tensor) -> Tensor:
        return y_like(self, eta) * torch.exp(-eta) + eta

    def deriv(self, eta: Tensor) -> Tensor:
        return 1 - y_like(self, eta) * torch.exp(-eta)

    def hess(self, eta: Tensor) -> Tensor:
        return y_like(self, eta) * torch.exp(-eta)

    def conj(self, v: Tensor) -> Tensor:
        t = (1 + v).clamp(min=0.0)
        return torch.xlogy(t, t) - torch.xlogy(t, y_like(self, v)) - t

    def saturated(self, like: Tensor) -> Tensor:
        return 1 + torch.log(y_like(self, like)) * torch.ones_like(like)


class Tweedie(_LogLink):
    name = "tweedie"
    conjugate_gap = False  # no closed-form conjugate: the KKT certificate

    def __init__(self, *args, power: float = 1.5, **kwargs) -> None:
        if not (isinstance(power, (int, float)) and math.isfinite(power) and 1 < power < 2):
            raise bad_labels("tweedie", f"power must be in (1, 2) with the log link (1: "
                                        f"poisson, 2: gamma), got {power!r}")
        self.power = float(power)
        super().__init__(*args, **kwargs)

    def prepare_y(self, y: Tensor) -> Tensor:
        if bool((y < 0).any()):
            raise bad_labels("tweedie", "y must be >= 0")
        return y

    def check(self) -> None:
        if not float(self.y.sum()) > 0:
            raise bad_labels("tweedie", "y is all 0: the intercept would be -inf")

    def loss(self, eta: Tensor) -> Tensor:
        r = self.power
        return (torch.exp((2 - r) * eta) / (2 - r)
                - y_like(self, eta) * torch.exp((1 - r) * eta) / (1 - r))

    def deriv(self, eta: Tensor) -> Tensor:
        r = self.power
        return torch.exp((2 - r) * eta) - y_like(self, eta) * torch.exp((1 - r) * eta)

    def hess(self, eta: Tensor) -> Tensor:
        r = self.power
        return ((2 - r) * torch.exp((2 - r) * eta)
                + (r - 1) * y_like(self, eta) * torch.exp((1 - r) * eta))

    def local_curvature(self) -> float:
        return float(self.y.mean()) ** (2 - self.power)

    def saturated(self, like: Tensor) -> Tensor:
        r = self.power
        y = y_like(self, like) * torch.ones_like(like)
        return y.pow(2 - r) * (1 / (2 - r) - 1 / (1 - r))


DEVIANCE_LOSSES = {"gamma": Gamma, "tweedie": Tweedie}
