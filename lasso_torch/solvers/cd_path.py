r"""The compiled warm path: every alpha of a grid solved by CD epochs on the Gram matrix,
warm-started along the grid, with one compiled call per alpha and no engine, loop or
certificate built per alpha (scikit-learn's ``lasso_path`` pays a Python call per alpha
too).

It is the warm strategy of :func:`lasso_torch.lasso_path` for ``cd`` and ``anderson_cd``
(``SolverSpec.path``) when the Gram matrix is cheap and exact enough: a plain elastic net
on one quadratic datafit (sample weights and the intercept included: ``G``, ``c`` and
``P(0)`` come from the datafit), a dense CPU float64 ``X`` with ``p <= MAX_P``, and
``tol >= 1e-9`` (the Gram sums cancel to ~1e-15 P(0)). Otherwise it returns None and the
path runs the solver's engine alpha by alpha.

Per alpha, :func:`~lasso_torch.solvers.anderson.inner_gram` runs epochs over all features
(an epoch costs ``O(p)`` plus a Gram row per changed coefficient, so a working set would
save little) with Anderson extrapolation, until its duality gap is ``tol P(0) / 2``. The
whole path is then certified once, in torch, by the project's formula
(:func:`~lasso_torch.certificates.certificate_from_sums` on the datafit's Gram sums):
that certificate, not the kernel's, decides each alpha's status.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..certificates import certificate_from_sums
from ..datafits import Quadratic
from ..penalties import is_plain
from .anderson import inner_gram
from .loop import stall_floor

MAX_P = 2048  # the Gram matrix: 32 MB in float64


def gram_path(datafit: Quadratic, alphas: Tensor, pen: Any, tol: float, max_iter: int,
              catch_interrupt: bool = False, *, max_epochs: int | None = None, K: int = 5,
              **_: Any) -> tuple[Tensor, Tensor, np.ndarray, np.ndarray] | None:
    """``(W (p, A), rel_gaps (A,), epochs (A,), status (A,))`` for the grid ``alphas``
    (descending), or None where the compiled path does not apply (see the module). At most
    ``max_epochs`` epochs per alpha (default ``max_iter``: ``cd``'s unit); an interrupted
    alpha and the ones after it have status ``"interrupted"`` and a NaN gap."""
    max_epochs = max_iter if max_epochs is None else max_epochs
    X = datafit.X
    if (type(datafit) is not Quadratic or datafit.F != 1 or X.device.type != "cpu"
            or X.layout != torch.strided or X.dtype != torch.float64 or tol < 1e-9
            or datafit.p > MAX_P):
        return None
    penalty = pen(alphas)
    if not is_plain(penalty):
        return None
    G = np.ascontiguousarray(datafit.gram.numpy())
    c = np.ascontiguousarray(datafit.Xty.numpy())
    yy = 2.0 * float(datafit.p0)
    p, A = datafit.p, alphas.numel()
    w, q, idx = np.zeros(p), c.copy(), np.arange(p, dtype=np.int64)
    W, epochs = np.zeros((A, p)), np.zeros(A, dtype=np.int64)
    reason = np.full(A, "interrupted", dtype=object)
    target, floor = 0.5 * tol * 0.5 * yy, stall_floor(X.dtype) * 0.5 * yy
    rho = float(penalty.l1_ratio)
    try:
        for k, a in enumerate(alphas.tolist()):
            ep, _gap = inner_gram(G, c, yy, w, q, idx, a * rho, a * (1.0 - rho), target,
                                  max_epochs, K, 20, floor)
            W[k], epochs[k] = w, ep
            reason[k] = "max_iter" if ep >= max_epochs else "stalled"
    except KeyboardInterrupt:
        if not catch_interrupt:
            raise
    Wt = torch.from_numpy(np.ascontiguousarray(W.T))
    cert = certificate_from_sums(datafit, Wt, *datafit.gram_sums(Wt), penalty)
    rel = cert.rel_gap
    cut = torch.from_numpy(reason == "interrupted")
    rel[cut] = torch.nan
    r = rel.numpy()
    status = np.where(cut.numpy(), reason, np.where(
        ~np.isfinite(r), "diverged", np.where(r <= tol, "converged", reason)))
    return Wt, rel, epochs, status
