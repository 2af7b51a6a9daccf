"""Config -> data, objective, solvers -> a run folder: one code path for every backend.

:func:`run_config` is the one entry point (the CLI's ``run`` calls it). For one config it

1. validates the config, opens its backend (:mod:`.backend`: this process's rows, or
   this rank's block of rows under torch.distributed) and loads the data (float64,
   standardized if asked; the solvers get a copy in the config's dtype and device);
2. resolves alpha (a number, a fraction of alpha_max, a grid: a *path* run, or a grid to
   cross-validate);
3. checks every solver before any file is written (an optimizer that refuses its
   options fails here);
4. computes a float64 reference solution (relative gap ~1e-12) for ``P(w_k) - P*``;
5. runs every solver through the backend's ``solve`` with a progress bar, recording
   every ``record_every`` iterations, then its account (:mod:`.record`); a diverging
   solver stops at its first non-finite value and is marked ``diverged`` while the others
   still run; a path runs the backend's ``lasso_path``, then ridge on the same grid;
6. rank 0 writes the run with :class:`lasso_torch.runs.RunWriter` (temporary folder,
   renamed into place; Ctrl-C and SIGTERM keep the partial run as ``interrupted``).

A config with a ``sweep`` runs one such run per point of the product; points already
finished under the output root (same config hash) are skipped, so a sweep is resumable.
The same config and seed give bit-identical traces on the CPU (except wall times).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..account import support_scores
from ..claims import claim
from ..errors import InputError
from ..progress import Phase
from ..runs import Run, RunWriter, check_output_root, find_done, load_run
from ..signals import sigterm_as_interrupt
from .backend import Local, describe_data, open_backend
from .config import Config, SolverConfig
from .geometry import geometry
from .load import load_config, sweep_points
from .pathrun import run_path
from .prepare import Setup, setup
from .record import (
    Log,
    account,
    failed_summary,
    labels,
    quiet,
    record_coef,
    reference_metrics,
    run_meta,
    run_status,
    solver_options,
    summary,
)
from .repeats import run_repeats, step_rule


# --- the solves --------------------------------------------------------------------------
def _solve_all(config: Config, st: Setup, backend: Local, log: Log) -> list[str]:
    """The reference, then the path or every solver; returns the statuses that decide the
    run's (results go into ``st`` as they finish, so an interruption keeps them)."""
    obj, p = config.objective, st.X.shape[1]
    ref = backend.reference(st.X64, st.y64, st.alphas[-1], float(obj.l1_ratio),
                            obj.fit_intercept, log, objective=st.problem(config))
    st.metrics["reference"] = reference_metrics(ref, p)
    st.reference = ref.coef.cpu()
    if st.beta_true is not None:  # how well the solution itself recovers the truth
        st.metrics["reference"].update(support_scores(st.reference.numpy(),
                                                      st.beta_true.numpy()))
    st.traces["reference"] = {"coef": st.reference.numpy()}
    stats = st.traces.get("problem", {})
    if p == 2 and "gram" in stats:
        st.traces["geometry"] = geometry(stats["gram"], stats["xty"], st.reference)
    if obj.is_path:
        return run_path(config, st, backend, log)
    return _run_solvers(config, st, backend, log)


def _run_solvers(config: Config, st: Setup, backend: Local, log: Log) -> list[str]:
    """Each configured solver at the one alpha, with its account. A solver that raises (a
    user's optimizer failing in ``__init__`` or ``step``) is recorded ``failed`` with its
    error and the next solver runs (one process only: under torch.distributed a rank's
    error stops the run, as its peers wait in a collective)."""
    statuses = []
    for i, (s, label) in enumerate(zip(config.solvers, labels(config.solvers), strict=True)):
        log(f"solver {label} ({s.kind}): max_iter {s.max_iter}, tol {s.tol:g}")
        try:
            got = _one_solver(config, st, backend, log, i, s, label)
        except Exception as e:  # noqa: BLE001 (recorded in the run; the others still run)
            if backend.world > 1:
                raise
            got = ["failed"]
            st.metrics["solvers"][label] = failed_summary(s.kind, e)
            st.traces.pop(label, None)
            st.traces.pop(f"{label}.account", None)
            log(f"solver {label} ({s.kind}) failed: {st.metrics['solvers'][label]['error']}")
        statuses += got
        if got[0] == "interrupted":
            break
    return statuses


def _one_solver(config: Config, st: Setup, backend: Local, log: Log, i: int,
                s: SolverConfig, label: str) -> list[str]:
    """One solver's solve and account into ``st`` (and its repeats); returns the
    statuses, its own first."""
    obj, p = config.objective, st.X.shape[1]
    idx = record_coef(s, f"solvers.{i}", p, st.reference)
    with Phase(label, s.max_iter, log=log, announce=False,
               tty=None if backend.rank == 0 else False) as bar:
        res = backend.solve(st.X, st.y, st.alphas[0], float(obj.l1_ratio),
                            **solver_options(s, obj.fit_intercept, config.seed),
                            record_every=s.record_every, record_coef=idx, callback=bar,
                            **st.problem(config))
    st.metrics["solvers"][label] = {**summary(res), **step_rule(s, res)}
    acc, arrays = account(res, idx, st.alphas[0], st.reference, st.beta_true)
    st.metrics["solvers"][label]["account"] = acc
    statuses = [res.status]
    if config.repeats > 1 and (s.batch_size is not None or config.repeat_data) \
            and res.status != "interrupted":
        statuses += run_repeats(config, st, backend, (i, s, label, idx), res, acc, log)
    if res.trace is not None:
        st.traces[label] = dict(res.trace)
        if not isinstance(idx, bool):
            st.traces[label]["coef_index"] = np.asarray(idx, dtype=np.int64)
    if arrays:
        st.traces[f"{label}.account"] = arrays
    return statuses


