"""The HTML report of one run, or of several side by side: one self-contained file.

``report.html`` holds the run's figures first, inline (base64 PNG, or inline SVG), each
with a caption saying what to look for and alt text; then the metrics of every solver
with its status (the gap column names its certificate; repeated solvers show median
[IQR]), and, when a solver's metrics carry an ``"account"`` (the per-coefficient
account), that account as a table, one row per coefficient with the feature's name; then
the meta and the config. Element ids are prefixed per run (unique in a multi-run report).
Several runs go side by side, one column each, after a table of every config key
whose values differ between them (highlighted). No network reference: no script, no
stylesheet, no image is fetched. The figures are drawn from the run folders (the plots
read runs, never solve).
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError
from .plots import FAMILIES, free_path, read_run, source, style
from .plots.captions import CAPTIONS
from .plots.source import RunData

STATUS_COLORS = {"converged": "#2ca02c", "max_iter": "#e6550d", "stalled": "#e6550d",
                 "diverged": "#d62728", "interrupted": "#7f7f7f"}
CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
tr.diff td{background:#fff3bf;font-weight:600}
.runs{display:grid;gap:1.5em;align-items:start}
.status{color:#fff;border-radius:3px;padding:0 5px}
pre{background:#f7f7f7;padding:.5em;font-size:.85em;overflow:auto}
img,svg{max-width:100%;height:auto}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, dict)):
        return _e(json.dumps(value)[:80])
    return _e("-" if value is None else value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]],
          classes: Sequence[str] | None = None) -> str:
    """An HTML table (cells escaped; floats to 6 significant digits)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        f"<tr{f' class={chr(34)}{classes[i]}{chr(34)}' if classes and classes[i] else ''}>"
        + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>"
        for i, row in enumerate(rows))
    return f"<table><tr>{head}</tr>{body}</table>"


def account_table(account: Any, names: Sequence[str] | None = None) -> str:
    """A per-coefficient account as a table, whatever its shape: ``{field: [values per
    coefficient]}`` (one row per coefficient, named by ``names`` when given; the scalar
    fields, e.g. ``support_at``, in a key/value table before it), ``[{field: value}, ...]``
    (one row per entry) or ``{key: scalar}`` (two columns)."""
    if isinstance(account, Mapping) and account and any(
            isinstance(v, (list, tuple)) for v in account.values()):
        lists = {k: v for k, v in account.items() if isinstance(v, (list, tuple))}
        n = max(len(v) for v in lists.values())
        fields = [f for f in lists if len(lists[f]) == n and f != "coef_index"]
        scalars = [(k, v) for k, v in account.items() if k not in fields]
        index = list(account.get("coef_index") or range(n))
        label = [names[j] if names is not None and j < len(names) else f"x{j}"
                 for j in index]
        rows = [[j, label[i]] + [lists[f][i] for f in fields] for i, j in enumerate(index)]
        head = table(["key", "value"], scalars) if scalars else ""
        return head + table(["j", "feature", *fields], rows)
    if isinstance(account, Sequence) and not isinstance(account, str) and all(
            isinstance(r, Mapping) for r in account):
        fields = list(dict.fromkeys(k for r in account for k in r))
        return table(fields, [[r.get(f) for f in fields] for r in account])
    if isinstance(account, Mapping):
        return table(["key", "value"], list(account.items()))
    return f"<pre>{_e(json.dumps(account, indent=1))}</pre>"


def _status(value: Any) -> str:
    color = STATUS_COLORS.get(str(value), "#555")
    return f'<span class="status" style="background:{color}">{_e(value)}</span>'


HEADERS = {"gap": "relative duality gap (gap / P(0))", "kkt": "KKT violation",
           "n_zeros": "exact zeros", "lr": "step"}


def _repeat_cell(m: Mapping[str, Any], key: str) -> str | None:
    """``median [q1, q3]`` of a repeated solver's field, or None."""
    q = (m.get("repeat_stats") or {}).get(key)
    if not q or q.get("median") is None:
        return None
    return f"{q['median']:.4g} [{q['q1']:.4g}, {q['q3']:.4g}] (median [IQR] of " \
        f"{len(m.get('repeats') or [])})"


