"""Proximal operators: pure tensor functions, any shape, any float dtype.

``soft_threshold(z, t) = sign(z) * max(|z| - t, 0)`` is the prox of ``t * |.|``.
It is computed as ``z - clamp(z, -t, t)``: inside the zero zone ``|z| <= t`` the two
terms are the same float, so the result is exactly ``+0.0`` (never ``-0.0`` or a tiny
residue), and outside it is ``z - t`` or ``z + t`` rounded once.
"""

from __future__ import annotations

import torch
from torch import Tensor


def soft_threshold(z: Tensor, t: Tensor | float) -> Tensor:
    """Soft-thresholding ``S(z, t) = sign(z) max(|z| - t, 0)``, elementwise.

    ``t >= 0`` broadcasts against ``z`` (a scalar, or e.g. shape ``(K,)`` against a
    ``(p, K)`` batch of coefficient columns). Values with ``|z| <= t`` map to exactly 0.0.
    """
    if not isinstance(t, Tensor):
        return z - z.clamp(-t, t)
    t = t.to(dtype=z.dtype, device=z.device)
    return z - torch.minimum(torch.maximum(z, -t), t)


def enet_prox(z: Tensor, step: Tensor | float, alpha: Tensor | float, l1_ratio: float) -> Tensor:
    """Prox of ``step * alpha * (l1_ratio |w|_1 + (1 - l1_ratio)/2 |w|^2)`` at ``z``.

    Equals ``S(z, step*alpha*l1_ratio) / (1 + step*alpha*(1 - l1_ratio))``: exact zeros
    on the zero zone for ``l1_ratio > 0``, pure shrinkage (ridge) for ``l1_ratio == 0``.
    """
    out = soft_threshold(z, step * alpha * l1_ratio) if l1_ratio > 0 else z
    if l1_ratio < 1:
        out = out / (1 + step * alpha * (1 - l1_ratio))
    return out
