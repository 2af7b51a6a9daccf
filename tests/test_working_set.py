"""The working-set solver ``ws``: certified, equal to scikit-learn, exact active-set steps."""

from __future__ import annotations

import warnings

import pytest
import torch

import lasso_torch as lt
from lasso_torch.data import make_synthetic
from lasso_torch.solvers import WorkingSet

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(n=80, p=300, corr=0.5, seed=0, dtype=torch.float64):
    X, y, _ = make_synthetic(n, p, correlation=corr, density=0.05, snr=3.0, seed=seed, dtype=dtype)
    return X, y


@pytest.mark.parametrize("frac", [0.5, 0.1, 0.01])
@pytest.mark.parametrize("shape", [(80, 300), (400, 40)])
def test_reaches_tolerance_and_matches_sklearn_objective(frac, shape):
    from sklearn.linear_model import Lasso

    X, y = _data(*shape, seed=int(frac * 100))
    alpha = frac * float(lt.alpha_max(X, y))
    res = lt.solve(X, y, alpha, solver="ws", tol=1e-9)
    assert res.converged and res.status == "converged"
    gap = lt.duality_gap(X, y, res.coef, alpha, relative=True)
    assert float(gap) <= 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = Lasso(alpha=alpha, tol=1e-10, max_iter=50_000).fit(X.numpy(), y.numpy())
    p0 = float(((y - y.mean()) ** 2).sum() / (2 * X.shape[0]))

    def P(w):
        r = (y - y.mean()) - (X - X.mean(0)) @ w
        return float((r * r).sum() / (2 * X.shape[0]) + alpha * w.abs().sum())

    assert P(res.coef) <= P(torch.from_numpy(sk.coef_)) + 1e-9 * p0
    torch.testing.assert_close(res.intercept, y.mean() - X.mean(0) @ res.coef)


def test_exact_zeros_and_machine_precision_once_support_is_found():
    X, y = _data(seed=3)
    alpha = 0.2 * float(lt.alpha_max(X, y))
    res = lt.solve(X, y, alpha, solver="ws", tol=1e-6)
    # the active-set step solves the KKT system on the support: far below tol
    assert float(res.gap) < 1e-10
    assert int((res.coef == 0).sum()) > X.shape[1] // 2


@pytest.mark.parametrize("l1_ratio", [0.5, 0.0])
def test_elastic_net_and_ridge(l1_ratio):
    X, y = _data(n=60, p=100, seed=4)
    alpha = 0.05 * float(lt.alpha_max(X, y))
    res = lt.solve(X, y, alpha, l1_ratio=l1_ratio, solver="ws", tol=1e-9)
    assert res.converged
    gap = lt.duality_gap(X, y, res.coef, alpha, l1_ratio=l1_ratio, relative=True)
    assert float(gap) <= 1e-9


def test_warm_start_from_the_solution_is_one_step():
    X, y = _data(seed=5)
    alpha = 0.05 * float(lt.alpha_max(X, y))
    first = lt.solve(X, y, alpha, solver="ws", tol=1e-10)
    again = lt.solve(X, y, alpha, solver="ws", tol=1e-10, coef_init=first.coef)
    assert again.n_iter == 1 and again.converged


def test_float32_stops_honestly():
    X, y = _data(seed=6, dtype=torch.float32)
    alpha = 0.05 * float(lt.alpha_max(X, y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lt.ConvergenceWarning)
        res = lt.solve(X, y, alpha, solver="ws", tol=1e-12, max_iter=200)
    assert res.coef.dtype == torch.float32
    assert res.status in ("converged", "stalled")
    gap = lt.duality_gap(X.double(), y.double(), res.coef.double(), alpha, relative=True)
    assert float(gap) < 1e-4


def test_active_set_solves_a_subproblem_exactly():
    X, y = _data(n=50, p=20, seed=7)
    df = lt.Quadratic(X, y, gram=True)
    alpha = 0.1 * float(lt.alpha_max(X, y))
    eng = WorkingSet(df, alpha, 1.0, torch.zeros(20, dtype=X.dtype))
    G, c = df.gram, df.Xty
    w = eng._active_set(G, c, torch.zeros(20, dtype=X.dtype))
    # KKT on the full (here: whole) problem
    kkt = lt.kkt_violation(X, y, w, alpha)
    assert float(kkt) < 1e-12


def test_tall_problem_uses_the_working_set_gram_only():
    X, y = _data(n=2000, p=60, seed=8)
    alpha = 0.1 * float(lt.alpha_max(X, y))
    res = lt.solve(X, y, alpha, solver="ws", tol=1e-8)
    assert res.converged


def test_warm_path_with_ws_matches_batched():
    X, y = _data(n=60, p=150, seed=9)
    rw = lt.lasso_path(X, y, n_alphas=10, eps=1e-2, tol=1e-9, batched=False, solver="ws")
    rb = lt.lasso_path(X, y, alphas=rw.alphas, tol=1e-9, batched=True)
    assert rw.all_converged and rb.all_converged
    torch.testing.assert_close(rw.coefs, rb.coefs, atol=1e-4, rtol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda():
    X, y = _data(seed=10)
    alpha = 0.1 * float(lt.alpha_max(X, y))
    res = lt.solve(X.cuda(), y.cuda(), alpha, solver="ws", tol=1e-8)
    assert res.coef.is_cuda and res.converged
    cpu = lt.solve(X, y, alpha, solver="ws", tol=1e-8)
    torch.testing.assert_close(res.coef.cpu(), cpu.coef, atol=1e-5, rtol=0)
