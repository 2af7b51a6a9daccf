"""The sparsity claim, measured: subgradient descent never lands on 0.0, the prox and
coordinate methods do and stay there."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import problem, sklearn_coef

import lasso_torch as lt

CASES = [("tall", 0.05), ("diabetes", 0.05), ("wide", 0.2)]


@pytest.mark.parametrize("name,frac", CASES)
def test_subgradient_oscillates_around_zero_and_never_hits_it(name, frac):
    prob = problem(name)
    alpha = frac * prob.alpha_max()
    X, y = prob.tensors()
    zero = np.flatnonzero(sklearn_coef(prob, alpha, 1.0) == 0)
    assert len(zero) > 0
    # SGD with a constant step keeps no state but w, so 4000 + 1000 iterations (recording
    # only the last 1000) are exactly 5000 iterations.
    first = lt.solve(X, y, alpha, solver="subgradient", max_iter=4000, tol=0.0, warn=False)
    last = lt.solve(X, y, alpha, solver="subgradient", max_iter=1000, tol=0.0, warn=False,
                    coef_init=first.coef, record_every=1, record_coef=zero)
    assert last.lr == first.lr and not last.converged
    w = last.trace["coef"][1:]  # iterations 4001..5000 at the solution's zeros
    assert not (w == 0.0).any(), "subgradient descent hit an exact zero"
    assert (last.coef[zero] != 0).all()
    sign_changes = (np.diff(np.sign(w), axis=0) != 0).sum(0)
    assert sign_changes.min() >= 20  # every one of them keeps crossing zero
    amplitude = np.abs(w).max()
    step = last.lr * alpha
    assert 0.1 * step <= amplitude <= 5 * step  # oscillation of order lr * alpha


@pytest.mark.parametrize("solver", ["ista", "fista", "cd"])
@pytest.mark.parametrize("name,frac", CASES)
def test_prox_and_cd_reach_exact_zeros_and_stay(solver, name, frac):
    prob = problem(name)
    alpha = frac * prob.alpha_max()
    X, y = prob.tensors()
    zero = np.flatnonzero(sklearn_coef(prob, alpha, 1.0) == 0)
    res = lt.solve(X, y, alpha, solver=solver, tol=1e-10, max_iter=100_000,
                   record_every=1, record_coef=zero)
    w = res.trace["coef"]
    all_zero = (w == 0.0).all(axis=1)
    assert all_zero[-1] and (res.coef[zero] == 0.0).all()
    # from some iteration k0 on (well before the end), every one is exactly 0.0, always
    k0 = len(all_zero) - int(np.argmin(all_zero[::-1])) if not all_zero.all() else 0
    assert all_zero[k0:].all() and k0 < len(all_zero) - 1
    np.testing.assert_array_equal(res.trace["n_zeros"][k0:] >= len(zero), True)


def test_the_user_loop_with_sgd_is_the_same_baseline():
    """torch.optim.SGD on model.loss (the honest baseline) gives lt.solve's subgradient iterates."""
    prob = problem("diabetes")
    X, y = prob.tensors()
    alpha = 0.05 * prob.alpha_max()
    model = lt.Lasso(n_features=X.shape[1], alpha=alpha, dtype=torch.float64)
    L = float(lt.Quadratic(X, y).lipschitz)
    opt = torch.optim.SGD(model.parameters(), lr=1 / L)
    for _ in range(200):
        opt.zero_grad()
        model.loss(X, y).backward()
        opt.step()
    res = lt.solve(X, y, alpha, solver="subgradient", max_iter=200, tol=0.0, warn=False)
    torch.testing.assert_close(model.coef.detach(), res.coef, rtol=1e-10, atol=1e-10)
    assert not (model.coef == 0).any()
