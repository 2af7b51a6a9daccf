"""``repeats: N``: a comparison with minibatches is a random experiment.

Every solver with a ``batch_size`` (a minibatch order drawn from ``seed``) runs ``N``
times: repeat 0 with the config's ``seed`` (it is the run's main record, exactly the run
without repeats), repeat ``r`` with a seed derived from ``(seed, r)``
(:func:`repeat_seeds`, recorded in ``metrics["repeats"]["seeds"]``). Deterministic solvers
run once. Each repeat's traces are the group ``<label>.repeat<r>``; its numbers a row of
``metrics["solvers"][label]["repeats"]``, summarized as median and quartiles
(``repeat_stats``; the spread is stated in ``metrics["repeats"]["spread"]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..solve import SolveResult
from .record import summary


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


__all__ = ["REPEAT_FIELDS", "SPREAD", "repeat_row", "repeat_seeds", "repeat_summary"]
