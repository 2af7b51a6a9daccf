r"""Compiled host kernels (numba, cached on disk): the sequential inner loops of CD.

Coordinate descent is sequential, one coordinate after the other: a Python loop pays an
interpreter round trip per coordinate, a GPU kernel a launch. These kernels run whole
epochs in machine code. ``@njit(cache=True)`` compiles each one once per argument types
(float32 and float64 arrays) and stores the machine code under ``__pycache__``: the
first call on a machine pays the compilation (seconds), later processes load it
(milliseconds).

Conventions, shared by every kernel here:

* arrays keep the data's dtype and scalars are passed in it (``np.float32(l1)``), so a
  float32 epoch computes in float32 exactly as numpy scalars would;
* ``l1``, ``l2`` are the thresholds in the units of the arrays: for ``G = X_c^T X_c`` and
  ``q = X_c^T r`` (unnormalized) they are ``n alpha rho`` and ``n alpha (1 - rho)``; for
  ``G / n``, ``q / n`` they are ``alpha rho`` and ``alpha (1 - rho)``;
* a coordinate update is ``w_j <- S(q_j + w_j G_jj, l1) / (G_jj + l2)``, exactly ``+0.0``
  in the zero zone; columns with ``G_jj == 0`` are skipped;
* dot products sum in four interleaved lanes (``i mod 4``) combined as
  ``(s0 + s1) + (s2 + s3)``, the tail into lane 0: a fixed order (the result does not
  depend on the machine) that the compiler can still run in SIMD registers. Without
  ``fastmath`` no operation is fused or reordered, so a plain Python loop in the same
  order gives the same bits (``tests/test_kernels.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def dot(a, b):  # noqa: ANN001, ANN201 (numba kernels take arrays of either dtype)
    """``a . b`` in the four-lane order of the module docstring."""
    n = a.shape[0]
    s0 = s1 = s2 = s3 = a.dtype.type(0)
    m = n - n % 4
    for i in range(0, m, 4):
        s0 += a[i] * b[i]
        s1 += a[i + 1] * b[i + 1]
        s2 += a[i + 2] * b[i + 2]
        s3 += a[i + 3] * b[i + 3]
    for i in range(m, n):
        s0 += a[i] * b[i]
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, inline="always")
def update(z, nj, l1, l2, zero):  # noqa: ANN001, ANN201
    """``S(z, l1) / (nj + l2)``, exactly ``zero`` (``+0.0``) when ``|z| <= l1``."""
    if z > l1:
        return (z - l1) / (nj + l2)
    if z < -l1:
        return (z + l1) / (nj + l2)
    return zero


@njit(cache=True, inline="always")
def sub_scaled(v, d, row):  # noqa: ANN001, ANN201
    """``v -= d * row`` in place (a residual or ``q`` after one coordinate moved by ``d``)."""
    for i in range(v.shape[0]):
        v[i] -= d * row[i]


@njit(cache=True)
def cd_epoch_gram(G, q, w, norms, l1, l2, order):  # noqa: ANN001, ANN201
    """One epoch over the coordinates ``order`` in Gram form; returns ``max |dw_j|``.

    ``q = c - G w`` (``c = X_c^T y_c`` in the units of ``G``) is updated with one row of
    ``G`` per changed coordinate; ``norms`` is ``diag(G)``. ``order`` may repeat indices
    (random selection) or be a working set.
    """
    zero = l1 - l1
    dmax = zero
    for k in range(order.shape[0]):
        j = order[k]
        nj = norms[j]
        if nj == zero:
            continue
        wj = w[j]
        new = update(q[j] + wj * nj, nj, l1, l2, zero)
        if new != wj:
            d = new - wj
            sub_scaled(q, d, G[j])
            w[j] = new
            dmax = max(dmax, abs(d))
    return dmax


@njit(cache=True)
def cd_epoch_residual(X, r, w, norms, l1, l2, order):  # noqa: ANN001, ANN201
    """One epoch over ``order`` in residual form (``X`` Fortran-ordered, centered,
    ``r = y_c - X w`` updated in place); returns ``max |dw_j|``. ``norms = ||x_j||^2``."""
    zero = l1 - l1
    dmax = zero
    for k in range(order.shape[0]):
        j = order[k]
        nj = norms[j]
        if nj == zero:
            continue
        wj = w[j]
        col = X[:, j]
        new = update(dot(col, r) + wj * nj, nj, l1, l2, zero)
        if new != wj:
            d = new - wj
            sub_scaled(r, d, col)
            w[j] = new
            dmax = max(dmax, abs(d))
    return dmax


@njit(cache=True)
def xtr_columns(X, r, idx, out):  # noqa: ANN001, ANN201
    """``out[j] = x_j . r`` for ``j`` in ``idx`` (``X`` Fortran-ordered)."""
    for k in range(idx.shape[0]):
        out[idx[k]] = dot(X[:, idx[k]], r)


@njit(cache=True)
def col_norms(X):  # noqa: ANN001, ANN201
    """``||x_j||^2`` for each column of a Fortran-ordered ``X`` (no temporary)."""
    out = np.empty(X.shape[1], dtype=X.dtype)
    for j in range(X.shape[1]):
        out[j] = dot(X[:, j], X[:, j])
    return out


@njit(cache=True)
def residual(X, yc, w, r):  # noqa: ANN001, ANN201
    """``r = y_c - X w`` over the nonzero ``w_j`` (``X`` Fortran-ordered)."""
    r[:] = yc
    for j in range(w.shape[0]):
        wj = w[j]
        if wj != 0.0:
            col = X[:, j]
            for i in range(r.shape[0]):
                r[i] -= wj * col[i]


@njit(cache=True)
def enet_certificate(r2, ry, xtr, w, idx, n, a1, a2):  # noqa: ANN001, ANN201
    """``(P(w), gap, kkt)`` over the features ``idx`` (float64), from the sums
    ``r2 = ||r||^2``, ``ry = r^T y_c`` and ``xtr[j] = x_j^T r`` (read at ``j`` in ``idx``).

    The formulas of :func:`lasso_torch.certificates.gap_from_sums` (``a1 = alpha rho``,
    ``a2 = alpha (1 - rho)``) and of the penalty's ``subdiff_distance`` for the KKT
    violation, compiled; ``w`` outside ``idx`` must be zero (a working set's restricted
    problem). Tested equal to :func:`~lasso_torch.certificates.certify`.
    """
    l1 = 0.0
    w2 = 0.0
    dual = 0.0
    xx = 0.0
    kkt = 0.0
    for k in range(idx.shape[0]):
        j = idx[k]
        wj = float(w[j])
        g = float(xtr[j]) / n - a2 * wj  # minus the gradient of the smooth part
        l1 += abs(wj)
        w2 += wj * wj
        dual = max(dual, abs(g))
        xx += float(xtr[j]) * float(xtr[j])
        if a1 == 0.0:
            v = abs(g)
        elif wj != 0.0:
            v = abs(g - a1 * np.sign(wj))
        else:
            v = max(abs(g) - a1, 0.0)
        kkt = max(kkt, v)
    primal = r2 / (2 * n) + a1 * l1 + 0.5 * a2 * w2
    if a1 > 0.0:
        s = min(1.0, a1 / dual) if dual > 0.0 else 1.0
        gap = 0.5 * (1 + s * s) * (r2 / n + a2 * w2) + a1 * l1 - s * ry / n
    else:
        gap = r2 / n + 0.5 * a2 * w2 - ry / n + xx / (2.0 * n * n * a2)
    return primal, gap, kkt


def as_scalar(x: float, like: np.ndarray) -> np.generic:
    """``x`` as a numpy scalar of ``like``'s dtype (what the kernels expect)."""
    return like.dtype.type(x)


