"""``(G_AA + a2 I)^{-1}`` for the active set of the working-set subproblem, kept up to date
as features enter and leave (numpy, with torch's LAPACK for the larger factorizations)."""

from __future__ import annotations

import numpy as np
import torch

from ..linalg import mm


class ActiveInverse:
    """``(G_AA + a2 I)^{-1}`` for an active set ``A`` that grows and shrinks (numpy).

    Adding ``k`` indices is a block (Schur complement) update, ``O(|A|^2 k)``; removing one
    is a rank-one update in place, ``O(|A|^2)``, whose row and column are then zeroed and
    marked invalid (compacted at the next addition). After ``refresh_every`` updates (and
    on demand) the inverse is recomputed from a Cholesky factorization so rounding does
    not accumulate. Methods return False when the matrix is not positive definite.
    """

    def __init__(self, G: np.ndarray, a2: float, refresh_every: int = 100) -> None:
        self.G, self.a2, self.refresh_every = G, a2, refresh_every
        self.idx = np.zeros(0, dtype=np.int64)
        self.valid = np.zeros(0, dtype=bool)
        self.inv = np.zeros((0, 0))
        self.updates = 0
        self.compact = True  # no dropped (invalid) rows in ``inv``

    @property
    def A(self) -> np.ndarray:
        """The active indices, in the order :meth:`solve` returns their values."""
        return self.idx if self.compact else self.idx[self.valid]

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``(G_AA + a2 I)^{-1} rhs_A`` for a full-length ``rhs``."""
        if self.compact:
            return mm(self.inv, rhs[self.idx])
        r = np.where(self.valid, rhs[self.idx], 0.0)
        return mm(self.inv, r)[self.valid]

    def _ridge_inverse(self, M: np.ndarray, scale: np.ndarray | None = None
                       ) -> np.ndarray | None:
        """``(M + a2 I)^-1`` by Cholesky; None when it is not positive definite *numerically*:
        a pivot below ``1e-10`` of the diagonal (of ``scale``, the Gram block a Schur
        complement ``M`` came from) is a rank deficiency (duplicated or collinear columns)
        that rounding made look positive. Such a set is refused (the caller keeps its last
        iterate), never inverted."""
        diag = np.diag(M) if scale is None else scale
        floor = 1e-10 * (float(np.max(np.abs(diag))) + self.a2) + 1e-300
        if M.shape[0] == 1:  # one feature at a time is the common case: no LAPACK call
            d = float(M[0, 0]) + self.a2
            return np.array([[1.0 / d]]) if d > floor else None
        if self.a2 > 0:
            M = M + self.a2 * np.eye(M.shape[0])
        if M.shape[0] <= 64:  # small: numpy's LAPACK call is cheaper than torch's dispatch
            try:
                L = np.linalg.cholesky(M)  # the positive-definiteness test
            except np.linalg.LinAlgError:
                return None
            if not np.min(np.diag(L)) ** 2 > floor:
                return None
            Linv = np.linalg.solve(L, np.eye(M.shape[0]))
            return Linv.T @ Linv
        L, info = torch.linalg.cholesky_ex(torch.from_numpy(np.ascontiguousarray(M)))
        if int(info) != 0 or not float(torch.diagonal(L).min()) ** 2 > floor:
            return None
        return torch.cholesky_inverse(L).numpy()

    def load(self, A: np.ndarray, inv: np.ndarray) -> None:
        """Start from a known ``(G_AA + a2 I)^{-1}`` (rows and columns in ``A``'s order)."""
        self.idx, self.inv, self.updates, self.compact = A, inv, 0, True
        self.valid = np.ones(A.size, dtype=bool)

    def refresh(self, A: np.ndarray) -> bool:
        inv = np.zeros((0, 0))
        if A.size:
            inv = self._ridge_inverse(self.G[A[:, None], A])
            if inv is None:
                return False
        self.idx, self.inv, self.updates, self.compact = A, inv, 0, True
        self.valid = np.ones(A.size, dtype=bool)
        return True

    def add(self, new: np.ndarray) -> bool:
        if new.size == 0:
            return True
        A = self.A
        if A.size == 0 or self.updates >= self.refresh_every:
            return self.refresh(np.concatenate([A, new]))
        if not self.compact:  # compact the dropped rows and columns
            keep = np.flatnonzero(self.valid)
            self.inv = self.inv[keep[:, None], keep]
        B = self.G[A[:, None], new]
        MB = mm(self.inv, B)
        Gnn = self.G[new[:, None], new]
        Sinv = self._ridge_inverse(Gnn - mm(B.T, MB), np.diag(Gnn))
        if Sinv is None:
            return False
        off = -mm(MB, Sinv)
        a, k = A.size, new.size
        inv = np.empty((a + k, a + k))
        inv[:a, :a] = self.inv - mm(off, MB.T)
        inv[:a, a:] = off
        inv[a:, :a] = off.T
        inv[a:, a:] = Sinv
        self.inv = inv
        self.idx = np.concatenate([A, new])
        self.valid = np.ones(self.idx.size, dtype=bool)
        self.updates, self.compact = self.updates + 1, True
        return True

    def drop(self, keep: np.ndarray) -> bool:
        """Keep the active positions ``keep`` (a bool mask over ``A``), drop the others."""
        if self.updates >= self.refresh_every:
            return self.refresh(self.A[keep])
        inv_t = torch.from_numpy(self.inv)  # a view: the rank-one update runs in place
        for q in np.flatnonzero(self.valid)[~keep]:
            col = self.inv[:, q].copy()
            if not col[q] > 0:
                rest = self.valid.copy()
                rest[q] = False
                return self.refresh(self.idx[rest])
            col_t = torch.from_numpy(col)
            inv_t.addr_(col_t, col_t, alpha=-1.0 / float(col[q]))
            self.inv[q] = 0.0
            self.inv[:, q] = 0.0
            self.valid[q] = False
            self.compact = False
        self.updates += 1
        return True
