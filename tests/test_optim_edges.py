"""lt.optim at the edges, as a PyTorch user meets them (issue 26): complex parameters,
refused param groups, foreign checkpoints, schedule= beside a torch LR scheduler, meta
tensors, float16 eps."""

from __future__ import annotations

import pytest
import torch

import lasso_torch as lt

OPTIMIZERS = ["ISTA", "FISTA", "ProxSGD", "ProxAdam", "TruncatedSGD"]


def _opt(name: str, params, **kw):
    kw.setdefault("lr", 0.05)
    return getattr(lt.optim, name)(params, **kw)


def _quadratic_step(opt, w, target):
    opt.zero_grad()
    ((w - target) ** 2).sum().backward()
    opt.step()


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("penalty", [None, lt.L1(0.1)])
def test_complex_parameters_are_refused_clearly(name, penalty):
    if name == "TruncatedSGD" and penalty is None:
        penalty = lt.L1(0.0)
    w = torch.zeros(3, dtype=torch.complex64, requires_grad=True)
    with pytest.raises(TypeError, match=r"param group 0: parameter 0 is complex "
                       r"\(torch.complex64\).*view_as_real"):
        _opt(name, [w], penalty=penalty)


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("bad", [{"lr": -1.0}, {"lr": float("nan")}, {"penalty": lt.L1},
                                 {"schedule": "cosine"},
                                 {"params": [torch.zeros(2, dtype=torch.complex128)]}])
def test_a_refused_param_group_leaves_nothing_behind(name, bad):
    torch.manual_seed(0)
    w = torch.randn(4, requires_grad=True)
    extra = torch.randn(2, requires_grad=True)
    opt = _opt(name, [w], penalty=lt.L1(0.01))
    with pytest.raises((TypeError, ValueError)):
        opt.add_param_group({"params": [extra], **bad})
    assert len(opt.param_groups) == 1 and opt.param_groups[0]["params"] == [w]
    before = w.detach().clone()
    _quadratic_step(opt, w, torch.ones(4))  # still steps, on the good group only
    assert not torch.equal(w.detach(), before) and extra.grad is None
    opt.add_param_group({"params": [extra]})  # the same parameter may be added properly
    assert len(opt.param_groups) == 2


def test_a_torch_adam_checkpoint_is_refused_by_prox_adam():
    w = torch.randn(5, requires_grad=True)
    adam = torch.optim.Adam([w], lr=0.1)
    _quadratic_step(adam, w, torch.zeros(5))
    prox = lt.optim.ProxAdam([w], lr=0.1, penalty=lt.L1(0.1))
    _quadratic_step(prox, w, torch.zeros(5))
    before = prox.state_dict()
    with pytest.raises(ValueError, match=r"param group 0 lacks base_lr, schedule, steps: the "
                       r"state dict of another optimizer"):
        prox.load_state_dict(adam.state_dict())
    assert prox.state_dict()["param_groups"][0] == before["param_groups"][0]  # unchanged
    _quadratic_step(prox, w, torch.zeros(5))  # and it still steps
    # a ProxAdam group with another optimizer's per-parameter state
    sd = prox.state_dict()
    sd["state"][0] = {"momentum_buffer": torch.zeros(5)}
    with pytest.raises(ValueError, match="parameter 0 lacks exp_avg, exp_avg_sq, step"):
        lt.optim.ProxAdam([w], lr=0.1).load_state_dict(sd)
    # its own state dict still loads
    fresh = lt.optim.ProxAdam([w], lr=0.1, penalty=lt.L1(0.1))
    fresh.load_state_dict(prox.state_dict())


