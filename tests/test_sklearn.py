"""scikit-learn estimators: the estimator checks, agreement with scikit-learn, CV, pipelines."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

sklearn = pytest.importorskip("sklearn")

from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import ElasticNet, ElasticNetCV, Lasso, LassoCV, Ridge  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from lasso_torch import InputError  # noqa: E402
from lasso_torch.sklearn import (  # noqa: E402
    TorchElasticNet,
    TorchElasticNetCV,
    TorchLasso,
    TorchLassoCV,
    TorchRidge,
)

# Checks skipped, with the reason (none of ours fails; scikit-learn skips one by itself):
# - check_array_api_input: scikit-learn skips it unless the environment variable
#   SCIPY_ARRAY_API=1 is set; these estimators take and return numpy (they declare no
#   array-API support), the torch tensors stay inside ``fit``.


pytestmark = pytest.mark.usefixtures("one_torch_thread")


ESTIMATORS = [
    TorchLasso(), TorchElasticNet(), TorchRidge(),
    TorchLassoCV(alphas=5, cv=3), TorchElasticNetCV(alphas=5, cv=3),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_import_lasso_torch_does_not_import_sklearn():
    code = "import sys, lasso_torch; assert 'sklearn' not in sys.modules, 'sklearn imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y


def simulated(n=40, p=120, seed=0):
    """A p > n problem with a sparse truth and correlated features."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1:] += 0.5 * X[:, :-1]
    beta = np.zeros(p)
    beta[rng.choice(p, 8, replace=False)] = rng.choice([-2.0, 2.0], 8)
    y = X @ beta + rng.standard_normal(n) + 3.0
    return X, y


# --- single fits agree with scikit-learn -------------------------------------------------
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("solver", ["fista", "cd"])
def test_lasso_and_enet_match_sklearn(diabetes, fit_intercept, solver):
    X, y = diabetes
    kw = dict(fit_intercept=fit_intercept, tol=1e-12, max_iter=100_000)
    for alpha in (0.01, 0.3):
        ours = TorchLasso(alpha, solver=solver, **kw).fit(X, y)
        ref = Lasso(alpha=alpha, **kw).fit(X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6 * np.abs(ref.coef_).max())
        assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-8, abs=1e-8)
        assert np.array_equal(ours.coef_ == 0, ref.coef_ == 0)
        ours = TorchElasticNet(alpha, l1_ratio=0.4, solver=solver, **kw).fit(X, y)
        ref = ElasticNet(alpha=alpha, l1_ratio=0.4, **kw).fit(X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6 * np.abs(ref.coef_).max())
        np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-7)
        assert ours.n_iter_ >= 1 and 0 <= ours.dual_gap_ <= 1e-12 * (y - y.mean()) @ y


def test_ridge_is_sklearn_ridge_with_n_alpha(diabetes):
    X, y = diabetes
    ours = TorchRidge(alpha=0.05, tol=1e-14, max_iter=100_000).fit(X, y)
    ref = Ridge(alpha=0.05 * X.shape[0]).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-9)


def test_dtype_and_device_follow_the_parameters(diabetes):
    X, y = diabetes
    assert TorchLasso(0.1).fit(X.astype(np.float32), y).coef_.dtype == np.float32
    assert TorchLasso(0.1).fit(X, y).coef_.dtype == np.float64
    assert TorchLasso(0.1, dtype="float32").fit(X, y).coef_.dtype == np.float32
    assert TorchLasso(0.1, dtype=torch.float64).fit(X.astype(np.float32), y).coef_.dtype \
        == np.float64
    with pytest.raises(InputError, match="dtype"):
        TorchLasso(dtype="int8").fit(X, y)
    with pytest.raises(InputError, match="device"):
        TorchLasso(device="nodevice").fit(X, y)
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA is not available"):
            TorchLassoCV(device="cuda").fit(X, y)
    with pytest.raises(InputError, match="unknown solver"):
        TorchLasso(solver="fitsa").fit(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_matches_cpu(diabetes):
    X, y = diabetes
    cpu = TorchLasso(0.1, tol=1e-10).fit(X, y)
    gpu = TorchLasso(0.1, tol=1e-10, device="cuda").fit(X, y)
    assert isinstance(gpu.coef_, np.ndarray)
    np.testing.assert_allclose(gpu.coef_, cpu.coef_, atol=1e-6)
    cv = TorchLassoCV(alphas=20, cv=KFold(5), tol=1e-8, device="cuda").fit(X, y)
    ref = LassoCV(alphas=20, cv=KFold(5), tol=1e-10, max_iter=100_000).fit(X, y)
    assert cv.alpha_ == ref.alpha_


def test_convergence_warning_gives_the_gap(diabetes):
    X, y = diabetes
    with pytest.warns(ConvergenceWarning, match=r"Objective did not converge.*Duality gap: .*"
                      r"max_iter after 3 iterations"):
        est = TorchLasso(0.01, max_iter=3).fit(X, y)
    assert est.status_ == "max_iter" and est.n_iter_ == 3 and est.dual_gap_ > 0


# --- cross-validation agrees with LassoCV / ElasticNetCV ---------------------------------
def assert_same_cv(ours, ref):
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert ours.alpha_ == ref.alpha_
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6 * np.abs(ref.coef_).max())


@pytest.mark.parametrize("data", ["diabetes", "p>n"])
def test_lasso_cv_matches_sklearn(diabetes, data):
    X, y = diabetes if data == "diabetes" else simulated()
    folds = KFold(5, shuffle=True, random_state=0)
    ours = TorchLassoCV(alphas=30, cv=folds, tol=1e-12, max_iter=200_000).fit(X, y)
    ref = LassoCV(alphas=30, cv=folds, tol=1e-12, max_iter=200_000).fit(X, y)
    assert ours.mse_path_.shape == (30, 5)
    assert_same_cv(ours, ref)


