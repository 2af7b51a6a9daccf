"""Solvers over the data: engines, the one loop, and the registry behind ``lt.solve``.

Importing this package registers the built-in solvers (each in its own module).
"""

from . import auto  # noqa: F401  (registers "auto")
from .anderson_cd import AndersonCD
from .coordinate import CoordinateDescent
from .engine import Engine
from .gradient import ProximalEngine, SubgradientEngine
from .loop import LoopResult, Trace, run_loop
from .penalty_cd import PenaltyCD  # after cd, ws and anderson_cd: their builders dispatch to it
from .prox_newton import ProxNewton
from .registry import REGISTRY, SolverSpec, get_solver, register, solver_names
from .sparse_cd import SparseCD
from .sparse_path import sparse_path  # after penalty_cd: cd, ws, anderson_cd take a sparse X
from .torch_optim import ProxOptimizerEngine, TorchOptimizerEngine
from .working_set import WorkingSet

SOLVERS = solver_names(family="solver")
"""Every built-in solver name ``lt.solve`` accepts; tests loop over this registry."""

EXACT_ZERO_SOLVERS = solver_names(family="solver", exact_zeros=True)
"""The solvers whose iterates hold exact zeros (a prox or a coordinate-wise threshold)."""

__all__ = [
    "EXACT_ZERO_SOLVERS", "REGISTRY", "SOLVERS", "AndersonCD", "CoordinateDescent", "Engine",
    "LoopResult", "PenaltyCD", "ProxNewton",
    "ProxOptimizerEngine", "ProximalEngine", "SolverSpec", "SparseCD", "SubgradientEngine",
    "TorchOptimizerEngine", "Trace", "WorkingSet", "get_solver", "register", "run_loop",
    "solver_names", "sparse_path",
]
