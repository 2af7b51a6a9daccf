"""``TorchLogisticRegression``: scikit-learn's sparse logistic regression over ``solve``.

scikit-learn's convention: ``penalty="l1"`` (or ``"elasticnet"`` with ``l1_ratio``),
``C`` the inverse regularization, minimizing ``C sum_i log(1 + exp(-y_i (x_i^T w + b)))
+ ||w||_1``; that is ``alpha = 1 / (n C)`` in this package's scaling (the mean loss plus
``alpha ||w||_1``), with the intercept unpenalized (as scikit-learn's ``saga``; its
``liblinear`` penalizes it). ``weights`` (per-feature penalty factors) and ``positive``
are passed on. ``tol`` is the relative duality gap.

**K > 2 classes**: the multinomial loss (scikit-learn's current default), ``coef_ (K, p)``,
with ``penalty="l1"``/``"elasticnet"`` or glmnet's ``"grouped"`` (a feature's row across
the classes in or out together): :mod:`lasso_torch.glm.multinomial`. ``sample_weight``
and ``class_weight`` (a dict or ``"balanced"``) weight the rows; then ``alpha = 1 / (C
sum_i s_i)``, so ``C`` means what it means to scikit-learn. ``penalty="group"`` with
``groups`` is the group Lasso (two classes). A sparse ``X`` stays sparse (torch CSR;
the multinomial solver densifies it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import InputError
from ..solve import solve
from .glm import warn_glm
from .inputs import sample_weights, to_tensor, torch_device, torch_dtype


class TorchLogisticRegression(ClassifierMixin, BaseEstimator):
    """L1 / elastic-net / grouped logistic regression, binary or multinomial."""

    def __init__(self, penalty: str = "l1", *, C: float = 1.0, l1_ratio: float | None = None,
                 fit_intercept: bool = True, tol: float = 1e-8, max_iter: int = 1000,
                 solver: str = "auto", class_weight: Any = None, weights: Any = None,
                 positive: bool = False, groups: Any = None, dtype: Any = None,
                 device: Any = None) -> None:
        self.penalty, self.C, self.l1_ratio = penalty, C, l1_ratio
        self.fit_intercept, self.tol = fit_intercept, tol
        self.max_iter, self.solver, self.class_weight = max_iter, solver, class_weight
        self.weights, self.positive, self.groups = weights, positive, groups
        self.dtype, self.device = dtype, device

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _ratio(self) -> float:
        ratio = {"l1": 1.0, "grouped": 1.0, "group": 1.0,
                 "elasticnet": self.l1_ratio}.get(self.penalty, -1)
        if ratio is None or ratio == -1:
            raise InputError(f"penalty must be 'l1', 'elasticnet' (with l1_ratio), 'grouped' "
                             f"or 'group' (with groups), got {self.penalty!r}")
        return float(ratio)

    def _fit_C(self) -> Any:
        return self.C

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> TorchLogisticRegression:
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"],
                             dtype=[np.float64, np.float32], y_numeric=False)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError("This solver needs samples of at least 2 classes in the data, "
                             f"but the data contains only one class: {self.classes_[0]!r}")
        C = self._fit_C()
        if not (isinstance(C, (int, float)) and C > 0):
            raise InputError(f"C must be a number > 0, got {C!r}")
        ratio = self._ratio()
        sw = sample_weights(sample_weight, X)
        sw = np.ones(X.shape[0]) if sw is None else sw
        if self.class_weight is not None:
            sw = sw * compute_sample_weight(self.class_weight, y)
        alpha = 1.0 / (C * float(sw.sum()))
        dt, dev = torch_dtype(self.dtype, X.dtype), torch_device(self.device)
        Xt, swt = to_tensor(X, dt, dev), to_tensor(sw, dt, dev)
        common = dict(tol=self.tol, max_iter=self.max_iter, fit_intercept=self.fit_intercept,
                      sample_weight=swt, warn=False)
        if self.classes_.size > 2:
            codes = np.searchsorted(self.classes_, y).astype(np.float64)
            res = solve(Xt, to_tensor(codes, dt, dev), alpha, ratio, loss="multinomial",
                        penalty="grouped" if self.penalty == "grouped" else "l1", **common)
            self.coef_ = res.coef.detach().cpu().numpy().T
            self.intercept_ = res.intercept.detach().cpu().numpy()
        else:
            y01 = (y == self.classes_[1]).astype(np.float64)
            group = self.penalty == "group"
            res = solve(Xt, to_tensor(y01, dt, dev), alpha, ratio, self.solver,
                        loss="logistic", weights=self.weights, positive=self.positive,
                        penalty="group" if group else None,
                        groups=self.groups if group else None, **common)
            self.coef_ = res.coef.detach().cpu().numpy()[None, :]
            self.intercept_ = np.array([float(res.intercept)])
        warn_glm(res, type(self).__name__)
        self.n_iter_ = np.array([res.n_iter])
        self.dual_gap_ = float(res.gap_abs)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=["csr", "csc"],
                          dtype=[np.float64, np.float32])
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, X: Any) -> np.ndarray:
        d = self.decision_function(X)
        if d.ndim == 2:
            return softmax(d, axis=1)
        p1 = 1 / (1 + np.exp(-d))
        return np.c_[1 - p1, p1]

    def predict_log_proba(self, X: Any) -> np.ndarray:
        return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        d = self.decision_function(X)
        if d.ndim == 2:
            return self.classes_[d.argmax(1)]
        return self.classes_[(d > 0).astype(int)]
