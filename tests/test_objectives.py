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
