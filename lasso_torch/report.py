"""The HTML report of one run, or of several side by side: one self-contained file.

``report.html`` holds the run's figures inline (base64 PNG, or inline SVG), its config,
the metrics of every solver with its status, and, when a solver's metrics carry an
``"account"`` (the per-coefficient account), that account as a table, whatever its
fields. Several runs go side by side, one column each, after a table of every config key
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


def account_table(account: Any) -> str:
    """A per-coefficient account as a table, whatever its shape: ``{field: [values per
    coefficient]}`` (one row per coefficient), ``[{field: value}, ...]`` (one row per
    entry) or ``{key: scalar}`` (two columns)."""
    if isinstance(account, Mapping) and account and all(
            isinstance(v, (list, tuple)) for v in account.values()):
        fields = list(account)
        n = max(len(v) for v in account.values())
        rows = [[j] + [account[f][j] if j < len(account[f]) else None for f in fields]
                for j in range(n)]
        return table(["j", *fields], rows)
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


def solvers_html(metrics: Mapping[str, Any]) -> str:
    """The metrics table (one row per solver, status coloured) and every account."""
    solvers = metrics.get("solvers", {})
    keys = [k for k in ("n_iter", "time", "objective", "gap", "kkt", "n_zeros", "nnz",
                        "lr", "converged")
            if any(k in m for m in solvers.values())]
    rows = [[_e(lab), _status(m.get("status"))] + [_cell(m.get(k)) for k in keys]
            for lab, m in solvers.items()]
    head = "".join(f"<th>{_e(h)}</th>" for h in ["solver", "status", *keys])
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    out = [f"<table><tr>{head}</tr>{body}</table>"]
    ref = metrics.get("reference")
    if ref:
        out.append("<p>reference: " + ", ".join(f"{_e(k)} = {_cell(v)}"
                                                  for k, v in ref.items()) + "</p>")
    for lab, m in solvers.items():
        if m.get("account") is not None:
            out.append(f"<h4>{_e(lab)}: per-coefficient account</h4>"
                       + account_table(m["account"]))
    return "\n".join(out)


def figure_html(fig: Any, fmt: str = "png", dpi: int = 90) -> str:
    """A figure inline: ``<img src="data:image/png;base64,...">`` or an ``<svg>`` element."""
    buf = io.BytesIO()
    with style.context():
        fig.savefig(buf, format=fmt, dpi=dpi)
    if fmt == "svg":
        text = buf.getvalue().decode()
        return text[text.index("<svg"):]
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def _figures(run: RunData, fmt: str) -> list[str]:
    out = []
    for kind in FAMILIES:
        fig = source.build(run, kind)
        if fig is not None:
            out.append(f'<figure id="fig-{kind}"><figcaption>{kind}</figcaption>'
                       f"{figure_html(fig, fmt)}</figure>")
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


def _run_column(run: RunData, fmt: str) -> str:
    meta = {k: run.meta.get(k) for k in ("status", "created", "device", "dtype", "seed")}
    parts = [f"<h2>{_e(run.path.name)}</h2>",
             f"<p>{_e(source.describe(run))}</p>",
             table(["meta", "value"], list(meta.items())),
             "<h3>solvers</h3>", solvers_html(run.metrics),
             "<h3>figures</h3>", *_figures(run, fmt),
             "<h3>config</h3>",
             f"<pre>{_e(yaml.safe_dump(run.config, sort_keys=False))}</pre>"]
    return "<section>" + "\n".join(parts) + "</section>"


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
                + "".join(_run_column(r, fmt) for r in runs) + "</div>")
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
