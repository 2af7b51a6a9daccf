"""A ``distributed: true`` run, where it was: one run code path now serves both backends
(:mod:`lasso_torch.experiment.run`; the sharded rows: :mod:`lasso_torch.experiment.backend`)."""

from __future__ import annotations

from .experiment.backend import load_rows  # noqa: F401
from .experiment.config import Config
from .experiment.record import Log, quiet
from .experiment.run import run_single
from .runs import Run


def run_sharded(config: Config, *, log: Log = quiet) -> Run:
    """Run ``config`` with its rows sharded over the process group (rank 0 writes)."""
    return run_single(config.model_copy(update={"distributed": True}), log=log)
