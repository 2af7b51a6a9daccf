"""sample_weight everywhere: lt.solve, lt.lasso_path, CV (folds times weights) and the
estimators equal scikit-learn's weighted results to 1e-6 relative at tight tolerance."""

import numpy as np
import pytest
import torch

sklearn = pytest.importorskip("sklearn")

from sklearn.linear_model import ElasticNet, ElasticNetCV, Lasso, enet_path  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402

import lasso_torch as lt  # noqa: E402
from lasso_torch.sklearn import TorchElasticNet, TorchElasticNetCV, TorchLasso  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def data(n=80, p=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1:] += 0.4 * X[:, :-1]
    beta = np.zeros(p)
    beta[:6] = rng.choice([-1.5, 1.5], 6)
    y = X @ beta + rng.standard_normal(n) + 2.0
    return X, y, rng.uniform(0.1, 5.0, n)


def sk(est):
    return est.set_params(tol=1e-14, max_iter=1_000_000)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_estimators_match_sklearn_weighted(l1_ratio, fit_intercept):
    X, y, s = data()
    ref = sk(ElasticNet(alpha=0.05, l1_ratio=l1_ratio, fit_intercept=fit_intercept))
    ref.fit(X, y, sample_weight=s)
    ours = TorchElasticNet(alpha=0.05, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                           tol=1e-12, max_iter=100_000).fit(X, y, sample_weight=s)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-9)
    assert isinstance(ours.intercept_, float)


@pytest.mark.parametrize("solver", ["fista", "cd", "ws"])
def test_solve_weights_match_sklearn(solver):
    X, y, s = data()
    ref = sk(Lasso(alpha=0.05)).fit(X, y, sample_weight=s)
    res = lt.solve(X, y, 0.05, 1.0, solver, tol=1e-13, max_iter=200_000, sample_weight=s)
    np.testing.assert_allclose(res.coef.numpy(), ref.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(float(res.intercept), ref.intercept_, rtol=1e-6)


def test_weights_are_repetitions_and_zero_rows_drop():
    X, y, s = data()
    k = np.arange(len(y)) % 3  # integer weights 0, 1, 2
    a = TorchLasso(alpha=0.05, tol=1e-12).fit(X, y, sample_weight=k)
    b = TorchLasso(alpha=0.05, tol=1e-12).fit(np.repeat(X, k, 0), np.repeat(y, k))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-10)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-10)


@pytest.mark.parametrize("strategy", ["batched", "warm"])
def test_path_weights_match_sklearn(strategy):
    X, y, s = data()
    alphas = np.geomspace(0.5, 0.01, 6)
    res = lt.lasso_path(X, y, alphas=alphas, tol=1e-13, strategy=strategy, sample_weight=s)
    for k, a in enumerate(alphas):
        ref = sk(Lasso(alpha=a)).fit(X, y, sample_weight=s)
        np.testing.assert_allclose(res.coefs[:, k].numpy(), ref.coef_, rtol=1e-6, atol=1e-9)
    # scikit-learn's enet_path has no intercept: compare through the path method
    _, coefs, _ = TorchLasso.path(X, y, alphas=alphas, tol=1e-12)
    _, ref, _ = enet_path(X, y, l1_ratio=1.0, alphas=alphas, tol=1e-12, max_iter=100_000)
    np.testing.assert_allclose(coefs, ref, rtol=1e-6, atol=1e-9)


def test_cv_weights_match_sklearn():
    X, y, s = data()
    cv = KFold(4, shuffle=True, random_state=0)
    ref = ElasticNetCV(alphas=8, cv=cv, tol=1e-12, max_iter=1_000_000).fit(X, y, s)
    ours = TorchElasticNetCV(alphas=8, cv=cv, tol=1e-12).fit(X, y, s)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert ours.alpha_ == ref.alpha_
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-9)


def test_cv_folds_are_weights_of_one_batched_path():
    from lasso_torch.cv import cross_validate, kfold_masks

    X, y, s = data()
    alphas = np.geomspace(0.5, 0.01, 5)
    M = kfold_masks(len(y), 3)
    a = cross_validate(X, y, alphas, masks=M, tol=1e-12, sample_weight=s)
    b = cross_validate(X, y, alphas, masks=M, tol=1e-12, sample_weight=s, strategy="warm",
                       solver="ws")
    np.testing.assert_allclose(a.mse_path, b.mse_path, rtol=1e-8)
    assert torch.is_tensor(torch.as_tensor(a.mse_path))


def test_sample_weight_not_modified_and_checked():
    X, y, s = data()
    keep = s.copy()
    TorchLasso(alpha=0.1).fit(X, y, sample_weight=s)
    np.testing.assert_array_equal(s, keep)
    with pytest.raises(ValueError):
        TorchLasso(alpha=0.1).fit(X, y, sample_weight=-s)
