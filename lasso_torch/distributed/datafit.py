"""The row-sharded quadratic datafit: :class:`~lasso_torch.datafits.Quadratic` on this
rank's rows, every sum over the rows all-reduced (see :mod:`lasso_torch.distributed`)."""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from ..datafits import Quadratic, as_column
from .comm import check_group, sharded_data, sync

__all__ = ["ShardedQuadratic", "sharded_data"]


# --- the sharded datafit -----------------------------------------------------------------
class ShardedQuadratic(Quadratic):
    """:class:`~lasso_torch.datafits.Quadratic` on this rank's rows; sums all-reduced.

    ``X``, ``y``, ``n_local`` are this rank's; ``n``, ``x_mean``, ``y_mean``, the gradient,
    ``Xty``, ``gram``, ``lipschitz`` and ``p0`` are global and equal on every rank.
    ``residual(w)`` is this rank's block of the global centered residual.
    Set ``timed = True`` (a diagnostic, off by default) to time every all-reduce: a
    barrier first, whose seconds (waiting for the slowest rank: load imbalance) go to
    ``wait_seconds``, then the all-reduce itself, device synchronized, to ``comm_seconds``.
    """

    def __init__(self, X: Tensor, y: Tensor, fit_intercept: bool = True,
                 gram: bool | str = "auto", row_weights: Tensor | None = None,
                 group: Any = None) -> None:
        check_group(group)
        self.group = group
        self.n_local = X.shape[0]
        self.timed, self.comm_calls = False, 0
        self.comm_seconds = self.wait_seconds = 0.0
        # n and the means through the hooks below
        super().__init__(X, y, fit_intercept, gram, row_weights)

    def count_rows(self, X: Tensor) -> int:
        count = torch.tensor([X.shape[0]], dtype=torch.int64, device=X.device)
        return int(self.all_reduce(count))

    def reduce(self, t: Tensor) -> Tensor:
        return self.all_reduce(t)

    def all_reduce(self, t: Tensor) -> Tensor:
        """Sum ``t`` over the ranks, in place (pass a temporary), and return it."""
        t = t.contiguous()
        if not self.timed:
            dist.all_reduce(t, group=self.group)
            return t
        sync(t)
        t0 = time.perf_counter()
        dist.barrier(group=self.group)
        t1 = time.perf_counter()
        dist.all_reduce(t, group=self.group)
        sync(t)
        self.wait_seconds += t1 - t0
        self.comm_seconds += time.perf_counter() - t1
        self.comm_calls += 1
        return t

    fused_pass = False  # rmatvec all-reduces: keep the two products apart

    def residual(self, w: Tensor) -> Tensor:
        """This rank's rows of ``y_c - X_c w``: ``(y_r - ybar) - (X_r w - xbar^T w)``."""
        mean_w = (as_column(self._c(self.x_mean), w) * w).sum(0)
        return as_column(self._c(self.yc), w) + mean_w - self.X @ w

    def rmatvec(self, u: Tensor) -> Tensor:
        """``X_c^T u = sum_r X_r^T u_r`` for the rank blocks of a centered ``u``."""
        return self.all_reduce(self.X.T @ u)

    def sums(self, w: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The certificate's sums with one all-reduce of ``p + 2`` numbers (per column)."""
        r = self.residual(w)
        u = self._weighted(r)
        local = torch.cat([self.X.T @ u, (u * r).sum(0).unsqueeze(0),
                           (u * as_column(self._c(self.yc), r)).sum(0).unsqueeze(0)])
        sums = self.all_reduce(local)
        return sums[self.p], sums[self.p + 1], sums[: self.p]
