r"""Compiled coordinate descent on a sparse ``X`` in CSC form (numba, cached on disk).

``X`` is read through its CSC arrays ``(indptr, indices, data)``: column ``j``'s stored
entries are ``data[indptr[j]:indptr[j+1]]`` at rows ``indices[...]``. It is never densified
and never centered: with the intercept the centered column is ``x_j - xbar_j 1`` only
implicitly (scikit-learn's ``sparse_enet_coordinate_descent``, without its ``O(n)`` pass
per update). The state is the *raw* residual ``rr = y_c - X w`` (``n`` entries) followed by
its weighted sum ``rr[n] = sum_i s_i rr_i``; the centered residual is ``r = rr - m`` with
``m = rr[n] / sum(s)`` (``m = 0`` without intercept, where ``xbar = 0``). Then::

    x_c,j^T S r = sum_{i in col j} x_ij s_i rr_i - xbar_j rr[n]

and a change ``d`` of ``w_j`` updates ``rr`` on column ``j``'s rows and ``rr[n] -= d
colsum_j`` (``colsum_j = sum_i s_i x_ij``): ``O(nnz_j)`` per coordinate, whatever the
centering. The squared centered norms ``sum_i s_i (x_ij - xbar_j)^2`` are summed over the
stored entries plus ``xbar_j^2`` times the weight of the others (no cancellation).

Row weights ``s`` (sample weights, the IRLS weights of prox-Newton) are an ``(n,)`` array,
or an empty one for none. Penalties are per feature, in the units of ``n`` times the
objective: ``l1_j = n alpha rho c_j``, ``l2_j = n alpha (1 - rho) c_j`` (``c_j`` the
penalty factors, 1 for the plain elastic net) and the box ``[lo_j, hi_j]`` (``positive``,
``bounds``; infinite otherwise). A coordinate update is the dense kernels' (see
:mod:`lasso_torch.solvers.kernels`) followed by the clip::

    w_j <- clip(S(x_c,j^T S r + w_j ||x_c,j||_S^2, l1_j) / (||x_c,j||_S^2 + l2_j), lo_j, hi_j)

(the exact minimizer of a convex 1-D problem), exactly ``+0.0`` on the zero zone.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .anderson import anderson_weights, combine
from .kernels import enet_certificate, update


@njit(cache=True, inline="always")
def col_dot(indptr, indices, data, s, v, j):  # noqa: ANN001, ANN201
    """``sum_{i in col j} x_ij s_i v_i`` (``s`` empty: no weights)."""
    acc = data.dtype.type(0)
    if s.shape[0]:
        for t in range(indptr[j], indptr[j + 1]):
            i = indices[t]
            acc += data[t] * s[i] * v[i]
    else:
        for t in range(indptr[j], indptr[j + 1]):
            acc += data[t] * v[indices[t]]
    return acc


@njit(cache=True)
def col_stats(indptr, indices, data, s, nw, center, idx, xbar, colsum, norms):  # noqa: ANN001, ANN201
    """For ``j`` in ``idx``: ``colsum_j = sum s x_ij``, ``xbar_j = colsum_j / nw`` (0
    without ``center``) and the centered weighted squared norm ``norms_j``, in one pass
    (``sum s x^2 - colsum^2 / nw``), or two where that would cancel (a column whose mean
    carries over half its square: its entries centered first)."""
    for k in range(idx.shape[0]):
        j = idx[k]
        cs = 0.0
        sq = 0.0
        for t in range(indptr[j], indptr[j + 1]):
            si = s[indices[t]] if s.shape[0] else 1.0
            v = data[t]
            cs += si * v
            sq += si * v * v
        m = cs / nw if center else 0.0
        norm = sq - m * cs
        if center and m * cs > 0.5 * sq:  # cancellation: the two-pass sum
            sw = 0.0
            sq = 0.0
            for t in range(indptr[j], indptr[j + 1]):
                si = s[indices[t]] if s.shape[0] else 1.0
                v = data[t] - m
                sq += si * v * v
                sw += si
            norm = sq + m * m * max(nw - sw, 0.0)
        colsum[j] = cs
        xbar[j] = m
        norms[j] = max(norm, 0.0)


@njit(cache=True)
def residual(indptr, indices, data, s, yc, w, rr):  # noqa: ANN001, ANN201
    """``rr[:n] = y_c - X w`` over the nonzero ``w_j`` and ``rr[n] = sum s rr``."""
    n = yc.shape[0]
    rr[:n] = yc
    for j in range(w.shape[0]):
        wj = w[j]
        if wj != 0.0:
            for t in range(indptr[j], indptr[j + 1]):
                rr[indices[t]] -= wj * data[t]
    tot = 0.0
    for i in range(n):
        tot += (s[i] if s.shape[0] else 1.0) * rr[i]
    rr[n] = tot


@njit(cache=True)
def epoch(indptr, indices, data, s, xbar, colsum, rr, w, norms, l1, l2, lo, hi, order):  # noqa: ANN001, ANN201
    """One CD epoch over the coordinates ``order`` (may repeat: random selection; or a
    working set); ``rr`` updated in place. Returns ``max |dw_j|``."""
    n = rr.shape[0] - 1
    zero = data.dtype.type(0)
    dmax = zero
    for k in range(order.shape[0]):
        j = order[k]
        nj = norms[j]
        if nj == zero:
            continue
        wj = w[j]
        g = col_dot(indptr, indices, data, s, rr, j) - xbar[j] * rr[n]
        new = update(g + wj * nj, nj, l1[j], l2[j], zero)
        new = min(max(new, lo[j]), hi[j])
        if new != wj:
            d = new - wj
            for t in range(indptr[j], indptr[j + 1]):
                rr[indices[t]] -= d * data[t]
            rr[n] -= d * colsum[j]
            w[j] = new
            dmax = max(dmax, abs(d))
    return dmax


@njit(cache=True)
def xtr(indptr, indices, data, s, xbar, rr, idx, out):  # noqa: ANN001, ANN201
    """``out[j] = x_c,j^T S r`` for ``j`` in ``idx``."""
    n = rr.shape[0] - 1
    for k in range(idx.shape[0]):
        j = idx[k]
        out[j] = col_dot(indptr, indices, data, s, rr, j) - xbar[j] * rr[n]


@njit(cache=True)
def sums(s, rr, yc, nw, center):  # noqa: ANN001, ANN201
    """``(sum s r^2, sum s r y_c)`` of the centered residual ``r = rr - m`` (float64)."""
    n = yc.shape[0]
    m = float(rr[n]) / nw if center else 0.0
    r2 = 0.0
    ry = 0.0
    for i in range(n):
        si = float(s[i]) if s.shape[0] else 1.0
        ri = float(rr[i]) - m
        r2 += si * ri * ri
        ry += si * ri * float(yc[i])
    return r2, ry


@njit(cache=True)
def box_kkt(g, w, l1, l2, lo, hi, idx):  # noqa: ANN001, ANN201
    """``max_j dist(g_j, l1_j d|w_j| + l2_j w_j + N_[lo_j, hi_j](w_j))`` over ``idx`` (the
    KKT violation, ``g = X_c^T S r``, ``n`` times the penalty's ``subdiff_distance``)."""
    out = 0.0
    for k in range(idx.shape[0]):
        j = idx[k]
        wj = float(w[j])
        c = float(g[j])
        point = l1[j] * np.sign(wj) + l2[j] * wj
        lower = -l1[j] if wj == 0.0 else point
        upper = l1[j] if wj == 0.0 else point
        if wj >= hi[j]:
            upper = np.inf
        if wj <= lo[j]:
            lower = -np.inf
        v = max(lower - c, 0.0) + max(c - upper, 0.0)
        out = max(out, v)
    return out


@njit(cache=True)
def scaled_objective(s, rr, w, ws, nw, center, l1, l2):  # noqa: ANN001, ANN201
    """``n`` times the restricted objective: ``1/2 sum s r^2 + sum_W l1 |w| + l2/2 w^2``."""
    n = rr.shape[0] - 1
    m = float(rr[n]) / nw if center else 0.0
    f = 0.0
    for i in range(n):
        ri = float(rr[i]) - m
        f += (float(s[i]) if s.shape[0] else 1.0) * ri * ri
    pen = 0.0
    for k in range(ws.shape[0]):
        v = float(w[ws[k]])
        pen += l1[ws[k]] * abs(v) + 0.5 * l2[ws[k]] * v * v
    return 0.5 * f + pen


@njit(cache=True)
def _extrapolate(indptr, indices, data, colsum, M, w, ws, rr, wt, at):  # noqa: ANN001, ANN201
    """The extrapolated ``w`` (into ``wt``) from the stored iterates (rows of ``M``) and its
    raw residual (into ``at``: ``rr`` moved along the working set's columns by ``wt - w``,
    ``O(n + nnz_W)``, nothing stored per epoch); False when the weights do not exist."""
    c = anderson_weights(M)
    if c.shape[0] == 0:
        return False
    n = rr.shape[0] - 1
    wt[:] = w
    mt = np.empty(ws.shape[0], dtype=M.dtype)
    combine(c, M, mt)
    at[:] = rr
    for k in range(ws.shape[0]):
        j = ws[k]
        d = mt[k] - w[j]
        wt[j] = mt[k]
        if d != 0.0:
            for t in range(indptr[j], indptr[j + 1]):
                at[indices[t]] -= d * data[t]
            at[n] -= d * colsum[j]
    return True


@njit(cache=True)
def inner(indptr, indices, data, s, xbar, colsum, yc, rr, w, norms, l1, l2, lo, hi, ws,  # noqa: ANN001, ANN201, PLR0913
          nw, center, a1, a2, gap_mode, target, max_epochs, K, check, patience, floor):
    """The problem restricted to the working set ``ws`` (the other coefficients fixed),
    solved by cyclic epochs over ``ws`` with Anderson extrapolation every ``K + 1`` epochs
    (kept when it lowers the objective; ``K = 0``: plain CD), the scheme of
    :mod:`lasso_torch.solvers.anderson` on the CSC state. Every ``check`` epochs the stopping
    value: with ``gap_mode`` the restricted duality gap of the plain elastic net (``a1``,
    ``a2``: ``alpha rho``, ``alpha (1 - rho)``), else the KKT violation :func:`box_kkt`
    (``n``-scaled). Stops at ``<= target``, after ``max_epochs``, or after ``patience``
    checks without a 0.1 % improvement once below ``floor``. Returns ``(epochs, value)``."""
    M = np.empty((K + 1, ws.shape[0]), dtype=w.dtype)
    wt, at = np.empty_like(w), np.empty_like(rr)
    g = np.zeros(w.shape[0], dtype=rr.dtype)
    best, since, val, slot = np.inf, 0, np.inf, 0
    for ep in range(1, max_epochs + 1):
        epoch(indptr, indices, data, s, xbar, colsum, rr, w, norms, l1, l2, lo, hi, ws)
        if ep % check == 0:
            xtr(indptr, indices, data, s, xbar, rr, ws, g)
            if gap_mode:
                r2, ry = sums(s, rr, yc, nw, center)
                val = enet_certificate(r2, ry, g, w, ws, nw, a1, a2)[1]
            else:
                val = box_kkt(g, w, l1, l2, lo, hi, ws)
            if val <= target:
                return ep, val
            if val < best * (1 - 1e-3):
                best, since = val, 0
            else:
                since += 1
                if since >= patience and best < floor:
                    return ep, val
        if K == 0:
            continue
        for k in range(ws.shape[0]):
            M[slot, k] = w[ws[k]]
        slot += 1
        if slot == K + 1:
            slot = 0
            if _extrapolate(indptr, indices, data, colsum, M, w, ws, rr, wt, at) and \
                    scaled_objective(s, at, wt, ws, nw, center, l1, l2) < scaled_objective(
                    s, rr, w, ws, nw, center, l1, l2):
                w[:] = wt
                rr[:] = at
    return max_epochs, val
