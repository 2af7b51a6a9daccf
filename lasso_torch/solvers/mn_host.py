"""The host side of the compiled multinomial proximal Newton
(:mod:`lasso_torch.solvers.mn_newton`): the float64 Fortran copy of ``X`` (columns
centered when there is an intercept), the state ``(W, b, eta)`` carried from alpha to alpha
along a path, and the outer loop stopped by the compiled running certificate
(:func:`~lasso_torch.solvers.mn_kernels.mn_certificate`). The answer's final certificate
is :func:`lasso_torch.glm.multinomial.certificate` (torch, float64), by the caller.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .mn_kernels import mn_certificate
from .mn_newton import mn_iteration


def compiled_applies(X: Tensor) -> bool:
    """Whether the compiled solver serves this design (dense, on the CPU)."""
    return X.layout == torch.strided and X.device.type == "cpu"


class MnHost:
    """``W (p, K)``, ``b (K,)`` in the centered coordinates, ``eta (K, n)``."""

    def __init__(self, X: Tensor, codes: Tensor, s: Tensor, K: int, intercept: bool,
                 W0: Tensor | None = None) -> None:
        Xn = X.detach().to(torch.float64).numpy()
        self.mean = Xn.mean(0) if intercept else np.zeros(Xn.shape[1])
        self.X = np.empty(Xn.shape, order="F")
        np.subtract(Xn, self.mean, out=self.X)
        self.codes = codes.detach().numpy().astype(np.int64)
        sn = s.detach().to(torch.float64).numpy()
        self.om = sn / sn.sum()
        self.intercept, self.K = intercept, K
        p = Xn.shape[1]
        self.W = np.zeros((p, K)) if W0 is None else (
            W0.detach().to(torch.float64).numpy().copy())
        self.b = np.zeros(K)
        self.eta = np.ascontiguousarray((self.X @ self.W).T)

    def certificate(self, a1: float, a2: float, grouped: bool) -> tuple[float, float]:
        """``(primal, gap)`` at the profiled intercepts (``b``, ``eta`` moved there)."""
        return mn_certificate(self.X, self.codes, self.om, self.W, self.b, self.eta, a1, a2,
                              grouped, self.intercept)

    def solve(self, a1: float, a2: float, grouped: bool, p0: float, tol: float,
              max_iter: int, ws_min: int = 10, inner_ratio: float = 0.1,
              max_epochs: int = 5_000) -> tuple[float, int]:
        """Outer iterations from the current state until the running relative gap is
        ``<= tol`` or ``max_iter``; returns ``(relative gap, iterations)``."""
        size, ratio, it = ws_min, inner_ratio, 0
        p = self.W.shape[0]
        while True:
            rel = self.certificate(a1, a2, grouped)[1] / p0
            if rel <= tol or it >= max_iter or not np.isfinite(rel):
                return rel, it
            t = mn_iteration(self.X, self.codes, self.om, self.W, self.b, self.eta, a1, a2,
                             grouped, self.intercept, size, ratio, 1e-15, max_epochs)[0]
            if t == 0.0:  # no decrease: a larger working set, a tighter inner solve
                if size >= p and ratio < 1e-8:
                    return rel, it
                size, ratio = min(2 * size, p), ratio * 0.1
            it += 1

    def answer(self, like: Tensor) -> tuple[Tensor, Tensor]:
        """``(W, b)`` in the data's coordinates (the intercepts absorb the centering)."""
        b = self.b - self.mean @ self.W
        b = b - b.mean()
        return (torch.from_numpy(self.W.copy()).to(like.dtype),
                torch.from_numpy(b).to(like.dtype))
