"""A run folder as the figures see it: :class:`RunData`, and the words every figure
uses for it (the solved objective, the problem line, feature names, step rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..runs import load_run

_STAMP = re.compile(r"^\d{8}-\d{6}-")


@dataclass
class RunData:
    """What the figures need from one run folder."""

    path: Path
    metrics: dict[str, Any]
    traces: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The run's name (the folder name without its time stamp when meta has none)."""
        return str(self.meta.get("name") or _STAMP.sub("", self.path.name))

    @property
    def problem(self) -> dict[str, Any]:
        return self.metrics.get("problem", {})

    @property
    def solvers(self) -> dict[str, dict[str, Any]]:
        return self.metrics.get("solvers", {})

    def group(self, name: str) -> dict[str, np.ndarray]:
        return self.traces.get(name, {})


def read_run(run_dir: str | Path) -> RunData:
    """Load a run folder through the run store (:func:`lasso_torch.runs.load_run`); each
    solver's entry gets its configured ``schedule``, ``batch_size`` and base step ``lr0``
    from the run's config when its metrics (older runs) do not carry them."""
    run = load_run(run_dir)
    data = RunData(run.path, run.metrics, run.traces, run.meta, run.config or {})
    configured = data.config.get("solvers") or []
    for info, s in zip(data.solvers.values(), configured, strict=False):
        if isinstance(s, dict):
            for key in ("schedule", "batch_size"):
                info.setdefault(key, s.get(key))
            if info.get("schedule") not in (None, "constant") and "lr0" not in info:
                info["lr0"] = base_step(s.get("lr"), info)
    return data


def base_step(configured: Any, info: dict[str, Any]) -> float | None:
    """The first step of a scheduled solver: the configured ``lr``, or (``auto``) the
    recorded last step ``lr_K`` times ``1 / factor(K)`` (``lr_k = lr0 / sqrt(k + 1)``)."""
    if isinstance(configured, (int, float)) and not isinstance(configured, bool):
        return float(configured)
    lr, k = info.get("lr"), info.get("n_iter")
    if lr is None or k is None:
        return None
    return float(lr) * {"inv_sqrt": float(np.sqrt(k + 1)), "inv": float(k + 1)}.get(
        str(info.get("schedule")), 1.0)


PENALTY_NAMES = {"lasso": "Lasso (L1)", "ridge": "Ridge (L2)", "elasticnet": "Elastic net",
                 "mcp": "MCP", "scad": "SCAD"}
LOSS_NAMES = {"logistic": "logistic", "huber": "Huber", "poisson": "Poisson"}


def objective_name(problem: dict[str, Any], config: dict[str, Any] | None = None) -> str:
    """The solved objective in words: ``Lasso (L1)``, ``MCP (γ = 3)``, ``Elastic net
    (l1_ratio = 0.5)``, ``logistic loss + Lasso (L1)`` (sparse logistic regression)."""
    obj = (config or {}).get("objective") or {}
    kind = str(problem.get("kind") or obj.get("kind") or "lasso")
    name = PENALTY_NAMES.get(kind, kind)
    gamma = problem.get("gamma", obj.get("gamma"))
    if kind in ("mcp", "scad"):
        name += f" (γ = {gamma:g})" if gamma is not None else ""
    elif kind == "elasticnet" and problem.get("l1_ratio") is not None:
        name += f" (l1_ratio = {problem['l1_ratio']:g})"
    loss = problem.get("loss", obj.get("loss")) or "squared"
    if loss != "squared":
        name = f"{LOSS_NAMES.get(loss, loss)} loss + {name}"
    return name


def run_objective(run: RunData) -> str:
    """:func:`objective_name` of a run."""
    return objective_name(run.problem, run.config)


def penalty_kind(run: RunData) -> str:
    """``lasso``, ``ridge``, ``elasticnet``, ``mcp`` or ``scad``."""
    return str(run.problem.get("kind") or (run.config.get("objective") or {}).get("kind")
               or "lasso")


def run_loss(run: RunData) -> str:
    """The datafit's name: ``squared``, ``logistic``, ..."""
    return str(run.problem.get("loss") or (run.config.get("objective") or {}).get("loss")
               or "squared")


def feature_names(run: RunData, p: int) -> list[str]:
    """The data's column names (``problem.feature_names``: a CSV header, the diabetes
    set's), else ``x0 .. x{p-1}``."""
    names = run.problem.get("feature_names")
    if names and len(names) == p:
        return [str(v) for v in names]
    if p == 10 and run.problem.get("data") == "diabetes":
        from ..data import DIABETES_FEATURES

        return list(DIABETES_FEATURES)
    return [f"x{j}" for j in range(p)]


def describe(run: RunData) -> str:
    """One line naming the run and its solved objective, in scikit-learn's alpha scaling."""
    pb = run.problem
    parts = [run.name, run_objective(run)]
    if "n" in pb and "p" in pb:
        parts.append(f"n = {pb['n']}, p = {pb['p']}")
    alpha, amax = pb.get("alpha"), pb.get("alpha_max")
    if alpha is not None:
        rel = f" = {alpha / amax:.3g} α_max" if amax else ""
        parts.append(f"α = {alpha:.3g}{rel}")
    reps = run.metrics.get("repeats")
    if reps:
        parts.append(f"{reps['n']} repeats of the stochastic solvers")
    # a wrapped title breaks between the parts, never inside "α = 0.1 α_max"
    return ",  ".join(part.replace(" ", "\u00a0") if i > 1 and "=" in part and len(part) < 40
                      else part for i, part in enumerate(parts))
