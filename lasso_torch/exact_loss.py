"""A loss's row functions in float64 for the final certificate (:mod:`lasso_torch.exact`):
the datafit's ``loss``/``deriv``/``hess``/``conj``/``saturated``/``bracket`` on float64
labels with no ``X`` and no solver state, and the profiled intercept found to rounding."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

F64 = torch.float64
EPS64 = float(torch.finfo(F64).eps)


class LossRows:
    """``f(eta) = 1/n sum_i s_i l(y_i, eta_i)`` per column of ``eta (n, K)``, in float64: the
    datafit's row functions (``loss``, ``deriv``, ``hess``, ``conj``, ``saturated``,
    ``bracket``) on float64 labels, with no ``X`` and no solver state; a user's loss through
    autograd (its value may be per row or one number)."""

    def __init__(self, datafit: Any, y: Tensor, s: Tensor | None, n: Tensor,
                 fit_intercept: bool = True) -> None:
        self.s, self.n, self.fit_intercept = s, n, fit_intercept
        self.user = not hasattr(datafit, "deriv")
        if self.user:
            self.fn, self.y = datafit.fn, y
            return
        twin = object.__new__(type(datafit))
        twin.__dict__.update({k: v for k, v in datafit.__dict__.items()
                              if k not in ("X", "XT", "gram", "lipschitz", "Xty", "p0")})
        twin.X, twin.groups, twin.F, twin._warm, twin.s = None, None, 1, {}, s
        twin.y = datafit.prepare_y(y) if hasattr(datafit, "prepare_y") else y
        self.twin = twin

    def _w(self, M: Tensor) -> Tensor:
        return M if self.s is None else self.s[:, None] * M

    def _user_value(self, e: Tensor) -> Tensor:
        out = self.fn(e, self.y)
        return out if out.dim() == 0 else self._w(out[:, None])[:, 0].sum() / self.n

    def value(self, eta: Tensor) -> Tensor:
        if not self.user:
            return self._w(self.twin.loss(eta)).sum(0) / self.n
        with torch.no_grad():
            return torch.stack([self._user_value(eta[:, k]) for k in range(eta.shape[1])])

    def derivs(self, eta: Tensor) -> tuple[Tensor, Tensor]:
        """``(s l'(eta), s l''(eta))`` per row and column (the weighted derivatives)."""
        if not self.user:
            return self._w(self.twin.deriv(eta)), self._w(self.twin.hess(eta))
        g, h = [], []
        for k in range(eta.shape[1]):
            e = eta[:, k].detach().requires_grad_(True)
            with torch.enable_grad():
                (gk,) = torch.autograd.grad(self._user_value(e), e, create_graph=True)
                hk = (torch.autograd.grad(gk.sum(), e, allow_unused=True)[0]
                      if gk.requires_grad else None)
            g.append(gk.detach() * self.n)
            h.append(torch.zeros_like(e) if hk is None else hk.detach() * self.n)
        return torch.stack(g, 1), torch.stack(h, 1)

    def bracket(self, Z: Tensor) -> tuple[Tensor, Tensor]:
        if self.user or not hasattr(self.twin, "bracket"):
            inf = torch.full_like(Z[0], torch.inf)
            return -inf, inf
        return self.twin.bracket(Z, None if self.s is None else self.s[:, None].expand_as(Z))

    def conj(self, V: Tensor) -> Tensor:
        """``1/n sum_i s_i l_i*(-v_i)`` per column. Where ``l*(-v)`` is ``g(v) - v y`` (the
        Huber loss) and the dual point sums to 0 (the free intercept), ``y`` is centered
        first: its mean would only cancel, taking its digits along (targets near ``1e6``)."""
        twin = self.twin
        if self.fit_intercept and getattr(twin, "conj_linear_in_y", False):
            twin = object.__new__(type(self.twin))
            twin.__dict__.update(self.twin.__dict__)
            twin.y = self.twin.y - self._w(self.twin.y[:, None]).sum() / self.n
        return self._w(twin.conj(V)).sum(0) / self.n

    def floor(self, like: Tensor) -> Tensor:
        """``1/n sum_i s_i min l_i``."""
        if self.user or not hasattr(self.twin, "saturated"):
            return like.new_zeros(())
        return self._w(self.twin.saturated(like[:, :1])).sum() / self.n


def profile_intercept(rows: LossRows, Z: Tensor, start: Tensor | None = None) -> Tensor:
    """``c (K,)`` minimizing ``sum_i s_i l(z_ik + c)`` per column: Newton steps kept inside a
    shrinking bracket (bisection where Newton leaves it), to rounding. ``start``: a first
    guess per column (NaN: none; the bracket's midpoint), e.g. the solver's intercept: only
    where Newton starts, never where it stops."""
    lo, hi = rows.bracket(Z)
    bounded = torch.isfinite(lo) & torch.isfinite(hi)
    c = torch.where(bounded, (lo + hi) / 2, torch.zeros_like(lo))
    if start is not None:
        c = torch.where(torch.isfinite(start), torch.minimum(torch.maximum(start, lo), hi), c)
    for _ in range(200):
        d1, d2 = rows.derivs(Z + c)
        g, h = d1.sum(0), d2.sum(0)
        if bool((g.abs() <= 4 * EPS64 * d1.abs().sum(0)).all()):
            break
        hi = torch.where(g > 0, torch.minimum(hi, c), hi)  # the root lies below c
        lo = torch.where(g < 0, torch.maximum(lo, c), lo)
        cn = c - torch.where(h > 0, g / torch.where(h > 0, h, 1.0), torch.sign(g))
        bounded = torch.isfinite(lo) & torch.isfinite(hi)
        # the bracket closed: a Newton step below c's rounding lands on the end just set
        # to c, and bisecting from there took ~50 more passes (a 100-alpha path: 2 s)
        cn = torch.where((cn >= lo) & (cn <= hi) | ~bounded, cn, (lo + hi) / 2)
        if bool((cn == c).all()):  # every column at a fixed point: c is to rounding
            break
        c = cn
    return c
