"""The datafit protocol, and the quadratic datafit ``1/(2n) sum_i s_i (y_i - x_i^T w - b)^2``.

A datafit is bound to one data set and serves iterates ``w`` of shape ``(p,)`` or a batch of
columns ``(p, K)``. What the engines, the loop and the certificates ask of it:

* ``value(w)``, ``gradient(w)`` (closed form, the residual form ``-X_c^T (s r) / n`` or the
  Gram form ``G w - c``), ``lipschitz`` (power iteration, cached), ``intercept(w)``;
* ``sums(w) -> (r2, ry, Xtr)``: ``sum s r^2``, ``sum s r y_c``, ``X_c^T (s r)``, of which
  :mod:`lasso_torch.certificates` makes the duality gap (a sharded datafit all-reduces
  them); ``n`` and ``p0 = P(0)`` per column;
* ``columns(groups)``: the same datafit for a batch whose column ``k`` is a problem of
  weight column ``groups[k]`` (below).

**Row weights** ``(n,)`` (``sample_weight``: ``1/(2 sum s) sum_i s_i r_i^2``), or ``(n, F)``:
``F`` problems on one ``X`` (CV folds as 0/1 masks, bootstrap counts), each with its own
``n_f = sum_i s_if``, means, Gram matrix and Lipschitz constant. With ``fit_intercept``
the intercept ``b = ybar - xbar^T w`` is profiled out, the residual centered, and ``X``
never copied for a product (``X_c^T u = X^T u - xbar sum(u)``); the Gram matrix is formed
from centered blocks of rows. When ``n >> p`` the Gram form (``G = X_c^T S X_c / n``,
``c = X_c^T S y_c / n``, once) makes a gradient one ``p x p`` product.

**Sparse** ``X`` (torch CSR/CSC, CPU or CUDA) is never densified: the products are sparse
kernels, the centering stays implicit (:mod:`lasso_torch.sparse`). **Targets** ``y (n, T)``:
``T`` problems on one ``X`` and weight column: a ``(p, T)`` iterate (one GEMM per product),
``y_c``, ``ybar``, ``Xty``, ``P(0)`` per target (``groups`` maps batch columns to targets).
"""

from __future__ import annotations

from functools import cached_property

import torch
from torch import Tensor

from . import sparse as sp
from .linalg import power_iteration

FUSED_MIN_BYTES = 8 << 20  # X smaller than this stays in cache between two plain products
FUSED_BLOCK_BYTES = 4 << 20  # rows per block of the fused pass: ~4 MB of X


def as_column(v: Tensor, like: Tensor) -> Tensor:
    """``v`` (n,) as a column when ``like`` is a batch ``(., K)``."""
    return v.unsqueeze(-1) if like.dim() == 2 and v.dim() == 1 else v


