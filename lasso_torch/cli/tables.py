"""The tables the commands print: a run's solvers (with their support columns), the runs
under an output root, the config keys that differ between runs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from ..errors import InputError
from .common import one_line

SOLVER_HEADERS = ("solver", "status", "iters", "time [s]", "objective", "P - P*",
                  "rel gap | KKT", "zeros", "nnz", "support at")
SCORE_HEADERS = ("precision", "recall")  # against the true coefficients (synthetic data)
LIST_HEADERS = ("run", "created (UTC)", "status", "n", "p", "objective", "alpha", "solvers",
                "best gap")


def fmt(value: Any, spec: str = ".3e") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else format(value, spec)
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1) -> str:
    """A plain fixed-width table (the first ``left`` columns left-aligned, the rest right)."""
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for k, row in enumerate(cells):
        parts = [c.ljust(w) if i < left else c.rjust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def has_scores(metrics: dict[str, Any]) -> bool:
    """Whether a run knows its true coefficients (precision / recall were recorded)."""
    return any("precision" in (m.get("account") or {})
               for m in (metrics.get("solvers") or {}).values())


def _support(m: dict[str, Any], scores: bool) -> list[str]:
    """``support at`` (the iteration from which the signs are the solution's; ``never``),
    then precision and recall if ``scores``."""
    acc = m.get("account") or {}
    at = fmt(acc["support_at"]) if acc.get("support_at") is not None else (
        "never" if "support_at" in acc else "-")
    return [at] + ([fmt(acc.get("precision"), ".2f"), fmt(acc.get("recall"), ".2f")]
                   if scores else [])


def certificate_cell(m: dict[str, Any]) -> str:
    """The certificate a solver carries: its relative duality gap, or ``KKT 1.2e-09``
    where the problem has no duality gap (MCP, SCAD: ``certificate`` is ``kkt``)."""
    if m.get("certificate") == "kkt":
        value = m.get("gap") if m.get("kkt") is None else m.get("kkt")
        return "KKT " + fmt(value, ".2e")
    return fmt(m.get("gap"), ".2e")


def _spread(stats: dict[str, Any], key: str, spec: str, fallback: str) -> str:
    """``median [q1, q3]`` of a repeated solver's field (``repeat_stats``), else
    ``fallback``; ``never`` counted for support_at."""
    q = stats.get(key)
    if not q:
        return fallback
    if q.get("median") is None:
        return "never" if q.get("never") else "-"
    text = (f"{format(q['median'], spec)} [{format(q['q1'], spec)}, "
            f"{format(q['q3'], spec)}]")
    return text + (f" ({q['never']} never)" if q.get("never") else "")


def solver_rows(metrics: dict[str, Any], scores: bool = False) -> list[list[str]]:
    """One row per solver of a run's metrics, then the reference (``scores``: with the
    precision and recall columns)."""
    ref = metrics.get("reference") or {}
    p_star = ref.get("objective")
    rows = []
    for label, m in metrics.get("solvers", {}).items():
        obj = m.get("objective")
        sub = obj - p_star if obj is not None and p_star is not None else None
        row = [label, m.get("status"), fmt(m.get("n_iter")), fmt(m.get("time"), ".3f"),
               fmt(obj, ".10g"), fmt(sub, ".2e"), certificate_cell(m),
               fmt(m.get("n_zeros")), fmt(m.get("nnz")), *_support(m, scores)]
        stats = m.get("repeat_stats")
        if stats:  # repeats: median [q1, q3] over the seeds
            row[0] = f"{label} (x{len(m.get('repeats') or [])})"
            row[6] = _spread(stats, "gap", ".2e", row[6])
            row[7] = _spread(stats, "n_zeros", ".0f", row[7])
            row[9] = _spread(stats, "support_at", ".0f", row[9])
            if scores:
                row[10] = _spread(stats, "precision", ".2f", row[10])
                row[11] = _spread(stats, "recall", ".2f", row[11])
        rows.append(row)
    if ref:  # a reference that did not converge shows its status and no P*
        reached = ref.get("objective", ref.get("objective_reached"))
        status = "" if ref.get("converged", True) else ref.get("status", "not converged")
        rows.append([f"reference ({ref.get('solver', '?')})", status, "", "",
                     fmt(reached, ".10g"), "", fmt(ref.get("gap"), ".2e"),
                     fmt(ref.get("n_zeros")), fmt(ref.get("nnz")), "",
                     *([fmt(ref.get("precision"), ".2f"), fmt(ref.get("recall"), ".2f")]
                       if scores else [])])
    return rows


def solver_table(runs: Sequence[Any], with_run: bool) -> str:
    """The solvers of one or several runs (``with_run``: a first column names the run)."""
    scores = any(has_scores(r.metrics) for r in runs)
    headers = (("run",) if with_run else ()) + SOLVER_HEADERS + (SCORE_HEADERS if scores else ())
    rows = [([r.path.name] if with_run else []) + row
            for r in runs for row in solver_rows(r.metrics, scores)]
    table = format_table(headers, rows, left=3 if with_run else 2)
    if with_run and any(r.metrics.get("repeats") for r in runs):
        table += ("\n(xN): median [25th, 75th percentile] over N repeats (seeds in "
                  "metrics.json); the other columns: the first repeat")
    return table


def _alpha_text(pb: dict[str, Any]) -> str:
    alpha, amax = pb.get("alpha"), pb.get("alpha_max")
    if alpha:
        rel = f" = {alpha / amax:.3g} alpha_max" if amax else ""
        return f"alpha {alpha:.4g}{rel}"
    return f"path of {len(pb.get('alphas') or [])} alphas"


def print_run(run: Any) -> None:
    """A run's headline and its solver table."""
    pb = run.metrics.get("problem") or {}
    typer.echo(f"\n{run.path.name}: {pb.get('kind')}, n={pb.get('n')}, p={pb.get('p')}, "
               f"{_alpha_text(pb)}, status {run.status}")
    typer.echo(solver_table([run], with_run=False))
    reps = run.metrics.get("repeats")
    if reps:
        typer.echo(f"(x{reps['n']}): {reps.get('spread', 'median [q1, q3]')} (seeds "
                   f"{', '.join(map(str, reps.get('seeds', [])))}); the other columns: the "
                   "first repeat (the config's seed)")
    cv = pb.get("cv") or {}
    if cv.get("alpha_1se") is not None:
        typer.echo(f"cross-validation: alpha_min {fmt(cv.get('alpha'), '.4g')} (minimum mean "
                   f"error), alpha_1se {fmt(cv['alpha_1se'], '.4g')} (largest alpha within "
                   "one standard error of it: the 1-SE rule)")
    ref = run.metrics.get("reference") or {}
    if ref and not ref.get("converged", True):
        typer.echo(f"the reference did not converge ({ref.get('status')}, relative gap "
                   f"{fmt(ref.get('gap'), '.2e')}): P - P* is not known")


