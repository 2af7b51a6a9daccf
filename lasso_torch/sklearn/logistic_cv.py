"""``TorchLogisticRegressionCV``: ``C`` chosen by cross-validated deviance.

For each fold (scikit-learn's ``StratifiedKFold`` for an int ``cv``, or any splitter) the
grid of ``Cs`` (an int: ``np.logspace(-4, 4, Cs)`` as scikit-learn's) is solved from the
largest penalty down with warm starts: the binary loss as one
:func:`lasso_torch.lasso_path` (``alpha = 1 / (C sum_train s)``, the compiled
``prox_newton`` warm), the multinomial one as ``lasso_path(loss="multinomial")`` (the
compiled multinomial Newton, warm). The
criterion is the held-out deviance (the weighted mean log-loss; glmnet's
``type.measure="deviance"``), not scikit-learn's default accuracy; ``scores_`` holds its
negative per ``C`` (higher is better, as scikit-learn's ``neg_log_loss``). The model is then
refit on all rows at the best ``C_``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse as scipy_sparse
from scipy.special import log_expit, log_softmax
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ..path import lasso_path
from .inputs import sample_weights
from .logistic import TorchLogisticRegression


class TorchLogisticRegressionCV(TorchLogisticRegression):
    """Sparse logistic regression with ``C`` chosen by K-fold cross-validated deviance."""

    def __init__(self, *, Cs: Any = 10, cv: Any = 5, penalty: str = "l1",
                 l1_ratio: float | None = None, fit_intercept: bool = True, tol: float = 1e-8,
                 max_iter: int = 1000, solver: str = "auto", class_weight: Any = None,
                 dtype: Any = None, device: Any = None) -> None:
        super().__init__(penalty, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=tol,
                         max_iter=max_iter, solver=solver, class_weight=class_weight,
                         dtype=dtype, device=device)
        self.Cs, self.cv = Cs, cv

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> TorchLogisticRegressionCV:
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"],
                             dtype=[np.float64, np.float32], y_numeric=False)
        check_classification_targets(y)
        if scipy_sparse.issparse(X):
            X = X.toarray()
        classes = np.unique(y)
        Cs = np.logspace(-4, 4, self.Cs) if isinstance(self.Cs, (int, np.integer)) else (
            np.asarray(self.Cs, dtype=float))
        Cs = np.sort(Cs)  # smallest C = largest penalty first: the warm order
        sw = sample_weights(sample_weight, X)
        sw = np.ones(len(y)) if sw is None else sw
        if self.class_weight is not None:
            sw = sw * compute_sample_weight(self.class_weight, y)
        cv = check_cv(StratifiedKFold(self.cv) if isinstance(self.cv, int) else self.cv, y,
                      classifier=True)
        codes = np.searchsorted(classes, y)
        dev = np.zeros((len(Cs), 0))
        for train, test in cv.split(X, y):
            d = self._fold(X, codes, sw, train, test, Cs, classes.size, self._ratio())
            dev = np.c_[dev, d]
        self.Cs_, self.scores_ = Cs, -dev.mean(1)
        best = int(np.argmax(self.scores_))
        self._best_C = float(Cs[best])
        super().fit(X, y, sample_weight)
        self.C_ = np.full(1 if classes.size == 2 else classes.size, Cs[best])
        return self

    def _fit_C(self) -> float:
        return self._best_C

    def _fold(self, X: np.ndarray, codes: np.ndarray, sw: np.ndarray, train: np.ndarray,
              test: np.ndarray, Cs: np.ndarray, K: int, ratio: float) -> np.ndarray:
        """The held-out deviance of every C on one fold."""
        Xtr, Xte, s = X[train], X[test], sw[train]
        alphas = 1.0 / (Cs * s.sum())
        opts = dict(tol=self.tol, fit_intercept=self.fit_intercept, sample_weight=s)
        if K == 2:
            path = lasso_path(Xtr, (codes[train] == 1).astype(float), alphas=alphas,
                              l1_ratio=ratio, loss="logistic", max_iter=self.max_iter,
                              strategy="warm", **opts)
            W, b = path.coefs.numpy(), path.intercepts.numpy()
            eta = Xte @ W + b  # (n_test, len(Cs))
            sign = np.where(codes[test] == 1, 1.0, -1.0)[:, None]
            loss = -log_expit(sign * eta)
        else:  # the warm multinomial path: coefs (p, K, len(Cs))
            path = lasso_path(Xtr, codes[train].astype(float), alphas=alphas, l1_ratio=ratio,
                              loss="multinomial", max_iter=self.max_iter, warn=False,
                              penalty="grouped" if self.penalty == "grouped" else "l1", **opts)
            W, b = path.coefs.numpy(), path.intercepts.numpy()
            lp = log_softmax(np.einsum("np,pka->nka", Xte, W) + b, axis=1)
            loss = -lp[np.arange(len(test)), codes[test]]  # (n_test, len(Cs))
        st = sw[test][:, None]
        return (st * loss).sum(0) / st.sum()
