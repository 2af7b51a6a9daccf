"""Losses beyond the squared one, against independent references (scikit-learn, skglm).

Each built-in loss: coefficients and zero pattern of a reference, its duality gap (>= 0
anywhere, ~0 at the solution: hypothesis), a user's loss through autograd.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lasso_torch as lt
from lasso_torch.certificates import certify
from lasso_torch.problem import build_penalty, make_datafit


def _data(seed: int, n: int = 150, p: int = 25):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X /= np.sqrt((X**2).mean(0))
    beta = np.zeros(p)
    beta[:4] = [1.5, -1.0, 0.7, 0.4]
    return rng, X, beta


def _labels(rng, X, beta):
    return (rng.random(X.shape[0]) < 1 / (1 + np.exp(-(X @ beta + 0.3)))).astype(float)


def _same(ours: np.ndarray, ref: np.ndarray, rtol: float) -> None:
    scale = np.abs(ref).max()
    assert np.abs(ours - ref).max() <= rtol * scale, np.abs(ours - ref).max() / scale
    np.testing.assert_array_equal(ours == 0.0, ref == 0.0)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("solver", ["prox_newton", "fista"])
def test_logistic_equals_sklearn(fit_intercept, solver):
    from sklearn.linear_model import LogisticRegression

    rng, X, beta = _data(0)
    y = _labels(rng, X, beta)
    n, alpha = X.shape[0], 0.02
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # saga leaves the intercept unpenalized (liblinear would penalize it)
        ref = LogisticRegression(penalty="l1", C=1 / (n * alpha), solver="saga", tol=1e-13,
                                 max_iter=100_000, fit_intercept=fit_intercept).fit(X, y)
    res = lt.solve(X, y, alpha, loss="logistic", solver=solver, tol=1e-11,
                   fit_intercept=fit_intercept, max_iter=100_000)
    assert res.converged and res.certificate == "duality gap" and res.loss == "logistic"
    _same(res.coef.numpy(), ref.coef_[0], 1e-5)
    assert abs(float(res.intercept) - float(np.ravel(ref.intercept_)[0])) <= 1e-5
    assert 0 <= float(res.gap) <= 1e-6


def test_logistic_labels_pm1_and_bad_labels():
    rng, X, beta = _data(1)
    y = _labels(rng, X, beta)
    a = lt.solve(X, y, 0.03, loss="logistic", solver="prox_newton", tol=1e-10)
    b = lt.solve(X, 2 * y - 1, 0.03, loss="logistic", solver="prox_newton", tol=1e-10)
    np.testing.assert_allclose(a.coef.numpy(), b.coef.numpy(), atol=1e-12)
    with pytest.raises(lt.InputError, match="labels"):
        lt.solve(X, y + 2, 0.03, loss="logistic")
    with pytest.raises(lt.InputError, match="single class"):
        lt.solve(X, np.ones_like(y), 0.03, loss="logistic")
    with pytest.raises(lt.InputError, match="unknown loss"):
        lt.solve(X, y, 0.03, loss="hinge")


def _skglm(datafit, penalty, fit_intercept):
    skglm = pytest.importorskip("skglm")
    from skglm.solvers import AndersonCD, ProxNewton

    solver = (ProxNewton(tol=1e-12, fit_intercept=fit_intercept, max_iter=1000)
              if type(datafit).__name__ == "Poisson"
              else AndersonCD(tol=1e-12, fit_intercept=fit_intercept, max_iter=100_000))
    return skglm.GeneralizedLinearEstimator(datafit, penalty, solver)


@pytest.mark.parametrize("solver", ["prox_newton", "fista"])
def test_huber_equals_skglm(solver):
    pytest.importorskip("skglm")
    from skglm.datafits import Huber
    from skglm.penalties import L1

    rng, X, beta = _data(2)
    y = X @ beta + 0.3 * rng.standard_normal(X.shape[0])
    y[:8] += 8.0  # outliers
    ref = _skglm(Huber(1.0), L1(0.05), True).fit(X, y)
    res = lt.solve(X, y, 0.05, loss="huber", delta=1.0, solver=solver, tol=1e-12,
                   max_iter=100_000)
    assert res.converged
    _same(res.coef.numpy(), ref.coef_, 1e-5)
    assert abs(float(res.intercept) - float(ref.intercept_)) <= 1e-5


@pytest.mark.parametrize("solver", ["prox_newton", "ista"])
def test_poisson_equals_skglm(solver):
    pytest.importorskip("skglm")
    from skglm.datafits import Poisson
    from skglm.penalties import L1

    rng, X, beta = _data(3)
    y = rng.poisson(np.exp(0.3 * X @ beta + 0.5)).astype(float)
    ref = _skglm(Poisson(), L1(0.02), True).fit(X, y)
    res = lt.solve(X, y, 0.02, loss="poisson", solver=solver, tol=1e-12,
                   max_iter=100_000)
    assert res.converged
    _same(res.coef.numpy(), ref.coef_, 1e-5)


def test_user_loss_equals_the_builtin_squared_loss():
    rng, X, beta = _data(4)
    y = X @ beta + 0.3 * rng.standard_normal(X.shape[0])

    def squared(pred, target):
        return 0.5 * (target - pred) ** 2

    ref = lt.solve(X, y, 0.05, solver="cd", tol=1e-14)
    res = lt.solve(X, y, 0.05, loss=squared, solver="fista", tol=1e-12, max_iter=100_000)
    assert res.certificate == "kkt" and res.loss == "autograd" and np.isnan(float(res.gap))
    assert res.converged
    np.testing.assert_allclose(res.coef.numpy(), ref.coef.numpy(), rtol=0, atol=1e-8)
    np.testing.assert_array_equal(res.coef.numpy() == 0, ref.coef.numpy() == 0)
    assert abs(float(res.intercept) - float(ref.intercept)) <= 1e-8


def test_a_user_loss_must_return_a_tensor_of_rows_or_a_number():
    rng, X, beta = _data(5)
    y = X @ beta
    with pytest.raises(lt.InputError, match="shape"):
        lt.solve(X, y, 0.05, loss=lambda p, t: (t - p)[:3])


LOSSES = ("squared", "logistic", "huber", "poisson")


def _problem(loss: str, seed: int):
    rng, X, beta = _data(seed, n=60, p=12)
    if loss == "logistic":
        y = _labels(rng, X, beta)
    elif loss == "poisson":
        y = rng.poisson(np.exp(0.3 * X @ beta)).astype(float)
    else:
        y = X @ beta + 0.5 * rng.standard_normal(X.shape[0])
    return rng, torch.tensor(X), torch.tensor(y)


PENALTIES = [{}, {"l1_ratio": 0.5}, {"weights": "random"}, {"positive": True},
             {"bounds": (-0.3, 0.5)}]


@settings(max_examples=25, deadline=None)
@given(loss=st.sampled_from(LOSSES), seed=st.integers(0, 10_000),
       pen=st.sampled_from(range(len(PENALTIES))), scale=st.floats(0.01, 3.0))
def test_gap_is_nonnegative_at_random_points(loss, seed, pen, scale):
    rng, X, y = _problem(loss, seed % 7)
    opts = dict(PENALTIES[pen])
    if opts.get("weights") == "random":
        opts["weights"] = rng.uniform(0.0, 2.0, X.shape[1])
    l1_ratio = opts.pop("l1_ratio", 1.0)
    df = make_datafit(loss, X, y)
    penalty = build_penalty(0.05, l1_ratio, p=X.shape[1], like=X, **opts)
    w = torch.tensor(rng.standard_normal(X.shape[1]) * scale / np.sqrt(X.shape[1]))
    w = penalty.prox(w, 0.0) if opts.get("positive") or "bounds" in opts else w
    cert = certify(df, w, penalty)
    assert float(cert.gap) >= -1e-12 * max(1.0, abs(float(cert.objective)))


@settings(max_examples=10, deadline=None)
@given(loss=st.sampled_from(LOSSES), seed=st.integers(0, 6), pen=st.sampled_from([0, 1, 3]))
def test_gap_vanishes_at_the_solution(loss, seed, pen):
    _, X, y = _problem(loss, seed)
    opts = dict(PENALTIES[pen])
    # 1e-9: Poisson's exp rounds the gap of a bounded problem to ~2e-10 (seed 6, positive)
    res = lt.solve(X, y, 0.05, solver="prox_newton", tol=1e-9, loss=loss, **opts)
    assert res.converged and -1e-13 <= float(res.gap) <= 1e-9


def test_logistic_gap_equals_the_primal_minus_sklearn_dual_free_bound():
    """At scikit-learn's solution our gap is tiny: the two optima coincide."""
    from sklearn.linear_model import LogisticRegression

    rng, X, beta = _data(6)
    y = _labels(rng, X, beta)
    n, alpha = X.shape[0], 0.03
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = LogisticRegression(penalty="l1", C=1 / (n * alpha), solver="liblinear",
                                 tol=1e-12, max_iter=10_000, fit_intercept=False).fit(X, y)
    df = make_datafit("logistic", torch.tensor(X), torch.tensor(y), fit_intercept=False)
    cert = certify(df, torch.tensor(ref.coef_[0]), lt.L1(alpha))
    assert 0 <= float(cert.rel_gap) <= 1e-6


