r"""Working-set solver: solve small subproblems in Gram form, grow the set where KKT fails.

The Lasso solution is sparse, so most features never matter. Each outer iteration
(one ``step()``, the pattern of skglm and celer):

1. one full pass ``g = X_c^T r / n`` scores every feature by its KKT violation
   ``dist(-grad_j, alpha d|w_j|)``;
2. the working set ``W`` is the current support plus the worst violators, of size
   ``max(ws_min, 2 |support|)`` (so it at least doubles while the support grows);
3. the subproblem restricted to ``W`` is solved in Gram form (``G = X_W^T X_W / n``,
   ``c = X_W^T y / n``, both ``|W| x |W|`` small) by FISTA with adaptive restart, to a
   duality gap of ``inner_ratio`` times the current full gap. From a warm start, and
   whenever FISTA's support stops moving between two inner checks, an active-set method
   (feature-sign search: exact solves of ``(G_AA + a2 I) w_A = c_A - a1 s_A`` on a
   support ``A`` with signs ``s``) is tried and kept when its gap is smaller; once the
   support is right it finishes the subproblem to machine precision.

The subproblem gap in Gram form, with ``yy = ||y_c||^2 / n``::

    ||r||^2 / n = yy - 2 c^T w + w^T G w,   r^T y_c / n = yy - c^T w,   X_W^T r / n = c - G w

The full certificate is the loop's (residual form), so cancellation in these formulas
never decides convergence.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..datafits import Quadratic, power_iteration
from ..penalties import make_penalty
from ..prox import soft_threshold


class WorkingSet:
    """Working-set outer loop with a Gram-form FISTA (+ exact support solve) inner solver."""

    def __init__(self, datafit: Quadratic, alpha: float, l1_ratio: float, w0: Tensor, *,
                 tol: float = 1e-6, ws_min: int = 50, inner_ratio: float = 0.3,
                 max_inner: int = 20_000, inner_check: int = 10) -> None:
        self.datafit = datafit
        self.a1, self.a2 = alpha * l1_ratio, alpha * (1.0 - l1_ratio)
        self.penalty = make_penalty(alpha, l1_ratio)
        self.w = w0.detach().clone()
        self.tol, self.ws_min, self.inner_ratio = tol, ws_min, inner_ratio
        self.max_inner, self.inner_check = max_inner, inner_check
        self.yy = float((datafit.yc * datafit.yc).sum()) / datafit.n
        self.p0 = float(datafit.p0)
        self._cache: tuple[Tensor | None, Tensor | None] = (None, None)
        self._XT: Tensor | None = None

    def coef(self) -> Tensor:
        return self.w

    def share_cache(self, other: WorkingSet) -> None:
        """Reuse ``other``'s cached ``X^T`` and Gram block (same datafit, e.g. the previous
        alpha of a path): only the features new to the working set cost a product."""
        if other.datafit is self.datafit:
            self._cache, self._XT = other._cache, other._XT

    # --- one outer iteration ------------------------------------------------------------
    def step(self) -> None:
        df = self.datafit
        r = df.residual(self.w)
        grad = -df.rmatvec(r) / df.n
        score = self.penalty.subdiff_distance(self.w, grad)
        support = self.w != 0
        n_supp = int(support.sum())
        n_viol = int(((score > 0) & ~support).sum())
        # the support plus the violators, at most doubling (skglm's 2 |support|)
        size = min(df.p, n_supp + max(min(n_viol, max(n_supp, self.ws_min)), 1))
        if self.a1 == 0:
            size = df.p
        score = torch.where(support, torch.full_like(score, float("inf")), score)
        ws = torch.topk(score, size, sorted=False).indices.sort().values
        gap_full = self._full_gap(r, grad)
        target = max(self.inner_ratio * gap_full, 0.3 * self.tol * self.p0)
        G, c = self._gram(ws)
        self.w = self.w.clone()
        if G.dtype != torch.float64 and G.device.type != "mps":
            # the subproblem is small: solve it in float64 (the float32 active set breaks
            # down on ill-conditioned G_AA); the certificate stays the data's dtype
            sub = self._solve_sub(G.double(), c.double(), self.w[ws].double(), target)
            self.w[ws] = sub.to(G.dtype)
        else:
            self.w[ws] = self._solve_sub(G, c, self.w[ws], target)

    def _full_gap(self, r: Tensor, grad: Tensor) -> float:
        from ..certificates import gap_from_residual

        df = self.datafit
        _, gap = gap_from_residual(r, -grad * df.n, self.w, df.yc, df.n,
                                   self.a1 + self.a2, self._rho())
        return float(gap)

    def _rho(self) -> float:
        a = self.a1 + self.a2
        return self.a1 / a if a > 0 else 1.0

    def _rows(self, idx: Tensor) -> Tensor:
        """Columns ``idx`` of ``X`` as rows (uncentered), gathered from a cached ``X^T``."""
        if self._XT is None:
            X = self.datafit.X
            if 8 * idx.numel() <= X.shape[1]:  # a few columns: gather them, skip the copy
                return X[:, idx].T
            self._XT = X.T.contiguous()  # row gathers are fast, column ones not
        return self._XT[idx]

    def _gram(self, ws: Tensor) -> tuple[Tensor, Tensor]:
        """``G = X_c,W^T X_c,W / n`` and ``c``; blocks of the previous working set are reused.

        Never the full ``p x p`` Gram matrix: ``n |W|^2`` work instead of ``n p^2``. The
        centering is a rank-one correction, ``X_c^T X_c / n = X^T X / n - xbar xbar^T``.
        """
        df = self.datafit
        if "gram" in df.__dict__:  # already computed by someone: just index it
            return df.gram[ws][:, ws], df.Xty[ws]
        old, Gold = self._cache
        if old is None:
            Xw = self._rows(ws)
            G = Xw @ Xw.T / df.n - torch.outer(df.x_mean[ws], df.x_mean[ws])
        else:
            is_old = torch.isin(ws, old)
            new = ws[~is_old]
            G = torch.empty(ws.numel(), ws.numel(), dtype=df.X.dtype, device=df.X.device)
            pos = torch.searchsorted(old, ws[is_old])
            io = is_old.nonzero().squeeze(1)
            G[io[:, None], io[None, :]] = Gold[pos[:, None], pos[None, :]]
            if new.numel():
                inew = (~is_old).nonzero().squeeze(1)
                cross = self._rows(new) @ self._rows(ws).T / df.n  # (|new|, |W|)
                cross = cross - torch.outer(df.x_mean[new], df.x_mean[ws])
                G[inew] = cross
                G[:, inew] = cross.T
        self._cache = (ws, G)
        return G, df.Xty[ws]

    # --- the subproblem -----------------------------------------------------------------
    def _gap(self, G: Tensor, c: Tensor, w: Tensor) -> Tensor:
        """Duality gap of the subproblem at ``w`` (a 0-d tensor), in Gram form."""
        Gw = G @ w
        cw = c @ w
        r2 = self.yy - 2 * cw + w @ Gw
        ry = self.yy - cw
        w2 = w @ w
        if self.a1 > 0:
            dn = (c - Gw - self.a2 * w).abs().max()
            s = torch.clamp(self.a1 / dn, max=1.0) if float(dn) > 0 else torch.ones_like(dn)
            return 0.5 * (1 + s * s) * (r2 + self.a2 * w2) + self.a1 * w.abs().sum() - s * ry
        q = c - Gw
        return r2 + 0.5 * self.a2 * w2 - ry + (q @ q) / (2 * self.a2)

    def _prox(self, z: Tensor, step: float) -> Tensor:
        out = soft_threshold(z, step * self.a1) if self.a1 > 0 else z
        return out / (1 + step * self.a2) if self.a2 > 0 else out

    def _active_set(self, G: Tensor, c: Tensor, x: Tensor, max_solves: int = 200) -> Tensor:
        """Feature-sign search (Lee, Battle, Raina & Ng 2007) on the subproblem from ``x``.

        With the support ``A`` and signs ``s`` fixed the subproblem is a quadratic whose
        minimizer solves ``(G_AA + a2 I) w_A = c_A - a1 s_A``. When that solution keeps
        the signs it is taken; otherwise the iterate moves towards it up to the first sign
        change (the objective decreases on the way) and that coordinate leaves ``A``. Once
        the signs agree, zero coordinates that violate ``|g_j| <= a1`` join ``A`` (the worst
        first). It stops at an exact solution, or after ``max_solves`` linear solves. The
        inverse of ``G_AA + a2 I`` is updated as ``A`` changes (:class:`ActiveInverse`)
        and refactored from scratch before the answer is returned.
        """
        x = x.clone()
        # G_AA has rank <= n (n - 1 once centered): never more active features (a2 == 0)
        nmax = G.shape[0] if self.a2 > 0 else self.datafit.n - int(self.datafit.fit_intercept)
        sgn = torch.sign(x)
        start = (x != 0).nonzero().squeeze(1)
        inv = ActiveInverse(G, self.a2)
        if start.numel() > nmax or not inv.refresh(start):
            return x
        for _ in range(max_solves):
            A = inv.A
            if A.numel():
                new = inv.solve(c - self.a1 * sgn)
                wrong = torch.sign(new) != sgn[A]
                if bool(wrong.any()):  # go to the first sign change; that one leaves A
                    old = x[A]
                    tj = torch.where(wrong, old / (old - new), torch.full_like(old, 2.0))
                    tj = torch.where(torch.isfinite(tj), tj, torch.zeros_like(tj))
                    t = tj.min()
                    x[A] = old + t * (new - old)
                    gone = tj <= t
                    x[A[gone]], sgn[A[gone]] = 0.0, 0.0
                    if not inv.drop(~gone):
                        break
                    continue
                x[A] = new
            g = G @ x - c + self.a2 * x
            viol = g.abs() - self.a1
            viol[A] = 0.0
            if float(viol.max()) <= 1e-12 * max(self.a1, 1e-300):
                if inv.updates == 0:
                    break
                if not inv.refresh(A):  # exact refactorization, then solve once more
                    break
                continue
            m = min(max(1, min(int((viol > 0).sum()), A.numel() // 2 + 1)), nmax - A.numel())
            if m <= 0:
                break
            add = torch.topk(viol, m).indices
            add = add[viol[add] > 0]
            sgn[add] = -torch.sign(g[add])
            if not inv.add(add):
                break
        return x

    def _polish(self, G: Tensor, c: Tensor, x: Tensor, gap: float) -> tuple[Tensor, float]:
        """The active-set result when it has a smaller gap, else ``x`` unchanged."""
        if self.a1 == 0:
            return x, gap
        cand = self._active_set(G, c, x)
        gc = float(self._gap(G, c, cand))
        return (cand, gc) if gc < gap else (x, gap)

    def _solve_sub(self, G: Tensor, c: Tensor, x: Tensor, target: float) -> Tensor:
        gap = float(self._gap(G, c, x))
        if gap <= target:
            return x
        x, gap = self._polish(G, c, x, gap)  # the active set alone often finishes
        if gap <= target:
            return x
        L = float(power_iteration(lambda v: G @ v, G.shape[0], G))
        step = 1.0 / L if L > 0 else 1.0
        v, t = x.clone(), torch.ones((), dtype=x.dtype, device=x.device)
        one = torch.ones_like(t)
        gap_best = gap
        last_supp = x != 0
        since = 0
        for it in range(1, self.max_inner + 1):
            xn = self._prox(v - step * (G @ v - c), step)
            t_new = (1 + torch.sqrt(1 + 4 * t * t)) / 2
            d = xn - x
            restart = ((v - xn) * d).sum() > 0
            beta = torch.where(restart, 0.0, (t - 1) / t_new)
            v = xn + beta * d
            x = xn
            t = torch.where(restart, one, t_new)
            if it % self.inner_check:
                continue
            gap = float(self._gap(G, c, x))
            supp = x != 0
            if torch.equal(supp, last_supp) and gap > target:
                xp, gp = self._polish(G, c, x, gap)
                if gp < gap:
                    x, v, t, gap = xp, xp.clone(), one, gp
            last_supp = supp
            if gap <= target:
                break
            if gap < gap_best * (1 - 1e-3):
                gap_best, since = gap, 0
            else:
                since += 1
                if since >= 20:  # no progress: the dtype's precision is reached
                    break
        return x


class ActiveInverse:
    """``(G_AA + a2 I)^{-1}`` for an active set ``A`` that grows and shrinks.

    Adding ``k`` indices is a block (Schur complement) update, ``O(|A|^2 k)``; removing one
    is a rank-one update in place, ``O(|A|^2)``, whose row and column are then zeroed and
    marked invalid (compacted at the next addition). After ``refresh_every`` updates (and
    on demand) the inverse is recomputed from a Cholesky factorization so rounding does
    not accumulate. Methods return False when the matrix is not positive definite.
    """

    def __init__(self, G: Tensor, a2: float, refresh_every: int = 100) -> None:
        self.G, self.a2, self.refresh_every = G, a2, refresh_every
        self.idx = torch.zeros(0, dtype=torch.long, device=G.device)
        self.valid = torch.zeros(0, dtype=torch.bool, device=G.device)
        self.inv = G.new_zeros(0, 0)
        self.updates = 0

    @property
    def A(self) -> Tensor:
        """The active indices, in the order :meth:`solve` returns their values."""
        return self.idx[self.valid]

    def solve(self, rhs: Tensor) -> Tensor:
        """``(G_AA + a2 I)^{-1} rhs_A`` for a full-length ``rhs``."""
        r = torch.where(self.valid, rhs[self.idx], torch.zeros_like(self.valid, dtype=rhs.dtype))
        return (self.inv @ r)[self.valid]

    def _block(self, rows: Tensor, cols: Tensor) -> Tensor:
        return self.G[rows[:, None], cols]

    def _ridge_inverse(self, M: Tensor) -> Tensor | None:
        """``(M + a2 I)^-1`` by Cholesky; None when it is not positive definite."""
        if self.a2 > 0:
            M = M + self.a2 * torch.eye(M.shape[0], dtype=M.dtype, device=M.device)
        L, info = torch.linalg.cholesky_ex(M)
        return None if int(info) != 0 else torch.cholesky_inverse(L)

    def refresh(self, A: Tensor) -> bool:
        inv = self.G.new_zeros(0, 0)
        if A.numel():
            inv = self._ridge_inverse(self._block(A, A))
            if inv is None:
                return False
        self.idx, self.inv, self.updates = A, inv, 0
        self.valid = torch.ones(A.numel(), dtype=torch.bool, device=A.device)
        return True

    def add(self, new: Tensor) -> bool:
        if new.numel() == 0:
            return True
        A = self.A
        if A.numel() == 0 or self.updates >= self.refresh_every:
            return self.refresh(torch.cat([A, new]))
        if not bool(self.valid.all()):  # compact the dropped rows and columns
            keep = self.valid.nonzero().squeeze(1)
            self.inv = self.inv[keep[:, None], keep]
        B = self._block(A, new)
        MB = self.inv @ B
        Sinv = self._ridge_inverse(self._block(new, new) - B.T @ MB)
        if Sinv is None:
            return False
        off = -MB @ Sinv
        top = self.inv - off @ MB.T
        self.inv = torch.cat([torch.cat([top, off], 1), torch.cat([off.T, Sinv], 1)], 0)
        self.idx = torch.cat([A, new])
        self.valid = torch.ones(self.idx.numel(), dtype=torch.bool, device=A.device)
        self.updates += 1
        return True

    def drop(self, keep: Tensor) -> bool:
        """Keep the active positions ``keep`` (a bool mask over ``A``), drop the others."""
        if self.updates >= self.refresh_every:
            return self.refresh(self.A[keep])
        pos = self.valid.nonzero().squeeze(1)[~keep]
        for q in pos.tolist():
            col = self.inv[:, q].clone()
            if not float(col[q]) > 0:
                return self.refresh(self.idx[self.valid & (torch.arange(
                    self.idx.numel(), device=self.idx.device) != q)])
            self.inv.addr_(col, col, alpha=-1.0 / float(col[q]))
            self.inv[q].zero_()
            self.inv[:, q].zero_()
            self.valid[q] = False
        self.updates += 1
        return True
