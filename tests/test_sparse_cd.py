"""Compiled CD and working sets on a sparse X (CSC, implicit centering): the same answers as
the dense solvers on the same data densified, for every solver that takes a sparse X, with
and without intercept and row weights; memory O(nnz + n + p)."""

import resource

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse as scipy_sparse

import lasso_torch as lt
from lasso_torch.datafits import Quadratic
from lasso_torch.penalties import make_penalty
from lasso_torch.solvers.coordinate import host_arrays
from lasso_torch.solvers.kernels import cd_epoch_residual, col_norms
from lasso_torch.solvers.sparse_cd import SparseCD, host
from lasso_torch.sparse import from_scipy

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def design(n, p, density, seed, empty=True):
    """A random sparsity pattern with an empty column and an empty row (when ``empty``)."""
    rng = np.random.default_rng(seed)
    A = scipy_sparse.random(n, p, density=density, random_state=seed, format="lil")
    if empty:
        A[:, p // 2] = 0
        A[n // 3, :] = 0
    A = A.tocsr()
    A.eliminate_zeros()
    beta = np.zeros(p)
    beta[: max(1, p // 8)] = rng.choice([-2.0, 2.0], max(1, p // 8))
    y = A @ beta + 0.3 * rng.standard_normal(n) + 1.5
    return A, y, rng.uniform(0.2, 3.0, n)


def same(a, b, tol=1e-10):
    """Coefficients to ``tol`` and the same zero set (entries of magnitude < 1e-13 on the
    dense side aside: the float64 floor of a solution's rounding)."""
    a, b = a.detach().double(), b.detach().double()
    assert float((a - b).abs().max()) <= tol
    tiny = a.abs() < 1e-13
    assert bool(((a == 0) == (b == 0))[~tiny].all())


@settings(max_examples=12, deadline=None)
@given(n=st.integers(3, 25), p=st.integers(1, 20), density=st.floats(0.05, 0.9),
       seed=st.integers(0, 10_000), intercept=st.booleans(), l1_ratio=st.sampled_from([1.0, 0.6]))
def test_epoch_equals_dense_kernel(n, p, density, seed, intercept, l1_ratio):
    """One epoch from the same point: the CSC kernel's coordinates equal the dense residual
    kernel's on the centered densified X (the sums differ in order only: 1e-12)."""
    A, y, _ = design(n, p, density, seed, empty=n > 3 and p > 1)
    X, yt = torch.tensor(A.toarray()), torch.tensor(y)
    Xs = from_scipy(A, torch.float64, "cpu")
    a = 0.05 * max(float(lt.alpha_max(X, yt, fit_intercept=intercept)), 1e-3)
    w0 = np.random.default_rng(seed).standard_normal(p) * (np.arange(p) % 2)
    dense, sparse = Quadratic(X, yt, intercept), Quadratic(Xs, yt, intercept)
    Xc, yc = host_arrays(dense)
    r, wd = yc - Xc @ w0, w0.copy()
    order = np.arange(p, dtype=np.int64)
    cd_epoch_residual(Xc, r, wd, col_norms(Xc), n * a * l1_ratio, n * a * (1 - l1_ratio), order)
    eng = SparseCD(sparse, make_penalty(a, l1_ratio), torch.tensor(w0), working_sets=False)
    eng.step()
    np.testing.assert_allclose(eng.w, wd, rtol=1e-9, atol=1e-10)
    h = host(sparse)
    np.testing.assert_allclose(h.norms, col_norms(Xc), rtol=1e-12, atol=1e-12)
    m = eng.rr[n] / n if intercept else 0.0
    np.testing.assert_allclose(eng.rr[:n] - m, r, rtol=1e-9, atol=1e-10)


CASES = [("cd", {}), ("cd", {"selection": "random"}), ("anderson_cd", {}), ("ws", {}),
         ("auto", {}), ("anderson_cd", {"l1_ratio": 0.5}), ("anderson_cd", {"positive": True}),
         ("cd", {"bounds": (-0.5, 1.0)}), ("ws", {"weights": "random"})]


@pytest.mark.parametrize("solver,kw", CASES)
@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_solve_sparse_equals_densified(solver, kw, intercept, weighted):
    A, y, s = design(70, 45, 0.15, 3)
    kw = dict(kw)
    if kw.get("weights") == "random":
        kw["weights"] = np.random.default_rng(0).uniform(0.0, 2.0, 45)
    opts = dict(tol=1e-14, max_iter=100_000, warn=False, fit_intercept=intercept,
                sample_weight=s if weighted else None)
    l1 = kw.pop("l1_ratio", 1.0)
    alpha = 0.05 * float(lt.alpha_max(torch.tensor(A.toarray()), torch.tensor(y),
                                      fit_intercept=intercept))
    d = lt.solve(A.toarray(), y, alpha, l1, "cd", **opts, **kw)
    for X in (A, A.tocsc(), from_scipy(A, torch.float64, "cpu")):
        r = lt.solve(X, y, alpha, l1, solver, **opts, **kw)
        assert r.status == "converged"
        same(d.coef, r.coef)
        assert abs(float(r.intercept - d.intercept)) <= 1e-10
    rel = lt.duality_gap(torch.tensor(A.toarray()), torch.tensor(y), r.coef, alpha, l1,
                         relative=True, fit_intercept=intercept) if not kw and not weighted else 0
    assert float(rel) <= 1e-13


def test_screening_skips_columns_and_keeps_the_answer():
    A, y, _ = design(200, 400, 0.05, 7)
    Xs, yt = from_scipy(A, torch.float64, "cpu"), torch.tensor(y)
    alpha = 0.3 * float(lt.alpha_max(Xs, yt))
    df = Quadratic(Xs, yt)
    eng = SparseCD(df, make_penalty(alpha, 1.0), torch.zeros(400, dtype=torch.float64),
                   tol=1e-12, ws_min=10)
    for _ in range(30):
        if float(eng.certificate().rel_gap) <= 1e-12:
            break
        eng.step()
    assert eng.keep.shape[0] < 400 / 2  # most columns screened away
    assert (eng.w[np.setdiff1d(np.arange(400), eng.keep)] == 0).all()
    ref = lt.solve(A.toarray(), y, alpha, solver="cd", tol=1e-14, warn=False)
    same(ref.coef, eng.coef())


@pytest.mark.parametrize("weighted", [False, True])
def test_path_and_cv_on_sparse_through_the_compiled_path(weighted):
    A, y, s = design(60, 50, 0.15, 11)
    Xs, Xd, yt = from_scipy(A, torch.float64, "cpu"), torch.tensor(A.toarray()), torch.tensor(y)
    sw = torch.tensor(s) if weighted else None
    d = lt.lasso_path(Xd, yt, n_alphas=12, tol=1e-14, strategy="warm", solver="cd",
                      sample_weight=sw, max_iter=100_000)
    r = lt.lasso_path(Xs, yt, n_alphas=12, tol=1e-14, sample_weight=sw, max_iter=100_000)
    assert r.strategy == "warm" and r.status.ravel().tolist() == ["converged"] * 12
    same(d.coefs, r.coefs)
    if not weighted:  # every alpha certified, recomputed here
        gaps = lt.duality_gap(Xd, yt, r.coefs, r.alphas, relative=True)
        assert float(gaps.max()) <= 1e-14
    from lasso_torch.cv import cross_validate

    for kw in ({}, {"positive": True}):
        a = cross_validate(Xd, yt, r.alphas[::3], n_folds=3, tol=1e-13, sample_weight=sw, **kw)
        b = cross_validate(Xs, yt, r.alphas[::3], n_folds=3, tol=1e-13, sample_weight=sw, **kw)
        np.testing.assert_allclose(b.mse_path, a.mse_path, rtol=1e-9)
        assert b.converged


def test_memory_stays_o_nnz():
    """10^6 x 10^5 (800 GB dense) with 3e5 stored entries: solved, and the process grows by
    far less than one dense column block would need."""
    n, p, nnz = 1_000_000, 100_000, 300_000
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, n, nnz), rng.integers(0, p, nnz)
    A = scipy_sparse.csr_matrix((rng.uniform(0.5, 2.0, nnz), (rows, cols)), shape=(n, p))
    beta = np.zeros(p)
    beta[:20] = 3.0
    y = A @ beta + 0.1 * rng.standard_normal(n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    alpha = 0.05 * float(lt.alpha_max(from_scipy(A, torch.float64, "cpu"), torch.tensor(y)))
    r = lt.solve(A, y, alpha, solver="auto", tol=1e-8)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert r.solver == "anderson_cd" and r.status == "converged"
    assert int((r.coef != 0).sum()) >= 10
    gap = lt.duality_gap(from_scipy(A, torch.float64, "cpu"), torch.tensor(y), r.coef, alpha,
                         relative=True)
    assert float(gap) <= 1e-8
    assert grown < 400, f"grew by {grown:.0f} MiB"  # X is 5 MB; n-vectors 8 MB each


def test_column_norms_of_stored_columns_with_large_means():
    """A fully stored column with a mean 1e6 times its spread: the centered norm without
    cancellation (the one-pass formula would lose every digit)."""
    rng = np.random.default_rng(0)
    D = np.zeros((50, 3))
    D[:, 0] = 1e6 + rng.standard_normal(50)
    D[::3, 1] = rng.standard_normal(17)
    D[:, 2] = rng.standard_normal(50)
    sparse = Quadratic(from_scipy(scipy_sparse.csr_matrix(D), torch.float64, "cpu"),
                       torch.tensor(rng.standard_normal(50)))
    Dc = D - D.mean(0)
    np.testing.assert_allclose(host(sparse).norms, (Dc * Dc).sum(0), rtol=1e-9)
