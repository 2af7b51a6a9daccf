"""Minibatches for every gradient-based solver: the rows of a step, and the datafit on them.

A minibatch ``B`` of rows gives the unbiased estimate of the datafit (and its gradient)

    f_B(w) = 1/(2 sum_B s_i) sum_{i in B} s_i (y_c,i - x_c,i^T w)^2,

with the centering (the profiled intercept) of the *whole* data, so ``E f_B = f`` for
uniform sampling. :class:`Minibatches` draws the batches: the rows are reshuffled every
epoch by a generator seeded with the config's ``seed``; ``batch_size=None`` is the full
batch (the deterministic algorithm). One step is one batch; ``epoch`` counts passes over
the data (``steps * batch_size / n``), so traces can be read in either unit. The
certificates (gap, KKT) are always computed on the full data, at the checks only.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..datafits import Quadratic, as_column
from ..errors import InputError


class Minibatches:
    """Row indices of each step: a fresh permutation per epoch, cut into batches."""

    def __init__(self, n: int, batch_size: int | None, seed: int = 0,
                 device: torch.device | str = "cpu") -> None:
        if batch_size is not None and not (isinstance(batch_size, int) and batch_size >= 1):
            raise InputError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        self.n = n
        self.size = None if batch_size is None or batch_size >= n else batch_size
        self.device = device
        self.gen = torch.Generator().manual_seed(int(seed))
        self.perm: Tensor | None = None
        self.pos = 0
        self.steps = 0

    @property
    def full(self) -> bool:
        return self.size is None

    @property
    def epoch(self) -> float:
        """Passes over the data so far."""
        return float(self.steps) if self.full else self.steps * self.size / self.n

    def next(self) -> Tensor | None:
        """The rows of the next step (None: all of them)."""
        self.steps += 1
        if self.full:
            return None
        if self.perm is None or self.pos + self.size > self.n:
            self.perm = torch.randperm(self.n, generator=self.gen).to(self.device)
            self.pos = 0
        rows = self.perm[self.pos:self.pos + self.size]
        self.pos += self.size
        return rows


def batch_residual(df: Quadratic, w: Tensor, rows: Tensor) -> tuple[Tensor, Tensor | None]:
    """``(r_B, s_B)``: the rows' residual ``y_c - X_c w`` (whole-data centering), weights."""
    if df.F != 1:
        raise InputError("minibatches serve one problem at a time (no batch of folds)")
    Xb = df.X[rows]
    r = as_column(df.yc[rows], w) + (as_column(df.x_mean, w) * w).sum(0) - Xb @ w
    return r, None if df.s is None else df.s[rows]


def batch_value(df: Quadratic, w: Tensor, rows: Tensor) -> Tensor:
    """``f_B(w)`` (differentiable: the autograd engines take its gradient)."""
    r, s = batch_residual(df, w, rows)
    if s is None:
        return (r * r).sum(0) / (2 * rows.numel())
    return (as_column(s, r) * r * r).sum(0) / (2 * s.sum())


def batch_gradient(df: Quadratic, w: Tensor, rows: Tensor) -> Tensor:
    """``grad f_B(w) = -X_c,B^T S_B r_B / sum_B s`` in closed form."""
    r, s = batch_residual(df, w, rows)
    u = r if s is None else as_column(s, r) * r
    Xtr = df.X[rows].T @ u - as_column(df.x_mean, w) * u.sum(0)
    return Xtr / -(rows.numel() if s is None else s.sum())
