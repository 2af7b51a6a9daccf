"""lasso_torch: sparse regression optimizers in PyTorch.

Objective (scikit-learn's ElasticNet convention; Lasso is l1_ratio=1, Ridge 0)::

    P(w, b) = 1/(2n) ||y - X w - b||^2 + alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2)

The names below are imported on first use (PEP 562), so ``import lasso_torch`` and the
CLI's ``--help``, ``--version`` and ``list`` do not pay torch's import.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from ._version import __version__

# public name -> the module that defines it ("" : the name is the submodule itself)
_EXPORTS: dict[str, str] = {
    "certificates": "", "closed_form": "", "cv": "", "data": "", "optim": "", "prox": "",
    "account": "", "solvers": "", "penalties": "", "path": "", "GroupL1": "penalties",
    "alpha_max": "certificates", "duality_gap": "certificates", "kkt_violation": "certificates",
    "load_csv": "data", "load_diabetes": "data", "load_npz": "data",
    "make_synthetic": "data", "standardize": "data",
    "Quadratic": "datafits", "InputError": "errors",
    "ElasticNet": "objectives", "Lasso": "objectives", "PenalizedLinear": "objectives",
    "Ridge": "objectives", "PathResult": "path", "lasso_path": "path",
    "L1": "penalties", "L2": "penalties", "enet_prox": "prox", "soft_threshold": "prox",
    "run_config": "experiment.run", "Run": "runs", "load_run": "runs",
    "ConvergenceWarning": "errors", "SolveResult": "solve", "solve": "solve",
    "SOLVERS": "solvers", "implicit": "", "nn": "", "tune": "tune", "TuneResult": "tune",
}


def __getattr__(name: str) -> Any:
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'lasso_torch' has no attribute {name!r}")
    module = importlib.import_module(f".{where or name}", __name__)
    value = module if not where else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


class _Package(types.ModuleType):
    """Importing the submodule ``lasso_torch.solve`` sets the package's ``solve`` to the
    module; keep the function there, as the eager ``from .solve import solve`` did."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


if TYPE_CHECKING:  # for type checkers and IDEs: the eager imports
    from . import certificates, closed_form, cv, data, implicit, nn, optim, prox  # noqa: F401
    from .certificates import alpha_max, duality_gap, kkt_violation  # noqa: F401
    from .data import load_csv, load_diabetes, load_npz, make_synthetic, standardize  # noqa: F401
    from .datafits import Quadratic  # noqa: F401
    from .errors import InputError  # noqa: F401
    from .experiment.run import run_config  # noqa: F401
    from .objectives import ElasticNet, Lasso, PenalizedLinear, Ridge  # noqa: F401
    from .path import PathResult, lasso_path  # noqa: F401
    from .penalties import L1, L2  # noqa: F401
    from .prox import enet_prox, soft_threshold  # noqa: F401
    from .runs import Run, load_run  # noqa: F401
    from .solve import ConvergenceWarning, SolveResult, solve  # noqa: F401
    from .solvers import SOLVERS  # noqa: F401
    from .tune import TuneResult, tune  # noqa: F401

__all__ = [
    "L1", "L2", "SOLVERS", "ConvergenceWarning", "ElasticNet", "InputError", "Lasso",
    "PathResult", "PenalizedLinear", "Quadratic", "Ridge", "SolveResult", "alpha_max",
    "certificates", "closed_form", "duality_gap", "enet_prox", "kkt_violation", "lasso_path",
    "optim", "prox", "solve", "soft_threshold",
    "Run", "data", "load_csv", "load_diabetes", "load_npz", "load_run", "make_synthetic",
    "run_config", "standardize", "cv", "__version__", "implicit", "nn", "tune", "TuneResult",
]
