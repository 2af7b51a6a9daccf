"""``TorchLogisticRegression``: scikit-learn's sparse logistic regression over ``solve``.

scikit-learn's convention: ``penalty="l1"`` (or ``"elasticnet"`` with ``l1_ratio``),
``C`` the inverse regularization, minimizing ``C sum_i log(1 + exp(-y_i (x_i^T w + b)))
+ ||w||_1``; that is ``alpha = 1 / (n C)`` in this package's scaling (the mean loss plus
``alpha ||w||_1``), with the intercept unpenalized (as scikit-learn's ``saga``; its
``liblinear`` penalizes it). ``weights`` (per-feature penalty factors) and ``positive``
are passed on. Two classes only. ``tol`` is the relative duality gap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import InputError
from ..solve import solve
from .estimators import to_tensor, torch_device, torch_dtype


class TorchLogisticRegression(ClassifierMixin, BaseEstimator):
    """L1 / elastic-net logistic regression (binary), solved by ``prox_newton``."""

    def __init__(self, penalty: str = "l1", *, C: float = 1.0, l1_ratio: float | None = None,
                 fit_intercept: bool = True, tol: float = 1e-8, max_iter: int = 1000,
                 solver: str = "prox_newton", weights: Any = None, positive: bool = False,
                 dtype: Any = None, device: Any = None) -> None:
        self.penalty, self.C, self.l1_ratio = penalty, C, l1_ratio
        self.fit_intercept, self.tol = fit_intercept, tol
        self.max_iter, self.solver = max_iter, solver
        self.weights, self.positive, self.dtype, self.device = weights, positive, dtype, device

    def fit(self, X: Any, y: Any) -> TorchLogisticRegression:
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=False)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.size != 2:
            raise InputError(f"TorchLogisticRegression is binary; got {self.classes_.size} "
                             "classes")
        if not (isinstance(self.C, (int, float)) and self.C > 0):
            raise InputError(f"C must be a number > 0, got {self.C!r}")
        ratio = {"l1": 1.0, "elasticnet": self.l1_ratio}.get(self.penalty, -1)
        if ratio is None or ratio == -1:
            raise InputError(f"penalty must be 'l1' or 'elasticnet' (with l1_ratio), got "
                             f"{self.penalty!r}")
        dt, dev = torch_dtype(self.dtype, X.dtype), torch_device(self.device)
        y01 = (y == self.classes_[1]).astype(np.float64)
        res = solve(to_tensor(X, dt, dev), to_tensor(y01, dt, dev), 1.0 / (X.shape[0] * self.C),
                    float(ratio), self.solver, loss="logistic", tol=self.tol,
                    max_iter=self.max_iter, fit_intercept=self.fit_intercept,
                    weights=self.weights, positive=self.positive)
        self.coef_ = res.coef.detach().cpu().numpy()[None, :]
        self.intercept_ = np.array([float(res.intercept)])
        self.n_iter_ = np.array([res.n_iter])
        self.dual_gap_ = float(res.gap_abs)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return X @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X: Any) -> np.ndarray:
        p1 = 1 / (1 + np.exp(-self.decision_function(X)))
        return np.c_[1 - p1, p1]

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int)]
