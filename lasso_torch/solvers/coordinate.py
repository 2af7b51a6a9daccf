"""Cyclic coordinate descent: the reference solver the others are checked against.

One ``step()`` is one epoch over the coordinates ``j = 0..p-1``; each coordinate is set
to its exact minimizer given the others (``n`` times the objective, so the thresholds
are ``n alpha rho`` and ``n alpha (1 - rho)``)::

    z_j  = x_j^T r + w_j ||x_j||^2                  (r = y_c - X_c w)
    w_j <- S(z_j, n alpha rho) / (||x_j||^2 + n alpha (1 - rho))

which is exactly 0.0 whenever ``|z_j| <= n alpha rho``. When ``n >= p`` the epoch runs
on the Gram matrix (``q = X_c^T r`` is updated with one Gram column per change), else on
the residual. Coordinate descent is sequential: the sweeps run on the host in numpy (a
per-coordinate GPU kernel would be latency-bound), and ``coef()`` returns the iterate on
the data's device and dtype.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..datafits import Quadratic
from ..penalties import ElasticNet
from .engine import Engine
from .registry import SolverSpec, register


class CoordinateDescent(Engine):
    """Cyclic coordinate descent on one quadratic datafit with an elastic-net penalty."""

    def __init__(self, datafit: Quadratic, penalty: ElasticNet, w0: Tensor, *,
                 gram: bool | None = None, **_: object) -> None:
        self.datafit, self.penalty = datafit, penalty
        alpha, l1_ratio = float(penalty.alpha), penalty.l1_ratio
        self.device, self.dtype = w0.device, w0.dtype
        X = datafit.X.detach().cpu().numpy()
        if datafit.fit_intercept:
            X = X - datafit.x_mean.detach().cpu().numpy()
        self.Xc = np.asfortranarray(X)
        yc = datafit.yc.detach().cpu().numpy()
        n, p = self.Xc.shape
        self.w = w0.detach().cpu().numpy().copy()
        self.l1 = float(n * alpha * l1_ratio)
        self.l2 = float(n * alpha * (1.0 - l1_ratio))
        self.use_gram = n >= p if gram is None else gram
        r = yc - self.Xc @ self.w
        if self.use_gram:
            self.G = np.ascontiguousarray(self.Xc.T @ self.Xc)
            self.norms = np.diag(self.G).copy()
            self.q = self.Xc.T @ r
        else:
            self.norms = (self.Xc * self.Xc).sum(0)
            self.r = r

    def step(self) -> None:
        """One cyclic epoch."""
        w, norms, l1, l2 = self.w, self.norms, self.l1, self.l2
        if self.use_gram:
            G, q = self.G, self.q
            for j in range(w.shape[0]):
                nj = norms[j]
                if nj == 0.0:
                    continue
                wj = w[j]
                z = q[j] + wj * nj
                new = (z - l1 if z > l1 else z + l1 if z < -l1 else 0.0) / (nj + l2)
                if new != wj:
                    q -= (new - wj) * G[j]
                    w[j] = new
        else:
            X, r = self.Xc, self.r
            for j in range(w.shape[0]):
                nj = norms[j]
                if nj == 0.0:
                    continue
                wj = w[j]
                col = X[:, j]
                z = col @ r + wj * nj
                new = (z - l1 if z > l1 else z + l1 if z < -l1 else 0.0) / (nj + l2)
                if new != wj:
                    r -= (new - wj) * col
                    w[j] = new

    def coef(self) -> Tensor:
        return torch.from_numpy(self.w.copy()).to(device=self.device, dtype=self.dtype)


register(SolverSpec(
    "cd", CoordinateDescent, "cyclic coordinate descent (the reference)",
    check_every=1, colour="#4d4d4d", iteration="epoch"))
