"""Input checks written once: data conversion (:func:`as_data`) and the option checks
(alpha, l1_ratio, grids) that ``solve``, ``lasso_path``, CV, the config and the estimators
share."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .data import check_data, check_scale
from .errors import InputError
from .sparse import from_scipy, is_sparse


def _tensor(name: str, a: Any, device: torch.device | None = None) -> Tensor:
    """``a`` as a real float tensor (dense, or sparse CSR/CSC: never densified). Tensors keep
    their float dtype (integer ones take torch's default dtype); lists and arrays follow
    numpy (float64 unless float32); scipy.sparse becomes torch CSR."""
    if hasattr(a, "tocsr") and not isinstance(a, Tensor):  # scipy.sparse: torch CSR
        a = from_scipy(a, torch.float64 if a.dtype != np.float32 else torch.float32, "cpu")
    if isinstance(a, Tensor):
        if a.layout != torch.strided and not is_sparse(a):
            raise InputError(f"{name} is a {a.layout} tensor; pass a dense, CSR or CSC one")
        if a.device.type == "meta":
            raise InputError(f"{name} is on the meta device (a shape without values); move "
                             "it to a real device with values first")
        t = a.detach()  # the solvers are not differentiable: the input's graph is not kept
    else:
        try:
            arr = np.asarray(a)
        except (ValueError, TypeError) as e:
            raise InputError(f"{name} is not an array of numbers ({e})") from None
        if arr.dtype.kind not in "biufc":
            raise InputError(f"{name} is not an array of numbers (dtype {arr.dtype})")
        arr = arr.astype(np.float64) if arr.dtype.kind in "biu" else arr
        try:
            t = torch.as_tensor(arr)
        except ValueError:  # negative strides: a copy
            t = torch.as_tensor(arr.copy())
    if t.is_complex():
        raise InputError(f"{name} is complex ({t.dtype}); the solvers need real numbers")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    return t if device is None else t.to(device)


def as_data(X: Any, y: Any, targets: bool = False) -> tuple[Tensor, Tensor]:
    """Validate and convert ``X (n, p)``, ``y (n,)``: same float dtype and device, finite,
    real, and squares that do not overflow the dtype.

    ``X`` may be sparse (torch CSR/CSC or scipy.sparse: never densified); with ``targets``,
    ``y`` may be ``(n, T)`` (``T`` targets solved together). ``y`` takes ``X``'s dtype and
    device. Inputs that require grad are detached (no solver is differentiable through its
    iterations).
    """
    X = _tensor("X", X)
    y = _tensor("y", y, X.device).to(X.dtype)
    if targets and y.dim() == 2:
        if y.shape[1] == 0:
            raise InputError("y has zero targets")
        check_data(_probe(X), y[:, 0], source=None)
        if not bool(torch.isfinite(y).all()):
            raise InputError("y has NaN/inf values")
    else:
        check_data(_probe(X), y, source=None)
    if not is_sparse(X):
        check_scale(X, y if y.dim() == 1 else y[:, 0], source=None)
    return X, y


def check_samples(n: int, fit_intercept: bool, standardize: bool = False) -> None:
    """The one rule for tiny data: with an intercept (or standardization) one sample
    centres to zero, so nothing can be estimated; at least 2 are needed."""
    if n < 2 and (fit_intercept or standardize):
        what = "fit_intercept" if fit_intercept else "standardize"
        raise InputError(f"the data has {n} sample (row): with {what} its centred value is "
                         "0 and there is nothing to fit; at least 2 samples are needed")


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


def as_number(value: Any) -> Any:
    """A one-element real tensor (0-d, detached: see :mod:`lasso_torch.implicit` for
    gradients) or a numpy scalar as a Python number; anything else unchanged."""
    if isinstance(value, Tensor) and value.numel() == 1 and not value.is_complex() and (
            value.dtype != torch.bool):
        return value.detach().reshape(()).item()
    if isinstance(value, np.generic) and value.dtype.kind in "iuf":
        return value.item()
    return value


HALF = (torch.float16, torch.bfloat16)


def widen_half(X: Any, y: Any) -> tuple[Any, Any, str | None]:
    """float16/bfloat16 data (tensors or arrays) as float32, and the note saying so: the
    solvers iterate in float32 at least (half precision cannot hold a duality gap)."""
    def dtype(a: Any) -> Any:
        return a.dtype if isinstance(a, (Tensor, np.ndarray)) else None

    half = [a for a in (X, y) if dtype(a) in HALF or dtype(a) == np.float16]
    if not half:
        return X, y, None

    def wide(a: Any) -> Any:
        if isinstance(a, Tensor) and a.dtype in HALF:
            return a.detach().float()
        if isinstance(a, np.ndarray) and a.dtype == np.float16:
            return a.astype(np.float32)
        return a

    return wide(X), wide(y), (f"{str(dtype(half[0])).replace('torch.', '')} data solved in "
                              "float32: the coefficients and certificate are float32/float64")


def check_alpha(alpha: Any, name: str = "alpha") -> float:
    """A finite number > 0 (a one-element tensor or numpy scalar is one)."""
    alpha = as_number(alpha)
    if not (_number(alpha) and math.isfinite(alpha) and alpha > 0):
        raise InputError(f"{name} must be a finite number > 0, got {alpha!r}")
    return float(alpha)


def check_l1_ratio(l1_ratio: Any) -> float:
    """A number in [0, 1]."""
    l1_ratio = as_number(l1_ratio)
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


def start_coef(coef_init: Any, X: Tensor, y: Tensor) -> Tensor:
    """The starting point: zeros, or ``coef_init`` on the data's device and dtype; ``(p,)``,
    or ``(p, T)`` for ``T`` targets."""
    shape = (X.shape[1],) if y.dim() == 1 else (X.shape[1], y.shape[1])
    if coef_init is None:
        return torch.zeros(shape, dtype=X.dtype, device=X.device)
    w0 = torch.as_tensor(coef_init).to(dtype=X.dtype, device=X.device).clone()
    if w0.numel() != math.prod(shape):
        raise InputError(f"coef_init must have shape {shape}, got {tuple(w0.shape)}")
    return w0.reshape(shape)


def check_solver_options(spec: Any, opts: dict[str, Any]) -> None:
    """A solver's options are the ones its spec names (and the proximal flags)."""
    unknown = sorted(set(opts) - set(spec.options) - {"restart", "backtracking", "schedule"})
    if unknown:
        raise InputError(f"solver {spec.name!r} has no option {unknown[0]!r}; its options: "
                         f"{', '.join(spec.options) or 'none'}")
