"""Implicit differentiation of ``lt.solve`` (:mod:`lasso_torch.implicit`): gradients against
central finite differences for every differentiable input, every built-in loss, with and
without intercept, weights and sample weights; ``gradcheck``; exact zeros off the support;
batched columns equal to one-by-one ones.

The finite differences need solutions exact to rounding (a relative gap of 1e-15 still
leaves ~1e-8 in the coefficients): the reference solution of each perturbed problem is the
solver's, polished by Newton on its support (the smooth reduced objective written here
independently, its Hessian by autograd), and the polish must move it by < 1e-3 (a wrong
objective would move it further).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import lasso_torch as lt
from lasso_torch.implicit import attach

pytestmark = pytest.mark.usefixtures("one_torch_thread")
D = torch.float64
LOSSES = ["squared", "logistic", "huber", "poisson"]


def _problem(loss: str, n: int = 30, p: int = 6, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, p, generator=g, dtype=D)
    eta = X[:, :3] @ torch.tensor([1.0, -1.0, 0.7], dtype=D) + 0.2
    if loss in ("squared", "huber"):
        y = eta + 0.3 * torch.randn(n, generator=g, dtype=D)
    elif loss == "logistic":
        y = (torch.rand(n, generator=g, dtype=D) < torch.sigmoid(2 * eta)).to(D)
    else:
        y = torch.poisson(torch.exp(0.5 * eta), generator=g) + 0.5
    return X, y


def _loss(loss: str, y, eta):
    if loss == "squared":
        return 0.5 * (y - eta) ** 2
    if loss == "logistic":
        return F.softplus(-(2 * y - 1) * eta)
    if loss == "huber":
        r = (y - eta).abs()
        return torch.where(r <= 1.35, 0.5 * r * r, 1.35 * r - 0.5 * 1.35**2)
    return torch.exp(eta) - y * eta


def _polish(loss, X, y, alpha, rho, sw, c, coef, b, fit_intercept, steps: int = 3):
    """Newton on the support's smooth objective (signs fixed), from the solver's answer."""
    S = (coef != 0).nonzero().squeeze(1)
    sign = torch.sign(coef[S])
    n = X.shape[0]
    s = torch.ones(n, dtype=D) if sw is None else sw * n / sw.sum()
    cS = torch.ones(S.numel(), dtype=D) if c is None else c[S]

    def obj(z):
        w, b0 = z[:S.numel()], (z[-1] if fit_intercept else 0.0)
        data = (s * _loss(loss, y, X[:, S] @ w + b0)).sum() / n
        return data + alpha * (cS * (rho * sign * w + (1 - rho) / 2 * w * w)).sum()

    z = torch.cat([coef[S], b.reshape(1)]) if fit_intercept else coef[S].clone()
    for _ in range(steps):
        g = torch.autograd.functional.jacobian(obj, z)
        H = torch.autograd.functional.hessian(obj, z)
        z = z - torch.linalg.solve(H, g)
    out = torch.zeros_like(coef)
    out[S] = z[:S.numel()]
    assert torch.equal(torch.sign(out[S]), sign)
    assert (out - coef).abs().max() < 1e-3  # the same problem as the solver's
    return out, (z[-1] if fit_intercept else torch.zeros((), dtype=D))


def _kw(loss, fit_intercept, weighted=False, tol=1e-14):
    # prox_newton (auto's choice for these losses) ignores sample weights: fista then
    solver = "fista" if loss != "squared" and weighted else "auto"
    return dict(loss=None if loss == "squared" else loss, fit_intercept=fit_intercept,
                tol=tol, solver=solver, max_iter=50_000, warn=False)


def _exact(inp, loss, fit_intercept):
    """The exact solution of the problem ``inp`` (solver + polish), as plain tensors."""
    r = lt.solve(inp["X"], inp["y"], inp["alpha"], inp["l1_ratio"],
                 sample_weight=inp["sample_weight"], weights=inp["weights"],
                 **_kw(loss, fit_intercept, inp["sample_weight"] is not None, tol=1e-9))
    return _polish(loss, inp["X"], inp["y"], inp["alpha"], inp["l1_ratio"],
                   inp["sample_weight"], inp["weights"], r.coef, r.intercept, fit_intercept)


# with and without intercept, with and without (sample) weights, for every loss
CASES = [(loss, fi, full) for loss in LOSSES
         for fi, full in ((True, False), (False, True), (True, True))]


@pytest.mark.parametrize("loss,fit_intercept,full", CASES)
def test_gradients_match_central_differences(loss, fit_intercept, full):
    X, y = _problem(loss)
    n, p = X.shape
    inp = dict(X=X, y=y, alpha=torch.tensor(0.1 if loss == "squared" else 0.05, dtype=D),
               l1_ratio=torch.tensor(0.8 if full else 1.0, dtype=D),
               sample_weight=torch.linspace(0.5, 1.5, n, dtype=D) if full else None,
               weights=torch.linspace(0.5, 1.5, p, dtype=D) if full else None)
    names = [k for k, v in inp.items() if v is not None and not (
        (k == "y" and loss == "logistic") or (k == "l1_ratio" and not full))]
    g = torch.Generator().manual_seed(1)
    vc, vb = torch.randn(p, generator=g, dtype=D), 1.3
    req = {k: (v.clone().requires_grad_() if k in names else v) for k, v in inp.items()}
    res = lt.solve(req["X"], req["y"], req["alpha"], req["l1_ratio"],
                   sample_weight=req["sample_weight"], weights=req["weights"],
                   **_kw(loss, fit_intercept, full, tol=1e-12))
    ((res.coef * vc).sum() + vb * res.intercept).backward()
    through_solve = {k: req[k].grad for k in names}
    # the same Function at the polished (exact) solution: the FD reference's point
    c0, b0 = _polish(loss, *(inp[k] for k in ("X", "y", "alpha", "l1_ratio", "sample_weight",
                                              "weights")), res.coef.detach(),
                     res.intercept.detach(), fit_intercept)
    req = {k: (v.clone().requires_grad_() if k in names else v) for k, v in inp.items()}
    C, B = attach(c0, b0, **req, loss=loss, fit_intercept=fit_intercept)
    ((C * vc).sum() + vb * B).backward()
    support = res.coef != 0
    assert support.sum() >= 2
    for k in names:
        d = torch.randn(inp[k].shape, generator=g, dtype=D)
        h = 1e-5
        vals = []
        for sgn in (1, -1):
            c, b = _exact({**inp, k: inp[k] + sgn * h * d}, loss, fit_intercept)
            assert torch.equal(c != 0, support)  # a stable support
            vals.append(float((c * vc).sum() + vb * b))
        fd = (vals[0] - vals[1]) / (2 * h)
        an = float((req[k].grad * d).sum())
        assert abs(an - fd) <= 1e-6 * abs(fd) + 1e-12, (k, an, fd)
        # lt.solve's own answer (relative gap 1e-12: coefficients to ~1e-6)
        assert abs(float((through_solve[k] * d).sum()) - fd) <= 1e-4 * abs(fd) + 1e-8, k
    if "X" in names:  # off-support columns of X do not move the solution
        assert bool((req["X"].grad[:, ~support] == 0.0).all())


def test_off_support_derivatives_are_exactly_zero():
    X, y = _problem("squared", p=12)
    alpha = torch.tensor(0.1, dtype=D, requires_grad=True)
    res = lt.solve(X, y, alpha, tol=1e-12)
    off = (res.coef == 0).nonzero().squeeze(1)
    assert off.numel() > 0
    for j in off.tolist():  # d coef_j / d alpha, one row of the Jacobian at a time
        (g,) = torch.autograd.grad(res.coef[j], alpha, retain_graph=True, allow_unused=True)
        assert g is None or float(g) == 0.0
    Xr = X.clone().requires_grad_()
    r2 = lt.solve(Xr, y, 0.1, tol=1e-12)
    J = torch.autograd.grad(r2.coef.sum(), Xr)[0]
    assert bool((J[:, off] == 0.0).all())


def _exact_squared(X, y, alpha, fit_intercept=True):
    r = lt.solve(X.detach(), y.detach(), float(alpha.detach()), tol=1e-14,
                 fit_intercept=fit_intercept)
    c, b = _polish("squared", X.detach(), y.detach(), float(alpha.detach()), 1.0, None, None,
                   r.coef, r.intercept, fit_intercept)
    return attach(c, b, X=X, y=y, alpha=alpha, fit_intercept=fit_intercept)


def test_gradcheck_small_problem():
    X, y = _problem("squared", n=10, p=4)
    alpha = torch.tensor(0.1, dtype=D)
    inputs = (X.requires_grad_(), y.requires_grad_(), alpha.requires_grad_())
    assert torch.autograd.gradcheck(lambda a, b, c: torch.cat(
        [t.reshape(-1) for t in _exact_squared(a, b, c)]), inputs, eps=1e-6, atol=1e-7)


def test_positive_constraint_active_bounds_are_zeros():
    X, y = _problem("squared", p=8)
    Xr, yr = X.clone().requires_grad_(), y.clone().requires_grad_()
    res = lt.solve(Xr, yr, 0.05, positive=True, tol=1e-14)
    assert bool((res.coef >= 0).all()) and bool((res.coef == 0).any())
    (res.coef ** 2).sum().backward()
    c, b = _polish("squared", X, y, 0.05, 1.0, None, None, res.coef.detach(),
                   res.intercept.detach(), True)
    # the positive solution is the lasso restricted to its support: its gradient by hand
    S = c != 0
    Xs = X[:, S] - X[:, S].mean(0)
    dw_dy = torch.linalg.solve(Xs.T @ Xs, Xs.T)  # w_S = (Xs^T Xs)^-1 (Xs^T y - n a sign)
    assert torch.allclose(yr.grad, 2 * c[S] @ dw_dy, rtol=1e-8, atol=1e-12)
    assert bool((Xr.grad[:, ~S] == 0.0).all())


def test_batched_targets_and_path_equal_one_by_one():
    X, y = _problem("squared")
    Y = torch.stack([y, y.flip(0), 2 * y], 1)
    alphas = torch.tensor([0.2, 0.1, 0.05], dtype=D)
    Yr = Y.clone().requires_grad_()
    a = torch.tensor(0.1, dtype=D, requires_grad=True)
    res = lt.solve(X, Yr, a, tol=1e-13)
    assert res.coef.shape == (X.shape[1], 3)
    (res.coef ** 2).sum().backward()
    for t in range(3):
        yt = Y[:, t].clone().requires_grad_()
        at = torch.tensor(0.1, dtype=D, requires_grad=True)
        r = lt.solve(X, yt, at, tol=1e-13)
        (r.coef ** 2).sum().backward()
        assert torch.allclose(Yr.grad[:, t], yt.grad, rtol=1e-6, atol=1e-9)
    # a path: alphas (K,) requiring grad, given unsorted, against the (p, K) solution
    ar, Xr = alphas.flip(0).clone().requires_grad_(), X.clone().requires_grad_()
    path = lt.lasso_path(Xr, y, ar, tol=1e-13)
    assert path.coefs.shape == (X.shape[1], 3) and path.coefs.requires_grad
    (path.coefs ** 2).sum().backward()
    Xsum = torch.zeros_like(X)
    for k in range(3):
        ak = alphas[k].clone().requires_grad_()
        Xk = X.clone().requires_grad_()
        r = lt.solve(Xk, y, ak, tol=1e-13)
        (r.coef ** 2).sum().backward()
        assert torch.allclose(ar.grad[2 - k], ak.grad, rtol=1e-6)
        Xsum += Xk.grad
    assert torch.allclose(Xr.grad, Xsum, rtol=1e-6, atol=1e-9)


def test_nothing_requires_grad_is_the_plain_solve():
    X, y = _problem("squared")
    res = lt.solve(X, y, torch.tensor(0.1, dtype=D))
    assert not res.coef.requires_grad and res.alpha == 0.1
    with torch.no_grad():
        r2 = lt.solve(X, y, torch.tensor(0.1, dtype=D, requires_grad=True))
    assert not r2.coef.requires_grad


def test_logistic_labels_cannot_require_grad():
    X, y = _problem("logistic")
    with pytest.raises(lt.InputError, match="discrete"):
        lt.solve(X, y.requires_grad_(), 0.05, loss="logistic")


def test_positive_glm_matches_central_differences():
    """positive=True with the logistic loss: zeros at the active bound, FD for alpha, X."""
    X, y = _problem("logistic")
    kw = dict(loss="logistic", positive=True, tol=1e-12, warn=False)

    def exact(Xp, a):
        r = lt.solve(Xp, y, a, **kw)
        return _polish("logistic", Xp, y, a, 1.0, None, None, r.coef, r.intercept, True)

    c0, b0 = exact(X, 0.03)
    assert bool((c0 == 0).any()) and bool((c0 > 0).sum() >= 2)
    Xr, ar = X.clone().requires_grad_(), torch.tensor(0.03, dtype=D, requires_grad=True)
    C, B = attach(c0, b0, X=Xr, y=y, alpha=ar, loss="logistic", positive=True)
    (C.sum() + B).backward()
    g = torch.Generator().manual_seed(3)
    dX = torch.randn(X.shape, generator=g, dtype=D)
    for an, plus, minus in ((float(ar.grad), (X, 0.03 + 1e-6), (X, 0.03 - 1e-6)),
                            (float((Xr.grad * dX).sum()), (X + 1e-6 * dX, 0.03),
                             (X - 1e-6 * dX, 0.03))):
        (cp, bp), (cm, bm) = exact(*plus), exact(*minus)
        assert torch.equal(cp != 0, c0 != 0) and torch.equal(cm != 0, c0 != 0)
        fd = (float(cp.sum() + bp) - float(cm.sum() + bm)) / 2e-6
        assert abs(an - fd) <= 1e-6 * abs(fd), (an, fd)
    assert bool((Xr.grad[:, c0 == 0] == 0.0).all())
