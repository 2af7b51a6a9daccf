"""Small linear-algebra helpers: the largest eigenvalue of an operator (the datafits), and
the host solvers' numpy products through torch's BLAS (:func:`mm`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
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


_SMALL = 9216  # multiply-adds below which OpenBLAS runs a product on one thread


def mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b``. Products that numpy's OpenBLAS would thread go through torch's BLAS on
    zero-copy views instead: OpenBLAS's threads, once woken, spin-wait against torch's on
    the same cores (measured: the sim-corr subproblem 2-4x slower with both pools at 2
    threads), and torch's thread count is the one :func:`~lasso_torch.solvers.auto.threads_for`
    sets (one thread for a small problem: on a loaded machine a threaded call waits for a time
    slice). Small ones stay in numpy, whose call overhead is lower."""
    if a.size * (b.shape[1] if b.ndim == 2 else 1) < _SMALL:
        return a @ b
    return (torch.from_numpy(a) @ torch.from_numpy(b)).numpy()
