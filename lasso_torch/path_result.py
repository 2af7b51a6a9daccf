"""The result of a regularization path (:func:`lasso_torch.lasso_path`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor


@dataclass
class PathResult:
    """Solutions along a grid of ``alpha`` (descending).

    Without masks: ``coefs (p, K)``, ``intercepts (K,)``, ``gaps (K,)`` (relative duality
    gaps ``gap / P(0)``), ``n_iters (K,)`` and ``converged (K,)``. With ``F`` masks every
    per-alpha field gets a leading fold axis: ``coefs (F, p, K)``, ``gaps (F, K)``, ...
    The multinomial loss (``C`` classes) has a class axis: ``coefs (p, C, K)``,
    ``intercepts (C, K)`` (:mod:`lasso_torch.multinomial_path`).
    ``status`` per column is ``converged``, ``stalled`` (float precision reached),
    ``max_iter`` or ``diverged``; ``time`` is the wall time in seconds; ``trace`` the
    batched loop's record (``record_every > 0``).
    """

    alphas: Tensor
    coefs: Tensor
    intercepts: Tensor
    gaps: Tensor
    n_iters: Tensor
    converged: Tensor
    status: np.ndarray
    time: float
    strategy: str
    l1_ratio: float = 1.0
    trace: dict[str, np.ndarray] | None = None

    @property
    def all_converged(self) -> bool:
        return bool(self.converged.all())
