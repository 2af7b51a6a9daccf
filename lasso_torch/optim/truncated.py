r"""Truncated SGD: the clip-at-zero heuristic practitioners use for L1 in deep learning.

One SGD step on ``f + g`` with the penalty's subgradient (what autograd gives for
``g``'s value: ``alpha sign(w)`` with ``sign(0) = 0``, plus ``alpha (1 - rho) w`` for the
elastic net; ``alpha w_g / ||w_g||`` for a group), then every coordinate (every group)
that crossed or touched zero is set to exactly 0.0:

.. math::
    u &= w_k - lr_k \big(\nabla f(w_k) + \partial g(w_k)\big) \\
    w_{k+1, j} &= \begin{cases} 0 & \text{if } w_{k,j} \ne 0 \text{ and } w_{k,j}\, u_j \le 0 \\
                               u_j & \text{otherwise} \end{cases}

(for a group: ``w_{k,g} != 0`` and ``<w_{k,g}, u_g> <= 0``). A coordinate at 0 feels no
pull from the penalty (``sign(0) = 0``), so it leaves 0 by ``lr |grad f|`` and is clipped
back when the pull brings it across: where the solution is 0 the coordinate alternates
between 0 and a small value, and the zero count flickers. It is a heuristic with no
convergence guarantee to the lasso solution; :class:`ProxSGD` is the principled version.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from ..penalties import GroupL1
from ._base import PenalizedOptimizer


def penalty_subgradient(penalty: Any, w: Tensor) -> Tensor:
    """The subgradient autograd gives for ``penalty.value(w)`` (0 at the kinks)."""
    if hasattr(penalty, "subgradient"):
        return penalty.subgradient(w)
    l1, l2 = getattr(penalty, "l1", None), getattr(penalty, "l2", None)
    if l1 is None or l2 is None:
        raise TypeError(f"TruncatedSGD needs a penalty with a subgradient(w) method or the "
                        f"elastic net's l1/l2 weights; {penalty!r} has neither")
    return l1 * torch.sign(w) + l2 * w


def crossed_zero(penalty: Any, w: Tensor, u: Tensor) -> Tensor:
    """Where ``w -> u`` crossed or touched 0 (per coordinate, per group for ``GroupL1``)."""
    if isinstance(penalty, GroupL1):
        dim = penalty.dim
        inner = (w * u).sum(dim, keepdim=True)
        return (torch.linalg.vector_norm(w, dim=dim, keepdim=True) > 0) & (inner <= 0)
    return (w != 0) & (w * u <= 0)


class TruncatedSGD(PenalizedOptimizer):
    """SGD on ``f + g``, then what crossed or touched zero is set to 0 (see module docstring).

    Args:
        params: parameters or param groups (a group may set its own ``penalty``).
        lr: the step size (``lr_0`` of the schedule).
        penalty: an elastic-net-type penalty or :class:`~lasso_torch.penalties.GroupL1`.
        schedule: ``"constant"``, ``"inv_sqrt"`` or ``"inv"``.
        check_finite: raise on a non-finite parameter every this many steps (0: never).
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float,
                 penalty: Any = None, schedule: str = "constant", check_finite: int = 1) -> None:
        defaults = dict(lr=lr, penalty=penalty, schedule=schedule)
        super().__init__(params, defaults, check_finite)

    def update(self) -> None:
        """The step from the gradients in ``p.grad`` (no ``Optimizer.step`` wrapper)."""
        for group in self.param_groups:
            lr, pen = self._lr(group), group["penalty"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if pen is None:
                    p.add_(p.grad, alpha=-lr)
                    continue
                u = p - lr * (p.grad + penalty_subgradient(pen, p))
                p.copy_(torch.where(crossed_zero(pen, p, u), torch.zeros_like(u), u))