def solvers_html(metrics: Mapping[str, Any], names: Sequence[str] | None = None) -> str:
    """The metrics table (one row per solver, status coloured; the gap column says which
    certificate it is: relative duality gap, or the KKT violation of a problem without a
    duality gap), the repeats' medians and spreads, and every account."""
    solvers = metrics.get("solvers", {})
    keys = [k for k in ("n_iter", "time", "objective", "gap", "kkt", "n_zeros", "nnz",
                        "lr", "converged")
            if any(k in m for m in solvers.values())]
    rows = []
    for lab, m in solvers.items():
        cells = []
        for k in keys:
            rep = _repeat_cell(m, k)
            if k == "gap" and m.get("certificate") == "kkt":
                cells.append("KKT " + _cell(m.get("kkt") if m.get("kkt") is not None
                                            else m.get("gap")) + " (no duality gap)")
            elif k == "lr":
                cells.append(_e(style.step_text(m) or "-"))
            else:
                cells.append(_e(rep) if rep else _cell(m.get(k)))
        rows.append([_e(lab), _status(m.get("status"))] + cells)
    head = "".join(f"<th>{_e(h)}</th>" for h in ["solver", "status",
                                                 *[HEADERS.get(k, k) for k in keys]])
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    out = [f"<table><tr>{head}</tr>{body}</table>"]
    reps = metrics.get("repeats")
    if reps:
        out.append(f"<p>Repeats: {reps['n']} runs of each solver with a batch_size, seeds "
                   f"{_e(', '.join(map(str, reps.get('seeds', []))))}; cells with brackets: "
                   f"{_e(reps.get('spread', ''))}; the others: the first repeat.</p>")
    ref = metrics.get("reference")
    if ref:
        out.append("<p>reference: " + ", ".join(f"{_e(k)} = {_cell(v)}"
                                                  for k, v in ref.items()) + "</p>")
    for lab, m in solvers.items():
        if m.get("account") is not None:
            out.append(f"<details><summary>{_e(lab)}: per-coefficient account</summary>"
                       + account_table(m["account"], names) + "</details>")
    return "\n".join(out)


def figure_html(fig: Any, fmt: str = "png", dpi: int = 90, alt: str = "figure") -> str:
    """A figure inline: ``<img alt=... src="data:image/png;base64,...">`` or an ``<svg>``
    element (with a ``<title>`` holding ``alt``)."""
    buf = io.BytesIO()
    with style.context():
        fig.savefig(buf, format=fmt, dpi=dpi)
    if fmt == "svg":
        text = buf.getvalue().decode()
        text = text[text.index("<svg"):]
        head = text.index(">") + 1
        return f'{text[:head]}<title>{_e(alt)}</title>{text[head:]}'
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _figures(run: RunData, fmt: str, prefix: str) -> list[str]:
    out = []
    for kind in FAMILIES:
        fig = source.build(run, kind)
        if fig is not None:
            title = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
            alt = f"{kind} figure of {run.name}: {CAPTIONS[kind]}"
            out.append(f'<figure id="{prefix}fig-{kind}">{figure_html(fig, fmt, alt=alt)}'
                       f"<figcaption><b>{_e(kind)}</b> ({_e(title or run.name)}). "
                       f"{_e(CAPTIONS[kind])}</figcaption></figure>")
    return out


