"""Where a run's rows live, and what that changes: the rest of a run (:mod:`.run`) is one
code path that asks its backend.

* :class:`Local`: this process holds every row (float64 on the CPU for the reference and
  the statistics; the solvers get a copy in the config's dtype and device).
* :class:`Sharded` (``distributed: true``): every process of a torch.distributed group
  holds its own contiguous block of rows (:func:`load_rows`: the synthetic generator's
  blocks, a CSV or an NPZ file read in part); standardization, ``alpha_max``, the
  reference (sharded FISTA) and every solve are all-reduced (:mod:`lasso_torch.distributed`);
  a path is the batched sharded path. Launch with ``torchrun --nproc_per_node=N -m
  lasso_torch.cli run config.yaml`` (gloo on the CPU, nccl with one GPU per process);
  without a launcher it runs as a group of one. A data problem on any rank raises the
  same :class:`~lasso_torch.InputError` on every rank before anything is written.

Both say who writes (rank 0: :attr:`rank`), what a stop means, and how the saved run
reaches the other ranks. The ones that can fail mid-run: a rank that fails ends its
process; the others get an error from their next collective, and rank 0 saves the run as
``interrupted`` with that error (never half-written). SIGTERM, which torchrun sends every
rank when one fails, ends each rank's solve as ``interrupted`` (:mod:`lasso_torch.signals`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch.distributed as dist
from torch import Tensor

from .. import data as data_mod
from ..certificates import alpha_max as compute_alpha_max
from ..checks import check_samples
from ..data_sparse import standardize_sparse
from ..distributed import (
    ShardedQuadratic,
    agree,
    init_from_env,
    rank_and_world,
    sharded_standardize,
)
from ..errors import InputError
from ..path import PathResult, lasso_path
from ..problem import alpha_max as problem_alpha_max
from ..problem import build_penalty, make_datafit
from ..progress import Phase
from ..signals import shield_sigterm, sigterm_as_interrupt, terminated
from ..solve import SolveResult, solve
from ..solvers import solver_names
from ..sparse import is_sparse
from .config import Config
from .record import REFERENCE_TOL, Log, problem_arrays
from .rows import Problem, describe_data, load_rows, resolve_device
from .sample_weight import load_sample_weight

REFERENCE_MAX_ITER = 200_000


def _ratio(l1_ratio: float) -> float:
    """Ridge (l1_ratio 0) has no alpha_max of its own: fractions refer to the lasso's."""
    return l1_ratio if l1_ratio > 0 else 1.0


class Local:
    """Every row in this process."""

    rank, world, where = 0, 1, ""

    def __init__(self, config: Config) -> None:
        self.device = resolve_device(config.device)

    def check(self, config: Config) -> None:
        """Nothing a local run cannot do."""

    def load(self, config: Config) -> Problem:
        X, y, beta = load_rows(config)
        X, s = load_sample_weight(config, X)
        obj = config.objective
        check_samples(X.shape[0], obj.fit_intercept, obj.standardize)
        if obj.standardize:  # weighted mean and std with data.sample_weight
            X = (standardize_sparse if is_sparse(X) else data_mod.standardize)(X, s)[0]
        data_mod.check_scale(X, y, describe_data(config) + (" (standardized)"
                                                            if obj.standardize else ""))
        amax = float(compute_alpha_max(X, y, _ratio(float(obj.l1_ratio)), obj.fit_intercept,
                                       sample_weight=s))
        if not obj.plain:  # the alpha_max of this loss and penalty
            opts = obj.problem_options()
            amax = problem_alpha_max(
                make_datafit(opts["loss"], X, y, obj.fit_intercept, row_weights=s,
                             delta=opts["delta"]),
                build_penalty(1.0, max(float(obj.l1_ratio), 1e-12), p=X.shape[1], like=X,
                              **{k: opts[k] for k in ("penalty", "weights", "positive",
                                                      "gamma", "groups")}))
        # the squared loss's moments: the thresholding figure's points lie on S(z, lambda)
        # (the firm threshold for MCP) only for that loss (none for another loss, weights
        # or bounds)
        squared = (obj.loss == "squared" and obj.weights is None and not obj.positive
                   and obj.groups is None)
        arrays = (problem_arrays(X, y, obj.fit_intercept, s)
                  if X.shape[1] <= 50 and squared else None)
        return Problem(X, y, beta, X.shape[0], amax, arrays, s)

    def reference(self, X: Tensor, y: Tensor, alpha: float, l1_ratio: float,
                  fit_intercept: bool, log: Log, objective: dict[str, Any] | None = None
                  ) -> SolveResult:
        """float64 to relative gap 1e-12: CD for p <= 500, else FISTA; prox_newton for a
        loss other than the squared one. ``objective``: ``lt.solve``'s problem options
        (``loss``, ``penalty``, ..., ``sample_weight``)."""
        objective = objective or {}
        kind = "cd" if X.shape[1] <= 500 else "fista"
        if objective.get("loss") is not None:
            kind = "prox_newton"
        with Phase(f"reference ({kind}, tol {REFERENCE_TOL:g})", REFERENCE_MAX_ITER,
                   log=log) as phase:
            return solve(X, y, alpha, l1_ratio, solver=kind, tol=REFERENCE_TOL,
                         max_iter=REFERENCE_MAX_ITER, fit_intercept=fit_intercept,
                         warn=False, callback=phase, **objective)

    def solve(self, X: Tensor, y: Tensor, alpha: float, l1_ratio: float,
              **kw: Any) -> SolveResult:
        return solve(X, y, alpha, l1_ratio, catch_interrupt=True, **kw)

    def path(self, X: Tensor, y: Tensor, alphas: list[float], l1_ratio: float,
             **kw: Any) -> PathResult:
        """Warm-started with the configured solver, largest alpha first; Ctrl-C keeps the
        alphas solved."""
        return lasso_path(X, y, alphas, l1_ratio=l1_ratio, strategy="warm",
                          catch_interrupt=True, warn=False, **kw)  # record.py warns

    def stop_reason(self) -> str | None:
        """meta.json's ``error`` for a run stopped by Ctrl-C or SIGTERM (none here)."""
        return None

    def raises(self, error: BaseException) -> bool:
        """Whether an error that stopped the run goes on up once the run is saved."""
        return True

    def finished(self) -> None:
        """Every process got to the end (one process: it did)."""

    def saving(self) -> None:
        """The run is being saved (a sweep's SIGTERM handling goes on)."""

    def meta(self) -> dict[str, Any]:
        return {}

    def share(self, path: Path | None, interrupted: bool) -> Path | None:
        """The saved run's folder, as every process learns it."""
        return path


