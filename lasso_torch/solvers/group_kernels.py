r"""Compiled proximal Newton for the group penalties (:mod:`lasso_torch.group_penalty`):
block coordinate descent over the groups (numba, cached on disk).

One call of :func:`pn_group_iteration` is one outer iteration, as
:func:`~lasso_torch.solvers.pn_kernels.pn_iteration` for the elastic net, with the
quadratic model ``1/N (g^T X d + g^T 1 db + 1/2 sum_i h_i (x_i^T d + db)^2)`` minimized by
cyclic proximal-gradient steps per group: ``L_g`` the largest eigenvalue of
``X_g^T H X_g / N`` (formed once per outer iteration), ``w_g <- prox_{Omega_g / L_g}(w_g -
grad_g / L_g)`` with the sparse group prox (soft threshold by ``a1 / L_g``, then shrink the
group by ``a2_g / L_g``), the intercept an unpenalized coordinate; until no group moves
by more than the inner tolerance (``L_g ||dw_g||`` in the units of the gradient). The
squared loss is code 5 (``l = (y - eta)^2 / 2``, one Newton step is its exact model).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .glm_kernels import column_step, intercept_step, loss_sum, model_rows
from .kernels import dot


@njit(cache=True)
def group_pen(w, ptr, idx, a1, a2g):  # noqa: ANN001, ANN201
    """``a1 |w|_1 + sum_g a2_g ||w_g||``."""
    out = 0.0
    for g in range(ptr.shape[0] - 1):
        sq = 0.0
        for k in range(ptr[g], ptr[g + 1]):
            out += a1 * abs(w[idx[k]])
            sq += w[idx[k]] ** 2
        out += a2g[g] * np.sqrt(sq)
    return out


@njit(cache=True)
def group_violation(grad, w, cols, a1, a2):  # noqa: ANN001, ANN201
    """``dist(-grad_g, d Omega_g(w_g))`` for one group's columns."""
    m = cols.shape[0]
    nrm = 0.0
    for k in range(m):
        nrm += w[cols[k]] ** 2
    nrm = np.sqrt(nrm)
    d = 0.0
    for k in range(m):
        j = cols[k]
        gj = grad[j]
        if nrm == 0.0:
            t = max(abs(gj) - a1, 0.0)
        else:
            gj += a2 * w[j] / nrm
            t = abs(gj + a1 * np.sign(w[j])) if w[j] != 0.0 else max(abs(gj) - a1, 0.0)
        d += t * t
    d = np.sqrt(d)
    return max(d - a2, 0.0) if nrm == 0.0 else d


@njit(cache=True)
def _group_lipschitz(X, cols, h, N):  # noqa: ANN001, ANN202
    n, m = X.shape[0], cols.shape[0]
    A = np.empty((n, m))
    for k in range(m):
        col = X[:, cols[k]]
        for i in range(n):
            A[i, k] = np.sqrt(h[i]) * col[i]
    M = A.T @ A / N
    return np.linalg.eigvalsh(M)[-1] if m > 1 else M[0, 0]


@njit(cache=True)
def _block_cd(X, ptr, idx, g, h, wsub, a1, a2g, L, N, intercept, tol, max_epochs, xd):  # noqa: ANN001, ANN202, E501
    q = g.copy()
    hsum = h.sum() / N
    db = 0.0
    epochs = 0
    while epochs < max_epochs:
        epochs += 1
        move = 0.0
        for gi in range(ptr.shape[0] - 1):
            Lg = L[gi]
            if Lg <= 0.0:
                continue
            cols = idx[ptr[gi]:ptr[gi + 1]]
            m = cols.shape[0]
            u = np.empty(m)
            nrm = 0.0
            for k in range(m):
                z = wsub[cols[k]] - dot(X[:, cols[k]], q) / N / Lg
                t = a1 / Lg
                u[k] = z - t if z > t else (z + t if z < -t else 0.0)
                nrm += u[k] * u[k]
            nrm = np.sqrt(nrm)
            scale = max(0.0, 1.0 - a2g[gi] / (Lg * nrm)) if nrm > 0.0 else 0.0
            dn = 0.0
            for k in range(m):
                j = cols[k]
                d = u[k] * scale - wsub[j]
                if d != 0.0:
                    column_step(q, h, xd, X[:, j], d)
                    wsub[j] += d
                    dn += d * d
            move = max(move, Lg * np.sqrt(dn))
        if intercept and hsum > 0:
            d, gb = intercept_step(q, h, xd, hsum, N)
            db += d
            move = max(move, abs(gb))
        if move <= tol:
            break
    return db, epochs


@njit(cache=True)
def pn_group_iteration(X, y, s, code, param, w, eta, ptr, idx, a1, a2g, intercept,  # noqa: ANN001, ANN201, E501
                       inner_ratio, min_inner, max_epochs):
    """One outer iteration (module docstring); ``w``, ``eta`` updated in place. Returns
    ``(db, step, kkt, epochs)`` as :func:`~lasso_torch.solvers.pn_kernels.pn_iteration`."""
    n, p = X.shape
    N = s.sum()
    G = ptr.shape[0] - 1
    g, h = np.empty(n), np.empty(n)
    f0 = model_rows(code, y, s, eta, param, g, h) / N
    grad = np.empty(p)
    for j in range(p):
        grad[j] = dot(X[:, j], g) / N
    kkt = 0.0
    L = np.empty(G)
    for gi in range(G):
        cols = idx[ptr[gi]:ptr[gi + 1]]
        kkt = max(kkt, group_violation(grad, w, cols, a1, a2g[gi]))
        L[gi] = _group_lipschitz(X, cols, h, N)
    wsub = w.copy()
    xd = np.zeros(n)
    db, epochs = _block_cd(X, ptr, idx, g, h, wsub, a1, a2g, L, N, intercept,
                           max(inner_ratio * kkt, min_inner), max_epochs, xd)
    pen0 = group_pen(w, ptr, idx, a1, a2g)
    delta = dot(g, xd) / N + group_pen(wsub, ptr, idx, a1, a2g) - pen0
    moved = db != 0.0
    for j in range(p):
        moved = moved or wsub[j] != w[j]
    if not moved:
        return 0.0, 0.0, kkt, epochs
    t = 1.0
    if abs(delta) > 1e-13 * max(1.0, abs(f0 + pen0)):
        if not delta < 0:
            return 0.0, 0.0, kkt, epochs
        et, wt = np.empty(n), np.empty(p)
        for _ in range(30):
            for j in range(p):
                wt[j] = w[j] + t * (wsub[j] - w[j])
            for i in range(n):
                et[i] = eta[i] + t * xd[i]
            ft = loss_sum(code, y, s, et, param) / N + group_pen(wt, ptr, idx, a1, a2g)
            if ft <= f0 + pen0 + 1e-4 * t * delta:
                break
            t *= 0.5
        else:
            return 0.0, 0.0, kkt, epochs
    for j in range(p):
        w[j] = w[j] + t * (wsub[j] - w[j])
    for i in range(n):
        eta[i] += t * xd[i]
    return t * db, t, kkt, epochs
