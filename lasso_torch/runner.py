"""Config -> data, objective, solvers -> :func:`lasso_torch.solve` -> a run folder.

:func:`run_config` is the one entry point (the CLI's ``run`` calls it). For one config it

1. validates the config and resolves the device (``auto|cpu|cuda|cuda:N``) and dtype;
2. builds the data (float64 on the CPU, standardized if asked, then cast and moved);
3. resolves alpha (a number, a fraction of alpha_max, or a grid: a *path* run);
4. computes a float64 reference solution (relative gap ~1e-12) for ``P(w_k) - P*``;
5. runs every solver through ``lt.solve`` with a tqdm progress bar (off when stderr is not
   a terminal), recording every ``record_every`` iterations; a diverging solver stops at
   its first non-finite value and is marked ``diverged`` while the others still run;
6. writes the run with :class:`lasso_torch.runs.RunWriter` (temporary folder, renamed
   into place; Ctrl-C keeps the partial run as ``interrupted``).

A config with a ``sweep`` runs one such run per point of the product; points already
finished under the output root (same config hash) are skipped, so a sweep is resumable.
The same config and seed give bit-identical traces on the CPU (except wall times).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from . import data as data_mod
from .certificates import alpha_max as compute_alpha_max
from .config import (
    Config,
    CsvData,
    DiabetesData,
    NpzData,
    SolverConfig,
    SyntheticData,
    load_config,
    resolve_alphas,
    sweep_points,
)
from .errors import InputError
from .runs import Run, RunWriter, find_done, load_run, versions
from .solve import SolveResult, solve

Log = Callable[[str], None]

REFERENCE_TOL = 1e-12
COEF_SUBSET = 100  # coefficients recorded per iteration when p is large ("auto")


def _quiet(_: str) -> None:
    pass


# --- device, data ---------------------------------------------------------------------------
def resolve_device(spec: str) -> torch.device:
    """``auto`` -> cuda if available else cpu; ``cuda`` without CUDA is an :class:`InputError`."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"device: {spec!r} requested but CUDA is not available on this "
                             "machine (use device: cpu or auto)")
        index = int(spec.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise InputError(f"device: {spec!r} but only {torch.cuda.device_count()} CUDA "
                             "device(s) are visible")
    return torch.device(spec)


@dataclass
class Problem:
    """The data of a run, float64 on the CPU (the solvers get a cast copy)."""

    X: Tensor
    y: Tensor
    beta_true: Tensor | None = None


def build_data(config: Config) -> Problem:
    """Load or generate the configured data (float64, CPU), standardized if asked."""
    d = config.data
    beta = None
    if isinstance(d, SyntheticData):
        seed = config.seed if d.seed is None else d.seed
        X, y, beta = data_mod.make_synthetic(d.n, d.p, d.correlation, d.density, d.snr, seed)
    elif isinstance(d, CsvData):
        X, y = data_mod.load_csv(d.path, d.target, delimiter=d.delimiter)
    elif isinstance(d, NpzData):
        X, y = data_mod.load_npz(d.path, d.target, features=d.features)
    elif isinstance(d, DiabetesData):
        X, y = data_mod.load_diabetes()
    else:  # pragma: no cover (the schema allows nothing else)
        raise InputError(f"data.kind {d.kind!r} is not supported")
    if config.objective.standardize:
        X = data_mod.standardize(X)[0]
    return Problem(X, y, beta)


def _centered(X: Tensor, y: Tensor, fit_intercept: bool) -> tuple[Tensor, Tensor]:
    return (X - X.mean(0), y - y.mean()) if fit_intercept else (X, y)


def problem_arrays(X: Tensor, y: Tensor, fit_intercept: bool) -> dict[str, np.ndarray]:
    """The quadratic's sufficient statistics: gram, xty, yty (all /n) and n."""
    Xc, yc = _centered(X, y, fit_intercept)
    n = X.shape[0]
    return {"gram": (Xc.T @ Xc / n).numpy(), "xty": (Xc.T @ yc / n).numpy(),
            "yty": np.asarray(float(yc @ yc) / n), "n": np.asarray(n)}


def geometry_arrays(X: Tensor, y: Tensor, lasso: Tensor, fit_intercept: bool) -> dict:
    """For p = 2: OLS, the lasso solution, ``t = ||lasso||_1`` and the minimizer of the RSS
    over the L2 ball of radius ``t`` (a ridge solution whose alpha is found by bisection)."""
    stats = problem_arrays(X, y, fit_intercept)
    G, c = torch.from_numpy(stats["gram"]), torch.from_numpy(stats["xty"])
    ols = torch.linalg.lstsq(G, c).solution
    t = float(lasso.abs().sum())
    eye = torch.eye(2, dtype=G.dtype)

    def ridge(lam: float) -> Tensor:
        return torch.linalg.solve(G + lam * eye, c)

    if float(torch.linalg.vector_norm(ols)) <= t:
        w = ols
    elif t == 0.0:
        w = torch.zeros(2, dtype=G.dtype)
    else:  # ||ridge(lam)|| decreases in lam; ||ridge(||c||/t)|| <= t
        lo, hi = 0.0, float(torch.linalg.vector_norm(c)) / t
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if float(torch.linalg.vector_norm(ridge(mid))) > t:
                lo = mid
            else:
                hi = mid
        w = ridge(hi)
    return {"ols": ols.numpy(), "lasso": lasso.numpy(), "t": np.asarray(t), "ridge": w.numpy()}


# --- solving ----------------------------------------------------------------------------------
def reference_solution(X: Tensor, y: Tensor, alpha: float, l1_ratio: float,
                       fit_intercept: bool, coef_init: Tensor | None = None) -> SolveResult:
    """A float64 solution to relative gap ~1e-12 (CD for p <= 500, else FISTA)."""
    kind = "cd" if X.shape[1] <= 500 else "fista"
    return solve(X, y, alpha, l1_ratio, solver=kind, tol=REFERENCE_TOL, max_iter=200_000,
                 fit_intercept=fit_intercept, coef_init=coef_init, warn=False)


def _record_coef(s: SolverConfig, where: str, p: int, reference: Tensor) -> bool | list[int]:
    """``record_coef`` as lt.solve takes it: all, none, or an index list ("auto": all when
    p <= COEF_SUBSET, else the reference's largest coefficients plus the first zeros)."""
    rc = s.record_coef
    if rc == "all" or (rc == "auto" and p <= COEF_SUBSET):
        return True
    if rc == "none":
        return False
    if rc == "auto":
        order = torch.argsort(reference.abs(), descending=True, stable=True)
        n_support = min(int((reference != 0).sum()), COEF_SUBSET // 2)
        support = order[:n_support].tolist()
        rest = [j for j in range(p) if j not in set(support)][: COEF_SUBSET - n_support]
        return sorted(support + rest)
    bad = [j for j in rc if j >= p]
    if bad:
        raise InputError(f"{where}.record_coef: index {bad[0]} out of range (p = {p})")
    return sorted(set(rc))


class _Progress:
    """A tqdm bar per solver (disabled when stderr is not a terminal); the solve callback."""

    def __init__(self, label: str, total: int):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=label, unit="it", leave=False,
                        disable=not sys.stderr.isatty())

    def __call__(self, k: int, coef: Tensor, cert: Any) -> None:
        self.bar.update(k - self.bar.n)
        if not self.bar.disable:
            self.bar.set_postfix_str(f"gap {float(cert.rel_gap):.2e}", refresh=False)

    def close(self) -> None:
        self.bar.close()


def _solver_kwargs(s: SolverConfig, fit_intercept: bool) -> dict[str, Any]:
    return dict(solver=s.kind, tol=s.tol, max_iter=s.max_iter, fit_intercept=fit_intercept,
                lr=None if s.lr == "auto" else float(s.lr), check_every=s.check_every,
                restart=s.restart, backtracking=s.backtracking, schedule=s.schedule)


def _summary(res: SolveResult) -> dict[str, Any]:
    n_zeros = res.n_zeros
    return {"kind": res.solver, "lr": res.lr, "n_iter": res.n_iter, "time": res.time,
            "objective": float(res.objective), "gap": float(res.gap),
            "gap_abs": float(res.gap_abs), "kkt": float(res.kkt), "n_zeros": n_zeros,
            "nnz": res.coef.numel() - n_zeros, "converged": res.converged,
            "status": res.status, "intercept": float(res.intercept)}


def labels(solvers: list[SolverConfig]) -> list[str]:
    """Each solver's ``label`` (or kind), made unique with ``-2``, ``-3``..."""
    out: list[str] = []
    for s in solvers:
        base = s.label or s.kind
        name, k = base, 1
        while name in out:
            k += 1
            name = f"{base}-{k}"
        out.append(name)
    return out


def compute_path(
    X: Tensor,
    y: Tensor,
    alphas: list[float],
    l1_ratio: float,
    solver: SolverConfig,
    *,
    fit_intercept: bool = True,
    log: Log = _quiet,
) -> dict[str, Any]:
    """The regularization path: one warm-started ``lt.solve`` per alpha, largest first.

    Returns ``alphas`` (K,), ``coefs`` (K, p), ``gaps`` (K,), ``n_iter`` (K,), ``time`` (K,)
    and ``status`` (K strings); fewer than K rows if interrupted (``status[-1]``).
    """
    coef: Tensor | None = None
    rows: dict[str, list[Any]] = {k: [] for k in ("alphas", "coefs", "gaps", "n_iter", "time",
                                                  "status")}
    kwargs = _solver_kwargs(solver, fit_intercept)
    for alpha in alphas:
        res = solve(X, y, alpha, l1_ratio, coef_init=coef, catch_interrupt=True, warn=False,
                    **kwargs)
        coef = res.coef
        for key, value in (("alphas", alpha), ("coefs", res.coef.cpu().double().numpy()),
                           ("gaps", float(res.gap)), ("n_iter", res.n_iter),
                           ("time", res.time), ("status", res.status)):
            rows[key].append(value)
        if res.status == "interrupted":
            break
    p = X.shape[1]
    unconverged = sum(s != "converged" for s in rows["status"])
    if unconverged:
        log(f"warning: {unconverged} of {len(rows['alphas'])} path points (l1_ratio "
            f"{l1_ratio:g}) did not converge; worst relative gap {max(rows['gaps']):.3e}")
    return {
        "alphas": np.asarray(rows["alphas"], dtype=np.float64),
        "coefs": np.asarray(rows["coefs"], dtype=np.float64).reshape(-1, p),
        "gaps": np.asarray(rows["gaps"], dtype=np.float64),
        "n_iter": np.asarray(rows["n_iter"], dtype=np.int64),
        "time": np.asarray(rows["time"], dtype=np.float64),
        "status": rows["status"],
    }


# --- one run ----------------------------------------------------------------------------------
def _run_status(statuses: list[str], interrupted: bool) -> str:
    if interrupted or "interrupted" in statuses:
        return "interrupted"
    return "diverged" if "diverged" in statuses else "complete"


def run_single(config: Config, *, log: Log = _quiet) -> Run:
    """Run one (sweep-free) config and write its folder; returns the loaded run."""
    if config.sweep:
        raise InputError("run_single got a config with a sweep; use run_config")
    device = resolve_device(config.device)
    dtype = getattr(torch, config.dtype)
    torch.manual_seed(config.seed)
    problem = build_data(config)
    X64, y64 = problem.X, problem.y
    n, p = X64.shape
    obj = config.objective
    l1_ratio = float(obj.l1_ratio)
    # ridge (l1_ratio 0) has no alpha_max of its own: fractions refer to the lasso's
    amax = float(compute_alpha_max(X64, y64, l1_ratio if l1_ratio > 0 else 1.0,
                                   obj.fit_intercept))
    if not (math.isfinite(amax) and amax > 0):
        raise InputError(f"alpha_max of the data is {amax:g} (y is constant or uncorrelated "
                         "with X): there is nothing to fit")
    alphas = resolve_alphas(obj, amax)
    X, y = X64.to(device=device, dtype=dtype), y64.to(device=device, dtype=dtype)
    is_path = obj.is_path
    metrics: dict[str, Any] = {
        "problem": {"n": n, "p": p, "alpha": None if is_path else alphas[0],
                    "alphas": alphas if is_path else None,
                    "alpha_max": amax, "l1_ratio": l1_ratio, "kind": obj.kind,
                    "fit_intercept": obj.fit_intercept, "standardize": obj.standardize,
                    "data": config.data.kind},
        "solvers": {},
    }
    traces: dict[str, dict[str, np.ndarray]] = {}
    if p <= 50:
        traces["problem"] = problem_arrays(X64, y64, obj.fit_intercept)
    if problem.beta_true is not None:
        traces.setdefault("problem", {})["beta_true"] = problem.beta_true.numpy()
    for i, s in enumerate(config.solvers):  # user errors before anything is written
        if isinstance(s.record_coef, list):
            _record_coef(s, f"solvers.{i}", p, torch.zeros(p))
    dump = config.dump()
    writer = RunWriter(config.output, config.name, dump)
    log(f"run {config.name}: n={n}, p={p}, {obj.kind}, alpha="
        + (f"grid of {len(alphas)}" if is_path else f"{alphas[0]:.4g}")
        + f" (alpha_max {amax:.4g}), device {device}, {config.dtype}")
    statuses: list[str] = []
    interrupted = False
    error: str | None = None
    try:
        ref_alpha = alphas[-1]
        ref = reference_solution(X64, y64, ref_alpha, l1_ratio, obj.fit_intercept)
        metrics["reference"] = {"alpha": ref_alpha, "objective": float(ref.objective),
                                "gap": float(ref.gap), "n_zeros": ref.n_zeros,
                                "nnz": p - ref.n_zeros, "solver": ref.solver}
        traces["reference"] = {"coef": ref.coef.numpy()}
        if p == 2:
            traces["geometry"] = geometry_arrays(X64, y64, ref.coef, obj.fit_intercept)
        names = labels(config.solvers)
        if is_path:
            statuses = _run_path(config, X, y, alphas, l1_ratio, amax, names[0], metrics,
                                 traces, log)
        else:
            for i, (s, label) in enumerate(zip(config.solvers, names, strict=True)):
                log(f"solver {label} ({s.kind}): max_iter {s.max_iter}, tol {s.tol:g}")
                bar = _Progress(label, s.max_iter)
                idx = _record_coef(s, f"solvers.{i}", p, ref.coef)
                try:
                    res = solve(X, y, alphas[0], l1_ratio, **_solver_kwargs(s, obj.fit_intercept),
                                record_every=s.record_every, record_coef=idx, callback=bar,
                                catch_interrupt=True)
                finally:
                    bar.close()
                statuses.append(res.status)
                metrics["solvers"][label] = _summary(res)
                if res.trace is not None:
                    traces[label] = dict(res.trace)
                    if not isinstance(idx, bool):
                        traces[label]["coef_index"] = np.asarray(idx, dtype=np.int64)
                if res.status == "interrupted":
                    break
    except KeyboardInterrupt:
        interrupted = True
    except BaseException as e:  # keep what was computed, then let the error through
        error = f"{type(e).__name__}: {e}"
        interrupted = True
        raise
    finally:
        meta = {"status": _run_status(statuses, interrupted), "device": str(device),
                "dtype": config.dtype, "seed": config.seed, "config_hash": config.hash(),
                "versions": versions()}
        if error:
            meta["error"] = error
        path = writer.finish(meta, metrics, traces)
        log(f"run saved to {path} ({meta['status']})")
    return load_run(path)


def _run_path(config: Config, X: Tensor, y: Tensor, alphas: list[float], l1_ratio: float,
              amax: float, label: str, metrics: dict, traces: dict, log: Log) -> list[str]:
    """Path mode: the configured objective and ridge on the same grid, warm-started."""
    s = config.solvers[0]
    fit = config.objective.fit_intercept
    log(f"path: {len(alphas)} alphas with {s.kind} (l1_ratio {l1_ratio:g}), then ridge")
    main = compute_path(X, y, alphas, l1_ratio, s, fit_intercept=fit, log=log)
    group = {"alphas": main["alphas"], "coefs": main["coefs"], "gaps": main["gaps"],
             "alpha_max": np.asarray(amax)}
    statuses = list(main["status"])
    if statuses and statuses[-1] != "interrupted":
        ridge = compute_path(X, y, alphas, 0.0, s, fit_intercept=fit, log=log)
        group["ridge_coefs"], group["ridge_gaps"] = ridge["coefs"], ridge["gaps"]
        statuses += [st for st in ridge["status"] if st == "interrupted"]
    traces["path"] = group
    last = main["coefs"][-1] if len(main["coefs"]) else np.zeros(X.shape[1])
    n_zeros = int((last == 0).sum())
    worst = "converged"
    for st in ("max_iter", "stalled", "diverged", "interrupted"):
        if st in main["status"]:
            worst = st
    metrics["solvers"][label] = {
        "kind": s.kind, "lr": None if s.lr == "auto" else s.lr,
        "n_iter": int(main["n_iter"].sum()), "time": float(main["time"].sum()),
        "objective": None, "gap": float(main["gaps"].max()) if len(main["gaps"]) else None,
        "kkt": None, "n_zeros": n_zeros, "nnz": int(last.size - n_zeros),
        "converged": worst == "converged", "status": worst, "path_points": len(main["alphas"]),
    }
    return [st for st in statuses if st in ("interrupted", "diverged")]


# --- entry point ------------------------------------------------------------------------------
def run_sweep(config: Config, *, log: Log = _quiet) -> list[Run]:
    """One run per sweep point; points already finished (same config hash) are skipped."""
    points = sweep_points(config)
    runs: list[Run] = []
    for k, (assignment, point) in enumerate(points, 1):
        done = find_done(point.output, point.hash())
        desc = ", ".join(f"{key}={value}" for key, value in assignment.items())
        if done is not None:
            log(f"[{k}/{len(points)}] {desc}: done already ({done}), skipped")
            run = load_run(done)
            run.skipped = True
            runs.append(run)
            continue
        log(f"[{k}/{len(points)}] {desc}")
        run = run_single(point, log=log)
        runs.append(run)
        if run.status == "interrupted":
            break
    return runs


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
    """
    if isinstance(source, Config):
        source = source.dump()
    config = load_config(source, overrides)
    log = log or _quiet
    if config.sweep:
        return run_sweep(config, log=log)
    return run_single(config, log=log)


__all__ = ["Problem", "build_data", "compute_path", "geometry_arrays", "labels",
           "problem_arrays", "reference_solution", "resolve_device", "run_config",
           "run_single", "run_sweep"]
