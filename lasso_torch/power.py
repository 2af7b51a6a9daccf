"""The largest eigenvalue of a symmetric PSD operator: the datafits' Lipschitz constants."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def power_iteration(
    op: Callable[[Tensor], Tensor], p: int, like: Tensor, n_iter: int = 100,
    rtol: float = 1e-6, seed: int = 0,
) -> Tensor:
    """Largest eigenvalue of the symmetric PSD operator ``op`` on R^p (a 0-d tensor).

    Deterministic (fixed seed, generated on the CPU and moved to ``like``'s device).
    Checks convergence every 10 steps (the only host syncs) and returns the estimate
    times ``1 + 2*rtol``, so a step ``1/L`` stays safe when it has not fully converged.
    """
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(p, generator=g, dtype=torch.float64).to(dtype=like.dtype, device=like.device)
    v = v / torch.linalg.vector_norm(v)
    lam = torch.zeros((), dtype=like.dtype, device=like.device)
    for k in range(1, n_iter + 1):
        u = op(v)
        lam_new = torch.linalg.vector_norm(u)
        if float(lam_new) == 0.0:
            return lam_new
        v = u / lam_new
        if k % 10 == 0 and abs(float(lam_new - lam)) <= rtol * float(lam_new):
            lam = lam_new
            break
        lam = lam_new
    return lam * (1 + 2 * rtol)
