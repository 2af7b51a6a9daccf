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
import warnings
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
from .cv import cross_validate
from .errors import InputError
from .path import lasso_path
from .problem import alpha_max as problem_alpha_max
from .problem import build_penalty, make_datafit
from .runs import Run, RunWriter, find_done, load_run, versions
from .solve import ConvergenceWarning, SolveResult, solve

PENALTY_KEYS = ("penalty", "weights", "positive", "gamma")

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
        if config.objective.loss == "logistic":  # labels of the same sparse linear model
            y = (y > y.median()).to(y.dtype)
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
                       fit_intercept: bool, coef_init: Tensor | None = None,
                       objective: dict[str, Any] | None = None) -> SolveResult:
    """A float64 solution to relative gap ~1e-12 (CD for p <= 500, else FISTA; prox_newton
    for a loss other than the squared one)."""
    kind = "cd" if X.shape[1] <= 500 else "fista"
    if (objective or {}).get("loss") is not None:
        kind = "prox_newton"
    return solve(X, y, alpha, l1_ratio, solver=kind, tol=REFERENCE_TOL, max_iter=200_000,
                 fit_intercept=fit_intercept, coef_init=coef_init, warn=False,
                 **(objective or {}))


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
        taken = set(support)
        rest = [j for j in range(p) if j not in taken][: COEF_SUBSET - n_support]
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
                restart=s.restart, backtracking=s.backtracking, schedule=s.schedule,
                options=dict(s.options))


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
    objective: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The regularization path: :func:`lasso_torch.lasso_path`, warm-started, largest first.

    Returns ``alphas`` (K,), ``coefs`` (K, p), ``gaps`` (K,), ``n_iter`` (K,), ``time`` (K,)
    and ``status`` (K strings); fewer than K rows if interrupted (``status[-1]``).
    """
    kw = _solver_kwargs(solver, fit_intercept)
    kind = kw.pop("solver")
    res = lasso_path(X, y, alphas, l1_ratio=l1_ratio, strategy="warm", solver=kind,
                     catch_interrupt=True, **kw, **(objective or {}))
    status = list(res.status)
    done = [i for i, (st, n) in enumerate(zip(status, res.n_iters.tolist(), strict=True))
            if st != "interrupted" or n > 0]
    rows = {"alphas": res.alphas[done].tolist(), "coefs": res.coefs.T[done].cpu().double(),
            "gaps": res.gaps[done].tolist(), "n_iter": res.n_iters[done].tolist(),
            "time": [res.time / max(len(done), 1)] * len(done),
            "status": [status[i] for i in done]}
    if len(done) < len(status) and (not done or rows["status"][-1] != "interrupted"):
        rows["status"].append("interrupted")  # stopped between two alphas
    p = X.shape[1]
    unconverged = sum(s not in ("converged", "interrupted") for s in rows["status"])
    if unconverged:
        warnings.warn(f"{solver.kind} path (l1_ratio {l1_ratio:g}): {unconverged} of "
                      f"{len(rows['alphas'])} points did not converge; worst relative gap "
                      f"{max(rows['gaps']):.3e} (tol {solver.tol:.1e})",
                      ConvergenceWarning, stacklevel=2)
    return {
        "alphas": np.asarray(rows["alphas"], dtype=np.float64),
        "coefs": rows["coefs"].numpy().reshape(-1, p),
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


@dataclass
class _Setup:
    """Everything a run needs before its first solve (built before any file is written)."""

    X64: Tensor  # float64, CPU: the reference, statistics and geometry use these
    y64: Tensor
    X: Tensor  # the solvers' copy: the config's dtype and device
    y: Tensor
    device: torch.device
    alphas: list[float]
    alpha_max: float
    metrics: dict[str, Any]
    traces: dict[str, dict[str, np.ndarray]]


def _setup(config: Config) -> _Setup:
    """Resolve device and dtype, build the data, resolve alpha; user errors raise here."""
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
    opts = obj.problem_options()
    if any(v not in (None, False) for v in opts.values()):  # loss, weights, positive, mcp
        amax = problem_alpha_max(make_datafit(opts["loss"], X64, y64, obj.fit_intercept,
                                              delta=opts["delta"]),
                                 build_penalty(1.0, max(l1_ratio, 1e-12), p=p, like=X64,
                                               **{k: opts[k] for k in PENALTY_KEYS}))
    if not (math.isfinite(amax) and amax > 0):
        raise InputError(f"alpha_max of the data is {amax:g} (y is constant or uncorrelated "
                         "with X): there is nothing to fit")
    alphas = resolve_alphas(obj, amax)
    for i, s in enumerate(config.solvers):
        if isinstance(s.record_coef, list):
            _record_coef(s, f"solvers.{i}", p, torch.zeros(p))
    metrics: dict[str, Any] = {
        "problem": {"n": n, "p": p, "alpha": None if obj.is_path else alphas[0],
                    "alphas": alphas if obj.is_path else None,
                    "alpha_max": amax, "l1_ratio": l1_ratio, "kind": obj.kind,
                    "fit_intercept": obj.fit_intercept, "standardize": obj.standardize,
                    "data": config.data.kind},
        "solvers": {},
    }
    traces: dict[str, dict[str, np.ndarray]] = {}
    if p <= 50 and not any(v not in (None, False) for v in opts.values()):
        # the squared lasso's moments: the thresholding figure's points lie on S(z, lambda)
        # only for that problem (none are drawn for another loss or penalty)
        traces["problem"] = problem_arrays(X64, y64, obj.fit_intercept)
    if problem.beta_true is not None:
        traces.setdefault("problem", {})["beta_true"] = problem.beta_true.numpy()
    X, y = X64.to(device=device, dtype=dtype), y64.to(device=device, dtype=dtype)
    if obj.cv is not None:
        alpha, traces["cv"], metrics["problem"]["cv"] = cross_validated_alpha(
            obj.cv, l1_ratio, obj.fit_intercept, config.seed, X, y, alphas)
        alphas = [alpha]
        metrics["problem"]["alpha"] = alpha
    return _Setup(X64, y64, X, y, device, alphas, amax, metrics, traces)


def cross_validated_alpha(folds: int, l1_ratio: float, fit_intercept: bool, seed: int,
                          X: Tensor, y: Tensor, grid: list[float], tol: float = 1e-6
                          ) -> tuple[float, dict[str, np.ndarray], dict[str, Any]]:
    """``objective.cv: K``: K-fold cross-validation on ``grid`` (all folds x all alphas in
    one batched path, folds shuffled by ``seed``). Returns the chosen alpha, the ``cv`` trace
    group (``alphas``, ``mse_path`` (K, folds), ``alpha``, ``gaps``) and its summary for
    ``metrics["problem"]["cv"]``."""
    res = cross_validate(X, y, grid, l1_ratio, n_folds=folds, seed=seed,
                         fit_intercept=fit_intercept, tol=tol)
    if not res.converged:
        warnings.warn(f"cross-validation paths: worst relative gap {res.gaps.max():.3e} > "
                      f"tol {tol:.1e}", ConvergenceWarning, stacklevel=2)
    group = {"alphas": res.alphas, "mse_path": res.mse_path, "alpha": np.asarray(res.alpha),
             "gaps": res.gaps}
    summary = {"folds": folds, "num": len(grid), "alpha": res.alpha, "index": res.index,
               "mse": float(res.mse_mean[res.index]), "converged": res.converged,
               "time": res.time}
    return res.alpha, group, summary


def _run_solvers(config: Config, st: _Setup, ref_coef: Tensor, log: Log) -> list[str]:
    """Each configured solver at the one alpha; results go into ``st.metrics/traces`` as
    they finish (so an interruption keeps them). Returns the solvers' statuses."""
    obj, p = config.objective, st.X.shape[1]
    statuses = []
    for i, (s, label) in enumerate(zip(config.solvers, labels(config.solvers), strict=True)):
        log(f"solver {label} ({s.kind}): max_iter {s.max_iter}, tol {s.tol:g}")
        idx = _record_coef(s, f"solvers.{i}", p, ref_coef)
        bar = _Progress(label, s.max_iter)
        try:
            res = solve(st.X, st.y, st.alphas[0], float(obj.l1_ratio),
                        **_solver_kwargs(s, obj.fit_intercept), record_every=s.record_every,
                        record_coef=idx, callback=bar, catch_interrupt=True,
                        **obj.problem_options())
        finally:
            bar.close()
        statuses.append(res.status)
        st.metrics["solvers"][label] = _summary(res)
        if res.trace is not None:
            st.traces[label] = dict(res.trace)
            if not isinstance(idx, bool):
                st.traces[label]["coef_index"] = np.asarray(idx, dtype=np.int64)
        if res.status == "interrupted":
            break
    return statuses