@pytest.mark.parametrize("name", ["ProxSGD", "ProxAdam", "ISTA"])
def test_schedule_and_a_torch_lr_scheduler_are_not_combined(name):
    w = torch.randn(3, requires_grad=True)
    opt = _opt(name, [w], penalty=lt.L1(0.01), schedule="inv_sqrt")
    torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    with pytest.raises(ValueError, match="schedule='inv_sqrt' and a torch.optim.lr_scheduler"):
        _quadratic_step(opt, w, torch.ones(3))
    # schedule="constant" composes: the scheduler's lr is the step taken
    opt = _opt(name, [w], penalty=None, lr=0.2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        _quadratic_step(opt, w, torch.ones(3))
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(sched.get_last_lr()[0]) == 0.025


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_meta_parameters_step_without_a_finiteness_error(name):
    w = torch.empty(4, device="meta", requires_grad=True)
    opt = _opt(name, [w], penalty=lt.L1(0.1))
    w.grad = torch.empty(4, device="meta")
    opt.step()  # shapes only: nothing to check for finiteness
    assert w.is_meta


def test_float16_prox_adam_names_the_eps_underflow():
    w = torch.zeros(6, dtype=torch.float16, requires_grad=True)
    with pytest.raises(ValueError, match=r"eps=1e-08 underflows to 0 in torch.float16"):
        lt.optim.ProxAdam([w], lr=1e-2, penalty=lt.L1(0.1))
    opt = lt.optim.ProxAdam([w], lr=1e-2, penalty=lt.L1(0.01), eps=1e-4)
    w.grad = torch.tensor([0.0, 0.0, 1.0, -1.0, 0.5, 0.0], dtype=torch.float16)
    opt.step()  # coordinates without gradient stay finite (were 0 / 0)
    assert torch.isfinite(w).all() and (w[[0, 1, 5]] == 0).all()


@pytest.mark.parametrize("strategy", ["batched", "warm"])
def test_an_unconverged_path_warns_like_solve(strategy):
    import warnings

    torch.manual_seed(0)
    X = torch.randn(40, 12, dtype=torch.float64)
    y = X[:, 0] - 2 * X[:, 3] + 0.1 * torch.randn(40, dtype=torch.float64)
    with pytest.warns(lt.ConvergenceWarning, match=r"lasso_path: \d+ of 6 points did not "
                      r"converge \(\d+ max_iter\); worst relative gap"):
        res = lt.lasso_path(X, y, n_alphas=6, strategy=strategy, solver="fista", max_iter=1,
                            tol=1e-14)
    assert any(s != "converged" for s in res.status)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lt.lasso_path(X, y, n_alphas=6, strategy=strategy)  # converged: silent
        lt.lasso_path(X, y, n_alphas=6, strategy=strategy, solver="fista", max_iter=1,
                      tol=1e-14, warn=False)


def test_lasso_cv_with_no_alphas_is_one_line():
    import numpy as np

    from lasso_torch.sklearn import TorchLassoCV

    X = np.random.default_rng(1).normal(size=(30, 4))
    with pytest.raises(lt.InputError, match="alphas: an empty list"):
        TorchLassoCV(alphas=[]).fit(X, X[:, 0])


def test_smooth_only_lbfgs_is_refused_on_l1_unless_asked_for_explicitly():
    torch.manual_seed(2)
    X = torch.randn(30, 5, dtype=torch.float64)
    y = X @ torch.tensor([1.0, 0, 0, -1, 0], dtype=torch.float64)
    with pytest.raises(lt.InputError, match="solver 'lbfgs' .*assumes a smooth objective.*"
                       "solver='torch.optim.LBFGS'"):
        lt.solve(X, y, 0.05, solver="lbfgs", max_iter=5)
    ridge = lt.solve(X, y, 0.05, 0.0, solver="lbfgs", max_iter=20, warn=False)
    assert ridge.status != "diverged" and torch.isfinite(ridge.objective)  # smooth: allowed
    explicit = lt.solve(X, y, 0.05, solver="torch.optim.LBFGS", max_iter=3, warn=False)
    assert explicit.status != "converged"  # asked for: runs, and says it did not converge


@pytest.mark.parametrize("solver,lr", [("adam", 4.0), ("sgd", 3.0), ("prox_sgd", 3.0)])
def test_an_answer_worse_than_zero_at_max_iter_is_diverged(solver, lr):
    torch.manual_seed(4)
    X = torch.randn(50, 8, dtype=torch.float64)
    y = X[:, 1] - X[:, 5] + 0.05 * torch.randn(50, dtype=torch.float64)
    res = lt.solve(X, y, 0.1, solver=solver, lr=lr, max_iter=25, warn=False)
    yc = (y - y.mean()).double()
    p0 = float(yc @ yc) / (2 * len(y))  # P(0), recomputed here
    assert float(res.objective) > p0 or not torch.isfinite(res.objective)
    assert res.status == "diverged"
    ok = lt.solve(X, y, 0.1, solver=solver, lr=0.01, max_iter=25, warn=False)
    assert ok.status == "max_iter" and float(ok.objective) < p0  # slow, not diverged


@pytest.mark.parametrize("make", [
    lambda tau: (lambda eta, y: torch.maximum(tau * (y - eta), (tau - 1) * (y - eta))),
    lambda tau: (lambda eta, y: (y - eta).abs().mean()),  # one number, no curvature
    lambda tau: (lambda eta, y: torch.relu(1 - y * eta)),  # the hinge
])
def test_piecewise_linear_user_losses_are_one_line(make):
    torch.manual_seed(5)
    X = torch.randn(40, 4, dtype=torch.float64)
    y = X[:, 2] + 0.1 * torch.randn(40, dtype=torch.float64)
    for solver in ("fista", "auto"):
        with pytest.raises(lt.InputError, match=r"^loss\(pred, y\) is piecewise linear"):
            lt.solve(X, y, 0.05, loss=make(0.25), solver=solver)
    smooth = lt.solve(X, y, 0.05, loss=lambda eta, y: torch.nn.functional.huber_loss(
        eta, y, reduction="none", delta=0.5), solver="fista", max_iter=3000)
    assert torch.isfinite(smooth.objective)  # a curved loss still runs
