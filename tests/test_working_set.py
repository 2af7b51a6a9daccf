"""The working-set solver ``ws``: certified, equal to scikit-learn, exact active-set steps."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lasso_torch as lt
from lasso_torch.data import make_synthetic
from lasso_torch.solvers.subproblem import ActiveInverse, GramSubproblem, mm

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
    sub = GramSubproblem(df.gram.numpy(), df.Xty.numpy(), 2 * float(df.p0), alpha, 1.0, 49)
    w = torch.from_numpy(sub.active_set(np.zeros(20)))
    # KKT on the full (here: whole) problem
    kkt = lt.kkt_violation(X, y, w, alpha)
    assert float(kkt) < 1e-12
    assert sub.gap(w.numpy()) <= 1e-14 * float(df.p0)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 40), st.integers(0, 2**31 - 1), st.floats(0.0, 1.0))
def test_active_inverse_follows_adds_and_drops(m, seed, a2):
    """Block adds and rank-one drops keep ``inv`` equal to a fresh ``(G_AA + a2 I)^-1``."""
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((m + 5, m))
    G = B.T @ B / (m + 5)
    inv = ActiveInverse(G, a2)
    order = rng.permutation(m)
    assert inv.refresh(order[:1])
    k = 1
    while k < m:
        step = int(rng.integers(1, m - k + 1))
        assert inv.add(order[k:k + step])
        k += step
        if inv.A.size > 2:
            keep = rng.random(inv.A.size) > 0.3
            keep[0] = True
            assert inv.drop(keep)
        A = inv.A
        ref = np.linalg.inv(G[np.ix_(A, A)] + a2 * np.eye(A.size))
        rhs = rng.standard_normal(m)
        np.testing.assert_allclose(inv.solve(rhs), ref @ rhs[A], rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("shape", [(3, 4), (40, 300), (300, 300), (300,)])
def test_host_products_equal_numpy(shape):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((shape[0], 300) if len(shape) == 1 else shape[:1] + (300,))
    b = rng.standard_normal(300) if len(shape) == 1 else rng.standard_normal((300, shape[1]))
    np.testing.assert_allclose(mm(a, b), a @ b, rtol=1e-12, atol=1e-12)


def test_one_pass_over_the_data_per_outer_iteration(monkeypatch):
    """The engine certifies itself: the loop's residual is the next step's."""
    X, y = _data(seed=11)
    calls = []
    original = lt.Quadratic.rmatvec
    monkeypatch.setattr(lt.Quadratic, "rmatvec",
                        lambda self, r: (calls.append(1), original(self, r))[1])
    alpha = 0.05 * float(lt.alpha_max(X, y))
    res = lt.solve(X, y, alpha, solver="ws", tol=1e-10)
    assert res.converged
    # one X^T r per outer iteration; at a cold start the residual is y_c (no pass)
    assert len(calls) == res.n_iter
    calls.clear()
    warm = lt.solve(X, y, 0.9 * alpha, solver="ws", tol=1e-10, coef_init=res.coef)
    assert warm.converged and len(calls) == warm.n_iter + 1  # plus the one at w0


def test_gram_cache_equals_the_gram_block():
    """Entries computed as the working set grows and shrinks are the Gram matrix's."""
    from lasso_torch.solvers.working_set import GramCache

    X, y = _data(n=70, p=90, seed=12)
    df = lt.Quadratic(X, y, gram=False)
    full = df.X.T @ df.X / df.n - torch.outer(df.x_mean, df.x_mean)
    cache = GramCache(df, max_blocks=2)
    g = torch.Generator().manual_seed(0)
    for size in (5, 12, 3, 40, 90, 20):
        ws = torch.randperm(90, generator=g)[:size].sort().values
        torch.testing.assert_close(cache.block(ws), full[ws][:, ws], rtol=0, atol=1e-13)
    assert cache.seen.numel() == 90 and len(cache.blocks) <= 3


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


def test_gram_sums_certificate_equals_the_residual_one():
    """With the Gram matrix at hand the engine certifies without a pass over X: same gap."""
    from lasso_torch.certificates import certify
    from lasso_torch.penalties import L1
    from lasso_torch.solvers import WorkingSet

    X, y = _data(n=400, p=40, seed=13)
    df = lt.Quadratic(X, y)
    _ = df.gram
    alpha = 0.05 * float(lt.alpha_max(X, y))
    eng = WorkingSet(df, L1(alpha), torch.zeros(40, dtype=X.dtype), tol=1e-8)
    assert eng.gram_sums
    for _ in range(2):
        eng.step()
        ours, ref = eng.certificate(), certify(df, eng.w, L1(alpha))
        p0 = float(df.p0)
        for a, b in zip(ours, ref, strict=True):
            assert abs(float(a) - float(b)) <= 1e-13 * max(p0, 1.0)
    # below tol 1e-9 the residual decides
    assert not WorkingSet(df, L1(alpha), torch.zeros(40, dtype=X.dtype), tol=1e-12).gram_sums


def test_the_next_active_set_starts_from_the_last_inverse(monkeypatch):
    """The final (G_AA)^-1 of one subproblem starts the next (outer iteration or alpha):
    fewer refactorizations, the same certified answers."""
    from lasso_torch.solvers import subproblem

    X, y = _data(n=120, p=400, seed=14)
    alphas = lt.path.alpha_grid(X, y, 8, 1e-2)
    refreshes = []
    original = subproblem.ActiveInverse.refresh
    monkeypatch.setattr(subproblem.ActiveInverse, "refresh",
                        lambda self, A: (refreshes.append(A.size), original(self, A))[1])
    carried = lt.lasso_path(X, y, alphas=alphas, tol=1e-10, batched=False, solver="ws")
    n_carried = len(refreshes)
    refreshes.clear()
    monkeypatch.setattr(subproblem.GramSubproblem, "__init__", _without_start_inverse(
        subproblem.GramSubproblem.__init__))
    fresh = lt.lasso_path(X, y, alphas=alphas, tol=1e-10, batched=False, solver="ws")
    assert carried.all_converged and fresh.all_converged
    assert n_carried < len(refreshes)
    torch.testing.assert_close(carried.coefs, fresh.coefs, atol=1e-7, rtol=0)


def _without_start_inverse(init):
    def wrapped(self, *args, **kwargs):
        kwargs["start_inverse"] = None
        init(self, *args, **kwargs)
    return wrapped
