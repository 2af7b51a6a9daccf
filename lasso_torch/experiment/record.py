"""What a run records, the same for both backends: per-solver summaries with the
per-coefficient account, path metrics, the reference, the problem's statistics, meta.json.

**The account** (``metrics["solvers"][label]["account"]``, and the arrays in the trace
group ``<label>.account``), from the solver's recorded coefficients
(:func:`lasso_torch.account.coefficient_account`): per recorded coefficient ``zero_at``
(the iteration from which it is exactly 0.0 to the end, or None), ``sign_changes``,
``last_oscillation`` beside ``band = lr * alpha`` (for the solvers without exact zeros);
``support_at``: the first recorded iteration from which the signs (hence the support)
equal the reference solution's at every record (None: never, e.g. Adam, whose zeros are
never 0.0); with synthetic data, ``precision`` / ``recall`` of the final support against
``beta_true`` (all coefficients) and ``true_support_at`` (the recorded ones).

**Path metrics** (one definition for the local and the sharded path): ``n_iter`` is the
*sum* over the grid of the iterations each alpha's solve reported (``PathResult.n_iters``:
the work of the path, whether the alphas ran one after another or as columns of one
batch), ``n_iter_max`` the largest; ``time`` the path's wall time; ``gap`` the worst
relative gap; ``status`` the worst status of the points (interrupted > diverged > stalled >
max_iter > converged), ``converged`` only when every point converged.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..account import coefficient_account, support_scores
from ..errors import ConvergenceWarning, InputError
from ..path import PathResult
from ..runs import versions
from ..signals import stop_signal, terminated
from ..solve import SolveResult
from ..solvers import get_solver
from .config import Config, SolverConfig

Log = Callable[[str], None]
COEF_SUBSET = 100  # coefficients recorded per iteration when p is large ("auto")
REFERENCE_TOL = 1e-12  # the reference solution's relative duality gap
WORST_FIRST = ("interrupted", "failed", "diverged", "stalled", "max_iter", "converged")
ERROR_CHARS = 300  # an error recorded in a run, at most


def quiet(_: str) -> None:
    """A log that prints nothing."""


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


def record_coef(s: SolverConfig, where: str, p: int, reference: Tensor) -> bool | list[int]:
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


def solver_options(s: SolverConfig, fit_intercept: bool, seed: int) -> dict[str, Any]:
    """``lt.solve``'s keyword arguments for a configured solver: its options, its
    ``batch_size`` and the config's ``seed`` (the minibatch order) where it takes them."""
    spec = get_solver(s.kind)
    options = {"seed": seed} if "seed" in spec.options else {}
    if s.batch_size is not None:
        options["batch_size"] = s.batch_size
    return dict(solver=s.kind, tol=s.tol, max_iter=s.max_iter, fit_intercept=fit_intercept,
                lr=None if s.lr == "auto" else float(s.lr), check_every=s.check_every,
                restart=s.restart, backtracking=s.backtracking, schedule=s.schedule,
                options={**options, **s.options})


def summary(res: SolveResult) -> dict[str, Any]:
    """A solve's line of ``metrics.json`` (its account is added by :func:`account`)."""
    n_zeros = res.n_zeros
    out = {"kind": res.solver, "lr": res.lr, "n_iter": res.n_iter, "time": res.time,
           "objective": float(res.objective), "gap": float(res.gap),
           "gap_abs": float(res.gap_abs), "kkt": float(res.kkt), "n_zeros": n_zeros,
           "nnz": res.coef.numel() - n_zeros, "converged": res.converged,
           "status": res.status, "intercept": float(res.intercept),
           "certificate": str(getattr(res, "certificate", "duality gap"))}
    notes = list(getattr(res, "notes", ()) or ())
    if notes:
        out["notes"] = notes
    return out


