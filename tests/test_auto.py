"""``solver="auto"`` and ``strategy="auto"``: the documented rule picks a registered solver,
the result says which, and the answer is the certified one."""

from __future__ import annotations

import pytest
import torch

import lasso_torch as lt
from lasso_torch.solvers import REGISTRY
from lasso_torch.solvers.auto import choose, choose_path


@pytest.mark.parametrize("n, p, frac, expect", [
    (50, 30, 0.1, "anderson_cd"),      # tiny
    (200, 1000, 0.1, "anderson_cd"),   # wide
    (5000, 200, 0.3, "ws"),            # large tall, large alpha
    (5000, 200, 0.01, "anderson_cd"),  # large tall, small alpha: Gram-form anderson_cd
])
def test_auto_picks_a_registered_solver_by_the_rule_and_reports_it(n, p, frac, expect):
    X, y, _ = lt.make_synthetic(n, p, correlation=0.5, density=0.05, seed=0)
    alpha = frac * float(lt.alpha_max(X, y))
    res = lt.solve(X, y, alpha, tol=1e-8)
    assert res.solver == expect and res.solver in REGISTRY
    ref = lt.solve(X, y, alpha, solver="fista", tol=1e-10, max_iter=100_000)
    assert res.converged and float(res.gap) <= 1e-8
    assert torch.equal(res.coef == 0, ref.coef == 0) or float(
        (res.coef - ref.coef).abs().max()) < 1e-4


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
def test_auto_for_ridge_other_losses_and_sparse_x():
    X, y, _ = lt.make_synthetic(80, 10, seed=1)
    df = lt.Quadratic(X, y)
    assert choose(df, lt.penalties.make_penalty(0.1, 0.0)) == "ws"
    yb = (y > y.median()).double()
    assert lt.solve(X, yb, 0.01, loss="logistic").solver == "prox_newton"
    assert lt.solve(X.to_sparse_csr(), y, 0.1).solver == "anderson_cd"  # CSC kernels
    assert choose_path(X.to_sparse_csr()) == ("warm", "anderson_cd")
    assert choose_path(X) == ("warm", "anderson_cd")


def test_auto_path_equals_the_batched_path():
    X, y, _ = lt.make_synthetic(60, 40, correlation=0.5, seed=2)
    a = lt.lasso_path(X, y, n_alphas=8, eps=1e-2, tol=1e-9)
    b = lt.lasso_path(X, y, n_alphas=8, eps=1e-2, tol=1e-9, strategy="batched")
    assert a.strategy == "warm" and a.all_converged and b.all_converged
    torch.testing.assert_close(a.coefs, b.coefs, atol=1e-5, rtol=0)
