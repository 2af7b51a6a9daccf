r"""Compiled proximal Newton for the GLM losses (numba, cached on disk like
:mod:`lasso_torch.solvers.kernels`).

One call of :func:`pn_iteration` is one outer iteration of proximal Newton on

    F(w, b) = 1/N sum_i s_i l(y_i, x_i^T w + b) + sum_j a1_j |w_j| + a2_j w_j^2 / 2

within the bounds ``lo_j <= w_j <= hi_j`` (``N = sum s``; ``X`` Fortran-ordered, its
columns shifted by their means when there is an intercept: the intercept absorbs the
shift, and the products ``X^T g`` lose no digits to large column means):

1. the intercept profiled, ``g = s l'(eta)``, ``h = s l''(eta)`` (Huber:
   ``s min(1, delta / |r|)``; floored at ``1e-12 max(h / s) s`` so every row's gradient
   stays in the model), the gradient ``X^T g / N`` (:func:`grad_cols`: the one pass over
   ``X``, shared with the running certificate by the host) and every candidate feature's
   KKT violation;
2. the working set: the support and the worst violators, ``max(ws_min, 2 |support|)``
   features (:func:`~lasso_torch.solvers.kernels.select_ws`);
3. the quadratic model ``1/N (g^T X_W d + g^T 1 db + 1/2 sum_i h_i (x_i,W^T d + db)^2)``
   plus the penalty, minimized by cyclic coordinate descent over ``W`` and the intercept
   (an unpenalized coordinate): Gram-free (the model's row gradient ``q = g + h (X d + db)``
   kept, two passes over a column per coordinate) or in Gram form (``X_W^T H X_W`` formed
   once per outer iteration, then ``O(|W|)`` per coordinate; chosen where ``n`` is large
   against ``|W|``), until no coordinate moves by more than ``inner_tol`` in the units of
   the gradient (``H_jj |dw_j|``);
4. an Armijo backtracking line search along ``(d, db)`` on the true objective
   (``F(w + t d) <= F(w) + 1e-4 t (g^T X d / N + Omega(w + d) - Omega(w))``).

The losses' row kernels: :mod:`lasso_torch.solvers.glm_kernels`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .glm_kernels import (
    column_step,
    intercept_step,
    loss_sum,
    model_at,
    pen_value,
    prox_box,
    violation,
)
from .kernels import dot, select_ws


@njit(cache=True)
def _cd_rows(X, ws, g, h, wsub, a1, a2, lo, hi, N, intercept, tol, max_epochs, xd):  # noqa: ANN001, ANN202, E501
    """Coordinate descent on the quadratic model, Gram-free; ``xd = X_W d + db``."""
    n, k = X.shape[0], ws.shape[0]
    q = g.copy()
    hx = np.empty(n)
    Hjj = np.empty(k)
    for jj in range(k):
        col = X[:, ws[jj]]
        for i in range(n):
            hx[i] = h[i] * col[i]
        Hjj[jj] = dot(hx, col) / N
    hsum = h.sum() / N
    db = 0.0
    epochs = 0
    while epochs < max_epochs:
        epochs += 1
        move = 0.0
        for jj in range(k):
            H = Hjj[jj]
            if H == 0.0:
                continue
            j = ws[jj]
            col = X[:, j]
            old = wsub[jj]
            new = prox_box(H * old - dot(col, q) / N, H, a1[j], a2[j], lo[j], hi[j])
            if new != old:
                d = new - old
                column_step(q, h, xd, col, d)
                wsub[jj] = new
                move = max(move, H * abs(d))
        if intercept and hsum > 0:
            d, gb = intercept_step(q, h, xd, hsum, N)
            db += d
            move = max(move, abs(gb))
        if move <= tol:
            break
    return db, epochs


@njit(cache=True)
def _cd_gram(X, ws, g, h, wsub, a1, a2, lo, hi, N, intercept, tol, max_epochs, xd, d0):  # noqa: ANN001, ANN202, E501
    """The same model in Gram form: ``[X_W 1]^T H [X_W 1] / N`` once, then ``O(|W|)`` per
    coordinate; ``xd`` formed at the end. ``d0`` (``|W| + 1``): the moves already made
    (``wsub`` holds them, ``xd`` their image; the intercept's last)."""
    n, k = X.shape[0], ws.shape[0]
    m = k + 1
    A = np.empty((n, m))
    r = np.sqrt(h)
    for jj in range(k):
        col = X[:, ws[jj]]
        for i in range(n):
            A[i, jj] = r[i] * col[i]
    for i in range(n):
        A[i, k] = r[i]
    G = A.T @ A / N
    q = np.empty(m)  # the model's gradient: c + G (d, db)
    for jj in range(k):
        q[jj] = dot(X[:, ws[jj]], g) / N
    q[k] = g.sum() / N
    q += G @ d0
    dvec = d0.copy()
    epochs = 0
    while epochs < max_epochs:
        epochs += 1
        move = 0.0
        for jj in range(m):
            H = G[jj, jj]
            if H == 0.0 or (jj == k and not intercept):
                continue
            old = wsub[jj] if jj < k else dvec[k]
            if jj < k:
                j = ws[jj]
                new = prox_box(H * old - q[jj], H, a1[j], a2[j], lo[j], hi[j])
            else:
                new = old - q[k] / H
            if new != old:
                d = new - old
                Gj = G[jj]
                for t in range(m):
                    q[t] += d * Gj[t]
                if jj < k:
                    wsub[jj] = new
                    dvec[jj] += d
                else:
                    dvec[k] = new
                move = max(move, H * abs(d))
        if move <= tol:
            break
    for jj in range(k):
        step = dvec[jj] - d0[jj]
        if step != 0.0:
            col = X[:, ws[jj]]
            for i in range(n):
                xd[i] += step * col[i]
    for i in range(n):
        xd[i] += dvec[k] - d0[k]
    return dvec[k], epochs


@njit(cache=True)
def grad_cols(X, g, idx, N, out):  # noqa: ANN001, ANN201
    """``out[j] = x_j^T g / N`` for ``j`` in ``idx`` (the one pass over those columns)."""
    for k in range(idx.shape[0]):
        j = idx[k]
        out[j] = dot(X[:, j], g) / N


@njit(cache=True)
def pn_iteration(X, y, s, code, param, w, eta, a1, a2, lo, hi, intercept, ws_min,  # noqa: ANN001, ANN201, PLR0913
                 inner_ratio, min_inner, max_epochs, gram_ratio):
    """One outer iteration over every feature (module docstring), the intercept profiled
    first; ``w``, ``eta`` updated in place. ``(db, step, kkt, epochs)`` as
    :func:`pn_descend` (``db`` with the profiling's move)."""
    n, p = X.shape
    N = s.sum()
    g, h, grad = np.empty(n), np.empty(n), np.empty(p)
    f0, db0 = model_at(code, y, s, eta, param, intercept, g, h)
    idx = np.arange(p)
    grad_cols(X, g, idx, N, grad)
    db, t, kkt, epochs = pn_descend(X, y, s, code, param, w, eta, g, h, f0 / N, grad, idx,
                                    a1, a2, lo, hi, intercept, ws_min, inner_ratio,
                                    min_inner, max_epochs, gram_ratio)
    return db + db0, t, kkt, epochs


@njit(cache=True)
def _line_search(y, s, code, param, w, eta, g, f0, ws, wsub, xd, a1, a2, N):  # noqa: ANN001, ANN202, PLR0913
    """Armijo along ``(wsub - w_W, xd)`` on the true objective
    (``F(w + t d) <= F(w) + 1e-4 t (g^T X d / N + Omega(w + d) - Omega(w))``): the step,
    1 where the model's decrease is below the objective's rounding, 0 where none is found."""
    n, k = eta.shape[0], ws.shape[0]
    pen0 = pen_value(w, ws, a1, a2)
    wnew = w.copy()
    for jj in range(k):
        wnew[ws[jj]] = wsub[jj]
    delta = dot(g, xd) / N + pen_value(wnew, ws, a1, a2) - pen0
    if abs(delta) <= 1e-13 * max(1.0, abs(f0 + pen0)):  # below the objective's rounding
        return 1.0
    if not delta < 0:
        return 0.0
    t = 1.0
    et = np.empty(n)
    for _ in range(30):
        for jj in range(k):
            j = ws[jj]
            wnew[j] = w[j] + t * (wsub[jj] - w[j])
        for i in range(n):
            et[i] = eta[i] + t * xd[i]
        ft = loss_sum(code, y, s, et, param) / N + pen_value(wnew, ws, a1, a2)
        if ft <= f0 + pen0 + 1e-4 * t * delta:
            return t
        t *= 0.5
    return 0.0


@njit(cache=True)
def pn_descend(X, y, s, code, param, w, eta, g, h, f0, grad, cand, a1, a2, lo, hi,  # noqa: ANN001, ANN201, PLR0913
               intercept, ws_min, inner_ratio, min_inner, max_epochs, gram_ratio):
    """Steps 2-4 of an outer iteration (module docstring) from the rows' ``g``, ``h`` at
    ``eta``, ``f0`` (the datafit there) and the gradient ``grad`` on the candidate features
    ``cand`` (the working set is chosen among them; the others stay 0); ``w``, ``eta``
    updated in place.

    Returns ``(db, step, kkt, epochs)``: the intercept's move, the line search's step
    (0: no decrease found; ``w``, ``eta`` untouched), the largest KKT violation on
    ``cand`` before the step, inner epochs."""
    n = X.shape[0]
    N = s.sum()
    m = cand.shape[0]
    score, wc = np.empty(m), np.empty(m)
    kkt = 0.0
    for c in range(m):
        j = cand[c]
        wc[c] = w[j]
        score[c] = violation(grad[j], w[j], a1[j], a2[j], lo[j], hi[j])
        kkt = max(kkt, score[c])
    ws = cand[select_ws(score, wc, ws_min)[0]]
    k = ws.shape[0]
    wsub = np.empty(k)
    for jj in range(k):
        wsub[jj] = w[ws[jj]]
    xd = np.zeros(n)
    tol = max(inner_ratio * kkt, min_inner)
    if n >= gram_ratio * (k + 1):
        db, epochs = _cd_gram(X, ws, g, h, wsub, a1, a2, lo, hi, N, intercept, tol,
                              max_epochs, xd, np.zeros(k + 1))
    else:
        # Gram-free first; past max(10, |W| + 1) epochs (about the column passes of forming
        # the Gram matrix) the model is ill-conditioned: go on in Gram form from there
        cap = min(max_epochs, max(10, k + 1))
        db, epochs = _cd_rows(X, ws, g, h, wsub, a1, a2, lo, hi, N, intercept, tol, cap,
                              xd)
        if epochs >= cap and cap < max_epochs:
            d0 = np.empty(k + 1)
            for jj in range(k):
                d0[jj] = wsub[jj] - w[ws[jj]]
            d0[k] = db
            db, more = _cd_gram(X, ws, g, h, wsub, a1, a2, lo, hi, N, intercept, tol,
                                max_epochs - epochs, xd, d0)
            epochs += more
    moved = db != 0.0
    for jj in range(k):
        moved = moved or wsub[jj] != w[ws[jj]]
    if not moved:
        return 0.0, 0.0, kkt, epochs
    t = _line_search(y, s, code, param, w, eta, g, f0, ws, wsub, xd, a1, a2, N)
    if t == 0.0:
        return 0.0, 0.0, kkt, epochs
    for jj in range(k):
        j = ws[jj]
        w[j] = w[j] + t * (wsub[jj] - w[j])
    for i in range(n):
        eta[i] += t * xd[i]
    return t * db, t, kkt, epochs
