r"""Compiled inner solver of :class:`~lasso_torch.solvers.anderson_cd.AndersonCD`.

One call solves the problem restricted to a working set ``W`` (the other coefficients are
zero) by cyclic CD epochs over ``W``, with Anderson extrapolation of the iterates
(Anderson 1965; for CD: Bertrand & Massias 2021, the scheme of skglm and celer): every
``K + 1`` epochs the stored iterates ``w^0..w^K`` give ``U = [w^1 - w^0, .., w^K -
w^{K-1}]``, weights ``c = z / sum(z)`` with ``(U^T U) z = 1``, and the extrapolated point
``sum_k c_k w^k``, kept only when it lowers the objective. The auxiliary vector (the
residual ``r = y_c - X_c w`` or the Gram form's ``q = c - G w``) is affine in ``w``, so
its extrapolation is the same combination of the stored ones: no product with ``X``.

The call stops when the restricted problem's duality gap is ``<= target``, checked after
a CD epoch (so the answer is a CD iterate with CD's exact zeros), every epoch in Gram
form (its sums cost ``O(|W|)``), every ``check`` epochs in residual form (``X_W^T r``
costs an epoch); or after ``max_epochs``, or when ``patience`` checks in a row improve
the gap by less than 0.1% once it is below ``floor`` (the dtype's precision). It returns
``(epochs, gap)``. ``K = 0``: plain cyclic CD (no extrapolation).

Units: Gram form on ``G = X_c^T X_c / n`` with thresholds ``alpha rho``, ``alpha (1 - rho)``
(``n = 1`` in the gap); residual form on the centered ``X_c`` with thresholds
``n alpha rho``, ``n alpha (1 - rho)``. See :mod:`lasso_torch.solvers.kernels`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import cd_epoch_gram, cd_epoch_residual, dot, enet_certificate, xtr_columns


@njit(cache=True)
def anderson_weights(M):  # noqa: ANN001, ANN201
    """Weights ``c`` (float64, ``K``) from the ``K + 1`` stored iterates (rows of ``M``),
    or an empty array when ``U^T U`` is numerically singular (no extrapolation then)."""
    K, m = M.shape[0] - 1, M.shape[1]
    U = np.empty((K, m))
    for k in range(K):
        for i in range(m):
            U[k, i] = float(M[k + 1, i]) - float(M[k, i])
    C = np.empty((K, K))
    for a in range(K):
        for b in range(a + 1):
            C[a, b] = C[b, a] = dot(U[a], U[b])
    L = np.zeros((K, K))  # Cholesky of C; a tiny pivot means the steps are dependent
    top = max(C.max(), 1e-300)
    for a in range(K):
        s = C[a, a] - dot(L[a, :a], L[a, :a])
        if not s > 1e-13 * top:
            return np.empty(0)
        L[a, a] = np.sqrt(s)
        for b in range(a + 1, K):
            L[b, a] = (C[b, a] - dot(L[b, :a], L[a, :a])) / L[a, a]
    z = np.ones(K)  # C z = 1: forward then backward substitution
    for a in range(K):
        z[a] = (z[a] - dot(L[a, :a], z[:a])) / L[a, a]
    for a in range(K - 1, -1, -1):
        z[a] = (z[a] - dot(L[a + 1:, a], z[a + 1:])) / L[a, a]
    return z / z.sum()


@njit(cache=True)
def combine(c, M, out):  # noqa: ANN001, ANN201
    """``out = sum_k c_k M[k + 1]`` (the extrapolated point)."""
    out[:] = 0.0
    for k in range(c.shape[0]):
        for i in range(out.shape[0]):
            out[i] += c[k] * M[k + 1, i]


@njit(cache=True)
def penalty(w, ws, a1, a2):  # noqa: ANN001, ANN201
    """``a1 |w_W|_1 + a2/2 |w_W|^2`` (float64)."""
    l1 = 0.0
    w2 = 0.0
    for k in range(ws.shape[0]):
        v = float(w[ws[k]])
        l1 += abs(v)
        w2 += v * v
    return a1 * l1 + 0.5 * a2 * w2


@njit(cache=True)
def gram_objective(c, yy, w, q, ws, a1, a2):  # noqa: ANN001, ANN201
    """``P(w)`` in Gram form: ``f = yy/2 - w^T (c + q) / 2`` with ``q = c - G w``."""
    s = 0.0
    for k in range(ws.shape[0]):
        j = ws[k]
        s += float(w[j]) * (float(c[j]) + float(q[j]))
    return 0.5 * yy - 0.5 * s + penalty(w, ws, a1, a2)


@njit(cache=True)
def gram_gap(c, yy, w, q, ws, a1, a2):  # noqa: ANN001, ANN201
    """The restricted gap in Gram form: ``||r||^2/n = yy - c^T w - w^T q``,
    ``r^T y_c / n = yy - c^T w``, ``X_c^T r / n = q``."""
    cw = 0.0
    wq = 0.0
    for k in range(ws.shape[0]):
        j = ws[k]
        cw += float(c[j]) * float(w[j])
        wq += float(w[j]) * float(q[j])
    return enet_certificate(yy - cw - wq, yy - cw, q, w, ws, 1, a1, a2)[1]


@njit(cache=True)
def _store(M, A, slot, w, ws, aux):  # noqa: ANN001, ANN201
    for k in range(ws.shape[0]):
        M[slot, k] = w[ws[k]]
    A[slot] = aux


@njit(cache=True)
def _extrapolate(M, A, w, ws, aux, wt, at):  # noqa: ANN001, ANN201
    """Write the extrapolated ``w_W`` and auxiliary vector into ``wt`` (full-length copy
    of ``w``) and ``at``; False when the weights do not exist."""
    c = anderson_weights(M)
    if c.shape[0] == 0:
        return False
    wt[:] = w
    mt = np.empty(ws.shape[0], dtype=M.dtype)
    combine(c, M, mt)
    for k in range(ws.shape[0]):
        wt[ws[k]] = mt[k]
    combine(c, A, at)
    return True


@njit(cache=True, inline="always")
def _progress(gap, best, since, patience, floor):  # noqa: ANN001, ANN201
    """``(best, since, stalled)`` after a check: ``patience`` checks in a row improving the
    best gap by less than 0.1 %, once it is below ``floor``, is a stall."""
    if gap < best * (1 - 1e-3):
        return gap, 0, False
    return best, since + 1, since + 1 >= patience and best < floor


@njit(cache=True)
def inner_gram(G, c, yy, w, q, ws, a1, a2, target, max_epochs, K, patience, floor):  # noqa: ANN001, ANN201
    """The restricted problem in Gram form (``q`` full-length, kept equal to ``c - G w``)."""
    norms = np.diag(G).copy()
    l1, l2 = G.dtype.type(a1), G.dtype.type(a2)
    M = np.empty((K + 1, ws.shape[0]), dtype=w.dtype)
    A = np.empty((K + 1, q.shape[0]), dtype=q.dtype)
    wt, at = np.empty_like(w), np.empty_like(q)
    best, since, gap, slot = np.inf, 0, np.inf, 0
    for ep in range(1, max_epochs + 1):
        cd_epoch_gram(G, q, w, norms, l1, l2, ws)
        gap = gram_gap(c, yy, w, q, ws, a1, a2)
        if gap <= target:
            return ep, gap
        best, since, stalled = _progress(gap, best, since, patience, floor)
        if stalled:
            return ep, gap
        if K == 0:  # plain CD
            continue
        _store(M, A, slot, w, ws, q)
        slot += 1
        if slot == K + 1:
            slot = 0
            if _extrapolate(M, A, w, ws, q, wt, at) and gram_objective(
                    c, yy, wt, at, ws, a1, a2) < gram_objective(c, yy, w, q, ws, a1, a2):
                w[:] = wt
                q[:] = at
    return max_epochs, gap


@njit(cache=True)
def inner_residual(X, yc, w, r, norms, ws, a1, a2, target, max_epochs, K, check,  # noqa: ANN001, ANN201
                   patience, floor):
    """The restricted problem in residual form (``X`` centered, Fortran order, ``r``
    kept equal to ``y_c - X w``)."""
    n = X.shape[0]
    l1, l2 = X.dtype.type(n * a1), X.dtype.type(n * a2)
    M = np.empty((K + 1, ws.shape[0]), dtype=w.dtype)
    A = np.empty((K + 1, n), dtype=r.dtype)
    wt, at = np.empty_like(w), np.empty_like(r)
    xtr = np.zeros(w.shape[0], dtype=r.dtype)
    best, since, gap, slot = np.inf, 0, np.inf, 0
    for ep in range(1, max_epochs + 1):
        cd_epoch_residual(X, r, w, norms, l1, l2, ws)
        if ep % check == 0:
            xtr_columns(X, r, ws, xtr)
            gap = enet_certificate(float(dot(r, r)), float(dot(r, yc)), xtr, w, ws, n, a1,
                                   a2)[1]
            if gap <= target:
                return ep, gap
            best, since, stalled = _progress(gap, best, since, patience, floor)
            if stalled:
                return ep, gap
        if K == 0:  # plain CD
            continue
        _store(M, A, slot, w, ws, r)
        slot += 1
        if slot == K + 1:
            slot = 0
            if _extrapolate(M, A, w, ws, r, wt, at):
                new = dot(at, at) / (2 * n) + penalty(wt, ws, a1, a2)
                if new < dot(r, r) / (2 * n) + penalty(w, ws, a1, a2):
                    w[:] = wt
                    r[:] = at
    return max_epochs, gap
