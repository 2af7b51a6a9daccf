"""The torch.optim optimizers in a user's own loop, the PyTorch way."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import DEVICES, problem, sklearn_coef

import lasso_torch as lt

pytestmark = pytest.mark.usefixtures("one_torch_thread")


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


# --- every lt.optim optimizer, through one registry (as torch's optim_db) --------------
# make(params, penalty) builds it; autograd_penalty: the penalty goes into the loss (the
# optimizer takes none); exact: it reaches exact zeros; converges: full batch, to the solution.
OPTIM_DB = {
    "ISTA": (lambda ps, pen: lt.optim.ISTA(ps, lr=0.1, penalty=pen), False, True, True),
    "FISTA": (lambda ps, pen: lt.optim.FISTA(ps, lr=0.1, penalty=pen), False, True, True),
    "ProxSGD": (lambda ps, pen: lt.optim.ProxSGD(ps, lr=0.1, penalty=pen), False, True, True),
    "ProxSGD-momentum": (lambda ps, pen: lt.optim.ProxSGD(ps, lr=0.1, penalty=pen,
                                                           momentum=0.8), False, True, True),
    "ProxAdam": (lambda ps, pen: lt.optim.ProxAdam(ps, lr=0.02, penalty=pen), False, True, True),
    "TruncatedSGD": (lambda ps, pen: lt.optim.TruncatedSGD(ps, lr=0.1, penalty=pen),
                     False, False, False),
    "SubgradientDescent": (lambda ps, pen: lt.optim.SubgradientDescent(ps, lr=0.1),
                           True, False, False),
}
NAMES = list(OPTIM_DB)


def linear_data(n=200, p=8, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, p, generator=g, dtype=dtype)
    beta = torch.zeros(p, dtype=dtype)
    beta[:3] = torch.tensor([2.0, -1.5, 1.0], dtype=dtype)
    return X, X @ beta + 0.1 * torch.randn(n, generator=g, dtype=dtype) + 1.0


def build(name, model, penalties):
    make, autograd_penalty, _, _ = OPTIM_DB[name]
    groups = lt.optim.param_groups(model, penalties)
    if autograd_penalty:  # the penalty lives in the loss, the optimizer gets plain groups
        return make([g["params"] for g in groups][0] if len(groups) == 1 else
                    [{"params": g["params"]} for g in groups], None), groups
    return make(groups, None), groups


def train(model, opt, groups, X, y, steps, autograd_penalty):
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * ((model(X).squeeze(-1) - y) ** 2).mean()
        if autograd_penalty:
            loss = loss + sum(g["penalty"].value(p).sum() for g in groups
                              if g["penalty"] is not None for p in g["params"])
        loss.backward()
        opt.step()
    return loss.detach()


@pytest.mark.parametrize("name", NAMES)
def test_every_optimizer_on_an_nn_linear_with_an_unpenalized_bias(name):
    X, y = linear_data()
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 1, dtype=torch.float64)
    alpha = 0.05
    opt, groups = build(name, model, {"weight": lt.L1(alpha)})
    assert [len(g["params"]) for g in groups] == [1, 1] and groups[1]["penalty"] is None
    _, autograd_penalty, exact, converges = OPTIM_DB[name]
    train(model, opt, groups, X, y, 600, autograd_penalty)
    w = model.weight.detach()
    assert w.shape == (1, 8) and torch.isfinite(w).all()
    gap = float(lt.duality_gap(X, y, model.weight, alpha, relative=True))  # the (1, p) weight
    if converges:
        assert gap < 1e-8
        ref = lt.solve(X, y, alpha, solver="cd", tol=1e-14).coef
        assert torch.equal(w[0] == 0, ref == 0)
    else:
        assert gap < 1e-1
    if exact:
        assert (w[0, 3:] == 0.0).all()
    if name == "SubgradientDescent":
        assert not (w == 0.0).any()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("penalty", [lt.penalties.GroupL1(0.05), lt.L1(0.01),
                                     lt.penalties.ElasticNet(0.02, 0.5)], ids=repr)
def test_every_optimizer_on_an_mlp_with_a_penalized_first_layer(name, penalty):
    X, y = linear_data(p=8)
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    mlp = mlp.double()
    opt, groups = build(name, mlp, {"0.weight": penalty})
    _, autograd_penalty, exact, _ = OPTIM_DB[name]
    with torch.no_grad():
        start = 0.5 * ((mlp(X).squeeze(-1) - y) ** 2).mean()
    loss = train(mlp, opt, groups, X, y, 300, autograd_penalty)
    assert torch.isfinite(loss) and loss < 0.2 * start
    W = mlp[0].weight.detach()
    if exact and isinstance(penalty, lt.penalties.GroupL1):  # whole input columns dropped
        dead = (W == 0.0).all(0)
        assert dead[3:].sum() >= 3 and not dead[:3].any()
    elif exact and penalty.l1_ratio > 0:
        assert (W == 0.0).any()


def clone_setup(name, seed=0):
    X, y = linear_data(p=6)
    torch.manual_seed(seed)
    mlp = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1))
    mlp = mlp.double()
    opt, groups = build(name, mlp, {"0.weight": lt.L1(0.02)})
    return mlp, opt, groups, X, y


@pytest.mark.parametrize("eval_mode", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trips_through_a_plain_torch_load_bit_identically(name, eval_mode):
    import io

    autograd_penalty = OPTIM_DB[name][1]
    mlp, opt, groups, X, y = clone_setup(name)
    train(mlp, opt, groups, X, y, 7, autograd_penalty)
    if eval_mode:
        if not hasattr(opt, "eval"):
            pytest.skip("torch.optim.SGD has no eval mode")
        opt.eval()
    buf = io.BytesIO()
    torch.save({"model": mlp.state_dict(), "opt": opt.state_dict()}, buf)
    buf.seek(0)
    ckpt = torch.load(buf)  # weights_only=True: plain data only, no pickled penalty
    mlp2, opt2, groups2, _, _ = clone_setup(name, seed=1)  # other initial values
    mlp2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["opt"])
    if not autograd_penalty:  # the penalties are the live objects of the new optimizer
        assert [g["penalty"] for g in opt2.param_groups] == [g["penalty"] for g in groups2]
    if eval_mode:
        with pytest.raises(RuntimeError, match="eval"):
            opt2.step()
        opt.train()
        opt2.train()
    train(mlp, opt, groups, X, y, 5, autograd_penalty)
    train(mlp2, opt2, groups2, X, y, 5, autograd_penalty)
    for a, b in zip(mlp.parameters(), mlp2.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", [n for n in NAMES if not OPTIM_DB[n][1]])
@pytest.mark.parametrize("schedule,factor", [("constant", 1.0), ("inv_sqrt", 0.5), ("inv", 0.25)])
def test_every_optimizer_takes_a_step_schedule(name, schedule, factor):
    w = torch.ones(3, dtype=torch.float64, requires_grad=True)
    cls = type(OPTIM_DB[name][0]([w], lt.L1(0.1)))
    opt = cls([w], lr=0.1, penalty=lt.L1(0.1), schedule=schedule)
    for _ in range(4):
        w.grad = torch.zeros(3, dtype=torch.float64)
        opt.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * factor)
    assert opt.param_groups[0]["steps"] == 4
    sub = lt.optim.SubgradientDescent([w], lr=0.1, schedule=schedule)
    for _ in range(4):
        sub.step()
    assert sub.param_groups[0]["lr"] == pytest.approx(0.1 * factor)


@pytest.mark.parametrize("name", [n for n in NAMES if not OPTIM_DB[n][1]])
def test_penalty_and_lr_are_checked_per_group(name):
    make = OPTIM_DB[name][0]
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="prox"):
        make([w], object())
    with pytest.raises(TypeError, match="instance"):
        make([w], lt.L1)
    with pytest.raises(ValueError, match="lr"):
        make([{"params": [w], "lr": -1.0}], lt.L1(0.1))
    opt = make([w], lt.L1(0.1))
    with pytest.raises(ValueError, match="lr"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": float("nan")})
    opt.param_groups[0]["lr"] = -1.0  # set by hand after construction: refused at the step
    w.grad = torch.ones(2)
    with pytest.raises(ValueError, match="lr"):
        opt.step()
    with pytest.raises(ValueError, match="schedule"):
        type(opt)([w], lr=0.1, penalty=lt.L1(0.1), schedule="cosine")


@pytest.mark.parametrize("name", NAMES)
def test_a_non_finite_iterate_stops_with_a_clear_message(name):
    w = torch.ones(4, requires_grad=True)
    opt = OPTIM_DB[name][0]([w], None if OPTIM_DB[name][1] else lt.L1(1e-3))
    with pytest.raises(FloatingPointError, match="not finite after step 3"):
        for k in range(10):
            w.grad = torch.full((4,), float("nan") if k == 2 else 1.0)
            opt.step()
    opt.check_finite = 0  # off: the user's own loop decides
    w.grad = torch.ones(4)
    opt.step()


def test_fista_restart_on_2d_params_and_t_wide_under_bfloat16():
    X, y = linear_data(p=5, dtype=torch.float32)
    model = torch.nn.Linear(5, 1).to(torch.bfloat16)
    opt = lt.optim.FISTA(model.parameters(), lr=0.1, penalty=lt.L1(0.01))
    Xb, yb = X.to(torch.bfloat16), y.to(torch.bfloat16)
    for _ in range(50):
        opt.zero_grad()
        (0.5 * ((model(Xb).squeeze(-1) - yb) ** 2).mean()).backward()
        opt.step()
    st = opt.state[model.weight]
    assert st["t"].dtype == torch.float32 and model.weight.dtype == torch.bfloat16
    assert float(st["t"]) > 1  # momentum did build up (no restart every step)
    opt2 = lt.optim.FISTA(model.parameters(), lr=0.1, penalty=lt.L1(0.01))
    opt2.load_state_dict(opt.state_dict())
    assert opt2.state[model.weight]["t"].dtype == torch.float32
    assert torch.equal(opt2.state[model.weight]["t"], st["t"])


@pytest.mark.parametrize("accelerated", [False, True])
def test_backtracking_takes_an_lbfgs_style_closure(accelerated):
    """The closure zeroes the grads, calls backward and returns f (torch's convention):
    the same iterates and step as a closure that only returns f, grads set beforehand."""
    X, y = linear_data(p=6)
    L = float(lt.Quadratic(X, y, fit_intercept=False).lipschitz)
    runs = []
    for style in ("torch", "value"):
        w = torch.zeros(6, dtype=torch.float64, requires_grad=True)
        opt = lt.optim.ProximalGradient([w], lr=64 / L, penalty=lt.L1(0.05),
                                        accelerated=accelerated, backtracking=True)

        def f(w=w):
            return ((X @ w - y) ** 2).sum() / (2 * len(y))

        def closure(opt=opt, f=f):
            opt.zero_grad()
            loss = f()
            loss.backward()
            return loss

        for _ in range(100):
            if style == "torch":
                opt.step(closure)
            else:
                opt.zero_grad()
                f().backward()
                opt.step(lambda f=f: f().detach())
        runs.append((opt.state[w]["x"].clone(), opt.param_groups[0]["lr"]))
    torch.testing.assert_close(runs[0][0], runs[1][0], rtol=0, atol=0)
    assert runs[0][1] == runs[1][1] and 1 / (2 * L) <= runs[0][1] <= 1 / L * (1 + 1e-6)
    ref = lt.solve(X, y, 0.05, fit_intercept=False, solver="cd", tol=1e-14).coef
    torch.testing.assert_close(runs[0][0], ref, rtol=1e-6, atol=1e-8)


def test_param_groups_by_name():
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    pen = lt.penalties.GroupL1(0.1)
    groups = lt.optim.param_groups(mlp, {"0.weight": pen, "*.bias": None}, default=lt.L1(0.01))
    assert [g["penalty"] for g in groups[:2]] == [pen, None]
    assert groups[0]["params"] == [mlp[0].weight]
    assert groups[1]["params"] == [mlp[0].bias, mlp[2].bias]
    assert groups[2]["params"] == [mlp[2].weight] and isinstance(groups[2]["penalty"], lt.L1)
    with pytest.raises(ValueError, match="'1.weight' names no parameter.*0.weight"):
        lt.optim.param_groups(mlp, {"1.weight": pen})
    with pytest.raises(TypeError, match="instance"):
        lt.optim.param_groups(mlp, {"0.weight": lt.L1})
