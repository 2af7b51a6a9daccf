"""The objectives as nn.Modules, and the penalties they are built from."""

from __future__ import annotations

import pytest
import torch
from conftest import problem

import lasso_torch as lt
from lasso_torch.penalties import ElasticNet as ElasticNetPenalty


def test_modules_hold_coef_as_the_only_parameter_and_profile_the_intercept():
    prob = problem("diabetes")
    X, y = prob.tensors()
    m = lt.ElasticNet(X.shape[1], alpha=0.1, l1_ratio=0.3, dtype=torch.float64)
    assert [n for n, _ in m.named_parameters()] == ["coef"]
    assert isinstance(m, torch.nn.Module) and m.penalty.l1_ratio == 0.3
    with torch.no_grad():
        m.coef.normal_(generator=torch.Generator().manual_seed(0))
    loss = m.smooth_loss(X, y)
    r = (y - X @ m.coef - m.intercept).detach()  # the intercept the loss set is the best one
    assert float(r.mean()) == pytest.approx(0.0, abs=1e-10)
    assert float(loss.detach()) == pytest.approx(float((r * r).sum() / (2 * len(y))), rel=1e-12)
    full = m.loss(X, y)
    w = m.coef.detach()
    pen = 0.1 * (0.3 * w.abs().sum() + 0.35 * (w * w).sum())
    assert float((full - loss).detach()) == pytest.approx(float(pen), rel=1e-12)


def test_no_intercept_means_no_centering():
    prob = problem("diabetes")
    X, y = prob.tensors()
    m = lt.Lasso(X.shape[1], alpha=0.1, fit_intercept=False, dtype=torch.float64)
    assert float(m.smooth_loss(X, y).detach()) == pytest.approx(float((y * y).sum() / (2 * len(y))))
    assert float(m.intercept) == 0.0
    res = lt.solve(X, y, 0.1, fit_intercept=False, solver="cd", tol=1e-12)
    assert float(res.intercept) == 0.0


def test_penalty_objects():
    w = torch.tensor([-2.0, 0.0, 0.5], dtype=torch.float64)
    assert float(lt.L1(0.5).value(w)) == pytest.approx(1.25)
    assert float(lt.L2(0.5).value(w)) == pytest.approx(0.25 * 4.25)
    en = ElasticNetPenalty(0.5, 0.4)
    assert float(en.value(w)) == pytest.approx(0.5 * (0.4 * 2.5 + 0.3 * 4.25))
    # subdifferential distance: zero at 0 when |grad| <= alpha, |grad + alpha sign| elsewhere
    g = torch.tensor([0.1, 0.3, -0.5], dtype=torch.float64)
    d = lt.L1(0.5).subdiff_distance(w, g)
    torch.testing.assert_close(d, torch.tensor([0.4, 0.0, 0.0], dtype=torch.float64))
    W = torch.stack([w, 2 * w], 1)  # batched columns with one alpha per column
    v = lt.L1(torch.tensor([0.5, 1.0], dtype=torch.float64)).value(W)
    torch.testing.assert_close(v, torch.tensor([1.25, 5.0], dtype=torch.float64))
    assert torch.isinf(lt.L2(1.0).alpha_max(g))
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNetPenalty(1.0, 1.5)
    with pytest.raises(ValueError, match="alpha"):
        lt.L1(-1.0)


def test_modules_take_the_datas_dtype_and_device_on_first_use():
    """The README's loop on float64 data: the module was built float32 by default."""
    prob = problem("diabetes")
    X, y = prob.tensors()  # float64
    model = lt.Lasso(n_features=X.shape[1], alpha=0.1)
    param = model.coef
    opt = lt.optim.ISTA(model.parameters(), lr=1.0, penalty=model.penalty)
    opt.zero_grad()
    model.smooth_loss(X, y).backward()
    opt.step()
    assert model.coef is param and model.coef.dtype == torch.float64
    assert model.intercept.dtype == torch.float64
    with pytest.raises(ValueError, match="float32.*float64"):
        model(X.float())  # settled: another dtype afterwards is an error that says so
    fixed = lt.Ridge(X.shape[1], alpha=0.1, dtype=torch.float32)
    with pytest.raises(ValueError, match="dtype=X.dtype"):
        fixed.smooth_loss(X, y)


