"""Faults: SIGTERM keeps the partial run as Ctrl-C does (one process, and any rank of a
distributed run), leftovers of killed runs are reported and cleaned, and two copies of
one sweep started together run each point once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch
from clirun import ENV
from typer.testing import CliRunner

from lasso_torch.claims import claim, leftovers
from lasso_torch.cli import app
from lasso_torch.experiment import run_config
from lasso_torch.runs import RunWriter, list_runs, load_run
from lasso_torch.signals import exit_code

CLI = [sys.executable, "-m", "lasso_torch.cli"]
LONG = """\
name: t
data: {kind: synthetic, n: 40, p: 6, correlation: 0.5, density: 0.3}
solvers:
  - {kind: fista, max_iter: 300}
  - {kind: SLOW, label: slow, max_iter: 100000000, tol: 0, record_every: 1000}
"""


def _wait_for(proc: subprocess.Popen, prefix: str) -> list[str]:
    """Read ``proc``'s stderr until a line starts with ``prefix``."""
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith(prefix):
            return lines
    raise AssertionError("".join(lines))


class SignalAtStep(torch.optim.SGD):
    """SGD that sends this process the signal named by ``sig`` at its 20th step."""

    def __init__(self, params, lr=0.01, sig="SIGHUP"):
        super().__init__(params, lr=lr)
        self.sig, self.k = sig, 0

    def step(self, closure=None):
        self.k += 1
        if self.k == 20:
            os.kill(os.getpid(), getattr(signal, self.sig))
        return super().step(closure)


@pytest.mark.parametrize("sig", ["SIGHUP", "SIGQUIT"])
def test_hangup_and_quit_keep_the_partial_run(tmp_path, sig):
    """SIGHUP (a closed terminal) and SIGQUIT (Ctrl-\\) as SIGTERM: the partial run is
    kept, ``interrupted_by`` names the signal, no temporary folder is left, and the
    handlers are restored afterwards."""
    before = signal.getsignal(getattr(signal, sig))
    run_config({"name": "s", "output": str(tmp_path), "data": {
        "kind": "synthetic", "n": 30, "p": 4}, "solvers": [
        {"kind": "cd"}, {"kind": f"{__name__}:SignalAtStep", "label": "slow",
                         "options": {"sig": sig}, "max_iter": 10000, "tol": 0}]})
    (path,) = list_runs(tmp_path)
    run = load_run(path)
    assert run.status == "interrupted" and run.meta["interrupted_by"] == sig
    assert exit_code(sig) == 128 + getattr(signal, sig)  # the CLI's exit status
    assert run.metrics["solvers"]["cd"]["converged"]
    assert run.metrics["solvers"]["slow"]["status"] == "interrupted"
    assert not list(tmp_path.glob(".tmp-*"))
    assert signal.getsignal(getattr(signal, sig)) is before


