"""``lt.tune`` (hypergradient descent on log alpha) and the ``lt.nn`` layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lasso_torch as lt
from lasso_torch.unrolled import unrolled_solve

pytestmark = pytest.mark.usefixtures("one_torch_thread")
D = torch.float64


def _data(n=80, p=20, seed=0, scales=None):
    g = torch.Generator().manual_seed(seed)
    w = torch.zeros(p, dtype=D)
    w[:5] = torch.tensor([2.0, -1.5, 1.0, 0.5, -0.3], dtype=D)
    X = torch.randn(2 * n, p, generator=g, dtype=D)
    y = X @ w + 0.8 * torch.randn(2 * n, generator=g, dtype=D)
    return X[:n], y[:n], X[n:], y[n:]


def _grid_mse(X, y, Xv, yv, alphas):
    P = lt.lasso_path(X, y, torch.as_tensor(alphas), tol=1e-10)
    return ((Xv @ P.coefs + P.intercepts - yv[:, None]) ** 2).mean(0).numpy()


def test_tune_single_alpha_reaches_the_grid_minimum():
    X, y, Xv, yv = _data()
    res = lt.tune(X, y, Xv, yv)
    amax = float(lt.alpha_max(X, y))
    grid = np.geomspace(amax, amax * 1e-3, 300)
    best = _grid_mse(X, y, Xv, yv, grid).min()
    assert res.criterion_value <= best * 1.01
    assert res.alphas.shape == (res.n_iter + 1,) and res.criteria[-1] <= res.criteria[0]
    # the criterion reported is the held-out MSE at the returned alpha
    assert abs(_grid_mse(X, y, Xv, yv, [res.alpha])[0] - res.criterion_value) < 1e-6


def test_tune_per_feature_beats_the_best_single_alpha():
    X, y, Xv, yv = _data()
    single = lt.tune(X, y, Xv, yv)
    per = lt.tune(X, y, Xv, yv, weights="per_feature", max_iter=30)
    assert per.alpha.shape == (X.shape[1],)
    assert per.criterion_value < single.criterion_value


def test_tune_cv_criterion_and_errors():
    X, y, _, _ = _data()
    res = lt.tune(X, y, criterion="cv", n_folds=3, max_iter=10)
    assert res.criterion == "cv" and np.isfinite(res.criteria).all()
    assert np.all(np.diff(res.criteria) <= 0)  # steps are accepted only downhill
    with pytest.raises(lt.InputError, match="weights"):
        lt.tune(X, y, weights="nope")


def test_layer_is_the_solve_and_its_gradient_the_unrolled_limit():
    g = torch.Generator().manual_seed(0)
    Dm = torch.randn(15, 25, generator=g, dtype=D)
    Y = torch.randn(4, 15, generator=g, dtype=D)
    layer = lt.nn.LassoLayer(0.05, learn_alpha=True, tol=1e-14)
    Dr = Dm.clone().requires_grad_()
    C = layer(Dr, Y)
    assert C.shape == (4, 25) and bool((C == 0).any())
    for b in range(4):
        assert torch.allclose(C[b], lt.solve(Dm, Y[b], 0.05, fit_intercept=False,
                                             tol=1e-14).coef, atol=1e-10)
    ((C @ Dr.T - Y) ** 2).sum().backward()
    unrolled = lt.nn.UnrolledLassoLayer(0.05, n_iter=3000, learn_alpha=True)
    Du = Dm.clone().requires_grad_()
    Cu = unrolled(Du, Y)
    ((Cu @ Du.T - Y) ** 2).sum().backward()
    assert torch.allclose(Du.grad, Dr.grad, rtol=1e-5, atol=1e-7)
    assert torch.allclose(unrolled.log_alpha.grad, layer.log_alpha.grad, rtol=1e-5)
    # a leading batch dimension of X too
    C3 = layer(Dm.expand(2, 15, 25), Y[:2])
    assert torch.allclose(C3, C[:2].detach(), atol=1e-10)


def test_unrolled_ista_converges_to_the_solution():
    X, y, _, _ = _data(n=40, p=10)
    w, b = unrolled_solve(X, y, 0.1, n_iter=3000, accelerate=False)
    r = lt.solve(X, y, 0.1, tol=1e-14)
    assert torch.allclose(w, r.coef, atol=1e-8) and torch.allclose(b, r.intercept, atol=1e-8)


def test_config_tunes_alpha_and_records_the_iterates(tmp_path):
    import warnings

    from lasso_torch.experiment import run_config, validate

    cfg = {"name": "tuned", "output": str(tmp_path / "runs"), "device": "cpu",
           "data": {"kind": "synthetic", "n": 60, "p": 8, "correlation": 0.5, "density": 0.25},
           "objective": {"alpha": {"tune": "hypergradient", "criterion": "cv", "folds": 3,
                                   "max_iter": 10}},
           "solvers": [{"kind": "cd", "tol": 1e-8}]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lt.ConvergenceWarning)
        run = run_config(cfg)
    tune = run.metrics["problem"]["tune"]
    assert tune["criterion"] == "cv" and run.metrics["problem"]["alpha"] == tune["alpha"]
    tr = run.traces["tune"]
    assert tr["alphas"][-1] == pytest.approx(tune["alpha"])
    assert len(tr["criterion"]) == len(tr["grad_norm"]) == tune["n_iter"] + 1
    with pytest.raises(lt.InputError, match="tune"):
        validate({"name": "x", "objective": {"kind": "mcp", "alpha": {"tune": "hypergradient"}}})


def test_per_feature_rescaled_lasso_is_the_weighted_lasso():
    from lasso_torch.tune import _Criterion

    X, y, Xv, yv = _data()
    theta = torch.log(0.05 * torch.linspace(0.5, 2.0, X.shape[1], dtype=D))
    crit = _Criterion([(X, y, Xv, yv)], True, {})
    value, grad, _ = crit(theta, 1e-12)
    th = theta.clone().requires_grad_()
    res = lt.solve(X, y, 1.0, weights=torch.exp(th), tol=1e-12)
    direct = ((Xv @ res.coef + res.intercept - yv) ** 2).mean()
    direct.backward()
    assert value == pytest.approx(float(direct.detach()), rel=1e-8)
    assert torch.allclose(grad, th.grad, rtol=1e-5, atol=1e-9)


def test_elastic_net_layer_matches_its_unrolled_limit():
    g = torch.Generator().manual_seed(2)
    X = torch.randn(20, 8, generator=g, dtype=D)
    y = torch.randn(20, generator=g, dtype=D)
    enet = lt.nn.ElasticNetLayer(0.1, 0.5, fit_intercept=True, learn_alpha=True, tol=1e-14)
    unr = lt.nn.UnrolledLassoLayer(0.1, 0.5, n_iter=4000, fit_intercept=True, learn_alpha=True)
    X1, X2 = X.clone().requires_grad_(), X.clone().requires_grad_()
    c1, c2 = enet(X1, y), unr(X2, y)
    assert torch.allclose(c1, c2, atol=1e-10) and bool((c1 == 0).any())
    (c1 ** 2).sum().backward()
    (c2 ** 2).sum().backward()
    assert torch.allclose(X1.grad, X2.grad, rtol=1e-6, atol=1e-9)
    assert torch.allclose(enet.log_alpha.grad, unr.log_alpha.grad, rtol=1e-6)