@pytest.mark.parametrize("loss", ["logistic", "huber"])
def test_batched_and_warm_paths_agree(loss):
    _, X, y = _problem(loss, 1)
    kw = dict(loss=loss, n_alphas=8, eps=1e-2, tol=1e-10)
    a = lt.lasso_path(X, y, strategy="batched", **kw)
    b = lt.lasso_path(X, y, strategy="warm", **kw)
    assert a.all_converged and b.all_converged
    np.testing.assert_allclose(a.coefs.numpy(), b.coefs.numpy(), atol=1e-6)
    assert bool((a.coefs[:, 0] == 0).all())  # alpha_max: every coefficient 0


def test_poisson_path_needs_the_warm_strategy():
    _, X, y = _problem("poisson", 2)
    with pytest.raises(lt.InputError, match="warm"):
        lt.lasso_path(X, y, loss="poisson", n_alphas=3, strategy="batched")
    assert lt.lasso_path(X, y, loss="poisson", n_alphas=3, tol=1e-9).strategy == "warm"  # auto
    res = lt.lasso_path(X, y, loss="poisson", n_alphas=3, strategy="warm", tol=1e-9)
    assert res.all_converged


def test_torch_logistic_regression_matches_sklearn():
    from sklearn.linear_model import LogisticRegression

    from lasso_torch.sklearn.logistic import TorchLogisticRegression

    rng, X, beta = _data(7)
    y = np.where(_labels(rng, X, beta) > 0, "yes", "no")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = LogisticRegression(penalty="l1", C=0.5, solver="saga", tol=1e-13,
                                 max_iter=100_000).fit(X, y)
    est = TorchLogisticRegression(C=0.5, tol=1e-12).fit(X, y)
    _same(est.coef_[0], ref.coef_[0], 1e-5)
    np.testing.assert_array_equal(est.predict(X), ref.predict(X))
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-6)


def test_fold_masks_of_a_logistic_path_equal_solves_on_the_rows():
    """CV's building block for every convex loss: F masks as row weights of one batch."""
    from lasso_torch.cv import kfold_masks

    _, X, y = _problem("logistic", 3)
    M = kfold_masks(X.shape[0], 3, dtype=X.dtype)
    alphas = torch.tensor([0.1, 0.03], dtype=X.dtype)
    res = lt.lasso_path(X, y, alphas=alphas, loss="logistic", masks=M, tol=1e-10)
    assert bool(res.converged.all())
    for f in range(3):
        rows = M[:, f].bool()
        for k in range(2):
            ref = lt.solve(X[rows], y[rows], float(alphas[k]), loss="logistic",
                           solver="prox_newton", tol=1e-13)
            np.testing.assert_allclose(res.coefs[f, :, k].numpy(), ref.coef.numpy(), atol=1e-7)
            assert abs(float(res.intercepts[f, k] - ref.intercept)) <= 1e-7
