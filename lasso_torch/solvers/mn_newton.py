r"""Compiled proximal Newton for the multinomial loss (numba, cached; the layout of
:mod:`lasso_torch.solvers.mn_kernels`). One call of :func:`mn_iteration` is one outer
iteration on

    F(W, b) = sum_i om_i (logsumexp(eta_i) - eta_i,y_i) + Omega(W),   eta = X W + 1 b^T

with ``Omega`` the elementwise (``"l1"``) or row-wise (glmnet's ``"grouped"``) elastic net:

1. ``P = softmax(eta)``, ``G = om (P - Y)``, the gradient ``X^T G`` and every feature's
   KKT violation (elementwise: the worst class; grouped: the row's norm);
2. the working set: the support rows and the worst violators, ``max(ws_min, 2 |support|)``
   features (:func:`~lasso_torch.solvers.kernels.select_ws`);
3. the quadratic model with the **exact** softmax Hessian, ``sum_i om_i (x_i^T D)^T
   (diag p_i - p_i p_i^T) (x_i^T D) / 2``, minimized by block coordinate descent over the
   working set's rows (each feature's ``K`` coefficients a block, its ``K x K`` Hessian
   ``H_j = sum_i om_i x_ij^2 (diag p_i - p_i p_i^T)`` formed once per outer iteration) and
   the intercepts (an unpenalized block: one Newton step on ``H_b``). The model's row
   gradient ``Q = G + om P o (X D - (p^T X D) 1)`` is kept, ``O(n K)`` per block. A block's
   subproblem is solved exactly: ``"l1"`` by cyclic CD on ``H_j`` (``O(K^2)`` per sweep,
   no pass over the rows), ``"grouped"`` in ``H_j``'s eigenbasis: the row is 0 when
   ``||c - H_j u|| <= a1``, else ``v = -(H_j + (a2 + lam) I)^{-1} (c - H_j u)`` with
   ``lam ||v|| = a1`` (a 1-D root; the trust-region secular equation);
4. an Armijo backtracking line search along ``(D, db)`` on the true objective.

Each feature's row is invariant to a shift across the classes in the loss (``H_j 1 = 0``):
the penalty fixes it (grouped: mean zero), so the blocks are solved in closed form or by
CD, never by steps of size ``1 / lambda_min``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import dot, select_ws
from .mn_kernels import (
    class_hessian,
    intercept_newton,
    loss_along,
    pen_value,
    row_hessians,
    softmax_loss,
)


@njit(cache=True)
def _violation(g, w, a1, a2, grouped):  # noqa: ANN001, ANN201
    """A row's KKT violation, ``g`` the loss's gradient on the row."""
    K = g.shape[0]
    if grouped:
        wn = np.sqrt((w * w).sum())
        if wn > 0.0:
            return np.sqrt(((g + a2 * w + a1 * w / wn) ** 2).sum())
        return max(np.sqrt((g * g).sum()) - a1, 0.0)
    out = 0.0
    for k in range(K):
        if w[k] != 0.0:
            out = max(out, abs(g[k] + a2 * w[k] + a1 * np.sign(w[k])))
        else:
            out = max(out, abs(g[k]) - a1)
    return out


@njit(cache=True)
def _block_l1(H, c, u, a1, a2, tol):  # noqa: ANN001, ANN201
    """``min_v c^T (v - u) + (v - u)^T H (v - u) / 2 + a1 |v|_1 + a2 |v|^2 / 2`` by cyclic CD
    (``u`` updated in place); returns the move ``v - u``."""
    K = c.shape[0]
    dd = np.zeros(K)
    for _ in range(200):
        move = 0.0
        for k in range(K):
            h = H[k, k]
            if h <= 0.0:
                continue
            gk = c[k]
            for m in range(K):
                gk += H[k, m] * dd[m]
            old = u[k]
            z = h * old - gk
            new = np.sign(z) * max(abs(z) - a1, 0.0) / (h + a2)
            if new != old:
                dd[k] += new - old
                u[k] = new
                move = max(move, h * abs(new - old))
        if move <= tol:
            break
    return dd


@njit(cache=True)
def _block_group(lam_H, Qv, H, c, u, a1, a2):  # noqa: ANN001, ANN201
    """The same subproblem with ``a1 ||v||_2`` (module docstring, step 3), ``H = Qv
    diag(lam_H) Qv^T``; ``u`` updated in place; returns the move."""
    K = c.shape[0]
    r = c - H @ u
    rn = np.sqrt((r * r).sum())
    old = u.copy()
    if rn <= a1:
        u[:] = 0.0
        return u - old
    rt = Qv.T @ r
    lam_H = np.maximum(lam_H, 0.0)
    lam = 0.0
    if a1 > 0.0:  # lam ||v(lam)|| = a1, increasing in lam: safeguarded Newton
        lo, hi = 0.0, a1 * (lam_H.max() + a2) / (rn - a1) + 1e-300
        lam = hi
        for _ in range(100):
            d = lam_H + a2 + lam
            nv = np.sqrt((rt * rt / (d * d)).sum())
            phi = lam * nv - a1
            if abs(phi) <= 1e-15 * a1:
                break
            if phi > 0.0:
                hi = lam
            else:
                lo = lam
            dphi = nv - lam * (rt * rt / (d * d * d)).sum() / nv
            nxt = lam - phi / dphi if dphi > 0.0 else 0.5 * (lo + hi)
            lam = nxt if lo < nxt < hi else 0.5 * (lo + hi)
            if hi - lo <= 1e-16 * hi:
                break
    d = lam_H + a2 + lam
    vt = np.zeros(K)
    for k in range(K):
        if d[k] > 0.0:
            vt[k] = -rt[k] / d[k]
    u[:] = Qv @ vt
    return u - old


@njit(cache=True)
def _apply(Q, P, ox, dd, pd):  # noqa: ANN001, ANN201
    """``Q += ox P o (dd 1^T - 1 (p^T dd))`` for a row's move ``dd`` (``ox = om x_j``;
    the intercepts: ``ox = om``); ``pd`` an ``(n,)`` buffer."""
    K, n = Q.shape
    pd[:] = 0.0
    for k in range(K):
        d = dd[k]
        if d != 0.0:
            for i in range(n):
                pd[i] += d * P[k, i]
    for k in range(K):
        d = dd[k]
        for i in range(n):
            Q[k, i] += ox[i] * P[k, i] * (d - pd[i])


@njit(cache=True)
def _scores(X, codes, om, W, eta, a1, a2, grouped, ws_min):  # noqa: ANN001, ANN202, PLR0913
    """``P = softmax(eta)``, the loss ``f0``, the row gradients ``G`` (``om (P - Y)``),
    every feature row's KKT violation and the working set: ``(P, f0, G, kkt, ws)``."""
    K, n = eta.shape
    p = W.shape[0]
    P = np.empty((K, n))
    f0 = softmax_loss(eta, codes, om, P)
    G = P.copy()
    for i in range(n):
        for k in range(K):
            G[k, i] *= om[i]
        G[codes[i], i] -= om[i]
    grad = np.ascontiguousarray(X.T) @ np.ascontiguousarray(G.T)  # (p, K)
    score = np.empty(p)
    rown = np.empty(p)
    kkt = 0.0
    for j in range(p):
        score[j] = _violation(grad[j], W[j], a1, a2, grouped)
        rown[j] = np.abs(W[j]).sum()
        kkt = max(kkt, score[j])
    return P, f0, G, kkt, select_ws(score, rown, ws_min)[0]


