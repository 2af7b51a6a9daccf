r"""Compiled pieces of the working-set subproblem (:mod:`lasso_torch.solvers.subproblem`).

The subproblem ``min 1/2 w^T G w - c^T w + a1 |w|_1 + a2/2 |w|^2`` (float64, ``|W|``
features) spends its time, on small ill-conditioned problems, in FISTA iterations whose
every operation is a tiny array op (a product with ``G``, the prox, the momentum), and in
its gap: a dispatch each in numpy/torch, a few hundred nanoseconds each compiled. These
kernels run ``count`` FISTA iterations, and the gap, in one call. Products with ``G`` are
row dot products in the four-lane order of :mod:`lasso_torch.solvers.kernels`; the
subproblem keeps numpy/torch's BLAS above ``COMPILED_MAX`` features, where a product with
``G`` is large enough for BLAS to win. Measured per FISTA iteration (numpy/torch path
against compiled, 2 threads): 32 features 14 / <1 us, 128: 39 / 6, 256: 41 / 20,
512: 60 / 99, 1024: 187 / 296; the gap 37 / 1 us at 32 features, 134 / 24 at 256.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .kernels import dot, enet_certificate

COMPILED_MAX = 256  # features up to which the FISTA iterations run compiled


@njit(cache=True)
def gram_matvec(G, v, out):  # noqa: ANN001, ANN201
    """``out = G v`` (``G`` C-contiguous)."""
    for i in range(G.shape[0]):
        out[i] = dot(G[i], v)


@njit(cache=True)
def dense_gap(G, c, yy, w, a1, a2):  # noqa: ANN001, ANN201
    """The subproblem's duality gap at ``w``: the full problem's formula with
    ``||r||^2/n = yy - 2 c^T w + w^T G w``, ``r^T y_c / n = yy - c^T w``,
    ``X^T r / n = c - G w`` (``n = 1``)."""
    m = w.shape[0]
    Gw = np.empty(m)
    gram_matvec(G, w, Gw)
    cw = dot(c, w)
    idx = np.arange(m)
    return enet_certificate(yy - 2 * cw + dot(w, Gw), yy - cw, c - Gw, w, idx, 1, a1,
                            a2)[1]


@njit(cache=True)
def fista_chunk(G, c, x, v, t, step, a1, a2, count):  # noqa: ANN001, ANN201
    """``count`` FISTA iterations with adaptive restart (O'Donoghue & Candes), in place on
    ``x`` and ``v``; returns the new ``t``. The prox of ``step (a1 |.|_1 + a2/2 |.|^2)`` is
    ``S(z, step a1) / (1 + step a2)``, exactly ``+0.0`` on the zero zone."""
    m = x.shape[0]
    g = np.empty(m)
    thr, shrink = step * a1, 1.0 + step * a2
    for _ in range(count):
        gram_matvec(G, v, g)
        restart = 0.0
        for i in range(m):
            z = v[i] - step * (g[i] - c[i])
            if a1 > 0:
                z = z - thr if z > thr else z + thr if z < -thr else 0.0
            if a2 > 0:
                z = z / shrink
            d = z - x[i]
            restart += (v[i] - z) * d
            g[i] = d  # reuse: the step d = x_new - x
            x[i] = z
        if restart > 0:
            v[:] = x
            t = 1.0
        else:
            t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
            beta = (t - 1) / t_new
            for i in range(m):
                v[i] = x[i] + beta * g[i]
            t = t_new
    return t
