"""prox-Newton on a sparse X (logistic, Poisson, Huber): the subproblem on the CSC columns with
the IRLS row weights and implicit weighted centering gives the dense route's answer."""

import numpy as np
import pytest
import torch
from scipy import sparse as scipy_sparse

import lasso_torch as lt
from lasso_torch.sparse import from_scipy

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def problem(loss, n=90, p=40, seed=2):
    rng = np.random.default_rng(seed)
    A = scipy_sparse.random(n, p, density=0.15, random_state=seed, format="lil")
    A[:, 3] = 0  # an empty column and an empty row
    A[5, :] = 0
    A = A.tocsr()
    beta = np.zeros(p)
    beta[:6] = 1.5
    eta = A @ beta
    y = {"logistic": (rng.uniform(size=n) < 1 / (1 + np.exp(0.5 - eta))).astype(float),
         "poisson": rng.poisson(np.exp(0.3 * eta)).astype(float),
         "huber": eta + rng.standard_normal(n)}[loss]
    return A, y, rng.uniform(0.5, 2.0, n)


@pytest.mark.parametrize("loss", ["logistic", "poisson", "huber"])
@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kw", [{}, {"positive": True}, {"l1_ratio": 0.5}])
def test_prox_newton_sparse_equals_densified(loss, intercept, weighted, kw):
    A, y, s = problem(loss)
    kw = dict(kw)
    l1 = kw.pop("l1_ratio", 1.0)
    opts = dict(loss=loss, solver="prox_newton", tol=1e-13, fit_intercept=intercept,
                sample_weight=s if weighted else None, max_iter=1000, **kw)
    d = lt.solve(A.toarray(), y, 0.02, l1, **opts)
    r = lt.solve(A, y, 0.02, l1, **opts)
    assert d.status == r.status == "converged"
    err = float((d.coef - r.coef).abs().max())
    if l1 == 1.0:
        assert err <= 1e-10
        assert bool(((d.coef == 0) == (r.coef == 0)).all())
        assert abs(float(d.intercept - r.intercept)) <= 1e-10
    else:  # strongly convex (a2): ||w - w*||^2 <= 2 gap / a2, for either answer
        a2 = 0.02 * (1 - l1)
        bound = sum((2 * max(float(x.gap_abs), 1e-16) / a2) ** 0.5 for x in (d, r))
        assert err <= bound, (err, bound)


def test_auto_runs_prox_newton_on_a_sparse_classification():
    A, y, _ = problem("logistic", n=300, p=200)
    X = from_scipy(A, torch.float64, "cpu")
    r = lt.solve(X, y, 0.01, loss="logistic", tol=1e-10)
    assert r.solver == "prox_newton" and r.status == "converged"
    assert X.layout == torch.sparse_csr  # never densified