def list_row(folder: Path) -> tuple[list[str], str | None]:
    """A run's row of ``list``, and the reason it is unreadable (None if it is not)."""
    from ..runs import load_run

    try:
        r = load_run(folder, traces=False)
    except (InputError, OSError) as e:
        return [folder.name, "?", "unreadable", *["-"] * 6], one_line(e)
    pb = r.metrics.get("problem") or {}
    gaps = [m.get("gap") for m in r.metrics.get("solvers", {}).values()
            if m.get("gap") is not None]
    ratio = pb.get("l1_ratio")
    objective = str(pb.get("kind", "?")) + (f" {ratio:g}" if pb.get("kind") == "elasticnet"
                                            and ratio is not None else "")
    if pb.get("cv"):
        alpha = f"{fmt(pb.get('alpha'), '.3g')} (cv)"
    elif pb.get("alpha") is None and pb.get("alphas"):
        alpha = f"path of {len(pb['alphas'])}"
    else:
        alpha = fmt(pb.get("alpha"), ".3g")
    return [folder.name, str(r.meta.get("created", "?"))[:19].replace("T", " "), r.status,
            fmt(pb.get("n")), fmt(pb.get("p")), objective, alpha, ",".join(r.solvers),
            fmt(min(gaps) if gaps else None, ".2e")], None


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    """A config as ``{dotted key: value}`` (lists of mappings by index)."""
    if isinstance(d, dict):
        items = d.items()
    elif isinstance(d, list) and any(isinstance(v, (dict, list)) for v in d):
        items = ((str(i), v) for i, v in enumerate(d))
    else:
        return {prefix: d}
    out: dict[str, Any] = {}
    for k, v in items:
        out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def config_differences(configs: Sequence[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """The dotted config keys whose values differ between runs (``name`` and ``output``
    aside), with each run's value (None where a run has no such key)."""
    flats = [_flat(c) for c in configs]
    keys = sorted({k for f in flats for k in f} - {"name", "output"})
    return [(k, [f.get(k) for f in flats]) for k in keys
            if len({repr(f.get(k)) for f in flats}) > 1]


def _short(value: Any) -> str:
    text = "-" if value is None else one_line(value)
    return text if len(text) <= 40 else text[:37] + "..."


def print_differences(loaded: Sequence[Any]) -> None:
    """The config keys that differ between several runs, a column per run."""
    if len(loaded) < 2:
        return
    diffs = config_differences([r.config for r in loaded])
    if not diffs:
        typer.echo("\nconfigs: identical (name and output aside)")
        return
    names = [r.path.name for r in loaded]
    typer.echo("\nconfig keys that differ:")
    typer.echo(format_table(("key", *names), [[k, *map(_short, vals)] for k, vals in diffs]))


__all__ = ["LIST_HEADERS", "SCORE_HEADERS", "SOLVER_HEADERS", "config_differences", "fmt",
           "format_table", "has_scores", "list_row", "print_differences", "print_run",
           "solver_rows", "solver_table"]
