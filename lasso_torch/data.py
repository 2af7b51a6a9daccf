"""Data sources: a seeded synthetic design, CSV / NPZ files, the bundled diabetes data.

Every loader returns ``(X, y)`` (the synthetic one also ``beta_true``) as tensors of the
requested dtype and device, validated: 2-D ``X``, matching rows, at least one row and one
feature, no NaN/inf. Problems raise :class:`lasso_torch.InputError` naming the source.

Synthetic data (:func:`make_synthetic`)::

    x_i ~ N(0, Sigma),  Sigma_jk = correlation^|j-k|   (Toeplitz, an AR(1) along features)
    y_i = x_i^T beta + sigma * eps_i,  sigma^2 = beta^T Sigma beta / snr

``beta`` has ``max(1, round(density * p))`` nonzeros at seeded positions with random signs
and magnitudes in [1, 2]. ``sigma`` comes from the *population* signal variance, so no pass
over the data is needed, and rows are drawn in fixed blocks of ``BLOCK_ROWS``, each from its
own generator seeded by ``(seed, block index)``: ``rows=slice(a, b)`` gives exactly rows
``a..b`` of the full data set, whatever the split (the distributed solvers shard with it).
"""

from __future__ import annotations

import csv
import gzip
import math
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .errors import InputError, excerpt
from .files import existing_file

BLOCK_ROWS = 1024
"""Rows per independently seeded block of synthetic data."""

_CHUNK = 64  # features per triangular solve of the AR(1) recursion

DIABETES_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
"""Column names of :func:`load_diabetes` (Efron, Hastie, Johnstone, Tibshirani 2004)."""


# --- validation -------------------------------------------------------------------------
def check_data(X: Tensor, y: Tensor, source: str | None = "data") -> tuple[Tensor, Tensor]:
    """Check shapes and finiteness; ``source`` names the file or generator in the message."""
    at = f"{source}: " if source else ""
    for name, t in (("X", X), ("y", y)):
        if t.is_complex():
            raise InputError(f"{at}{name} is complex ({t.dtype}); the solvers need real "
                             "numbers (take .real or .abs() yourself if that is meant)")
    if X.dim() != 2:
        raise InputError(f"{at}X must be 2-D (n_samples, n_features), got shape {tuple(X.shape)}")
    if y.dim() != 1:
        raise InputError(f"{at}y must be 1-D (n_samples,), got shape {tuple(y.shape)}")
    if X.shape[0] != y.shape[0]:
        raise InputError(f"{at}X has {X.shape[0]} rows but y has {y.shape[0]}")
    if X.shape[0] == 0:
        raise InputError(f"{at}the data has zero rows")
    if X.shape[1] == 0:
        raise InputError(f"{at}the data has zero features")
    for name, t in (("X", X), ("y", y)):
        # one read of the data in the common case: NaN and inf propagate through a sum
        # (a sum that merely overflows falls through to the exact check below)
        if bool(torch.isfinite(t.sum())):
            continue
        bad = ~torch.isfinite(t)
        if bool(bad.any()):
            where = tuple(int(i) for i in bad.nonzero()[0])
            raise InputError(
                f"{at}{name} has {int(bad.sum())} NaN/inf value(s), first at index {where}"
            )
    return X, y


def check_scale(X: Tensor, y: Tensor, source: str | None = "data") -> None:
    """Refuse data whose squares overflow its dtype: the Gram matrix, the Lipschitz
    constant and the objective would be inf (the solvers would report nonsense)."""
    at = f"{source}: " if source else ""
    big = torch.finfo(X.dtype).max / max(X.shape[0], X.shape[1], 1)
    for name, t in (("X", X), ("y", y)):
        t = t.values() if t.layout != torch.strided else t  # a sparse X: its stored values
        if t.numel() == 0:
            continue
        lo, hi = torch.aminmax(t)  # one pass (the inf-norm kernel takes 10x longer)
        top = max(-float(lo), float(hi))
        if top * top > big:
            raise InputError(f"{at}{name} has values up to {top:.3g}: their squares overflow "
                             f"{str(X.dtype).removeprefix('torch.')} (the objective, the "
                             "Gram matrix and the step size would be inf); rescale the data "
                             "(lt.standardize, or objective.standardize: true in a config)")


def to_tensor(a: np.ndarray | Tensor, dtype: torch.dtype, device: str | torch.device) -> Tensor:
    return torch.as_tensor(a).to(dtype=dtype, device=device)