def test_enet_cv_with_l1_ratio_list_and_explicit_alphas_matches_sklearn(diabetes):
    X, y = diabetes
    folds = list(KFold(4, shuffle=True, random_state=1).split(X))
    kw = dict(l1_ratio=[0.2, 0.9], cv=folds, tol=1e-12, max_iter=200_000)
    ours = TorchElasticNetCV(alphas=12, **kw).fit(X, y)
    ref = ElasticNetCV(alphas=12, **kw).fit(X, y)
    assert ours.mse_path_.shape == (2, 12, 4) and ours.alphas_.shape == (2, 12)
    assert ours.l1_ratio_ == ref.l1_ratio_
    assert_same_cv(ours, ref)
    grid = [0.01, 1.0, 0.1]  # unsorted on purpose: both sort in decreasing order
    kw = dict(l1_ratio=[0.0, 0.5], alphas=grid, cv=folds, tol=1e-12, max_iter=10**6)
    ours = TorchElasticNetCV(**kw).fit(X, y)  # ridge included: an explicit grid allows it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns that CD is slow for l1_ratio=0
        ref = ElasticNetCV(**kw).fit(X, y)
    assert ours.alphas_.shape == (3,) and ours.mse_path_.shape == (2, 3, 4)
    assert ours.l1_ratio_ == ref.l1_ratio_
    assert_same_cv(ours, ref)


def test_cv_in_a_pipeline_and_in_grid_search(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), TorchLassoCV(alphas=10, cv=3, tol=1e-10))
    ref = make_pipeline(StandardScaler(), LassoCV(alphas=10, cv=3, tol=1e-10, max_iter=10**5))
    pipe.fit(X, y)
    ref.fit(X, y)
    assert pipe[-1].alpha_ == ref[-1].alpha_
    np.testing.assert_allclose(pipe.predict(X), ref.predict(X), rtol=1e-6)
    search = GridSearchCV(make_pipeline(StandardScaler(), TorchLasso(tol=1e-10)),
                          {"torchlasso__alpha": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
    ref = GridSearchCV(make_pipeline(StandardScaler(), Lasso(tol=1e-10, max_iter=10**5)),
                       {"lasso__alpha": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
    assert search.best_params_["torchlasso__alpha"] == ref.best_params_["lasso__alpha"]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               ref.cv_results_["mean_test_score"], rtol=1e-7)


def test_cv_rejects_a_ridge_grid(diabetes):
    X, y = diabetes
    with pytest.raises(InputError, match="not supported for l1_ratio=0"):
        TorchElasticNetCV(l1_ratio=0.0, alphas=5).fit(X, y)


@pytest.mark.filterwarnings("ignore:cd did not converge")  # tol 1e-14 may stall at float64's
@settings(max_examples=15, deadline=None)                    # precision; the asserts decide
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 100.0), shift=st.floats(-50, 50),
       frac=st.floats(0.02, 0.9))
def test_lasso_scales_with_y_and_ignores_shifts_of_y(seed, scale, shift, frac):
    """P(w) for (c y + s, c alpha) is c^2 P(w / c) for (y, alpha): the solution scales by
    c, and a shift of y only moves the intercept."""
    X, y = simulated(n=30, p=12, seed=seed)
    alpha = frac * np.abs((X - X.mean(0)).T @ (y - y.mean())).max() / len(y)
    base = TorchLasso(alpha, solver="cd", tol=1e-14, max_iter=100_000).fit(X, y)
    moved = TorchLasso(scale * alpha, solver="cd", tol=1e-14, max_iter=100_000).fit(
        X, scale * y + shift)
    np.testing.assert_allclose(moved.coef_, scale * base.coef_, rtol=1e-7,
                               atol=1e-9 * scale * np.abs(base.coef_).max())
    assert np.array_equal(moved.coef_ == 0, base.coef_ == 0)
    assert moved.intercept_ == pytest.approx(scale * base.intercept_ + shift, rel=1e-7,
                                             abs=1e-7 * scale)


# --- scikit-learn's parameters and behaviours ----------------------------------------------
def test_attributes_path_and_alpha_zero(diabetes):
    X, y = diabetes
    est = TorchLasso(alpha=0.5).fit(X, y)
    assert isinstance(est.intercept_, np.float64)
    assert est.sparse_coef_.nnz == int((est.coef_ != 0).sum())
    alphas, coefs, gaps = TorchLasso.path(X, y, alphas=[1.0, 0.5], tol=1e-10)
    assert coefs.shape == (10, 2) and gaps.shape == (2,)
    from sklearn.linear_model import LinearRegression

    with pytest.warns(UserWarning, match="With alpha=0"):
        ols = TorchElasticNet(alpha=0).fit(X, y)
    np.testing.assert_allclose(ols.coef_, LinearRegression().fit(X, y).coef_, rtol=1e-9)


def test_warm_start_and_precompute(diabetes):
    X, y = diabetes
    est = TorchElasticNet(alpha=0.01, warm_start=True, tol=1e-6).fit(X, y)
    assert est.fit(X, y).n_iter_ == 0  # the start is already within tol
    Xc = X - X.mean(0)
    a = TorchElasticNet(alpha=0.01, precompute=Xc.T @ Xc, tol=1e-10).fit(Xc, y)
    b = TorchElasticNet(alpha=0.01, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8)
    with pytest.raises(ValueError, match="did not pass validation"):
        TorchElasticNet(alpha=0.01, precompute=2 * Xc.T @ Xc).fit(Xc, y)
