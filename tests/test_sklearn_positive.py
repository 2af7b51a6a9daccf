"""``positive=True`` in the estimators: ``lt.solve(positive=True)`` (the bounded penalty of
:mod:`lasso_torch.weighted`) against scikit-learn's ``positive=True``, with every fit
argument (``sample_weight``, ``precompute``, sparse ``X``, ``y (n, T)``, ``warm_start``),
the CV estimators, the ``path`` method, and the certificate (the positive problem's gap)."""

import warnings

import numpy as np
import pytest
from scipy import sparse

pytest.importorskip("sklearn")

from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.linear_model import ElasticNet, ElasticNetCV, Lasso, LassoCV  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402

from lasso_torch.sklearn import (  # noqa: E402
    TorchElasticNet,
    TorchElasticNetCV,
    TorchLasso,
    TorchLassoCV,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TIGHT = dict(tol=1e-14, max_iter=1_000_000)


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


def data(n=60, p=25, T=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = rng.standard_normal((p,) if T is None else (p, T))
    return X, X @ w + 0.3 * rng.standard_normal((n,) if T is None else (n, T))


def close(ours, ref, rtol=1e-6):
    """Coefficients equal to ``rtol`` relative to the largest one."""
    scale = np.abs(ref).max()
    np.testing.assert_allclose(ours, ref, rtol=0, atol=rtol * scale)


def objective(X, y, w, b, alpha, l1_ratio, s=None):
    s = np.ones(len(y)) if s is None else s * len(y) / s.sum()
    r = y - X @ w - b
    return (s * r * r).sum() / (2 * len(y)) + alpha * (
        l1_ratio * np.abs(w).sum() + (1 - l1_ratio) / 2 * w @ w)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
def test_positive_matches_sklearn(diabetes, l1_ratio):
    X, y = diabetes
    with warnings.catch_warnings():  # l1_ratio=0: scikit-learn's ridge gap ignores w >= 0
        warnings.simplefilter("ignore")
        ref = ElasticNet(alpha=0.01, l1_ratio=l1_ratio, positive=True, **TIGHT).fit(X, y)
    ours = TorchElasticNet(alpha=0.01, l1_ratio=l1_ratio, positive=True, **TIGHT).fit(X, y)
    assert ours.status_ == "converged" and (ours.coef_ >= 0).all()
    assert np.array_equal(ours.coef_ == 0, ref.coef_ == 0)
    close(ours.coef_, ref.coef_)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-9)


def test_dual_gap_is_the_positive_problems(diabetes):
    """``dual_gap_`` bounds the positive problem's suboptimality (not the unconstrained
    one's); for the Lasso it is scikit-learn's number (its formula with the one-sided dual
    norm ``max_j x_j^T r / n``) at the same coefficients."""
    X, y = diabetes
    n = len(y)
    best = Lasso(alpha=0.05, positive=True, **TIGHT).fit(X, y)
    p_star = objective(X, y, best.coef_, best.intercept_, 0.05, 1.0)
    loose = TorchLasso(alpha=0.05, positive=True, tol=1e-3, solver="fista").fit(X, y)
    w, b = loose.coef_, loose.intercept_
    gap = loose.dual_gap_
    assert 0 <= objective(X, y, w, b, 0.05, 1.0) - p_star <= gap
    Xc, yc = X - X.mean(0), y - y.mean()
    r = yc - Xc @ w
    one_sided = (Xc.T @ r).max() / n
    s = min(1.0, 0.05 / one_sided)
    sk_gap = (0.5 * (1 + s * s) * r @ r / n + 0.05 * np.abs(w).sum() - s * r @ yc / n)
    assert gap == pytest.approx(sk_gap, rel=1e-9)
    two_sided = np.abs(Xc.T @ r).max() / n
    assert two_sided > one_sided  # the unconstrained gap would be another number


def test_positive_elastic_net_gap_bounds_suboptimality(diabetes):
    X, y = diabetes
    best = ElasticNet(alpha=0.01, l1_ratio=0.5, positive=True, **TIGHT).fit(X, y)
    p_star = objective(X, y, best.coef_, best.intercept_, 0.01, 0.5)
    for tol in (1e-2, 1e-4, 1e-8):
        est = TorchElasticNet(alpha=0.01, l1_ratio=0.5, positive=True, tol=tol).fit(X, y)
        sub = objective(X, y, est.coef_, est.intercept_, 0.01, 0.5) - p_star
        assert -1e-9 <= sub <= est.dual_gap_ + 1e-9
        assert est.dual_gap_ <= tol * ((y - y.mean()) ** 2).sum() / len(y)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
def test_positive_with_sample_weight_matches_sklearn(l1_ratio):
    X, y = data()
    sw = np.random.default_rng(1).uniform(0, 3, len(y))
    sw[:5] = 0
    ref = ElasticNet(alpha=0.05, l1_ratio=l1_ratio, positive=True, **TIGHT).fit(
        X, y, sample_weight=sw)
    ours = TorchElasticNet(alpha=0.05, l1_ratio=l1_ratio, positive=True, **TIGHT).fit(
        X, y, sample_weight=sw)
    assert (ours.coef_ >= 0).all() and np.array_equal(ours.coef_ == 0, ref.coef_ == 0)
    close(ours.coef_, ref.coef_)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6 * np.abs(ref.coef_).max())


