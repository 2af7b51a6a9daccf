"""Gap-safe screening (Fercoq, Gramfort & Salmon 2015): features provably 0 at the optimum.

The elastic net is a Lasso on augmented data (``X`` stacked on ``sqrt(n a2) I``); its dual
point ``theta = s r / (n a1)`` and the safe sphere of radius ``sqrt(2 n gap) / (n a1)`` give:
feature ``j`` is 0 at the optimum when

    s |g_j| / a1 + sqrt(2 n gap) / (n a1) * sqrt(||x_j,c||^2 + n a2) < 1,

with ``g = X_c^T S r / n - a2 w`` and ``s = min(1, a1 / ||g||_inf)``. Per column of a batch.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..datafits import Quadratic
from ..penalties import ElasticNet


def gap_safe_dead(datafit: Quadratic, w: Tensor, Xtr: Tensor, gap: Tensor,
                  penalty: ElasticNet) -> Tensor:
    """``(p,)`` or ``(p, K)`` True where the feature is provably 0 (needs ``l1_ratio > 0``)."""
    n = datafit.n_cols
    a1, a2 = penalty.l1, penalty.l2
    g = Xtr / n - a2 * w
    dn = g.abs().amax(0)
    s = torch.where(dn > a1, a1 / dn, torch.ones_like(dn))
    colsq = datafit.colsq if datafit.F == 1 else datafit._c(datafit.colsq)
    if w.dim() == 2 and colsq.dim() == 1:
        colsq = colsq[:, None]
    radius = torch.sqrt(2 * n * gap.clamp(min=0)) / (n * a1)
    bound = s * g.abs() / a1 + radius * torch.sqrt(colsq + n * a2)
    return bound < 1 - 16 * torch.finfo(w.dtype).eps  # a margin for the rounding of g