def run_single(config: Config, *, log: Log = _quiet) -> Run:
    """Run one (sweep-free) config and write its folder; returns the loaded run.

    Everything that can be a user error is checked before the run folder is started;
    after that, whatever happens (Ctrl-C, an error), what was computed is saved.
    """
    if config.sweep:
        raise InputError("run_single got a config with a sweep; use run_config")
    if config.distributed:  # every process runs this; rank 0 alone writes the run
        from .distributed_runner import run_sharded

        return run_sharded(config, log=log)
    st = _setup(config)
    obj = config.objective
    n, p = st.X64.shape
    writer = RunWriter(config.output, config.name, config.dump())
    log(f"run {config.name}: n={n}, p={p}, {obj.kind}, alpha="
        + (f"grid of {len(st.alphas)}" if obj.is_path else f"{st.alphas[0]:.4g}")
        + f" (alpha_max {st.alpha_max:.4g}), device {st.device}, {config.dtype}")
    statuses: list[str] = []
    interrupted, error = False, None
    try:
        ref = reference_solution(st.X64, st.y64, st.alphas[-1], float(obj.l1_ratio),
                                 obj.fit_intercept, objective=obj.problem_options())
        st.metrics["reference"] = {"alpha": st.alphas[-1], "objective": float(ref.objective),
                                   "gap": float(ref.gap), "n_zeros": ref.n_zeros,
                                   "nnz": p - ref.n_zeros, "solver": ref.solver}
        st.traces["reference"] = {"coef": ref.coef.numpy()}
        if p == 2:
            st.traces["geometry"] = geometry_arrays(st.X64, st.y64, ref.coef,
                                                    obj.fit_intercept)
        if obj.is_path:
            statuses = _run_path(config, st, log)
        else:
            statuses = _run_solvers(config, st, ref.coef, log)
    except KeyboardInterrupt:
        interrupted = True
    except BaseException as e:  # keep what was computed, then let the error through
        error, interrupted = f"{type(e).__name__}: {e}", True
        raise
    finally:
        meta = {"status": _run_status(statuses, interrupted), "device": str(st.device),
                "dtype": config.dtype, "seed": config.seed, "config_hash": config.hash(),
                "versions": versions()}
        if error:
            meta["error"] = error
        path = writer.finish(meta, st.metrics, st.traces)
        log(f"run saved to {path} ({meta['status']})")
    return load_run(path)


