"""The geometry figure's arrays for p = 2: OLS, the lasso solution, and the ridge solution on
the L2 ball of the lasso's L1 norm (the diamond against the circle)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .record import problem_arrays


def geometry_arrays(X: Tensor, y: Tensor, lasso: Tensor, fit_intercept: bool) -> dict:
    """For p = 2: OLS, the lasso solution, ``t = ||lasso||_1`` and the minimizer of the RSS
    over the L2 ball of radius ``t`` (:func:`geometry`)."""
    stats = problem_arrays(X, y, fit_intercept)
    return geometry(stats["gram"], stats["xty"], lasso)


def geometry(gram: np.ndarray, xty: np.ndarray, lasso: Tensor) -> dict[str, np.ndarray]:
    """:func:`geometry_arrays` from the statistics: the ridge solution on the L2 ball of
    radius ``t`` has its alpha found by bisection."""
    G, c = torch.from_numpy(gram), torch.from_numpy(xty)
    lasso = lasso.detach().cpu().double()
    ols = torch.linalg.lstsq(G, c).solution
    t = float(lasso.abs().sum())
    eye = torch.eye(2, dtype=G.dtype)

    def ridge(lam: float) -> Tensor:
        return torch.linalg.solve(G + lam * eye, c)

    if float(torch.linalg.vector_norm(ols)) <= t:
        w = ols
    elif t == 0.0:
        w = torch.zeros(2, dtype=G.dtype)
    else:  # ||ridge(lam)|| decreases in lam; ||ridge(||c||/t)|| <= t
        lo, hi = 0.0, float(torch.linalg.vector_norm(c)) / t
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if float(torch.linalg.vector_norm(ridge(mid))) > t:
                lo = mid
            else:
                hi = mid
        w = ridge(hi)
    return {"ols": ols.numpy(), "lasso": lasso.numpy(), "t": np.asarray(t), "ridge": w.numpy()}
