r"""Sparse data: libsvm / svmlight files and a synthetic text-like design, as torch CSR.

:func:`load_svmlight` reads the format of the field's sparse benchmark sets (rcv1, news20,
E2006, ...: ``label index:value ...`` per line) with scikit-learn's
``load_svmlight_file``; ``X`` comes back as a torch CSR tensor (never densified).

:func:`make_sparse_synthetic` draws a bag-of-words-like design: ``nnz = density n p``
stored entries (to 0.5 %) at uniformly drawn rows and at columns drawn with power-law
(Zipf) frequencies ``P(j) ~ (j + 1)^-power`` (a few frequent terms, a long tail of rare
ones; a draw on an entry already stored adds to it, and more are drawn), values
``log(1 + count)`` with counts geometric(1/2) (term frequencies) times the smooth idf
``ln((1 + n) / (1 + df_j)) + 1``, each row then scaled to unit l2 norm (scikit-learn's
``TfidfTransformer``; ``tfidf=False``: the raw term frequencies); ``beta`` has
``informative`` nonzeros of random sign and magnitude in [1, 2] among columns 10..5000 (the
frequent columns (seeded), and::

    y = X beta + sigma eps,   sigma = std(X beta) / sqrt(snr)

(``loss="logistic"``: the labels ``1[X beta + sigma eps > median]``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .data import existing_file, one_line
from .errors import InputError
from .sparse import from_scipy


def _check_sparse(X: Tensor, y: Tensor, source: str) -> tuple[Tensor, Tensor]:
    """The checks of :func:`lasso_torch.data.check_data` for a sparse ``X`` (its stored
    values) and ``y``."""
    if y.shape[0] != X.shape[0] or X.shape[0] < 1 or X.shape[1] < 1:
        raise InputError(f"{source}: X has shape {tuple(X.shape)}, y has {y.shape[0]} rows")
    if not bool(torch.isfinite(X.values()).all()):
        raise InputError(f"{source}: X holds NaN or inf")
    if not bool(torch.isfinite(y).all()):
        raise InputError(f"{source}: y holds NaN or inf")
    return X, y


def load_svmlight(path: str | Path, *, n_features: int | None = None,
                  zero_based: bool | str = "auto", dtype: torch.dtype = torch.float64,
                  device: str | torch.device = "cpu") -> tuple[Tensor, Tensor]:
    """A libsvm / svmlight file (``.bz2`` / ``.gz`` read as such) as ``(X CSR, y)``."""
    from sklearn.datasets import load_svmlight_file

    path = existing_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            A, y = load_svmlight_file(str(path), n_features=n_features, zero_based=zero_based,
                                      dtype=np.float64)
    except Exception as e:  # noqa: BLE001 (the parser's errors: a malformed file)
        raise InputError(f"{path}: not a readable libsvm/svmlight file ({one_line(e)})"
                         ) from None
    X = from_scipy(A, dtype, device)
    return _check_sparse(X, torch.as_tensor(y, dtype=dtype, device=device), str(path))


def make_sparse_synthetic(n: int = 20_000, p: int = 50_000, density: float = 0.001, *,
                          power: float = 1.1, informative: int = 100, snr: float = 3.0,
                          tfidf: bool = True,
                          seed: int = 0, loss: str = "squared", dtype: torch.dtype =
                          torch.float64, device: str | torch.device = "cpu"
                          ) -> tuple[Tensor, Tensor, Tensor]:
    """``(X CSR (n, p), y (n,), beta (p,))``: the text-like design of the module docstring."""
    from scipy import sparse as scipy_sparse

    if not (n >= 1 and p >= 1 and 0 < density <= 1 and power >= 0 and informative >= 1):
        raise InputError(f"sparse synthetic data: need n, p, informative >= 1, 0 < density "
                         f"<= 1, power >= 0 (got n={n}, p={p}, density={density}, "
                         f"power={power}, informative={informative})")
    rng = np.random.default_rng(seed)
    target = max(1, int(density * n * p))
    freq = 1.0 / np.arange(1, p + 1) ** power
    freq /= freq.sum()
    A = scipy_sparse.csr_matrix((n, p))
    for _ in range(30):  # draws land on entries already stored: draw again up to the target
        k = target - A.nnz
        if k <= 0.005 * target:
            break
        vals = np.log1p(rng.geometric(0.5, size=k)).astype(np.float64)
        A = A + scipy_sparse.csr_matrix(
            (vals, (rng.integers(0, n, size=k), rng.choice(p, size=k, p=freq))), shape=(n, p))
        A.sum_duplicates()
    if tfidf:  # scikit-learn's TfidfTransformer: smooth idf, rows of unit l2 norm
        df = np.bincount(A.indices, minlength=p)
        A.data *= (np.log((1.0 + n) / (1.0 + df)) + 1.0)[A.indices]
        norms = np.sqrt(np.asarray(A.multiply(A).sum(1)).ravel())
        A = scipy_sparse.diags(np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0),
                                        0.0)) @ A
        A = A.tocsr()
    k = min(informative, p)
    beta = np.zeros(p)
    support = rng.choice(np.arange(min(10, p - k), min(p, 5000)), size=k, replace=False)
    beta[support] = rng.choice([-1.0, 1.0], k) * rng.uniform(1.0, 2.0, k)
    signal = A @ beta
    y = signal + rng.standard_normal(n) * (signal.std() / np.sqrt(snr) if signal.std() > 0
                                           else 1.0)
    if loss == "logistic":
        y = (y > np.median(y)).astype(np.float64)
    X = from_scipy(A, dtype, device)
    yt = torch.as_tensor(y, dtype=dtype, device=device)
    return X, yt, torch.as_tensor(beta, dtype=dtype, device=device)


def standardize_sparse(X: Tensor, sample_weight: Tensor | None = None
                       ) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`lasso_torch.data.standardize` for a CSR ``X``, kept sparse: each column
    divided by its (weighted, population) standard deviation, *not* centered (centering
    would fill every entry; with an intercept the solution is the same, the centering is the
    solvers' implicit one). Returns ``(X_scaled, mean, scale)``, ``X = X_scaled * scale``."""
    X = X if X.layout == torch.sparse_csr else X.to_sparse_csr()
    n, p = X.shape
    crow, col, val = X.crow_indices(), X.col_indices(), X.values()
    row = torch.repeat_interleave(torch.arange(n, device=X.device), crow.diff())
    s = (torch.ones(n, dtype=X.dtype, device=X.device) if sample_weight is None
         else sample_weight.to(X) / sample_weight.to(X).sum() * n)
    sv = s[row]
    mean = torch.zeros(p, dtype=X.dtype, device=X.device).index_add_(0, col, sv * val) / n
    sq = torch.zeros(p, dtype=X.dtype, device=X.device).index_add_(
        0, col, sv * (val - mean[col]) ** 2)
    stored = torch.zeros(p, dtype=X.dtype, device=X.device).index_add_(0, col, sv)
    var = (sq + (n - stored).clamp(min=0) * mean * mean) / n  # the unstored zeros' share
    scale = torch.where(var > 0, var.sqrt(), torch.ones_like(var))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = torch.sparse_csr_tensor(crow, col, val / scale[col], size=(n, p))
    return out, mean, scale


__all__ = ["load_svmlight", "make_sparse_synthetic", "standardize_sparse"]