@pytest.mark.parametrize("solver", ["auto", "fista", "ws"])
def test_positive_sparse_equals_dense(solver):
    X, y = data(n=50, p=30)
    X[np.abs(X) < 0.8] = 0
    dense = TorchLasso(alpha=0.05, positive=True, **TIGHT).fit(X, y)
    for fmt in (sparse.csr_matrix, sparse.csc_matrix):
        sp = TorchLasso(alpha=0.05, positive=True, solver=solver, **TIGHT).fit(fmt(X), y)
        assert np.array_equal(sp.coef_ == 0, dense.coef_ == 0)
        close(sp.coef_, dense.coef_, 1e-8)


def test_positive_two_targets_equal_separate_fits():
    X, Y = data(T=3)
    both = TorchElasticNet(alpha=0.05, l1_ratio=0.8, positive=True, **TIGHT).fit(X, Y)
    assert both.coef_.shape == (3, X.shape[1]) and (both.coef_ >= 0).all()
    ref = ElasticNet(alpha=0.05, l1_ratio=0.8, positive=True, **TIGHT).fit(X, Y)
    for t in range(3):
        one = TorchElasticNet(alpha=0.05, l1_ratio=0.8, positive=True, **TIGHT).fit(X, Y[:, t])
        close(both.coef_[t], one.coef_, 1e-10)
        close(both.coef_[t], ref.coef_[t])


def test_positive_with_precompute_and_warm_start(diabetes):
    X, y = diabetes
    Xc = X - X.mean(0)
    a = TorchLasso(alpha=0.05, positive=True, precompute=Xc.T @ Xc, **TIGHT).fit(Xc, y)
    b = TorchLasso(alpha=0.05, positive=True, precompute=True, **TIGHT).fit(Xc, y)
    c = TorchLasso(alpha=0.05, positive=True, **TIGHT).fit(Xc, y)
    close(a.coef_, c.coef_, 1e-10)
    close(b.coef_, c.coef_, 1e-10)
    # warm start from an unconstrained fit: its negative entries are not a feasible start
    est = TorchLasso(alpha=0.05, warm_start=True, **TIGHT).fit(X, y)
    assert (est.coef_ < 0).any()
    est.set_params(positive=True).fit(X, y)
    close(est.coef_, c.coef_, 1e-10)
    assert est.fit(X, y).n_iter_ == 0  # already within tol


def test_positive_alpha_zero_is_non_negative_least_squares():
    X, y = data(n=40, p=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Lasso(alpha=0, positive=True, tol=1e-14, max_iter=100_000).fit(X, y)
        ours = TorchLasso(alpha=0, positive=True).fit(X, y)
    assert (ours.coef_ >= 0).all() and (ours.coef_ == 0).any()
    close(ours.coef_, ref.coef_)


@pytest.mark.parametrize("cls, ref_cls, extra", [
    (TorchLassoCV, LassoCV, {}),
    (TorchElasticNetCV, ElasticNetCV, {"l1_ratio": [0.5, 0.9]}),
])
def test_positive_cv_matches_sklearn(diabetes, cls, ref_cls, extra):
    X, y = diabetes
    kw = dict(alphas=8, cv=KFold(3), positive=True, tol=1e-14, max_iter=1_000_000, **extra)
    ours, ref = cls(**kw).fit(X, y), ref_cls(**kw).fit(X, y)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert ours.alpha_ == pytest.approx(ref.alpha_) and (ours.coef_ >= 0).all()
    close(ours.coef_, ref.coef_)


def test_positive_path_method(diabetes):
    X, y = diabetes
    Xc, yc = X - X.mean(0), y - y.mean()
    alphas, coefs, gaps = TorchLasso.path(Xc, yc, positive=True, alphas=[1.0, 0.1, 0.01],
                                          tol=1e-12)
    assert (coefs >= 0).all() and coefs.shape == (10, 3)
    for k, a in enumerate(alphas):
        ref = Lasso(alpha=a, positive=True, fit_intercept=False, **TIGHT).fit(Xc, yc)
        close(coefs[:, k], ref.coef_, 1e-6)
    with pytest.raises(ValueError, match="multi-output"):
        TorchLasso.path(Xc, np.stack([yc, yc], 1), positive=True)


@pytest.mark.parametrize("solver", ["cd", "ws", "fista"])
def test_solve_keeps_the_constraint_per_target(solver):
    """``y (n, T)`` with a solver of one column at a time: every target's solve is positive
    (the per-target loop once dropped ``positive``)."""
    import lasso_torch as lt

    X, Y = data(T=2)
    res = lt.solve(X, Y, 0.05, solver=solver, positive=True, tol=1e-12)
    assert res.coef.shape == (X.shape[1], 2) and bool((res.coef >= 0).all())
    for t in range(2):
        one = lt.solve(X, Y[:, t], 0.05, solver=solver, positive=True, tol=1e-12)
        close(res.coef[:, t].numpy(), one.coef.numpy(), 1e-9)


def test_positive_wide_data_is_solved_without_a_gram_matrix(monkeypatch):
    """Beyond 4096 features ``positive=True`` runs ``fista`` (the positive CD would form a
    p x p Gram matrix), still scikit-learn's answer."""
    import lasso_torch.sklearn.estimators as est

    monkeypatch.setattr(est, "SPARSE_GRAM_MAX", 40)
    ran, real = [], est.solve
    monkeypatch.setattr(est, "solve", lambda *a, **k: ran.append(a[4]) or real(*a, **k))
    X, y = data(n=30, p=60)
    ours = TorchLasso(alpha=0.05, positive=True, tol=1e-12, max_iter=1_000_000).fit(X, y)
    assert ran == ["fista"]
    ref = Lasso(alpha=0.05, positive=True, **TIGHT).fit(X, y)
    close(ours.coef_, ref.coef_, 1e-6)