class Quadratic:
    """Least squares ``1/(2n) ||y - X w - b||^2`` with ``b`` profiled out (or zero)."""

    def __init__(self, X: Tensor, y: Tensor, fit_intercept: bool = True,
                 gram: bool | str = "auto", row_weights: Tensor | None = None) -> None:
        self.X, self.y = X, y
        self.XT = sp.transpose(X)  # X^T: a CSR copy for a sparse X (its fast product)
        self.p = X.shape[1]
        self.fit_intercept = fit_intercept
        # batch column -> weight column ((n, F) weights) or target (y (n, T))
        self.groups: Tensor | None = None
        self.s = None if row_weights is None else row_weights.to(dtype=X.dtype, device=X.device)
        if self.s is not None and self.s.dim() == 2 and self.s.shape[1] == 1:
            self.s = self.s[:, 0]
        self.F = 1 if self.s is None or self.s.dim() == 1 else self.s.shape[1]
        self.T = 1 if y.dim() == 1 else y.shape[1]
        if self.T > 1:
            if self.F > 1:
                raise ValueError("several targets with several weight columns: solve apart")
            self.groups = torch.arange(self.T, device=X.device)
        n_rows = self.count_rows(X)
        if self.s is None:
            self.n = n_rows
            self._means(sp.col_sums(X, XT=self.XT), y.sum(0))
        else:  # one column of sums per weight column: (p, F), (F,)
            S = self.s if self.s.dim() == 2 else self.s[:, None]
            nf = self.reduce(S.sum(0))
            self.n = nf if self.F > 1 else nf[0]
            if self.F > 1:
                self._means(self.XT @ S, y @ S)
            else:
                self._means(self.XT @ self.s, self.s @ y)
        self.yc = (y[:, None] if self.F > 1 else y) - self.y_mean  # (n,), (n, F) or (n, T)
        if gram == "auto":
            gram = n_rows >= 4 * self.p and self.F * self.p * self.p <= 2**26
        self.use_gram = bool(gram)

    def _means(self, x_sums: Tensor, y_sums: Tensor) -> None:
        """The (weighted) means from the column sums ``(p,)``/``(p, F)`` and the target
        sums ``()``/``(F,)``/``(T,)`` (one reduction of both)."""
        if not self.fit_intercept:
            self.x_mean, self.y_mean = x_sums.new_zeros(x_sums.shape), y_sums.new_zeros(
                y_sums.shape)
            return
        sums = self.reduce(torch.cat([x_sums.reshape(-1), y_sums.reshape(-1)]))
        k = x_sums.numel()
        n = self.n
        self.x_mean = sums[:k].reshape(x_sums.shape) / n
        self.y_mean = sums[k:].reshape(y_sums.shape) / n

    # --- sums over the rows: one process here, all ranks in the sharded datafit ---------
    def count_rows(self, X: Tensor) -> int:
        """The number of rows ``n`` of the whole data set."""
        return X.shape[0]

    def reduce(self, t: Tensor) -> Tensor:
        """Sum ``t`` (a sum over this process's rows) over all the rows: the identity here."""
        return t

    # --- a batch over the weight columns --------------------------------------------------
    def columns(self, groups: Tensor) -> Quadratic:
        """This datafit for a batch ``(p, K)`` whose column ``k`` uses weight column
        ``groups[k]`` (one-weight datafits serve every batch as they are)."""
        if self.F == 1 and self.T == 1:
            return self
        _ = self.Xty, self.p0  # cached once, shared by every view
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.groups = groups
        return view

    def _c(self, v: Tensor, axis: int = -1) -> Tensor:
        """A per-column quantity ``(..., F)`` or ``(..., T)`` for the batch's columns
        ``(..., K)``."""
        return v if self.groups is None else v.index_select(axis, self.groups)

    def _cw(self, v: Tensor) -> Tensor:
        """A per-weight-column quantity (``x_mean``) for the batch's columns."""
        return v if self.F == 1 else self._c(v)

    @property
    def n_cols(self) -> Tensor | float:
        """``n`` per column ``(K,)`` (a number for one weight column)."""
        return self.n if self.F == 1 else self._c(self.n)

    def _weighted(self, r: Tensor) -> Tensor:
        """``s * r`` (the weighted residual) for ``r`` (n,) or (n, K)."""
        return r if self.s is None else as_column(self._c(self.s) if self.F > 1 else self.s, r) * r

    # --- the residual and its products -------------------------------------------------
    def residual(self, w: Tensor) -> Tensor:
        """``r = y_c - X_c w`` (centered when fitting an intercept): (n,) or (n, K)."""
        if self.s is not None:  # centered by the weighted means: sum s r = 0
            mean_w = (as_column(self._cw(self.x_mean), w) * w).sum(0)
            return as_column(self._c(self.yc), w) + mean_w - self.X @ w
        r = sp.matmul_sub(as_column(self._c(self.y), w), self.X, w)  # one addmv / addmm
        return r - r.mean(0) if self.fit_intercept else r

    def rmatvec(self, u: Tensor) -> Tensor:
        """``X_c^T u = X^T u - xbar sum(u)`` for a centered ``u`` (sum 0 up to rounding)."""
        out = self.XT @ u
        return out - as_column(self._cw(self.x_mean), u) * u.sum(0) if self.fit_intercept else out

    fused_pass = True  # False where the rows are sharded (the products all-reduce)

    def residual_xtr(self, w: Tensor) -> tuple[Tensor, Tensor]:
        """``(r, X_c^T (s r))``, ``r = y_c - X_c w``; on a large CPU ``X`` one fused pass, block of
        rows by block: ``r = (y_c + x_mean^T w) - X w``, ``X_c^T r = X^T r - x_mean sum(r)``."""
        X = self.X
        rows = FUSED_BLOCK_BYTES // (X.shape[1] * X.element_size())
        if not (self.fused_pass and self.s is None and w.dim() == 1 and X.device.type == "cpu"
                and not sp.is_sparse(X)
                and X.numel() * X.element_size() > FUSED_MIN_BYTES and rows >= 256):
            r = self.residual(w)
            return r, self.rmatvec(self._weighted(r))
        r = self.yc + self.x_mean @ w if self.fit_intercept else self.y.clone()
        Xtr = torch.zeros_like(w)
        for i in range(0, X.shape[0], rows):
            Xb, rb = X[i:i + rows], r[i:i + rows]
            rb.addmv_(Xb, w, alpha=-1)
            Xtr.addmv_(Xb.T, rb)
        if self.fit_intercept:
            Xtr.sub_(self.x_mean * r.sum())
        return r, Xtr

    def sums(self, w: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(sum s r^2, sum s r y_c, X_c^T (s r))`` per column: a certificate's inputs."""
        r, Xtr = self.residual_xtr(w)
        return self.sums_from(r, Xtr)

    def sums_from(self, r: Tensor, Xtr: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """:meth:`sums` from a residual and its product already computed."""
        u = self._weighted(r)
        return (u * r).sum(0), (u * as_column(self._c(self.yc), r)).sum(0), Xtr

    def gram_sums(self, w: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """:meth:`sums` from the Gram matrix, no pass over ``X``: ``sum s r^2 = n (yy - 2 c^T w
        + w^T G w)``, ``sum s r y_c = n (yy - c^T w)``, ``X_c^T S r = n (c - G w)``
        (``yy = 2 P(0)``). Their cancellation costs ~1e-15 P(0): for float64 at tol >= 1e-9."""
        c = as_column(self._c(self.Xty), w)
        Gw = self.gradient(w) + c  # G w
        n, yy = self.n_cols, 2 * self.p0_cols
        cw = (c * w).sum(0)
        return (yy - 2 * cw + (w * Gw).sum(0)) * n, (yy - cw) * n, (c - Gw) * n

    def features(self, idx: Tensor) -> Quadratic:
        """This datafit on the features ``idx`` only (gram, means and ``X`` restricted; the
        Lipschitz constant of the full data stays a valid upper bound)."""
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.X, view.p, view.x_mean = sp.select(self.X, idx, 1), idx.numel(), self.x_mean[idx]
        view.XT = sp.transpose(view.X)
        for name in ("Xty", "colsq"):
            if name in self.__dict__:
                view.__dict__[name] = self.__dict__[name][idx]
        if "gram" in self.__dict__:
            view.__dict__["gram"] = self.gram[..., idx, :][..., :, idx]
        return view

    @cached_property
    def Xty(self) -> Tensor:
        """``X_c^T S y_c / n``: minus the gradient at 0; gives ``alpha_max``. (p,) or (p, F)."""
        return self.reduce(self.XT @ self._weighted_all(self.yc)) / self.n

    def _weighted_all(self, v: Tensor) -> Tensor:
        return v if self.s is None else as_column(self.s, v) * v

    @cached_property
    def gram(self) -> Tensor:
        """``X_c^T S X_c / n``: (p, p), or (F, p, p). A dense ``X`` is centered before the
        product (:func:`lasso_torch.sparse.gram`), a sparse one corrected by ``xbar xbar^T``."""
        if self.F > 1:
            return torch.stack([self._one(f).gram for f in range(self.F)])
        X, xm = self.X, self.x_mean
        if self.fit_intercept and not sp.is_sparse(X):
            return self.reduce(sp.gram(X, self.s, xm)) / self.n
        G = self.reduce(sp.gram(X, self.s)) / self.n
        return G - xm[:, None] * xm[None, :] if self.fit_intercept else G

    @cached_property
    def colsq(self) -> Tensor:
        """Centered (weighted) squared column norms ``||x_j,c||^2_S``: (p,) or (p, F)."""
        if "gram" in self.__dict__:  # the Gram matrix's diagonal, times n: no pass over X
            d = torch.diagonal(self.gram, dim1=-2, dim2=-1)
            return (d * self.n if self.F == 1 else (d * self.n[:, None]).T).clamp(min=0)
        if self.F > 1:
            return torch.stack([self._one(f).colsq for f in range(self.F)], dim=1)
        if self.fit_intercept and not sp.is_sparse(self.X):  # centered first (see gram)
            return self.reduce(sp.col_sums(sp.square(self.X - self.x_mean), self.s))
        sq = self.reduce(sp.col_sums(sp.square(self.X), self.s))
        return (sq - self.n * self.x_mean**2).clamp(min=0)

    # --- value, gradient, Lipschitz constant --------------------------------------------
    def value(self, w: Tensor) -> Tensor:
        """``sum s r^2 / (2n)``: a number, or one per column."""
        r = self.residual(w)
        return self.reduce((self._weighted(r) * r).sum(0)) / (2 * self.n_cols)

    def gradient(self, w: Tensor) -> Tensor:
        """``-X_c^T S r / n`` (``G w - X_c^T S y_c / n`` in the Gram form)."""
        if self.use_gram:
            if self.F == 1:  # G w - c in one BLAS call
                mm = torch.addmm if w.dim() == 2 else torch.addmv
                return mm(as_column(self._c(self.Xty), w), self.gram, w, beta=-1)
            out = torch.empty_like(w)
            for g in self.groups.unique().tolist():
                idx = (self.groups == g).nonzero().squeeze(1)
                out[:, idx] = self.gram[g] @ w[:, idx]
            return out - self._c(self.Xty)
        Xtr = self.residual_xtr(w)[1]
        return Xtr.mul_(-1.0 / self.n) if self.F == 1 else Xtr / -self.n_cols

    def intercept(self, w: Tensor) -> Tensor:
        """The profiled intercept ``ybar - xbar^T w`` (zero without intercept)."""
        if self.F == 1:
            return self._c(self.y_mean) - self.x_mean @ w
        return self._c(self.y_mean) - (self._c(self.x_mean) * w).sum(0)

    @cached_property
    def lipschitz(self) -> Tensor:
        """``sigma_max(S^1/2 X_c)^2 / n`` (power iteration): 0-d, or (F,) per weight column."""
        if self.F > 1:
            return torch.stack([self._one(f).lipschitz for f in range(self.F)])
        if self.use_gram:
            return power_iteration(lambda v: self.gram @ v, self.p, self.X)
        # X_c v = X v - xbar^T v, centered by the (weighted) means: X_c^T S (X_c v) / n
        return power_iteration(
            lambda v: self.rmatvec(self._weighted(self.X @ v - self.x_mean @ v)) / self.n,
            self.p, self.X)

    def _one(self, f: int) -> Quadratic:
        """Weight column ``f`` alone (its Lipschitz constant)."""
        one = type(self).__new__(type(self))
        one.__dict__.update({k: v for k, v in self.__dict__.items()
                             if k not in ("gram", "lipschitz", "Xty", "colsq", "p0")})
        one.s, one.F, one.groups = self.s[:, f], 1, None
        one.n, one.x_mean, one.y_mean = self.n[f], self.x_mean[:, f], self.y_mean[f]
        one.yc = self.yc[:, f]
        if "gram" in self.__dict__:
            one.__dict__["gram"] = self.gram[f]
        return one

    @cached_property
    def p0(self) -> Tensor:
        """``P(0) = sum s y_c^2 / (2n)``, the scale of the relative duality gap: 0-d or (F,)."""
        return self.reduce((self._weighted_all(self.yc) * self.yc).sum(0)) / (2 * self.n)

    @property
    def p0_cols(self) -> Tensor:
        """``P(0)`` per column of the batch."""
        return self.p0 if self.F == 1 and self.T == 1 else self._c(self.p0)
