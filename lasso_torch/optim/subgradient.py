r"""Plain (sub)gradient descent on the full, non-smooth loss, through autograd.

This is the honest baseline the framework compares against: ``torch.optim.SGD`` applied
to ``f(w) + alpha |w|_1`` with the gradient that autograd gives (``d|w|/dw = sign(w)``,
and 0 at exactly 0):

.. math::  w_{k+1} = w_k - lr_k (\nabla f(w_k) + \alpha\,\mathrm{sign}(w_k))

A coordinate whose solution is 0 never lands on 0.0: each step moves it by about
``lr * alpha`` across zero, so it oscillates around 0 with that amplitude forever.
``schedule="constant"`` is exactly ``torch.optim.SGD`` (no momentum); ``"inv_sqrt"``
uses ``lr_k = lr / sqrt(k + 1)``, the classic step that makes the subgradient method
converge (slowly, and still never to exact zeros); ``"inv"`` uses ``lr / (k + 1)``.
The base step and the step count live in the param groups (``base_lr``, ``steps``), so a
``state_dict`` round trip resumes the schedule where it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from ._base import check_finite_params, check_lr, schedule_factor


class SubgradientDescent(torch.optim.SGD):
    """``torch.optim.SGD`` (no momentum) with a step schedule and a non-finite stop."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float,
        schedule: str = "constant",
        check_finite: int = 1,
    ) -> None:
        schedule_factor(schedule, 0)
        check_lr(lr)
        self.check_finite = int(check_finite)
        self._n_steps = 0
        self._schedule = schedule
        super().__init__(params, lr=lr)

    @property
    def schedule(self) -> str:
        return self.param_groups[0]["schedule"]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        g = self.param_groups[-1]
        check_lr(g["lr"], f"param group {len(self.param_groups) - 1}: lr")
        g.setdefault("schedule", self._schedule)
        schedule_factor(g["schedule"], 0)
        g.setdefault("base_lr", float(g["lr"]))
        g.setdefault("steps", 0)

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:  # type: ignore[override]
        for group in self.param_groups:
            if group["schedule"] != "constant":
                group["lr"] = group["base_lr"] * schedule_factor(group["schedule"], group["steps"])
            check_lr(group["lr"])
            group["steps"] += 1
        loss = super().step(closure)
        self._n_steps += 1
        if self.check_finite and self._n_steps % self.check_finite == 0:
            check_finite_params(self, self._n_steps)
        return loss
