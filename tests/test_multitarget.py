"""y (n, T): T targets solved together (one (p, T) iterate, a gap per target) equal T
separate fits, in lt.solve and in the estimators."""

import numpy as np
import pytest
import torch

import lasso_torch as lt
from lasso_torch.datafits import Quadratic

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def data(n=60, p=25, T=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    B = np.zeros((p, T))
    B[:4] = rng.standard_normal((4, T)) * 2
    Y = X @ B + 0.3 * rng.standard_normal((n, T)) + np.arange(T)
    return torch.tensor(X), torch.tensor(Y), torch.tensor(rng.uniform(0.3, 2, n))


@pytest.mark.parametrize("solver", ["fista", "cd", "ws"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_targets_equal_separate_fits(solver, weighted, fit_intercept):
    X, Y, s = data()
    kw = dict(tol=1e-13, max_iter=100_000, sample_weight=s if weighted else None,
              fit_intercept=fit_intercept, warn=False)
    both = lt.solve(X, Y, 0.05, 0.7, solver, **kw)
    assert both.coef.shape == (25, 3) and both.gap.shape == (3,)
    assert both.n_iters is not None and len(both.n_iters) == 3
    for t in range(3):
        one = lt.solve(X, Y[:, t], 0.05, 0.7, solver, **kw)
        assert float((both.coef[:, t] - one.coef).abs().max()) <= 1e-9
        assert abs(float(both.intercept[t] - one.intercept)) <= 1e-9
        assert float(both.gap[t]) <= 1e-13


def test_datafit_targets_are_columns():
    X, Y, s = data()
    W = torch.randn(25, 3, dtype=torch.float64)
    for rw in (None, s):
        df = Quadratic(X, Y, row_weights=rw, gram=False)
        for t in range(3):
            one = Quadratic(X, Y[:, t], row_weights=rw, gram=False)
            torch.testing.assert_close(df.gradient(W)[:, t], one.gradient(W[:, t]))
            torch.testing.assert_close(df.intercept(W)[t], one.intercept(W[:, t]))
            torch.testing.assert_close(df.p0[t], one.p0)
        sub = df.columns(torch.tensor([2, 0]))  # a retired batch: targets 2 and 0
        torch.testing.assert_close(sub.gradient(W[:, [2, 0]]), df.gradient(W)[:, [2, 0]])


def test_estimator_two_d_y_equals_separate_fits():
    from lasso_torch.sklearn import TorchElasticNet, TorchLasso

    X, Y, s = (a.numpy() for a in data())
    for est in (TorchLasso(alpha=0.05, tol=1e-12), TorchElasticNet(alpha=0.05, tol=1e-12)):
        est.fit(X, Y, sample_weight=s)
        assert est.coef_.shape == (3, 25) and est.intercept_.shape == (3,)
        assert len(est.n_iter_) == 3 and est.dual_gap_.shape == (3,)
        coef, inter = est.coef_.copy(), est.intercept_.copy()
        for t in range(3):
            est.fit(X, Y[:, t], sample_weight=s)
            np.testing.assert_allclose(coef[t], est.coef_, atol=1e-9)
            np.testing.assert_allclose(inter[t], est.intercept_, atol=1e-9)
        np.testing.assert_allclose(est.predict(X[:2]).shape, (2,))
