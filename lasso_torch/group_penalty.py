r"""Group penalties over feature groups: group Lasso, sparse group Lasso, weighted groups.

.. math::
    \Omega(w) = \alpha \big(\tau \|w\|_1 + (1 - \tau) \sum_g c_g \|w_g\|_2\big)

(``tau = l1_ratio``: 0 the group Lasso, skglm's ``GroupLasso``; in ``(0, 1)`` the sparse group
Lasso, skglm's ``SparseGroupLasso``; ``c_g > 0`` the group weights, default
``sqrt(|g|)`` as in grpreg and glmnet's grouped families). Write ``a1 = alpha tau``,
``a2_g = alpha (1 - tau) c_g``:

* prox: ``u = S(z, t a1)`` then ``u_g max(0, 1 - t a2_g / ||u_g||)`` (exact: the sparse
  group Lasso's prox is the composition); whole groups become exactly 0;
* conjugate: the indicator of ``{v: ||S(v_g, a1)||_2 <= a2_g for every g}``; the dual point
  ``kappa u`` is scaled into it (:meth:`dual_scale`: per group the largest ``kappa <= 1``
  with ``||S(kappa v_g, a1)|| <= a2_g``, by bisection from below, so always feasible), and
  the duality gap is ``P(w) + 1/n sum_i s_i l_i*(-kappa u_i)`` (the conjugate term is 0);
* ``alpha_max``: the largest over groups of the ``alpha`` where
  ``||S(v_g, alpha tau)|| = alpha (1 - tau) c_g`` (``||v_g|| / c_g`` for the group Lasso);
* the KKT violation per feature: its group's ``dist(-grad_g, d Omega_g(w_g))``.

Groups are given as an int ``m`` (consecutive groups of ``m`` features), a list of index
lists (a partition of the features), or one group label per feature.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .errors import InputError
from .penalties import AlphaSplit
from .prox import soft_threshold


def group_labels(groups: Any, p: int) -> np.ndarray:
    """One label ``0..G-1`` per feature, checked; the message names ``groups``."""
    if isinstance(groups, (int, np.integer)) and not isinstance(groups, bool):
        if not 1 <= groups <= p:
            raise InputError(f"groups={groups}: a group size must be in [1, {p}]")
        return np.arange(p) // int(groups)
    if isinstance(groups, (list, tuple)) and groups and all(
            isinstance(g, (list, tuple, np.ndarray, range)) for g in groups):
        labels = np.full(p, -1)
        for k, g in enumerate(groups):
            idx = np.asarray(list(g), dtype=np.int64)
            if idx.size == 0 or idx.min() < 0 or idx.max() >= p or (labels[idx] >= 0).any():
                raise InputError(f"groups: group {k} is empty, out of range or overlaps "
                                 f"another (the groups must partition the {p} features)")
            labels[idx] = k
        if (labels < 0).any():
            raise InputError(f"groups: features {np.flatnonzero(labels < 0)[:5].tolist()} "
                             "are in no group")
        return labels
    arr = np.asarray(groups)
    if arr.shape != (p,) or not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"groups must be a group size, a list of index lists or {p} integer "
                         f"labels, got {type(groups).__name__}")
    return np.unique(arr, return_inverse=True)[1].ravel()


class SparseGroupLasso(AlphaSplit):
    """``alpha (l1_ratio |w|_1 + (1 - l1_ratio) sum_g c_g ||w_g||_2)`` (module docstring)."""

    convex = True

    def __init__(self, alpha: float | Tensor, groups: Any, p: int, l1_ratio: float = 0.0,
                 group_weights: Any = None) -> None:
        if not 0.0 <= float(l1_ratio) <= 1.0:
            raise InputError(f"l1_ratio must be in [0, 1], got {l1_ratio}")
        self.alpha, self.l1_ratio = alpha, float(l1_ratio)
        labels = group_labels(groups, p)
        self.labels = torch.from_numpy(labels.astype(np.int64))
        self.n_groups = int(labels.max()) + 1
        sizes = np.bincount(labels, minlength=self.n_groups)
        c = np.sqrt(sizes) if group_weights is None else np.asarray(group_weights, float)
        if c.shape != (self.n_groups,) or not (np.isfinite(c).all() and (c > 0).all()):
            raise InputError(f"group_weights must be {self.n_groups} finite numbers > 0")
        self.group_weights = torch.from_numpy(c)

    # --- per group helpers -------------------------------------------------------------
    def _g(self, like: Tensor) -> tuple[Tensor, Tensor]:
        lab = self.labels.to(like.device)
        c = self.group_weights.to(dtype=like.dtype, device=like.device)
        return lab, (c[:, None] if like.dim() == 2 else c)

    def group_norms(self, w: Tensor) -> Tensor:
        lab, _ = self._g(w)
        out = torch.zeros((self.n_groups, *w.shape[1:]), dtype=w.dtype, device=w.device)
        return out.index_add_(0, lab, w * w).sqrt()

    def value(self, w: Tensor) -> Tensor:
        _, c = self._g(w)
        return self.l1 * w.abs().sum(0) + self.l2 * (c * self.group_norms(w)).sum(0)

    def prox(self, z: Tensor, step: float | Tensor) -> Tensor:
        lab, c = self._g(z)
        u = soft_threshold(z, step * self.l1) if self.l1_ratio > 0 else z
        norms = self.group_norms(u)
        scale = (1 - step * self.l2 * c / norms.clamp(min=1e-300)).clamp(min=0.0)
        return u * scale[lab]

    def subdiff_distance(self, w: Tensor, grad: Tensor) -> Tensor:
        """Per feature, its group's distance ``dist(-grad_g, d Omega_g(w_g))``."""
        lab, c = self._g(w)
        norms = self.group_norms(w)
        a2 = (self.l2 * c)[lab]
        nz = (norms > 0)[lab]
        shrink = torch.where(nz, a2 * w / norms[lab].clamp(min=1e-300), 0.0)
        g = grad + shrink
        on = torch.where(w != 0, (g + self.l1 * torch.sign(w)).abs(),
                         (g.abs() - self.l1).clamp(min=0))
        off = soft_threshold(grad, self.l1) if self.l1_ratio > 0 else grad
        per = torch.where(nz, on, off)
        d = torch.zeros_like(norms).index_add_(0, lab, per * per).sqrt()
        d_off = (d - self.l2 * c).clamp(min=0)
        return torch.where(norms > 0, d, d_off)[lab]

    def _kappa_group(self, v: Tensor, a1: float | Tensor, a2: Tensor) -> Tensor:
        """Per group the largest ``kappa`` in [0, 1] with ``||S(kappa v_g, a1)|| <= a2``."""
        lab, _ = self._g(v)

        def excess(k: Tensor) -> Tensor:
            u = soft_threshold(k[lab] * v, a1) if self.l1_ratio > 0 else k[lab] * v
            return self.group_norms(u) - a2
        one = torch.ones_like(a2)
        lo, hi = torch.zeros_like(a2), one.clone()
        ok = excess(one) <= 0
        for _ in range(60):
            mid = (lo + hi) / 2
            good = excess(mid) <= 0
            lo, hi = torch.where(good, mid, lo), torch.where(good, hi, mid)
        return torch.where(ok, one, lo)

    def dual_scale(self, v: Tensor) -> Tensor:
        if self.l1_ratio == 1:
            return (self.l1 / v.abs().amax(0)).clamp(max=1.0)
        _, c = self._g(v)
        return self._kappa_group(v, self.l1, self.l2 * c).amin(0)

    def conjugate(self, v: Tensor) -> Tensor:
        return torch.zeros_like(v.sum(0))

    def alpha_max(self, grad0: Tensor) -> Tensor:
        _, c = self._g(grad0)
        tau = self.l1_ratio
        if tau == 0:
            return (self.group_norms(grad0) / c).amax(0)
        if tau == 1:
            return grad0.abs().amax(0)
        lab, _ = self._g(grad0)
        lo = torch.zeros_like(self.group_norms(grad0))
        hi = lo + grad0.abs().amax(0) / tau  # S(v, alpha tau) = 0 there: every group fits
        for _ in range(80):
            mid = (lo + hi) / 2
            fits = self.group_norms(soft_threshold(grad0, mid[lab] * tau)) <= mid * (1 - tau) * c
            lo, hi = torch.where(fits, lo, mid), torch.where(fits, mid, hi)
        return hi.amax(0)

    def scale(self, c: float) -> SparseGroupLasso:
        out = object.__new__(type(self))
        out.__dict__.update(self.__dict__)
        out.alpha = self.alpha * c
        return out

    def __repr__(self) -> str:
        return (f"SparseGroupLasso(alpha={self.alpha}, l1_ratio={self.l1_ratio}, "
                f"groups={self.n_groups})")


def group_lasso(alpha: float, groups: Any, p: int, l1_ratio: float = 0.0,
                group_weights: Any = None) -> SparseGroupLasso:
    """The group penalty of ``lt.solve(..., penalty="group", groups=...)``."""
    if not (math.isfinite(float(alpha)) and float(alpha) >= 0):
        raise InputError(f"alpha must be a finite number >= 0, got {alpha}")
    return SparseGroupLasso(alpha, groups, p, l1_ratio, group_weights)
