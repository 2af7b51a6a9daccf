"""Sparse X (torch CSR/CSC, scipy.sparse): the same results as the dense X to 1e-10, never
densified, on CPU and CUDA."""

import numpy as np
import pytest
import torch
from conftest import DEVICES
from scipy import sparse as scipy_sparse

import lasso_torch as lt
from lasso_torch import InputError
from lasso_torch.datafits import Quadratic
from lasso_torch.sparse import from_scipy, gram, select

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def data(n=80, p=30, density=0.2, seed=0):
    rng = np.random.default_rng(seed)
    A = scipy_sparse.random(n, p, density=density, random_state=seed, format="csr")
    beta = np.zeros(p)
    beta[:5] = rng.choice([-2.0, 2.0], 5)
    y = A @ beta + 0.1 * rng.standard_normal(n) + 1.0
    return A, y, rng.uniform(0.2, 3.0, n)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_datafit_sparse_equals_dense(device, layout):
    A, y, s = data()
    Xs = from_scipy(A, torch.float64, device)
    Xs = Xs if layout == "csr" else Xs.to_sparse_csc()
    Xd = torch.tensor(A.toarray(), device=device)
    yt, st = torch.tensor(y, device=device), torch.tensor(s, device=device)
    W = torch.randn(30, 3, dtype=torch.float64, device=device)
    for rw in (None, st, torch.stack([st, 1 + 0 * st], 1)):
        a, b = (Quadratic(X, yt, row_weights=rw, gram=False) for X in (Xd, Xs))
        for name in ("x_mean", "y_mean", "Xty", "colsq", "gram", "p0"):
            torch.testing.assert_close(getattr(b, name), getattr(a, name), rtol=1e-12, atol=1e-12)
        w = W if rw is None or rw.dim() == 1 else W[:, :2]
        bc = b.columns(torch.tensor([0, 1], device=device)) if b.F > 1 else b
        ac = a.columns(torch.tensor([0, 1], device=device)) if a.F > 1 else a
        torch.testing.assert_close(bc.gradient(w), ac.gradient(w), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(bc.sums(w)[0], ac.sums(w)[0], rtol=1e-12, atol=1e-12)
        assert b.X.layout != torch.strided  # never densified


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("solver,kw", [("fista", {}), ("ista", {}), ("ws", {"gram": True})])
@pytest.mark.parametrize("weighted", [False, True])
def test_solve_sparse_equals_dense(device, solver, kw, weighted):
    A, y, s = data()
    sw = s if weighted else None
    args = dict(tol=1e-14, max_iter=200_000, sample_weight=sw, warn=False, **kw)
    d = lt.solve(torch.tensor(A.toarray(), device=device), torch.tensor(y, device=device),
                 0.02, 0.8, solver, **args)
    r = lt.solve(from_scipy(A, torch.float64, device), torch.tensor(y, device=device), 0.02,
                 0.8, solver, **args)
    assert float((r.coef - d.coef).abs().max()) <= 1e-10
    assert abs(float(r.intercept - d.intercept)) <= 1e-10
    assert bool(((r.coef == 0) == (d.coef == 0)).all())


def test_solve_scipy_sparse_and_solvers_that_need_dense():
    A, y, _ = data()
    r = lt.solve(A, y, 0.02, 1.0, "fista", tol=1e-12, max_iter=100_000)
    d = lt.solve(A.toarray(), y, 0.02, 1.0, "fista", tol=1e-12, max_iter=100_000)
    assert float((r.coef - d.coef).abs().max()) <= 1e-10
    with pytest.raises(InputError, match="dense X"):
        lt.solve(A, y, 0.02, 1.0, "adam")


def test_path_and_cv_sparse_equal_dense():
    A, y, s = data(n=60, p=12)
    Xs, Xd = from_scipy(A, torch.float64, "cpu"), torch.tensor(A.toarray())
    for strategy in ("batched", "warm"):
        a = lt.lasso_path(Xd, torch.tensor(y), n_alphas=8, tol=1e-12, strategy=strategy,
                          sample_weight=s)
        b = lt.lasso_path(Xs, torch.tensor(y), n_alphas=8, tol=1e-12, strategy=strategy,
                          sample_weight=s)
        assert float((a.coefs - b.coefs).abs().max()) <= 1e-10
    from lasso_torch.cv import cross_validate
    from lasso_torch.path import alpha_grid

    alphas = alpha_grid(Xd, torch.tensor(y), n_alphas=6)
    a = cross_validate(Xd, y, alphas, n_folds=3, tol=1e-12, sample_weight=s, strategy="batched")
    b = cross_validate(Xs, y, alphas, n_folds=3, tol=1e-12, sample_weight=s, strategy="batched")
    np.testing.assert_allclose(b.mse_path, a.mse_path, rtol=1e-10)


def test_sparse_helpers():
    A, _, s = data(n=20, p=7)
    X = from_scipy(A, torch.float64, "cpu")
    D = torch.tensor(A.toarray())
    idx = torch.tensor([5, 0, 3])
    torch.testing.assert_close(select(X, idx, 1).to_dense(), D[:, idx])
    torch.testing.assert_close(select(X, idx, 0).to_dense(), D[idx])
    st = torch.tensor(s)
    torch.testing.assert_close(gram(X, st), D.T @ (st[:, None] * D))


@pytest.mark.parametrize("device", DEVICES)
def test_estimators_sparse_equal_dense(device):
    from lasso_torch.sklearn import TorchElasticNet, TorchLassoCV

    A, y, s = data()
    for X in (A.tocsr(), A.tocsc()):
        a = TorchElasticNet(alpha=0.02, tol=1e-12, device=device).fit(A.toarray(), y, s)
        b = TorchElasticNet(alpha=0.02, tol=1e-12, device=device).fit(X, y, s)
        np.testing.assert_allclose(b.coef_, a.coef_, atol=1e-10)
        np.testing.assert_allclose(b.intercept_, a.intercept_, atol=1e-10)
    # CV runs different algorithms on the two (dense on the CPU: the warm CD path; sparse:
    # the batched FISTA path): both certified to a gap of 1e-14 P(0), which fixes the
    # coefficients to ~sqrt(1e-14) only (one of them is 2e-8 off the exact CD answer)
    a = TorchLassoCV(alphas=5, cv=3, tol=1e-14).fit(A.toarray(), y, s)
    b = TorchLassoCV(alphas=5, cv=3, tol=1e-14).fit(A, y, s)
    np.testing.assert_allclose(b.mse_path_, a.mse_path_, rtol=1e-7)
    assert b.alpha_ == a.alpha_
