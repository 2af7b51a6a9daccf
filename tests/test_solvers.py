"""Every solver in the registry against scikit-learn and against its own certificate."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from conftest import DEVICES, problem, sklearn_coef

import lasso_torch as lt
from lasso_torch.solvers import EXACT_ZERO_SOLVERS, SOLVERS

CASES = [  # (problem, alpha / alpha_max, l1_ratio)
    ("wide", 0.2, 1.0),
    ("tall", 0.05, 1.0),
    ("diabetes", 0.05, 1.0),
    ("wide", 0.2, 0.7),
    ("diabetes", 0.3, 0.5),
]


def test_registry_names_every_solver():
    assert set(SOLVERS) == {"ista", "fista", "cd", "subgradient", "ws", "anderson_cd",
                            "prox_newton"}
    assert set(EXACT_ZERO_SOLVERS) <= set(SOLVERS)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("solver", EXACT_ZERO_SOLVERS)
@pytest.mark.parametrize("name,frac,l1_ratio", CASES)
def test_matches_sklearn_with_identical_zeros(device, solver, name, frac, l1_ratio):
    prob = problem(name)
    alpha = frac * prob.alpha_max() / l1_ratio
    X, y = prob.tensors(device)
    res = lt.solve(X, y, alpha, l1_ratio, solver=solver, tol=1e-12, max_iter=200_000)
    ref = sklearn_coef(prob, alpha, l1_ratio)

    assert res.coef.device.type == device and res.coef.dtype == torch.float64
    assert res.converged and float(res.gap) <= 1e-6
    coef = res.coef.cpu().numpy()
    err = np.abs(coef - ref).max() / np.abs(ref).max()
    assert err <= 1e-6, f"{solver} on {name}: relative l_inf error {err:.2e}"
    np.testing.assert_array_equal(coef == 0.0, ref == 0.0)
    assert (coef == 0.0).sum() > 0  # the test is about exact zeros: there must be some
    # the certificate agrees with an independent recomputation, and KKT holds
    assert float(lt.duality_gap(X, y, res.coef, alpha, l1_ratio, relative=True)) <= 1e-6
    assert float(lt.kkt_violation(X, y, res.coef, alpha, l1_ratio)) <= 1e-6 * alpha
    # the intercept is b = y_mean - x_mean^T w
    b = prob.y.mean() - prob.X.mean(0) @ coef
    assert abs(float(res.intercept) - b) <= 1e-10 * max(1.0, abs(b))


@pytest.mark.parametrize("solver", SOLVERS)
def test_result_follows_data_device_and_dtype(solver):
    X, y = problem("tall").tensors(dtype=torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lt.ConvergenceWarning)
        res = lt.solve(X, y, 0.1 * problem("tall").alpha_max(), solver=solver, max_iter=50)
    for t in (res.coef, res.intercept, res.gap, res.objective):
        assert t.dtype == torch.float32 and t.device.type == "cpu"


@pytest.mark.parametrize("solver", ["ista", "fista", "cd"])
def test_float32_reports_the_gap_it_reached(solver):
    """tol far below float32 precision: the solver stops (stalled or converged) well
    before max_iter and the gap it reports is the gap of the coefficients it returns."""
    prob = problem("tall")
    alpha = 0.05 * prob.alpha_max()
    X, y = prob.tensors(dtype=torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lt.ConvergenceWarning)
        res = lt.solve(X, y, alpha, solver=solver, tol=1e-14, max_iter=100_000)
    assert res.status in ("stalled", "converged") and res.n_iter < 100_000
    X64, y64 = prob.tensors()
    true_gap = float(lt.duality_gap(X64, y64, res.coef.double(), alpha, relative=True))
    assert true_gap <= 1e-4  # float32 gets far
    assert abs(float(res.gap) - true_gap) <= 1e-5  # and says where it is, honestly
    assert res.converged == (float(res.gap) <= 1e-14)


def test_elastic_net_and_ridge_reach_their_certificates():
    prob = problem("diabetes")
    X, y = prob.tensors()
    for l1_ratio in (0.0, 0.3):
        for solver in ("ista", "fista", "cd"):
            res = lt.solve(X, y, 0.5, l1_ratio, solver=solver, tol=1e-14, max_iter=100_000)
            # KKT relative to the gradient's scale at 0 (alpha_max for the lasso)
            assert res.converged and float(res.kkt) <= 1e-5 * prob.alpha_max()
    ridge = lt.solve(X, y, 0.5, 0.0, solver="fista", tol=1e-15, warn=False).coef.numpy()
    Xc, yc = prob.X - prob.X.mean(0), prob.y - prob.y.mean()
    n = len(yc)
    exact = np.linalg.solve(Xc.T @ Xc / n + 0.5 * np.eye(Xc.shape[1]), Xc.T @ yc / n)
    np.testing.assert_allclose(ridge, exact, rtol=1e-8)
    assert (ridge != 0).all()


def test_diverging_step_is_reported_not_hidden():
    X, y = problem("tall").tensors()
    L = float(lt.Quadratic(X, y).lipschitz)
    with pytest.warns(lt.ConvergenceWarning, match="diverged"):
        res = lt.solve(X, y, 0.1, solver="ista", lr=50.0 / L, max_iter=5000)
    assert res.status == "diverged" and not res.converged and res.n_iter < 5000


def test_max_iter_warns_with_the_gap():
    X, y = problem("wide").tensors()
    with pytest.warns(lt.ConvergenceWarning, match="relative duality gap"):
        res = lt.solve(X, y, 0.01, solver="ista", max_iter=20)
    assert res.status == "max_iter" and res.n_iter == 20 and not res.converged


def test_trace_records_every_k_and_only_checks_every_k():
    X, y = problem("diabetes").tensors()
    seen = []
    res = lt.solve(X, y, 0.5, solver="fista", record_every=5, check_every=10, tol=0.0,
                   max_iter=40, warn=False, callback=lambda k, w, c: seen.append(k))
    tr = res.trace
    np.testing.assert_array_equal(tr["iteration"], np.arange(0, 41, 5))
    assert tr["coef"].shape == (9, X.shape[1])
    np.testing.assert_array_equal(tr["n_zeros"], (tr["coef"] == 0).sum(1))
    assert seen == [10, 20, 30, 40]
    assert np.all(np.diff(tr["time"]) >= 0)
    sub = lt.solve(X, y, 0.5, solver="ista", record_every=1, record_coef=[0, 3], max_iter=3,
                   warn=False)
    assert sub.trace["coef"].shape == (4, 2)


def test_warm_start_from_the_solution_stops_at_once():
    X, y = problem("tall").tensors()
    first = lt.solve(X, y, 0.05, solver="fista", tol=1e-10)
    again = lt.solve(X, y, 0.05, solver="fista", tol=1e-8, coef_init=first.coef)
    assert again.n_iter == 10  # the first check


@pytest.mark.parametrize("bad,match", [
    (dict(alpha=-1.0), "alpha"), (dict(alpha=float("nan")), "alpha"),
    (dict(l1_ratio=1.5), "l1_ratio"), (dict(solver="fsta"), "did you mean 'fista'"),
    (dict(max_iter=0), "max_iter"), (dict(lr=0.0), "lr"), (dict(tol=-1.0), "tol"),
])
def test_bad_options_raise_clear_errors(bad, match):
    X, y = problem("diabetes").tensors()
    kw = dict(alpha=0.1, l1_ratio=1.0, solver="fista") | bad
    with pytest.raises(lt.InputError, match=match):
        lt.solve(X, y, **kw)


def test_bad_data_raises_clear_errors():
    X, y = problem("diabetes").tensors()
    Xn = X.clone()
    Xn[3, 2] = float("nan")
    with pytest.raises(lt.InputError, match=r"X has 1 NaN/inf value\(s\), first at index \(3, 2\)"):
        lt.solve(Xn, y, 0.1)
    with pytest.raises(lt.InputError, match="rows"):
        lt.solve(X, y[:-1], 0.1)
    with pytest.raises(lt.InputError, match="zero rows"):
        lt.solve(X[:0], y[:0], 0.1)
    with pytest.raises(lt.InputError, match="2-D"):
        lt.solve(X[:, 0], y, 0.1)
