"""The datafit a solve runs on: the problem's own, or its rows rescaled for a solver without
row weights; a sparse ``X`` read through its Gram matrix; a precomputed Gram matrix."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from .datafits import Quadratic
from .errors import InputError
from .problem import loss_name, make_datafit
from .solvers.registry import SolverSpec
from .sparse import is_sparse


def weighted_rows(X: Tensor, y: Tensor, s: Tensor, fit_intercept: bool) -> tuple[Tensor, Tensor]:
    """The rows scaled by ``sqrt(s)`` and centered by the weighted means (weights summing
    to ``n``): plain least squares on them, without intercept, is the weighted problem."""
    if fit_intercept:
        X = X - (s @ X) / s.sum()
        y = y - (s @ y) / s.sum()
    r = s.sqrt()
    return X * r[:, None], y * r


GRAM_ONLY = ("ws",)
"""Solvers that read ``X`` only through the datafit once it holds its Gram matrix (its
rows then weighted natively, ``X`` possibly sparse)."""


def build_datafit(X: Tensor, y: Tensor, fit_intercept: bool, gram: bool | str | Tensor,
                  s: Tensor | None, spec: SolverSpec, distributed: bool,
                  full: Quadratic | None = None, loss: Any = None, delta: float | None = None
                  ) -> tuple[Quadratic, Quadratic]:
    """The datafit the engine runs on, and the one of the problem (its intercept): the same,
    except for row weights on a solver without them (rows rescaled, see weighted_rows).
    ``gram`` may be the matrix ``X_c^T S X_c / n`` itself (precomputed by the caller)."""
    if loss_name(loss) != "squared" or delta is not None:
        if distributed:
            raise InputError("distributed=True serves the squared loss only")
        df = full if full is not None else make_datafit(loss, X, y, fit_intercept, gram, s,
                                                         delta)
        return df, df
    if distributed:
        from .distributed.datafit import ShardedQuadratic

        df = ShardedQuadratic(X, y, fit_intercept, gram=gram, row_weights=s)
        return df, df
    G = gram if isinstance(gram, Tensor) else None
    flag = True if G is not None else gram
    if full is None or G is not None:
        full = Quadratic(X, y, fit_intercept=fit_intercept, gram=flag, row_weights=s)
    # a sparse X as it is, for a solver that takes one (unless ws is asked for its Gram
    # matrix; cd and anderson_cd leave a given one aside: their CSC epochs need none)
    native = is_sparse(X) and spec.sparse and not (
        spec.name in GRAM_ONLY and (gram is True or G is not None))
    by_gram = spec.name in GRAM_ONLY and (full.use_gram or G is not None) and not native
    if is_sparse(X) and not (spec.batched or by_gram or native):
        raise InputError(f"solver {spec.name!r} needs a dense X; a sparse X runs with the "
                         f"batched solvers (ista, fista, ...), cd, anderson_cd, ws and "
                         f"prox_newton")
    if (by_gram and is_sparse(X)) or s is None or spec.weights or native:
        df = full
    else:
        df = Quadratic(*weighted_rows(X, y, s, fit_intercept), fit_intercept=False, gram=flag)
    if G is not None and not native:
        df.__dict__["gram"] = G.to(dtype=X.dtype, device=X.device)
    elif by_gram and is_sparse(X):
        _ = df.gram  # computed once here: the engine reads no row of X
    return df, full