# --- synthetic --------------------------------------------------------------------------
def _block_generator(seed: int, block: int) -> torch.Generator:
    """A CPU generator for one block, from ``(seed, block)`` (independent streams)."""
    key = np.random.SeedSequence([seed, block]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(key[0]) << 32 | int(key[1]))


def _true_coef(p: int, density: float, seed: int) -> Tensor:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2**31 - 1]))
    k = max(1, min(p, round(density * p)))
    support = np.sort(rng.choice(p, size=k, replace=False))
    beta = np.zeros(p)
    beta[support] = rng.choice([-1.0, 1.0], size=k) * rng.uniform(1.0, 2.0, size=k)
    return torch.from_numpy(beta)


def _toeplitz_quadratic(beta: np.ndarray, rho: float) -> float:
    """``beta^T Sigma beta`` for ``Sigma_jk = rho^|j-k|`` by two first-order filters."""
    fwd, bwd = np.empty_like(beta), np.empty_like(beta)
    acc = 0.0
    for j in range(beta.size):
        acc = beta[j] + rho * acc
        fwd[j] = acc
    acc = 0.0
    for j in range(beta.size - 1, -1, -1):
        acc = beta[j] + rho * acc
        bwd[j] = acc
    return float(beta @ (fwd + bwd - beta))


def _ar1_columns(zt: Tensor, rho: float) -> Tensor:
    """Rows with correlation ``rho^|j-k|`` from i.i.d. normal ``zt`` (p, m): an (m, p) view.

    ``x_0 = z_0``, ``x_j = rho x_{j-1} + sqrt(1 - rho^2) z_j``, evaluated ``_CHUNK``
    features at a time as one lower-triangular product (only non-negative powers of rho).
    """
    if rho == 0.0:
        return zt.T
    p = zt.shape[0]
    c = math.sqrt(1.0 - rho * rho)
    xt = torch.empty_like(zt)
    xt[0] = zt[0]
    idx = torch.arange(_CHUNK, dtype=zt.dtype)
    diff = idx[:, None] - idx[None, :]
    tri = torch.where(diff >= 0, rho ** diff.clamp(min=0), torch.zeros((), dtype=zt.dtype)) * c
    carry_pow = (rho ** (idx + 1))[:, None]
    start = 1
    while start < p:
        stop = min(p, start + _CHUNK)
        w = stop - start
        xt[start:stop] = tri[:w, :w] @ zt[start:stop] + carry_pow[:w] * xt[start - 1]
        start = stop
    return xt.T