def flat_config(config: Any, prefix: str = "") -> dict[str, Any]:
    """``{"data.n": 200, "solvers.0.kind": "fista", ...}``: dotted keys as ``--set`` takes."""
    if isinstance(config, Mapping):
        items = config.items()
    elif isinstance(config, list):
        items = enumerate(config)
    else:
        return {prefix: config}
    out: dict[str, Any] = {}
    for k, v in items:
        out.update(flat_config(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def config_diff_html(runs: Sequence[RunData]) -> str:
    """Every config key, one column per run; the keys whose values differ highlighted
    (listed first)."""
    flats = [flat_config(r.config) for r in runs]
    keys = list(dict.fromkeys(k for f in flats for k in f))
    missing = object()
    differ = [k for k in keys if len({repr(f.get(k, missing)) for f in flats}) > 1]
    same = [k for k in keys if k not in differ]
    rows = [[k, *[f.get(k, "—") for f in flats]] for k in differ + same]
    classes = ["diff"] * len(differ) + [""] * len(same)
    return (f"<p>{len(differ)} config key(s) differ (highlighted).</p>"
            + table(["key", *[r.path.name for r in runs]], rows, classes))


def _run_column(run: RunData, fmt: str, index: int = 0) -> str:
    """One run: figures first (captions, alt text), then the solver table, the meta and
    the config; every element id prefixed ``run<index>-`` (unique in a multi-run report)."""
    prefix = f"run{index}-"
    meta = {k: run.meta.get(k) for k in ("status", "created", "device", "dtype", "seed")}
    p = int(run.problem.get("p") or 0)
    parts = [f'<h2 id="{prefix}title">{_e(run.path.name)}</h2>',
             f"<p>{_e(source.describe(run))}</p>",
             f'<h3 id="{prefix}figures">figures</h3>', *_figures(run, fmt, prefix),
             f'<h3 id="{prefix}solvers">solvers</h3>',
             solvers_html(run.metrics, source.feature_names(run, p) if p else None),
             table(["meta", "value"], list(meta.items())),
             f'<h3 id="{prefix}config">config</h3>',
             f"<pre>{_e(yaml.safe_dump(run.config, sort_keys=False))}</pre>"]
    return f'<section id="{prefix}section">' + "\n".join(parts) + "</section>"


def report_html(run_dirs: Sequence[str | Path], *, fmt: str = "png") -> str:
    """The report of one or several runs, as one HTML string."""
    if not run_dirs:
        raise InputError("report needs at least one run folder")
    if fmt not in ("png", "svg"):
        raise InputError(f"report figures: {fmt!r}; choose png or svg")
    runs = [read_run(d) for d in run_dirs]
    title = "lasso_torch report: " + ", ".join(r.path.name for r in runs)
    body = [f"<h1>{_e(title)}</h1>"]
    if len(runs) > 1:
        body += ["<h2>config differences</h2>", config_diff_html(runs)]
    body.append(f'<div class="runs" style="grid-template-columns:repeat({len(runs)},1fr)">'
                + "".join(_run_column(r, fmt, i) for i, r in enumerate(runs)) + "</div>")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def report_target(run_dirs: Sequence[str | Path], out: str | Path | None = None) -> Path:
    """Where :func:`write_report` writes: ``out``, by default ``<run>/report.html`` for one
    run and ``<output root>/compare/report.html`` for several. An ``out`` that is an
    existing folder, or ends in ``/``, gets ``report.html`` inside it; any other ``out``
    without ``.html`` gets it appended (``--out summary`` writes ``summary.html``). An
    existing file is never overwritten (``report-2.html``...)."""
    if out is None:
        first = Path(run_dirs[0])
        out = first / "report.html" if len(run_dirs) == 1 else (
            first.parent / "compare" / "report.html")
    elif Path(out).expanduser().is_dir() or str(out).endswith(("/", "\\")):
        out = Path(out).expanduser() / "report.html"
    elif Path(out).suffix.lower() not in (".html", ".htm"):
        out = Path(out).expanduser().with_name(Path(out).name + ".html")
    return free_path(Path(out).expanduser())


def write_report(run_dirs: Sequence[str | Path], out: str | Path | None = None, *,
                 fmt: str = "png") -> Path:
    """Write :func:`report_html` to :func:`report_target` ``(run_dirs, out)``."""
    text = report_html(run_dirs, fmt=fmt)
    target = report_target(run_dirs, out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


__all__ = ["account_table", "config_diff_html", "figure_html", "flat_config",
           "report_html", "report_target", "solvers_html", "table", "write_report"]
