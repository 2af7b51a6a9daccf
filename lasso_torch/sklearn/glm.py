"""scikit-learn regressors for the GLM losses: ``TorchPoissonRegressor``,
``TorchGammaRegressor``, ``TorchTweedieRegressor``, ``TorchHuberRegressor``.

Objective (the package's scaling, :mod:`lasso_torch.glm`): the mean loss ``1/n sum_i s_i
l(y_i, x_i^T w + b)`` (half the mean deviance above its floor for Poisson/Gamma/Tweedie,
with the log link) plus ``alpha (l1_ratio |w|_1 + (1 - l1_ratio)/2 |w|^2)``, or a group
penalty (``penalty="group"``/``"sparse_group"`` with ``groups``). With ``l1_ratio=0`` it is
scikit-learn's ``PoissonRegressor(alpha)`` / ``GammaRegressor`` / ``TweedieRegressor(power,
link="log")`` exactly; ``l1_ratio`` defaults to 1 here (the sparse model: glum's
``GeneralizedLinearRegressor(alpha, l1_ratio)``). ``TorchHuberRegressor(epsilon)`` is the
Huber loss with threshold ``epsilon`` on the residuals themselves (scikit-learn's
``HuberRegressor`` also estimates a scale ``sigma``; this one keeps it at 1: standardize
``y``). A fit that misses ``tol`` warns scikit-learn's ``ConvergenceWarning``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import InputError
from ..solve import SolveResult, solve
from .inputs import sample_weights, to_tensor, torch_device, torch_dtype, validate_fit


def warn_glm(res: SolveResult, name: str) -> None:
    """scikit-learn's ``ConvergenceWarning`` (users' filters catch it) with the gap."""
    if not res.converged:
        warnings.warn(f"{name}: {res.solver} {res.status} after {res.n_iter} iterations; "
                      f"relative {res.certificate} {float(np.max(res.gap.cpu().numpy())):.3e}",
                      ConvergenceWarning, stacklevel=3)


class _TorchGLM(RegressorMixin, BaseEstimator):
    """Shared ``fit``/``predict``; a subclass names its loss (``_loss()``) and its link."""

    log_link = True
    positive_target = True

    def __init__(self, *, alpha: float = 1.0, l1_ratio: float = 1.0,
                 fit_intercept: bool = True, penalty: str | None = None, groups: Any = None,
                 tol: float = 1e-8, max_iter: int = 1000, solver: str = "auto",
                 dtype: Any = None, device: Any = None) -> None:
        self.alpha, self.l1_ratio, self.fit_intercept = alpha, l1_ratio, fit_intercept
        self.penalty, self.groups, self.tol, self.max_iter = penalty, groups, tol, max_iter
        self.solver, self.dtype, self.device = solver, dtype, device

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.positive_only = self.positive_target
        return tags

    def _loss(self) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def _check_y(self, y: np.ndarray) -> None:
        """Targets the loss cannot fit: scikit-learn's ValueError."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _TorchGLM:
        if not (isinstance(self.alpha, (int, float, np.number)) and self.alpha >= 0):
            raise InputError(f"alpha must be a number >= 0, got {self.alpha!r}")
        X, y = validate_fit(self, X, y, True, multi_output=False)
        self._check_y(y)
        sw = sample_weights(sample_weight, X)
        dt, dev = torch_dtype(self.dtype, X.dtype), torch_device(self.device)
        loss, opts = self._loss()
        res = solve(to_tensor(X, dt, dev), to_tensor(y, dt, dev), float(self.alpha),
                    float(self.l1_ratio), self.solver, loss=loss, tol=self.tol,
                    max_iter=self.max_iter, fit_intercept=self.fit_intercept,
                    sample_weight=sw, penalty=self.penalty, groups=self.groups, warn=False,
                    **opts)
        warn_glm(res, type(self).__name__)
        self.coef_ = res.coef.detach().cpu().numpy().astype(X.dtype)
        self.intercept_ = float(res.intercept)
        self.n_iter_ = int(res.n_iter)
        self.dual_gap_ = float(res.gap_abs)
        return self

    def _linear(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=["csr", "csc"],
                          dtype=[np.float64, np.float32])
        return np.asarray(X @ self.coef_).ravel() + self.intercept_

    def predict(self, X: Any) -> np.ndarray:
        eta = self._linear(X)
        return np.exp(eta) if self.log_link else eta


class TorchPoissonRegressor(_TorchGLM):
    """Sparse Poisson regression (log link), counts ``y >= 0``."""

    def _loss(self) -> tuple[str, dict[str, Any]]:
        return "poisson", {}

    def _check_y(self, y: np.ndarray) -> None:
        if np.any(y < 0):
            raise ValueError("Some value(s) of y are out of the valid range of the loss "
                             "'poisson': y must be >= 0")


class TorchGammaRegressor(_TorchGLM):
    """Sparse Gamma regression (log link), ``y > 0``."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags

    def _check_y(self, y: np.ndarray) -> None:
        if np.any(y <= 0):
            raise ValueError("Some value(s) of y are out of the valid range of the loss "
                             "'gamma': y must be > 0")

    def _loss(self) -> tuple[str, dict[str, Any]]:
        return "gamma", {}


class TorchTweedieRegressor(_TorchGLM):
    """Sparse Tweedie regression (log link), ``1 < power < 2``, ``y >= 0``."""

    def __init__(self, *, power: float = 1.5, alpha: float = 1.0, l1_ratio: float = 1.0,
                 fit_intercept: bool = True, penalty: str | None = None, groups: Any = None,
                 tol: float = 1e-8, max_iter: int = 1000, solver: str = "auto",
                 dtype: Any = None, device: Any = None) -> None:
        super().__init__(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                         penalty=penalty, groups=groups, tol=tol, max_iter=max_iter,
                         solver=solver, dtype=dtype, device=device)
        self.power = power

    def _loss(self) -> tuple[str, dict[str, Any]]:
        return f"tweedie({float(self.power)!r})", {}


class TorchHuberRegressor(_TorchGLM):
    """Sparse robust regression with the Huber loss (threshold ``epsilon``)."""

    log_link = False
    positive_target = False

    def __init__(self, *, epsilon: float = 1.35, alpha: float = 1e-4, l1_ratio: float = 1.0,
                 fit_intercept: bool = True, penalty: str | None = None, groups: Any = None,
                 tol: float = 1e-8, max_iter: int = 1000, solver: str = "auto",
                 dtype: Any = None, device: Any = None) -> None:
        super().__init__(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                         penalty=penalty, groups=groups, tol=tol, max_iter=max_iter,
                         solver=solver, dtype=dtype, device=device)
        self.epsilon = epsilon

    def _loss(self) -> tuple[str, dict[str, Any]]:
        return "huber", {"delta": float(self.epsilon)}
