"""Every built-in solver's colour in every figure (the one table; no torch, no numba).

:class:`~lasso_torch.solvers.registry.SolverSpec` takes its default ``colour`` from here,
and :func:`lasso_torch.plots.style.solver_color` reads it directly when the solver
registry is not loaded, so drawing a saved run never imports torch (a second saved).
"""

from __future__ import annotations

SOLVER_COLOURS: dict[str, str] = {
    "auto": "#000000", "cd": "#4d4d4d", "anderson_cd": "#9467bd", "ista": "#1f77b4",
    "fista": "#2ca02c", "subgradient": "#d62728", "ws": "#ff7f0e", "prox_newton": "#9467bd",
    "sgd": "#8c564b", "adam": "#9467bd", "adamw": "#c49c94", "rmsprop": "#7f7f7f",
    "adagrad": "#aec7e8", "prox_sgd": "#17becf", "prox_adam": "#bcbd22",
    "truncated_sgd": "#e377c2",
}
OTHER_OPTIMIZER = "#bab0ac"  # the other torch.optim optimizers (adadelta, lbfgs, ...)
DEFAULT = "#555555"  # a solver registered without a colour
