"""Duality gap against scikit-learn's dual_gap_, KKT conditions, alpha_max."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from conftest import problem, sklearn_coef

import lasso_torch as lt


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("name", ["wide", "tall", "diabetes"])
@pytest.mark.parametrize("max_iter", [3, 30])
def test_gap_equals_sklearn_dual_gap(name, l1_ratio, max_iter):
    """At scikit-learn's own (unconverged) iterate, our gap is its dual_gap_."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import ElasticNet

    prob = problem(name)
    alpha = 0.1 * prob.alpha_max()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        est = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-30, max_iter=max_iter)
        est.fit(prob.X, prob.y)
    X, y = prob.tensors()
    gap = float(lt.duality_gap(X, y, torch.from_numpy(est.coef_), alpha, l1_ratio))
    p0 = float(((prob.y - prob.y.mean()) ** 2).mean() / 2)
    # 1e-9 relative; near convergence both sides are rounding noise of size eps * P(0)
    assert gap == pytest.approx(est.dual_gap_, rel=1e-9, abs=1e-13 * p0)


def test_gap_is_an_upper_bound_on_suboptimality_and_zero_at_the_solution():
    prob = problem("wide")
    alpha = 0.2 * prob.alpha_max()
    X, y = prob.tensors()
    w_star = torch.from_numpy(sklearn_coef(prob, alpha, 1.0))
    df = lt.Quadratic(X, y)
    p_star = float(df.value(w_star)) + alpha * float(w_star.abs().sum())
    g = torch.Generator().manual_seed(0)
    for scale in (1e-3, 1e-1, 1.0):
        w = w_star + scale * torch.randn(w_star.shape, generator=g, dtype=torch.float64)
        sub = float(df.value(w)) + alpha * float(w.abs().sum()) - p_star
        assert float(lt.duality_gap(X, y, w, alpha)) >= sub - 1e-12
    assert float(lt.duality_gap(X, y, w_star, alpha, relative=True)) <= 1e-11
    assert float(lt.kkt_violation(X, y, w_star, alpha)) <= 1e-8 * alpha


def test_kkt_violation_by_hand():
    prob = problem("diabetes")
    X, y = prob.tensors()
    w = torch.zeros(X.shape[1], dtype=torch.float64)
    w[2] = 5.0
    alpha = 0.3
    Xc, yc = prob.X - prob.X.mean(0), prob.y - prob.y.mean()
    grad = -Xc.T @ (yc - Xc @ w.numpy()) / len(yc)
    expected = np.where(w.numpy() != 0, np.abs(grad + alpha * np.sign(w.numpy())),
                        np.maximum(np.abs(grad) - alpha, 0)).max()
    assert float(lt.kkt_violation(X, y, w, alpha)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_alpha_max_is_the_edge_of_the_all_zero_solution(l1_ratio):
    prob = problem("diabetes")
    X, y = prob.tensors()
    amax = float(lt.alpha_max(X, y, l1_ratio))
    assert amax == pytest.approx(prob.alpha_max() / l1_ratio, rel=1e-12)
    at = lt.solve(X, y, amax, l1_ratio, solver="cd", tol=1e-12)
    assert bool((at.coef == 0).all())
    below = lt.solve(X, y, 0.99 * amax, l1_ratio, solver="cd", tol=1e-12)
    assert int((below.coef != 0).sum()) == 1


def test_batched_certificates_match_column_by_column():
    prob = problem("tall")
    X, y = prob.tensors()
    alphas = torch.tensor([0.5, 0.1, 0.02], dtype=torch.float64) * prob.alpha_max()
    W = torch.stack([torch.from_numpy(sklearn_coef(prob, float(a), 1.0)) for a in alphas], 1)
    W = W + 1e-3  # off the solution, so the gaps are not all ~0
    batched = lt.certificates.certify(lt.Quadratic(X, y), W, alphas, 1.0)
    for k, a in enumerate(alphas):
        single = lt.certificates.certify(lt.Quadratic(X, y), W[:, k], float(a), 1.0)
        for b, s in zip(batched, single, strict=True):
            assert float(b[k]) == pytest.approx(float(s), rel=1e-12)