def failed_summary(kind: str, error: BaseException) -> dict[str, Any]:
    """The ``metrics.json`` line of a solver that raised: status ``failed``, its error
    (one line, at most :data:`ERROR_CHARS` characters), no numbers."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    if len(text) > ERROR_CHARS:
        text = text[:ERROR_CHARS - 3] + "..."
    return {"kind": kind, "status": "failed", "converged": False, "error": text,
            "objective": None, "gap": None, "kkt": None, "n_iter": None, "time": None,
            "n_zeros": None, "nnz": None}


def identified_at(iterations: np.ndarray, coef: np.ndarray, target: np.ndarray) -> int | None:
    """The first recorded iteration from which ``sign(coef)`` equals ``sign(target)`` at
    every record to the end; None if the last record's signs differ."""
    same = (np.sign(coef) == np.sign(target)).all(axis=1)
    if not same[-1]:
        return None
    if same.all():
        return int(iterations[0])
    return int(iterations[len(same) - int(np.argmin(same[::-1]))])


def with_final(it: np.ndarray, c: np.ndarray, res: SolveResult, pick: Any
               ) -> tuple[np.ndarray, np.ndarray]:
    """The records with the returned iterate appended when it is not the last record (a
    solver that converged between two records): the account, ``support_at`` included,
    then speaks of the answer, not only of the recorded iterations."""
    final = res.coef.detach().cpu().double().numpy().reshape(-1)[pick]
    if it.size and int(it[-1]) >= int(res.n_iter):  # the answer is recorded already
        return it, c
    return (np.append(it, int(res.n_iter)).astype(it.dtype if it.size else np.int64),
            np.vstack([c, final[None, :]]))


