"""Weighted, bounded and non-convex penalties, against independent references.

positive= against scikit-learn's Lasso(positive=True); weights against the lasso on
rescaled columns and skglm's WeightedL1; weight 0 unpenalized; bounds against L-BFGS-B on
the split smooth problem; MCP/SCAD against skglm, certified by stationarity (no gap).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lasso_torch as lt
from lasso_torch.nonconvex import MCP, SCAD
from lasso_torch.problem import alpha_max, build_penalty, make_datafit
from lasso_torch.prox import firm_threshold, scad_threshold


def _data(seed: int = 0, n: int = 100, p: int = 20):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X /= np.sqrt((X**2).mean(0))
    beta = np.zeros(p)
    beta[:5] = [2.0, -1.5, 1.0, 0.6, -0.3]
    return rng, X, X @ beta + 0.3 * rng.standard_normal(n)


@pytest.mark.parametrize("solver", ["cd", "ws", "fista", "ista"])
def test_positive_equals_sklearn(solver):
    from sklearn.linear_model import Lasso

    _, X, y = _data(0)
    ref = Lasso(alpha=0.05, positive=True, tol=1e-14, max_iter=100_000).fit(X, y)
    res = lt.solve(X, y, 0.05, positive=True, solver=solver, tol=1e-12, max_iter=200_000)
    assert res.converged and bool((res.coef >= 0).all())
    np.testing.assert_allclose(res.coef.numpy(), ref.coef_, atol=1e-7)
    np.testing.assert_array_equal(res.coef.numpy() == 0, ref.coef_ == 0)
    assert -1e-13 <= float(res.gap) <= 1e-10


@pytest.mark.parametrize("solver", ["cd", "ws", "fista"])
def test_weights_equal_the_lasso_on_rescaled_columns(solver):
    rng, X, y = _data(1)
    w = rng.uniform(0.5, 2.0, X.shape[1])
    ref = lt.solve(X / w, y, 0.05, solver="cd", tol=1e-14).coef.numpy() / w
    res = lt.solve(X, y, 0.05, weights=w, solver=solver, tol=1e-12, max_iter=100_000)
    assert res.converged
    np.testing.assert_allclose(res.coef.numpy(), ref, atol=1e-8)
    np.testing.assert_array_equal(res.coef.numpy() == 0, ref == 0)


def test_weights_equal_skglm_weighted_l1():
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import Quadratic
    from skglm.penalties import WeightedL1
    from skglm.solvers import AndersonCD

    rng, X, y = _data(2)
    w = rng.uniform(0.5, 2.0, X.shape[1])
    w[3] = 0.0
    ref = skglm.GeneralizedLinearEstimator(
        Quadratic(), WeightedL1(0.05, w), AndersonCD(tol=1e-13, fit_intercept=True)).fit(X, y)
    res = lt.solve(X, y, 0.05, weights=w, solver="ws", tol=1e-12)
    np.testing.assert_allclose(res.coef.numpy(), ref.coef_, atol=1e-7)
    np.testing.assert_array_equal(res.coef.numpy() == 0, ref.coef_ == 0)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_weight_zero_is_never_penalized(loss):
    rng, X, y = _data(3)
    if loss == "logistic":
        y = (y > 0).astype(float)
    w = np.ones(X.shape[1])
    w[[0, 7]] = 0.0
    Xt, yt = torch.tensor(X), torch.tensor(y)
    amax = alpha_max(make_datafit(loss, Xt, yt), build_penalty(1.0, p=X.shape[1], like=Xt,
                                                               weights=w))
    solver = "ws" if loss == "squared" else "prox_newton"
    at = lt.solve(X, y, 1.001 * amax, weights=w, loss=loss, solver=solver, tol=1e-12)
    below = lt.solve(X, y, 0.9 * amax, weights=w, loss=loss, solver=solver, tol=1e-12)
    big = lt.solve(X, y, 100 * amax, weights=w, loss=loss, solver=solver, tol=1e-12)
    nz = set(np.flatnonzero(at.coef.numpy()))
    assert nz == {0, 7} and set(np.flatnonzero(big.coef.numpy())) == {0, 7}
    assert len(set(np.flatnonzero(below.coef.numpy())) - {0, 7}) >= 1
    for r in (at, below, big):  # a valid gap: the dual point is taken where x_U^T u = 0
        assert r.converged and -1e-13 <= float(r.gap) <= 1e-10
    if loss == "squared":  # the unpenalized coefficients: least squares on those columns
        ls = np.linalg.lstsq(np.c_[X[:, [0, 7]], np.ones(len(y))], y, rcond=None)[0]
        np.testing.assert_allclose(big.coef.numpy()[[0, 7]], ls[:2], atol=1e-5)  # gap 1e-12


def test_bounds_equal_lbfgsb_on_the_split_problem():
    from scipy.optimize import minimize

    _, X, y = _data(4)
    lo, hi, alpha = -0.5, 1.2, 0.03
    n, p = X.shape
    Xc, yc = X - X.mean(0), y - y.mean()

    def fun(v):  # w = a - b, a in [0, hi], b in [0, -lo]: smooth with box bounds
        w = v[:p] - v[p:]
        r = yc - Xc @ w
        g = -Xc.T @ r / n
        return r @ r / (2 * n) + alpha * v.sum(), np.r_[g + alpha, -g + alpha]

    ref = minimize(fun, np.zeros(2 * p), jac=True, method="L-BFGS-B",
                   bounds=[(0, hi)] * p + [(0, -lo)] * p,
                   options={"ftol": 1e-16, "gtol": 1e-12, "maxiter": 10_000}).x
    ref = ref[:p] - ref[p:]
    for solver in ("cd", "fista"):
        res = lt.solve(X, y, alpha, bounds=(lo, hi), solver=solver, tol=1e-12, max_iter=100_000)
        c = res.coef.numpy()
        assert res.converged and c.min() >= lo and c.max() <= hi
        assert -1e-13 <= float(res.gap) <= 1e-10
        assert (c == hi).any() and (c == lo).any()  # both bounds active on this problem
        np.testing.assert_allclose(c, ref, atol=1e-6)


@pytest.mark.parametrize("kind,gamma", [("mcp", 3.0), ("scad", 3.7)])
@pytest.mark.parametrize("solver", ["cd", "ws", "fista", "ista"])
def test_mcp_scad_equal_skglm(kind, gamma, solver):
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import Quadratic
    from skglm.penalties import SCAD as SkSCAD
    from skglm.penalties import MCPenalty
    from skglm.solvers import AndersonCD

    _, X, y = _data(5)
    pen = MCPenalty(0.1, gamma) if kind == "mcp" else SkSCAD(0.1, gamma)
    ref = skglm.GeneralizedLinearEstimator(
        Quadratic(), pen, AndersonCD(tol=1e-13, fit_intercept=True)).fit(X, y)
    res = lt.solve(X, y, 0.1, penalty=kind, gamma=gamma, solver=solver, tol=1e-11,
                   max_iter=100_000)
    assert res.converged and res.certificate == "kkt" and np.isnan(float(res.gap))
    np.testing.assert_allclose(res.coef.numpy(), ref.coef_, rtol=1e-5, atol=1e-9)
    np.testing.assert_array_equal(res.coef.numpy() == 0, ref.coef_ == 0)


def test_mcp_removes_the_lasso_bias_of_large_coefficients():
    _, X, y = _data(6, n=400)
    lasso = lt.solve(X, y, 0.1, solver="cd", tol=1e-12).coef.numpy()
    mcp = lt.solve(X, y, 0.1, penalty="mcp", gamma=3.0, solver="cd", tol=1e-12).coef.numpy()
    ols = np.linalg.lstsq(np.c_[X[:, :5], np.ones(len(y))], y, rcond=None)[0][:5]
    assert np.abs(mcp[:5] - ols).max() < 1e-8  # large coefficients: unbiased (flat part)
    assert np.abs(lasso[:5] - ols).min() > 0.05  # the lasso shrinks every one


@settings(max_examples=30, deadline=None)
@given(z=st.floats(-10, 10), t=st.floats(0.05, 3.0), lam=st.floats(0.01, 2.0),
       gamma=st.floats(0.2, 6.0))
def test_firm_and_scad_thresholds_are_the_exact_prox(z, t, lam, gamma):
    """Against brute force: the 1-D objective on a fine grid around the candidates."""
    grid = torch.linspace(-12, 12, 6_001, dtype=torch.float64)  # any grid: the min is above
    zt = torch.tensor([z], dtype=torch.float64)
    for pen, prox in ((MCP(lam, gamma), firm_threshold),
                      (SCAD(lam, gamma + 2.0), scad_threshold)):
        vals = (grid - z) ** 2 / (2 * t) + _pointwise(pen, grid)
        w = prox(zt, t, lam, pen.gamma)
        fw = float((w - z) ** 2 / (2 * t) + _pointwise(pen, w))
        assert fw <= float(vals.min()) + 1e-9


def _pointwise(pen, w):
    """The penalty of each entry of ``w`` (``value`` sums over the first axis)."""
    return pen.value(w.reshape(1, -1))


def test_prox_zero_zone_is_exact_and_bounds_clip():
    z = torch.tensor([-0.5, -0.05, 0.0, 0.05, 0.3, 5.0], dtype=torch.float64)
    assert (firm_threshold(z, 1.0, 0.1, 3.0)[1:4] == 0.0).all()
    assert (scad_threshold(z, 1.0, 0.1, 3.7)[1:4] == 0.0).all()
    assert float(firm_threshold(z, 1.0, 0.1, 3.0)[-1]) == 5.0  # no bias beyond gamma lam
    pen = build_penalty(0.1, p=6, like=z, bounds=(-0.2, 1.0))
    out = pen.prox(z, 1.0)
    assert float(out.min()) == -0.2 and float(out.max()) == 1.0


def test_bad_penalty_options_are_clear():
    _, X, y = _data(7)
    with pytest.raises(lt.InputError, match="weights"):
        lt.solve(X, y, 0.1, weights=np.ones(3))
    with pytest.raises(lt.InputError, match="not both"):
        lt.solve(X, y, 0.1, positive=True, bounds=(0, 1))
    with pytest.raises(lt.InputError, match="lower <= 0 <= upper"):
        lt.solve(X, y, 0.1, bounds=(0.5, 1))
    with pytest.raises(lt.InputError, match="gamma"):
        lt.solve(X, y, 0.1, penalty="scad", gamma=1.5)
    with pytest.raises(lt.InputError, match="gamma is an option"):
        lt.solve(X, y, 0.1, gamma=3.0)
    with pytest.raises(lt.InputError, match="unknown penalty"):
        lt.solve(X, y, 0.1, penalty="bridge")
    with pytest.raises(lt.InputError, match="squared loss"):
        lt.solve(X, (y > 0).astype(float), 0.1, loss="logistic", solver="cd")


def test_weighted_path_and_mcp_path():
    _, X, y = _data(8)
    w = np.linspace(0.5, 2.0, X.shape[1])
    a = lt.lasso_path(X, y, weights=w, n_alphas=6, tol=1e-10)
    b = lt.lasso_path(X, y, weights=w, n_alphas=6, tol=1e-10, strategy="warm")
    assert a.all_converged and b.all_converged and bool((a.coefs[:, 0] == 0).all())
    np.testing.assert_allclose(a.coefs.numpy(), b.coefs.numpy(), atol=1e-7)
    m = lt.lasso_path(X, y, penalty="mcp", n_alphas=6, tol=1e-10, strategy="warm")
    assert m.all_converged
