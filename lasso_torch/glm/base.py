r"""The datafit of a generalized linear model: ``f(w) = 1/n sum_i s_i l(y_i, x_i^T w + b)``.

The same protocol as :class:`lasso_torch.datafits.Quadratic` (``value``, ``gradient``,
``lipschitz``, ``intercept``, ``sums``, ``columns``, ``features``, row weights ``(n,)`` or
``(n, F)``, iterates ``(p,)`` or ``(p, K)``), for a loss given row by row: a subclass
defines ``loss(eta)``, ``deriv(eta)`` (``dl/deta``), ``hess(eta)`` (``d2l/deta2``),
``conj(v)`` (``l_i*(-v_i)``, see below), ``saturated()`` (``min_eta l``) and the
``bracket`` of the intercept.

**The intercept is profiled out**, as for the squared loss: ``b(w) = argmin_b f(w, b)``,
the root of ``sum_i s_i l'(eta_i) = 0`` found by safeguarded Newton (a fixed number of
steps inside a bracket, no host sync, warm-started from the last call). By the envelope
theorem ``grad f(w) = X^T S l'(eta) / n`` at ``eta = X w + b(w)``, and since
``sum_i s_i l'(eta_i) = 0`` this is ``X_c^T S l'(eta) / n`` for any centering. The profiled
``f`` is convex, and ``v^T hess f v = min_t (X v + t)^T D (X v + t) / n`` with
``D = S l''`` is at most ``sup l'' ||X_c v||^2_S / n``: the Lipschitz constant is
``sup l''`` times the squared loss's (``1/4`` for the logistic loss).

**Certificate**: with the generalized residual ``u = -l'(eta)`` (``y - eta`` for the squared
loss) the dual of ``f + Omega`` is ``D(v) = -1/n sum_i s_i l_i*(-v_i) - Omega*(X^T S v / n)``
subject to ``sum_i s_i v_i = 0`` (the free intercept); ``v = kappa u`` is feasible
(``kappa`` from the penalty, :mod:`lasso_torch.certificates`). ``p0 = f(0) - sum s
min l / n`` (``P(0)`` above the loss's floor) scales the relative gap.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import torch
from torch import Tensor

from .. import sparse as sp
from ..datafits import Quadratic, as_column
from ..errors import InputError


class GLMDatafit:
    """Base class: one loss ``l(y_i, eta_i)`` summed over the weighted rows."""

    name = "glm"
    lipschitz_factor: float | None = 1.0  # sup l'' (None: unbounded, steps backtrack)
    conjugate_gap = True  # whether certificates can form the duality gap
    newton_steps = 40  # intercept Newton steps from a cold start (bisection fallback)
    warm_steps = 16  # from the last call's intercept
    use_gram = False
    fused_pass = False

    def __init__(self, X: Tensor, y: Tensor, fit_intercept: bool = True,
                 gram: bool | str = False, row_weights: Tensor | None = None,
                 **params: Any) -> None:
        self.X, self.p, self.fit_intercept = X, X.shape[1], fit_intercept
        self.params = params
        self.y = self.prepare_y(y)
        self.groups: Tensor | None = None
        s = None if row_weights is None else row_weights.to(dtype=X.dtype, device=X.device)
        if s is not None and s.dim() == 2 and s.shape[1] == 1:
            s = s[:, 0]
        self.s = s
        self.F = 1 if s is None or s.dim() == 1 else s.shape[1]
        self.n = X.shape[0] if s is None else (s.sum(0) if self.F > 1 else s.sum())
        self._warm: dict[tuple[int, ...], Tensor] = {}

    def prepare_y(self, y: Tensor) -> Tensor:
        return y

    # --- rows, weights and batch columns ---------------------------------------------------
    def _c(self, v: Tensor, axis: int = -1) -> Tensor:
        return v if self.groups is None else v.index_select(axis, self.groups)

    @property
    def n_cols(self) -> Tensor | float:
        return self.n if self.F == 1 else self._c(self.n)

    def _s(self, like: Tensor) -> Tensor | None:
        """The row weights against ``like`` (``(n,)`` or ``(n, K)``), None for no weights."""
        if self.s is None:
            return None
        return as_column(self.s, like) if self.s.dim() == 1 else self._c(self.s, 1)

    def _sum(self, v: Tensor, s: Tensor | None) -> Tensor:
        return (v if s is None else s * v).sum(0)

    def _ymean(self, like: Tensor, s: Tensor | None, y: Tensor | None = None) -> Tensor:
        y = as_column(self.y if y is None else y, like)
        return y.mean(0) * torch.ones_like(like[0]) if s is None else (s * y).sum(0) / s.sum(0)

    @staticmethod
    def _masked(z: Tensor, s: Tensor | None) -> tuple[Tensor, Tensor]:
        """``(min, max)`` of ``z`` per column over the rows of positive weight."""
        if s is None:
            return z.amin(0), z.amax(0)
        live = s > 0
        inf = torch.finfo(z.dtype).max
        return torch.where(live, z, inf).amin(0), torch.where(live, z, -inf).amax(0)

    def columns(self, groups: Tensor) -> GLMDatafit:
        if self.F == 1:
            return self
        _ = self.p0, self.Xty
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.groups = groups
        return view

    def features(self, idx: Tensor) -> GLMDatafit:
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.X, view.p = sp.select(self.X, idx, 1), idx.numel()
        view.__dict__.pop("XT", None)
        if "Xty" in self.__dict__:
            view.__dict__["Xty"] = self.Xty[idx]
        return view

    # --- the profiled intercept -------------------------------------------------------------
    def bracket(self, z: Tensor, s: Tensor | None) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def _intercept(self, z: Tensor) -> Tensor:
        """``b`` per column with ``sum_i s_i l'(z_i + b) = 0`` (safeguarded Newton)."""
        if not self.fit_intercept:
            return torch.zeros_like(z[0])
        s = self._s(z)
        lo, hi = self.bracket(z, s)
        warm = self._warm.get(tuple(z.shape))
        b = (lo + hi) / 2 if warm is None else torch.minimum(torch.maximum(warm, lo), hi)
        for _ in range(self.newton_steps if warm is None else self.warm_steps):
            e = z + b
            d1, d2 = self._sum(self.deriv(e), s), self._sum(self.hess(e), s)
            lo = torch.where(d1 < 0, b, lo)
            hi = torch.where(d1 > 0, b, hi)
            bn = b - d1 / d2
            b = torch.where((bn >= lo) & (bn <= hi), bn, (lo + hi) / 2)
        self._warm[tuple(z.shape)] = b
        return b

    def linear(self, w: Tensor) -> tuple[Tensor, Tensor]:
        """``(eta, b)``: the linear predictor ``X w + b(w)`` (``b`` detached) and ``b``."""
        z = self.X @ w
        b = self._intercept(z.detach())
        return z + b, b

    # --- value, gradient, Lipschitz constant, certificate sums ---------------------------
    def value_at(self, eta: Tensor) -> Tensor:
        return self._sum(self.loss(eta), self._s(eta)) / self.n_cols

    def value(self, w: Tensor) -> Tensor:
        return self.value_at(self.linear(w)[0])

    def gradient(self, w: Tensor) -> Tensor:
        eta = self.linear(w)[0]
        s = self._s(eta)
        d = self.deriv(eta)
        return self.XT @ (d if s is None else s * d) / self.n_cols

    def intercept(self, w: Tensor) -> Tensor:
        return self.linear(w)[1]

    def sums(self, w: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(eta, u, X^T S u)`` with ``u = -l'(eta)``: what the certificate is made of."""
        eta = self.linear(w)[0]
        u = -self.deriv(eta)
        s = self._s(eta)
        return eta, u, self.XT @ (u if s is None else s * u)

    @cached_property
    def XT(self) -> Tensor:
        """``X^T`` for its products (a CSR copy for a sparse ``X``, made once)."""
        return sp.transpose(self.X)

    def row_hessian(self, w: Tensor) -> tuple[Tensor, Tensor]:
        """``(eta, s l''(eta))``: the Newton (IRLS) row weights at ``w``."""
        eta = self.linear(w)[0]
        s = self._s(eta)
        h = self.hess(eta)
        return eta, h if s is None else s * h

    @cached_property
    def Xty(self) -> Tensor:
        """``-grad f(0)`` (the intercept-only model): gives ``alpha_max``. (p,) or (p, F)."""
        w0 = torch.zeros((self.p, self.F) if self.F > 1 else (self.p,), dtype=self.X.dtype,
                         device=self.X.device)  # X may be sparse
        view = self if self.groups is None else self._one_view()
        return -view.gradient(w0)

    def _one_view(self) -> GLMDatafit:
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.groups = None
        return view

    @cached_property
    def p0(self) -> Tensor:
        """``f(0)`` above the loss's floor ``sum s min l / n``: 0-d or (F,)."""
        view = self if self.groups is None else self._one_view()
        w0 = torch.zeros((self.p, self.F) if self.F > 1 else (self.p,), dtype=self.X.dtype,
                         device=self.X.device)  # X may be sparse
        eta = view.linear(w0)[0]
        return view.value_at(eta) - view._sum(view.saturated(eta), view._s(eta)) / view.n

    @property
    def p0_cols(self) -> Tensor:
        return self.p0 if self.F == 1 else self._c(self.p0)

    @cached_property
    def lipschitz(self) -> Tensor:
        """``sup l''`` times the squared loss's constant (an estimate at the intercept-only
        model when ``l''`` is unbounded: the solvers then backtrack)."""
        zeros = torch.zeros(self.X.shape[0], dtype=self.X.dtype, device=self.X.device)
        quad = Quadratic(self.X, zeros, self.fit_intercept,
                         gram=False, row_weights=self.s)
        factor = self.lipschitz_factor
        if factor is None:
            factor = self.local_curvature()
        return quad.lipschitz * factor

    def local_curvature(self) -> float:
        return 1.0

    # --- what a loss defines ------------------------------------------------------------
    def loss(self, eta: Tensor) -> Tensor:
        raise NotImplementedError

    def deriv(self, eta: Tensor) -> Tensor:
        raise NotImplementedError

    def hess(self, eta: Tensor) -> Tensor:
        raise NotImplementedError

    def conj(self, v: Tensor) -> Tensor:
        """``l_i*(-v_i)`` per row for a dual point ``v`` (a scaled generalized residual)."""
        raise NotImplementedError

    def saturated(self, like: Tensor) -> Tensor:
        """``min_eta l(y_i, eta)`` per row, against ``like``."""
        return torch.zeros_like(like)

    def check(self) -> None:
        """Reject data the loss cannot fit (called by the factory)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.X.shape[0]}, p={self.p})"


def y_like(df: GLMDatafit, like: Tensor) -> Tensor:
    return as_column(df.y, like)


def bad_labels(name: str, detail: str) -> InputError:
    return InputError(f"loss {name!r}: {detail}")
