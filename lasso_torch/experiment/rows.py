"""Where a run's rows come from: the device, the data's description, and this rank's rows
of the configured data (all of them in one process)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .. import data as data_mod
from .. import data_shards
from ..errors import InputError
from .config import (
    Config,
    CsvData,
    DiabetesData,
    LibsvmData,
    NpzData,
    SparseSyntheticData,
    SyntheticData,
)


def resolve_device(spec: str) -> torch.device:
    """``auto`` -> cuda if available else cpu; ``cuda`` without CUDA is an :class:`InputError`."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"device: {spec!r} requested but CUDA is not available on this "
                             "machine (use device: cpu or auto)")
        index = int(spec.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise InputError(f"device: {spec!r} but only {torch.cuda.device_count()} CUDA "
                             "device(s) are visible")
    return torch.device(spec)


@dataclass
class Problem:
    """The rows of a run in float64 (this process's, for a sharded run), their statistics
    and the true coefficients of synthetic data."""

    X: Tensor
    y: Tensor
    beta_true: Tensor | None = None
    n: int = 0
    alpha_max: float = math.nan
    arrays: dict[str, np.ndarray] | None = None  # gram, xty, yty, n when p <= 50
    sample_weight: Tensor | None = None  # data.sample_weight (float64, as read)


def describe_data(config: Config) -> str:
    """The data source in a few words, with the resolved path of a file."""
    d = config.data
    return (f"{d.kind} file {d.path}" if isinstance(d, (CsvData, NpzData, LibsvmData))
            else f"{d.kind} data")


def column_names(config: Config, p: int) -> list[str] | None:
    """The features' names, carried from the data into every figure and table: the CSV
    header (without the target and a ``sample_weight`` column), the diabetes set's
    variables; None for synthetic and NPZ data (the figures then say ``x0 .. x{p-1}``)."""
    d = config.data
    if isinstance(d, DiabetesData):
        names = list(data_mod.DIABETES_FEATURES)
    elif isinstance(d, CsvData):
        try:
            with open(d.path, newline="", encoding="utf-8") as f:
                header = [h.strip() for h in next(csv.reader(f, delimiter=d.delimiter))]
        except (OSError, StopIteration, UnicodeDecodeError, csv.Error):
            return None
        drop = {data_mod.target_column(Path(d.path), header, d.target)}
        sw = d.sample_weight
        if isinstance(sw, str) and sw in header:
            drop.add(header.index(sw))
        elif isinstance(sw, int) and -len(header) <= sw < len(header):
            drop.add(sw % len(header))
        names = [h for i, h in enumerate(header) if i not in drop]
    else:
        return None
    return names if len(names) == p else None


def load_rows(config: Config, rank: int = 0, world: int = 1
              ) -> tuple[Tensor, Tensor, Tensor | None]:
    """Rows ``rank`` of ``world`` of the configured data (float64, CPU; all of them for a
    world of one) and the true coefficients of synthetic data."""
    d = config.data
    if isinstance(d, SyntheticData):
        seed = config.seed if d.seed is None else d.seed
        rows = None if world == 1 else data_mod.shard_rows(d.n, rank, world)
        X, y, beta = data_mod.make_synthetic(d.n, d.p, d.correlation, d.density, d.snr, seed,
                                             rows=rows)
        if config.objective.loss == "logistic":  # labels of the same sparse linear model
            y = (y > y.median()).to(y.dtype)
        return X, y, beta
    if isinstance(d, (LibsvmData, SparseSyntheticData)):  # X stays sparse (torch CSR)
        return _sparse_rows(config, d, world)
    if world == 1 and isinstance(d, CsvData):
        X, y = data_mod.load_csv(d.path, d.target, delimiter=d.delimiter)
    elif world == 1 and isinstance(d, NpzData):
        X, y = data_mod.load_npz(d.path, d.target, features=d.features)
    elif isinstance(d, CsvData):
        X, y = data_shards.load_csv_shard(d.path, d.target, rank, world, delimiter=d.delimiter)
    elif isinstance(d, NpzData):
        X, y = data_shards.load_npz_shard(d.path, rank, world, d.target, features=d.features)
    elif isinstance(d, DiabetesData):
        X, y = data_mod.load_diabetes()
        part = data_mod.shard_rows(X.shape[0], rank, world)
        X, y = X[part], y[part]
    else:  # pragma: no cover (the schema allows nothing else)
        raise InputError(f"data.kind {d.kind!r} is not supported")
    return X, y, None


def _sparse_rows(config: Config, d: LibsvmData | SparseSyntheticData, world: int
                 ) -> tuple[Tensor, Tensor, Tensor | None]:
    """A sparse data kind's rows (all of them: sparse data runs in one process)."""
    from .. import data_sparse

    if world > 1:
        raise InputError(f"data.kind {d.kind!r}: sparse data runs locally (not sharded)")
    if isinstance(d, LibsvmData):
        X, y = data_sparse.load_svmlight(d.path, n_features=d.n_features)
        return X, y, None
    seed = config.seed if d.seed is None else d.seed
    return data_sparse.make_sparse_synthetic(
        d.n, d.p, d.density, power=d.power, informative=d.informative, snr=d.snr, seed=seed,
        loss=config.objective.loss)
