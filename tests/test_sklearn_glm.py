"""The GLM estimators: scikit-learn's estimator checks, agreement with scikit-learn
(PoissonRegressor at l1_ratio 0, LogisticRegression multinomial and class_weight with
saga), sample weights as repeated rows, and scikit-learn's ConvergenceWarning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression, PoissonRegressor  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from lasso_torch.sklearn import (  # noqa: E402
    TorchGammaRegressor,
    TorchHuberRegressor,
    TorchLogisticRegression,
    TorchLogisticRegressionCV,
    TorchPoissonRegressor,
    TorchTweedieRegressor,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@parametrize_with_checks([  # tol 1e-10: the compiled multinomial Newton is cheap there
    TorchLogisticRegression(C=10.0, tol=1e-10), TorchPoissonRegressor(alpha=0.01),
    TorchGammaRegressor(alpha=0.01), TorchTweedieRegressor(alpha=0.01),
    TorchHuberRegressor(), TorchLogisticRegressionCV(Cs=[0.1, 1.0], cv=2, tol=1e-10)])
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def _data(seed=0, n=120, p=5):
    rng = np.random.default_rng(seed)
    return rng, rng.standard_normal((n, p))


def test_poisson_with_l1_ratio_0_is_sklearns():
    rng, X = _data()
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1]))
    a = TorchPoissonRegressor(alpha=0.1, l1_ratio=0.0, tol=1e-12).fit(X, y)
    b = PoissonRegressor(alpha=0.1, tol=1e-12, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-6)


def _saga(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegression(penalty="l1", solver="saga", tol=1e-12, max_iter=100_000,
                                  **kw)


def test_multinomial_and_class_weight_equal_sklearn():
    rng, X = _data(1)
    y3 = np.digitize(X[:, 0] + 0.5 * rng.standard_normal(len(X)), [-0.5, 0.5])
    ours = TorchLogisticRegression(C=0.5, tol=1e-11).fit(X, y3)
    ref = _saga(C=0.5).fit(X, y3)
    assert ours.coef_.shape == (3, 5)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    y2 = (X[:, 1] + rng.standard_normal(len(X)) > 1.0).astype(int)  # imbalanced
    ours = TorchLogisticRegression(C=0.3, class_weight="balanced", tol=1e-11).fit(X, y2)
    ref = _saga(C=0.3, class_weight="balanced").fit(X, y2)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)


def test_sample_weight_is_repeated_rows():
    rng, X = _data(2, n=60)
    y = (X[:, 0] + rng.standard_normal(60) > 0).astype(int)
    k = rng.integers(1, 4, 60)
    a = TorchLogisticRegression(C=1.0, tol=1e-12).fit(X, y, sample_weight=k)
    b = TorchLogisticRegression(C=1.0, tol=1e-12).fit(np.repeat(X, k, 0), np.repeat(y, k))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)


def test_warnings_are_sklearns_convergence_warning():
    rng, X = _data(3)
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    # "max_iter" (main's loop says "diverged" here: it compares the objective, floor
    # included, with P(0) above the floor; reported to the lead)
    with pytest.warns(ConvergenceWarning, match="max_iter|diverged"):
        TorchPoissonRegressor(alpha=1e-3, max_iter=1, tol=1e-14).fit(X, y)


def test_logistic_cv_picks_the_best_deviance_and_refits():
    from sklearn.model_selection import StratifiedKFold

    rng, X = _data(4, n=150, p=8)
    y = (X[:, 0] - X[:, 1] + rng.standard_normal(150) > 0).astype(int)
    Cs = [0.01, 0.1, 1.0]
    cv = TorchLogisticRegressionCV(Cs=Cs, cv=3).fit(X, y)
    scores = []
    for C in Cs:  # the held-out mean log-loss, by hand
        dev = []
        for tr, te in StratifiedKFold(3).split(X, y):
            p = TorchLogisticRegression(C=C).fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
            dev.append(-np.mean(np.where(y[te] == 1, np.log(p), np.log1p(-p))))
        scores.append(-np.mean(dev))
    np.testing.assert_allclose(cv.scores_, scores, rtol=1e-5)
    best = Cs[int(np.argmax(scores))]
    assert cv.C_[0] == best
    np.testing.assert_allclose(cv.coef_, TorchLogisticRegression(C=best).fit(X, y).coef_,
                               atol=1e-8)


def test_sparse_X_equals_dense():
    from scipy import sparse

    rng, X = _data(5, n=80, p=6)
    X[np.abs(X) < 0.7] = 0.0
    y = (X[:, 0] + 0.5 * rng.standard_normal(80) > 0).astype(int)
    a = TorchLogisticRegression(C=1.0, tol=1e-10).fit(sparse.csr_matrix(X), y)
    b = TorchLogisticRegression(C=1.0, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)
    yc = rng.poisson(np.exp(0.4 * X[:, 1]))
    a = TorchPoissonRegressor(alpha=0.01, tol=1e-10).fit(sparse.csr_matrix(X), yc)
    b = TorchPoissonRegressor(alpha=0.01, tol=1e-10).fit(X, yc)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)
