"""Run many CLI invocations as real processes, cheaply: one driver process imports the
package once, then forks one child per case; each child runs the CLI's entry point with
its own cwd, stdout, stderr and exit status (an uncaught exception prints a traceback,
as from a shell)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}

DRIVER = r"""
import json, os, sys, traceback
import lasso_torch.cli as cli
import lasso_torch.experiment.run, lasso_torch.plots  # noqa: F401 (loaded once, before forking)

cases = json.loads(sys.argv[1])
codes = {}
for name, (cwd, argv, out_path, err_path) in cases.items():
    pid = os.fork()
    if pid == 0:
        os.chdir(cwd)
        os.dup2(os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
        os.dup2(os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
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


@dataclass
class CliResult:
    rc: int
    out: str
    err: str

    def one_error_line(self) -> str:
        """The single ``error:`` line of a user error (asserts there is exactly one line
        on stderr and no traceback anywhere)."""
        assert "Traceback" not in self.err + self.out, self.err
        lines = [ln for ln in self.err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), self.err
        return lines[0]


def run_cli(cases: dict[str, tuple[Path, list[str]]], scratch: Path) -> dict[str, CliResult]:
    """``{name: (cwd, argv)}`` -> ``{name: CliResult}``; outputs go to ``scratch``."""
    scratch.mkdir(parents=True, exist_ok=True)
    spec = {name: (str(cwd), argv, str(scratch / f"{name}.out"), str(scratch / f"{name}.err"))
            for name, (cwd, argv) in cases.items()}
    driver = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(spec)], env=ENV,
                            capture_output=True, text=True, timeout=600)
    assert driver.returncode == 0, driver.stderr
    codes = json.loads(driver.stdout.splitlines()[-1])
    return {name: CliResult(codes[name], Path(spec[name][2]).read_text(),
                            Path(spec[name][3]).read_text()) for name in cases}
