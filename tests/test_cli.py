"""The ``lasso-torch`` CLI end to end, in subprocesses.

Every bad-input case of the issue runs the CLI's entry point in its own process (forked
from one driver process that imported the package once, so the suite pays torch's import
once instead of twenty times) and checks: exit status 2 for user errors, one line naming
the key/file/value, no ``Traceback``, and the earlier run in the output root
byte-identical afterwards. The demo (through the installed ``lasso-torch`` script) and
Ctrl-C (``python -m lasso_torch.cli`` and a real SIGINT) run in fresh interpreters.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from lasso_torch import data as lt_data
from lasso_torch.cli import app, format_table
from lasso_torch.experiment import run_config
from lasso_torch.runs import list_runs, load_run

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "lasso_torch.cli"]
SCRIPT = Path(sys.executable).with_name("lasso-torch")

BASE = """\
name: t
data: {kind: synthetic, n: 40, p: 6, correlation: 0.5, density: 0.3}
objective: {alpha: {fraction: 0.2}}
solvers:
  - {kind: fista, max_iter: 300}
  - {kind: cd, max_iter: 100}
output: runs
"""


def _csv(path: Path, text: str) -> str:
    path.write_text(text)
    return f"--set=data={{kind: csv, path: {path.name}, target: y}}"


def _npz_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, X=np.ones((5, 2)), y=np.arange(5.0))
    return buf.getvalue()


def _npz(path: Path, **arrays) -> str:
    np.savez(path, **arrays)
    return f"--set=data={{kind: npz, path: {path.name}}}"


def _stamped_folders(d: Path) -> str:
    """Folders named like the run's destination for the next minute (collisions)."""
    now = datetime.now()
    for s in range(-2, 90):
        f = d / "runs" / f"{(now + timedelta(seconds=s)).strftime('%Y%m%d-%H%M%S')}-t"
        f.mkdir(parents=True, exist_ok=True)
        (f / "keep.txt").write_text(f"earlier work {s}")
    return "--no-plots"


def _file(path: Path, data: bytes, config: bool = False) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"CONFIG={path.name}" if config else f"--set=data={{kind: npz, path: {path.name}}}"


def _scaled_npz(d: Path, name: str, scale: float) -> list[str]:
    X, y, _ = lt_data.make_synthetic(40, 6, 0.5, 0.3, 3.0, 0)
    np.savez(d / name, X=X.numpy() * scale, y=y.numpy())
    return [f"--set=data={{kind: npz, path: {name}}}", "--set", "objective.standardize=false",
            "--no-plots"]


def _subdir_config(d: Path, data_path: str) -> str:
    """A config in sub/ whose relative data path must be read from sub/."""
    (d / "sub").mkdir(exist_ok=True)
    (d / "sub" / "d.csv").write_text("a,b,y\n1,2,3\n4,5,7\n7,8,8\n2,1,0\n")
    (d / "sub" / "c.yaml").write_text(BASE.replace(
        "output: runs", f"output: runs\ndata: {{kind: csv, path: {data_path}, target: y}}"
    ).replace("data: {kind: synthetic, n: 40, p: 6, correlation: 0.5, density: 0.3}\n", ""))
    return "CONFIG=sub/c.yaml"


