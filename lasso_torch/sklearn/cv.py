"""``TorchLassoCV`` / ``TorchElasticNetCV``: alpha (and l1_ratio) by K-fold cross-validation.

The same procedure as scikit-learn's ``LassoCV`` / ``ElasticNetCV``, so that on the same
folds both give the same ``alphas_``, ``mse_path_`` and ``alpha_``:

1. the alpha grid, from the full data: ``alpha_max = ||X_c^T y_c||_inf / (n l1_ratio)`` and
   ``alphas`` (an int) values geometrically spaced down to ``eps * alpha_max``, or the given
   alphas sorted in decreasing order;
2. for every training fold and every alpha, the elastic-net solution on that fold (its own
   ``n`` and its own centering), and its mean squared error on the held-out rows:
   ``mse_path_[k, f]``;
3. ``alpha_`` minimizes the mean over folds (the first, i.e. largest, alpha on ties), and the
   estimator is refit on all the data with it.

Step 2 is :func:`lasso_torch.cv.cross_validate`: one call of :func:`lasso_torch.lasso_path`
with the folds as row masks, all folds x all alphas solved together by the batched FISTA
path (one ``p x (F K)`` iterate).
"""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv

from ..cv import cross_validate, masks_from_folds
from ..errors import InputError
from ..path import grid
from .estimators import (
    TorchElasticNet,
    TorchLinearModel,
    to_tensor,
    torch_device,
    torch_dtype,
)


def alpha_grid(X: np.ndarray, y: np.ndarray, l1_ratio: float, fit_intercept: bool, eps: float,
               n_alphas: int) -> np.ndarray:
    """``n_alphas`` values from ``alpha_max`` down to ``eps * alpha_max``, geometrically spaced.

    ``alpha_max = ||X_c^T y_c||_inf / (n * l1_ratio)`` is the smallest alpha whose solution
    is all zeros (scikit-learn's ``_alpha_grid``, computed the same way).
    """
    if l1_ratio == 0:
        raise InputError("an alpha grid needs l1_ratio > 0 (for ridge, alpha_max is infinite);"
                         " give the alphas explicitly")
    if fit_intercept:  # alpha_max in scikit-learn's float operations (same alpha_ to the bit)
        yc = y - y.mean()
        Xy = X.T @ yc - X.mean(0) * yc.sum()
    else:
        Xy = X.T @ y
    return grid(np.abs(Xy).max() / (X.shape[0] * l1_ratio), n_alphas, eps).numpy()


