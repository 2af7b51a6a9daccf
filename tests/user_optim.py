"""A user's own optimizer, importable as ``user_optim:SignSGD`` (tests of import paths)."""

import torch


class SignSGD(torch.optim.Optimizer):
    """``w <- w - lr * beta * sign(grad)``."""

    def __init__(self, params, lr: float = 1e-3, beta: float = 1.0) -> None:
        super().__init__(params, dict(lr=lr, beta=beta))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is not None:
                    p.add_(p.grad.sign(), alpha=-g["lr"] * g["beta"])
        return loss


class NotAnOptimizer:
    pass
