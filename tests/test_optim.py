"""The torch.optim optimizers in a user's own loop, the PyTorch way."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import DEVICES, problem, sklearn_coef

import lasso_torch as lt


def user_loop(model, opt, X, y, n_iter):
    for _ in range(n_iter):
        opt.zero_grad()
        model.smooth_loss(X, y).backward()
        opt.step()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["ISTA", "FISTA"])
@pytest.mark.parametrize("cls,l1_ratio", [(lt.Lasso, 1.0), (lt.ElasticNet, 0.5), (lt.Ridge, 0.0)])
def test_user_loop_reaches_lt_solve(device, name, cls, l1_ratio):
    prob = problem("diabetes")
    X, y = prob.tensors(device)
    alpha = 0.05 * prob.alpha_max() / max(l1_ratio, 0.05)
    kw = {} if cls is not lt.ElasticNet else {"l1_ratio": l1_ratio}
    model = cls(n_features=X.shape[1], alpha=alpha, dtype=X.dtype, device=device, **kw)
    L = float(lt.Quadratic(X, y).lipschitz)
    opt = getattr(lt.optim, name)(model.parameters(), lr=1 / L, penalty=model.penalty)
    user_loop(model, opt, X, y, 3000 if name == "ISTA" else 400)
    opt.eval() if name == "FISTA" else None
    if l1_ratio > 0:  # independent references: scikit-learn, or ridge's linear system
        ref = sklearn_coef(prob, alpha, l1_ratio)
    else:
        Xc, yc = prob.X - prob.X.mean(0), prob.y - prob.y.mean()
        n, p = Xc.shape
        ref = np.linalg.solve(Xc.T @ Xc / n + alpha * np.eye(p), Xc.T @ yc / n)
    ref = torch.from_numpy(ref).to(device)
    torch.testing.assert_close(model.coef.detach(), ref, rtol=1e-7, atol=1e-7)
    model.smooth_loss(X, y)  # refresh the profiled intercept for the final coef
    b = y.mean() - X.mean(0) @ ref
    torch.testing.assert_close(model.intercept, b, rtol=1e-9, atol=1e-7)
    if l1_ratio > 0:  # exact zeros in the parameter itself, where the solution has them
        assert torch.equal(model.coef.detach() == 0, ref == 0)
    torch.testing.assert_close(model(X), X @ ref + b, rtol=1e-6, atol=1e-6)


def test_fista_parameter_holds_the_momentum_point_and_eval_swaps_in_the_iterate():
    prob = problem("tall")
    X, y = prob.tensors()
    model = lt.Lasso(X.shape[1], alpha=0.05 * prob.alpha_max(), dtype=X.dtype)
    opt = lt.optim.FISTA(model.parameters(), lr=1 / float(lt.Quadratic(X, y).lipschitz),
                         penalty=model.penalty)
    user_loop(model, opt, X, y, 5)
    y_k = model.coef.detach().clone()
    x_k = opt.state[model.coef]["x"].clone()
    opt.eval()
    assert torch.equal(model.coef.detach(), x_k)
    with pytest.raises(RuntimeError, match="eval"):
        opt.step()
    opt.train()
    assert torch.equal(model.coef.detach(), y_k)


def test_restart_helps_on_an_ill_conditioned_problem():
    prob = problem("wide")
    X, y = prob.tensors()
    alpha = 0.05 * prob.alpha_max()
    with_restart = lt.solve(X, y, alpha, solver="fista", tol=1e-8, max_iter=50_000)
    without = lt.solve(X, y, alpha, solver="fista", restart=False, tol=1e-8, max_iter=50_000)
    assert with_restart.converged and without.converged
    assert with_restart.n_iter < without.n_iter


@pytest.mark.parametrize("solver", ["ista", "fista"])
def test_backtracking_recovers_from_a_too_large_step(solver):
    prob = problem("tall")
    X, y = prob.tensors()
    alpha = 0.05 * prob.alpha_max()
    L = float(lt.Quadratic(X, y).lipschitz)
    res = lt.solve(X, y, alpha, solver=solver, lr=64 / L, backtracking=True, tol=1e-10)
    assert res.converged
    assert 1 / (2 * L) <= res.lr <= 1 / L * (1 + 1e-6)  # shrank by factors of 2 to about 1/L
    plain = lt.solve(X, y, alpha, solver=solver, lr=64 / L, max_iter=2000, warn=False)
    assert plain.status == "diverged"


def test_backtracking_needs_a_closure():
    w = torch.zeros(3, requires_grad=True)
    opt = lt.optim.ISTA([w], lr=1.0, penalty=lt.L1(0.1), backtracking=True)
    w.grad = torch.ones(3)
    with pytest.raises(ValueError, match="closure"):
        opt.step()


def test_unpenalized_param_group_gets_a_plain_gradient_step():
    w = torch.tensor([0.05, 2.0], requires_grad=True)
    b = torch.tensor([0.05], requires_grad=True)
    opt = lt.optim.ISTA([{"params": [w]}, {"params": [b], "penalty": None}],
                        lr=1.0, penalty=lt.L1(0.1))
    w.grad, b.grad = torch.zeros(2), torch.zeros(1)
    opt.step()
    assert w.tolist() == [0.0, pytest.approx(1.9)] and b.tolist() == [pytest.approx(0.05)]


def test_subgradient_constant_schedule_is_exactly_sgd_and_inv_sqrt_decays():
    torch.manual_seed(0)
    A = torch.randn(20, 5, dtype=torch.float64)
    t = torch.randn(20, dtype=torch.float64)
    runs = []
    for make in (lambda p: torch.optim.SGD(p, lr=0.01),
                 lambda p: lt.optim.SubgradientDescent(p, lr=0.01)):
        w = torch.zeros(5, dtype=torch.float64, requires_grad=True)
        opt = make([w])
        for _ in range(50):
            opt.zero_grad()
            (((A @ w - t) ** 2).mean() + 0.1 * w.abs().sum()).backward()
            opt.step()
        runs.append(w.detach())
    assert torch.equal(runs[0], runs[1])
    w = torch.zeros(5, requires_grad=True)
    opt = lt.optim.SubgradientDescent([w], lr=1.0, schedule="inv_sqrt")
    for _ in range(4):
        w.grad = torch.ones(5)
        opt.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5)  # 1 / sqrt(4)


@pytest.mark.parametrize("bad", [dict(lr=0.0), dict(lr=-1.0), dict(backtrack_factor=1.0)])
def test_optimizer_arguments_are_checked(bad):
    kw = dict(lr=1.0, penalty=lt.L1(0.1)) | bad
    with pytest.raises(ValueError):
        lt.optim.FISTA([torch.zeros(2, requires_grad=True)], **kw)
