r"""The working-set subproblem in Gram form, solved on the host in float64 numpy.

For a working set ``W`` with ``G = X_c,W^T X_c,W / n``, ``c = X_c,W^T y_c / n`` and
``yy = ||y_c||^2 / n`` the restricted problem is::

    min_w  1/2 w^T G w - c^T w + yy/2 + a1 ||w||_1 + a2/2 ||w||^2

and its duality gap, from ``||r||^2 / n = yy - 2 c^T w + w^T G w``,
``r^T y_c / n = yy - c^T w`` and ``X_W^T r / n = c - G w``, is that of
:mod:`lasso_torch.certificates` restricted to ``W``.

Why numpy on the host: the subproblem is ``|W| x |W|`` (tens to a few thousand) and its
methods are sequential, with a decision after every small solve (which sign broke, which
feature enters). Each torch op on such small arrays costs a dispatch (and, on a GPU, a
kernel launch and a host sync at every decision); numpy's indexing and small products are
several times cheaper, and the subproblem was solved in float64 anyway (the float32 active
set breaks down on ill-conditioned ``G_AA``). The two LAPACK calls and the rank-one update
run through ``torch.from_numpy`` views (no copies).

Solver: from a warm start, and whenever FISTA's support stops moving between two inner
checks, an active-set method (feature-sign search: exact solves of
``(G_AA + a2 I) w_A = c_A - a1 s_A`` on a support ``A`` with signs ``s``) is tried and kept
when its gap is smaller; once the support is right it finishes the subproblem to machine
precision. FISTA with adaptive restart does the rest. The inverse the active set ends with
is handed to the next subproblem (the next outer iteration, or the next alpha of a warm
path), whose warm start usually has that very support: no refactorization then.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..certificates import gap_from_sums
from ..linalg import mm, power_iteration
from ..penalties import make_penalty
from ..prox import enet_prox
from .active_inverse import ActiveInverse
from .subproblem_kernels import COMPILED_MAX, dense_gap, fista_chunk


class GramSubproblem:
    """``min 1/2 w^T G w - c^T w + alpha (l1_ratio |w|_1 + (1 - l1_ratio)/2 |w|^2)``
    (float64 numpy arrays; ``a1``, ``a2`` the weights of the two penalty terms).

    ``nmax`` bounds the number of active features (the rank of ``G`` when ``a2 == 0``).
    The gap and the prox are the project's (:func:`~lasso_torch.certificates.gap_from_sums`
    with ``n = 1``, :func:`~lasso_torch.prox.enet_prox`) on zero-copy tensor views, or,
    with ``compiled`` (the default up to ``COMPILED_MAX`` features), the same formulas
    compiled (:mod:`lasso_torch.solvers.subproblem_kernels`): the gap and whole runs of
    FISTA iterations between two checks are then one call each.
    """

    def __init__(self, G: np.ndarray, c: np.ndarray, yy: float, alpha: float, l1_ratio: float,
                 nmax: int, *, max_inner: int = 20_000, inner_check: int = 10,
                 start_inverse: tuple[np.ndarray, np.ndarray] | None = None,
                 compiled: bool | None = None) -> None:
        self.G, self.c, self.yy = G, c, yy
        self.compiled = G.shape[0] <= COMPILED_MAX if compiled is None else compiled
        if self.compiled:
            self.G, self.c = np.ascontiguousarray(G), np.ascontiguousarray(c)
        self.alpha, self.l1_ratio = alpha, l1_ratio
        self.a1, self.a2 = alpha * l1_ratio, alpha * (1.0 - l1_ratio)  # as gap_from_sums
        self.penalty = make_penalty(alpha, l1_ratio)
        self.nmax = G.shape[0] if self.a2 > 0 else min(nmax, G.shape[0])
        self.max_inner, self.inner_check = max_inner, inner_check
        # (A, (G_AA + a2 I)^-1) known from before (the previous outer iteration or alpha):
        # used instead of a refactorization when the warm start's support is A
        self.start_inverse = start_inverse
        # the same pair for the support the last active-set run ended on (None if stale)
        self.final_inverse: tuple[np.ndarray, np.ndarray] | None = None

    def gap(self, w: np.ndarray) -> float:
        """Duality gap of the subproblem at ``w``: the full problem's formula with the sums
        ``||r||^2 / n = yy - 2 c^T w + w^T G w``, ``r^T y_c / n = yy - c^T w`` and
        ``X_W^T r / n = c - G w`` (so ``n = 1``)."""
        if self.compiled:
            return dense_gap(self.G, self.c, self.yy, w, self.a1, self.a2)
        Gw = mm(self.G, w)
        cw = float(self.c @ w)
        _, gap = gap_from_sums(self.yy - 2 * cw + float(w @ Gw), self.yy - cw,
                               torch.from_numpy(self.c - Gw), torch.from_numpy(w), 1,
                               self.penalty)
        return float(gap)

    def prox(self, z: np.ndarray, step: float) -> np.ndarray:
        """Prox of ``step * penalty``; exact ``+0.0`` on the zero zone."""
        return enet_prox(torch.from_numpy(z), step, self.alpha, self.l1_ratio).numpy()

    # --- the solver -------------------------------------------------------------------------
    def solve(self, x: np.ndarray, target: float) -> np.ndarray:
        """A point with gap ``<= target`` from the warm start ``x`` (or the best reached)."""
        x = x.copy()
        gap = self.gap(x)
        if gap <= target:
            return x
        x, gap = self.polish(x, gap)  # the active set alone often finishes
        if gap <= target:
            return x
        Gt = torch.from_numpy(self.G)
        L = float(power_iteration(lambda v: Gt @ v, self.G.shape[0], Gt))
        step = 1.0 / L if L > 0 else 1.0
        G, c = self.G, self.c
        v, t = x.copy(), 1.0
        gap_best, since = gap, 0
        last_supp = x != 0
        it = 0
        while it < self.max_inner:
            count = min(self.inner_check - it % self.inner_check, self.max_inner - it)
            if self.compiled:  # ``count`` iterations in one call, in place on x and v
                t = fista_chunk(G, c, x, v, t, step, self.a1, self.a2, count)
            else:
                for _ in range(count):
                    x, v, t = self.fista_step(x, v, t, step)
            it += count
            if it % self.inner_check:
                continue
            gap = self.gap(x)
            supp = x != 0
            if gap > target and np.array_equal(supp, last_supp):
                xp, gp = self.polish(x, gap)
                if gp < gap:
                    x, v, t, gap = xp, xp.copy(), 1.0, gp
            last_supp = supp
            if gap <= target:
                break
            if gap < gap_best * (1 - 1e-3):
                gap_best, since = gap, 0
            else:
                since += 1
                if since >= 20:  # no progress: float64's precision is reached
                    break
        return x

    def fista_step(self, x: np.ndarray, v: np.ndarray, t: float, step: float
                   ) -> tuple[np.ndarray, np.ndarray, float]:
        """One FISTA iteration with adaptive restart (O'Donoghue & Candes) in numpy."""
        xn = self.prox(v - step * (mm(self.G, v) - self.c), step)
        d = xn - x
        if float((v - xn) @ d) > 0:
            return xn, xn, 1.0
        t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
        return xn, xn + ((t - 1) / t_new) * d, t_new

    def polish(self, x: np.ndarray, gap: float) -> tuple[np.ndarray, float]:
        """The active-set result when it has a smaller gap, else ``x`` unchanged."""
        if self.a1 == 0:
            return x, gap
        cand = self.active_set(x)
        gc = self.gap(cand)
        return (cand, gc) if gc < gap else (x, gap)

    def active_set(self, x: np.ndarray, max_solves: int = 200) -> np.ndarray:
        """Feature-sign search (Lee, Battle, Raina & Ng 2007) from ``x``.

        With the support ``A`` and signs ``s`` fixed the subproblem is a quadratic whose
        minimizer solves ``(G_AA + a2 I) w_A = c_A - a1 s_A``. When that solution keeps
        the signs it is taken; otherwise the iterate moves towards it up to the first sign
        change (the objective decreases on the way) and that coordinate leaves ``A``. Once
        the signs agree, zero coordinates that violate ``|g_j| <= a1`` join ``A`` (the worst
        first). It stops at an exact solution, or after ``max_solves`` linear solves. The
        inverse of ``G_AA + a2 I`` is updated as ``A`` changes (:class:`ActiveInverse`)
        and refactored from scratch before the answer is returned.
        """
        G, c, a1, a2 = self.G, self.c, self.a1, self.a2
        x = x.copy()
        sgn = np.sign(x)
        start = np.flatnonzero(x)
        inv = ActiveInverse(G, a2)
        self.final_inverse = None
        known = self.start_inverse
        if known is not None and np.array_equal(np.sort(known[0]), start):
            inv.load(known[0], known[1].copy())  # drops update in place: keep the original
        elif start.size > self.nmax or not inv.refresh(start):
            return x
        for _ in range(max_solves):
            A = inv.A
            if A.size:
                new = inv.solve(c - a1 * sgn)
                wrong = np.sign(new) != sgn[A]
                if wrong.any():  # go to the first sign change; that one leaves A
                    old = x[A]
                    with np.errstate(divide="ignore", invalid="ignore"):
                        tj = np.where(wrong, old / (old - new), 2.0)
                    tj[~np.isfinite(tj)] = 0.0
                    t = tj.min()
                    x[A] = old + t * (new - old)
                    gone = tj <= t
                    x[A[gone]], sgn[A[gone]] = 0.0, 0.0
                    if not inv.drop(~gone):
                        break
                    continue
                x[A] = new
            g = mm(G, x) - c
            if a2:
                g += a2 * x
            viol = np.abs(g) - a1
            viol[A] = 0.0
            if viol.max() <= 1e-12 * max(a1, 1e-300):
                if inv.updates == 0:
                    break
                if not inv.refresh(A):  # exact refactorization, then solve once more
                    break
                continue
            m = min(max(1, min(int((viol > 0).sum()), A.size // 2 + 1)), self.nmax - A.size)
            if m <= 0:
                break
            add = np.argsort(-viol, kind="stable")[:m]
            add = add[viol[add] > 0]
            sgn[add] = -np.sign(g[add])
            if not inv.add(add):
                break
        if inv.updates == 0 and inv.compact:  # freshly factored: worth handing on
            self.final_inverse = (inv.idx, inv.inv)
        return x
