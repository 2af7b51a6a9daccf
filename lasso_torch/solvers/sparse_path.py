r"""Sparse ``X`` for ``cd``, ``anderson_cd`` and ``ws``: their builders and warm paths
dispatch to :class:`~lasso_torch.solvers.sparse_cd.SparseCD` when the datafit's ``X`` is
sparse (and holds no Gram matrix: ``gram=True`` keeps ``ws``'s Gram route), and their specs
say ``sparse=True`` so ``solve``, the path and CV hand them a sparse ``X`` as it is.

The warm path on a sparse ``X`` (:func:`sparse_path`, the specs' ``path``): one engine, one
residual and one set of column statistics for the whole grid; per alpha the penalty is
swapped (screening starts over) and outer iterations run from the previous solution until
the engine's certificate is within ``tol / 2``. Each alpha's status is then decided by its
certificate over every column (screened ones included) from a residual recomputed from
scratch, in float64 (the compiled :func:`~lasso_torch.solvers.kernels.enet_certificate`,
tested equal to :func:`~lasso_torch.certificates.certify`); no certificate of the whole
``(p, A)`` grid in torch (on 24000 features x 100 alphas that took 1.1 s of a 1.7 s path).
Its ``X_c^T r`` is the next alpha's first: one pass over ``X`` per alpha at least.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..datafits import Quadratic
from ..penalties import is_plain
from ..sparse import is_sparse
from . import penalty_cd  # noqa: F401  (cd, ws, anderson_cd registered and dispatching first)
from .registry import get_solver, register
from .sparse_cd import SparseCD

MODES = {"cd": {"working_sets": False, "K": 0}, "anderson_cd": {"working_sets": True},
         "ws": {"working_sets": True}}
ENGINE_OPTIONS = ("selection", "seed", "ws_min", "inner_ratio", "K", "max_epochs", "check",
                  "screening")


def native(datafit: Any) -> bool:
    """Whether the sparse engine serves this datafit: a sparse ``X``, one quadratic problem
    (no weight columns, one target), no Gram matrix held."""
    return (type(datafit) is Quadratic and is_sparse(datafit.X) and datafit.F == 1
            and datafit.T == 1 and "gram" not in datafit.__dict__)


def sparse_path(datafit: Quadratic, alphas: Tensor, pen: Any, tol: float, max_iter: int,
                catch_interrupt: bool = False, *, name: str = "anderson_cd", **options: Any
                ) -> tuple[Tensor, Tensor, np.ndarray, np.ndarray] | None:
    """``(W (p, A), rel_gaps (A,), iterations (A,), status (A,))`` for the grid ``alphas``
    on a sparse ``X``, or None where the engine does not apply (see :func:`native`)."""
    if not native(datafit) or not is_plain(pen(alphas)):
        return None
    opts = {k: v for k, v in options.items() if k in ENGINE_OPTIONS}
    opts = {**opts, **MODES[name]} if name == "cd" else {**MODES[name], **opts}
    p, A = datafit.p, alphas.numel()
    w0 = torch.zeros(p, dtype=alphas.dtype)
    eng = SparseCD(datafit, pen(float(alphas[0])), w0, tol=0.5 * tol, **opts)
    W, iters = np.zeros((A, p), dtype=eng.w.dtype), np.zeros(A, dtype=np.int64)
    reason = np.full(A, "interrupted", dtype=object)
    rel = np.full(A, np.nan)
    try:
        for k, a in enumerate(alphas.tolist()):
            eng.set_penalty(pen(a))
            reason[k] = "max_iter"
            best, since = np.inf, 0
            for it in range(max_iter + 1):
                gap = float(eng.certificate().rel_gap)
                if gap <= 0.5 * tol or it == max_iter:
                    break
                best, since = (gap, 0) if gap < best * (1 - 1e-3) else (best, since + 1)
                if since >= 5:
                    reason[k] = "stalled"
                    break
                eng.step()
                iters[k] += 1
            W[k] = eng.w
            eng.keep, eng._at = eng.all_idx, None  # every column: the whole problem's gap
            rel[k] = float(eng.certificate().rel_gap)
    except KeyboardInterrupt:
        if not catch_interrupt:
            raise
    Wt = torch.from_numpy(np.ascontiguousarray(W.T)).to(device=datafit.X.device,
                                                        dtype=datafit.X.dtype)
    cut = reason == "interrupted"
    rel[cut] = np.nan
    status = np.where(cut, reason, np.where(
        ~np.isfinite(rel), "diverged", np.where(rel <= tol, "converged", reason)))
    return Wt, torch.from_numpy(rel).to(Wt), iters, status


def _sparse_first(spec: Any) -> Any:
    """``spec`` with a builder and a path that take a sparse ``X`` to the sparse engine."""
    mode, original_path = MODES[spec.name], spec.path

    def build(datafit: Any, penalty: Any, w0: Tensor, **options: Any) -> Any:
        if native(datafit) and w0.dim() == 1:
            return SparseCD(datafit, penalty, w0, **{**options, **mode} if spec.name == "cd"
                            else {**mode, **options})
        return spec.build(datafit, penalty, w0, **options)

    def path(datafit: Any, *args: Any, **options: Any) -> Any:
        if native(datafit):
            return sparse_path(datafit, *args, name=spec.name, **options)
        return None if original_path is None else original_path(datafit, *args, **options)

    build.sparse_first = True
    return replace(spec, build=build, path=path, sparse=True)


for _name in MODES:
    _spec = get_solver(_name)
    if not getattr(_spec.build, "sparse_first", False):
        register(_sparse_first(_spec))
