r"""The final certificate's arithmetic: the sums it is made of, from the returned answer.

:func:`lasso_torch.certificates.final_certificate` certifies a *returned* answer. Its sums
are made here, apart from every datafit's products (so a datafit's cancellation cannot hide
in its own certificate):

* in **float64**, whatever the data's dtype (``X`` is converted one block of rows at a
  time: memory stays bounded by one block);
* on **centered** columns: each block is shifted by a pivot row, so the rank-one centering
  applied afterwards loses no digit when the means dwarf the spread (``1e7`` offsets); a
  sparse ``X`` stays sparse, centered implicitly (``X_c^T u = X^T u - xbar sum(u)``, exact
  where the means are small, as they are for sparse designs);
* the intercept **profiled** in float64 for the returned ``w``: ``ybar - xbar^T w`` for
  the squared loss, the root of ``sum_i s_i l'(eta_i) = 0`` for the other losses
  (:mod:`lasso_torch.exact_loss`). The answer's intercept is this one: the problem's
  optimal intercept for the returned coefficients, rounded once to the data's dtype.

The copy that low precision solves on is :mod:`lasso_torch.precision`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from . import sparse as sp
from .exact_loss import LossRows, profile_intercept

F64 = torch.float64
BLOCK = 1 << 15  # float64 entries of X converted at a time (256 KB: the block stays in cache
MIN_ROWS = 32  # for its two products); at least this many rows (wide X: few Python steps)


def _identity(t: Tensor) -> Tensor:
    return t


class Centered:
    """``X`` (dense or sparse, any float dtype) as float64 centered columns.

    A dense ``X`` is read one block of rows at a time, converted to float64 and shifted by a
    *pivot* row ``x0`` (the first row, averaged over the processes): ``X' = X - x0`` has
    column means of the order of its spread, whatever the offsets, so the centering
    ``X_c = X' - m'`` that the products apply afterwards (rank-one corrections, ``m'`` the
    mean of ``X'``) loses no digit. One pass gives ``X' W``, ``X'^T S (Yc - X' W)`` and the
    means together (:meth:`residual_products`). A sparse ``X`` stays sparse (``x0 = 0``).
    ``s`` the row weights (None: ones); ``reduce`` sums over the rows of all processes."""

    def __init__(self, X: Tensor, s: Tensor | None, fit_intercept: bool,
                 reduce: Callable[[Tensor], Tensor] | None = None) -> None:
        self.X, self.fit_intercept = X, fit_intercept
        self.reduce = reduce or _identity
        self.sparse = sp.is_sparse(X)
        self.s = None if s is None else s.reshape(-1).to(F64)
        n_rows = torch.full((1,), X.shape[0], dtype=F64, device=X.device)
        self.x0 = None
        if self.sparse:
            self.X64 = X.to(F64)
            self.XT64 = sp.transpose(self.X64)
        elif fit_intercept:  # (has a row, its row 0), summed over the processes
            both = self.reduce(torch.cat([n_rows.clamp(max=1), X[0].to(F64)]))
            self.x0 = both[1:] / both[0]
        self.n = self.reduce(n_rows if self.s is None else self.s.sum()[None])[0]
        self.rows = max(MIN_ROWS, BLOCK // max(X.shape[1], 1))

    def weight(self, V: Tensor) -> Tensor:
        return V if self.s is None else self.s[:, None] * V

    def _blocks(self) -> Any:
        """``(i, j, X'[i:j])``: float64 rows, shifted by the pivot row."""
        for i in range(0, self.X.shape[0], self.rows):
            B = self.X[i:i + self.rows].to(F64)
            yield i, i + B.shape[0], B if self.x0 is None else B - self.x0

    def _colsum(self, B: Tensor, i: int, j: int) -> Tensor:
        return B.sum(0) if self.s is None else self.s[i:j] @ B

    def _means(self, colsum: Tensor) -> None:
        """``m'`` (the mean of ``X'``) and ``xbar = x0 + m'`` from the column sums of ``X'``."""
        m = self.reduce(colsum) / self.n if self.fit_intercept else torch.zeros_like(colsum)
        self.m = m
        self.xbar = m if self.x0 is None else m + self.x0

    def _sparse_product(self, W: Tensor) -> Tensor:
        ones = torch.ones(self.X.shape[0], dtype=F64, device=self.X.device)
        self._means(self.XT64 @ (ones if self.s is None else self.s))
        return self.X64 @ W

    def matmul(self, W: Tensor) -> Tensor:
        """``X_c W`` ``(n, K)`` (and the means, from the same pass)."""
        if self.sparse:
            return self._sparse_product(W) - self.m @ W
        Z = W.new_empty(self.X.shape[0], W.shape[1])
        colsum = W.new_zeros(self.X.shape[1])
        for i, j, B in self._blocks():
            torch.mm(B, W, out=Z[i:j])
            colsum += self._colsum(B, i, j)
        self._means(colsum)
        return Z - self.m @ W

    def rmatmul(self, V: Tensor) -> Tensor:
        """``X_c^T V`` (``V`` already weighted), summed over every process's rows; after
        :meth:`matmul` (which sets the means)."""
        if self.sparse:
            out = self.XT64 @ V
        else:
            out = V.new_zeros(self.X.shape[1], V.shape[1])
            for i, j, B in self._blocks():
                out.addmm_(B.mT, V[i:j])
        return self.reduce(out) - self.m[:, None] * self.reduce(V.sum(0))

    def residual_products(self, Yc: Tensor, W: Tensor) -> tuple[Tensor, Tensor]:
        """``(R, X_c^T S R)`` with ``R = Yc - X_c W`` (``Yc`` centered, ``(n, K)``) in one pass
        over a dense ``X``: per block ``D = Yc - X' W`` and ``T = X'^T S D``, then
        ``R = D + m' W`` and ``X_c^T S R = T - m' sum(S D)``."""
        if self.sparse:
            R = Yc - (self._sparse_product(W) - self.m @ W)
            return R, self.rmatmul(self.weight(R))
        D = Yc.clone()
        T = W.new_zeros(self.X.shape[1], W.shape[1])
        colsum = W.new_zeros(self.X.shape[1])
        for i, j, B in self._blocks():
            D[i:j].addmm_(B, W, alpha=-1)
            T.addmm_(B.mT, D[i:j] if self.s is None else self.s[i:j, None] * D[i:j])
            colsum += self._colsum(B, i, j)
        self._means(colsum)
        return D + self.m @ W, self.reduce(T) - self.m[:, None] * self.reduce(
            self.weight(D).sum(0))


class Sums(NamedTuple):
    """What a certificate is made of, float64, one value per column of ``W (p, K)``."""

    n: Tensor  # sum of the row weights
    f: Tensor  # the datafit at W (its profiled intercept)
    p0: Tensor  # the datafit at 0 above the loss's floor: the relative gap's scale
    Xtr: Tensor  # X_c^T S u (p, K), u = -l' (the residual r for the squared loss)
    Xty: Tensor | None  # X_c^T S u at 0 (p, K or 1): the KKT's scale
    intercept: Tensor  # the profiled intercept in the original columns
    a: Tensor  # squared loss: sum s r^2; other losses: eta (n, K)
    b: Tensor | None  # squared loss: sum s r y_c
    rows: LossRows | None  # the loss's row functions (None: squared loss)


def exact_sums(X: Tensor, y: Tensor, s: Tensor | None, fit_intercept: bool, reduce: Any,
               W: Tensor, datafit: Any = None, kkt: bool = False,
               start: Tensor | None = None) -> Sums:
    """:class:`Sums` at ``W (p, K)``: two passes over ``X`` (the means, then one fused
    residual-and-product pass for the squared loss; ``X_c W`` and ``X_c^T S u`` for the
    others, whose intercept is profiled between them). ``datafit``: the loss (None: the
    squared loss). ``kkt``: also ``X_c^T S u`` at 0. ``start``: the solver's intercepts
    (K,), in the original columns, where the profiling's Newton starts (a GLM loss)."""
    K = W.shape[1]
    C = Centered(X, s, fit_intercept, reduce)
    red, n = C.reduce, C.n
    if datafit is None:  # the squared loss
        Y = y.detach().to(F64)
        Y = Y[:, None] if Y.dim() == 1 else Y
        ybar = red(C.weight(Y).sum(0)) / n if fit_intercept else torch.zeros_like(Y[0])
        Yc = (Y - ybar).expand(-1, K) if Y.shape[1] == 1 else Y - ybar
        R, Xtr = C.residual_products(Yc, W)
        SR = C.weight(R)
        sums = red(torch.cat([(SR * R).sum(0), (SR * Yc).sum(0), (C.weight(Yc) * Yc).sum(0)]))
        r2, ry, yy = sums[:K], sums[K:2 * K], sums[2 * K:]
        Xty = C.rmatmul(C.weight(Yc)) if kkt else None
        return Sums(n, r2 / (2 * n), yy / (2 * n), Xtr, Xty, ybar.expand(K) - C.xbar @ W,
                    r2, ry, None)
    rows = LossRows(datafit, y.detach().to(F64), C.s, n, fit_intercept)
    W0 = torch.cat([W, W.new_zeros(W.shape[0], 1)], 1)  # the zero column: P(0), grad f(0)
    Z = C.matmul(W0)
    if start is not None:  # to the centered columns; the zero column starts at the midpoint
        start = torch.cat([start.detach().to(F64).reshape(K) + C.xbar @ W,
                           torch.full_like(Z[0, :1], float("nan"))])
    c = profile_intercept(rows, Z, start) if fit_intercept else Z.new_zeros(K + 1)
    eta = Z + c
    fall = rows.value(eta)
    XtU = C.rmatmul(-rows.derivs(eta)[0])  # X_c^T S u
    return Sums(n, fall[:K], (fall[K] - rows.floor(eta)).expand(K), XtU[:, :K], XtU[:, K:],
                c[:K] - C.xbar @ W, eta[:, :K], None, rows)


SMALL = 1 << 16  # entries of a dense CPU X certified in numpy (torch's per-op cost dominates)


def small_squared(X: Tensor, y: Tensor, w: Tensor, s: Tensor | None, fit_intercept: bool,
                  a1: float, a2: float) -> tuple[float, ...] | None:
    """The squared loss's elastic-net certificate of one ``w (p,)`` on a small dense CPU
    ``X`` (at most :data:`SMALL` entries), in numpy float64: ``(P(w), gap, P(0), kkt,
    intercept, n)``, the same sums and formulas as :class:`Centered` and
    :func:`lasso_torch.certificates.gap_from_sums` (a test holds them equal) at a tenth of
    the per-call cost; with ``n`` (the weights' sum) last. None where it does not apply."""
    if sp.is_sparse(X) or X.device.type != "cpu" or X.numel() > SMALL or y.dim() != 1:
        return None
    Xn = X.detach().numpy().astype(np.float64, copy=False)
    yn = y.detach().numpy().astype(np.float64, copy=False)
    wn = w.detach().numpy().astype(np.float64, copy=False)
    sn = None if s is None else s.detach().numpy().astype(np.float64, copy=False)
    n = float(Xn.shape[0]) if sn is None else float(sn.sum())
    if fit_intercept:
        B = Xn - Xn[0]  # the pivot row, then the means of the shifted columns
        xm = (B.sum(0) if sn is None else sn @ B) / n
        ym = (yn.sum() if sn is None else sn @ yn) / n
        Xc, yc = B - xm, yn - ym
        intercept = ym - (xm + Xn[0]) @ wn
    else:
        Xc, yc, intercept = Xn, yn, 0.0
    r = yc - Xc @ wn
    sr = r if sn is None else sn * r
    Xtr = Xc.T @ sr
    r2, ry, yy = float(sr @ r), float(sr @ yc), float((yc if sn is None else sn * yc) @ yc)
    l1, w2 = float(np.abs(wn).sum()), float(wn @ wn)
    primal = r2 / (2 * n) + a1 * l1 + 0.5 * a2 * w2
    if a2 == 0:
        k = min(1.0, a1 / (float(np.abs(Xtr).max()) / n)) if a1 > 0 and Xtr.any() else 1.0
        gap = primal + k * (0.5 * k * r2 - ry) / n
    elif a1 > 0:
        dn = float(np.abs(Xtr / n - a2 * wn).max())
        k = min(1.0, a1 / dn) if dn > 0 else 1.0
        gap = 0.5 * (1 + k * k) * (r2 / n + a2 * w2) + a1 * l1 - k * ry / n
    else:
        gap = r2 / n + 0.5 * a2 * w2 - ry / n + float(Xtr @ Xtr) / (2 * n * n * a2)
    g = -Xtr / n + a2 * wn  # the smooth part's gradient
    kkt = np.where(wn != 0, np.abs(g + a1 * np.sign(wn)), np.maximum(np.abs(g) - a1, 0.0))
    return primal, gap, yy / (2 * n), float(kkt.max()) if kkt.size else 0.0, float(intercept), n


def pen64(penalty: object) -> object:
    """The penalty with its tensors (alpha, weights, bounds) in float64."""
    out = copy.copy(penalty)
    for name, val in vars(penalty).items():
        if isinstance(val, Tensor) and val.is_floating_point():
            setattr(out, name, val.to(torch.float64))
    return out


def datafit64(datafit: object, X: Tensor, y: Tensor, s: Tensor | None,
               fit_intercept: bool) -> object:
    """The problem's datafit on float64 data (to profile unpenalized features)."""
    from .datafits import Quadratic
    from .problem import make_datafit

    f64 = torch.float64
    loss = None if isinstance(datafit, Quadratic) else getattr(datafit, "fn", None) or getattr(
        datafit, "name", None)
    opts = {"delta": datafit.delta} if getattr(datafit, "name", "") == "huber" else {}
    return make_datafit(loss, X.to(f64), y.to(f64), fit_intercept, False,
                        None if s is None else s.to(f64), **opts)
