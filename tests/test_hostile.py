"""Nothing lost, nothing silent (issue 26): failing solvers, hostile import paths, the
report's file name, one clock, reserved labels, duplicate YAML keys, expanded aliases,
sweep points keyed by their data, memory estimates. Each case is written for the test."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from lasso_torch import InputError
from lasso_torch.account import coefficient_account, support_final_at
from lasso_torch.cli import app
from lasso_torch.experiment import run_config
from lasso_torch.report import report_target
from lasso_torch.runs import RunWriter, list_runs, load_run

DATA = {"kind": "synthetic", "n": 25, "p": 5}


class RaisesInInit(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1):
        raise ArithmeticError("this optimizer refuses to start")


class RaisesAtStep3(torch.optim.SGD):
    def __init__(self, params, lr=0.01):
        super().__init__(params, lr=lr)
        self.k = 0

    def step(self, closure=None):
        self.k += 1
        if self.k == 3:
            raise LookupError("no step three")
        return super().step(closure)


class NaNFromTheStart(torch.optim.SGD):
    """Every parameter NaN after its first step: NaN at the first recorded check."""

    def step(self, closure=None):
        out = super().step(closure)
        with torch.no_grad():
            for g in self.param_groups:
                for p in g["params"]:
                    p.fill_(float("nan"))
        return out


def _cfg(tmp_path: Path, *solvers: dict) -> dict:
    return {"name": "h", "output": str(tmp_path / "runs"), "data": DATA,
            "solvers": list(solvers)}


def test_a_raising_optimizer_is_recorded_failed_and_the_others_run(tmp_path):
    me = __name__
    cfg = _cfg(tmp_path, {"kind": f"{me}:RaisesInInit", "label": "init"},
               {"kind": "cd", "label": "cd"},
               {"kind": f"{me}:RaisesAtStep3", "label": "step"},
               {"kind": "fista", "label": "fista"})
    run = run_config(cfg)
    m = run.metrics["solvers"]
    assert run.status == "failed" and list(m) == ["init", "cd", "step", "fista"]
    assert m["init"]["status"] == "failed" and "refuses to start" in m["init"]["error"]
    assert m["step"]["status"] == "failed" and "LookupError: no step three" in m["step"]["error"]
    assert m["cd"]["converged"] and m["fista"]["status"] == "converged"
    assert "init" not in run.traces and "cd" in run.traces
    # the CLI: the run saved, one error line per failed solver, exit status 1
    (tmp_path / "c.yaml").write_text(json.dumps(cfg))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "c.yaml"), "--no-plots"])
    assert res.exit_code == 1, res.output
    assert "error: solver step failed: LookupError: no step three" in res.output
    assert "Traceback" not in res.output and len(list_runs(tmp_path / "runs")) == 2


def test_nan_at_the_first_record_is_diverged_and_the_run_goes_on(tmp_path):
    run = run_config(_cfg(tmp_path, {"kind": f"{__name__}:NaNFromTheStart", "label": "nan",
                                     "record_every": 1, "lr": 0.1},
                          {"kind": "cd", "label": "cd"}))
    assert run.metrics["solvers"]["nan"]["status"] == "diverged"
    assert run.metrics["solvers"]["cd"]["converged"] and run.status == "diverged"
    # the account's own law: a last record that is not finite has no settled support
    it, c = np.array([1, 2]), np.array([[1.0, 0.0], [np.nan, 0.0]])
    assert support_final_at(it, c) is None
    assert coefficient_account(it, c)["support_final_at"] is None


@pytest.mark.parametrize("module,body,expect", [
    ("quits_on_import", "import sys\nsys.exit(0)\n", "SystemExit: 0"),
    ("quits_with_text", "raise SystemExit('bye')\n", "SystemExit: bye"),
    ("raises_on_import", "x = {}['missing']\n", "KeyError: 'missing'"),
    ("fine", "class NotAnOptimizer: pass\n", "not a torch.optim.Optimizer"),
])
def test_import_paths_that_fail_are_one_line_exit_2(tmp_path, monkeypatch, module, body,
                                                    expect):
    (tmp_path / f"{module}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    (tmp_path / "c.yaml").write_text(json.dumps(_cfg(tmp_path, {
        "kind": f"{module}:NotAnOptimizer"})))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "c.yaml"), "--no-plots"])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], lines
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("kind", [".relative:Opt", "..up:Opt", ":Opt", "pkg.mod:"])
def test_relative_or_empty_import_paths_are_refused(tmp_path, kind):
    (tmp_path / "c.yaml").write_text(json.dumps(_cfg(tmp_path, {"kind": kind})))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "c.yaml"), "--no-plots"])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert "absolute import path" in res.output


def test_report_out_names(tmp_path):
    runs = [tmp_path / "a"]
    (tmp_path / "folder").mkdir()
    assert report_target(runs, tmp_path / "folder") == tmp_path / "folder" / "report.html"
    assert report_target(runs, str(tmp_path / "new") + "/") == tmp_path / "new" / "report.html"
    assert report_target(runs, tmp_path / "summary") == tmp_path / "summary.html"
    (tmp_path / "summary.html").write_text("x")
    assert report_target(runs, tmp_path / "summary") == tmp_path / "summary-2.html"
    assert report_target(runs, tmp_path / "r.HTML") == tmp_path / "r.HTML"


def test_folder_names_and_created_use_one_clock(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: a local stamp would differ
    import time

    time.tzset()
    try:
        w = RunWriter(tmp_path, "clock", {})
        created = datetime.fromisoformat(w.created)
        assert created.utcoffset() == timezone.utc.utcoffset(None)
        assert w.stamp == created.strftime("%Y%m%d-%H%M%S")
        path = w.finish({"status": "complete"}, {}, {})
        assert path.name.startswith(w.stamp) and load_run(path).meta["created"] == w.created
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_load_run_names_a_special_file(tmp_path):
    import os

    w = RunWriter(tmp_path, "x", {})
    path = w.finish({"status": "complete"}, {}, {})
    (path / "metrics.json").unlink()
    os.mkfifo(path / "metrics.json")
    with pytest.raises(InputError, match="metrics.json: a FIFO"):
        load_run(path)


def test_reserved_labels_are_refused(tmp_path):
    for label in ("reference", "problem", "path", "geometry", "cd.account"):
        with pytest.raises(InputError, match=f"solvers.1.label: '{label}' is reserved"):
            run_config(_cfg(tmp_path, {"kind": "cd"}, {"kind": "fista", "label": label}))
    assert not (tmp_path / "runs").exists()


def test_duplicate_keys_are_refused_merges_are_not(tmp_path):
    from lasso_torch.experiment.load import load_config

    (tmp_path / "d.yaml").write_text("name: d\nsolvers: [{kind: cd}]\ndata:\n  kind: synthetic\n"
                                     "  p: 3\n  n: 20\n  p: 7\n")
    with pytest.raises(InputError, match=r"d.yaml: key 'p' written twice \(lines 5 and 7\)"):
        load_config(tmp_path / "d.yaml")
    (tmp_path / "m.yaml").write_text("name: m\nsolvers: [{kind: cd}]\nx: &x {kind: synthetic, "
                                     "n: 20, p: 3}\n")
    m = "name: m\nsolvers: [{kind: cd}]\ndata: {<<: {kind: synthetic, n: 20, p: 3}, p: 4}\n"
    (tmp_path / "m.yaml").write_text(m)
    assert load_config(tmp_path / "m.yaml").data.p == 4  # a merge's key may be overridden
    with pytest.raises(InputError, match="--set data: cannot read the value .*twice"):
        load_config(tmp_path / "m.yaml", ["data={n: 3, n: 4}"])


def test_expanded_aliases_are_capped_and_errors_are_bounded(tmp_path):
    from lasso_torch.experiment.load import load_config

    rows = ["w: &w0 [" + ", ".join(["abcdefgh"] * 12) + "]"]
    rows += [f"w{k}: &w{k} [" + ", ".join([f"*w{k - 1}"] * 12) + "]" for k in range(1, 7)]
    (tmp_path / "bomb.yaml").write_text("\n".join(rows) + "\nname: b\n")
    assert (tmp_path / "bomb.yaml").stat().st_size < 2000
    with pytest.raises(InputError, match="expands to over") as e:
        load_config(tmp_path / "bomb.yaml")
    assert len(str(e.value)) < 300
    # under the cap, but an error that would quote the whole expanded list is bounded
    (tmp_path / "s.yaml").write_text("name: s\nsolvers: [{kind: cd}]\nsweep: {data.n: [[" +
                                     ", ".join(["123456"] * 3000) + "]]}\n")
    with pytest.raises(InputError) as e:
        run_config(tmp_path / "s.yaml")
    assert "sweep point" in str(e.value) and len(str(e.value)) <= 500
    res = CliRunner().invoke(app, ["run", str(tmp_path / "s.yaml"), "--set",
                                   "name=" + "x" * 5000])
    assert res.exit_code == 2 and len(res.output) < 700, res.output


def test_a_sweep_point_is_keyed_by_its_data_content(tmp_path):
    rng = np.random.default_rng(3)
    data = tmp_path / "d.csv"

    def write(seed_shift: float) -> None:
        X = rng.normal(size=(20, 3))
        y = X @ [1.0, 0.0, -2.0] + seed_shift
        np.savetxt(data, np.column_stack([X, y]), delimiter=",", header="a,b,c,y",
                   comments="")

    write(0.0)
    cfg = {"name": "sw", "output": str(tmp_path / "runs"), "data": {
        "kind": "csv", "path": str(data), "target": "y"}, "solvers": [{"kind": "cd"}],
        "sweep": {"objective.alpha": [{"fraction": 0.5}, {"fraction": 0.1}]}}
    first = run_config(cfg)
    again = run_config(cfg)
    assert all(r.skipped for r in again)  # same content: done already
    write(5.0)  # the same path, other numbers
    changed = run_config(cfg)
    assert not any(r.skipped for r in changed)
    assert [r.meta["config_hash"] for r in changed] != [r.meta["config_hash"] for r in first]


def test_data_errors_quote_a_bounded_excerpt_and_never_special_files(tmp_path, monkeypatch):
    import os

    from lasso_torch.data import load_csv

    secret = "TOKEN=" + "s3cr3t" * 500
    (tmp_path / "one_line.txt").write_text(secret + "\n" + secret + "\n")
    with pytest.raises(InputError) as e:
        load_csv(tmp_path / "one_line.txt", "y")
    assert "s3cr3t" * 4 not in str(e.value) and len(str(e.value)) < 200
    (tmp_path / "cells.csv").write_text("a,y\n1,2\n" + secret + ",3\n")
    with pytest.raises(InputError, match="line 3: non-numeric value") as e:
        load_csv(tmp_path / "cells.csv", "y")
    assert "s3cr3t" * 4 not in str(e.value)
    monkeypatch.setenv("LT_TEST_SECRET", "do-not-print-me")
    os.mkfifo(tmp_path / "pipe.csv")
    for path, what in (("/proc/self/environ", "kernel generates"), (tmp_path / "pipe.csv",
                                                                  "a FIFO")):
        with pytest.raises(InputError, match=what) as e:
            load_csv(path, "y")
        assert "do-not-print-me" not in str(e.value) and "PATH" not in str(e.value)
    cfg = _cfg(tmp_path, {"kind": "cd"})
    cfg["data"] = {"kind": "npz", "path": str(tmp_path / "pipe.csv")}
    with pytest.raises(InputError, match="is a FIFO"):
        run_config(cfg)
    cfg["data"] = {"kind": "synthetic", "n": 20, "p": 3, "sample_weight": {
        "file": "/proc/self/environ"}}
    with pytest.raises(InputError, match="kernel generates") as e:
        run_config(cfg)
    assert "do-not-print-me" not in str(e.value)


def test_memory_is_estimated_and_refused_before_allocating(tmp_path):
    from lasso_torch.experiment import validate
    from lasso_torch.experiment.resources import check_memory, estimate, shape

    cfg = validate({"name": "m", "data": {"kind": "synthetic", "n": 2_000_000, "p": 1000}})
    data, work = estimate(cfg, 2_000_000, 1000)
    assert data == 2 * 8 * 2_000_000 * 1000 and work >= 8 * 1000 * 1000
    with pytest.raises(InputError, match=r"n=2,000,000 x p=1,000 needs about 32\.\d* GB .*"
                       r"more than the 1 GB of memory available"):
        check_memory(cfg, free=10**9)
    assert check_memory(cfg, free=10**12) == data + work
    assert shape(cfg, world=3) == (666_667, 1000)  # this process's share of the rows
    np.savez(tmp_path / "d.npz", X=np.zeros((7, 3)), y=np.zeros(7))
    npz = validate({"name": "m", "data": {"kind": "npz", "path": str(tmp_path / "d.npz")}})
    assert shape(npz) == (7, 3)
    # the CLI: one line naming the estimate, at once (nothing generated)
    (tmp_path / "c.yaml").write_text(json.dumps(_cfg(tmp_path, {"kind": "cd"})))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "c.yaml"), "--set",
                                   "data.n=1000000000000", "--set", "data.p=1000"])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert "needs about" in res.output and "available" in res.output
    assert not (tmp_path / "runs").exists()


def test_plot_never_overwrites_unless_forced(tmp_path):
    import hashlib

    run = run_config(_cfg(tmp_path, {"kind": "cd", "record_every": 1}))
    figs = run.path / "figures"
    res = CliRunner().invoke(app, ["plot", str(run.path), "--kind", "sparsity"])
    assert res.exit_code == 0 and (figs / "sparsity.png").is_file(), res.output
    first = hashlib.sha256((figs / "sparsity.png").read_bytes()).hexdigest()
    (figs / "sparsity.png").write_bytes(b"mine")  # a figure the user edited
    res = CliRunner().invoke(app, ["plot", str(run.path), "--kind", "sparsity"])
    assert res.exit_code == 0 and "sparsity-2.png" in res.output
    assert (figs / "sparsity.png").read_bytes() == b"mine"
    assert hashlib.sha256((figs / "sparsity-2.png").read_bytes()).hexdigest() == first
    res = CliRunner().invoke(app, ["plot", str(run.path), "--kind", "sparsity", "--force"])
    assert res.exit_code == 0 and "sparsity.png" in res.output
    assert (figs / "sparsity.png").read_bytes() != b"mine"
    assert not (figs / "sparsity-3.png").exists()


@pytest.mark.parametrize("old", ["config", "runner", "distributed_runner"])
def test_the_compatibility_shims_are_gone(old):
    import lasso_torch

    root = Path(lasso_torch.__file__).parent
    assert not (root / f"{old}.py").exists()
    import re

    pattern = re.compile(rf"lasso_torch\.{old}\b|^from \.{old} import", re.M)
    files = [*root.glob("*.py"), *root.parent.joinpath("tests").glob("*.py"),
             root.parent / "README.md"]  # experiment/ has its own config module
    users = [f.name for f in files if f != Path(__file__) and pattern.search(f.read_text())]
    assert not users


def test_list_and_clean_never_block_on_a_leftover_owner_fifo(tmp_path):
    import os

    run_config(_cfg(tmp_path, {"kind": "cd"}))
    tmp = tmp_path / "runs" / ".tmp-20000101-000000-x-deadbeef"
    tmp.mkdir()
    os.mkfifo(tmp / "owner.json")
    os.utime(tmp, (1, 1))  # old: not a run starting now
    res = CliRunner().invoke(app, ["list", "-o", str(tmp_path / "runs")])
    assert res.exit_code == 0 and "complete" in res.output and ".tmp-2000" in res.output
    res = CliRunner().invoke(app, ["clean", "-o", str(tmp_path / "runs")])
    assert res.exit_code == 0 and "removed" in res.output and not tmp.exists()
