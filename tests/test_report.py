"""The HTML report: it parses, holds every figure, and references nothing on the network."""

from __future__ import annotations

import json
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

import lasso_torch as lt
from lasso_torch import plots, report
from lasso_torch.plots import source

CONFIGS = Path(__file__).parent.parent / "configs"


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data) -> None:
        self.text.append(data)


def _parse(text: str) -> _Collect:
    p = _Collect()
    p.feed(text)
    p.close()
    return p


@pytest.fixture(autouse=True)
def _low_dpi(monkeypatch) -> None:
    monkeypatch.setitem(plots.style.RC, "savefig.bbox", None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    from lasso_torch.experiment import run_config

    root = tmp_path_factory.mktemp("runs")
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lt.ConvergenceWarning)
        for alpha in (0.4, 0.2):
            out.append(run_config(CONFIGS / "two_features_geometry.yaml", {
                "output": str(root), "device": "cpu", "solvers.0.max_iter": 40,
                "objective.alpha.fraction": alpha}).path)
    # a per-coefficient account, as the metrics may carry one per solver
    metrics = json.loads((out[0] / "metrics.json").read_text())
    metrics["solvers"]["ista"]["account"] = {"zero_at": [None, 3], "sign_changes": [0, 1]}
    (out[0] / "metrics.json").write_text(json.dumps(metrics))
    return out


def _no_network(parsed: _Collect) -> None:
    for _, attrs in parsed.tags:
        for key in ("src", "href"):
            value = str(attrs.get(key) or "")
            assert not value.startswith(("http://", "https://", "//")), value


def test_one_run_report(runs) -> None:
    path = report.write_report([runs[0]])
    assert path == runs[0] / "report.html"
    text = path.read_text()
    parsed = _parse(text)
    _no_network(parsed)
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    figures = [a.get("id") for t, a in parsed.tags if t == "figure"]
    run = source.read_run(runs[0])
    expect = [f"run0-fig-{k}" for k in plots.FAMILIES if source.build(run, k) is not None]
    assert figures == expect and "run0-fig-landscape" in figures
    imgs = [a["src"] for t, a in parsed.tags if t == "img"]
    assert len(imgs) == len(expect) and all(s.startswith("data:image/png;base64,")
                                            for s in imgs)
    body = " ".join(parsed.text)
    for lab in ("subgradient", "ista", "fista", "cd"):
        assert lab in body
    assert "converged" in body and "max_iter" in body  # the per-solver status
    assert "per-coefficient account" in body and "zero_at" in body
    assert "two_features_geometry" in body and "standardize" in body  # the config
    assert report.write_report([runs[0]]) == runs[0] / "report-2.html"  # never overwritten


def test_report_of_two_runs_highlights_the_differing_keys(runs, tmp_path) -> None:
    path = report.write_report(runs, tmp_path / "r.html", fmt="svg")
    text = path.read_text()
    parsed = _parse(text)
    _no_network(parsed)
    diff_rows = [i for i, (t, a) in enumerate(parsed.tags) if t == "tr" and a.get("class")
                 == "diff"]
    assert len(diff_rows) == 1  # objective.alpha.fraction only
    assert "objective.alpha.fraction" in text
    assert len([1 for t, _ in parsed.tags if t == "svg"]) >= 2 * 4
    assert len([1 for t, a in parsed.tags if t == "section"]) == 2


def test_account_table_shapes() -> None:
    rows = _parse(report.account_table([{"j": 0, "zero_at": 3}, {"j": 1, "zero_at": None}]))
    assert [t for t, _ in rows.tags].count("tr") == 3
    cols = _parse(report.account_table({"zero_at": [1, 2, 3]}))
    assert [t for t, _ in cols.tags].count("tr") == 4
    with pytest.raises(lt.InputError):
        report.report_html([])


def test_cli_report_and_run_report(runs, tmp_path) -> None:
    from typer.testing import CliRunner

    from lasso_torch.cli import app

    res = CliRunner().invoke(app, ["report", str(runs[1]), "--out", str(tmp_path / "a.html")])
    assert res.exit_code == 0 and "KB)" in res.output
    assert (tmp_path / "a.html").is_file()
    res = CliRunner().invoke(app, ["report", str(tmp_path / "nope")])
    assert res.exit_code == 2
    res = CliRunner().invoke(app, ["run", str(CONFIGS / "two_features_geometry.yaml"),
                                   "--no-plots", "--report", "--set", f"output={tmp_path}",
                                   "--set", "solvers.0.max_iter=20"])
    assert res.exit_code == 0, res.output
    (folder,) = [p for p in tmp_path.iterdir() if p.name.endswith("two_features_geometry")]
    assert (folder / "report.html").is_file() and "report:" in res.output
