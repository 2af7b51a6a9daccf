"""The compiled multinomial proximal Newton (its equality to scikit-learn's saga:
test_multinomial.py) and the multinomial path: equal to an L-BFGS-B
reference written here (a smooth split of the elastic net, sample weights, with and without
intercept), to the FISTA fallback run to 1e-12 (grouped), exact zeros; every alpha of
``lasso_path(loss="multinomial")`` certified by a duality gap recomputed here in numpy,
the warm path equal to cold solves, grouped rows leaving together."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax, xlogy

import lasso_torch as lt

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(n=80, p=7, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.5
    B = np.zeros((p, K))
    B[0], B[1], B[2] = [1.5, -1.0, 0.0], [0.0, 1.0, -1.2], [0.5, 0.5, -1.0]
    y = np.array([rng.choice(K, p=q) for q in softmax(X @ B + [0.3, 0, -0.3], axis=1)])
    s = rng.uniform(0.2, 2.0, n)
    return X, y.astype(float), s * n / s.sum()


def _profile(Z, Y, s, b):
    """The intercepts minimizing the weighted softmax loss given ``Z = X W`` (Newton)."""
    N, K = s.sum(), Y.shape[1]
    for _ in range(100):
        P = softmax(Z + b, 1)
        g = s @ (P - Y) / N
        H = (np.diag(s @ P) - (s[:, None] * P).T @ P) / N + np.ones((K, K)) / K
        d = -np.linalg.solve(H, g)
        b = b + d - d.mean()
        if np.abs(d).max() < 1e-15:
            break
    return b


def numpy_gap(X, y, s, W, b, alpha, rho=1.0, grouped=False, intercept=True):
    """Relative duality gap (lasso_torch.glm.multinomial's formulas, numpy float64)."""
    K = W.shape[1]
    Y = np.eye(K)[y.astype(int)]
    N, a1, a2 = s.sum(), alpha * rho, alpha * (1 - rho)
    b = _profile(X @ W, Y, s, b) if intercept else np.zeros(K)
    eta = X @ W + b
    P = softmax(eta, 1)
    loss = s @ (logsumexp(eta, 1) - (eta * Y).sum(1)) / N
    l1 = np.linalg.norm(W, axis=1).sum() if grouped else np.abs(W).sum()
    primal = loss + a1 * l1 + a2 / 2 * (W ** 2).sum()
    V = X.T @ (s[:, None] * (Y - P)) / N
    vn = np.linalg.norm(V, axis=1) if grouped else np.abs(V)
    kappa = 1.0 if a2 > 0 else min(1.0, a1 / vn.max())
    pconj = (np.clip(vn - a1, 0, None) ** 2).sum() / (2 * a2) if a2 > 0 else 0.0
    Q = (1 - kappa) * Y + kappa * P
    gap = primal + s @ xlogy(Q, Q).sum(1) / N + pconj
    b0 = _profile(np.zeros_like(Y), Y, s, np.zeros(K)) if intercept else np.zeros(K)
    p0 = s @ (logsumexp(np.zeros_like(Y) + b0, 1) - (b0 * Y).sum(1)) / N
    return gap / p0


def lbfgs(X, y, s, alpha, rho, intercept):
    """The elastic net split ``W = W+ - W-`` (bounds >= 0): smooth, L-BFGS-B."""
    n, p = X.shape
    K = int(y.max()) + 1
    Y, N, a1, a2 = np.eye(K)[y.astype(int)], s.sum(), alpha * rho, alpha * (1 - rho)

    def f(z):
        Wp, Wm = z[:p * K].reshape(p, K), z[p * K:2 * p * K].reshape(p, K)
        b = z[-K:] if intercept else np.zeros(K)
        W = Wp - Wm
        eta = X @ W + b
        val = s @ (logsumexp(eta, 1) - (eta * Y).sum(1)) / N
        R = s[:, None] * (softmax(eta, 1) - Y) / N
        G = X.T @ R + a2 * W
        pen = a1 * (Wp.sum() + Wm.sum()) + a2 / 2 * (W ** 2).sum()
        gb = R.sum(0) if intercept else np.zeros(K)
        return val + pen, np.r_[(G + a1).ravel(), (-G + a1).ravel(), gb]
    out = minimize(f, np.zeros(2 * p * K + K), jac=True, method="L-BFGS-B",
                   bounds=[(0, None)] * (2 * p * K) + [(None, None)] * K,
                   options=dict(maxiter=50_000, ftol=1e-16, gtol=1e-12))
    z = out.x
    return z[:p * K].reshape(p, K) - z[p * K:2 * p * K].reshape(p, K)


@pytest.mark.parametrize("rho,intercept", [(1.0, True), (0.6, True), (1.0, False)])
def test_compiled_l1_equals_lbfgs_with_weights(rho, intercept):
    X, y, s = _data()
    alpha = 0.03
    res = lt.solve(X, y, alpha, rho, loss="multinomial", tol=1e-12, sample_weight=s,
                   fit_intercept=intercept)
    assert "compiled" in res.solver and res.converged
    W, b = res.coef.numpy(), res.intercept.numpy()
    assert numpy_gap(X, y, s, W, b, alpha, rho, False, intercept) <= 1e-11
    np.testing.assert_allclose(W, lbfgs(X, y, s, alpha, rho, intercept), atol=2e-5)
    assert (W == 0).any()  # exact zeros
    if not intercept:
        assert (b == 0).all()


@pytest.mark.parametrize("rho,intercept", [(1.0, True), (0.5, False)])
def test_compiled_grouped_equals_fista(rho, intercept):
    X, y, s = _data(seed=1)
    alpha = 0.08
    opts = dict(loss="multinomial", penalty="grouped", tol=1e-12, sample_weight=s,
                fit_intercept=intercept)
    res = lt.solve(X, y, alpha, rho, **opts)
    ref = lt.solve(X, y, alpha, rho, solver="fista", **opts)
    assert "compiled" in res.solver and "fista" in ref.solver
    assert res.converged and ref.converged
    W = res.coef.numpy()
    assert numpy_gap(X, y, s, W, res.intercept.numpy(), alpha, rho, True, intercept) <= 1e-11
    assert numpy_gap(X, y, s, ref.coef.numpy(), ref.intercept.numpy(), alpha, rho, True,
                     intercept) <= 1e-11  # the reference's status, recomputed too
    np.testing.assert_allclose(W, ref.coef.numpy(), atol=1e-5)
    np.testing.assert_allclose(res.intercept.numpy(), ref.intercept.numpy(), atol=1e-5)
    rows = np.linalg.norm(W, axis=1)
    assert (rows == 0).any() and (rows > 0).any()
    assert ((W == 0).all(1) | (W != 0).all(1)).all()
    np.testing.assert_allclose(W[rows > 0].sum(1), 0, atol=1e-7)  # shift fixed by the norm


@pytest.mark.parametrize("penalty", ["l1", "grouped"])
def test_path_certified_and_equal_to_cold_solves(penalty):
    X, y, s = _data(seed=3)
    grouped = penalty == "grouped"
    path = lt.lasso_path(X, y, loss="multinomial", penalty=penalty, n_alphas=12, eps=1e-2,
                         tol=1e-9, sample_weight=s)
    A = path.alphas.numel()
    assert path.coefs.shape == (7, 3, A) and path.intercepts.shape == (3, A)
    assert path.all_converged and (path.status == "converged").all()
    for k, a in enumerate(path.alphas.tolist()):
        W, b = path.coefs[:, :, k].numpy(), path.intercepts[:, k].numpy()
        g = numpy_gap(X, y, s, W, b, a, 1.0, grouped)
        assert g <= 1e-9 and abs(g - float(path.gaps[k])) <= 1e-12
        if grouped:
            assert ((W == 0).all(1) | (W != 0).all(1)).all()
        if k in (1, A // 2, A - 1):
            cold = lt.solve(X, y, a, loss="multinomial", penalty=penalty, tol=1e-11,
                            sample_weight=s)
            np.testing.assert_allclose(W, cold.coef.numpy(), atol=1e-4)
    assert (path.coefs[:, :, 0] == 0).all() and (path.coefs[:, :, 1] != 0).any()


def test_path_alpha_max_is_the_first_nonzero():
    X, y, _ = _data(seed=4)
    Y = np.eye(3)[y.astype(int)]
    for penalty, norm in (("l1", np.abs), ("grouped", lambda V: np.linalg.norm(V, axis=1))):
        amax = norm(X.T @ (Y - Y.mean(0)) / len(y)).max()
        path = lt.lasso_path(X, y, loss="multinomial", penalty=penalty, n_alphas=3, eps=0.99)
        np.testing.assert_allclose(float(path.alphas[0]), amax, rtol=1e-12)
        assert (path.coefs[:, :, 0] == 0).all()
        below = lt.solve(X, y, 0.98 * amax, loss="multinomial", penalty=penalty, tol=1e-10)
        assert (below.coef != 0).any()


def test_path_bad_input():
    X, y, _ = _data()
    with pytest.raises(lt.InputError, match="masks"):
        lt.lasso_path(X, y, loss="multinomial", masks=np.ones((len(y), 2)))
    with pytest.raises(lt.InputError, match="batched"):
        lt.lasso_path(X, y, loss="multinomial", strategy="batched")
    with pytest.raises(lt.InputError, match="solver"):
        lt.lasso_path(X, y, loss="multinomial", solver="cd")
    with pytest.raises(lt.InputError, match="solver"):
        lt.solve(X, y, 0.1, loss="multinomial", solver="cd")


@pytest.mark.parametrize("penalty", ["l1", "grouped"])
def test_logistic_cv_multinomial_scores_by_hand(penalty):
    from sklearn.model_selection import StratifiedKFold

    from lasso_torch.sklearn import TorchLogisticRegression, TorchLogisticRegressionCV

    X, y, _ = _data(n=90, p=5, seed=5)
    Cs = [0.05, 0.5, 5.0]
    cv = TorchLogisticRegressionCV(Cs=Cs, cv=3, penalty=penalty, tol=1e-10).fit(X, y)
    scores = []
    for C in Cs:  # the held-out mean log-loss of cold fits, by hand
        dev = []
        for tr, te in StratifiedKFold(3).split(X, y):
            P = TorchLogisticRegression(penalty, C=C, tol=1e-10).fit(X[tr], y[tr]).predict_proba(
                X[te])
            dev.append(-np.mean(np.log(P[np.arange(len(te)), y[te].astype(int)])))
        scores.append(-np.mean(dev))
    np.testing.assert_allclose(cv.scores_, scores, rtol=1e-6)
    assert cv.C_.shape == (3,) and cv.coef_.shape == (3, 5)


def test_unconverged_says_so_with_its_certified_gap():
    X, y, s = _data(seed=6)
    with pytest.warns(lt.ConvergenceWarning, match="max_iter"):
        res = lt.solve(X, y, 0.01, loss="multinomial", max_iter=1, sample_weight=s)
    assert res.status == "max_iter" and not res.converged and res.n_iter == 1
    g = numpy_gap(X, y, s, res.coef.numpy(), res.intercept.numpy(), 0.01)
    assert g > 1e-6 and abs(g - float(res.gap)) <= 1e-12 * max(1.0, g)


@pytest.mark.parametrize("penalty", ["l1", "grouped"])
def test_ridge_equals_sklearn_lbfgs(penalty):
    from sklearn.linear_model import LogisticRegression

    X, y, s = _data(seed=7)
    alpha = 0.05  # l1_ratio 0: both penalties are the ridge; C = 1 / (alpha sum s)
    res = lt.solve(X, y, alpha, 0.0, loss="multinomial", penalty=penalty, tol=1e-13,
                   sample_weight=s)
    ref = LogisticRegression(l1_ratio=0.0, C=1 / (s.sum() * alpha), solver="lbfgs",
                             tol=1e-12, max_iter=10_000).fit(X, y, sample_weight=s)
    assert res.converged
    gap = numpy_gap(X, y, s, res.coef.numpy(), res.intercept.numpy(), alpha, 0.0,
                    penalty == "grouped")
    assert gap <= 1e-12 and abs(gap - float(res.gap)) <= 1e-12
    np.testing.assert_allclose(res.coef.numpy(), ref.coef_.T, atol=1e-6)
    np.testing.assert_allclose(res.intercept.numpy(), ref.intercept_ - ref.intercept_.mean(),
                               atol=1e-6)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), K=st.integers(2, 5), frac=st.sampled_from([0.5, 0.1, 0.01]),
       grouped=st.booleans(), intercept=st.booleans(), rho=st.sampled_from([1.0, 0.7]))