def make_synthetic(
    n: int,
    p: int,
    correlation: float = 0.0,
    density: float = 0.1,
    snr: float = 3.0,
    seed: int = 0,
    *,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
    rows: slice | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """A correlated Gaussian design with a known sparse truth: ``(X, y, beta_true)``.

    Args:
        n, p: rows and features of the full data set.
        correlation: ``rho`` in ``Sigma_jk = rho^|j-k|``, in (-1, 1).
        density: fraction of nonzero true coefficients (at least one).
        snr: signal-to-noise ratio ``beta^T Sigma beta / sigma^2`` (``inf``: no noise).
        seed: the only source of randomness; the same seed gives the same data bit for bit.
        dtype, device: of the returned tensors (generated in float64 on the CPU).
        rows: ``slice(a, b)`` returns only rows ``a..b`` of the full data (same values).
    """
    if not (isinstance(n, int) and n >= 1 and isinstance(p, int) and p >= 1):
        raise InputError(f"synthetic data needs n >= 1 and p >= 1, got n={n!r}, p={p!r}")
    if not -1.0 < correlation < 1.0:
        raise InputError(f"correlation must be in (-1, 1), got {correlation!r}")
    if not 0.0 <= density <= 1.0:
        raise InputError(f"density must be in [0, 1], got {density!r}")
    if not snr > 0:
        raise InputError(f"snr must be > 0, got {snr!r}")
    a, b, step = (rows or slice(None)).indices(n)
    if step != 1 or b < a:
        raise InputError(f"rows must be a contiguous slice, got {rows!r}")
    beta = _true_coef(p, density, seed)
    sigma = math.sqrt(_toeplitz_quadratic(beta.numpy(), correlation) / snr)
    Xs, ys = [], []
    first, last = a // BLOCK_ROWS, (b + BLOCK_ROWS - 1) // BLOCK_ROWS
    for block in range(first, last if b > a else first):
        g = _block_generator(seed, block)
        lo = block * BLOCK_ROWS
        m = min(BLOCK_ROWS, n - lo)
        zt = torch.randn(p, m, generator=g, dtype=torch.float64)  # (p, m): chunks contiguous
        eps = torch.randn(m, generator=g, dtype=torch.float64)
        Xb = _ar1_columns(zt, correlation)
        yb = Xb @ beta + sigma * eps
        keep = slice(max(a, lo) - lo, min(b, lo + m) - lo)
        Xs.append(Xb[keep])
        ys.append(yb[keep])
    X = torch.cat(Xs) if Xs else torch.empty(0, p, dtype=torch.float64)
    y = torch.cat(ys) if ys else torch.empty(0, dtype=torch.float64)
    return to_tensor(X, dtype, device), to_tensor(y, dtype, device), to_tensor(beta, dtype, device)


# --- bundled real data ------------------------------------------------------------------
def load_diabetes(
    *, dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu"
) -> tuple[Tensor, Tensor]:
    """The LARS paper's diabetes data, raw (unscaled): ``X`` (442, 10), ``y`` (442,).

    Columns are :data:`DIABETES_FEATURES`; ``y`` is disease progression one year after
    baseline. Shipped in ``lasso_torch/datasets`` (a copy of scikit-learn's raw files; the
    source is Efron et al. 2004, https://www4.stat.ncsu.edu/~boos/var.select/diabetes.html).
    """
    folder = resources.files("lasso_torch") / "datasets"
    with (folder / "diabetes_data_raw.csv.gz").open("rb") as f:
        X = np.loadtxt(gzip.open(f))
    with (folder / "diabetes_target.csv.gz").open("rb") as f:
        y = np.loadtxt(gzip.open(f))
    return check_data(to_tensor(X, dtype, device), to_tensor(y, dtype, device), "diabetes")


# --- files ------------------------------------------------------------------------------
def target_column(path: Path, header: list[str], target: str | int) -> int:
    """The index of the target column, by name or (possibly negative) position."""
    if isinstance(target, int):
        if not -len(header) <= target < len(header):
            raise InputError(f"{path}: target column {target} out of range ({len(header)} columns)")
        return target % len(header)
    if target in header:
        return header.index(target)
    shown = ", ".join(excerpt(h, 24) for h in header[:8])
    more = f" and {len(header) - 8} more" if len(header) > 8 else ""
    raise InputError(f"{path}: no column named {excerpt(target)}; {len(header)} column(s): "
                     f"{shown}{more}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_csv_rows(path: Path, rows: Iterable[list[str]], n: int, width: int,
                first_line: int) -> np.ndarray:
    """``n`` CSV rows of ``width`` numbers each; errors name the file and line."""
    values = np.empty((n, width))
    for i, row in enumerate(rows):
        line = first_line + i
        if len(row) != width:
            raise InputError(f"{path}, line {line}: {len(row)} fields, expected {width}")
        try:
            values[i] = [float(v) for v in row]
        except ValueError:
            bad = next(v for v in row if not _is_number(v))
            raise InputError(f"{path}, line {line}: non-numeric value {excerpt(bad, 24)}"
                             ) from None
    return values


def load_csv(
    path: str | Path,
    target: str | int,
    *,
    delimiter: str = ",",
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> tuple[Tensor, Tensor]:
    """A numeric CSV file with a header row; ``target`` is the name (or index) of y's column.

    Every other column is a feature. Empty cells and ``nan``/``inf`` are rejected.
    """
    path = existing_file(path)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter=delimiter))
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: not a readable CSV text file ({one_line(e)})") from None
    if not rows:
        raise InputError(f"{path}: the file is empty (a header row is expected)")
    header = [h.strip() for h in rows[0]]
    col = target_column(path, header, target)
    values = parse_csv_rows(path, rows[1:], len(rows) - 1, len(header), first_line=2)
    y = values[:, col]
    X = np.delete(values, col, axis=1)
    return check_data(to_tensor(X, dtype, device), to_tensor(y, dtype, device), str(path))


