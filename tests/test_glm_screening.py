"""The compiled prox-Newton path's sequential strong rules (lasso_torch.solvers.glm_screening):
the screened path equals the unscreened one and independent per-alpha solves, every alpha
certified by a gap recomputed here in numpy, a set-aside feature is exactly 0 and meets its
KKT condition, and a natural failure of the rule is caught by the KKT check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lasso_torch as lt
from lasso_torch.penalties import ElasticNet
from lasso_torch.problem import make_datafit
from lasso_torch.solvers.glm_screening import screened_solve, secant, strong_set
from lasso_torch.solvers.prox_newton_host import Host


def _sig(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def _newton_b(d1, d2, b=0.0):  # the intercept's 1-D Newton, to rounding
    for _ in range(100):
        step = d1(b) / d2(b)
        b -= step
        if abs(step) <= 1e-15 * (1 + abs(b)):
            break
    return b


def logistic_gap(X, y01, s, w, alpha):
    """Relative conjugate gap of the weighted L1 logistic problem (labels 0/1), float64."""
    y = 2 * y01 - 1
    N = s.sum()
    z = X @ w
    b = _newton_b(lambda b: -(s * y * _sig(-y * (z + b))).sum(),
                  lambda b: (s * _sig(z + b) * _sig(-(z + b))).sum())
    eta = z + b
    primal = (s * np.logaddexp(0, -y * eta)).sum() / N + alpha * np.abs(w).sum()
    u = y * _sig(-y * eta)
    kappa = min(1.0, alpha / np.abs(X.T @ (s * u) / N).max())
    q = np.clip(kappa * y * u, 1e-300, 1 - 1e-16)
    conj = (s * (q * np.log(q) + (1 - q) * np.log1p(-q))).sum() / N
    b0 = np.log((s * y01).sum() / (s * (1 - y01)).sum())
    p0 = (s * np.logaddexp(0, -y * b0)).sum() / N
    return (primal + conj) / p0


def poisson_gap(X, y, s, w, alpha):
    """Relative conjugate gap of the weighted L1 Poisson problem (log link), float64."""
    N = s.sum()
    z = X @ w
    b = np.log((s * y).sum() / (s * np.exp(z)).sum())
    mu = np.exp(z + b)
    primal = (s * (mu - y * (z + b))).sum() / N + alpha * np.abs(w).sum()
    u = y - mu
    kappa = min(1.0, alpha / np.abs(X.T @ (s * u) / N).max())
    t = np.maximum(y - kappa * u, 0)
    xlogx = np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0.0)
    ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1)), 0.0)
    floor = (s * (y - ylogy)).sum() / N
    b0 = np.log((s * y).sum() / N)
    p0 = (s * (np.exp(b0) - y * b0)).sum() / N - floor
    return (primal + (s * (xlogx - t)).sum() / N) / p0


def _data(loss: str, seed: int = 0, n: int = 80, p: int = 30):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.5 * rng.standard_normal((n, 1))
    eta = X[:, :4] @ np.array([1.5, -1.0, 0.8, 0.5])
    if loss == "logistic":
        y = (rng.random(n) < _sig(eta)).astype(float)
        gap = logistic_gap
    else:
        y = rng.poisson(np.exp(0.4 * eta)).astype(float)
        gap = poisson_gap
    s = rng.uniform(0.5, 2.0, n)
    return X, y, s, gap


@pytest.mark.parametrize("loss", ["logistic", "poisson"])
def test_screened_path_equals_unscreened_and_per_alpha_solves(loss: str) -> None:
    X, y, s, gap = _data(loss)
    kw = dict(loss=loss, n_alphas=15, eps=1e-2, sample_weight=s, tol=1e-10)
    res = lt.lasso_path(X, y, **kw)
    plain = lt.lasso_path(X, y, screen=False, predict=False, **kw)  # no strong rule, no secant
    W, W0 = res.coefs.numpy(), plain.coefs.numpy()
    assert res.converged.all() and plain.converged.all()
    np.testing.assert_allclose(W, W0, atol=1e-5)
    for k, a in enumerate(res.alphas.tolist()):
        assert gap(X, y, s, W[:, k], a) <= 1e-10 * 1.01  # certified here, in numpy
        assert gap(X, y, s, W0[:, k], a) <= 1e-10 * 1.01  # the unscreened reference too
    for k in (3, 9, 14):
        one = lt.solve(X, y, float(res.alphas[k]), loss=loss, sample_weight=s, tol=1e-10)
        np.testing.assert_allclose(W[:, k], one.coef.numpy(), atol=1e-5)
        np.testing.assert_allclose(float(res.intercepts[k]), float(one.intercept),
                                   atol=1e-5)


def _host(X, y01, a):
    df = make_datafit("logistic", torch.from_numpy(X), torch.from_numpy(y01), True)
    pen = ElasticNet(a, 1.0)
    return Host(df, pen, torch.zeros(X.shape[1], dtype=torch.float64))


def _grad(X, y01, w, b):  # the logistic gradient X^T (sigmoid(eta) - y) / n
    return X.T @ (_sig(X @ w + b) - y01) / len(y01)


def test_set_aside_features_are_zero_and_meet_kkt() -> None:
    X, y, _, _ = _data("logistic", seed=1, p=60)
    amax = np.abs(X.T @ (y - y.mean())).max() / len(y)
    a_prev, a = 0.5 * amax, 0.45 * amax
    host = _host(X, y, a_prev)
    host.a1[:] = a_prev
    assert screened_solve(host, host.all, 1e-12, 200, 10, 0.1, 5000)[2] == "converged"
    cand = strong_set(host.grad, host.w, a, a_prev)
    assert 0 < cand.size < X.shape[1]  # the rule sets features aside
    host.a1[:] = a
    rel, _, status = screened_solve(host, cand, 1e-12, 200, 10, 0.1, 5000)
    assert status == "converged" and rel <= 1e-12
    out = np.setdiff1d(np.arange(X.shape[1]), cand)
    w = host.w
    assert (w[out] == 0).all()
    g = _grad(X - X.mean(0), y, w, host.b)  # the host's columns are centered
    assert (np.abs(g[out]) <= a * (1 + 1e-9)).all()  # KKT of the features set aside


def test_strong_rule_failure_is_caught() -> None:
    """Two blocks of near-copies (with flipped signs): at alpha_25 of this grid a feature
    the rule sets aside enters the model; the screened path must still be exact."""
    rng = np.random.default_rng(31)
    n, p = 40, 12
    Z = rng.standard_normal((n, 3))
    X = np.repeat(Z, 4, axis=1) + 0.05 * rng.standard_normal((n, p))
    X[:, 1::4] *= -1
    y = (rng.random(n) < _sig(X[:, 0] - X[:, 1] + 2 * X[:, 5])).astype(float)
    kw = dict(loss="logistic", n_alphas=30, eps=1e-2, tol=1e-12)
    res = lt.lasso_path(X, y, **kw)
    W, b, al = res.coefs.numpy(), res.intercepts.numpy(), res.alphas.numpy()
    k = 25
    g = _grad(X, y, W[:, k - 1], b[k - 1])
    kept = (np.abs(g) >= 2 * al[k] - al[k - 1]) | (W[:, k - 1] != 0)
    late = np.flatnonzero(~kept & (W[:, k] != 0))
    assert late.size > 0  # the rule failed here: a set-aside feature is in the answer
    plain = lt.lasso_path(X, y, screen=False, predict=False, **kw)
    np.testing.assert_allclose(W, plain.coefs.numpy(), atol=1e-6)
    s = np.ones(n)
    assert all(logistic_gap(X, y, s, W[:, j], a) <= 1e-12 * 1.01
               for j, a in enumerate(al))


def test_secant_start() -> None:
    """The next alpha's start: the secant in log alpha on the support, 0 across a sign
    change and for features not in the support; the last solution where no secant exists."""
    w2, w1 = np.array([1.0, 0.5, 0.0, 0.2]), np.array([2.0, 0.1, 0.0, 0.0])
    out = secant(w2, w1, [4.0, 2.0, 1.0])  # equal log steps: w1 + (w1 - w2)
    np.testing.assert_array_equal(out, [3.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(secant(w2, w1, [2.0, 2.0, 1.0]), w1)