def test_every_answer_certified_by_numpy(seed, K, frac, grouped, intercept, rho):
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(K + 10, 60)), int(rng.integers(2, 12))  # p >= 2: one compiled layout
    X = rng.standard_normal((n, p)) * rng.uniform(0.1, 3.0, p)
    y = np.r_[np.arange(K), rng.integers(0, K, n - K)].astype(float)  # every class present
    s = rng.uniform(0.1, 2.0, n)
    s *= n / s.sum()
    Y = np.eye(K)[y.astype(int)]
    V0 = X.T @ (s[:, None] * (Y - (s @ Y / n if intercept else 1 / K))) / n
    alpha = frac * (np.linalg.norm(V0, axis=1) if grouped else np.abs(V0)).max() / rho
    res = lt.solve(X, y, alpha, rho, loss="multinomial", tol=1e-9, sample_weight=s,
                   penalty="grouped" if grouped else "l1", fit_intercept=intercept)
    W = res.coef.numpy()
    g = numpy_gap(X, y, s, W, res.intercept.numpy(), alpha, rho, grouped, intercept)
    assert res.converged and g <= 1e-9 and abs(g - float(res.gap)) <= 1e-12
    if grouped:
        assert ((W == 0).all(1) | (W != 0).all(1)).all()


@pytest.mark.parametrize("solver", ["auto", "fista"])
@pytest.mark.parametrize("shift,dtype", [(1e4, np.float32), (1e7, np.float64)])
def test_columns_with_large_means_give_the_unshifted_answer(solver, shift, dtype):
    """Column means far above their spread (the certificate and FISTA run on the centered
    columns): converged, certified by the test's numpy gap on the centered data, and the
    unshifted answer (the intercepts moved by ``-xbar W``)."""
    X, y, s = _data(seed=11)
    ref = lt.solve(X, y, 0.03, loss="multinomial", tol=1e-10, sample_weight=s)
    Xs = (X + shift * np.arange(1, X.shape[1] + 1)).astype(dtype)
    res = lt.solve(Xs, y.astype(dtype), 0.03, loss="multinomial", solver=solver,
                   sample_weight=s.astype(dtype), tol=1e-6)
    W, b = res.coef.double().numpy(), res.intercept.double().numpy()
    xbar = s @ Xs.astype(np.float64) / s.sum()
    assert res.converged
    assert numpy_gap(Xs.astype(np.float64) - xbar, y, s, W, b + xbar @ W, 0.03) <= 1e-6
    atol = 2e-3 if dtype == np.float32 else 1e-4
    np.testing.assert_allclose(W, ref.coef.numpy(), atol=atol)
    assert abs(b.sum()) <= 1e-6 * max(1.0, np.abs(b).max())