@njit(cache=True)
def _block_cd(X, ws, P, G, om, Wsub, a1, a2, grouped, intercept, tol, max_epochs):  # noqa: ANN001, ANN202, PLR0913
    """Block CD on the quadratic model over the working set's rows (and the intercepts):
    ``Wsub`` updated in place; returns ``(db, epochs)``."""
    K, n = P.shape
    m = ws.shape[0]
    Hs = np.empty((m, K, K))
    lams = np.empty((m, K))
    vecs = np.empty((m, K, K))
    pd = np.empty(n)
    OX = np.empty((m, n))  # om x_j, the working set's rows
    row_hessians(X, ws, P, om, OX, Hs)
    for jj in range(m):
        if grouped:
            lam, vec = np.linalg.eigh(Hs[jj])
            lams[jj], vecs[jj] = lam, vec
    Hb = np.empty((K, K))
    class_hessian(P, om, Hb, pd)
    Q = G.copy()
    c = np.empty(K)
    db = np.zeros(K)
    epochs = 0
    while epochs < max_epochs:
        epochs += 1
        move = 0.0
        for jj in range(m):
            col = X[:, ws[jj]]
            for k in range(K):
                c[k] = dot(col, Q[k])
            H = Hs[jj]
            u = Wsub[jj]
            if grouped:
                dd = _block_group(lams[jj], vecs[jj], H, c, u, a1, a2)
            else:
                dd = _block_l1(H, c, u, a1, a2, 0.1 * tol)
            mv = 0.0
            for k in range(K):
                mv = max(mv, H[k, k] * abs(dd[k]))
            if mv > 0.0:
                _apply(Q, P, OX[jj], dd, pd)
                move = max(move, mv)
        if intercept:
            for k in range(K):
                c[k] = Q[k].sum()
            d = intercept_newton(Hb, c)
            _apply(Q, P, om, d, pd)
            db += d
            move = max(move, np.abs(c).max())
        if move <= tol:
            break
    return db, epochs


