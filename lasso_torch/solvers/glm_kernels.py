r"""Compiled GLM row kernels (numba, cached on disk like :mod:`lasso_torch.solvers.kernels`):
each loss's ``l``, ``l'``, Newton weight and conjugate per row, the profiled intercept and
the running certificate of the compiled proximal Newton
(:mod:`lasso_torch.solvers.pn_kernels`).

Loss codes: 0 logistic (``y = +-1``), 1 Poisson, 2 Huber (``param = delta``), 3 Gamma,
4 Tweedie (``param = power`` in ``(1, 2)``), 5 squared (group penalties), all with the
log link where there is a link (:mod:`lasso_torch.glm`). The Newton weight is ``l''``
except for Huber, where it is ``psi(r) / r = min(1, delta / |r|)`` (a quadratic majorizer:
``l'' = 0`` beyond ``delta``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

LOGISTIC, POISSON, HUBER, GAMMA, TWEEDIE, SQUARED = 0, 1, 2, 3, 4, 5


@njit(cache=True)
def row_loss(code, y, eta, param):  # noqa: ANN001, ANN201
    """``(l, l', Newton weight)`` of one row."""
    if code == LOGISTIC:  # one exp, one log1p: e = exp(-|eta|)
        z = y * eta
        e = np.exp(-abs(eta))
        c = 1.0 / (1.0 + e)
        return (np.log1p(e) + max(-z, 0.0), -y * (e * c if z >= 0 else c), e * c * c)
    if code == POISSON:
        m = np.exp(eta)
        return m - y * eta, m - y, m
    if code == HUBER:
        r = y - eta
        a = abs(r)
        if a <= param:
            return 0.5 * r * r, -r, 1.0
        return param * a - 0.5 * param * param, -param * np.sign(r), param / a
    if code == GAMMA:
        e = y * np.exp(-eta)
        return e + eta, 1.0 - e, e
    if code == SQUARED:
        r = y - eta
        return 0.5 * r * r, -r, 1.0
    # Tweedie, 1 < power < 2: mu^(2-p)/(2-p) - y mu^(1-p)/(1-p)
    a = np.exp((1.0 - param) * eta)
    c = np.exp((2.0 - param) * eta)
    return (c / (2.0 - param) - y * a / (1.0 - param), c - y * a,
            (2.0 - param) * c - (1.0 - param) * y * a)


@njit(cache=True)
def loss_sum(code, y, s, eta, param):  # noqa: ANN001, ANN201
    """``sum_i s_i l(y_i, eta_i)``."""
    out = 0.0
    for i in range(eta.shape[0]):
        if s[i] != 0.0:
            out += s[i] * row_loss(code, y[i], eta[i], param)[0]
    return out


@njit(cache=True)
def pen_value(w, idx, a1, a2):  # noqa: ANN001, ANN201
    out = 0.0
    for k in range(idx.shape[0]):
        j = idx[k]
        out += a1[j] * abs(w[j]) + 0.5 * a2[j] * w[j] * w[j]
    return out


@njit(cache=True, inline="always")
def prox_box(z, H, a1, a2, lo, hi):  # noqa: ANN001, ANN202
    """``clip(S(z, a1) / (H + a2), lo, hi)`` (exactly 0 in the zero zone)."""
    if z > a1:
        v = (z - a1) / (H + a2)
    elif z < -a1:
        v = (z + a1) / (H + a2)
    else:
        v = 0.0
    return min(max(v, lo), hi)


@njit(cache=True)
def violation(gj, wj, a1, a2, lo, hi):  # noqa: ANN001, ANN201
    """``dist(-grad_j, d Omega_j(w_j) + normal cone of [lo, hi])``."""
    g = gj + a2 * wj
    if wj == 0.0:
        up = -g - a1 if hi > 0 else 0.0  # room to move up
        down = g - a1 if lo < 0 else 0.0
        return max(up, down, 0.0)
    if wj > 0.0:
        return max(g + a1, 0.0) if wj >= hi else abs(g + a1)
    return max(a1 - g, 0.0) if wj <= lo else abs(g - a1)


@njit(cache=True)
def model_rows(code, y, s, eta, param, g, h):  # noqa: ANN001, ANN202
    """Fill ``g = s l'``, ``h = s w_newton`` (floored); return ``sum s l``."""
    n = eta.shape[0]
    val = 0.0
    top = 0.0
    for i in range(n):
        li, di, hi = row_loss(code, y[i], eta[i], param)
        g[i] = s[i] * di
        h[i] = hi
        if s[i] != 0.0:
            val += s[i] * li
            top = max(top, hi)
    floor = 1e-12 * top
    for i in range(n):
        h[i] = s[i] * max(h[i], floor)
    return val


@njit(cache=True)
def profile_intercept(code, y, s, z, param, b):  # noqa: ANN001, ANN201
    """``argmin_b sum_i s_i l(y_i, z_i + b)`` by Newton from ``b`` on the increasing
    ``phi'(b) = sum_i s_i l'(z_i + b)``, bisecting whenever a step leaves the bracket the
    signs of ``phi'`` have established (to rounding; one pass over the rows a step)."""
    lo, hi = -np.inf, np.inf
    for _ in range(200):
        d1 = d2 = 0.0
        for i in range(z.shape[0]):
            if s[i] != 0.0:
                _, di, wi = row_loss(code, y[i], z[i] + b, param)
                d1 += s[i] * di
                d2 += s[i] * wi
        if d1 == 0.0:
            break
        if d1 > 0.0:
            hi = b
        else:
            lo = b
        new = b - d1 / d2 if d2 > 0.0 else np.nan
        if not (lo < new < hi):  # outside the bracket (or no curvature): bisect
            if np.isfinite(lo) and np.isfinite(hi):
                new = 0.5 * (lo + hi)
            else:
                new = b + (1.0 if d1 < 0.0 else -1.0) * (1.0 + abs(b))
        elif code != HUBER and abs(new - b) <= 1e-7 * (1.0 + abs(b)):  # a Newton step this
            b = new  # small leaves an error of its square's order (l'''/l'' is O(1); Huber's
            break  # weight is no l''): the pass that would confirm it is saved
        if abs(new - b) <= 1e-14 * (1.0 + abs(b)):
            b = new
            break
        b = new
    return b


@njit(cache=True)
def row_conj(code, y, v, param):  # noqa: ANN001, ANN201
    """``l_i*(-v)`` at a dual point ``v = kappa u`` (:mod:`lasso_torch.glm.losses`)."""
    if code == LOGISTIC:
        q = min(max(y * v, 0.0), 1.0)
        out = 0.0
        if q > 0.0:
            out += q * np.log(q)
        if q < 1.0:
            out += (1.0 - q) * np.log1p(-q)
        return out
    if code == POISSON:
        t = max(y - v, 0.0)
        return t * np.log(t) - t if t > 0.0 else 0.0
    if code == HUBER:
        return 0.5 * v * v - v * y
    # Gamma: t = 1 + v >= 0, l*(-v) = t log(t / y) - t
    t = max(1.0 + v, 0.0)
    return t * np.log(t / y) - t if t > 0.0 else 0.0


@njit(cache=True)
def model_at(code, y, s, eta, param, intercept, g, h):  # noqa: ANN001, ANN201
    """:func:`model_rows` at the profiled intercept (``eta`` shifted in place by its move
    ``db``); returns ``(sum s l, db)`` (rows only: no pass over X). One pass where the
    intercept's Newton step from ``eta`` is below ``1e-7`` (not for Huber's IRLS weight):
    ``eta += db``, ``g += h db`` (``sum g = 0`` again; ``g`` to ``db^2``, as
    :func:`profile_intercept`'s own stop) and the loss of the unshifted rows (an upper
    bound of the profiled one by ``db^2 sum h / 2``: the gap stays an upper bound)."""
    val = model_rows(code, y, s, eta, param, g, h)
    if not intercept:
        return val, 0.0
    hs = h.sum()
    db = -g.sum() / hs if hs > 0.0 else 0.0
    if code != HUBER and abs(db) <= 1e-7:
        for i in range(eta.shape[0]):
            eta[i] += db
            g[i] += h[i] * db
        return val, db
    db = profile_intercept(code, y, s, eta, param, 0.0)
    for i in range(eta.shape[0]):
        eta[i] += db
    return model_rows(code, y, s, eta, param, g, h), db


@njit(cache=True)
def gap_on(code, y, s, param, g, w, grad, idx, a1, a2, f, conj):  # noqa: ANN001, ANN201, PLR0913
    """``(P(w), gap, kkt)`` of the uniform elastic net (``a1``, ``a2`` scalars) from the
    rows' ``g = s l'`` at the profiled intercept, ``f`` (the datafit) and the gradient
    ``grad = X^T g / N`` on the features ``idx`` (the support among them; the features
    outside ``idx`` are left out: the gap of the problem restricted to ``idx``, the full
    one where ``idx`` holds every feature). The conjugate gap of
    :mod:`lasso_torch.certificates` (``kappa`` scales ``u = -g / s`` into the lasso's dual
    ball); ``conj`` False: the gap is the KKT violation."""
    N = s.sum()
    pen = vmax = kkt = pconj = 0.0
    for k in range(idx.shape[0]):
        j = idx[k]
        v = abs(grad[j])
        vmax = max(vmax, v)
        pen += a1 * abs(w[j]) + 0.5 * a2 * w[j] * w[j]
        kkt = max(kkt, violation(grad[j], w[j], a1, a2, -np.inf, np.inf))
        if a2 > 0.0:
            t = max(v - a1, 0.0)
            pconj += t * t / (2.0 * a2)
    primal = f + pen
    if not conj:
        return primal, kkt, kkt
    kappa = 1.0 if a2 > 0.0 or vmax <= a1 else a1 / vmax
    lconj = 0.0
    for i in range(g.shape[0]):
        if s[i] != 0.0:
            lconj += s[i] * row_conj(code, y[i], -kappa * g[i] / s[i], param)
    return primal, primal + lconj / N + pconj, kkt


@njit(cache=True)
def column_step(q, h, xd, col, d):  # noqa: ANN001, ANN201
    """Coordinate ``j`` of the Newton model moved by ``d``: its gradient ``q += d h x_j`` and
    the direction ``xd += d x_j`` in place."""
    for i in range(q.shape[0]):
        q[i] += d * h[i] * col[i]
        xd[i] += d * col[i]


@njit(cache=True)
def intercept_step(q, h, xd, hsum, N):  # noqa: ANN001, ANN201
    """The Newton model's exact step on its unpenalized intercept: ``d = -sum(q) / (N hsum)``
    applied to the model gradient ``q`` (weights ``h``) and the direction ``xd`` in place;
    returns ``(d, gradient)``."""
    gb = q.sum() / N
    d = -gb / hsum
    for i in range(q.shape[0]):
        q[i] += d * h[i]
        xd[i] += d
    return d, gb