def account(res: SolveResult, idx: bool | list[int], alpha: float, reference: Tensor,
            beta_true: Tensor | None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The per-coefficient account of a solve (module docstring): its ``metrics.json``
    entry and its trace arrays (``zero_at`` -1 for never, ``last_oscillation`` NaN)."""
    trace = res.trace or {}
    pick = slice(None) if isinstance(idx, bool) else np.asarray(idx, dtype=np.int64)
    ref = reference.detach().cpu().double().numpy()[pick]
    truth = None if beta_true is None else beta_true.detach().cpu().double().numpy()
    out: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    if "coef" in trace and len(trace["iteration"]):
        it, c = with_final(np.asarray(trace["iteration"]), np.asarray(trace["coef"]), res,
                           pick)
        lr = None if get_solver(res.solver).exact_zeros else res.lr
        out = coefficient_account(it, c, lr, alpha, None if truth is None else truth[pick])
        out["support_at"] = identified_at(it, c, ref)
        if not isinstance(idx, bool):
            out["coef_index"] = list(idx)
        arrays = {"zero_at": np.asarray([-1 if z is None else z for z in out["zero_at"]],
                                        dtype=np.int64),
                  "sign_changes": np.asarray(out["sign_changes"], dtype=np.int64),
                  "last_oscillation": np.asarray([np.nan if v is None else v
                                                  for v in out["last_oscillation"]])}
    if truth is not None:  # the final support, every coefficient
        out.update(support_scores(res.coef.detach().cpu().numpy(), truth))
    return out, arrays


def reference_metrics(ref: SolveResult, p: int) -> dict[str, Any]:
    """The reference's summary. One that did not converge says so, and its objective is
    stored as ``objective_reached``, not ``objective``: nobody computes ``P - P*`` against
    it as if it were P*."""
    out = {"alpha": ref.alpha, "objective": float(ref.objective), "gap": float(ref.gap),
           "n_zeros": ref.n_zeros, "nnz": p - ref.n_zeros, "solver": ref.solver,
           "converged": ref.converged, "status": ref.status}
    if not ref.converged:
        out["objective_reached"] = out.pop("objective")
        out["objective"] = None
        if ref.status != "interrupted":
            warnings.warn(f"the reference solve ({ref.solver}) did not converge: "
                          f"{ref.status} after {ref.n_iter} iterations, relative gap "
                          f"{float(ref.gap):.3e} (tol {REFERENCE_TOL:g}); P - P* is not "
                          "computed", ConvergenceWarning, stacklevel=2)
    return out


def path_rows(res: PathResult) -> dict[str, Any]:
    """A path's points, those solved (an interrupted path keeps the alphas it finished):
    ``alphas``, ``coefs (K, p)``, ``gaps``, ``n_iter`` as arrays, ``status`` a list (an
    ``interrupted`` entry added when it stopped between two alphas)."""
    status = [str(s) for s in np.asarray(res.status).reshape(-1)]
    n_iters = res.n_iters.reshape(-1).tolist()
    done = [i for i, (st, n) in enumerate(zip(status, n_iters, strict=True))
            if st != "interrupted" or n > 0]
    rows = {"alphas": res.alphas.cpu().double().numpy()[done],
            "coefs": res.coefs.T.cpu().double().numpy()[done].reshape(len(done), -1),
            "gaps": res.gaps.cpu().double().numpy()[done],
            "n_iter": np.asarray([n_iters[i] for i in done], dtype=np.int64),
            "status": [status[i] for i in done], "time": float(res.time)}
    if len(done) < len(status) and (not done or rows["status"][-1] != "interrupted"):
        rows["status"].append("interrupted")  # stopped between two alphas
    return rows


def worst(statuses: list[str]) -> str:
    """The worst of some statuses (:data:`WORST_FIRST`); ``converged`` for none."""
    return next((s for s in WORST_FIRST if s in statuses), "converged")


def path_summary(kind: str, lr: Any, rows: dict[str, Any], certificate: str = "duality gap"
                 ) -> dict[str, Any]:
    """The path's line of ``metrics.json`` (the definitions: module docstring);
    ``certificate``: what ``gap`` is (``kkt`` for MCP / SCAD, which have no duality gap)."""
    last = rows["coefs"][-1] if len(rows["coefs"]) else np.zeros(rows["coefs"].shape[1])
    n_zeros, status = int((last == 0).sum()), worst(rows["status"])
    gaps = rows["gaps"]
    return {"kind": kind, "lr": None if lr == "auto" else lr,
            "n_iter": int(rows["n_iter"].sum()),
            "n_iter_max": int(rows["n_iter"].max()) if len(rows["n_iter"]) else 0,
            "time": rows["time"], "objective": None,
            "gap": float(np.max(gaps)) if len(gaps) else None, "kkt": None,
            "n_zeros": n_zeros, "nnz": int(last.size - n_zeros),
            "converged": status == "converged", "status": status,
            "path_points": len(rows["alphas"]), "certificate": certificate}


def problem_arrays(X: Tensor, y: Tensor, fit_intercept: bool,
                   sample_weight: Tensor | None = None) -> dict[str, np.ndarray]:
    """The quadratic's sufficient statistics: gram, xty, yty (all /n) and n; with
    ``sample_weight``, the weighted ones (``X_c^T S X_c / n``, ... weights summing to n)."""
    n = X.shape[0]
    if sample_weight is None:
        if fit_intercept:
            X, y = X - X.mean(0), y - y.mean()
        return {"gram": (X.T @ X / n).numpy(), "xty": (X.T @ y / n).numpy(),
                "yty": np.asarray(float(y @ y) / n), "n": np.asarray(n)}
    s = sample_weight.to(X) * (n / sample_weight.sum())
    if fit_intercept:
        X, y = X - (s @ X) / n, y - (s @ y) / n
    Xs = X * s[:, None]
    return {"gram": (Xs.T @ X / n).numpy(), "xty": (Xs.T @ y / n).numpy(),
            "yty": np.asarray(float((s * y) @ y) / n), "n": np.asarray(n)}


def run_status(statuses: list[str], interrupted: bool) -> str:
    """meta.json's status: interrupted, failed (a solver raised), diverged (a solver
    diverged) or complete."""
    if interrupted or "interrupted" in statuses:
        return "interrupted"
    if "failed" in statuses:
        return "failed"
    return "diverged" if "diverged" in statuses else "complete"


def run_meta(config: Config, device: torch.device, status: str, error: str | None,
             **extra: Any) -> dict[str, Any]:
    """meta.json of a run: status, what ran where, and what stopped it (an error, or
    ``interrupted_by`` SIGTERM / SIGINT)."""
    meta = {"status": status, "device": str(device), "dtype": config.dtype,
            "seed": config.seed, "config_hash": config.hash(), "versions": versions(),
            **extra}
    if error:
        meta["error"] = error
    if status == "interrupted" and (terminated() or not error):
        meta["interrupted_by"] = stop_signal() or "SIGINT"
    return meta


__all__ = ["COEF_SUBSET", "REFERENCE_TOL", "Log", "account", "failed_summary",
           "identified_at", "labels", "path_rows", "path_summary", "problem_arrays", "quiet",
           "record_coef", "reference_metrics", "run_meta", "run_status", "solver_options",
           "summary", "with_final", "worst"]
