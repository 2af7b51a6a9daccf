"""Regularization paths: batched == warm-started == scikit-learn, every alpha certified."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lasso_torch as lt
from lasso_torch.certificates import certify
from lasso_torch.data import make_synthetic
from lasso_torch.datafits import Quadratic
from lasso_torch.path import alpha_grid, lasso_path
from lasso_torch.penalties import L1
from lasso_torch.solvers import ProximalEngine
from lasso_torch.solvers.screening import gap_safe_dead

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(n=60, p=120, corr=0.5, seed=0, dtype=torch.float64):
    X, y, _ = make_synthetic(n, p, correlation=corr, density=0.1, snr=3.0, seed=seed, dtype=dtype)
    return X, y


def _objective(X, y, W, alphas, l1_ratio=1.0):
    """P(w) per column, computed from scratch in float64."""
    X, y, W = X.double(), y.double(), W.double()
    R = (y - y.mean())[:, None] - (X - X.mean(0)) @ W
    a = alphas.double()
    pen = a * (l1_ratio * W.abs().sum(0) + 0.5 * (1 - l1_ratio) * (W * W).sum(0))
    return (R * R).sum(0) / (2 * X.shape[0]) + pen


def _p0(X, y):
    yc = y.double() - y.double().mean()
    return float((yc * yc).sum() / (2 * X.shape[0]))


@pytest.mark.parametrize("batched", [True, False])
def test_every_alpha_certified_independently(batched):
    X, y = _data()
    res = lasso_path(X, y, n_alphas=12, eps=1e-2, tol=1e-7, batched=batched)
    assert res.coefs.shape == (120, 12)
    assert res.alphas.shape == res.gaps.shape == res.intercepts.shape == (12,)
    assert res.all_converged
    gaps = lt.duality_gap(X, y, res.coefs, res.alphas, relative=True)
    assert float(gaps.max()) <= 1e-7
    torch.testing.assert_close(gaps, res.gaps, rtol=1e-6, atol=1e-12)
    assert torch.all(res.alphas[:-1] > res.alphas[1:])
    assert float(res.alphas[0]) == pytest.approx(float(lt.alpha_max(X, y)), rel=1e-12)
    assert bool((res.coefs[:, 0] == 0).all())  # alpha_max: all zeros, exactly
    b = y.mean() - X.mean(0) @ res.coefs
    torch.testing.assert_close(res.intercepts, b)


def test_batched_equals_warm_started_sequence():
    X, y = _data(seed=3)
    tol = 1e-8
    rb = lasso_path(X, y, n_alphas=15, eps=1e-2, tol=tol, batched=True)
    rw = lasso_path(X, y, alphas=rb.alphas, tol=tol, batched=False)
    pb, pw = _objective(X, y, rb.coefs, rb.alphas), _objective(X, y, rw.coefs, rw.alphas)
    # both within tol * P(0) of the optimum, so within that of each other
    assert float((pb - pw).abs().max()) <= 2 * tol * _p0(X, y)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_matches_scikit_learn_path(l1_ratio):
    from sklearn.linear_model import enet_path
    from sklearn.linear_model import lasso_path as sk_lasso_path

    X, y = _data(n=150, p=40, corr=0.3, seed=5)
    res = lasso_path(X, y, n_alphas=20, eps=1e-2, l1_ratio=l1_ratio, tol=1e-9)
    Xc, yc = (X - X.mean(0)).numpy(), (y - y.mean()).numpy()
    kw = dict(alphas=res.alphas.numpy(), tol=1e-14, max_iter=100_000)
    if l1_ratio == 1.0:
        _, sk, _ = sk_lasso_path(Xc, yc, **kw)
    else:
        _, sk, _ = enet_path(Xc, yc, l1_ratio=l1_ratio, **kw)
    sk = torch.from_numpy(sk)
    sk_gap = lt.duality_gap(X, y, sk, res.alphas, l1_ratio=l1_ratio, relative=True)
    ours = lt.duality_gap(X, y, res.coefs, res.alphas, l1_ratio=l1_ratio, relative=True)
    assert float(ours.max()) <= 1e-9 and float(sk_gap.max()) <= 1e-9
    po = _objective(X, y, res.coefs, res.alphas, l1_ratio)
    ps = _objective(X, y, sk, res.alphas, l1_ratio)
    assert float((po - ps).abs().max()) <= 2e-9 * _p0(X, y)
    # well conditioned (n > p): the solution is unique, so the coefficients agree too
    torch.testing.assert_close(res.coefs, sk, atol=1e-4, rtol=0)


def test_gram_form_equals_residual_form():
    X, y = _data(n=400, p=30, seed=2)
    a = alpha_grid(X, y, 10)
    rg = lasso_path(X, y, alphas=a, strategy="batched", tol=1e-10, gram=True)
    rr = lasso_path(X, y, alphas=a, strategy="batched", tol=1e-10, gram=False)
    assert rg.all_converged and rr.all_converged
    torch.testing.assert_close(rg.coefs, rr.coefs, atol=1e-6, rtol=0)


def _masks(n, F, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, F, generator=g) < 0.75).double()


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_masks_are_separate_problems_on_their_own_rows(fit_intercept):
    X, y = _data(n=80, p=30, seed=4)
    M = _masks(80, 3)
    alphas = alpha_grid(X, y, 6, eps=2e-2, fit_intercept=fit_intercept)
    res = lasso_path(X, y, alphas=alphas, masks=M, tol=1e-9, fit_intercept=fit_intercept)
    assert res.coefs.shape == (3, 30, 6)
    assert res.gaps.shape == res.intercepts.shape == res.n_iters.shape == (3, 6)
    assert res.all_converged
    for f in range(3):
        m = M[:, f].bool()
        gaps = lt.duality_gap(X[m], y[m], res.coefs[f], alphas, fit_intercept=fit_intercept,
                              relative=True)
        assert float(gaps.max()) <= 1e-9
        torch.testing.assert_close(gaps, res.gaps[f], rtol=1e-6, atol=1e-13)
        b = (y[m].mean() - X[m].mean(0) @ res.coefs[f]) if fit_intercept else 0 * res.intercepts[f]
        torch.testing.assert_close(res.intercepts[f], b)
        # the same problem solved alone (the warm path on the subset)
        alone = lasso_path(X[m], y[m], alphas=alphas, tol=1e-9, batched=False,
                           fit_intercept=fit_intercept)
        torch.testing.assert_close(res.coefs[f], alone.coefs, atol=1e-4, rtol=0)


def test_masks_batched_equal_warm():
    X, y = _data(n=70, p=30, seed=6)
    M = _masks(70, 2, seed=1)
    rb = lasso_path(X, y, n_alphas=6, eps=1e-2, masks=M, tol=1e-9)
    rw = lasso_path(X, y, n_alphas=6, eps=1e-2, masks=M, tol=1e-9, batched=False)
    assert rb.coefs.shape == rw.coefs.shape == (2, 30, 6)
    assert rb.all_converged and rw.all_converged
    torch.testing.assert_close(rb.coefs, rw.coefs, atol=1e-4, rtol=0)


def test_all_ones_mask_is_the_plain_path():
    X, y = _data(n=60, p=30, seed=7)
    a = alpha_grid(X, y, 6, eps=1e-2)
    r1 = lasso_path(X, y, alphas=a, tol=1e-10)
    rm = lasso_path(X, y, alphas=a, tol=1e-10, masks=torch.ones(X.shape[0], 1))
    torch.testing.assert_close(rm.coefs[0], r1.coefs, atol=1e-6, rtol=0)


def _reference(X, y, alphas):
    r = lasso_path(X, y, alphas=alphas, strategy="batched", tol=1e-13, screening=False,
                   max_iter=200_000)
    return r.coefs


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), frac=st.floats(0.05, 0.7))
def test_screening_never_discards_a_feature_of_the_solution(seed, frac):
    """The gap-safe rule, applied at early iterates, keeps every nonzero of the optimum."""
    X, y = _data(n=40, p=30, corr=0.5, seed=seed)
    alphas = alpha_grid(X, y, 3, eps=frac)
    w_star = _reference(X, y, alphas)
    df, pen = Quadratic(X, y, gram=False), L1(alphas)
    engine = ProximalEngine(df, pen, torch.zeros(X.shape[1], 3, dtype=X.dtype))
    for _ in range(6):
        for _ in range(5):
            engine.step()
        w = engine.coef()
        dead = gap_safe_dead(df, w, df.sums(w)[2], certify(df, w, pen).gap, pen)
        assert not bool((dead & (w_star != 0)).any())


def test_screening_changes_nothing_but_speed():
    X, y = _data(n=50, p=200, seed=8)
    a = alpha_grid(X, y, 8, eps=5e-2)
    on = lasso_path(X, y, alphas=a, strategy="batched", tol=1e-9, screening=True)
    off = lasso_path(X, y, alphas=a, strategy="batched", tol=1e-9, screening=False)
    assert on.all_converged and off.all_converged
    torch.testing.assert_close(on.coefs, off.coefs, atol=1e-5, rtol=0)


def test_float32_reports_what_it_certifies_and_stops():
    X, y = _data(n=60, p=100, seed=9, dtype=torch.float32)
    res = lasso_path(X, y, n_alphas=6, tol=1e-12, max_iter=50_000)  # below float32's reach
    assert res.coefs.dtype == torch.float32
    assert set(res.status.tolist()) <= {"converged", "stalled"}
    assert int(res.n_iters.max()) < 50_000
    gaps = lt.duality_gap(X.double(), y.double(), res.coefs.double(), res.alphas.double(),
                          relative=True)
    assert float(gaps.max()) < 1e-3
    assert np.all(np.isfinite(res.gaps.numpy()))


def test_max_iter_is_reported():
    X, y = _data(seed=10)
    res = lasso_path(X, y, n_alphas=5, tol=1e-14, max_iter=20, strategy="batched")
    assert not res.all_converged
    assert "max_iter" in set(res.status.tolist())
    assert int(res.n_iters.max()) == 20


def test_ridge_path_with_given_alphas():
    X, y = _data(n=50, p=20, seed=11)
    res = lasso_path(X, y, alphas=[1.0, 0.1, 0.01], l1_ratio=0.0, tol=1e-10)
    assert res.all_converged
    gaps = lt.duality_gap(X, y, res.coefs, res.alphas, l1_ratio=0.0, relative=True)
    assert float(gaps.max()) <= 1e-10


def test_alphas_are_sorted_descending():
    X, y = _data(seed=12)
    res = lasso_path(X, y, alphas=[0.01, 0.1, 0.05], tol=1e-8)
    torch.testing.assert_close(res.alphas, torch.tensor([0.1, 0.05, 0.01], dtype=X.dtype))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(alphas=[-1.0]), "alphas"),
        (dict(alphas=[]), "alphas"),
        (dict(n_alphas=0), "n_alphas"),
        (dict(eps=0.0), "eps"),
        (dict(l1_ratio=2.0), "l1_ratio"),
        (dict(masks=torch.ones(3, 2)), "masks"),
        (dict(masks=2 * torch.ones(60, 2)), "0 and 1"),
        (dict(masks=torch.zeros(60, 1)), "at least one row"),
    ],
)
def test_invalid_input_raises(kwargs, match):
    X, y = _data()
    with pytest.raises(lt.InputError, match=match):
        lasso_path(X, y, **kwargs)


def test_numpy_input_and_warm_path_direct():
    X, y = _data(n=40, p=30, seed=13)
    res = lasso_path(X.numpy(), y.numpy(), n_alphas=4, tol=1e-8)
    assert isinstance(res.coefs, torch.Tensor)
    rw = lasso_path(X, y, alphas=res.alphas, tol=1e-8, strategy="warm", solver="cd")
    assert rw.strategy == "warm" and rw.all_converged


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cuda_batched_path(dtype):
    X, y = _data(n=200, p=300, seed=14, dtype=dtype)
    M = _masks(200, 2).to(dtype)
    res = lasso_path(X.cuda(), y.cuda(), n_alphas=10, tol=1e-6 if dtype == torch.float64 else 1e-4,
                     masks=M.cuda())
    assert res.coefs.is_cuda and res.coefs.dtype == dtype
    cpu = lasso_path(X, y, n_alphas=10, tol=1e-6 if dtype == torch.float64 else 1e-4, masks=M)
    assert set(res.status.ravel().tolist()) <= {"converged", "stalled"}
    torch.testing.assert_close(res.coefs.cpu(), cpu.coefs, atol=1e-2, rtol=0)


def test_a_list_of_alphas_keeps_float64_precision():
    X, y = torch.randn(30, 5, dtype=torch.float64), torch.randn(30, dtype=torch.float64)
    res = lt.lasso_path(X, y, alphas=[0.8, 0.3], batched=False)
    assert res.alphas.tolist() == [0.8, 0.3]
