"""``data.sample_weight``: a run's row weights, read and checked once, before any file is
written.

Three sources, one per form of the key (:mod:`.config`):

* ``{file: w.npy}`` (any data kind): a ``.npy`` array, or a text file of one number per
  line (``.csv``, ``.txt``);
* a column name or index (``kind: csv``): that column of the data file holds the weights
  (it is then not a feature);
* an array name (``kind: npz``): that array of the data file.

The weights must be ``n`` finite numbers ``>= 0``, not all 0 (one :class:`InputError`
naming the key and the file otherwise). They are kept as read (``lt.solve`` rescales them
to sum ``n``, scikit-learn's convention): the objective is ``1/(2 sum s) sum s_i r_i^2 +
penalty``, the intercept the weighted mean, a row of weight 0 left out.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .. import data as data_mod
from ..errors import InputError
from .config import Config, CsvData, NpzData, SampleWeightFile

KEY = "data.sample_weight"


def load_sample_weight(config: Config, X: Tensor) -> tuple[Tensor, Tensor | None]:
    """``(X, s)``: the configured weights ``s`` (float64 ``(n,)`` on the CPU, or None) and
    ``X`` without the CSV column that held them."""
    d = config.data
    src = d.sample_weight
    if src is None:
        return X, None
    if isinstance(src, SampleWeightFile):
        return X, check_weights(read_file(Path(src.file)), X.shape[0], f"file {src.file}")
    if isinstance(d, CsvData):
        X, s = _csv_column(d, X)
        return X, check_weights(s, X.shape[0], f"column {src!r} of {d.path}")
    if isinstance(d, NpzData):
        return X, check_weights(_npz_array(Path(d.path), str(src)), X.shape[0],
                                f"array {src!r} of {d.path}")
    raise InputError(f"{KEY}: give {{file: ...}} for data kind {d.kind}")  # pragma: no cover


def read_file(path: Path) -> np.ndarray:
    """The numbers of a ``.npy`` file, or of a text file of one number per line."""
    if not path.is_file():
        raise InputError(f"{KEY}: file not found: {path}")
    try:
        data_mod.existing_file(path)  # a regular file: no FIFO, device or /proc file
    except InputError as e:
        raise InputError(f"{KEY}: {e}") from None
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False)
        return np.loadtxt(path, delimiter=",", ndmin=1, dtype=np.float64)
    except (OSError, ValueError, EOFError) as e:
        what = "a .npy array" if path.suffix == ".npy" else "one number per line"
        raise InputError(f"{KEY}: cannot read {path} as {what} ({data_mod.one_line(e)})"
                         ) from None


def check_weights(values: np.ndarray | Tensor, n: int, where: str) -> Tensor:
    """``n`` finite weights ``>= 0``, not all 0, as float64 ``(n,)``; else one clear error."""
    a = np.asarray(values)
    if a.dtype.kind not in "biuf":
        raise InputError(f"{KEY} ({where}): expected numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if a.ndim == 2 and 1 in a.shape:
        a = a.ravel()
    if a.shape != (n,):
        raise InputError(f"{KEY} ({where}): expected {n} weights (one per row of the data), "
                         f"got shape {a.shape}")
    bad = np.flatnonzero(~np.isfinite(a) | (a < 0))
    if bad.size:
        raise InputError(f"{KEY} ({where}): weights must be finite and >= 0; row {bad[0]} "
                         f"is {float(a[bad[0]])!r}")
    if not a.sum() > 0:
        raise InputError(f"{KEY} ({where}): all weights are 0 (no row would be fitted)")
    return torch.from_numpy(a)


def _csv_column(d: CsvData, X: Tensor) -> tuple[Tensor, Tensor]:
    """The weight column out of ``X`` (which :func:`lasso_torch.data.load_csv` built from
    every column but the target)."""
    path = Path(d.path)
    with path.open(newline="", encoding="utf-8") as f:
        header = [h.strip() for h in next(csv.reader(f, delimiter=d.delimiter))]
    key = d.sample_weight
    if isinstance(key, int) and -len(header) <= key < len(header):
        col = key % len(header)
    elif isinstance(key, str) and key in header:
        col = header.index(key)
    else:
        raise InputError(f"{KEY}: {path} has no column {key!r}; columns are "
                         f"{', '.join(header)}")
    target = data_mod.target_column(path, header, d.target)
    if col == target:
        raise InputError(f"{KEY}: column {key!r} of {path} is the target")
    j = col - (col > target)  # its position among the features
    return torch.cat([X[:, :j], X[:, j + 1:]], 1), X[:, j].clone()


def _npz_array(path: Path, name: str) -> np.ndarray:
    with np.load(path, allow_pickle=False) as f:
        if name not in f.files:
            raise InputError(f"{KEY}: {path} has no array {name!r}; arrays are {f.files}")
        return f[name]


__all__ = ["check_weights", "load_sample_weight", "read_file"]