def _run_path(config: Config, st: _Setup, log: Log) -> list[str]:
    """Path mode: the configured objective and ridge on the same grid, warm-started."""
    s, label = config.solvers[0], labels(config.solvers)[0]
    fit, l1_ratio = config.objective.fit_intercept, float(config.objective.l1_ratio)
    log(f"path: {len(st.alphas)} alphas with {s.kind} (l1_ratio {l1_ratio:g}), then ridge")
    opts = config.objective.problem_options()
    main = compute_path(st.X, st.y, st.alphas, l1_ratio, s, fit_intercept=fit, objective=opts)
    group = {"alphas": main["alphas"], "coefs": main["coefs"], "gaps": main["gaps"],
             "alpha_max": np.asarray(st.alpha_max)}
    st.traces["path"] = group
    statuses = list(main["status"])
    if statuses and statuses[-1] != "interrupted":
        ridge = compute_path(st.X, st.y, st.alphas, 0.0, s, fit_intercept=fit, objective={
            **opts, "penalty": None, "gamma": None})
        group["ridge_coefs"], group["ridge_gaps"] = ridge["coefs"], ridge["gaps"]
        statuses += [x for x in ridge["status"] if x == "interrupted"]
    last = main["coefs"][-1] if len(main["coefs"]) else np.zeros(st.X.shape[1])
    n_zeros = int((last == 0).sum())
    worst = "converged"
    for x in ("max_iter", "stalled", "diverged", "interrupted"):
        if x in main["status"]:
            worst = x
    st.metrics["solvers"][label] = {
        "kind": s.kind, "lr": None if s.lr == "auto" else s.lr,
        "n_iter": int(main["n_iter"].sum()), "time": float(main["time"].sum()),
        "objective": None, "gap": float(main["gaps"].max()) if len(main["gaps"]) else None,
        "kkt": None, "n_zeros": n_zeros, "nnz": int(last.size - n_zeros),
        "converged": worst == "converged", "status": worst, "path_points": len(main["alphas"]),
    }
    return [x for x in statuses if x in ("interrupted", "diverged")]


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