@njit(cache=True)
def _direction(X, ws, W, Wsub, db):  # noqa: ANN001, ANN202
    """The step in the linear predictor, ``xd (K, n)``, and whether anything moved."""
    K, n = db.shape[0], X.shape[0]
    xd = np.zeros((K, n))
    moved = False
    for jj in range(ws.shape[0]):
        col = X[:, ws[jj]]
        for k in range(K):
            dk = Wsub[jj, k] - W[ws[jj], k]
            if dk != 0.0:
                moved = True
                for i in range(n):
                    xd[k, i] += dk * col[i]
    for k in range(K):
        if db[k] != 0.0:
            moved = True
            for i in range(n):
                xd[k, i] += db[k]
    return xd, moved


@njit(cache=True)
def _line_search(W, ws, Wsub, G, xd, eta, codes, om, f0, a1, a2, grouped):  # noqa: ANN001, ANN202, PLR0913
    """Armijo along the direction on the true objective: the step (0: no decrease)."""
    m, K = ws.shape[0], G.shape[0]
    pen0 = pen_value(W, a1, a2, grouped)
    Wt = W.copy()
    for jj in range(m):
        Wt[ws[jj]] = Wsub[jj]
    delta = pen_value(Wt, a1, a2, grouped) - pen0
    for k in range(K):
        delta += dot(G[k], xd[k])
    if abs(delta) <= 1e-13 * max(1.0, abs(f0 + pen0)):  # below the objective's rounding
        return 1.0
    if not delta < 0:
        return 0.0
    t = 1.0
    for _ in range(30):
        for jj in range(m):
            j = ws[jj]
            Wt[j] = W[j] + t * (Wsub[jj] - W[j])
        ft = loss_along(eta, xd, t, codes, om) + pen_value(Wt, a1, a2, grouped)
        if ft <= f0 + pen0 + 1e-4 * t * delta:
            return t
        t *= 0.5
    return 0.0


@njit(cache=True)
def mn_iteration(X, codes, om, W, b, eta, a1, a2, grouped, intercept, ws_min,  # noqa: ANN001, ANN201, PLR0913
                 inner_ratio, min_inner, max_epochs):
    """One outer iteration (module docstring); ``W``, ``b``, ``eta`` updated in place.
    Returns ``(step, kkt, epochs)``: the line search's step (0: no decrease found), the
    largest KKT violation before the step, the inner epochs."""
    P, f0, G, kkt, ws = _scores(X, codes, om, W, eta, a1, a2, grouped, ws_min)
    m, K = ws.shape[0], eta.shape[0]
    Wsub = np.empty((m, K))
    for jj in range(m):
        Wsub[jj] = W[ws[jj]]
    tol = max(inner_ratio * kkt, min_inner)
    db, epochs = _block_cd(X, ws, P, G, om, Wsub, a1, a2, grouped, intercept, tol,
                           max_epochs)
    xd, moved = _direction(X, ws, W, Wsub, db)
    if not moved:
        return 0.0, kkt, epochs
    t = _line_search(W, ws, Wsub, G, xd, eta, codes, om, f0, a1, a2, grouped)
    if t == 0.0:
        return 0.0, kkt, epochs
    for jj in range(m):
        j = ws[jj]
        W[j] = W[j] + t * (Wsub[jj] - W[j])
    b += t * db
    eta += t * xd
    return t, kkt, epochs
