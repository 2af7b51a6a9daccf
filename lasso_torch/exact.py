r"""The final certificate's arithmetic, and the centered copy that low precision solves on.

:func:`lasso_torch.certificates.final_certificate` certifies a *returned* answer. Its sums
are made here, apart from every datafit's products (so a datafit's cancellation cannot hide
in its own certificate):

* in **float64**, whatever the data's dtype (``X`` is converted one block of rows at a
  time: memory stays bounded by one block, about 8 MB);
* on **centered** columns: each block is centered by the float64 (weighted) column means
  before its product, so ``X_c^T u`` keeps its digits when the means dwarf the spread
  (``1e7`` offsets); a sparse ``X`` stays sparse, centered implicitly
  (``X_c^T u = X^T u - xbar sum(u)``, exact where the means are small, as they are for
  sparse designs);
* the intercept **profiled** in float64 for the returned ``w``: ``ybar - xbar^T w`` for
  the squared loss, the root of ``sum_i s_i l'(eta_i) = 0`` (safeguarded Newton to
  rounding) for the other losses. The answer's intercept is this one: the problem's optimal
  intercept for the returned coefficients, rounded once to the data's dtype.

:func:`centered_copy` is the other half of the rule for low precision: a dense float32 (or
narrower) ``X`` whose column means exceed its spread, or a float64 one whose means exceed
it ``1e4``-fold, is centered once (a copy) before the solve, and so is ``y`` (by the same
rule) for the losses whose intercept absorbs a shift of ``y`` (squared, Huber). Data that
is not so shifted is solved as given, bit for bit.
Centering with an intercept changes the coefficients of no solution, only the intercept,
which the final certificate recomputes from the original data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from . import sparse as sp

F64 = torch.float64
EPS64 = float(torch.finfo(F64).eps)
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


def profile_intercept(rows: LossRows, Z: Tensor) -> Tensor:
    """``c (K,)`` minimizing ``sum_i s_i l(z_ik + c)`` per column: Newton steps kept inside a
    shrinking bracket (bisection where Newton leaves it), to rounding."""
    lo, hi = rows.bracket(Z)
    bounded = torch.isfinite(lo) & torch.isfinite(hi)
    c = torch.where(bounded, (lo + hi) / 2, torch.zeros_like(lo))
    for _ in range(200):
        d1, d2 = rows.derivs(Z + c)
        g, h = d1.sum(0), d2.sum(0)
        if bool((g.abs() <= 4 * EPS64 * d1.abs().sum(0)).all()):
            break
        hi = torch.where(g > 0, torch.minimum(hi, c), hi)  # the root lies below c
        lo = torch.where(g < 0, torch.maximum(lo, c), lo)
        cn = c - torch.where(h > 0, g / torch.where(h > 0, h, 1.0), torch.sign(g))
        bounded = torch.isfinite(lo) & torch.isfinite(hi)
        c = torch.where((cn > lo) & (cn < hi) | ~bounded, cn, (lo + hi) / 2)
    return c


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
               W: Tensor, datafit: Any = None, kkt: bool = False) -> Sums:
    """:class:`Sums` at ``W (p, K)``: two passes over ``X`` (the means, then one fused
    residual-and-product pass for the squared loss; ``X_c W`` and ``X_c^T S u`` for the
    others, whose intercept is profiled between them). ``datafit``: the loss (None: the
    squared loss). ``kkt``: also ``X_c^T S u`` at 0."""
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
    c = profile_intercept(rows, Z) if fit_intercept else Z.new_zeros(K + 1)
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


def centered_copy(X: Tensor, y: Tensor, s: Tensor | None, fit_intercept: bool,
                  shift_y: bool, widen: bool = False) -> tuple[Tensor, Tensor]:
    """``(X, y)`` as the solvers should see them: a dense ``X`` whose column means dwarf its
    spread centered once (float32 and narrower: means above the spread; float64: above
    ``1e4`` times it), and ``y`` by the same rule where ``shift_y`` (a loss whose intercept
    absorbs a shift of ``y``); unchanged without an intercept, for a sparse ``X`` (centered
    implicitly) or data that is already near centered. ``widen``: float32 data on the CPU
    is solved in float64 (``auto`` for the GLM losses, whose Newton steps and line searches
    cannot measure progress below float32's resolution: measured, Poisson stalls at a
    relative gap 7e-6 and Huber crawls at 0.1 s per outer iteration in float32)."""
    if widen and X.dtype != F64 and X.device.type == "cpu":
        X, y = X.to(F64), y.to(F64)
    if not fit_intercept:
        return X, y
    limit = 1e4 if X.dtype == F64 else 1.0
    if shift_y and _offset(y, s, limit):
        y64 = y.to(F64)
        ym = y64.mean(0) if s is None else (s.to(F64) @ y64) / s.to(F64).sum()
        y = (y64 - ym).to(y.dtype)
    if sp.is_sparse(X) or X.shape[0] < 2 or not _offset(X, s, limit):
        return X, y
    xm = X.sum(0, dtype=F64) / X.shape[0] if s is None else (
        (s.to(X.dtype) @ X).to(F64) / s.sum())
    return X - xm.to(X.dtype), y  # x - m is exact where x and m agree to a factor 2


def _offset(A: Tensor, s: Tensor | None, limit: float) -> bool:
    """Whether some column's (weighted) mean exceeds ``limit`` times its spread (max - min);
    numpy for a small CPU array (a tenth of torch's per-call cost)."""
    if A.device.type == "cpu" and A.numel() <= SMALL and s is None:
        a = A.numpy()
        return bool((np.abs(a.mean(0, dtype=np.float64)) > limit * np.ptp(a, 0)).any())
    m = A.sum(0, dtype=F64) / A.shape[0] if s is None else (
        (s.to(A.dtype) @ A).to(F64) / s.sum())
    return bool((m.abs() > limit * (A.amax(0) - A.amin(0)).to(F64)).any())
