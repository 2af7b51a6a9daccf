"""Engines for the optimizer-based solvers: ISTA/FISTA (prox) and plain subgradient.

The proximal engine sets ``p.grad`` from the datafit's closed-form gradient (no autograd
graph: one ``X w`` and one ``X^T r`` per step, or one Gram product) and calls the
``torch.optim`` optimizer. The subgradient engine is the honest baseline: autograd on
the full loss ``f(w) + alpha |w|_1`` and ``torch.optim.SGD``'s update.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ..datafits import Quadratic
from ..optim import ProximalGradient, SubgradientDescent
from ..penalties import ElasticNet


class ProximalEngine:
    def __init__(self, datafit: Quadratic, penalty: ElasticNet, w0: Tensor, lr: float,
                 accelerated: bool, restart: bool = True, backtracking: bool = False,
                 columnwise: bool = False) -> None:
        self.datafit = datafit
        self.w = w0.detach().clone()
        self.opt = ProximalGradient([self.w], lr=lr, penalty=penalty, accelerated=accelerated,
                                    restart=restart, backtracking=backtracking,
                                    columnwise=columnwise)
        self.backtracking = backtracking

    def step(self) -> None:
        self.w.grad = self.datafit.gradient(self.w)
        if self.backtracking:
            self.opt.step(lambda: self.datafit.value(self.w))
        else:  # w does not require grad: the update without step()'s per-call wrapper
            self.opt.update()

    def coef(self) -> Tensor:
        st = self.opt.state.get(self.w)
        return st["x"] if st else self.w

    @property
    def lr(self) -> float:
        return float(self.opt.param_groups[0]["lr"])


class SubgradientEngine:
    def __init__(self, datafit: Quadratic, penalty: ElasticNet, w0: Tensor, lr: float,
                 schedule: Any = "constant") -> None:
        self.datafit, self.penalty = datafit, penalty
        self.w = w0.detach().clone().requires_grad_(True)
        self.opt = SubgradientDescent([self.w], lr=lr, schedule=schedule, check_finite=0)

    def step(self) -> None:
        self.opt.zero_grad()
        loss = self.datafit.value(self.w) + self.penalty.value(self.w)
        loss.backward()
        self.opt.step()

    def coef(self) -> Tensor:
        return self.w.detach()

    @property
    def lr(self) -> float:
        return float(self.opt.param_groups[0]["lr"])
