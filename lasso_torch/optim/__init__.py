"""``torch.optim.Optimizer`` subclasses: they need only ``p.grad`` and a penalty's prox.

Any parameters (a linear model's ``coef``, a layer of a network); each param group may
carry its own ``penalty`` (:func:`param_groups` builds them from parameter names). Shared
behaviour (checks, step schedules, state dicts, the non-finite stop, stochastic use):
:mod:`lasso_torch.optim._base`.
"""

from ._base import SCHEDULES, PenalizedOptimizer, schedule_factor
from .groups import param_groups
from .prox_adam import ProxAdam
from .prox_sgd import ProxSGD
from .proximal import FISTA, ISTA, ProximalGradient
from .subgradient import SubgradientDescent
from .truncated import TruncatedSGD

__all__ = [
    "FISTA", "ISTA", "SCHEDULES", "PenalizedOptimizer", "ProxAdam", "ProxSGD",
    "ProximalGradient", "SubgradientDescent", "TruncatedSGD", "param_groups",
    "schedule_factor",
]
