"""``torch.optim.Optimizer`` subclasses: they need only ``p.grad`` and a penalty's prox."""

from .proximal import FISTA, ISTA, ProximalGradient
from .subgradient import SubgradientDescent

__all__ = ["FISTA", "ISTA", "ProximalGradient", "SubgradientDescent"]
