r"""Plain (sub)gradient descent on the full, non-smooth loss, through autograd.

This is the honest baseline the framework compares against: ``torch.optim.SGD`` applied
to ``f(w) + alpha |w|_1`` with the gradient that autograd gives (``d|w|/dw = sign(w)``,
and 0 at exactly 0):

.. math::  w_{k+1} = w_k - lr_k (\nabla f(w_k) + \alpha\,\mathrm{sign}(w_k))

A coordinate whose solution is 0 never lands on 0.0: each step moves it by about
``lr * alpha`` across zero, so it oscillates around 0 with that amplitude forever.
``schedule="constant"`` is exactly ``torch.optim.SGD`` (no momentum); ``"inv_sqrt"``
uses ``lr_k = lr / sqrt(k + 1)``, the classic step that makes the subgradient method
converge (slowly, and still never to exact zeros).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Literal

import torch
from torch import Tensor


class SubgradientDescent(torch.optim.SGD):
    """``torch.optim.SGD`` with an optional ``lr / sqrt(k+1)`` schedule; no momentum."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        schedule: Literal["constant", "inv_sqrt"] = "constant",
    ) -> None:
        if schedule not in ("constant", "inv_sqrt"):
            raise ValueError(f"schedule must be 'constant' or 'inv_sqrt', got {schedule!r}")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        super().__init__(params, lr=lr)
        self.schedule = schedule
        self.base_lr = lr
        self.k = 0

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:  # type: ignore[override]
        if self.schedule == "inv_sqrt":
            for group in self.param_groups:
                group["lr"] = self.base_lr / math.sqrt(self.k + 1)
        self.k += 1
        return super().step(closure)
