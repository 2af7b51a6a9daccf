r"""A user's loss as a datafit: ``loss(pred, y)`` in PyTorch, its gradient by autograd.

``loss(pred, y)`` returns per-row losses ``(n,)`` (the datafit is their weighted mean,
row weights allowed) or one number (taken as the datafit itself). Its smoothness is not
known: the gradient solvers backtrack (``lipschitz`` is an estimate from the
Gauss-Newton curvature at the start). The intercept is profiled out by Newton's method on
``b`` (its first and second derivatives by autograd, with backtracking). There is no
conjugate, so the certificate is the KKT violation ``dist(-grad f(w), d Omega(w))``,
relative to ``||grad f(0)||_inf``; the result says so.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

import torch
from torch import Tensor

from .. import sparse as sp
from ..datafits import Quadratic
from ..errors import InputError


class Autograd:
    """``f(w) = mean_s loss(X w + b(w), y)`` for a callable ``loss``."""

    name = "autograd"
    conjugate_gap = False
    use_gram = False
    fused_pass = False
    groups = None
    F = 1

    def __init__(self, X: Tensor, y: Tensor, fit_intercept: bool = True,
                 gram: bool | str = False, row_weights: Tensor | None = None, *,
                 loss: Callable[[Tensor, Tensor], Tensor], **_: Any) -> None:
        if not callable(loss):
            raise InputError(f"loss must be a name or a callable loss(pred, y), got {loss!r}")
        if row_weights is not None and row_weights.dim() == 2 and row_weights.shape[1] > 1:
            raise InputError("a user's loss serves one problem at a time (no row-weight columns)")
        self.X, self.y, self.p, self.fit_intercept = X, y, X.shape[1], fit_intercept
        self.fn = loss
        self.s = None if row_weights is None else row_weights.reshape(-1).to(X)
        self.n = X.shape[0] if self.s is None else self.s.sum()
        self._b = torch.zeros((), dtype=X.dtype, device=X.device)
        self.check()

    n_cols = property(lambda self: self.n)
    p0_cols = property(lambda self: self.p0)

    def check(self) -> None:
        out = self.fn(torch.zeros_like(self.y), self.y)
        if not isinstance(out, Tensor) or out.shape not in ((), self.y.shape):
            raise InputError("loss(pred, y) must return a tensor of shape () or (n,), got "
                             f"{getattr(out, 'shape', type(out).__name__)}")
        if out.dim() == 0 and self.s is not None:
            raise InputError("a loss returning one number cannot take row weights; "
                             "return the per-row losses")
        eta = self.y.detach() + 1e-2 * torch.linspace(-1, 1, self.y.numel(), dtype=self.y.dtype,
                                                      device=self.y.device)
        eta.requires_grad_(True)  # near the data, residuals of both signs: any curvature?
        with torch.enable_grad():
            (g,) = torch.autograd.grad(self.value_at(eta), eta, create_graph=True)
            flat = not g.requires_grad or not bool(
                torch.autograd.grad(g.sum(), eta)[0].abs().max() > 0)
        if flat:
            raise InputError("loss(pred, y) is piecewise linear (no second derivative, as "
                             "built from torch.maximum, abs or relu): the intercept's Newton "
                             "step and the step size need curvature; smooth it (e.g. a "
                             "Huber-smoothed pinball loss)")

    def value_at(self, eta: Tensor) -> Tensor:
        out = self.fn(eta, self.y)
        if out.dim() == 0:
            return out
        return (out if self.s is None else self.s * out).sum() / self.n

    def _intercept(self, z: Tensor) -> Tensor:
        """``b`` minimizing ``value_at(z + b)``: Newton with backtracking (host syncs)."""
        if not self.fit_intercept:
            return torch.zeros((), dtype=z.dtype, device=z.device)
        b = self._b.clone()
        for _ in range(50):
            bb = b.clone().requires_grad_(True)
            with torch.enable_grad():
                f = self.value_at(z + bb)
                (g,) = torch.autograd.grad(f, bb, create_graph=True)
                (h,) = torch.autograd.grad(g, bb)
            g, f = g.detach(), f.detach()
            step = -g / h if float(h) > 0 else -g
            t = 1.0
            while t > 1e-10:
                new = b + t * step
                if float(self.value_at(z + new)) <= float(f):
                    break
                t /= 2
            b = new.detach()
            if abs(float(g)) <= 1e-15 * max(1.0, abs(float(f))) or t <= 1e-10:
                break
        self._b = b
        return b

    def linear(self, w: Tensor) -> tuple[Tensor, Tensor]:
        z = self.X @ w
        b = self._intercept(z.detach())
        return z + b, b

    def value(self, w: Tensor) -> Tensor:
        if w.dim() != 1:
            raise InputError("a user's loss serves one problem at a time, not a batch")
        return self.value_at(self.linear(w)[0])

    def gradient(self, w: Tensor) -> Tensor:
        w = w.detach().requires_grad_(True)
        with torch.enable_grad():
            (g,) = torch.autograd.grad(self.value(w), w)
        return g

    def intercept(self, w: Tensor) -> Tensor:
        return self.linear(w)[1]

    def sums(self, w: Tensor) -> tuple[Tensor, None, Tensor]:
        """``(eta, None, -n grad f)``: a KKT certificate needs the gradient only."""
        return self.linear(w)[0], None, self.gradient(w) * -self.n

    def features(self, idx: Tensor) -> Autograd:
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.X, view.p = sp.select(self.X, idx, 1), idx.numel()
        view.__dict__.pop("Xty", None)
        return view

    def columns(self, groups: Tensor) -> Autograd:
        return self

    @cached_property
    def Xty(self) -> Tensor:
        return -self.gradient(torch.zeros(self.p, dtype=self.X.dtype, device=self.X.device))

    @cached_property
    def p0(self) -> Tensor:
        return self.value(torch.zeros(self.p, dtype=self.X.dtype, device=self.X.device)).detach()

    @cached_property
    def lipschitz(self) -> Tensor:
        """Gauss-Newton curvature at 0 (``d2 l / d eta2`` averaged) times ``||X_c||^2 / n``:
        a starting step only; the solvers backtrack."""
        w0 = torch.zeros(self.p, dtype=self.X.dtype, device=self.X.device)
        eta = self.linear(w0)[0].detach().requires_grad_(True)
        with torch.enable_grad():
            (g,) = torch.autograd.grad(self.value_at(eta), eta, create_graph=True)
            (h,) = torch.autograd.grad(g.sum(), eta)
        curv = float(h.abs().max()) * float(self.n)
        quad = Quadratic(self.X, torch.zeros_like(self.y), self.fit_intercept, gram=False,
                         row_weights=self.s)
        return quad.lipschitz * max(curv, 1e-12)
