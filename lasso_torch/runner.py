"""The runner's public names, where they were: the run code now lives in
:mod:`lasso_torch.experiment` (``run``, ``backend``, ``record``)."""

from .experiment.backend import resolve_device  # noqa: F401
from .experiment.record import geometry_arrays, labels, problem_arrays  # noqa: F401
from .experiment.run import run_config, run_single, run_sweep  # noqa: F401
