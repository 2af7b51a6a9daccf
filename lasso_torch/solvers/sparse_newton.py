r"""The prox-Newton subproblem on a sparse ``X``: weighted least squares on CSC columns.

:class:`~lasso_torch.solvers.prox_newton.ProxNewton` calls :func:`sparse_direction` when its
datafit's ``X`` is sparse (logistic, Poisson, Huber, or the squared loss). The quadratic model
of the loss at ``w`` restricted to the working set ``W`` is the weighted least squares of
prox_newton's docstring, rows weighted by ``h' = h n / sum h`` (the IRLS weights ``h = s
l''``), response ``y~ = X w + s u / h``, the intercept profiled by ``h'``-weighted centering
and the penalty scaled by ``n / sum h``. Here it is solved *as* a weighted problem by the
compiled CSC kernels (:mod:`lasso_torch.solvers.csc_kernels`): row weights ``h'``, implicit
``h'``-weighted centering (the column means of ``W``'s columns only, ``O(nnz_W)``), CD
epochs over ``W``'s columns with Anderson extrapolation (none within finite bounds), to the
target gap of the dense route (the restricted duality gap for the plain elastic net, the
KKT violation for the weighted and bounded penalties). ``X`` is never densified, never
centered, and no column is copied: the CSC arrays are those of the datafit's ``X^T``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..penalties import is_plain
from . import csc_kernels as ck
from .coordinate import cached_on
from .loop import stall_floor
from .sparse_cd import csc_of, penalty_arrays, stats


def _csc(df: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X``'s CSC arrays on the host, once per datafit (from its ``X^T``)."""
    return cached_on(df, "csc_arrays", lambda: csc_of(df.X, df.XT))


def _working_set(engine: Any, grad: Tensor) -> Tensor:
    """prox_newton's working set (the support, then the worst violators, at least doubling),
    with room for up to four times the support's size (``ws_min`` at first) of the
    violators: each outer iteration costs several passes over ``X`` (the certificate, the
    model, the line search), so fewer, larger subproblems pay on sparse designs."""
    score = engine.penalty.subdiff_distance(engine.w, grad)
    support = engine.w != 0
    p, n_supp = engine.w.numel(), int(support.sum())
    n_viol = int(((score > 0) & ~support).sum())
    size = min(p, max(engine.ws_min, 2 * n_supp,
                      n_supp + min(n_viol, 4 * max(n_supp, engine.ws_min))))
    score = torch.where(support, torch.full_like(score, float("inf")), score)
    return torch.topk(score, size, sorted=False).indices.sort().values


def sparse_direction(engine: Any, cert: Any, u: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
    """``(d, grad)``: the Newton direction ``d`` (zero off the working set) and the gradient
    ``grad`` at ``engine.w``, from the generalized residual ``u`` and the row curvatures
    ``h`` (see :func:`~lasso_torch.solvers.prox_newton._model`)."""
    df, pen, w = engine.datafit, engine.penalty, engine.w
    su = u if df.s is None else df.s * u
    grad = -(df.XT @ su) / df.n
    ws = _working_set(engine, grad)
    live = h > torch.finfo(h.dtype).tiny
    d = torch.zeros_like(w)
    if not bool(live.any()):
        return d, grad
    ys = df.X @ w + torch.where(live, su / torch.where(live, h, 1.0), 0.0)
    indptr, indices, data = _csc(df)
    hs = (h * (h.numel() / h.sum())).detach().cpu().numpy().astype(data.dtype)
    nw = float(hs.sum())
    ys = ys.detach().cpu().numpy().astype(data.dtype)
    yc = ys - (hs @ ys) / nw if df.fit_intercept else ys
    idx = ws.cpu().numpy().astype(np.int64)
    st = stats(indptr, indices, data, hs, yc, nw, df.fit_intercept, idx)
    wh = w.detach().cpu().numpy().astype(data.dtype)
    start = wh.copy()
    rr = np.empty(yc.shape[0] + 1, dtype=data.dtype)
    ck.residual(indptr, indices, data, hs, yc, wh, rr)
    sub = pen.scale(float(df.n / h.sum()))
    l1, l2, lo, hi = penalty_arrays(sub, w.numel(), nw, data.dtype)
    plain = is_plain(sub)
    # the dense route's target (prox_newton.step), a tenth of the outer gap, made tighter
    # as the gap falls (a forcing term sqrt(rel_gap): superlinear Newton; an outer iteration,
    # its intercept and line search, costs far more than the CSC epochs)
    gap, p0 = float(cert.gap), float(df.p0)
    target = max(0.1 * engine.tol * p0, 0.1 * gap * min(1.0, (max(gap, 0.0) / p0) ** 0.5)
                 ) * engine.tighten
    if not plain:  # the KKT violation, n-scaled, a tenth of the outer one
        target = 0.1 * nw * float(cert.kkt) * engine.tighten
    boxed = bool(np.isfinite(lo).any() or np.isfinite(hi).any())
    a1, a2 = (float(sub.l1), float(sub.l2)) if plain else (0.0, 0.0)
    floor = stall_floor(w.dtype) * 0.5 * float(hs @ (yc * yc)) / nw  # the model's P(0)
    ck.inner(indptr, indices, data, hs, st.xbar, st.colsum, yc, rr, wh, st.norms, l1, l2, lo,
             hi, idx, nw, df.fit_intercept, a1, a2, plain, target, engine.max_inner,
             0 if boxed else 5, 1, 20, floor)
    d[ws] = torch.from_numpy(wh[idx] - start[idx]).to(w)
    return d, grad