def test_sigterm_keeps_the_partial_run_like_ctrl_c(tmp_path):
    sig = "SIGTERM"
    (tmp_path / "c.yaml").write_text(LONG.replace("SLOW", "subgradient"))
    proc = subprocess.Popen([*CLI, "run", "c.yaml", "--no-plots"], cwd=tmp_path, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = _wait_for(proc, "solver slow")
        time.sleep(1.0)
        proc.send_signal(getattr(signal, sig))
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = "".join(lines) + err
    assert proc.returncode == 128 + getattr(signal, sig), err
    assert "Traceback" not in err and f"terminated ({sig})" in err
    (path,) = list_runs(tmp_path / "runs")
    run = load_run(path)
    assert run.status == "interrupted" and run.meta["interrupted_by"] == sig
    assert run.metrics["solvers"]["fista"]["converged"]
    assert run.metrics["solvers"]["slow"]["status"] == "interrupted"
    assert 0 < run.metrics["solvers"]["slow"]["n_iter"] < 100000000
    assert f"run saved to runs/{path.name}" in out
    assert not list((tmp_path / "runs").glob(".tmp-*"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("target", [0, 1])
def test_sigterm_on_any_rank_of_a_distributed_run(tmp_path, target):
    """SIGTERM to one rank: that rank stops as interrupted; rank 0 saves the partial run,
    marked interrupted; every process ends without a traceback."""
    (tmp_path / "c.yaml").write_text(LONG.replace("SLOW", "ista, lr: 1.0e-7").replace(
        "name: t\n", "name: t\ndistributed: true\ndevice: cpu\n"))
    port, procs = _free_port(), []
    for rank in range(2):
        env = {**ENV, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2",
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
               "GLOO_SOCKET_IFNAME": "lo"}
        procs.append(subprocess.Popen([*CLI, "run", "c.yaml", "--no-plots"], cwd=tmp_path,
                                      env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    try:
        lines = _wait_for(procs[0], "solver slow")
        time.sleep(1.0)
        procs[target].send_signal(signal.SIGTERM)
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    errs = ["".join(lines) + outs[0][1], outs[1][1]]
    assert procs[target].returncode == 143, errs
    assert procs[1 - target].returncode in (1, 143), errs
    for err in errs:
        assert "Traceback" not in err, err
    (path,) = list_runs(tmp_path / "runs")
    run = load_run(path)
    assert run.status == "interrupted" and run.meta["world_size"] == 2
    assert run.metrics["solvers"]["fista"]["converged"]
    if target == 0:
        assert run.meta["interrupted_by"] == "SIGTERM"
    assert not list((tmp_path / "runs").glob(".tmp-*"))


def test_leftovers_are_listed_and_cleaned(tmp_path):
    root = tmp_path / "runs"
    killed = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from lasso_torch.runs import RunWriter; "
        f"RunWriter({str(root)!r}, 'killed', {{}}); print('ready', flush=True); "
        "time.sleep(600)")], env=ENV, stdout=subprocess.PIPE, text=True)
    assert killed.stdout.readline().strip() == "ready"
    killed.kill()  # SIGKILL: nothing can clean up
    killed.wait()
    live = RunWriter(root, "live", {})  # this process: still running
    old = root / ".tmp-20000101-000000-legacy-0123abcd"  # written before owner records
    old.mkdir()
    os.utime(old, (0, 0))
    states = {x.path.name.split("-")[3]: x.alive for x in leftovers(root)}
    assert states == {"killed": False, "live": True, "legacy": False}

    cli = CliRunner()
    res = cli.invoke(app, ["list", "-o", str(root)])
    assert res.exit_code == 0, res.stderr
    assert "killed (process" in res.stdout and "is gone" in res.stdout
    assert "a run in progress" in res.stdout and "lasso-torch clean" in res.stdout
    res = cli.invoke(app, ["clean", "-o", str(root)])
    assert res.exit_code == 0
    assert res.stdout.count("removed ") == 2 and "kept" in res.stdout
    assert [p for p in root.iterdir() if p.name.startswith(".tmp-")] == [live.tmp]
    live.abandon()
    res = cli.invoke(app, ["clean", "-o", str(root)])
    assert "nothing to clean" in res.stdout


def test_a_claim_is_exclusive_and_dies_with_its_process(tmp_path):
    with claim(tmp_path, "abc") as first:
        assert first
        other = subprocess.run([sys.executable, "-c", (
            "from lasso_torch.claims import claim\n"
            f"with claim({str(tmp_path)!r}, 'abc') as mine: print(mine)")],
            env=ENV, capture_output=True, text=True)
        assert other.stdout.strip() == "False"
    with claim(tmp_path, "abc") as again:
        assert again


SWEEP = """\
name: s
data: {kind: synthetic, n: 200, p: 30, correlation: 0.5}
objective: {alpha: {fraction: 0.1}}
solvers: [{kind: subgradient, max_iter: 2500, tol: 0, record_every: 0}]
sweep: {objective.alpha.fraction: [0.1, 0.05, 0.03, 0.02]}
"""


def test_two_copies_of_one_sweep_run_each_point_once(tmp_path):
    (tmp_path / "s.yaml").write_text(SWEEP)
    procs = [subprocess.Popen([*CLI, "run", "s.yaml", "--no-plots"], cwd=tmp_path, env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    runs = [load_run(p, traces=False) for p in list_runs(tmp_path / "runs")]
    hashes = [r.meta["config_hash"] for r in runs]
    assert len(runs) == 4 and len(set(hashes)) == 4  # each point once, none lost
    saved = sum(out.count("run saved to") for out, _ in outs)
    assert saved == 4
    skipped = "".join(err for _, err in outs)
    assert "another process is running it now" in skipped or "done already" in skipped
    # every point finished (at 0.3 alpha_max the constant-step subgradient ends above P(0),
    # which the loop calls 'diverged': those fractions are kept out of this test)
    assert [json.loads((r.path / "meta.json").read_text())["status"] for r in runs] == [
        "complete"] * 4
