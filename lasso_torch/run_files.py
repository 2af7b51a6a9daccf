"""Reading the files of a run folder back, and checking them: each damaged, foreign or
malformed file (truncated, empty, random bytes, JSON or arrays of the wrong type or shape)
is one :class:`~lasso_torch.InputError` naming it, never a traceback. ``traces.npz`` is
checked from its zip directory and ``.npy`` headers without reading the arrays, so
``list`` and ``compare`` check it cheaply. Used by :func:`lasso_torch.runs.load_run`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .errors import InputError
from .files import open_regular, read_regular

STATUSES = ("complete", "diverged", "failed", "interrupted")
MAX_BYTES = {".json": 64 << 20, ".yaml": 1 << 20, ".npz": 4 << 30}  # per run file
def unflatten(flat: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Flat ``"<group>/<field>"`` arrays as ``{group: {field: array}}``."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, value in flat.items():
        group, _, name = key.partition("/")
        out.setdefault(group, {})[name] = value
    return out


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _present(path: Path) -> Path:
    """``path``, or the error that its run folder lacks it."""
    if not os.path.lexists(path):
        raise InputError(f"not a run folder (no {path.name}): {path.parent}")
    return path


def read_text(path: Path) -> str:
    data = read_regular(_present(path), MAX_BYTES.get(path.suffix))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.object[e.start]:#04x} at "
                         f"offset {e.start}): the file is damaged") from None


def read_json(path: Path) -> dict[str, Any]:
    text = read_text(path)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        what = "empty" if not text.strip() else f"corrupt JSON at line {e.lineno}"
        raise InputError(f"{path}: {what}") from None
    if not isinstance(obj, dict):
        raise InputError(f"{path}: expected a JSON object, got a {type(obj).__name__}")
    return obj


def read_config(path: Path) -> dict[str, Any]:
    try:
        obj = yaml.safe_load(read_text(path))
    except yaml.YAMLError as e:
        raise InputError(f"{path}: malformed YAML ({_one_line(e)})") from None
    if not isinstance(obj, dict):
        raise InputError(f"{path}: expected a mapping of keys, got {type(obj).__name__}")
    return obj


_NUMBER = (int, float)
_PROBLEM_NUMBERS = ("n", "p", "alpha", "alpha_max", "l1_ratio")
_SOLVER_NUMBERS = ("objective", "gap", "kkt", "n_iter", "time", "n_zeros", "nnz")


def _check_numbers(where: str, d: dict[str, Any], keys: tuple[str, ...]) -> None:
    for k in keys:
        v = d.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, _NUMBER)):
            raise InputError(f"{where}.{k}: expected a number, got {_one_line(repr(v))[:60]}")


def check_metrics(path: Path, metrics: dict[str, Any]) -> None:
    """The shape the tables and figures rely on: problem, solvers and reference mappings
    of numbers (None where a value is undefined)."""
    for key in ("problem", "solvers", "reference"):
        if metrics.get(key) is not None and not isinstance(metrics[key], dict):
            raise InputError(f"{path}: {key!r} must be a mapping, got "
                             f"{type(metrics[key]).__name__}")
    _check_numbers(f"{path}: problem", metrics.get("problem") or {}, _PROBLEM_NUMBERS)
    _check_numbers(f"{path}: reference", metrics.get("reference") or {}, _SOLVER_NUMBERS)
    for label, m in (metrics.get("solvers") or {}).items():
        if not isinstance(m, dict):
            raise InputError(f"{path}: solvers.{label} must be a mapping, got "
                             f"{type(m).__name__}")
        _check_numbers(f"{path}: solvers.{label}", m, _SOLVER_NUMBERS)


def check_meta(path: Path, meta: dict[str, Any]) -> None:
    if meta.get("status") not in STATUSES:
        raise InputError(f"{path}: status must be one of {', '.join(STATUSES)}, got "
                         f"{_one_line(repr(meta.get('status')))[:60]}")


def _npz_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """``{key: (shape, dtype)}`` of an ``.npz`` from its zip directory and the ``.npy``
    headers alone (cheap: no array is read); a damaged file is an :class:`InputError`."""
    import zipfile

    with os.fdopen(open_regular(_present(path), MAX_BYTES[".npz"]), "rb") as f:
        head = f.read(4)
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):
        what = "an empty file" if not head else "not an .npz (zip) archive"
        raise InputError(f"{path}: {what}: the file is damaged")
    out = {}
    try:
        with os.fdopen(open_regular(path, MAX_BYTES[".npz"]), "rb") as fh, \
                zipfile.ZipFile(fh) as z:
            for name in z.namelist():
                if not name.endswith(".npy"):
                    raise InputError(f"{path}: member {name!r} is not an .npy array")
                with z.open(name) as m:
                    fmt = np.lib.format
                    read = (fmt.read_array_header_1_0 if fmt.read_magic(m) == (1, 0)
                            else fmt.read_array_header_2_0)
                    shape, _, dtype = read(m)
                out[name[:-4]] = (shape, dtype)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 (zip and npy header errors: the file is damaged)
        raise InputError(f"{path}: unreadable ({_one_line(e) or type(e).__name__})") from None
    return out


def _check_traces(path: Path, arrays: dict[str, tuple[tuple[int, ...], np.dtype]],
                  solvers: list[str]) -> None:
    """``<group>/<field>`` keys, numeric arrays, each solver's series as long as its
    ``iteration``."""
    groups: dict[str, dict[str, tuple[int, ...]]] = {}
    for key, (shape, dtype) in arrays.items():
        group, _, name = key.partition("/")
        if not group or not name:
            raise InputError(f"{path}: array {key!r} is not named <group>/<field>")
        if dtype.kind not in "biuf":
            raise InputError(f"{path}: array {key!r} has dtype {dtype}, expected numbers")
        groups.setdefault(group, {})[name] = shape
    for label in solvers:
        g = groups.get(label)
        if not g:
            continue
        if "iteration" not in g:
            raise InputError(f"{path}: {label}/iteration is missing (arrays of {label}: "
                             f"{', '.join(sorted(g))})")
        steps = g["iteration"][:1]
        for name, shape in g.items():
            if name != "coef_index" and shape[:1] != steps:
                raise InputError(f"{path}: {label}/{name} has shape {shape}, expected "
                                 f"{steps[0] if steps else 0} rows as {label}/iteration")


def read_traces(path: Path, solvers: list[str], load: bool) -> dict[str, dict[str, np.ndarray]]:
    """``traces.npz`` checked from its headers, then (``load``) read as nested dicts."""
    _check_traces(path, _npz_headers(path), solvers)
    if not load:
        return {}
    try:
        with os.fdopen(open_regular(path, MAX_BYTES[".npz"]), "rb") as fh, \
                np.load(fh, allow_pickle=False) as f:
            return unflatten({k: f[k] for k in f.files})
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 (a CRC or decompression error inside the zip)
        raise InputError(f"{path}: unreadable ({_one_line(e) or type(e).__name__})") from None


__all__ = ["MAX_BYTES", "STATUSES", "check_meta", "check_metrics", "read_config", "read_json",
           "read_text", "read_traces", "unflatten"]
