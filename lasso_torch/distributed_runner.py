"""A config with ``distributed: true``: every process solves on its own rows, rank 0 writes.

:func:`lasso_torch.runner.run_single` hands such a config to :func:`run_sharded`. Launch
it with ``torchrun --nproc_per_node=N -m lasso_torch.cli run config.yaml`` (gloo on the
CPU, nccl with one GPU per process); without a launcher it runs as a group of one.

* Each rank loads only its rows (:func:`lasso_torch.data.shard_rows` of the synthetic
  generator, a CSV or an NPZ file); standardization, ``alpha_max``, the reference
  solution (sharded FISTA to a relative gap of 1e-12) and every solve are all-reduced
  (:mod:`lasso_torch.distributed`). ``ista`` and ``fista`` only; a grid of alphas runs
  the batched sharded path, lasso and ridge on the same grid.
* Rank 0 alone writes the run (the same atomic :class:`lasso_torch.runs.RunWriter`);
  other ranks write nothing and return the run as rank 0 reports it.
* A data problem on any rank raises the same :class:`~lasso_torch.InputError` on every
  rank before anything is written. A rank that fails later ends its process; the others
  get an error from their next collective, and rank 0 saves the run as ``interrupted``
  with that error in ``meta.json`` (never half-written), then fails too. Ctrl-C and
  SIGTERM (what torchrun sends every rank when one fails or when it is stopped itself)
  on any rank end that rank's solve as ``interrupted`` (:mod:`lasso_torch.signals`); on
  rank 0 the partial run is saved, marked ``interrupted`` with ``interrupted_by``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor

from . import data as data_mod
from . import data_shards
from .checks import check_samples
from .config import Config, CsvData, DiabetesData, NpzData, SyntheticData, resolve_alphas
from .distributed import (
    ShardedQuadratic,
    agree,
    init_from_env,
    rank_and_world,
    sharded_standardize,
)
from .errors import InputError
from .path import lasso_path
from .progress import Phase
from .runner import (
    REFERENCE_MAX_ITER,
    REFERENCE_TOL,
    Log,
    _quiet,
    _record_coef,
    _run_status,
    _solver_kwargs,
    _summary,
    alpha_max_error,
    labels,
    reference_metrics,
    resolve_device,
    run_meta,
)
from .runs import Run, RunWriter
from .signals import shield_sigterm, sigterm_as_interrupt, terminated
from .solve import solve
from .solvers import solver_names


def load_rows(config: Config, rank: int, world: int) -> tuple[Tensor, Tensor, Tensor | None]:
    """This rank's rows of the configured data (float64, CPU) and the true coefficients."""
    d = config.data
    if isinstance(d, SyntheticData):
        seed = config.seed if d.seed is None else d.seed
        return data_mod.make_synthetic(d.n, d.p, d.correlation, d.density, d.snr, seed,
                                       rows=data_mod.shard_rows(d.n, rank, world))
    if isinstance(d, CsvData):
        X, y = data_shards.load_csv_shard(d.path, d.target, rank, world, delimiter=d.delimiter)
    elif isinstance(d, NpzData):
        X, y = data_shards.load_npz_shard(d.path, rank, world, d.target, features=d.features)
    elif isinstance(d, DiabetesData):
        X, y = data_mod.load_diabetes()
        part = data_mod.shard_rows(X.shape[0], rank, world)
        X, y = X[part], y[part]
    else:  # pragma: no cover (the schema allows nothing else)
        raise InputError(f"data.kind {d.kind!r} is not supported")
    return X, y, None


def _start_group(device: torch.device) -> bool:
    """Join torchrun's group, or start a group of one; True if this call created it."""
    if init_from_env(device):
        return False
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    return True


def run_sharded(config: Config, *, log: Log = _quiet) -> Run:
    """Run a ``distributed: true`` config on every rank; rank 0 writes the run."""
    device = resolve_device(config.device)
    created = _start_group(device)
    try:
        with sigterm_as_interrupt():
            return _run(config, device, log)
    finally:
        if created:
            dist.destroy_process_group()