# name -> (setup(dir) -> extra args | args list, expected exit status, substrings of stderr)
CASES = {
    "unknown_key": (lambda d: ["--set=objective.alpah=0.1"], 2,
                    ["objective.alpah", "did you mean 'alpha'"]),
    "wrong_type": (lambda d: ["--set", "data.n=many"], 2, ["data.n", "'many'"]),
    "negative_alpha": (lambda d: ["--set", "objective.alpha=-0.5"], 2,
                       ["objective.alpha", "-0.5", "greater than 0"]),
    "l1_ratio_range": (lambda d: ["--set", "objective.kind=elasticnet",
                                  "--set", "objective.l1_ratio=1.5"], 2,
                       ["objective.l1_ratio", "1.5"]),
    "lr_not_positive": (lambda d: ["--set", "solvers.0.lr=0"], 2, ["solvers.0.lr", "got 0"]),
    "max_iter_zero": (lambda d: ["--set", "solvers.1.max_iter=0"], 2,
                      ["solvers.1.max_iter", "got 0"]),
    "missing_config": (lambda d: ["CONFIG=nope.yaml"], 2, ["config file not found", "nope.yaml"]),
    "missing_data": (lambda d: ["--set=data={kind: csv, path: missing.csv, target: y}"], 2,
                     ["data file not found", "missing.csv"]),
    "malformed_yaml": (lambda d: ["CONFIG=bad.yaml"], 2, ["bad.yaml", "malformed YAML", "line 4"]),
    "nan_in_data": (lambda d: [_csv(d / "nan.csv", "a,b,y\n1,2,3\n4,nan,6\n7,8,9\n")], 2,
                    ["nan.csv", "NaN/inf", "index (1, 1)"]),
    "inf_in_data": (lambda d: [_npz(d / "inf.npz", X=np.array([[1.0, np.inf], [2, 3], [4, 5]]),
                                    y=np.ones(3))], 2, ["inf.npz", "NaN/inf"]),
    "row_mismatch": (lambda d: [_npz(d / "rows.npz", X=np.ones((5, 2)), y=np.ones(4))], 2,
                     ["rows.npz", "5 rows but y has 4"]),
    "zero_rows": (lambda d: [_csv(d / "empty.csv", "a,b,y\n")], 2, ["empty.csv", "zero rows"]),
    "zero_features": (lambda d: [_csv(d / "nofeat.csv", "y\n1\n2\n")], 2,
                      ["nofeat.csv", "zero features"]),
    "cuda_without_cuda": (lambda d: ["--set", "device=cuda"], 2,
                          ["device", "'cuda'", "CUDA is not available"]),
    "output_is_a_file": (lambda d: ((d / "afile").write_text("x"), ["--set", "output=afile"])[1],
                         2, ["afile", "is not a folder"]),
    "diverging_step": (lambda d: ["--no-plots", "--set", "solvers.0.kind=ista", "--set",
                                  "solvers.0.lr=1000", "--set", "solvers.0.record_every=1"],
                       0, ["warning: ista: diverged"]),
    "max_iter_reached": (lambda d: ["--no-plots", "--set", "solvers.0.max_iter=2",
                                    "--set", "solvers.0.tol=1e-14"], 0,
                         ["warning: fista: max_iter after 2 iterations; relative duality gap"]),
    "existing_output_folder": (lambda d: [_stamped_folders(d)], 0, []),
}
# the cases (after the time-sensitive ones above)
CASES.update({
    "config_not_utf8": (lambda d: [_file(d / "latin.yaml", "name: caf\xe9\n".encode("latin-1"),
                                         True)], 2, ["latin.yaml", "not UTF-8", "line 1"]),
    "config_random_bytes": (lambda d: [_file(d / "rnd.yaml", bytes(range(256)) * 3, True)], 2,
                            ["rnd.yaml", "not UTF-8"]),
    "config_is_a_folder": (lambda d: ((d / "cfgdir").mkdir(), ["CONFIG=cfgdir"])[1], 2,
                           ["cfgdir is a folder", "give the config file"]),
    "seed_overflow": (lambda d: ["--set", "seed=100000000000000000000"], 2,
                      ["--set seed=100000000000000000000: seed:", "less than or equal"]),
    "npz_truncated": (lambda d: [_file(d / "trunc.npz", _npz_bytes()[:150])], 2,
                      ["trunc.npz", "not a readable .npz"]),
    "npz_is_text": (lambda d: [_file(d / "text.npz", b"1,2,3\n4,5,6\n")], 2,
                    ["text.npz", "not a zip archive"]),
    "npz_empty": (lambda d: [_file(d / "empty.npz", b"")], 2, ["empty.npz", "file is empty"]),
    "npz_complex": (lambda d: [_npz(d / "cplx.npz", X=np.ones((4, 2)) * (1 + 1j),
                                    y=np.ones(4))], 2, ["cplx.npz", "'X' is complex"]),
    "npz_overflow": (lambda d: _scaled_npz(d, "huge.npz", 1e200), 2,
                     ["huge.npz", "X has values up to", "overflow float64"]),
    "one_sample": (lambda d: [_csv(d / "one.csv", "a,b,y\n1,2,3\n")], 2,
                   ["1 sample", "at least 2 samples"]),
    "relative_path_missing": (lambda d: [_subdir_config(d, "nope.csv")], 2,
                              ["sub/c.yaml: data.path 'nope.csv': data file not found:",
                               "/sub/nope.csv", "relative to the config's folder"]),
    "set_path_missing": (lambda d: ["--set", "data.path=nope.npz", "--set", "data.kind=npz"], 2,
                         ["--set data.path=nope.npz", "data file not found", "relative to the "
                          "current folder"]),
    "dangling_output": (lambda d: ((d / "gone").symlink_to(d / "nowhere"),
                                   ["--set", "output=gone"])[1], 2,
                        ["gone is a symbolic link to", "nowhere, which does not exist"]),
    "relative_path_ok": (lambda d: [_subdir_config(d, "d.csv"), "--no-plots"], 0, []),
    "output_option": (lambda d: ["--output", "elsewhere", "--no-plots"], 0, []),
})


