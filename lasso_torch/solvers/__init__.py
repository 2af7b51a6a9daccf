"""Solvers over the data: the registry behind :func:`lasso_torch.solve`."""

from .coordinate import CoordinateDescent
from .gradient import ProximalEngine, SubgradientEngine
from .loop import LoopResult, Trace, run_loop
from .working_set import WorkingSet

SOLVERS = ("ista", "fista", "cd", "subgradient", "ws")
"""Every solver name ``lt.solve`` accepts; tests loop over this registry."""

EXACT_ZERO_SOLVERS = ("ista", "fista", "cd", "ws")
"""The solvers whose iterates hold exact zeros (a prox or a coordinate-wise threshold)."""

__all__ = [
    "EXACT_ZERO_SOLVERS", "SOLVERS", "CoordinateDescent", "LoopResult", "ProximalEngine",
    "SubgradientEngine", "Trace", "WorkingSet", "run_loop",
]