def _run(config: Config, device: torch.device, log: Log) -> Run:
    rank, world = rank_and_world()
    if rank != 0:
        log = _quiet
    sharded = solver_names(sharded=True)
    bad = [s.kind for s in config.solvers if s.kind not in sharded]
    if bad:
        raise InputError(f"solvers: {bad[0]!r} does not run with distributed: true; "
                         f"use {' or '.join(sharded)}")
    dtype = getattr(torch, config.dtype)
    torch.manual_seed(config.seed)
    error, X64, y64, beta = None, None, None, None
    try:
        X64, y64, beta = load_rows(config, rank, world)
    except InputError as e:
        error = str(e)
    agree(error)
    # float64 on the run's device: nccl all-reduces only CUDA tensors
    X64, y64 = X64.to(device), y64.to(device)
    obj = config.objective
    if obj.standardize:
        X64 = sharded_standardize(X64)
    l1_ratio = float(obj.l1_ratio)
    stats = ShardedQuadratic(X64, y64, obj.fit_intercept, gram=False)
    n, p = stats.n, stats.p
    check_samples(n, obj.fit_intercept, obj.standardize)
    amax = float(stats.Xty.abs().amax()) / (l1_ratio if l1_ratio > 0 else 1.0)
    if not (amax > 0 and amax < float("inf")):
        raise alpha_max_error(amax)
    alphas = resolve_alphas(obj, amax)
    X, y = X64.to(device=device, dtype=dtype), y64.to(device=device, dtype=dtype)
    is_path = obj.is_path
    metrics: dict[str, Any] = {
        "problem": {"n": n, "p": p, "alpha": None if is_path else alphas[0],
                    "alphas": alphas if is_path else None, "alpha_max": amax,
                    "l1_ratio": l1_ratio, "kind": obj.kind, "fit_intercept": obj.fit_intercept,
                    "standardize": obj.standardize, "data": config.data.kind,
                    "world_size": world},
        "solvers": {},
    }
    traces: dict[str, dict[str, np.ndarray]] = {}
    if p <= 50:
        traces["problem"] = {"gram": stats.gram.cpu().numpy(), "xty": stats.Xty.cpu().numpy(),
                             "yty": (2 * stats.p0).cpu().numpy(), "n": np.asarray(n)}
    if beta is not None:
        traces.setdefault("problem", {})["beta_true"] = beta.numpy()
    for i, s in enumerate(config.solvers):
        if isinstance(s.record_coef, list):
            _record_coef(s, f"solvers.{i}", p, torch.zeros(p))
    writer = RunWriter(config.output, config.name, config.dump()) if rank == 0 else None
    backend = dist.get_backend()
    log(f"run {config.name}: n={n} over {world} process(es) ({backend}), p={p}, {obj.kind}, "
        f"alpha=" + (f"grid of {len(alphas)}" if is_path else f"{alphas[0]:.4g}")
        + f" (alpha_max {amax:.4g}), device {device}, {config.dtype}")
    statuses: list[str] = []
    interrupted, error = False, None
    path: Path | None = None
    try:
        with Phase(f"reference (fista, tol {REFERENCE_TOL:g})", REFERENCE_MAX_ITER,
                   log=log, tty=None if rank == 0 else False) as phase:
            ref = solve(X64, y64, alphas[-1], l1_ratio, solver="fista", tol=REFERENCE_TOL,
                        max_iter=REFERENCE_MAX_ITER, fit_intercept=obj.fit_intercept,
                        warn=False, distributed=True, callback=phase)
        metrics["reference"] = reference_metrics(ref, p)
        traces["reference"] = {"coef": ref.coef.cpu().numpy()}
        names = labels(config.solvers)
        if is_path:
            statuses = _path(config, X, y, alphas, l1_ratio, amax, names[0], metrics, traces,
                             log)
        else:
            for i, (s, label) in enumerate(zip(config.solvers, names, strict=True)):
                log(f"solver {label} ({s.kind}): max_iter {s.max_iter}, tol {s.tol:g}")
                idx = _record_coef(s, f"solvers.{i}", p, ref.coef.cpu())
                with Phase(label, s.max_iter, log=log, announce=False,
                           tty=None if rank == 0 else False) as bar:
                    res = solve(X, y, alphas[0], l1_ratio, **_solver_kwargs(s, obj.fit_intercept),
                                record_every=s.record_every, record_coef=idx, callback=bar,
                                distributed=True)
                statuses.append(res.status)
                metrics["solvers"][label] = _summary(res)
                if res.trace is not None:
                    traces[label] = dict(res.trace)
                    if not isinstance(idx, bool):
                        traces[label]["coef_index"] = np.asarray(idx, dtype=np.int64)
        agree(None)  # every rank got here: nobody failed after the last collective
    except KeyboardInterrupt:
        interrupted = True
        if terminated():  # the launcher stops every rank when one fails: say so
            error = ("terminated by SIGTERM (the launcher stopped the job, or another rank "
                     "failed)")
    except BaseException as e:
        error = f"{type(e).__name__}: {e}"
        interrupted = True
        if not terminated():  # after a SIGTERM here, a peer's error is its consequence
            raise
    finally:
        shield_sigterm()
        meta = run_meta(config, device, _run_status(statuses, interrupted), error,
                        world_size=world, backend=backend)
        if writer is not None:
            path = writer.finish(meta, metrics, traces)
            log(f"run saved to {path} ({meta['status']})")
    if interrupted:  # Ctrl-C: no more collectives (other ranks may be gone)
        where = path if path is not None else Path(config.output)
        return Run(path=where, config=config.dump(), meta=meta, metrics=metrics, traces=traces)
    shared = [str(path) if path is not None else None]
    dist.broadcast_object_list(shared, src=0)
    return Run(path=Path(shared[0]), config=config.dump(), meta=meta, metrics=metrics,
               traces=traces)