def load_npz(
    path: str | Path,
    target: str | int = "y",
    *,
    features: str = "X",
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> tuple[Tensor, Tensor]:
    """An ``.npz`` file: arrays ``features`` (n, p) and ``target`` (n,), or, when ``target``
    is an integer, that column of the ``features`` array (the rest are the features)."""
    path = existing_file(path)
    check_zip(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            if features not in f.files:
                raise InputError(f"{path}: no array {features!r}; arrays are {f.files}")
            X = _real(path, features, f[features])
            if isinstance(target, int):
                if X.ndim != 2 or not -X.shape[1] <= target < X.shape[1]:
                    raise InputError(f"{path}: target column {target} out of range")
                y = X[:, target]
                X = np.delete(X, target % X.shape[1], axis=1)
            elif target in f.files:
                y = _real(path, target, f[target])
            else:
                raise InputError(f"{path}: no array {target!r}; arrays are {f.files}")
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 (zip, npy and format errors: a damaged file)
        raise InputError(f"{path}: not a readable .npz file ({one_line(e)})") from None
    return check_data(to_tensor(X, dtype, device), to_tensor(y, dtype, device), str(path))


def one_line(e: BaseException, limit: int = 120) -> str:
    """A library's error on one line, printable and at most ``limit`` characters (numpy
    and csv quote the offending text: a file's contents are never echoed whole)."""
    text = "".join(c if c.isprintable() else "?" for c in " ".join(str(e).split()))
    text = text if len(text) <= limit else text[:limit - 3] + "..."
    return text or type(e).__name__


def check_zip(path: Path) -> None:
    """An ``.npz`` is a zip archive: say so plainly when the file is something else."""
    with path.open("rb") as f:
        head = f.read(4)
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):
        what = "the file is empty" if not head else "it is not a zip archive (np.savez writes one)"
        raise InputError(f"{path}: not an .npz file: {what}")


def _real(path: Path, name: str, a: np.ndarray) -> np.ndarray:
    """Array ``name`` as float64; complex, text or other non-numeric arrays are refused."""
    if a.dtype.kind == "c":
        raise InputError(f"{path}: array {name!r} is complex ({a.dtype}); the solvers need "
                         "real numbers")
    if a.dtype.kind not in "biuf":
        raise InputError(f"{path}: array {name!r} has dtype {a.dtype}, expected numbers")
    return np.asarray(a, dtype=np.float64)


# --- preprocessing ----------------------------------------------------------------------
def standardize(X: Tensor, sample_weight: Tensor | None = None
                ) -> tuple[Tensor, Tensor, Tensor]:
    """Center each column and scale it to unit (population) standard deviation.

    Returns ``(X_std, mean, scale)`` with ``X = X_std * scale + mean``; constant columns
    keep scale 1 (they become zero). Coefficients on ``X_std`` map back as ``w / scale``.
    ``sample_weight`` ``(n,)`` (``>= 0``): the weighted mean and standard deviation (a row
    of weight 0 does not count; integer weights as repeated rows).
    """
    s = None if sample_weight is None else (sample_weight / sample_weight.sum()).to(X)
    mean = X.mean(0) if s is None else s @ X
    Xc = X - mean
    # the std of Xc / max|Xc_j|, times max|Xc_j|: no overflow at 1e200, no underflow at 1e-200
    top = torch.linalg.vector_norm(Xc, float("inf"), dim=0)
    top = torch.where(top > 0, top, torch.ones_like(top))
    Z = Xc / top
    scale = (Z.std(0, correction=0) if s is None else (s @ (Z * Z)).sqrt()) * top
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return Xc.div_(scale), mean, scale


# --- row shards (one block of rows per process; the file readers: lasso_torch.data_shards)
def shard_rows(n: int, rank: int, world: int) -> slice:
    """Rank ``rank``'s contiguous block of ``n`` rows split over ``world`` ranks.

    The blocks cover ``0..n`` in rank order and differ in size by at most one (the
    first ``n % world`` ranks get one row more). A rank gets an empty block when
    ``world > n``.
    """
    if not (isinstance(world, int) and world >= 1 and isinstance(rank, int)
            and 0 <= rank < world):
        raise InputError(f"need 0 <= rank < world, got rank={rank!r}, world={world!r}")
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (rank < extra))


__all__ = [  # the row-shard file readers: lasso_torch.data_shards
    "BLOCK_ROWS", "DIABETES_FEATURES", "check_data", "check_scale", "load_csv", "load_diabetes",
    "load_npz", "make_synthetic", "shard_rows", "standardize",
]