def run_single(config: Config, *, log: Log = quiet) -> Run:
    """Run one (sweep-free) config and write its folder; returns the saved run (on every
    rank of a sharded run: rank 0 writes it, the others get it as rank 0 reports it).

    Everything that can be a user error is checked before the run folder is started;
    after that, whatever happens (Ctrl-C, SIGTERM, an error), what was computed is saved.
    """
    if config.sweep:
        raise InputError("run_single got a config with a sweep; use run_config")
    with open_backend(config) as backend:
        return _run(config, backend, log if backend.rank == 0 else quiet)


def _run(config: Config, backend: Local, log: Log) -> Run:
    st = setup(config, backend, log)
    obj = config.objective
    n, p = st.metrics["problem"]["n"], st.X.shape[1]
    writer = RunWriter(config.output, config.name, config.dump()) if backend.rank == 0 else None
    log(f"run {config.name}: {describe_data(config)}, n={n}{backend.where}, p={p}, {obj.kind}, "
        "alpha=" + (f"grid of {len(st.alphas)}" if obj.is_path else f"{st.alphas[0]:.4g}")
        + f" (alpha_max {st.alpha_max:.4g}), device {backend.device}, {config.dtype}")
    statuses: list[str] = []
    interrupted, error, path = False, None, None
    try:
        statuses = _solve_all(config, st, backend, log)
        backend.finished()
    except KeyboardInterrupt:
        interrupted, error = True, backend.stop_reason()
    except BaseException as e:  # keep what was computed, then let the error through
        error, interrupted = f"{type(e).__name__}: {e}", True
        if backend.raises(e):
            raise
    finally:
        backend.saving()
        notes = {k: m["notes"] for k, m in st.metrics["solvers"].items() if m.get("notes")}
        meta = run_meta(config, backend.device, run_status(statuses, interrupted), error,
                        **backend.meta(), **({"notes": notes} if notes else {}))
        if writer is not None:
            path = writer.finish(meta, st.metrics, st.traces)
            log(f"run saved to {path} ({meta['status']})")
    shared = backend.share(path, interrupted)
    if path is not None:
        return load_run(path)
    return Run(path=shared or Path(config.output), config=config.dump(), meta=meta,
               metrics=st.metrics, traces=st.traces)


# --- entry point ---------------------------------------------------------------------------
def run_sweep(config: Config, *, log: Log = quiet) -> list[Run]:
    """One run per sweep point; points already finished (same config hash) are skipped,
    and so are points another process is running now (each point is claimed first:
    :func:`lasso_torch.claims.claim`), so two copies of one sweep run each point once."""
    points = sweep_points(config)
    runs: list[Run] = []
    for k, (assignment, point) in enumerate(points, 1):
        desc = ", ".join(f"{key}={value}" for key, value in assignment.items())
        run = _sweep_point(point, f"[{k}/{len(points)}] {desc}", log)
        runs.append(run)
        if run.status == "interrupted":
            break
    return runs


def _sweep_point(point: Config, desc: str, log: Log) -> Run:
    root = check_output_root(point.output)
    with claim(root, point.hash()) as mine:
        done = find_done(root, point.hash())
        if done is not None:
            log(f"{desc}: done already ({done}), skipped")
            run = load_run(done)
            run.skipped, run.note = True, "skipped (done before)"
            return run
        if not mine:
            log(f"{desc}: another process is running it now, skipped")
            return Run(path=root, config=point.dump(), meta={"status": "running elsewhere"},
                       metrics={}, skipped=True, note="skipped (running in another process)")
        log(desc)
        return run_single(point, log=log)


def run_config(
    source: str | Path | dict[str, Any] | Config,
    overrides: dict[str, Any] | list[str] | None = None,
    *,
    log: Log | None = None,
) -> Run | list[Run]:
    """Run a config (a YAML path, a mapping or a :class:`Config`) and return the saved run.

    ``overrides``: dotted keys (``{"data.n": 500}`` or ``["data.n=500"]``), validated like
    the file. A config with a ``sweep`` returns the list of runs, one per point (a point
    already finished under the output root is loaded, not recomputed: ``run.skipped``).
    ``log``: a function for progress lines (the CLI prints them on stderr).
    SIGTERM is handled as Ctrl-C while it runs: the partial run is kept, ``interrupted``
    (:mod:`lasso_torch.signals`), and :class:`~lasso_torch.signals.Terminated` is raised
    when it arrives between runs.
    """
    if isinstance(source, Config):
        source = source.dump()
    config = load_config(source, overrides)
    log = log or quiet
    with sigterm_as_interrupt():  # SIGTERM keeps the partial run, as Ctrl-C does
        if config.sweep:
            return run_sweep(config, log=log)
        return run_single(config, log=log)


__all__ = ["run_config", "run_single", "run_sweep"]
