"""Every runnable block of README.md runs, in order, in a fresh folder.

Fenced ``bash`` and ``python`` blocks are executed (python blocks share one namespace, as
a reader's session would; bash blocks run with ``bash -euo pipefail`` in a folder that
links the repository's ``configs``, ``experiments``, ``Makefile`` and ``.venv``), ``yaml``
blocks are validated as configs. A block that cannot run here says why in its fence:
```` ```bash skip="needs torchrun" ````; a block without a reason never skips silently.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```", re.M | re.S)
SKIP = re.compile(r'skip="([^"]+)"')
VENV = Path(sys.prefix)


def blocks() -> list[tuple[int, str, str, str]]:
    """``(line, language, info, code)`` of every fenced block of the README."""
    text = (ROOT / "README.md").read_text()
    return [(text[: m.start()].count("\n") + 1, m.group(1), m.group(2).strip(), m.group(3))
            for m in FENCE.finditer(text)]


RUNNABLE = [b for b in blocks() if b[1] in ("bash", "python", "yaml")]


def test_every_block_runs_or_says_why_not():
    for line, lang, info, _ in blocks():
        if lang in ("bash", "python", "yaml"):
            assert not info or SKIP.fullmatch(info), f"README.md:{line}: fence info {info!r}"
        else:  # output samples and formulas carry no language and are not run
            assert lang == "", f"README.md:{line}: unknown block language {lang!r}"
    assert sum(not info for _, lang, info, _ in RUNNABLE if lang != "yaml") >= 5


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> dict:
    """The reader's folder and python namespace, shared by the blocks in README order."""
    work = tmp_path_factory.mktemp("readme")
    for name in ("configs", "experiments", "Makefile", "pyproject.toml"):
        (work / name).symlink_to(ROOT / name)
    (work / ".venv").symlink_to(VENV)
    return {"work": work, "namespace": {"__name__": "__readme__"}}


def _bash(work: Path, code: str) -> None:
    if not (VENV / "bin" / "lasso-torch").is_file():
        pytest.skip("the suite does not run from a virtual environment with lasso-torch")
    if "make " in code:
        if shutil.which("make") is None:
            pytest.skip("make is not installed")
        # never let make reinstall the package from this scratch folder
        fresh = subprocess.run(["make", "-q", ".venv/.installed"], cwd=work,
                               capture_output=True)
        if fresh.returncode != 0:
            pytest.skip(".venv was not installed by `make install` (or is older than "
                        "pyproject.toml)")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    res = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=work, env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"{code}\n--- stdout\n{res.stdout}\n--- stderr\n{res.stderr}"
    assert "Traceback" not in res.stderr, res.stderr


@pytest.mark.parametrize("line,lang,info,code", RUNNABLE,
                         ids=[f"README.md:{b[0]}-{b[1]}" for b in RUNNABLE])
def test_readme_block(session, monkeypatch, line, lang, info, code):
    if info:
        pytest.skip(SKIP.fullmatch(info).group(1))
    work = session["work"]
    if lang == "yaml":
        from lasso_torch.experiment import validate

        validate(yaml.safe_load(code), f"README.md:{line}")
    elif lang == "python":
        monkeypatch.chdir(work)
        exec(compile(code, f"README.md:{line}", "exec"), session["namespace"])
    else:
        _bash(work, code)