@dataclass
class Result:
    dir: Path
    rc: int
    out: str
    err: str
    before: dict[str, str]
    after: dict[str, str]


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> Path:
    """An earlier run folder, copied into each case's output root."""
    root = tmp_path_factory.mktemp("earlier")
    run = run_config({"name": "earlier", "output": str(root / "runs"),
                      "data": {"kind": "synthetic", "n": 30, "p": 4},
                      "solvers": [{"kind": "cd", "record_every": 1}]})
    return run.path


# One subprocess imports the package once, then forks one child per case; each child runs
# the CLI's real entry point (``lasso_torch.cli.main``, what ``python -m lasso_torch.cli``
# and the console script call) in the case's folder with its own stdout/stderr and exit
# status. Uncaught exceptions print a traceback there, as they would from a shell.
DRIVER = r"""
import json, os, sys, traceback
import lasso_torch.cli as cli
import lasso_torch.experiment.run  # noqa: F401 (loaded once, before forking)
import torch._dynamo  # noqa: F401 (torch.optim.Optimizer imports it on first use: seconds)

cases = json.loads(sys.argv[1])
codes = {}
for name, (cwd, argv) in cases.items():
    pid = os.fork()
    if pid == 0:
        os.chdir(cwd)
        out = os.open("stdout.txt", os.O_WRONLY | os.O_CREAT)
        err = os.open("stderr.txt", os.O_WRONLY | os.O_CREAT)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.argv = ["lasso-torch", *argv]
        code = 0
        try:
            cli.main()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    codes[name] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
print(json.dumps(codes))
"""

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def results(tmp_path_factory, earlier) -> dict[str, Result]:
    cases, dirs = {}, {}
    for name, (setup, _, _) in CASES.items():
        d = tmp_path_factory.mktemp(name)
        shutil.copytree(earlier.parent, d / "runs")
        (d / "c.yaml").write_text(BASE)
        (d / "bad.yaml").write_text("name: t\ndata:\n  kind: synthetic\n   n: 3\n")
        args = setup(d)
        config = next((a[7:] for a in args if a.startswith("CONFIG=")), "c.yaml")
        args = [a for a in args if not a.startswith("CONFIG=")]
        dirs[name] = (d, _snapshot(d / "runs" / earlier.name))
        cases[name] = (str(d), ["run", config, *args])
    # two fresh interpreters run alongside the driver: the demo through the installed
    # console script, and a long run through ``python -m lasso_torch.cli`` that gets a
    # real SIGINT in the middle of its second solver
    demo_dir, stop_dir = tmp_path_factory.mktemp("demo"), tmp_path_factory.mktemp("ctrl_c")
    for d in (demo_dir, stop_dir):
        shutil.copytree(earlier.parent, d / "runs")
    (stop_dir / "c.yaml").write_text(BASE.replace(
        "  - {kind: cd, max_iter: 100}",
        "  - {kind: subgradient, label: sg, max_iter: 100000000, tol: 0, record_every: 1000}"))
    stop_before = _snapshot(stop_dir / "runs")
    pipes = dict(env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    demo = subprocess.Popen(
        [str(SCRIPT), "run", str(ROOT / "configs" / "why_sparsity.yaml"), "--no-plots",
         "--set", "output=runs"], cwd=demo_dir, **pipes)
    stop = subprocess.Popen([*CLI, "run", "c.yaml"], cwd=stop_dir, **pipes)
    try:
        driver = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(cases)], env=ENV,
                                capture_output=True, text=True, timeout=300)
        assert driver.returncode == 0, driver.stderr
        codes = json.loads(driver.stdout.splitlines()[-1])
        out = {}
        for name, (d, before) in dirs.items():
            out[name] = Result(d, codes[name], (d / "stdout.txt").read_text(),
                               (d / "stderr.txt").read_text(), before,
                               _snapshot(d / "runs" / earlier.name))
        lines = []
        for line in stop.stderr:
            lines.append(line)
            if line.startswith("solver sg"):
                break
        time.sleep(1.0)
        stop.send_signal(signal.SIGINT)
        stdout, stderr = stop.communicate(timeout=120)
        out["ctrl_c"] = Result(stop_dir, stop.returncode, stdout, "".join(lines) + stderr,
                               stop_before, {})
        stdout, stderr = demo.communicate(timeout=300)
        out["demo"] = Result(demo_dir, demo.returncode, stdout, stderr, {}, {})
    finally:  # never leave the long run (or the demo) behind on a failure
        for proc in (stop, demo):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return out


