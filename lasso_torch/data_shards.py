"""Row shards: one contiguous block of rows per process (for :mod:`lasso_torch.distributed`),
read from the synthetic generator's blocks, an ``.npz`` or a CSV file without loading the
rest. (:func:`shard_rows`, the split itself, lives in :mod:`lasso_torch.data`.)"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .data import (
    check_data,
    check_zip,
    existing_file,
    one_line,
    parse_csv_rows,
    shard_rows,
    target_column,
    to_tensor,
)
from .errors import InputError


def _npy_header(member) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` of an ``.npy`` stream, left just past its header."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(member)
    return np.lib.format.read_array_header_2_0(member)


def _npy_rows(member, rows: slice, path: Path) -> tuple[np.ndarray, int]:
    """Rows ``rows`` of a 1-D/2-D ``.npy`` stream (seeking past the others), and its n."""
    shape, fortran, dt = _npy_header(member)
    if dt.hasobject or len(shape) not in (1, 2):
        raise InputError(f"{path}: expected a numeric 1-D or 2-D array, got shape {shape}")
    n = shape[0]
    a, b, _ = rows.indices(n)
    b = max(a, b)
    width = int(np.prod(shape[1:], dtype=np.int64))
    if fortran:  # column-major: the rows are not contiguous; read all, keep ours
        full = np.frombuffer(member.read(), dtype=dt).reshape(shape, order="F")
        return np.array(full[a:b], dtype=np.float64), n
    member.seek(member.tell() + a * width * dt.itemsize)
    raw = member.read((b - a) * width * dt.itemsize)
    return np.frombuffer(raw, dtype=dt).reshape((b - a, *shape[1:])).astype(np.float64), n


def load_npz_shard(
    path: str | Path,
    rank: int,
    world: int,
    target: str | int = "y",
    *,
    features: str = "X",
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> tuple[Tensor, Tensor]:
    """Rank ``rank``'s rows (:func:`shard_rows`) of an ``.npz`` file, as :func:`load_npz`.

    Reads only this rank's rows of each array (for an uncompressed ``np.savez`` file it
    seeks straight to them; a compressed one is decompressed as a stream up to them), so
    no process holds the whole design.
    """
    import zipfile

    path = existing_file(path)
    check_zip(path)
    try:
        with zipfile.ZipFile(path) as z:
            names = [m[:-4] for m in z.namelist() if m.endswith(".npy")]
            if features not in names:
                raise InputError(f"{path}: no array {features!r}; arrays are {names}")
            with z.open(features + ".npy") as m:
                n = _npy_header(m)[0][0]
            part = shard_rows(n, rank, world)
            with z.open(features + ".npy") as m:
                X, _ = _npy_rows(m, part, path)
            if isinstance(target, int):
                if X.ndim != 2 or not -X.shape[1] <= target < X.shape[1]:
                    raise InputError(f"{path}: target column {target} out of range")
                y = X[:, target]
                X = np.delete(X, target % X.shape[1], axis=1)
            elif target in names:
                with z.open(target + ".npy") as m:
                    y, n_y = _npy_rows(m, part, path)
                if n_y != n:
                    raise InputError(f"{path}: {features!r} has {n} rows but {target!r} {n_y}")
            else:
                raise InputError(f"{path}: no array {target!r}; arrays are {names}")
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        if isinstance(e, InputError):
            raise
        raise InputError(f"{path}: not a readable .npz file ({one_line(e)})") from None
    return check_data(to_tensor(X, dtype, device), to_tensor(y, dtype, device),
                      f"{path} (rows {part.start}..{part.stop} of rank {rank}/{world})")


def load_csv_shard(
    path: str | Path,
    target: str | int,
    rank: int,
    world: int,
    *,
    delimiter: str = ",",
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> tuple[Tensor, Tensor]:
    """Rank ``rank``'s rows (:func:`shard_rows`) of a CSV file, as :func:`load_csv`.

    Two streaming passes: one counts the data rows, one parses only this rank's rows.
    """
    import itertools

    path = existing_file(path)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            n = sum(1 for _ in csv.reader(f, delimiter=delimiter)) - 1
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: not a readable CSV text file ({one_line(e)})") from None
    if n < 0:
        raise InputError(f"{path}: the file is empty (a header row is expected)")
    part = shard_rows(n, rank, world)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = [h.strip() for h in next(reader)]
        col = target_column(path, header, target)
        rows = itertools.islice(reader, part.start, part.stop)
        values = parse_csv_rows(path, rows, part.stop - part.start, len(header),
                             first_line=part.start + 2)
    y = values[:, col]
    X = np.delete(values, col, axis=1)
    return check_data(to_tensor(X, dtype, device), to_tensor(y, dtype, device),
                      f"{path} (rows {part.start}..{part.stop} of rank {rank}/{world})")


__all__ = ["load_csv_shard", "load_npz_shard"]
