"""The compiled warm path (``SolverSpec.path`` of cd and anderson_cd): every alpha certified
independently, equal to scikit-learn's path and to the engine run alpha by alpha, and the
cases where it must step aside (float32, tight tol, non-plain penalties, random CD)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lasso_torch as lt
import lasso_torch.solvers.coordinate as cdm
from lasso_torch.data import make_synthetic
from lasso_torch.path import alpha_grid
from lasso_torch.solvers import cd_path, get_solver
from lasso_torch.solvers.cd_path import gram_path
from lasso_torch.solvers.registry import REGISTRY

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(n=80, p=40, seed=0, dtype=torch.float64):
    X, y, _ = make_synthetic(n, p, correlation=0.6, density=0.2, snr=3.0, seed=seed,
                             dtype=dtype)
    return X, y


def _objective(X, y, W, alphas):
    """P(w) per column, from scratch."""
    R = (y - y.mean())[:, None] - (X - X.mean(0)) @ torch.as_tensor(W)
    return (R * R).sum(0) / (2 * X.shape[0]) + alphas * torch.as_tensor(W).abs().sum(0)


def _calls(monkeypatch) -> list[int]:
    """Count the compiled path's calls that went through."""
    seen: list[int] = []
    real = cd_path.gram_path

    def spy(*a, **k):
        out = real(*a, **k)
        seen.append(out is not None)
        return out

    monkeypatch.setattr(cdm, "gram_path", spy)  # cd's path calls it by name
    spec = get_solver("anderson_cd")
    monkeypatch.setitem(REGISTRY, "anderson_cd", replace(
        spec, path=lambda *a, **k: spy(*a, **{"max_epochs": 50_000, **k})))
    return seen


@pytest.mark.parametrize("solver", ["anderson_cd", "cd"])
@pytest.mark.parametrize("shape", [(80, 40), (30, 90)])
def test_every_alpha_certified_and_equal_to_scikit_learn(solver, shape, monkeypatch):
    seen = _calls(monkeypatch)
    X, y = _data(*shape)
    res = lt.lasso_path(X, y, n_alphas=30, eps=1e-3, tol=1e-9, strategy="warm", solver=solver)
    assert seen == [True]
    assert (res.status == "converged").all()
    gaps = lt.duality_gap(X, y, res.coefs, res.alphas, relative=True)
    assert float(gaps.max()) <= 1e-9
    assert torch.allclose(res.gaps, gaps, rtol=1e-3, atol=1e-14)
    from sklearn.linear_model import lasso_path

    Xc, yc = (X - X.mean(0)).numpy(), (y - y.mean()).numpy()
    _, ref, _ = lasso_path(Xc, yc, alphas=res.alphas.numpy(), tol=1e-14, max_iter=100_000)
    p0 = float((yc @ yc) / (2 * len(yc)))
    ours, theirs = _objective(X, y, res.coefs, res.alphas), _objective(X, y, ref, res.alphas)
    assert float((ours - theirs).abs().max()) <= 2e-9 * p0
    np.testing.assert_allclose(res.coefs.numpy(), ref, atol=1e-3 * np.abs(ref).max())
    np.testing.assert_allclose(res.intercepts.numpy(),
                               float(y.mean()) - X.mean(0).numpy() @ res.coefs.numpy())


def test_exact_zeros_and_the_engine_alpha_by_alpha():
    X, y = _data()
    res = lt.lasso_path(X, y, n_alphas=20, tol=1e-9, strategy="warm", solver="anderson_cd")
    for k in (0, 7, 19):
        one = lt.solve(X, y, float(res.alphas[k]), solver="anderson_cd", tol=1e-12)
        assert torch.equal(one.coef == 0, res.coefs[:, k] == 0)
        assert torch.allclose(one.coef, res.coefs[:, k], atol=1e-4)
    assert (res.coefs[:, 0] == 0.0).sum() > 0


def test_sample_weight_elastic_net_and_no_intercept(monkeypatch):
    seen = _calls(monkeypatch)
    X, y = _data(60, 25, seed=3)
    s = torch.linspace(0.2, 3.0, 60, dtype=torch.float64)
    for fit_intercept in (True, False):
        res = lt.lasso_path(X, y, n_alphas=15, l1_ratio=0.7, tol=1e-9, strategy="warm",
                            solver="anderson_cd", sample_weight=s, fit_intercept=fit_intercept)
        assert (res.status == "converged").all()
        for k in (3, 14):
            ref = lt.solve(X, y, float(res.alphas[k]), 0.7, solver="fista", tol=1e-12,
                           sample_weight=s, fit_intercept=fit_intercept, max_iter=100_000)
            assert torch.allclose(res.coefs[:, k], ref.coef, atol=1e-4)
            assert torch.allclose(res.intercepts[k], ref.intercept, atol=1e-4)
    assert seen == [True, True]


