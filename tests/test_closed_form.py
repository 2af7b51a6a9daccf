"""The seed's one-feature formulas, and lt.solve on one feature agreeing with them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lasso_torch as lt
from lasso_torch import closed_form as cf


def data(seed: int, n: int = 30, slope: float = 2.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=g, dtype=torch.float64) * 3 + 1
    y = slope * x + torch.randn(n, generator=g, dtype=torch.float64) * 2 - 4
    return x, y


def sums(x, y):
    xc, yc = x - x.mean(), y - y.mean()
    return float(xc @ yc), float(xc @ xc)


def test_ols_ridge_intercept_formulas():
    x, y = data(0)
    sxy, sxx = sums(x, y)
    assert float(cf.ols_slope(x, y)) == pytest.approx(sxy / sxx, rel=1e-14)
    assert float(cf.ridge_slope(x, y, 7.0)) == pytest.approx(sxy / (sxx + 7.0), rel=1e-14)
    m = cf.ols_slope(x, y)
    assert float(cf.intercept(x, y, m)) == pytest.approx(float(y.mean() - m * x.mean()))
    ref = np.polyfit(x.numpy(), y.numpy(), 1)
    np.testing.assert_allclose([float(m), float(cf.intercept(x, y, m))], ref, rtol=1e-10)


def test_lasso_three_cases():
    x, y = data(1)
    sxy, sxx = sums(x, y)
    assert sxy > 0
    lam = 0.3 * sxy
    assert float(cf.lasso_slope(x, y, lam)) == pytest.approx((sxy - lam) / sxx, rel=1e-14)
    assert float(cf.lasso_slope(x, -y, lam)) == pytest.approx((-sxy + lam) / sxx, rel=1e-14)
    assert float(cf.lasso_slope(x, y, 1.0001 * sxy)) == 0.0
    assert float(cf.lasso_slope(x, y, sxy)) == 0.0  # |Sxy| <= lam, the boundary included
    # the SSE + lam|m| form thresholds at lam/2
    assert float(cf.lasso_slope(x, y, lam, scale=1)) == pytest.approx((sxy - lam / 2) / sxx)


def brute_force(loss):
    """argmin of a vectorized loss over a fine grid, then a finer one around the best point:
    independent of the formulas under test."""
    grid = np.linspace(-10, 10, 200_001)
    m0 = grid[int(np.argmin(loss(grid)))]
    fine = np.linspace(m0 - 1e-4, m0 + 1e-4, 20_001)
    return fine[int(np.argmin(loss(fine)))]


def test_formulas_minimize_the_seed_losses():
    x, y = data(2, n=12)
    xn, yn = x.numpy(), y.numpy()

    def sse(m):  # m: array of slopes; the intercept is the best one for each m
        b = yn.mean() - m * xn.mean()
        return ((yn[None, :] - m[:, None] * xn[None, :] - b[:, None]) ** 2).sum(1)

    lam = 25.0
    assert float(cf.ridge_slope(x, y, lam)) == pytest.approx(
        brute_force(lambda m: sse(m) + lam * m * m), abs=1e-6)
    assert float(cf.lasso_slope(x, y, lam)) == pytest.approx(
        brute_force(lambda m: sse(m) + 2 * lam * np.abs(m)), abs=1e-6)
    assert float(cf.lasso_slope(x, y, lam, scale=1)) == pytest.approx(
        brute_force(lambda m: sse(m) + lam * np.abs(m)), abs=1e-6)


def test_lambda_alpha_mapping():
    assert cf.lam_to_alpha(50.0, 100) == 0.5
    assert cf.lam_to_alpha(50.0, 100, "ridge") == 0.5
    assert cf.lam_to_alpha(50.0, 100, "lasso_1") == 0.25
    assert cf.alpha_to_lam(cf.lam_to_alpha(3.0, 7, "lasso_1"), 7, "lasso_1") == pytest.approx(3.0)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 3.0), st.sampled_from(["ista", "fista", "cd"]))
def test_solve_on_one_feature_equals_the_closed_form(seed, frac, solver):
    x, y = data(seed, n=25, slope=float(seed % 7 - 3))
    n = len(x)
    sxy, _ = sums(x, y)
    lam = frac * abs(sxy) + 1e-3  # below and above the zero threshold |Sxy|
    alpha = cf.lam_to_alpha(lam, n)  # SSE + 2 lam |m|  <->  alpha = lam / n
    X = x[:, None]
    las = lt.solve(X, y, alpha, 1.0, solver=solver, tol=0.0, max_iter=300, warn=False)
    m = cf.lasso_slope(x, y, lam)
    assert float(las.coef[0]) == pytest.approx(float(m), rel=1e-10, abs=1e-12)
    assert (float(las.coef[0]) == 0.0) == (abs(sxy) <= lam)  # exact zero iff |Sxy| <= lam
    assert float(las.intercept) == pytest.approx(float(cf.intercept(x, y, m)), rel=1e-10, abs=1e-10)
    rid = lt.solve(X, y, alpha, 0.0, solver=solver, tol=0.0, max_iter=300, warn=False)
    assert float(rid.coef[0]) == pytest.approx(float(cf.ridge_slope(x, y, lam)), rel=1e-10)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000))
def test_lasso_never_changes_sign_and_ridge_is_never_zero(seed):
    x, y = data(seed, slope=float(seed % 5 - 2) + 0.1)
    sxy, _ = sums(x, y)
    lams = torch.linspace(0, 2 * abs(sxy), 101, dtype=torch.float64)
    ms = torch.stack([cf.lasso_slope(x, y, lam) for lam in lams])
    assert bool((torch.sign(ms) * np.sign(sxy) >= 0).all())  # never the other sign
    zero = ms == 0
    first = int(zero.float().argmax()) if bool(zero.any()) else len(ms)
    assert bool(zero[first:].all()) and not bool(zero[:first].any())  # once 0, stays 0
    assert bool((ms.abs()[1:] <= ms.abs()[:-1]).all())  # shrinks monotonically
    rid = torch.stack([cf.ridge_slope(x, y, lam) for lam in torch.logspace(-3, 12, 60)])
    assert bool((rid != 0).all()) and bool((torch.sign(rid) == np.sign(sxy)).all())
