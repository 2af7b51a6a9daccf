"""Coordinate descent: the reference solver the others are checked against.

One ``step()`` is one epoch over the coordinates ``j = 0..p-1`` (``selection="cyclic"``)
or over ``p`` coordinates drawn uniformly with replacement (``"random"``, scikit-learn's
semantics, seeded); each coordinate is set to its exact minimizer given the others
(``n`` times the objective, so the thresholds are ``n alpha rho`` and
``n alpha (1 - rho)``)::

    z_j  = x_j^T r + w_j ||x_j||^2                  (r = y_c - X_c w)
    w_j <- S(z_j, n alpha rho) / (||x_j||^2 + n alpha (1 - rho))

which is exactly 0.0 whenever ``|z_j| <= n alpha rho``. When ``n >= p`` the epoch runs
on the Gram matrix (``q = X_c^T r`` is updated with one Gram row per change), else on
the residual. Coordinate descent is sequential: the epochs run on the host in compiled
kernels (:mod:`lasso_torch.solvers.kernels`, in the data's dtype), and ``coef()``
returns the iterate on the data's device and dtype.

The engine certifies itself (:meth:`CoordinateDescent.certificate`, what the loop calls at
each check) with the compiled certificate from a residual recomputed from scratch (no
drift of the epochs' updates); in Gram form and float64 from the Gram sums instead
(``||r||^2 = ||y_c||^2 - 2 c^T w + w^T G w``, ``p^2`` work, cancellation ~1e-15 P(0)).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..certificates import Certificate
from ..datafits import Quadratic
from ..errors import InputError
from ..linalg import mm
from ..penalties import ElasticNet
from .cd_path import gram_path
from .engine import Engine
from .kernels import (
    as_scalar,
    cd_epoch_gram,
    cd_epoch_residual,
    col_norms,
    enet_certificate,
    residual,
)
from .registry import SolverSpec, register

_HOST: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # datafit -> its host copies


def cached_on(datafit: Quadratic, key: str, make: Callable[[], Any]) -> Any:
    """``make()`` once per datafit (shared by the engines of a warm path's alphas)."""
    store = _HOST.setdefault(datafit, {})
    if key not in store:
        store[key] = make()
    return store[key]


def host_arrays(datafit: Quadratic) -> tuple[np.ndarray, np.ndarray]:
    """The centered design (Fortran order, the data's dtype) and ``y_c`` on the host,
    computed once per datafit."""
    return cached_on(datafit, "arrays", lambda: _centered(datafit))


def _centered(datafit: Quadratic) -> tuple[np.ndarray, np.ndarray]:
    X = datafit.X.detach().cpu().numpy()
    Xc = np.empty(X.shape, dtype=X.dtype, order="F")  # one pass: centered, column-major
    if datafit.fit_intercept:
        np.subtract(X, datafit.x_mean.detach().cpu().numpy(), out=Xc)
    else:
        Xc[:] = X
    return Xc, np.ascontiguousarray(datafit.yc.detach().cpu().numpy())


def host_gram(datafit: Quadratic) -> tuple[np.ndarray, np.ndarray]:
    """``X_c^T X_c`` (C order) and ``X_c^T y_c`` on the host, computed once per datafit."""
    def make() -> tuple[np.ndarray, np.ndarray]:
        Xc, yc = host_arrays(datafit)
        return np.ascontiguousarray(mm(Xc.T, Xc)), mm(Xc.T, yc)
    return cached_on(datafit, "gram", make)


def as_certificate(primal: float, gap: float, kkt: float, p0: float, like: Tensor
                   ) -> Certificate:
    """A :class:`~lasso_torch.certificates.Certificate` of tensors like ``like``."""
    t = torch.from_numpy(np.array([primal, gap, gap / max(p0, np.finfo(np.float64).tiny),
                                   kkt]))
    if t.dtype != like.dtype or t.device != like.device:
        t = t.to(device=like.device, dtype=like.dtype)
    return Certificate(*t.unbind())


class CoordinateDescent(Engine):
    """Coordinate descent on one quadratic datafit with an elastic-net penalty."""

    def __init__(self, datafit: Quadratic, penalty: ElasticNet, w0: Tensor, *,
                 gram: bool | None = None, selection: str = "cyclic", seed: int | None = 0,
                 **_: object) -> None:
        if selection not in ("cyclic", "random"):
            raise InputError(f"selection must be 'cyclic' or 'random', got {selection!r}")
        alpha, l1_ratio = float(penalty.alpha), penalty.l1_ratio
        self.datafit, self.penalty = datafit, penalty
        self.alpha, self.l1_ratio = alpha, l1_ratio
        self.device, self.dtype = w0.device, w0.dtype
        self.Xc, self.yc = host_arrays(datafit)
        n, p = self.Xc.shape
        self.w = w0.detach().cpu().numpy().astype(self.Xc.dtype, copy=True)
        self.l1 = as_scalar(n * alpha * l1_ratio, self.w)
        self.l2 = as_scalar(n * alpha * (1.0 - l1_ratio), self.w)
        self.use_gram = n >= p if gram is None else gram
        self.rng = np.random.default_rng(seed) if selection == "random" else None
        self.order = self.all_idx = np.arange(p, dtype=np.int64)
        if self.use_gram:
            self.G, self.c = host_gram(datafit)
            self.norms = np.diag(self.G).copy()
            self.q = self.c - mm(self.G, self.w)
        else:
            self.norms = col_norms(self.Xc)
            self.r = self.yc - mm(self.Xc, self.w)
        self._coef: Tensor | None = None

    def step(self) -> None:
        """One epoch."""
        if self.rng is not None:
            self.order = self.rng.integers(0, self.w.shape[0], self.w.shape[0])
        if self.use_gram:
            cd_epoch_gram(self.G, self.q, self.w, self.norms, self.l1, self.l2, self.order)
        else:
            cd_epoch_residual(self.Xc, self.r, self.w, self.norms, self.l1, self.l2, self.order)
        self._coef = None

    def coef(self) -> Tensor:
        if self._coef is None:
            self._coef = torch.from_numpy(self.w.copy()).to(device=self.device,
                                                            dtype=self.dtype)
        return self._coef

    def certificate(self) -> Certificate:
        """The loop's certificate at the current iterate, compiled on the host: the formula
        of :func:`~lasso_torch.certificates.gap_from_sums` (tested equal to it)."""
        w, alpha, l1_ratio = self.coef(), self.alpha, self.l1_ratio
        n = self.Xc.shape[0]
        yy = float(self.yc @ self.yc)
        if self.use_gram and self.w.dtype == np.float64:
            xtr = self.c - mm(self.G, self.w)
            cw = float(self.c @ self.w)
            r2, ry = yy - cw - float(self.w @ xtr), yy - cw
        else:
            r = np.empty_like(self.yc)
            residual(self.Xc, self.yc, self.w, r)
            xtr = mm(self.Xc.T, r)
            r2, ry = float(r @ r), float(r @ self.yc)
        out = enet_certificate(r2, ry, xtr, self.w, self.all_idx, n, alpha * l1_ratio,
                               alpha * (1.0 - l1_ratio))
        return as_certificate(*out, 0.5 * yy / n, w)


def _plain_path(*args: Any, selection: str = "cyclic", **options: Any) -> Any:
    """The compiled warm path as plain cyclic CD (no extrapolation: ``cd`` is the
    reference); random selection runs the engine."""
    return gram_path(*args, **{**options, "K": 0}) if selection == "cyclic" else None


register(SolverSpec(
    "cd", CoordinateDescent, "coordinate descent, cyclic or random (the reference)",
    options={"selection": "cyclic", "seed": 0}, check_every=1,
    iteration="epoch", path=_plain_path))
