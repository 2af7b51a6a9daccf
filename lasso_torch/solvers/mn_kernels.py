r"""Compiled multinomial kernels (numba, cached on disk like
:mod:`lasso_torch.solvers.kernels`): the softmax loss, the penalty, the profiled
intercepts and the running duality-gap certificate of :mod:`lasso_torch.glm.multinomial`
(the same formulas, float64), for the compiled proximal Newton of
:mod:`lasso_torch.solvers.mn_newton`.

Layout: ``X (n, p)`` Fortran order (its columns shifted by their means when there is an
intercept: the intercepts absorb the shift), ``W (p, K)`` (a feature's row across the
classes contiguous), the linear predictor and the probabilities class by class, ``(K, n)``
(a class's column over the rows contiguous), ``codes (n,)`` the class of each row, ``om =
s / sum s`` the rows' weights.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import dot


@njit(cache=True)
def softmax_loss(eta, codes, om, P):  # noqa: ANN001, ANN201
    """``P <- softmax(eta)`` by rows; returns ``sum_i om_i (logsumexp(eta_i) - eta_i,y_i)``."""
    K, n = eta.shape
    total = 0.0
    for i in range(n):
        m = eta[0, i]
        for k in range(1, K):
            m = max(m, eta[k, i])
        z = 0.0
        for k in range(K):
            e = np.exp(eta[k, i] - m)
            P[k, i] = e
            z += e
        for k in range(K):
            P[k, i] /= z
        total += om[i] * (m + np.log(z) - eta[codes[i], i])
    return total


@njit(cache=True)
def loss_along(eta, xd, t, codes, om):  # noqa: ANN001, ANN201
    """The loss at ``eta + t xd`` (no allocation)."""
    K, n = eta.shape
    total = 0.0
    for i in range(n):
        m = eta[0, i] + t * xd[0, i]
        for k in range(1, K):
            m = max(m, eta[k, i] + t * xd[k, i])
        z = 0.0
        for k in range(K):
            z += np.exp(eta[k, i] + t * xd[k, i] - m)
        c = codes[i]
        total += om[i] * (m + np.log(z) - eta[c, i] - t * xd[c, i])
    return total


@njit(cache=True)
def pen_value(W, a1, a2, grouped):  # noqa: ANN001, ANN201
    """``a1 sum |W_jk|`` (``a1 sum_j ||W_j||`` grouped) ``+ a2/2 ||W||^2``."""
    p, K = W.shape
    total = 0.0
    for j in range(p):
        sq = 0.0
        ab = 0.0
        for k in range(K):
            sq += W[j, k] * W[j, k]
            ab += abs(W[j, k])
        if sq > 0.0:
            total += a1 * (np.sqrt(sq) if grouped else ab) + 0.5 * a2 * sq
    return total


@njit(cache=True)
def class_hessian(P, wrow, out, buf):  # noqa: ANN001, ANN201
    """``out = sum_i wrow_i (diag(p_i) - p_i p_i^T)`` (``K x K``); ``buf`` an ``(n,)``
    buffer."""
    K, n = P.shape
    for k in range(K):
        Pk = P[k]
        for i in range(n):
            buf[i] = wrow[i] * Pk[i]
        for m in range(k):
            out[k, m] = out[m, k] = -dot(buf, P[m])
        out[k, k] = buf.sum() - dot(buf, Pk)


@njit(cache=True)
def row_hessians(X, ws, P, om, OX, Hs):  # noqa: ANN001, ANN201
    """``Hs[jj] = sum_i om_i x_ij^2 (diag p_i - p_i p_i^T)`` for ``j = ws[jj]`` (one GEMM
    of the squared columns with the ``K (K + 1) / 2`` products of ``P``), ``OX[jj] = om
    x_j``."""
    K, n = P.shape
    m = ws.shape[0]
    X2 = np.empty((m, n))
    for jj in range(m):
        col = X[:, ws[jj]]
        for i in range(n):
            OX[jj, i] = om[i] * col[i]
            X2[jj, i] = OX[jj, i] * col[i]
    if K * (K + 1) // 2 * n > 1 << 24:  # many classes: row by row, no (K^2, n) product
        buf = np.empty(n)
        for jj in range(m):
            class_hessian(P, X2[jj], Hs[jj], buf)
        return
    V = np.empty((K * (K + 1) // 2, n))
    c = 0
    for k in range(K):
        for m2 in range(k + 1):
            for i in range(n):
                V[c, i] = (P[k, i] if m2 == k else 0.0) - P[k, i] * P[m2, i]
            c += 1
    F = X2 @ V.T
    for jj in range(m):
        c = 0
        for k in range(K):
            for m2 in range(k + 1):
                Hs[jj, k, m2] = Hs[jj, m2, k] = F[jj, c]
                c += 1


@njit(cache=True)
def intercept_newton(H, g):  # noqa: ANN001, ANN201
    """The Newton step of the intercepts: ``(H + 11^T/K) d = -g``, ``d`` of zero mean
    (``H``'s null space: the constant direction)."""
    K = g.shape[0]
    A = H + np.ones((K, K)) / K
    d = -np.linalg.solve(A, g)
    return d - d.mean()


@njit(cache=True)
def profile_intercept(eta, b, codes, om, P, steps):  # noqa: ANN001, ANN201
    """``b <- argmin_b`` the loss (Newton, backtracking, ``sum b = 0``), ``eta`` shifted
    with it; returns the loss (``P`` left at the final ``eta``)."""
    K, n = eta.shape
    H = np.empty((K, K))
    g = np.empty(K)
    buf = np.empty(n)
    f = softmax_loss(eta, codes, om, P)
    for _ in range(steps):
        for k in range(K):
            g[k] = 0.0
        for i in range(n):
            for k in range(K):
                g[k] += om[i] * P[k, i]
            g[codes[i]] -= om[i]
        if np.abs(g).max() <= 1e-15:
            break
        class_hessian(P, om, H, buf)
        d = intercept_newton(H, g)
        slope = (g * d).sum()
        t = 1.0
        for _ in range(40 if -slope > 1e-14 * max(1.0, abs(f)) else 0):  # measurable
            ft = 0.0
            for i in range(n):
                m = -np.inf
                for k in range(K):
                    m = max(m, eta[k, i] + t * d[k])
                z = 0.0
                for k in range(K):
                    z += np.exp(eta[k, i] + t * d[k] - m)
                ft += om[i] * (m + np.log(z) - eta[codes[i], i] - t * d[codes[i]])
            if ft <= f + 1e-4 * t * slope:
                break
            t *= 0.5
        for k in range(K):
            b[k] += t * d[k]
            eta[k] += t * d[k]
        f = softmax_loss(eta, codes, om, P)
        if np.abs(t * d).max() <= 1e-15 * (1.0 + np.abs(b).max()):
            break
    shift = b.mean()
    for k in range(K):
        b[k] -= shift
        eta[k] -= shift
    return f


@njit(cache=True)
def mn_certificate(X, codes, om, W, b, eta, a1, a2, grouped, intercept):  # noqa: ANN001, ANN201, PLR0913
    """``(primal, gap)`` of :func:`lasso_torch.glm.multinomial.certificate` (float64), the
    intercepts profiled first (``b``, ``eta`` updated in place)."""
    K, n = eta.shape
    p = W.shape[0]
    P = np.empty((K, n))
    if intercept:
        f = profile_intercept(eta, b, codes, om, P, 50)
    else:
        f = softmax_loss(eta, codes, om, P)
    U = np.empty((n, K))  # om (Y - P), rows
    for i in range(n):
        for k in range(K):
            U[i, k] = -om[i] * P[k, i]
        U[i, codes[i]] += om[i]
    V = np.ascontiguousarray(X.T) @ U  # (p, K)
    vmax = 0.0
    pconj = 0.0
    for j in range(p):
        if grouped:
            sq = 0.0
            for k in range(K):
                sq += V[j, k] * V[j, k]
            vn = np.sqrt(sq)
            vmax = max(vmax, vn)
            if a2 > 0.0 and vn > a1:
                pconj += (vn - a1) ** 2 / (2.0 * a2)
        else:
            for k in range(K):
                vn = abs(V[j, k])
                vmax = max(vmax, vn)
                if a2 > 0.0 and vn > a1:
                    pconj += (vn - a1) ** 2 / (2.0 * a2)
    kappa = 1.0 if a2 > 0.0 else min(1.0, a1 / max(vmax, 1e-300))
    lconj = 0.0
    for i in range(n):
        acc = 0.0
        for k in range(K):
            q = kappa * P[k, i] + ((1.0 - kappa) if k == codes[i] else 0.0)
            q = min(max(q, 0.0), 1.0)
            if q > 0.0:
                acc += q * np.log(q)
        lconj += om[i] * acc
    primal = f + pen_value(W, a1, a2, grouped)
    return primal, primal + lconj + pconj
