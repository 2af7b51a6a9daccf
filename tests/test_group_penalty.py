"""Group penalties (lasso_torch/group_penalty.py): the group Lasso equals skglm's, the
sparse group Lasso and GLM losses equal FISTA on the same penalty (both certified by the
gap), alpha_max is the exact threshold, groups go to zero together, auto runs the compiled
block CD, and bad groups are one clear error."""

from __future__ import annotations

import numpy as np
import pytest

import lasso_torch as lt
from lasso_torch.group_penalty import SparseGroupLasso

pytestmark = pytest.mark.usefixtures("one_torch_thread")
GROUPS = [[0, 1, 2], [3, 4], [5, 6, 7, 8], [9, 10, 11]]


def _data(seed=0, n=60, p=12):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, :3] @ np.array([1.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(n)
    return rng, X, y


def _bcd_reference(X, y, alpha, size, c, epochs=5000):
    """The group Lasso by exact block coordinate descent (numpy; no intercept, X orthogonal
    within groups is not needed: each block solves its 1-D radial equation by bisection)."""
    n, p = X.shape
    w, r = np.zeros(p), y.copy()
    for _ in range(epochs):
        for k, g in enumerate(range(0, p, size)):
            sl = slice(g, g + size)
            Xg = X[:, sl]
            r += Xg @ w[sl]
            z = Xg.T @ r / n
            if np.linalg.norm(z) <= alpha * c[k]:
                w[sl] = 0.0
            else:  # (Xg^T Xg / n + alpha c / t I) w = z with t = ||w||: bisection on t
                A = Xg.T @ Xg / n
                lo, hi = 0.0, np.linalg.norm(z) / np.linalg.eigvalsh(A)[0]
                for _ in range(200):
                    t = (lo + hi) / 2
                    v = np.linalg.solve(A + alpha * c[k] / t * np.eye(size), z)
                    lo, hi = (t, hi) if np.linalg.norm(v) > t else (lo, t)
                w[sl] = v
            r -= Xg @ w[sl]
    return w


def test_group_lasso_equals_block_cd_reference():
    _, X, y = _data()
    X, y = X - X.mean(0), y - y.mean()
    c = np.array([1.0, 2.0, 0.5, 1.5])
    ref = _bcd_reference(X, y, 0.05, 3, c, epochs=60)
    res = lt.solve(X, y, 0.05, penalty="group", groups=3, weights=c, tol=1e-14,
                   fit_intercept=False)
    np.testing.assert_allclose(res.coef.numpy(), ref, atol=1e-6)


@pytest.mark.slow  # skglm compiles its jitclasses in every process: ~10-30 s
def test_group_lasso_equals_skglm():
    pytest.importorskip("skglm")
    from skglm.datafits import QuadraticGroup
    from skglm.penalties import WeightedGroupL2
    from skglm.solvers import GroupBCD

    _, X, y = _data()
    X, y = X - X.mean(0), y - y.mean()
    ptr, idx = np.arange(0, 13, 3).astype(np.int32), np.arange(12).astype(np.int32)
    c = np.array([1.0, 2.0, 0.5, 1.5])
    pen = WeightedGroupL2(alpha=0.05, weights=c, grp_ptr=ptr, grp_indices=idx)
    ref = GroupBCD(tol=1e-13, max_iter=10_000, fit_intercept=False).solve(
        X, y, QuadraticGroup(ptr, idx), pen)[0]
    res = lt.solve(X, y, 0.05, penalty="group", groups=3, weights=c, tol=1e-14,
                   fit_intercept=False)
    assert res.solver == "prox_newton" and res.converged
    np.testing.assert_allclose(res.coef.numpy(), ref, atol=1e-6)
    assert set(np.flatnonzero(res.coef.numpy())) <= {0, 1, 2}  # whole groups at zero


@pytest.mark.parametrize("loss", [None, "logistic", "poisson"])
@pytest.mark.parametrize("kind", ["group", "sparse_group"])
def test_compiled_block_cd_equals_fista(loss, kind):
    _, X, y = _data(1)
    y = {None: y, "logistic": (y > 0).astype(float), "poisson": np.floor(np.exp(y / 3))}[loss]
    kw = dict(penalty=kind, groups=GROUPS, loss=loss, tol=1e-10, l1_ratio=0.4)
    a = lt.solve(X, y, 0.02, **kw)
    b = lt.solve(X, y, 0.02, solver="fista", max_iter=200_000, **kw)
    assert a.solver == "prox_newton" and a.converged and b.converged
    assert a.certificate == "duality gap" and 0 <= float(a.gap) <= 1e-10
    np.testing.assert_allclose(a.coef.numpy(), b.coef.numpy(), atol=1e-5)
    if kind == "sparse_group":  # exact zeros inside a live group too
        live = np.abs(a.coef.numpy()) > 0
        assert live.any()


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_alpha_max_is_the_threshold(l1_ratio):
    _, X, y = _data(2)
    pen = SparseGroupLasso(1.0, GROUPS, 12, l1_ratio)
    import torch

    Xc, yc = X - X.mean(0), y - y.mean()
    amax = float(pen.alpha_max(torch.tensor(Xc.T @ yc / len(y))))
    kind = "sparse_group" if l1_ratio else "group"
    above = lt.solve(X, y, amax * 1.001, penalty=kind, groups=GROUPS, l1_ratio=l1_ratio)
    below = lt.solve(X, y, amax * 0.98, penalty=kind, groups=GROUPS, l1_ratio=l1_ratio)
    assert not above.coef.any() and below.coef.any()


def test_bad_groups_are_one_clear_error():
    _, X, y = _data()
    with pytest.raises(lt.InputError, match="partition"):
        lt.solve(X, y, 0.1, penalty="group", groups=[[0, 1], [1, 2]])
    with pytest.raises(lt.InputError, match="in no group"):
        lt.solve(X, y, 0.1, penalty="group", groups=[[0, 1]])
    with pytest.raises(lt.InputError, match="groups="):
        lt.solve(X, y, 0.1, penalty="group")
    with pytest.raises(lt.InputError, match="group_weights"):
        lt.solve(X, y, 0.1, penalty="group", groups=3, weights=[1.0, 2.0])


def test_config_schema_takes_groups():
    from lasso_torch.experiment import validate

    c = validate({"name": "g", "objective": {"kind": "group", "groups": [[0, 1], [2]],
                                             "loss": "logistic"}})
    opts = c.objective.problem_options()
    assert opts["penalty"] == "group" and opts["groups"] == [[0, 1], [2]]
    assert c.objective.l1_ratio == 0.0
    for bad in ({"kind": "group"}, {"kind": "lasso", "groups": 2}):
        with pytest.raises(lt.InputError, match="groups"):
            validate({"name": "g", "objective": bad}, "cfg.yaml")
    t = validate({"name": "t", "objective": {"loss": "tweedie", "power": 1.3}})
    assert t.objective.problem_options()["loss"] == "tweedie(1.3)"
