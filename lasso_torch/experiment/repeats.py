"""What a stochastic solver records beyond one solve: its step rule (:func:`step_rule`)
and, with ``repeats: N``, its repeats (a comparison with minibatches is a random
experiment).

Every solver with a ``batch_size`` (a minibatch order drawn from ``seed``) runs ``N``
times: repeat 0 with the config's ``seed`` (it is the run's main record, exactly the run
without repeats), repeat ``r`` with a seed derived from ``(seed, r)``
(:func:`repeat_seeds`, recorded in ``metrics["repeats"]["seeds"]``). Deterministic solvers
run once. Each repeat's traces are the group ``<label>.repeat<r>``; its numbers a row of
``metrics["solvers"][label]["repeats"]``, summarized as median and quartiles
(``repeat_stats``; the spread is stated in ``metrics["repeats"]["spread"]``).
``repeat_data: true`` (synthetic data only) also draws the data again for every repeat
(``data.seed`` = the repeat's seed, its own reference), and then every solver repeats.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..progress import Phase
from ..solve import SolveResult
from .backend import Local
from .config import Config, SolverConfig
from .prepare import Setup, setup
from .record import Log, account, quiet, solver_options, summary


def repeat_seeds(seed: int, n: int) -> list[int]:
    """``repeats: n``: repeat 0 runs with the config's ``seed`` (so it is the run without
    repeats), repeat ``r`` with a seed derived from ``(seed, r)`` by numpy's SeedSequence."""
    return [int(seed)] + [int(np.random.SeedSequence([int(seed), r]).generate_state(1)[0])
                          for r in range(1, n)]


REPEAT_FIELDS = ("n_zeros", "gap", "objective", "n_iter", "time", "support_at", "precision",
                 "recall")
SPREAD = "median [25th, 75th percentile] over the repeats"


def repeat_row(seed: int, res: SolveResult, acc: dict[str, Any]) -> dict[str, Any]:
    """One repeat's line: its seed, summary numbers and support scores."""
    row = {"seed": seed, "status": res.status, **{k: v for k, v in summary(res).items()
                                                   if k in REPEAT_FIELDS}}
    row.update({k: acc.get(k) for k in ("support_at", "precision", "recall") if k in acc})
    return row


def repeat_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``{field: {"median", "q1", "q3", "n"}}`` over the repeats' rows (None values, e.g.
    ``support_at`` never, are left out and counted in ``never``)."""
    out: dict[str, Any] = {}
    for key in REPEAT_FIELDS:
        vals = [r.get(key) for r in rows if key in r]
        if not vals:
            continue
        num = np.asarray([v for v in vals if v is not None], dtype=np.float64)
        q = np.percentile(num, [50, 25, 75]) if num.size else [None] * 3
        out[key] = {"median": None if q[0] is None else float(q[0]),
                    "q1": None if q[1] is None else float(q[1]),
                    "q3": None if q[2] is None else float(q[2]),
                    "n": int(num.size), "never": len(vals) - int(num.size)}
    return out


def step_rule(s: SolverConfig, res: SolveResult) -> dict[str, Any]:
    """What the figures and tables need to name a solver's step: ``schedule``,
    ``batch_size`` and, for a decreasing schedule, the first step ``lr0``
    (``lr_k = lr0 / sqrt(k + 1)`` or ``lr0 / (k + 1)``; ``res.lr`` is the last step)."""
    out: dict[str, Any] = {"schedule": s.schedule, "batch_size": s.batch_size}
    if s.schedule != "constant" and res.lr is not None:
        k = int(res.n_iter)
        out["lr0"] = (float(s.lr) if s.lr != "auto" else float(res.lr) * (
            float(np.sqrt(k + 1)) if s.schedule == "inv_sqrt" else float(k + 1)))
    return out


def repeat_problem(config: Config, st: Setup, backend: Local, r: int, seed: int) -> Setup:
    """``repeat_data: true``: repeat ``r``'s problem, the synthetic data drawn again with
    ``data.seed = seed``, alpha resolved on it and its own float64 reference (built once,
    shared by every solver's repeat ``r``)."""
    if r not in st.repeat_setups:
        cfg = config.model_copy(update={"data": config.data.model_copy(update={"seed": seed})})
        rs = setup(cfg, backend)
        obj = cfg.objective
        ref = backend.reference(rs.X64, rs.y64, rs.alphas[-1], float(obj.l1_ratio),
                                obj.fit_intercept, quiet, objective=rs.problem(cfg))
        rs.reference = ref.coef.cpu()
        st.repeat_setups[r] = rs
    return st.repeat_setups[r]


def run_repeats(config: Config, st: Setup, backend: Local, which: tuple, first: Any,
             first_acc: dict[str, Any], log: Log) -> list[str]:
    """Repeats 1.. N-1 of a stochastic solver (every solver with ``repeat_data``: then
    each repeat also draws its own synthetic data, :func:`repeat_problem`): its traces as
    ``<label>.repeat<r>``, one row per repeat and their median and quartiles in its
    metrics. Returns the repeats' statuses."""
    i, s, label, idx = which
    obj = config.objective
    seeds = repeat_seeds(config.seed, config.repeats)
    st.metrics["repeats"] = {"n": config.repeats, "seeds": seeds, "spread": SPREAD,
                             "solvers": [*st.metrics.get("repeats", {}).get("solvers", []),
                                         label]}
    if config.repeat_data:
        st.metrics["repeats"]["data"] = "synthetic data drawn again with data.seed = seed"
    rows, statuses = [repeat_row(seeds[0], first, first_acc)], []
    for r, seed in enumerate(seeds[1:], 1):
        rs = repeat_problem(config, st, backend, r, seed) if config.repeat_data else st
        with Phase(f"{label} repeat {r}", s.max_iter, log=log, announce=False,
                   tty=None if backend.rank == 0 else False) as bar:
            res = backend.solve(rs.X, rs.y, rs.alphas[0], float(obj.l1_ratio),
                                **solver_options(s, obj.fit_intercept, seed),
                                record_every=s.record_every, record_coef=idx, callback=bar,
                                **rs.problem(config))
        acc, _ = account(res, idx, rs.alphas[0], rs.reference, rs.beta_true)
        rows.append(repeat_row(seed, res, acc))
        statuses.append(res.status)
        if res.trace is not None:
            st.traces[f"{label}.repeat{r}"] = dict(res.trace)
        if res.status == "interrupted":
            break
    st.metrics["solvers"][label]["repeats"] = rows
    st.metrics["solvers"][label]["repeat_stats"] = repeat_summary(rows)
    return statuses


__all__ = ["REPEAT_FIELDS", "SPREAD", "repeat_row", "repeat_seeds", "repeat_summary",
           "run_repeats", "step_rule"]
