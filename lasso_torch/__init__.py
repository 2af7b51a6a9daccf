"""lasso_torch: sparse regression optimizers in PyTorch.

Objective (scikit-learn's ElasticNet convention; Lasso is l1_ratio=1, Ridge 0)::

    P(w, b) = 1/(2n) ||y - X w - b||^2 + alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2)
"""

from . import certificates, closed_form, cv, data, optim, prox
from ._version import __version__
from .certificates import alpha_max, duality_gap, kkt_violation
from .data import load_csv, load_diabetes, load_npz, make_synthetic, standardize
from .datafits import Quadratic
from .errors import InputError
from .objectives import ElasticNet, Lasso, PenalizedLinear, Ridge
from .path import PathResult, lasso_path
from .penalties import L1, L2
from .prox import enet_prox, soft_threshold
from .runner import run_config
from .runs import Run, load_run
from .solve import ConvergenceWarning, SolveResult, solve
from .solvers import SOLVERS

__all__ = [
    "L1", "L2", "SOLVERS", "ConvergenceWarning", "ElasticNet", "InputError", "Lasso",
    "PathResult", "PenalizedLinear", "Quadratic", "Ridge", "SolveResult", "alpha_max",
    "certificates", "closed_form", "duality_gap", "enet_prox", "kkt_violation", "lasso_path",
    "optim", "prox", "solve", "soft_threshold",
    "Run", "data", "load_csv", "load_diabetes", "load_npz", "load_run", "make_synthetic",
    "run_config", "standardize", "cv", "__version__",
]