USER_ERRORS = [k for k, (_, rc, _) in CASES.items() if rc == 2]


@pytest.mark.parametrize("case", USER_ERRORS)
def test_user_error_is_one_clear_line(results, case, earlier):
    if case == "cuda_without_cuda" and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    r = results[case]
    assert r.rc == 2, r.err
    assert "Traceback" not in r.err and "Traceback" not in r.out
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err
    for s in CASES[case][2]:
        assert s in lines[0], (s, lines[0])
    assert r.after == r.before  # the earlier run is byte-identical
    assert [p.name for p in list_runs(r.dir / "runs")] == [earlier.name]  # nothing new
    assert not list((r.dir / "runs").glob(".tmp-*"))


def test_diverging_solver_is_saved_and_marked(results, earlier):
    r = results["diverging_step"]
    assert r.rc == 0 and "Traceback" not in r.err
    assert "warning: ista: diverged" in r.err
    (path,) = [p for p in list_runs(r.dir / "runs") if p.name != earlier.name]
    run = load_run(path)
    assert run.status == "diverged"
    assert run.metrics["solvers"]["ista"]["status"] == "diverged"
    assert run.metrics["solvers"]["cd"]["converged"]  # the other solver still ran
    obj = run.traces["ista"]["objective"]
    assert not np.isfinite(obj[-1]) and np.isfinite(obj[:-1]).all()
    assert "NaN" not in (path / "metrics.json").read_text()
    assert "diverged" in r.out and f"run saved to runs/{path.name}" in r.out
    assert r.after == r.before


def test_relative_data_path_is_read_from_the_config_folder(results, earlier):
    r = results["relative_path_ok"]
    assert r.rc == 0 and "Traceback" not in r.err, r.err
    resolved = str(r.dir / "sub" / "d.csv")
    assert f"csv file {resolved}" in r.err  # the resolved path is shown
    (path,) = [p for p in list_runs(r.dir / "runs") if p.name != earlier.name]
    assert load_run(path).config["data"]["path"] == resolved  # and stored


def test_run_output_option(results):
    r = results["output_option"]
    assert r.rc == 0, r.err
    (path,) = list_runs(r.dir / "elsewhere")
    assert f"run saved to elsewhere/{path.name}" in r.out


def test_reference_that_did_not_converge_says_so(tmp_path, monkeypatch):
    """X scaled by 1e-200 (not standardized): the reference stops at max_iter (here 300,
    not 200000, to stay fast); the table says so and shows no P - P* against it."""
    from lasso_torch.experiment import backend

    monkeypatch.setattr(backend, "REFERENCE_MAX_ITER", 300)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(BASE)
    args = _scaled_npz(tmp_path, "tiny.npz", 1e-200)
    res = CliRunner().invoke(app, ["run", "c.yaml", *args])
    assert res.exit_code == 0, res.stderr
    assert "the reference solve (cd) did not converge: max_iter" in res.stderr
    assert "the reference did not converge (max_iter" in res.stdout
    rows = [ln for ln in res.stdout.splitlines() if ln.startswith(("fista ", "cd ", "refer"))]
    assert len(rows) == 3 and all(" - " in ln for ln in rows[:2]), res.stdout  # no P - P*
    assert "max_iter" in rows[2]
    (path,) = list_runs(tmp_path / "runs")
    ref = load_run(path).metrics["reference"]
    assert ref["converged"] is False and ref["objective"] is None
    assert ref["objective_reached"] is not None and ref["status"] == "max_iter"


