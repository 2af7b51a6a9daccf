"""The run store: one folder per run, written atomically, never overwritten, loaded back.

Layout (``<root>/<YYYYmmdd-HHMMSS>-<name>/``, the time in UTC like ``created``)::

    config.yaml    the validated config, defaults filled in
    meta.json      name, created, finished, status (complete | diverged | failed |
                   interrupted),
                   device, dtype, seed, config_hash, versions {python, torch, numpy, lasso_torch}
    metrics.json   {"problem": {...}, "solvers": {label: {...}}, "reference": {...}}
    traces.npz     flat "<group>/<field>" arrays (group: a solver label, "reference", "path",
                   "problem", "geometry"); read with ``allow_pickle=False``
    figures/       written later by the plots

A :class:`RunWriter` fills a hidden temporary folder inside the root and renames it into
place only when the run is finished (or interrupted), so no run is ever half-written, and
picks a fresh name (``-2``, ``-3``...) rather than replace a folder that exists. JSON is
written with ``null`` for NaN and infinities.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .claims import OWNER, TMP_PREFIX, write_owner
from .errors import InputError
from .run_files import (
    STATUSES,
    check_meta,
    check_metrics,
    read_config,
    read_json,
    read_traces,
    unflatten,
)


# --- JSON without NaN -------------------------------------------------------------------
def clean_json(obj: Any) -> Any:
    """``obj`` with NaN/inf floats replaced by None and numpy scalars made plain Python."""
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean_json(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(clean_json(obj), indent=2, allow_nan=False) + "\n")


def versions() -> dict[str, str]:
    import torch

    from ._version import __version__

    return {"python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "lasso_torch": __version__}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- traces: nested dicts <-> flat npz ------------------------------------------------------
def flatten(traces: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {f"{g}/{k}": np.asarray(v) for g, fields in traces.items() for k, v in fields.items()}


def check_output_root(root: str | Path) -> Path:
    """``root`` with ``~`` expanded; an :class:`InputError` if it cannot hold runs (a
    file, or a symbolic link to nothing)."""
    root = Path(root).expanduser()
    if root.is_symlink() and not root.exists():
        raise InputError(f"output root {root} is a symbolic link to {os.readlink(root)}, "
                         "which does not exist")
    if root.exists() and not root.is_dir():
        raise InputError(f"output root {root} exists and is not a folder")
    return root


# --- writing ------------------------------------------------------------------------------
class RunWriter:
    """Create ``<root>/.tmp-...`` now; :meth:`finish` writes the rest and renames it.

    The destination is ``<root>/<stamp>-<name>``; if that folder exists the run goes to
    ``<stamp>-<name>-2`` (and so on): nothing is ever overwritten.
    """

    def __init__(self, root: str | Path, name: str, config: dict[str, Any]):
        self.root = check_output_root(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"cannot create the output root {self.root}: {e.strerror}") from None
        self.name = name
        start = datetime.now(timezone.utc)  # one clock: folder names and `list` are UTC
        self.created = start.isoformat(timespec="seconds")
        self.stamp = start.strftime("%Y%m%d-%H%M%S")
        self.tmp = self.root / f"{TMP_PREFIX}{self.stamp}-{name}-{uuid.uuid4().hex[:8]}"
        self.tmp.mkdir()
        write_owner(self.tmp)
        (self.tmp / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    def destination(self) -> Path:
        base = self.root / f"{self.stamp}-{self.name}"
        dest, k = base, 1
        while dest.exists():
            k += 1
            dest = base.with_name(f"{base.name}-{k}")
        return dest

    def finish(
        self,
        meta: dict[str, Any],
        metrics: dict[str, Any],
        traces: dict[str, dict[str, np.ndarray]],
    ) -> Path:
        """Write meta, metrics and traces into the temporary folder and rename it into place."""
        if meta.get("status") not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {meta.get('status')!r}")
        meta = {"name": self.name, "created": self.created, "finished": now(), **meta}
        np.savez(self.tmp / "traces.npz", **flatten(traces))
        write_json(self.tmp / "metrics.json", metrics)
        write_json(self.tmp / "meta.json", meta)
        (self.tmp / OWNER).unlink(missing_ok=True)
        for _ in range(100):
            dest = self.destination()
            try:
                os.rename(self.tmp, dest)  # fails if dest appeared meanwhile (non-empty)
                return dest
            except OSError:
                if not dest.exists():
                    raise
        raise OSError(f"could not find a free run folder name under {self.root}")

    def abandon(self) -> None:
        """Remove the temporary folder (nothing worth keeping was computed)."""
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- reading ------------------------------------------------------------------------------
@dataclass
class Run:
    """A run folder loaded back: ``traces[group][field]`` are numpy arrays."""

    path: Path
    config: dict[str, Any]
    meta: dict[str, Any]
    metrics: dict[str, Any]
    traces: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    skipped: bool = False  # a sweep point not run here (done before, or claimed elsewhere)
    note: str = ""  # why it was skipped

    @property
    def status(self) -> str:
        return self.meta.get("status", "unknown")

    @property
    def solvers(self) -> list[str]:
        return list(self.metrics.get("solvers", {}))

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, status={self.status!r}, solvers={self.solvers})"


def load_run(path: str | Path, traces: bool = True) -> Run:
    """Load a run folder (``traces=False``: skip the arrays, checking only their names,
    shapes and types). A missing, damaged or malformed file raises :class:`InputError`
    naming it."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise InputError(f"run folder not found: {path}")
    meta = read_json(path / "meta.json")
    check_meta(path / "meta.json", meta)
    metrics = read_json(path / "metrics.json")
    check_metrics(path / "metrics.json", metrics)
    config = read_config(path / "config.yaml")
    arrays = read_traces(path / "traces.npz", list(metrics.get("solvers") or {}), traces)
    return Run(path=path, config=config, meta=meta, metrics=metrics, traces=arrays)


def list_runs(root: str | Path = "runs") -> list[Path]:
    """The run folders under ``root`` (those with a meta.json), oldest first."""
    root = Path(root).expanduser()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / "meta.json").is_file())


RUN_FILES = ("meta.json", "metrics.json", "config.yaml", "traces.npz")


def run_like_folders(root: str | Path = "runs") -> list[Path]:
    """The visible folders under ``root`` holding any file of a run (a damaged run that
    lost its meta.json included), oldest first."""
    root = Path(root).expanduser()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and any(os.path.lexists(p / f) for f in RUN_FILES))


def find_done(root: str | Path, config_hash: str) -> Path | None:
    """A finished run (complete, diverged or failed: rerunning would give the same) of
    the config with this hash, if any."""
    for p in reversed(list_runs(root)):
        try:
            meta = read_json(p / "meta.json")
        except (InputError, OSError):
            continue
        if isinstance(meta, dict) and meta.get("config_hash") == config_hash and meta.get(
                "status") in ("complete", "diverged", "failed"):
            return p
    return None


__all__ = ["STATUSES", "Run", "RunWriter", "check_output_root", "clean_json", "find_done",
           "list_runs", "load_run", "run_like_folders", "unflatten"]
