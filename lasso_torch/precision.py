"""The copy that low precision solves on.

A dense float32 (or narrower) ``X`` whose column means exceed its spread, or a float64 one
whose means exceed it ``1e4``-fold, is centered once (a copy) before the solve, and so is
``y`` (by the same rule) for the losses whose intercept absorbs a shift of ``y`` (squared,
Huber). Data that is not so shifted is solved as given, bit for bit. Centering with an
intercept changes the coefficients of no solution, only the intercept, which the final
certificate (:mod:`lasso_torch.exact`) recomputes from the original data.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from . import sparse as sp
from .exact import SMALL

F64 = torch.float64


def centered_copy(X: Tensor, y: Tensor, s: Tensor | None, fit_intercept: bool,
                  shift_y: bool, widen: bool = False) -> tuple[Tensor, Tensor]:
    """``(X, y)`` as the solvers should see them: a dense ``X`` whose column means dwarf its
    spread centered once (float32 and narrower: means above the spread; float64: above
    ``1e4`` times it; a float32 sparse ``X`` with such columns is widened to float64
    instead: never densified), and ``y`` by the same rule where ``shift_y`` (a loss whose intercept
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
    if sp.is_sparse(X):  # never densified: a low-precision one with offsets is widened,
        if X.dtype != F64 and _sparse_offset(X, s):  # its implicit centering cancels in
            X, y = X.to(F64), y.to(F64)  # float32 (a column 1e4 +- 1: E[x^2] - m^2 is 0)
        return X, y
    if X.shape[0] < 2 or not _offset(X, s, limit):
        return X, y
    xm = X.sum(0, dtype=F64) / X.shape[0] if s is None else (
        (s.to(X.dtype) @ X).to(F64) / s.sum())
    return X - xm.to(X.dtype), y  # x - m is exact where x and m agree to a factor 2


def _offset(A: Tensor, s: Tensor | None, limit: float) -> bool:
    """Whether some non-constant column's (weighted) mean exceeds ``limit`` times its spread
    (max - min; a constant column, an intercept's column of ones say, centers to exactly 0
    anyway); numpy for a small CPU array (a tenth of torch's per-call cost)."""
    if A.device.type == "cpu" and A.numel() <= SMALL and s is None:
        a = A.numpy()
        spread = np.ptp(a, 0)
        return bool(((np.abs(a.mean(0, dtype=np.float64)) > limit * spread) & (spread > 0))
                    .any())
    m = A.sum(0, dtype=F64) / A.shape[0] if s is None else (
        (s.to(A.dtype) @ A).to(F64) / s.sum())
    spread = (A.amax(0) - A.amin(0)).to(F64)
    return bool(((m.abs() > limit * spread) & (spread > 0)).any())


def _sparse_offset(X: Tensor, s: Tensor | None) -> bool:
    """Whether a column of a sparse ``X`` has a (weighted) mean above its standard deviation
    (float64 moments from the stored values: ``E[x^2] - m^2`` in float64)."""
    X64 = X.to(F64)
    w = torch.ones(X.shape[0], dtype=F64, device=X.device) if s is None else s.to(F64)
    XT = sp.transpose(X64)
    m = (XT @ w) / w.sum()
    var = (sp.transpose(sp.square(X64)) @ w) / w.sum() - m * m
    return bool((m.abs() > var.clamp(min=0).sqrt()).any())