def test_max_iter_warns_and_is_not_converged(results, earlier):
    r = results["max_iter_reached"]
    assert r.rc == 0 and "Traceback" not in r.err
    assert CASES["max_iter_reached"][2][0] in r.err
    (path,) = [p for p in list_runs(r.dir / "runs") if p.name != earlier.name]
    m = json.loads((path / "metrics.json").read_text())["solvers"]["fista"]
    assert m["converged"] is False and m["status"] == "max_iter" and m["n_iter"] == 2
    assert r.after == r.before


def test_existing_output_folder_is_never_overwritten(results, earlier):
    r = results["existing_output_folder"]
    assert r.rc == 0 and "Traceback" not in r.err
    runs = r.dir / "runs"
    taken = sorted(p for p in runs.iterdir() if (p / "keep.txt").exists())
    for p in taken:  # every folder that was there is untouched
        assert sorted(f.name for f in p.iterdir()) == ["keep.txt"]
        assert (p / "keep.txt").read_text().startswith("earlier work")
    (new,) = [p for p in list_runs(runs) if p.name != earlier.name]
    assert new.name.endswith("-t-2") and (new / "meta.json").is_file()
    assert f"run saved to runs/{new.name}" in r.out
    assert r.after == r.before


def test_demo_prints_a_table_and_where_the_run_went(results):
    r = results["demo"]
    assert r.rc == 0, r.err
    assert "Traceback" not in r.err
    (path,) = list((r.dir / "runs").glob("*-why_sparsity"))
    assert f"run saved to runs/{path.name}" in r.out
    for label in ("subgradient", "ista", "fista", "cd", "reference (cd)"):
        assert label in r.out
    run = load_run(path)
    assert run.solvers == ["subgradient", "ista", "fista", "cd"]
    m = run.metrics["solvers"]
    assert m["subgradient"]["n_zeros"] == 0 < m["fista"]["n_zeros"] == m["cd"]["n_zeros"]
    assert all(m[k]["converged"] for k in ("ista", "fista", "cd"))
    # list and compare show it
    cli = CliRunner()
    listed = cli.invoke(app, ["list", "--output", str(r.dir / "runs")])
    assert listed.exit_code == 0 and path.name in listed.stdout
    assert "subgradient,ista,fista,cd" in listed.stdout and "complete" in listed.stdout
    cmp = cli.invoke(app, ["compare", str(path), str(path)])
    assert cmp.exit_code == 0 and cmp.stdout.count(path.name) == 2 * 5


def test_ctrl_c_keeps_the_partial_run(results, earlier):
    r = results["ctrl_c"]
    assert r.rc == 130, r.err
    assert "Traceback" not in r.err and "interrupted" in r.err
    new = [p for p in list_runs(r.dir / "runs") if p.name != earlier.name]
    assert len(new) == 1
    run = load_run(new[0])
    assert run.status == "interrupted"
    assert run.metrics["solvers"]["fista"]["converged"]
    assert run.metrics["solvers"]["sg"]["status"] == "interrupted"
    assert 0 < run.metrics["solvers"]["sg"]["n_iter"] < 100000000
    after = _snapshot(r.dir / "runs")
    assert {k: v for k, v in after.items() if k in r.before} == r.before  # earlier run intact
    assert not list((r.dir / "runs").glob(".tmp-*"))


# --- in-process: help, list, compare, plot, tables --------------------------------------
@pytest.mark.parametrize("command", [[], ["run"], ["list"], ["compare"], ["plot"]])
def test_help_on_every_command(command):
    res = CliRunner().invoke(app, [*command, "--help"])
    assert res.exit_code == 0 and "Usage" in res.stdout


