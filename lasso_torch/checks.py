"""Input checks written once: data conversion (:func:`as_data`) and the option checks
(alpha, l1_ratio, grids) that ``solve``, ``lasso_path``, CV, the config and the estimators
share."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .data import check_data
from .errors import InputError
from .sparse import from_scipy, is_sparse


def as_data(X: Any, y: Any, targets: bool = False) -> tuple[Tensor, Tensor]:
    """Validate and convert ``X (n, p)``, ``y (n,)``: same float dtype and device, finite.

    ``X`` may be sparse (a torch sparse tensor, or scipy.sparse: converted to torch CSR, never
    densified); with ``targets``, ``y`` may be ``(n, T)`` (``T`` targets solved together)."""
    if hasattr(X, "tocsr") and not isinstance(X, Tensor):  # scipy.sparse
        X = from_scipy(X, torch.float64 if X.dtype != np.float32 else torch.float32, "cpu")
    X = torch.as_tensor(X)
    if not X.is_floating_point():
        X = X.to(torch.get_default_dtype())
    y = torch.as_tensor(y, device=X.device).to(X.dtype)
    if targets and y.dim() == 2:
        if y.shape[1] == 0:
            raise InputError("y has zero targets")
        check_data(_probe(X), y[:, 0], source=None)
        if not bool(torch.isfinite(y).all()):
            raise InputError("y has NaN/inf values")
    else:
        check_data(_probe(X), y, source=None)
    return X, y


def _probe(X: Tensor) -> Tensor:
    """``X`` for :func:`check_data`: a sparse ``X`` is checked here (shape, stored values
    finite) and stands in as one zero column (n values, never a dense copy)."""
    if not is_sparse(X):
        return X
    if X.dim() != 2:
        raise InputError(f"X must be 2-D (n_samples, n_features), got shape {tuple(X.shape)}")
    if X.shape[1] == 0:
        raise InputError("the data has zero features")
    if not bool(torch.isfinite(X.values()).all()):
        raise InputError("X has NaN/inf values (among its stored entries)")
    return torch.zeros(X.shape[0], 1, dtype=X.dtype, device=X.device)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_alpha(alpha: Any, name: str = "alpha") -> float:
    """A finite number > 0."""
    if not (_number(alpha) and math.isfinite(alpha) and alpha > 0):
        raise InputError(f"{name} must be a finite number > 0, got {alpha!r}")
    return float(alpha)


def check_l1_ratio(l1_ratio: Any) -> float:
    """A number in [0, 1]."""
    if not (_number(l1_ratio) and 0.0 <= l1_ratio <= 1.0):
        raise InputError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}")
    return float(l1_ratio)


def check_options(tol: Any, max_iter: Any, check_every: Any, lr: Any) -> None:
    """The loop's options: ``tol >= 0``, integers ``>= 1``, ``lr`` None or > 0."""
    if not (_number(tol) and tol >= 0):
        raise InputError(f"tol must be a number >= 0, got {tol!r}")
    for name, v in (("max_iter", max_iter), ("check_every", check_every)):
        if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
            raise InputError(f"{name} must be an integer >= 1, got {v!r}")
    if lr is not None and not (_number(lr) and math.isfinite(lr) and lr > 0):
        raise InputError(f"lr must be a finite number > 0, got {lr!r}")


def check_alphas(alphas: Any, like: Tensor) -> Tensor:
    """A non-empty grid of finite numbers > 0, sorted descending, on ``like``'s device/dtype
    (read in float64 first: a Python list would otherwise round to float32)."""
    try:
        a = torch.as_tensor(alphas, dtype=torch.float64).reshape(-1)
    except (TypeError, ValueError, RuntimeError):
        raise InputError(f"alphas must be a list of numbers, got {alphas!r}") from None
    if a.numel() == 0 or not bool((a > 0).all() & torch.isfinite(a).all()):
        raise InputError("alphas must be a non-empty list of finite numbers > 0")
    return a.sort(descending=True).values.to(dtype=like.dtype, device=like.device)


def check_sample_weight(sample_weight: Any, X: Tensor) -> Tensor | None:
    """``(n,)`` finite weights ``>= 0`` with a positive sum, rescaled to sum ``n`` (as
    scikit-learn does: the objective is then ``1/(2n) sum s_i r_i^2``); None stays None."""
    if sample_weight is None:
        return None
    s = torch.as_tensor(np.asarray(sample_weight, dtype=np.float64) if not isinstance(
        sample_weight, Tensor) else sample_weight).to(dtype=X.dtype, device=X.device)
    n = X.shape[0]
    if s.dim() == 0:
        s = s.expand(n).clone()
    if s.shape != (n,):
        raise InputError(f"sample_weight must have shape ({n},), got {tuple(s.shape)}")
    if not bool(torch.isfinite(s).all() & (s >= 0).all()) or not float(s.sum()) > 0:
        raise InputError("sample_weight must be finite, >= 0 and not all 0")
    return s * (n / s.sum())
