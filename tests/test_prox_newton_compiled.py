"""The compiled proximal Newton (solvers/pn_kernels.py) and the Gamma/Tweedie losses: the
compiled engine solves what the tensor-code engine solves (every built-in loss, row weights,
weighted and bounded penalties), certified by gaps recomputed here in float64; ``auto``
picks it; Gamma and Tweedie agree with glum and with an L-BFGS-B reference written here."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

import lasso_torch as lt
from lasso_torch.problem import build_penalty, make_datafit
from lasso_torch.solvers.prox_newton import ProxNewton

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(seed: int, n: int = 80, p: int = 12):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 3.0 * rng.standard_normal(p)  # offset columns
    beta = np.zeros(p)
    beta[:3] = [0.6, -0.4, 0.3]
    return rng, X, beta


def _response(loss: str, rng, X, beta):
    eta = X @ beta - (X @ beta).mean()
    if loss == "logistic":
        return (rng.random(len(eta)) < 1 / (1 + np.exp(-2 * eta))).astype(float)
    if loss == "poisson":
        return rng.poisson(np.exp(eta + 0.5)).astype(float)
    if loss == "gamma":
        return rng.gamma(2.0, np.exp(eta) / 2.0)
    if loss.startswith("tweedie"):
        return rng.poisson(np.exp(eta)) * rng.gamma(2.0, 0.5, len(eta))
    y = eta + 0.3 * rng.standard_normal(len(eta))
    y[:5] += 6.0
    return y


def logistic_gap64(X, y01, w, alpha):
    """The relative duality gap of ``w`` (intercept at its optimum), numpy float64 only."""
    y = 2 * y01 - 1
    z = X @ w
    b = 0.0
    for _ in range(100):  # Newton on the intercept
        p = 1 / (1 + np.exp(-y * (z + b)))
        b -= np.mean(-y * (1 - p)) / np.mean(p * (1 - p))
    eta = z + b
    primal = np.mean(np.logaddexp(0, -y * eta)) + alpha * np.abs(w).sum()
    u = y / (1 + np.exp(y * eta))
    kappa = min(1.0, alpha / np.abs(X.T @ u / len(y)).max())
    q = np.clip(kappa * y * u, 1e-300, 1 - 1e-16)
    conj = np.mean(q * np.log(q) + (1 - q) * np.log1p(-q))
    m = y01.mean()
    p0 = -(m * np.log(m) + (1 - m) * np.log(1 - m))
    return (primal + conj) / p0


@pytest.mark.parametrize("loss", ["logistic", "poisson", "huber", "gamma", "tweedie(1.4)"])
@pytest.mark.parametrize("pen", ["l1", "enet_weighted_positive"])
def test_compiled_equals_tensor_engine(loss, pen):
    rng, X, beta = _data(zlib.crc32((loss + pen).encode()) % 1000)  # str hash is salted
    y = _response(loss, rng, X, beta)
    sw = rng.uniform(0.2, 2.0, len(y))
    opts = dict(sample_weight=sw, loss=loss, solver="prox_newton", tol=1e-11, max_iter=500)
    if pen != "l1":
        opts.update(l1_ratio=0.7, weights=np.r_[0.1, rng.uniform(0.5, 2, X.shape[1] - 1)],
                    positive=True)
    a = lt.solve(X, y, 0.03, **opts)
    b = lt.solve(X, y, 0.03, inner="ws", **opts)
    assert a.converged and b.converged
    # gaps of 1e-11 bound the coefficients to ~sqrt(gap / curvature): 1e-5 on these designs
    np.testing.assert_allclose(a.coef.numpy(), b.coef.numpy(), atol=1e-5)
    assert abs(float(a.intercept) - float(b.intercept)) <= 1e-5
    assert float(a.objective) <= float(b.objective) + 1e-12


def test_logistic_gap_recomputed_in_float64():
    rng, X, beta = _data(7, n=150, p=40)
    y = _response("logistic", rng, X, beta)
    amax = np.abs(X.T @ (y - y.mean())).max() / len(y)
    for frac in (0.3, 0.05, 0.005):
        res = lt.solve(X, y, frac * amax, loss="logistic", tol=1e-8)
        assert res.solver == "prox_newton" and res.converged
        assert -1e-12 <= logistic_gap64(X, y, res.coef.numpy(), frac * amax) <= 1e-8


def test_auto_runs_the_compiled_engine_where_it_applies():
    rng, X, beta = _data(3)
    y = _response("logistic", rng, X, beta)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    df = make_datafit("logistic", Xt, yt)

    def engine(**pen):
        p = build_penalty(0.05, 1.0, p=X.shape[1], like=Xt, **pen)
        return ProxNewton(df, p, torch.zeros(X.shape[1], dtype=torch.float64))
    assert lt.solve(X, y, 0.05, loss="logistic").solver == "prox_newton"
    assert engine().host is not None and engine(positive=True).host is not None
    assert engine(penalty="mcp").host is None  # MCP: the tensor-code subproblem
    sparse = make_datafit("logistic", Xt.to_sparse_csr(), yt)
    assert ProxNewton(sparse, build_penalty(0.05, p=X.shape[1], like=Xt),
                      torch.zeros(X.shape[1], dtype=torch.float64)).host is None


def _lbfgs_reference(X, y, alpha, loss_fn):
    """``min 1/n sum l(y, Xw + b) + alpha |w|_1`` with ``w = w+ - w-`` (L-BFGS-B, bounds)."""
    n, p = X.shape

    def f(z):
        wp, wm, b = z[:p], z[p:2 * p], z[-1]
        val, d = loss_fn(X @ (wp - wm) + b, y)
        g = X.T @ d / n
        return val.mean() + alpha * (wp.sum() + wm.sum()), np.r_[g + alpha, -g + alpha,
                                                                  d.mean()]
    z0 = np.r_[np.zeros(2 * p), np.log(y.mean())]
    out = minimize(f, z0, jac=True, method="L-BFGS-B",
                   bounds=[(0, None)] * (2 * p) + [(None, None)],
                   options=dict(maxiter=20_000, ftol=1e-15, gtol=1e-12))
    return out.x[:p] - out.x[p:2 * p], out.x[-1]


def _gamma(eta, y):
    e = y * np.exp(-eta)
    return e + eta, 1 - e


def _tweedie(power):
    def fn(eta, y):
        a, c = np.exp((1 - power) * eta), np.exp((2 - power) * eta)
        return c / (2 - power) - y * a / (1 - power), c - y * a
    return fn


@pytest.mark.parametrize("loss,fn", [("gamma", _gamma), ("tweedie(1.3)", _tweedie(1.3)),
                                     ("tweedie(1.7)", _tweedie(1.7))])
def test_deviance_losses_equal_lbfgs_and_glum(loss, fn):
    rng, X, beta = _data(11, n=120, p=8)
    X = X - X.mean(0)
    y = _response(loss, rng, X, beta)
    alpha = 0.02
    res = lt.solve(X, y, alpha, loss=loss, tol=1e-12, max_iter=200)
    assert res.converged
    assert res.certificate == ("duality gap" if loss == "gamma" else "kkt")
    w_ref, b_ref = _lbfgs_reference(X, y, alpha, fn)
    np.testing.assert_allclose(res.coef.numpy(), w_ref, atol=1e-5)
    assert abs(float(res.intercept) - b_ref) <= 1e-5
    glum = pytest.importorskip("glum")
    family = "gamma" if loss == "gamma" else glum.TweedieDistribution(float(loss[8:-1]))
    ref = glum.GeneralizedLinearRegressor(family=family, link="log", alpha=alpha,
                                          l1_ratio=1.0, gradient_tol=1e-12,
                                          max_iter=1000).fit(X, y)
    np.testing.assert_allclose(res.coef.numpy(), ref.coef_, atol=1e-7)
    assert abs(float(res.intercept) - ref.intercept_) <= 1e-7


def test_deviance_losses_refuse_bad_input():
    rng, X, beta = _data(2)
    y = _response("gamma", rng, X, beta)
    with pytest.raises(lt.InputError, match="y must be > 0"):
        lt.solve(X, y - y.max(), 0.1, loss="gamma")
    with pytest.raises(lt.InputError, match=r"power must be in \(1, 2\)"):
        lt.solve(X, y, 0.1, loss="tweedie(2.5)")
    with pytest.raises(lt.InputError, match=r"tweedie\(power\)"):
        lt.solve(X, y, 0.1, loss="tweedie(x)")


def test_cross_validate_poisson_by_held_out_deviance():
    from lasso_torch.cv import cross_validate, kfold_masks

    rng, X, beta = _data(5, n=90, p=6)
    X = X - X.mean(0)
    y = _response("poisson", rng, X, beta)
    alphas = [0.2, 0.05, 0.01]
    masks = kfold_masks(90, 3, seed=0, dtype=torch.float64)
    cv = cross_validate(X, y, alphas, loss="poisson", masks=masks, tol=1e-10)
    for f in range(3):
        tr, te = masks[:, f].bool().numpy(), ~masks[:, f].bool().numpy()
        for k, a in enumerate(alphas):
            r = lt.solve(X[tr], y[tr], a, loss="poisson", tol=1e-10)
            mu = np.exp(X[te] @ r.coef.numpy() + float(r.intercept))
            yt = y[te]
            half_dev = np.mean(mu - yt * np.log(mu) - (yt - np.where(yt > 0, yt * np.log(
                np.where(yt > 0, yt, 1)), 0)))
            assert abs(cv.mse_path[k, f] - half_dev) <= 1e-7
    assert cv.alpha == alphas[int(np.argmin(cv.mse_path.mean(1)))]


def test_compiled_warm_path_equals_solves():
    rng, X, beta = _data(8, n=100, p=15)
    y = _response("logistic", rng, X, beta)
    path = lt.lasso_path(X, y, n_alphas=8, eps=1e-2, loss="logistic", tol=1e-10)
    assert path.strategy == "warm" and bool(np.asarray(path.converged).all())
    for k in (0, 4, 7):
        a = float(path.alphas[k])
        ref = lt.solve(X, y, a, loss="logistic", tol=1e-12)
        np.testing.assert_allclose(path.coefs[:, k].numpy(), ref.coef.numpy(), atol=1e-6)
        assert logistic_gap64(X, y, path.coefs[:, k].numpy(), a) <= 1e-9