def _path(config: Config, X: Tensor, y: Tensor, alphas: list[float], l1_ratio: float,
          amax: float, label: str, metrics: dict, traces: dict, log: Log) -> list[str]:
    """Path mode: the batched sharded path of the objective, then ridge on the same grid."""
    s = config.solvers[0]
    fit = config.objective.fit_intercept
    kw = dict(solver=s.kind, tol=s.tol, max_iter=s.max_iter, fit_intercept=fit,
              lr=None if s.lr == "auto" else float(s.lr), restart=s.restart)
    if s.check_every is not None:
        kw["check_every"] = s.check_every
    log(f"path: {len(alphas)} alphas in one batch with {s.kind} (l1_ratio {l1_ratio:g}), "
        "then ridge")
    main = lasso_path(X, y, alphas, l1_ratio=l1_ratio, distributed=True, **kw)
    ridge = lasso_path(X, y, alphas, l1_ratio=0.0, distributed=True, **kw)
    traces["path"] = {"alphas": main.alphas.cpu().double().numpy(),
                      "coefs": main.coefs.T.cpu().double().numpy(),
                      "gaps": main.gaps.cpu().double().numpy(), "alpha_max": np.asarray(amax),
                      "ridge_coefs": ridge.coefs.T.cpu().double().numpy(),
                      "ridge_gaps": ridge.gaps.cpu().double().numpy()}
    last = traces["path"]["coefs"][-1]
    n_zeros = int((last == 0).sum())
    converged = bool(main.converged.all())
    if not converged:
        log(f"warning: {int((~main.converged).sum())} of {len(alphas)} path points did not "
            f"converge; worst relative gap {float(main.gaps.max()):.3e}")
    metrics["solvers"][label] = {
        "kind": s.kind, "lr": None if s.lr == "auto" else s.lr,
        "n_iter": int(main.n_iters.max()), "time": main.time, "objective": None,
        "gap": float(main.gaps.max()), "kkt": None, "n_zeros": n_zeros,
        "nnz": int(last.size - n_zeros), "converged": converged,
        "status": "converged" if converged else "max_iter", "path_points": len(alphas),
    }
    return []


__all__ = ["load_rows", "run_sharded"]
