r"""Proximal stochastic gradient descent, with heavy-ball momentum, as a ``torch.optim.Optimizer``.

For ``min f(w) + g(w)``, ``p.grad`` an (unbiased, possibly minibatch) estimate of
``grad f(w_k)`` and ``g`` the penalty (its prox in ``penalty.prox``):

.. math::
    b_k &= \mu\, b_{k-1} + (1 - \mu) \nabla f(w_k) \qquad (b_0 = \nabla f(w_0);
    \ b_k = \nabla f(w_k) \text{ if } \mu = 0)\\
    w_{k+1} &= \mathrm{prox}_{lr_k\, g}\big(w_k - lr_k\, b_k\big)

The buffer is an average of the smooth part's gradients (Adam's first moment without
bias correction, ``b_0 = g_0``): the penalty never enters it, so exact zeros come from the
prox at every step and the parameter itself holds the sparse iterate (no ``eval()`` swap
needed). It is *damped* on purpose: with ``torch.optim.SGD``'s undamped buffer
(``b_k = mu b_{k-1} + g_k``, a gradient step of ``lr / (1 - mu)`` at a fixed point) and a
prox of step ``lr``, the fixed points would minimize ``f + (1 - mu) g``, a lasso of
another ``alpha``. Here the fixed points are exactly the minimizers of ``f + g``.
Full batch, ``momentum=0`` and a constant step, this is ISTA iterate for iterate (the
same kernels).
``lr_k`` follows ``schedule``: for minibatch gradients a decreasing one (``"inv_sqrt"``)
makes the iterates converge and the zero pattern settle; see :mod:`lasso_torch.optim._base`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from ._base import PenalizedOptimizer


class ProxSGD(PenalizedOptimizer):
    """Proximal SGD: an SGD step on the smooth part, then the penalty's prox.

    Args:
        params: parameters or param groups (a group may set its own ``penalty``).
        lr: the step size (``lr_0`` of the schedule).
        penalty: a penalty from :mod:`lasso_torch.penalties` (``None``: plain SGD).
        momentum: heavy-ball momentum ``mu`` in ``[0, 1)``.
        schedule: ``"constant"``, ``"inv_sqrt"`` or ``"inv"``.
        check_finite: raise on a non-finite parameter every this many steps (0: never).
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float,
                 penalty: Any = None, momentum: float = 0.0, schedule: str = "constant",
                 check_finite: int = 1) -> None:
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        defaults = dict(lr=lr, penalty=penalty, momentum=momentum, schedule=schedule)
        super().__init__(params, defaults, check_finite)

    def update(self) -> None:
        """The step from the gradients in ``p.grad`` (no ``Optimizer.step`` wrapper)."""
        for group in self.param_groups:
            lr, mu, pen = self._lr(group), group["momentum"], group["penalty"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad
                if mu > 0:
                    st = self.state[p]
                    if "momentum_buffer" not in st:
                        st["momentum_buffer"] = d.detach().clone()
                    else:
                        st["momentum_buffer"].mul_(mu).add_(d, alpha=1 - mu)
                    d = st["momentum_buffer"]
                z = torch.add(p, d, alpha=-lr)
                p.copy_(z if pen is None else pen.prox(z, lr))
