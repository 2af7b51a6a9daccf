"""Multinomial logistic regression (loss="multinomial", coefficients (p, K)): equal to
scikit-learn's saga at tight tolerance and to an L-BFGS-B reference written here; glmnet's
grouped penalty keeps or drops each feature's row across classes together (KKT checked
here in numpy); the duality gap it reports is below tol."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax

import lasso_torch as lt

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data():
    rng = np.random.default_rng(0)
    n, p, K = 90, 6, 3
    X = rng.standard_normal((n, p))
    B = np.zeros((p, K))
    B[0], B[1] = [1.5, -1.0, 0.0], [0.0, 1.0, -1.2]
    y = np.array([rng.choice(K, p=q) for q in softmax(X @ B, axis=1)]).astype(float)
    return X, y


def _lbfgs(X, y, alpha):
    n, p = X.shape
    K = int(y.max()) + 1
    Y = np.eye(K)[y.astype(int)]

    def f(z):
        Wp, Wm, b = z[:p * K].reshape(p, K), z[p * K:2 * p * K].reshape(p, K), z[-K:]
        eta = X @ (Wp - Wm) + b
        val = np.mean(logsumexp(eta, 1) - (eta * Y).sum(1))
        R = (softmax(eta, 1) - Y) / n
        G = X.T @ R
        return (val + alpha * (Wp.sum() + Wm.sum()),
                np.r_[(G + alpha).ravel(), (-G + alpha).ravel(), R.sum(0)])
    out = minimize(f, np.zeros(2 * p * K + K), jac=True, method="L-BFGS-B",
                   bounds=[(0, None)] * (2 * p * K) + [(None, None)] * K,
                   options=dict(maxiter=50_000, ftol=1e-16, gtol=1e-13))
    z = out.x
    return z[:p * K].reshape(p, K) - z[p * K:2 * p * K].reshape(p, K)


def test_l1_equals_saga_and_lbfgs():
    from sklearn.linear_model import LogisticRegression

    X, y = _data()
    alpha = 0.02
    res = lt.solve(X, y, alpha, loss="multinomial", tol=1e-11)
    assert res.converged and res.coef.shape == (6, 3) and 0 <= float(res.gap) <= 1e-11
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = LogisticRegression(penalty="l1", C=1 / (len(y) * alpha), solver="saga",
                                 tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(res.coef.numpy(), ref.coef_.T, atol=1e-5)
    np.testing.assert_allclose(res.coef.numpy(), _lbfgs(X, y, alpha), atol=1e-5)
    b = ref.intercept_ - ref.intercept_.mean()
    np.testing.assert_allclose(res.intercept.numpy(), b, atol=1e-5)


def test_grouped_penalty_rows_in_or_out_together():
    X, y = _data()
    alpha = 0.1
    res = lt.solve(X, y, alpha, loss="multinomial", penalty="grouped", tol=1e-11)
    assert res.converged
    W, b = res.coef.numpy(), res.intercept.numpy()
    rows = np.linalg.norm(W, axis=1)
    assert (rows == 0).any() and (rows > 0).any()
    assert ((W == 0).all(1) | (W != 0).all(1)).all()  # a row is all zero or all nonzero
    Y = np.eye(3)[y.astype(int)]
    V = X.T @ (Y - softmax(X @ W + b, 1)) / len(y)  # -gradient, numpy float64
    on = rows > 0
    np.testing.assert_allclose(V[on], alpha * W[on] / rows[on, None], atol=1e-6)
    assert (np.linalg.norm(V[~on], axis=1) <= alpha + 1e-8).all()


def test_bad_input():
    X, y = _data()
    with pytest.raises(lt.InputError, match="single class"):
        lt.solve(X, np.zeros_like(y), 0.1, loss="multinomial")
    with pytest.raises(lt.InputError, match="grouped"):
        lt.solve(X, y, 0.1, loss="multinomial", penalty="mcp")