def test_smooth_loss_under_no_grad_leaves_the_intercept_alone():
    prob = problem("diabetes")
    X, y = prob.tensors()
    m = lt.Lasso(X.shape[1], alpha=0.1, dtype=torch.float64)
    with torch.no_grad():
        m.coef.normal_(generator=torch.Generator().manual_seed(0))
    m.smooth_loss(X[:300], y[:300])  # training: profiles and stores the intercept
    b = m.intercept.clone()
    with torch.no_grad():
        val = m.smooth_loss(X[300:], y[300:])  # validation: the model as it stands
    assert torch.equal(m.intercept, b)
    r = y[300:] - X[300:] @ m.coef.detach() - b
    assert float(val) == pytest.approx(float((r * r).sum() / (2 * len(r))), rel=1e-12)
    with torch.no_grad():
        m.smooth_loss(X[300:], y[300:], update_intercept=True)
    assert not torch.equal(m.intercept, b)


def test_duality_gap_takes_an_nn_linear_weight():
    prob = problem("diabetes")
    X, y = prob.tensors()
    lin = torch.nn.Linear(X.shape[1], 1, dtype=torch.float64)
    w = lin.weight.detach()[0]
    assert lin.weight.shape == (1, X.shape[1])
    assert torch.equal(lt.duality_gap(X, y, lin.weight, 0.1), lt.duality_gap(X, y, w, 0.1))
    assert torch.equal(lt.kkt_violation(X, y, lin.weight, 0.1), lt.kkt_violation(X, y, w, 0.1))


def test_group_l1_penalty_on_input_columns():
    from lasso_torch.penalties import GroupL1

    W = torch.tensor([[3.0, 0.1, 0.0], [4.0, -0.1, 0.0]], dtype=torch.float64)  # (out, in)
    pen = GroupL1(0.5, dim=0)  # one group per input column
    assert float(pen.value(W)) == pytest.approx(0.5 * (5.0 + 0.02**0.5))
    out = pen.prox(W, 1.0)  # block soft-threshold at 0.5
    torch.testing.assert_close(out[:, 0], W[:, 0] * (1 - 0.5 / 5.0))
    assert (out[:, 1:] == 0.0).all() and not torch.signbit(out[:, 1:]).any()
    g = torch.tensor([[0.3, 0.3], [0.4, 0.0]], dtype=torch.float64)
    d = pen.subdiff_distance(torch.tensor([[0.0, 1.0], [0.0, 0.0]], dtype=torch.float64), g)
    torch.testing.assert_close(d, torch.tensor([0.0, 0.3 + 0.5],
                                               dtype=torch.float64))
    assert float(pen.alpha_max(g)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="alpha"):
        GroupL1(-1.0)


def test_group_prox_in_a_diagonal_metric():
    """Uniform steps: the block soft-threshold; any steps: the optimality conditions hold."""
    from lasso_torch.penalties import GroupL1
    from lasso_torch.prox import group_prox_diag, group_soft_threshold

    gen = torch.Generator().manual_seed(0)
    z = torch.randn(6, 40, generator=gen, dtype=torch.float64)
    same = group_prox_diag(z, torch.full_like(z, 0.3), 0.8, dim=0)
    torch.testing.assert_close(same, group_soft_threshold(z, 0.3 * 0.8, dim=0),
                               rtol=1e-13, atol=1e-15)
    step = 10 ** (-3 * torch.rand(6, 40, generator=gen, dtype=torch.float64))
    z = z * 10 ** (-3 * torch.rand(1, 40, generator=gen, dtype=torch.float64))
    w = GroupL1(0.8).prox(z, step)
    norm = w.norm(dim=0, keepdim=True)
    zero = (norm == 0).squeeze(0)
    assert zero.any() and (~zero).any()
    kkt = (w - z) / step + 0.8 * w / norm  # stationarity on the nonzero groups
    assert kkt[:, ~zero].abs().max() < 1e-9
    assert ((z / step)[:, zero].norm(dim=0) <= 0.8).all()  # zero iff ||z/step|| <= alpha
