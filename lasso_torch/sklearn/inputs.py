"""What the estimators do with their inputs before a solve: validation the scikit-learn way,
numpy / scipy.sparse to torch (sparse stays sparse), dtypes and devices, ``sample_weight``,
``precompute`` (a Gram matrix checked as scikit-learn checks it), and scikit-learn's
stopping threshold."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from scipy import sparse as scipy_sparse
from sklearn.utils.validation import _check_sample_weight, validate_data

from ..errors import InputError
from ..sparse import from_scipy

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def torch_dtype(dtype: Any, data_dtype: np.dtype) -> torch.dtype:
    """The compute dtype: ``dtype`` if given (``"float32"``, ``"float64"``, a torch or numpy
    float dtype), else the data's own (float32 stays float32, anything else is float64)."""
    if dtype is None:
        return torch.float32 if data_dtype == np.float32 else torch.float64
    if isinstance(dtype, torch.dtype):
        if not dtype.is_floating_point:
            raise InputError(f"dtype must be a floating point dtype, got {dtype}")
        return dtype
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = str(dtype)
    if name not in _DTYPES:
        raise InputError(f"dtype must be None, 'float32' or 'float64', got {dtype!r}")
    return _DTYPES[name]


def torch_device(device: Any) -> torch.device:
    """``device`` as a ``torch.device`` (``None`` is the CPU); a clear error if unknown."""
    try:
        dev = torch.device("cpu" if device is None else device)
    except (RuntimeError, TypeError) as err:
        raise InputError(f"device must be a torch device such as 'cpu' or 'cuda', got "
                         f"{device!r}") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r}: CUDA is not available on this machine")
    return dev


def to_tensor(a: Any, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A numpy array (shared when it can be) or a scipy.sparse matrix (as torch CSR) on
    ``device`` in ``dtype`` (read-only arrays are copied, not shared)."""
    if scipy_sparse.issparse(a):
        return from_scipy(a, dtype, device)
    if not a.flags.writeable:
        a = a.copy()
    return torch.as_tensor(a).to(device=device, dtype=dtype)


def validate_fit(est: Any, X: Any, y: Any, check_input: bool, multi_output: bool = True
                 ) -> tuple[Any, np.ndarray]:
    """``X`` (dense float or scipy CSR/CSC) and ``y`` (``(n,)`` or ``(n, T)``) as scikit-learn
    validates them; with ``check_input=False`` only converted (``y`` to ``X``'s dtype)."""
    if check_input:
        X, y = validate_data(est, X, y, accept_sparse=["csr", "csc"],
                             dtype=[np.float64, np.float32], multi_output=multi_output,
                             y_numeric=True)
    else:
        est.n_features_in_ = X.shape[1]
    y = np.asarray(y, dtype=X.dtype)
    if y.ndim == 2 and y.shape[1] == 1 and not multi_output:
        y = y[:, 0]
    return X, y


def sample_weights(sample_weight: Any, X: Any) -> np.ndarray | None:
    """``(n,)`` weights as scikit-learn reads them (a number is that weight for every row);
    never the caller's array (it is not modified)."""
    if sample_weight is None:
        return None
    return _check_sample_weight(sample_weight, X, dtype=X.dtype, copy=True,
                                ensure_non_negative=True)


def offsets(X: Any, sw: np.ndarray | None) -> np.ndarray:
    """The (weighted) column means of ``X``."""
    if scipy_sparse.issparse(X):
        w = np.ones(X.shape[0]) if sw is None else sw
        return np.asarray(X.T @ w).ravel() / w.sum()
    return np.average(X, axis=0, weights=sw)


def precomputed_gram(precompute: Any, X: Any, sw: np.ndarray | None, fit_intercept: bool,
                     dtype: torch.dtype, device: torch.device) -> bool | str | torch.Tensor:
    """``precompute`` as ``lt.solve``'s ``gram``: a flag, ``"auto"``, or a user Gram matrix
    ``X_c^T S X_c`` (scikit-learn's scaling, weights summing to ``n``) checked on one entry
    and passed as ``G / n``. A Gram matrix of an uncentered ``X`` with an intercept is
    recomputed, with scikit-learn's warning."""
    if isinstance(precompute, (bool, str)) or precompute is None:
        if isinstance(precompute, str) and precompute != "auto":
            raise InputError(f"precompute must be True, False, 'auto' or an array, got "
                             f"{precompute!r}")
        return bool(precompute) if not isinstance(precompute, str) else "auto"
    G = np.asarray(precompute)
    p = X.shape[1]
    if G.shape != (p, p):
        raise InputError(f"precompute must be a ({p}, {p}) Gram matrix, got {G.shape}")
    xm = offsets(X, sw) if fit_intercept else np.zeros(p)
    if fit_intercept and not np.allclose(xm, 0):
        warnings.warn("Gram matrix was provided but X was centered to fit intercept: "
                      "recomputing Gram matrix.", UserWarning, stacklevel=4)
        return True
    n = X.shape[0]
    s = np.ones(n) if sw is None else sw * (n / sw.sum())
    i = p // 2
    j = min(i + 1, p - 1)
    cols = [np.asarray(X[:, k].todense()).ravel() if scipy_sparse.issparse(X) else X[:, k]
            for k in (i, j)]
    expected = float(np.sum(s * (cols[0] - xm[i]) * (cols[1] - xm[j])))
    rtol = 1e-4 if X.dtype == np.float32 else 1e-7
    if not np.isclose(expected, G[i, j], rtol=rtol, atol=1e-5 if rtol > 1e-7 else 1e-8):
        raise InputError(
            f"Gram matrix passed in via 'precompute' parameter did not pass validation when "
            f"a single element was checked - please check that it was computed properly. "
            f"For element ({i},{j}) we computed {expected} but the user-supplied value was "
            f"{G[i, j]}.")
    return torch.as_tensor(G / n).to(dtype=dtype, device=device)


def abs_tol(y: np.ndarray, sw: np.ndarray | None, tol: float, fit_intercept: bool
            ) -> np.ndarray:
    """scikit-learn's stopping threshold on the duality gap, per target:
    ``tol * ||y_c||^2_S / n`` (weights summing to ``n``)."""
    s = np.ones(y.shape[0]) if sw is None else sw * (y.shape[0] / sw.sum())
    yc = y - np.average(y, axis=0, weights=s) if fit_intercept else y
    return tol * np.einsum("i,i...->...", s, yc * yc) / y.shape[0]