def test_list_and_compare_errors(tmp_path):
    cli = CliRunner()
    res = cli.invoke(app, ["run", "c.yaml", "--format", "jpg"])
    assert res.exit_code == 2 and "--format 'jpg'" in res.stderr
    res = cli.invoke(app, ["list", "--output", str(tmp_path / "none")])  # a mistyped root
    assert res.exit_code == 2 and "output root not found" in res.stderr
    (tmp_path / "empty").mkdir()
    res = cli.invoke(app, ["list", "--output", str(tmp_path / "empty")])
    assert res.exit_code == 0 and "no runs under" in res.stdout
    res = cli.invoke(app, ["compare", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "run folder not found" in res.stderr
    assert "Traceback" not in res.stderr


def test_plot_and_compare_plot(earlier, tmp_path):
    cli = CliRunner()
    res = cli.invoke(app, ["plot", str(earlier), "--kind", "convergence"])
    assert res.exit_code == 0, res.stderr
    assert (earlier / "figures" / "convergence.png").is_file()
    res = cli.invoke(app, ["plot", str(earlier), "--kind", "nonsense"])
    assert res.exit_code == 2 and "nonsense" in res.stderr
    res = cli.invoke(app, ["compare", str(earlier), "--plot", "--out", str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.stderr
    assert list((tmp_path / "cmp").glob("*.png"))


def test_format_table():
    t = format_table(("a", "bb"), [["x", 1], ["yyy", 22]])
    assert t.splitlines() == ["a    bb", "---  --", "x     1", "yyy  22"]


def test_console_script_is_installed():
    assert SCRIPT.is_file(), "pip install -e . installs the lasso-torch console script"


# --- the first five minutes: version, lazy imports, list and compare that say enough -----
def test_version_and_help_do_not_import_torch(tmp_path):
    (tmp_path / "runs").mkdir()
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from lasso_torch.cli import app\n"
        "from lasso_torch import __version__\n"
        "cli = CliRunner()\n"
        "for args in (['--help'], ['--version'], ['run', '--help'], ['list', '--help'],\n"
        f"             ['list', '-o', {str(tmp_path / 'runs')!r}], ['clean', '--help']):\n"
        "    res = cli.invoke(app, args)\n"
        "    assert res.exit_code == 0, (args, res.output)\n"
        "assert cli.invoke(app, ['--version']).stdout.strip() == f'lasso-torch {__version__}'\n"
        "heavy = sorted(m for m in ('torch', 'matplotlib', 'numba') if m in sys.modules)\n"
        "print(heavy)\n")
    res = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_format_help_names_every_format():
    res = CliRunner().invoke(app, ["run", "--help"])
    assert "png, svg or pdf" in res.stdout and "--output" in res.stdout


def test_list_shows_the_problem_and_whole_reasons(earlier, tmp_path):
    root = tmp_path / "runs"
    shutil.copytree(earlier, root / earlier.name)
    bad = root / "20000101-000000-broken"
    shutil.copytree(earlier, bad)
    (bad / "config.yaml").write_text("name: [unclosed\n  list: {\n")  # a multi-line YAML error
    res = CliRunner().invoke(app, ["list", "-o", str(root)])
    assert res.exit_code == 0, res.stderr
    header = res.stdout.splitlines()[0].split()
    assert header[:1] == ["run"] and {"n", "p", "objective", "alpha", "solvers"} <= set(header)
    row = next(ln for ln in res.stdout.splitlines() if ln.startswith(earlier.name))
    assert " 30 " in row and " 4 " in row and "lasso" in row
    (reason,) = [ln for ln in res.stdout.splitlines() if ln.startswith("  " + bad.name)]
    assert "config.yaml: malformed YAML" in reason and len(reason) > 80  # whole, one line
    assert res.stdout.count("\n") == len(res.stdout.splitlines())  # no line broken by it


def test_compare_shows_the_config_keys_that_differ(earlier, tmp_path):
    other = run_config({"name": "other", "output": str(tmp_path),
                        "data": {"kind": "synthetic", "n": 50, "p": 4},
                        "objective": {"alpha": {"fraction": 0.3}},
                        "solvers": [{"kind": "cd", "record_every": 1}]})
    res = CliRunner().invoke(app, ["compare", str(earlier), str(other.path)])
    assert res.exit_code == 0, res.stderr
    text = res.stdout.split("config keys that differ:")[1]
    rows = {ln.split()[0]: ln.split()[1:] for ln in text.strip().splitlines()[2:]}
    assert rows == {"data.n": ["30", "50"], "objective.alpha.fraction": ["0.1", "0.3"]}
