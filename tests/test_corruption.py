"""The run store under damage: every file of a run folder broken in several ways, beside
good runs, through ``list``, ``plot``, ``compare`` (with and without ``--plot``) and
``load_run``.

For each damage: ``list`` exits 0, lists both good runs as they are and marks the damaged
one ``unreadable`` with a one-line reason naming the file; ``plot`` and ``compare`` exit 2
with one line naming the file and no traceback (``list`` and ``compare`` check the traces
from their zip directory and array headers, without reading them); ``load_run`` raises
``InputError`` naming the file; and no good run changed by a byte.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from clirun import run_cli

from lasso_torch import InputError
from lasso_torch.experiment import run_config
from lasso_torch.run_files import MAX_BYTES
from lasso_torch.runs import load_run


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


RANDOM = bytes(np.random.default_rng(0).integers(0, 256, 700, dtype=np.uint8))

# file -> {damage: new content (from the old one) or None to delete the file}
Damage = Callable[[bytes], bytes | None]
DAMAGES: dict[str, dict[str, Damage]] = {
    "meta.json": {
        "truncated": _truncate, "empty": lambda b: b"", "random": lambda b: RANDOM,
        "missing": lambda b: None, "a_list": lambda b: b"[1, 2, 3]\n",
        "no_status": lambda b: b'{"name": "x"}\n',
        "latin1": lambda b: "{\"name\": \"caf\xe9\"}".encode("latin-1"),
    },
    "metrics.json": {
        "truncated": _truncate, "empty": lambda b: b"", "random": lambda b: RANDOM,
        "missing": lambda b: None, "a_list": lambda b: b"[]\n",
        "solvers_a_list": lambda b: b'{"solvers": [1, 2]}\n',
        "gap_a_string": lambda b: json.dumps({**json.loads(b), "solvers": {
            "cd": {"gap": "small", "objective": 1.0}}}).encode(),
        "problem_a_number": lambda b: json.dumps({**json.loads(b), "problem": 3}).encode(),
    },
    "config.yaml": {
        "truncated_quote": lambda b: b'name: "unterminated\n', "empty": lambda b: b"",
        "random": lambda b: RANDOM, "missing": lambda b: None, "a_list": lambda b: b"- 1\n- 2\n",
    },
    "traces.npz": {
        "truncated": _truncate, "empty": lambda b: b"", "random": lambda b: RANDOM,
        "text": lambda b: b"these are not arrays\n", "missing": lambda b: None,
        "other_keys": lambda b: _npz(foo=np.arange(3)),
        "no_iteration": lambda b: _npz(**{"cd/gap": np.ones(3)}),
        "wrong_lengths": lambda b: _npz(**{"cd/iteration": np.arange(5), "cd/gap": np.ones(2)}),
        "strings": lambda b: _npz(**{"cd/iteration": np.array(["a", "b"])}),
        "pickled": lambda b: _npz(**{"cd/iteration": np.array([{"a": 1}], dtype=object)}),
    },
}


# special files in place of each run file: read only regular files, so a FIFO never blocks
# and a device never streams; each is one "unreadable" row like any other damage
def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _device(path: Path) -> None:  # a link to a character device that never ends
    path.symlink_to("/dev/zero")


def _loop(path: Path) -> None:  # a symbolic link loop
    path.symlink_to(path.name + ".other")
    path.with_name(path.name + ".other").symlink_to(path.name)


def _folder(path: Path) -> None:
    path.mkdir()
    (path / "inner").write_text("{}")


def _dangling(path: Path) -> None:
    path.symlink_to("/nonexistent/lasso-torch-file")


def _oversized(path: Path) -> None:  # sparse: over the cap without using the disk
    with path.open("wb") as f:
        f.truncate(MAX_BYTES[path.suffix] + 1)


SPECIAL = {"fifo": _fifo, "device": _device, "symlink_loop": _loop, "folder": _folder,
           "dangling_link": _dangling, "oversized": _oversized}
for _file in DAMAGES:
    DAMAGES[_file].update(SPECIAL)
CASES = [(f, d) for f, ds in DAMAGES.items() for d in ds]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("good") / "runs"
    runs = []
    for i, kind in enumerate(("cd", "fista")):
        run = run_config({"name": f"good{i}", "output": str(root),
                          "data": {"kind": "synthetic", "n": 30, "p": 4},
                          "solvers": [{"kind": kind, "label": "cd", "record_every": 1}]})
        runs.append(run.path)
    return runs


@pytest.fixture(scope="module")
def results(good, tmp_path_factory):
    """Each damage in its own output root (the two good runs and the damaged copy), and
    every command run on it in a real process."""
    cases, roots = {}, {}
    for file, damage in CASES:
        name = f"{file}-{damage}"
        root = tmp_path_factory.mktemp(name.replace(".", "_")) / "runs"
        for g in good:
            shutil.copytree(g, root / g.name)
        bad = root / "20000101-000000-damaged"
        shutil.copytree(good[0], bad)
        new = None if damage in SPECIAL else DAMAGES[file][damage]((bad / file).read_bytes())
        if new is None:
            (bad / file).unlink()
            if damage in SPECIAL:
                SPECIAL[damage](bad / file)
        else:
            (bad / file).write_bytes(new)
        roots[name] = (root, bad, {g.name: _digest(root / g.name) for g in good})
        g0 = str(root / good[0].name)
        cases[f"{name}|list"] = (root.parent, ["list", "-o", str(root)])
        cases[f"{name}|plot"] = (root.parent, ["plot", str(bad)])
        cases[f"{name}|compare"] = (root.parent, ["compare", g0, str(bad)])
        cases[f"{name}|compare_plot"] = (root.parent, ["compare", g0, str(bad), "--plot",
                                                       "--out", str(root.parent / "cmp")])
        cases[f"{name}|report"] = (root.parent, ["report", str(bad), "--out",
                                                 str(root.parent / "r.html")])
    out = run_cli(cases, tmp_path_factory.mktemp("cli"))
    return roots, out


@pytest.mark.parametrize("file,damage", CASES, ids=[f"{f}-{d}" for f, d in CASES])
def test_damaged_run_is_one_line_and_good_runs_untouched(results, good, file, damage):
    roots, out = results
    name = f"{file}-{damage}"
    root, bad, before = roots[name]
    listed = out[f"{name}|list"]
    assert listed.rc == 0 and "Traceback" not in listed.err + listed.out, listed.err
    for g in good:  # the good runs are listed as they are
        row = next(ln for ln in listed.out.splitlines() if ln.startswith(g.name))
        assert "complete" in row and " 30 " in row
    row = next(ln for ln in listed.out.splitlines() if ln.startswith(bad.name))
    assert "unreadable" in row
    reason = next(ln for ln in listed.out.splitlines() if ln.strip().startswith(bad.name + ":"))
    assert file in reason or (file != "meta.json" and damage == "missing")
    for cmd in ("plot", "compare", "compare_plot", "report"):
        r = out[f"{name}|{cmd}"]
        assert r.rc == 2, (cmd, r.err)
        line = r.one_error_line()
        assert file in line or (damage == "missing" and "not a run folder" in line), line
    with pytest.raises(InputError) as e:
        load_run(bad)
    assert file in str(e.value) and "\n" not in str(e.value)
    for g in good:
        assert _digest(root / g.name) == before[g.name]  # byte-identical
