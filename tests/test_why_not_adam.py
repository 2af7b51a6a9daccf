"""Why no weight is exactly zero with Adam or SGD on ``loss + alpha |w|_1``, and what the
proximal counterparts do instead (the acceptance tests of issue 13)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import problem

import lasso_torch as lt
from lasso_torch.account import coefficient_account, sign_changes

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def user_loop(prob_name, make, n_steps, autograd_penalty, frac=0.1):
    """Full batch, the PyTorch way; returns the trace (T, p), alpha and the data."""
    prob = problem(prob_name)
    X, y = prob.tensors()
    alpha = frac * prob.alpha_max()
    model = lt.Lasso(X.shape[1], alpha=alpha, dtype=X.dtype)
    opt = make(model)
    trace = []
    for _ in range(n_steps):
        opt.zero_grad()
        (model.loss(X, y) if autograd_penalty else model.smooth_loss(X, y)).backward()
        opt.step()
        trace.append(model.coef.detach().clone())
    return torch.stack(trace).numpy(), alpha, X, y


def cd_solution(X, y, alpha):
    return lt.solve(X, y, alpha, solver="cd", tol=1e-14).coef.numpy()


@pytest.mark.parametrize("name,make", [
    ("SGD", lambda m: torch.optim.SGD(m.parameters(), lr=0.3)),
    ("SGD+momentum", lambda m: torch.optim.SGD(m.parameters(), lr=0.03, momentum=0.9)),
    ("Adam", lambda m: torch.optim.Adam(m.parameters(), lr=1e-2)),
])
def test_torch_optimizers_on_the_l1_loss_never_reach_zero_and_keep_flipping(name, make):
    C, alpha, X, y = user_loop("tall", make, 3000, autograd_penalty=True)
    zero = cd_solution(X, y, alpha) == 0
    assert zero.sum() >= 30
    tail = C[-1000:, zero]  # the last thousand steps, where the lasso solution is 0
    assert not (tail == 0.0).any()  # never once exactly 0.0
    assert min(sign_changes(tail)) >= 20  # every one of them still crossing 0
    acc = coefficient_account(np.arange(1, 3001), C)
    assert all(acc["zero_at"][j] is None for j in np.flatnonzero(zero))
    assert acc["n_zero"] == 0


def test_prox_sgd_full_batch_is_ista_iterate_for_iterate():
    runs = []
    for cls in (lt.optim.ISTA, lt.optim.ProxSGD):
        C, *_ = user_loop("tall", lambda m, c=cls: c(m.parameters(), lr=0.3, penalty=m.penalty),
                          300, autograd_penalty=False)
        runs.append(C)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert (runs[1][-1] == 0.0).sum() >= 30  # and it has exact zeros


@pytest.mark.parametrize("prob_name,frac", [("tall", 0.1), ("wide", 0.1), ("wide", 0.3)])
def test_full_batch_prox_adam_reaches_the_lasso_solution(prob_name, frac):
    C, alpha, X, y = user_loop(
        prob_name, lambda m: lt.optim.ProxAdam(m.parameters(), lr=0.05, penalty=m.penalty),
        3000, autograd_penalty=False, frac=frac)
    w = torch.from_numpy(C[-1])
    assert float(lt.duality_gap(X, y, w, alpha, relative=True)) <= 1e-6
    ref = cd_solution(X, y, alpha)
    np.testing.assert_array_equal(C[-1] == 0.0, ref == 0.0)  # CD's zeros, exactly
    acc = coefficient_account(np.arange(1, 3001), C)
    assert acc["support_final_at"] < 2000 and acc["n_zero"] == (ref == 0).sum()


def test_minibatch_prox_sgd_with_a_decreasing_step_finds_the_true_support():
    g = torch.Generator().manual_seed(0)
    n, p, batch = 4096, 30, 128
    X = torch.randn(n, p, generator=g, dtype=torch.float64)
    beta = torch.zeros(p, dtype=torch.float64)
    beta[[3, 11, 20]] = torch.tensor([2.0, -1.5, 1.0], dtype=torch.float64)
    y = X @ beta + 0.1 * torch.randn(n, generator=g, dtype=torch.float64)
    model = lt.Lasso(p, alpha=0.3, fit_intercept=False)
    opt = lt.optim.ProxSGD(model.parameters(), lr=0.1, penalty=model.penalty,
                           schedule="inv_sqrt")
    trace = []
    for _ in range(10):  # epochs, reshuffled with the seeded generator
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, batch):
            b = perm[i:i + batch]
            opt.zero_grad()
            model.smooth_loss(X[b], y[b]).backward()
            opt.step()
            trace.append(model.coef.detach().clone())
    C = torch.stack(trace).numpy()
    acc = coefficient_account(np.arange(1, len(C) + 1), C, beta_true=beta.numpy())
    assert acc["precision"] == 1.0 and acc["recall"] == 1.0
    assert acc["true_support_at"] is not None and acc["true_support_at"] < len(C) // 2
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 / len(C) ** 0.5)


def test_prox_adam_thresholds_each_coordinate_at_lr_alpha_over_its_scale():
    """First step: m_hat = g, v_hat = g^2, so d = |g| + eps and the threshold of
    coordinate j is lr alpha / d_j: a large gradient moves a coordinate by about lr and
    is thresholded by about lr alpha / |g_j|, a small one by lr alpha / |g_j| too."""
    w0 = torch.tensor([0.0, 0.0, 0.05, 0.02], dtype=torch.float64)
    g = torch.tensor([-10.0, -0.5, 0.0, 0.1], dtype=torch.float64)
    lr, alpha, eps = 0.1, 0.3, 1e-8
    w = w0.clone().requires_grad_(True)
    opt = lt.optim.ProxAdam([w], lr=lr, penalty=lt.L1(alpha), eps=eps)
    w.grad = g.clone()
    opt.step()
    d = g.abs() + eps
    z = w0 - lr * g / d
    expect = lt.soft_threshold(z, lr * alpha / d)
    torch.testing.assert_close(w.detach(), expect, rtol=1e-15, atol=0)
    # |g| > alpha leaves 0 whatever its scale (10 or 0.5: Adam's scale cancels); a
    # gradient below alpha (0.1) or none at all (d = eps: an enormous threshold) is 0.0
    assert (w.detach()[:2] != 0).all() and (w.detach()[2:] == 0.0).all()


def test_truncated_sgd_clips_what_crossed_or_touched_zero():
    w = torch.tensor([0.05, 1.0, 0.0, 0.1], dtype=torch.float64, requires_grad=True)
    opt = lt.optim.TruncatedSGD([w], lr=1.0, penalty=lt.L1(0.1))
    w.grad = torch.tensor([0.0, 0.0, 0.3, 0.0], dtype=torch.float64)
    opt.step()
    # 0.05 - 0.1 crossed -> 0; 1 - 0.1; 0 leaves by the smooth gradient only; 0.1 - 0.1 touched
    assert w.detach().tolist() == [0.0, pytest.approx(0.9), pytest.approx(-0.3), 0.0]