@njit(cache=True)
def gram_q(G, c, w, q):  # noqa: ANN001, ANN201
    """``q = c - G w`` over the nonzero ``w_j`` (``G`` symmetric, rows read)."""
    q[:] = c
    for j in range(w.shape[0]):
        wj = w[j]
        if wj != 0.0:
            Gj = G[j]
            for i in range(q.shape[0]):
                q[i] -= wj * Gj[i]


@njit(cache=True)
def kkt_scores(g, w, a1, a2, out):  # noqa: ANN001, ANN201
    """``out[j] = dist(g_j - a2 w_j, a1 d|w_j|)`` on the support (the KKT violation, as the
    penalty's ``subdiff_distance``; ``g = X_c^T r / n``, minus the datafit's gradient) and
    ``|g_j| - a1`` off it: positive for a violator, and otherwise the closer to zero the
    closer the feature is to entering."""
    for j in range(w.shape[0]):
        wj = float(w[j])
        v = float(g[j]) - a2 * wj
        out[j] = abs(v - a1 * np.sign(wj)) if wj != 0.0 else abs(v) - a1


@njit(cache=True)
def select_ws(score, w, ws_min):  # noqa: ANN001, ANN201
    """The working set (sorted): the support, then the features of highest score (the
    violators first, then the closest to entering), ``max(ws_min, 2 |support|)`` features
    in all; and how many violators (``score > 0`` off the support) were left out."""
    p = w.shape[0]
    key = score.copy()
    n_supp = 0
    n_viol = 0
    for j in range(p):
        if w[j] != 0.0:
            key[j] = np.inf
            n_supp += 1
        elif key[j] > 0.0:
            n_viol += 1
    size = min(p, max(ws_min, 2 * n_supp))
    order = np.argsort(-key, kind="mergesort")[:size]
    return np.sort(order), max(n_supp + n_viol - size, 0)


@njit(cache=True)
def box_enet_epoch(G, q, w, idx, a1, a2, lo, hi):  # noqa: ANN001, ANN201
    """One epoch over ``idx`` in Gram form for the per-feature elastic net within bounds
    (weights, ``positive``, ``bounds``: :mod:`lasso_torch.weighted`): ``w_j <- clip(S(z,
    t a1_j) / (1 + t a2_j), lo_j, hi_j)`` with ``t = 1/G_jj``, ``z = w_j + t q_j``; ``q = c -
    G w`` kept (one Gram row per change). The operations of
    :func:`lasso_torch.solvers.penalty_cd.prox_1d` in its order (float64)."""
    for k in range(idx.shape[0]):
        j = idx[k]
        d = G[j, j]
        if d <= 0.0:
            continue
        t = 1.0 / d
        z = w[j] + q[j] / d
        s = t * a1[j]
        v = (z - s if z > s else (z + s if z < -s else 0.0)) / (1.0 + t * a2[j])
        v = min(max(v, lo[j]), hi[j])
        if v != w[j]:
            sub_scaled(q, v - w[j], G[j])
            w[j] = v