@pytest.mark.parametrize("case", ["float32", "tight", "weights", "random"])
def test_steps_aside_where_it_does_not_apply(case, monkeypatch):
    seen = _calls(monkeypatch)
    X, y = _data(50, 20, dtype=torch.float32 if case == "float32" else torch.float64)
    kw: dict = {"n_alphas": 8, "strategy": "warm", "solver": "anderson_cd"}
    if case == "tight":
        kw["tol"] = 1e-11
    elif case == "weights":
        kw["weights"] = torch.linspace(0.5, 2, 20, dtype=torch.float64)
    elif case == "random":
        kw.update(solver="cd", selection="random")
    res = lt.lasso_path(X, y, **kw)
    assert seen in ([], [False])  # the engine ran (or the spec's wrapper declined)
    assert res.coefs.shape == (20, 8)


def test_interrupt_keeps_the_alphas_solved(monkeypatch):
    X, y = _data()
    calls = {"n": 0}
    real = cd_path.inner_gram

    def stop_at_third(*a):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*a)

    monkeypatch.setattr(cd_path, "inner_gram", stop_at_third)
    res = lt.lasso_path(X, y, n_alphas=10, strategy="warm", solver="anderson_cd",
                        catch_interrupt=True)
    assert list(res.status[:2]) == ["converged"] * 2
    assert (res.status[2:] == "interrupted").all()
    assert torch.isnan(res.gaps[2:]).all() and not torch.isnan(res.gaps[:2]).any()
    with pytest.raises(KeyboardInterrupt):
        calls["n"] = 0
        lt.lasso_path(X, y, n_alphas=10, strategy="warm", solver="anderson_cd")


def test_max_epochs_is_reported_not_converged():
    X, y = _data()
    from lasso_torch.datafits import Quadratic
    from lasso_torch.penalties import make_penalty

    df = Quadratic(X, y, True)
    alphas = alpha_grid(X, y, n_alphas=5, eps=1e-3)
    W, rel, epochs, status = gram_path(df, alphas, lambda a: make_penalty(a, 1.0), 1e-9,
                                       max_iter=2, K=0)
    assert (epochs <= 2).all() and "max_iter" in set(status)
    assert all(s != "converged" or r <= 1e-9 for s, r in zip(status, rel.tolist(), strict=True))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(5, 60), p=st.integers(1, 40), seed=st.integers(0, 10_000),
       l1_ratio=st.sampled_from([1.0, 0.5]), fit_intercept=st.booleans())
def test_every_alpha_certified_on_random_problems(n, p, seed, l1_ratio, fit_intercept):
    """The law: whatever the shape, every alpha the compiled path calls converged is
    certified by the independent gap of lt.duality_gap."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, p, generator=g, dtype=torch.float64)
    y = X[:, : min(p, 3)].sum(1) + 0.5 * torch.randn(n, generator=g, dtype=torch.float64)
    res = lt.lasso_path(X, y, n_alphas=10, eps=1e-2, l1_ratio=l1_ratio, tol=1e-8,
                        fit_intercept=fit_intercept, strategy="warm", solver="anderson_cd")
    assert (res.status == "converged").all()
    gaps = lt.duality_gap(X, y, res.coefs, res.alphas, l1_ratio=l1_ratio,
                          fit_intercept=fit_intercept, relative=True)
    assert float(gaps.max()) <= 1e-8


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("disjoint", [True, False])
def test_fold_grams_equal_each_folds_own(weighted, fit_intercept, disjoint):
    from lasso_torch.datafits import Quadratic
    from lasso_torch.path_strategies import _fold_grams

    X, y = _data(90, 12, seed=5)
    g = torch.Generator().manual_seed(0)
    s = torch.rand(90, generator=g, dtype=torch.float64) + 0.1 if weighted else None
    held = [torch.arange(90) % 3 == f for f in range(3)] if disjoint else [
        torch.rand(90, generator=g) < 0.3 for _ in range(3)]
    Ms = [~h for h in held]
    for m, G in zip(Ms, _fold_grams(X, Ms, s, fit_intercept), strict=True):
        sf = None if s is None else s[m] * (int(m.sum()) / s[m].sum())
        ref = Quadratic(X[m], y[m], fit_intercept, gram=True, row_weights=sf).gram
        torch.testing.assert_close(G, ref, rtol=1e-12, atol=1e-12)


def test_cv_with_fold_grams_equals_scikit_learn():
    from sklearn.linear_model import LassoCV

    from lasso_torch.sklearn import TorchLassoCV

    X, y = _data(300, 20, seed=7)
    a = LassoCV(cv=4, tol=1e-10, max_iter=100_000).fit(X.numpy(), y.numpy())
    b = TorchLassoCV(cv=4, tol=1e-10).fit(X.numpy(), y.numpy())
    assert b.alpha_ == a.alpha_
    np.testing.assert_allclose(b.mse_path_, a.mse_path_, rtol=1e-6)
