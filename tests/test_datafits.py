"""The quadratic datafit's one-pass gradient equals the two plain products."""

from __future__ import annotations

import pytest
import torch

import lasso_torch as lt
from lasso_torch import datafits


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_fused_pass_equals_the_two_products(fit_intercept, dtype):
    g = torch.Generator().manual_seed(0)
    n, p = 4200, 500  # above the fused threshold (8 MB) in float32 and float64
    X = torch.randn(n, p, generator=g, dtype=torch.float64).to(dtype)
    y = (X[:, :5].sum(1) + 1000.0).to(dtype)  # a large intercept: nothing may cancel
    df = lt.Quadratic(X, y, fit_intercept=fit_intercept, gram=False)
    w = (0.1 * torch.randn(p, generator=g, dtype=torch.float64)).to(dtype)
    r, Xtr = df.residual_xtr(w)
    r0 = df.residual(w)
    Xtr0 = df.rmatvec(r0)
    eps = torch.finfo(dtype).eps
    assert float((r - r0).abs().max()) <= 1e3 * eps * float(r0.abs().max())
    assert float((Xtr - Xtr0).abs().max()) <= 1e3 * eps * float(Xtr0.abs().max())
    torch.testing.assert_close(df.gradient(w), -Xtr0 / n, rtol=0,
                               atol=1e3 * eps * float(Xtr0.abs().max()) / n)


def test_fused_pass_is_used_only_where_it_pays(monkeypatch):
    calls = []
    monkeypatch.setattr(datafits.Quadratic, "rmatvec",
                        lambda self, r: (calls.append(r.shape), self.X.T @ r)[1])
    big = lt.Quadratic(torch.randn(2600, 500, dtype=torch.float64), torch.randn(2600,
                       dtype=torch.float64), gram=False)
    big.residual_xtr(torch.zeros(500, dtype=torch.float64))
    assert calls == []  # one blocked pass
    big.residual_xtr(torch.zeros(500, 3, dtype=torch.float64))  # a batch: plain products
    small = lt.Quadratic(torch.randn(50, 20, dtype=torch.float64), torch.randn(
        50, dtype=torch.float64), gram=False)
    small.residual_xtr(torch.zeros(20, dtype=torch.float64))
    assert len(calls) == 2


@pytest.mark.parametrize("offset", [1e5, 1e7])
def test_large_column_means_lose_no_digits(offset):
    """Columns whose means dwarf their spread: X^T X/n - xbar xbar^T and X^T r - xbar sum(r)
    cancel to noise. Every solver, the compiled path and the CV folds' Gram matrices must
    give the offset-free answer, with a certificate that is the offset-free one."""
    import warnings

    from lasso_torch.path_strategies import _fold_grams

    X0, y, _ = lt.make_synthetic(300, 40, correlation=0.5, seed=0)
    X = X0 + offset
    a = 0.01 * float(lt.alpha_max(X0, y))
    ref = lt.solve(X0, y, a, tol=1e-12).coef
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for solver in ("auto", "fista", "cd", "ws", "anderson_cd"):
            res = lt.solve(X, y, a, solver=solver, max_iter=100_000)
            true = lt.duality_gap(X0, y, res.coef, a, relative=True)
            assert res.converged and float(true) <= 1e-6, solver
            assert float((res.coef - ref).abs().max()) <= 1e-5, solver
            assert abs(float(lt.duality_gap(X, y, res.coef, a, relative=True)) - float(true)) \
                <= 1e-8, solver
    path = lt.lasso_path(X, y, n_alphas=10)
    assert (path.status == "converged").all()
    assert float(lt.duality_gap(X0, y, path.coefs, path.alphas, relative=True).max()) <= 1e-6
    Ms = [torch.arange(300) % 3 != f for f in range(3)]
    for G, G0 in zip(_fold_grams(X, Ms, None, True), _fold_grams(X0, Ms, None, True),
                     strict=True):
        torch.testing.assert_close(G, G0, rtol=1e-7, atol=1e-9)
