"""Repeated runs (``repeats: N``) as a median with an interquartile band.

A stochastic solver run ``N`` times (:mod:`lasso_torch.experiment.repeats`) has its first
repeat in the trace group ``<label>`` and the others in ``<label>.repeat<r>``. The figures
draw the median over the repeats at every record and shade the 25th-75th percentile band;
a repeat that stopped early (converged) holds its last record to the longest one's end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

SPREAD_TEXT = "median of {n} repeats, band: IQR"


def repeat_groups(traces: Mapping[str, Mapping[str, np.ndarray]], label: str
                  ) -> list[Mapping[str, np.ndarray]]:
    """The trace groups of ``label``'s repeats, the first repeat first (one: no repeats)."""
    out = [traces[label]] if label in traces else []
    r = 1
    while f"{label}.repeat{r}" in traces:
        out.append(traces[f"{label}.repeat{r}"])
        r += 1
    return out


def stacked(groups: list[Mapping[str, np.ndarray]], field: str
            ) -> tuple[np.ndarray, np.ndarray] | None:
    """``(iteration (T,), values (R, T, ...))`` of ``field`` over the repeats, aligned on the
    longest record (a shorter one holds its last value); None when a group lacks it."""
    if not groups or any(field not in g or "iteration" not in g for g in groups):
        return None
    longest = max(groups, key=lambda g: len(g["iteration"]))
    it = np.asarray(longest["iteration"])
    rows = []
    for g in groups:
        v = np.asarray(g[field], dtype=np.float64)
        if len(v) == 0:
            return None
        pad = len(it) - len(v)
        rows.append(np.concatenate([v, np.repeat(v[-1:], pad, axis=0)]) if pad > 0
                    else v[: len(it)])
    return it, np.stack(rows)


def quartiles(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(q1, median, q3)`` over the first axis (NaN-aware)."""
    with np.errstate(all="ignore"):
        q = np.nanpercentile(values, [25, 50, 75], axis=0)
    return q[0], q[1], q[2]


def band(traces: Mapping[str, Mapping[str, np.ndarray]], label: str, field: str
         ) -> dict[str, Any] | None:
    """``{"iteration", "q1", "median", "q3", "n"}`` of a repeated solver's ``field``, or
    None when it has one repeat only."""
    groups = repeat_groups(traces, label)
    if len(groups) < 2:
        return None
    got = stacked(groups, field)
    if got is None:
        return None
    it, v = got
    q1, med, q3 = quartiles(v)
    longest = max(groups, key=lambda g: len(g["iteration"]))
    return {"iteration": it, "q1": q1, "median": med, "q3": q3, "n": len(groups),
            "time": np.asarray(longest.get("time", np.full(len(it), np.nan)))}


__all__ = ["SPREAD_TEXT", "band", "quartiles", "repeat_groups", "stacked"]