class Sharded(Local):
    """This process's block of rows, inside a torch.distributed group (module docstring)."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.rank, self.world = rank_and_world()
        self.where = f" over {self.world} process(es) ({dist.get_backend()})"

    def check(self, config: Config) -> None:
        if not config.objective.plain:
            raise InputError("objective: loss, weights, positive, mcp and scad do not run "
                             "with distributed: true (the sharded datafit is the squared loss)")
        sharded = solver_names(sharded=True)
        bad = [s.kind for s in config.solvers if s.kind not in sharded]
        if bad:
            raise InputError(f"solvers: {bad[0]!r} does not run with distributed: true; "
                             f"use {' or '.join(sharded)}")

    def load(self, config: Config) -> Problem:
        error, X, y, beta = None, None, None, None
        try:
            X, y, beta = load_rows(config, self.rank, self.world)
        except InputError as e:
            error = str(e)
        agree(error)
        X, y = X.to(self.device), y.to(self.device)  # nccl all-reduces only CUDA tensors
        obj = config.objective
        if obj.standardize:
            X = sharded_standardize(X)
        stats = ShardedQuadratic(X, y, obj.fit_intercept, gram=False)
        check_samples(stats.n, obj.fit_intercept, obj.standardize)
        amax = float(stats.Xty.abs().amax()) / _ratio(float(obj.l1_ratio))
        arrays = None
        if stats.p <= 50:
            arrays = {"gram": stats.gram.cpu().numpy(), "xty": stats.Xty.cpu().numpy(),
                      "yty": (2 * stats.p0).cpu().numpy(), "n": np.asarray(stats.n)}
        return Problem(X, y, beta, stats.n, amax, arrays)

    def reference(self, X: Tensor, y: Tensor, alpha: float, l1_ratio: float,
                  fit_intercept: bool, log: Log, objective: dict[str, Any] | None = None
                  ) -> SolveResult:
        """Sharded FISTA to relative gap 1e-12 (the squared loss: see check)."""
        with Phase(f"reference (fista, tol {REFERENCE_TOL:g})", REFERENCE_MAX_ITER, log=log,
                   tty=None if self.rank == 0 else False) as phase:
            return solve(X, y, alpha, l1_ratio, solver="fista", tol=REFERENCE_TOL,
                         max_iter=REFERENCE_MAX_ITER, fit_intercept=fit_intercept,
                         warn=False, distributed=True, callback=phase)

    def solve(self, X: Tensor, y: Tensor, alpha: float, l1_ratio: float,
              **kw: Any) -> SolveResult:
        return solve(X, y, alpha, l1_ratio, distributed=True, **kw)

    def path(self, X: Tensor, y: Tensor, alphas: list[float], l1_ratio: float,
             **kw: Any) -> PathResult:
        """All alphas in one batch (the batched sharded path)."""
        return lasso_path(X, y, alphas, l1_ratio=l1_ratio, distributed=True, warn=False, **kw)

    def stop_reason(self) -> str | None:
        if terminated():  # the launcher stops every rank when one fails: say so
            return "terminated by SIGTERM (the launcher stopped the job, or another rank failed)"
        return None

    def raises(self, error: BaseException) -> bool:
        return not terminated()  # after a SIGTERM here, a peer's error is its consequence

    def finished(self) -> None:
        agree(None)  # every rank got here: nobody failed after the last collective

    def saving(self) -> None:
        shield_sigterm()  # a second SIGTERM must not cut the save

    def meta(self) -> dict[str, Any]:
        return {"world_size": self.world, "backend": dist.get_backend()}

    def share(self, path: Path | None, interrupted: bool) -> Path | None:
        if interrupted:  # Ctrl-C: no more collectives (other ranks may be gone)
            return path
        shared = [str(path) if path is not None else None]
        dist.broadcast_object_list(shared, src=0)
        return Path(shared[0]) if shared[0] is not None else None


@contextmanager
def open_backend(config: Config) -> Iterator[Local]:
    """The config's backend, for the time of one run: a sharded run joins torchrun's
    process group (or starts a group of one, closed at the end) with SIGTERM handled as
    Ctrl-C, and ignores SIGTERM while its run is saved."""
    if not config.distributed:
        yield Local(config)
        return
    created = not init_from_env(resolve_device(config.device))
    if created:
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        with sigterm_as_interrupt():
            yield Sharded(config)
    finally:
        if created:
            dist.destroy_process_group()


__all__ = ["Local", "Problem", "REFERENCE_MAX_ITER", "Sharded", "describe_data", "load_rows",
           "open_backend", "resolve_device"]
