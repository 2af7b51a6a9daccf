r"""Proximal Adam: Adam's preconditioned step, then the penalty's prox in Adam's metric.

With ``g_k = p.grad`` (the smooth part's gradient only; the penalty never enters the
moments) and ``k = 1, 2, ...``:

.. math::
    m_k &= \beta_1 m_{k-1} + (1 - \beta_1)\, g_k, \qquad
    v_k = \beta_2 v_{k-1} + (1 - \beta_2)\, g_k^2 \\
    \hat m_k &= m_k / (1 - \beta_1^k), \quad \hat v_k = v_k / (1 - \beta_2^k), \quad
    D_k = \mathrm{diag}(\sqrt{\hat v_k} + \epsilon) \\
    w_{k+1} &= \arg\min_u\ \tfrac{1}{2\,lr_k} \|u - (w_k - lr_k D_k^{-1} \hat m_k)\|_{D_k}^2 + g(u)

The last line is the prox of ``g`` in Adam's own diagonal metric: for a separable ``g``
each coordinate has its own step ``lr / d_j``, so for ``alpha |w|_1`` the threshold of
coordinate ``j`` is ``lr * alpha / (sqrt(v_hat_j) + eps)``, exactly the scale of the step
Adam just took there. That is why the zeros survive: plain Adam on ``f + alpha |w|_1``
divides the penalty's constant pull ``alpha sign(w)`` by the same ``d_j`` and turns it
into a step of about ``lr`` that jumps over 0 at every iteration. For
:class:`~lasso_torch.penalties.GroupL1` the metric prox is solved per group
(:func:`~lasso_torch.prox.group_prox_diag`). Fixed points are exactly the minimizers of
``f + g`` whatever ``D`` is, so full batch and a small enough ``lr`` it converges to the
lasso solution.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from ._base import PenalizedOptimizer


class ProxAdam(PenalizedOptimizer):
    """Adam on the smooth part, then the penalty's prox in Adam's diagonal metric.

    Args:
        params: parameters or param groups (a group may set its own ``penalty``).
        lr: the step size (``lr_0`` of the schedule).
        penalty: a penalty from :mod:`lasso_torch.penalties` (``None``: plain Adam).
        betas: ``(beta1, beta2)``, each in ``[0, 1)``.
        eps: added to ``sqrt(v_hat)`` (> 0).
        schedule: ``"constant"``, ``"inv_sqrt"`` or ``"inv"``.
        check_finite: raise on a non-finite parameter every this many steps (0: never).
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 penalty: Any = None, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, schedule: str = "constant", check_finite: int = 1) -> None:
        if not all(0.0 <= b < 1.0 for b in betas) or len(betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        defaults = dict(lr=lr, penalty=penalty, betas=tuple(betas), eps=eps, schedule=schedule)
        super().__init__(params, defaults, check_finite)

    _state_keys = ("step", "exp_avg", "exp_avg_sq")

    def check_group(self, g: dict[str, Any], where: str) -> None:
        """And ``eps`` representable in each parameter's dtype: in float16 the default
        ``1e-8`` is 0, and a coordinate with no gradient yet divides by ``0``."""
        super().check_group(g, where)
        for j, p in enumerate(g["params"]):
            if p.is_floating_point() and float(torch.tensor(g["eps"], dtype=p.dtype)) == 0.0:
                tiny = torch.finfo(p.dtype).smallest_normal
                raise ValueError(f"{where}: eps={g['eps']:g} underflows to 0 in {p.dtype} "
                                 f"(parameter {j}); take eps >= {tiny:.3g} (e.g. eps=1e-4 "
                                 "in float16) or float32 parameters")

    def update(self) -> None:
        """The step from the gradients in ``p.grad`` (no ``Optimizer.step`` wrapper)."""
        for group in self.param_groups:
            lr, (b1, b2), eps = self._lr(group), group["betas"], group["eps"]
            pen = group["penalty"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                st = self.state[p]
                if not st:
                    st["step"] = torch.zeros((), dtype=torch.float32)  # torch.optim.Adam's
                    st["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    st["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                st["step"] += 1
                k = float(st["step"])
                m, v = st["exp_avg"], st["exp_avg_sq"]
                m.lerp_(g, 1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                d = (v / (1 - b2**k)).sqrt_().add_(eps)
                z = p - (lr / (1 - b1**k)) * m / d
                p.copy_(z if pen is None else pen.prox(z, lr / d))