class _TorchLinearModelCV(TorchLinearModel):
    """Shared fit of the CV estimators; ``_l1_ratios()`` gives the l1_ratio values tried."""

    def _l1_ratios(self) -> np.ndarray:
        return np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))

    def _alpha_grids(self, X: np.ndarray, y: np.ndarray, l1_ratios: np.ndarray) -> np.ndarray:
        if isinstance(self.alphas, Integral):
            if self.alphas < 1:
                raise InputError(f"alphas must be a positive int or a list, got {self.alphas}")
            return np.stack([alpha_grid(X, y, r, self.fit_intercept, self.eps, self.alphas)
                             for r in l1_ratios])
        alphas = np.asarray(self.alphas, dtype=np.float64).ravel()
        if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas <= 0):
            raise InputError(f"alphas must be finite numbers > 0, got {self.alphas!r}")
        return np.tile(np.sort(alphas)[::-1], (len(l1_ratios), 1))

    def fit(self, X: Any, y: Any) -> _TorchLinearModelCV:
        """Cross-validate alpha (and l1_ratio) on ``cv`` folds, then refit on all data."""
        X, y = self._validate_fit_data(X, y)
        dtype = torch_dtype(self.dtype, X.dtype)
        device = torch_device(self.device)
        l1_ratios = self._l1_ratios()
        if np.any((l1_ratios < 0) | (l1_ratios > 1)):
            raise InputError(f"l1_ratio must be in [0, 1], got {self.l1_ratio!r}")
        alphas = self._alpha_grids(X, y, l1_ratios)
        folds = list(check_cv(self.cv).split(X, y))
        Xt, yt = to_tensor(X, dtype, device), to_tensor(y, dtype, device)
        train, test = masks_from_folds(X.shape[0], folds, dtype=dtype, device=device)
        mse, worst = [], 0.0
        for r, l1 in enumerate(l1_ratios):
            # all folds x all alphas in one batched FISTA pass (lasso_path with fold masks)
            res = cross_validate(Xt, yt, alphas[r], float(l1), masks=train, test_masks=test,
                                 fit_intercept=self.fit_intercept, tol=2 * self.tol,
                                 max_iter=self.max_iter)
            mse.append(res.mse_path)
            worst = max(worst, float(res.gaps.max()))
        if worst > 2 * self.tol:
            warnings.warn(f"the cross-validation paths did not all converge: worst relative "
                          f"duality gap {worst:.3e} > {2 * self.tol:.1e}; increase max_iter",
                          ConvergenceWarning, stacklevel=2)
        mse_paths = np.stack(mse).astype(np.float64)  # (R, K, F)
        mean = mse_paths.mean(-1)
        best = np.inf
        for r in range(len(l1_ratios)):
            i = int(np.argmin(mean[r]))
            if mean[r, i] < best:  # strictly smaller: ties keep the first l1_ratio
                best = mean[r, i]
                self.alpha_, self.l1_ratio_ = float(alphas[r, i]), float(l1_ratios[r])
        self.mse_path_ = np.squeeze(mse_paths)
        # as scikit-learn: one grid per l1_ratio when it built them, else the given grid
        explicit = not isinstance(self.alphas, Integral)
        self.alphas_ = alphas[0] if len(l1_ratios) == 1 or explicit else alphas
        model = TorchElasticNet(
            self.alpha_, l1_ratio=self.l1_ratio_, fit_intercept=self.fit_intercept,
            solver=self.solver, tol=self.tol, max_iter=self.max_iter, device=self.device,
            dtype=self.dtype,
        )
        model.fit(X, y)
        for name in ("coef_", "intercept_", "n_iter_", "dual_gap_", "status_"):
            setattr(self, name, getattr(model, name))
        self.n_folds_ = len(folds)
        return self


class TorchLassoCV(_TorchLinearModelCV):
    """Lasso with alpha chosen by cross-validation, like ``sklearn.linear_model.LassoCV``.

    Args:
        eps: ``alpha_min / alpha_max`` of the grid.
        alphas: the number of alphas on the grid (an int, as ``LassoCV``'s ``alphas``,
            formerly ``n_alphas``) or the alphas themselves.
        fit_intercept, solver, tol, max_iter, device, dtype: as :class:`TorchLasso`.
        cv: folds, as in scikit-learn (None: 5-fold ``KFold``; an int; a splitter; a list).

    Attributes:
        alpha_, alphas_ (K,), mse_path_ (K, n_folds), n_folds_, and the refit's coef_,
        intercept_, n_iter_, dual_gap_, status_.
    """

    def __init__(self, *, eps: float = 1e-3, alphas: int | Any = 100, fit_intercept: bool = True,
                 cv: Any = None, solver: str = "fista", tol: float = 1e-4,
                 max_iter: int = 10_000, device: str | None = "cpu",
                 dtype: str | None = None) -> None:
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.device = device
        self.dtype = dtype

    def _l1_ratios(self) -> np.ndarray:
        return np.ones(1)

    def fit(self, X: Any, y: Any) -> TorchLassoCV:
        super().fit(X, y)
        del self.l1_ratio_
        return self


class TorchElasticNetCV(_TorchLinearModelCV):
    """Elastic net with alpha and l1_ratio chosen by cross-validation (``ElasticNetCV``).

    ``l1_ratio`` may be a list: every value gets its own alpha grid, and ``mse_path_`` is
    ``(n_l1_ratio, K, n_folds)`` and ``alphas_`` ``(n_l1_ratio, K)``. Other parameters and
    attributes as :class:`TorchLassoCV`, plus ``l1_ratio_``.
    """

    def __init__(self, *, l1_ratio: float | Any = 0.5, eps: float = 1e-3,
                 alphas: int | Any = 100, fit_intercept: bool = True, cv: Any = None,
                 solver: str = "fista", tol: float = 1e-4, max_iter: int = 10_000,
                 device: str | None = "cpu", dtype: str | None = None) -> None:
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.device = device
        self.dtype = dtype

