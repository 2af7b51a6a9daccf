"""Input checks written once: data conversion (:func:`as_data`) and the option checks
(alpha, l1_ratio, grids) that ``solve``, ``lasso_path``, CV, the config and the estimators
share."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from .data import check_data, check_scale
from .errors import InputError


def _tensor(name: str, a: Any, device: torch.device | None = None) -> Tensor:
    """``a`` as a dense real float tensor. Tensors keep their float dtype (integer ones
    take torch's default dtype); lists and arrays follow numpy (float64 unless float32)."""
    if isinstance(a, Tensor):
        if a.layout != torch.strided:
            raise InputError(f"{name} is a sparse tensor ({a.layout}); lt.solve takes dense "
                             f"tensors for now: pass {name}.to_dense()")
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


def as_data(X: Any, y: Any) -> tuple[Tensor, Tensor]:
    """Validate and convert ``X (n, p)``, ``y (n,)``: same float dtype and device, finite,
    dense, real, and squares that do not overflow the dtype.

    ``y`` takes ``X``'s dtype and device. Inputs that require grad are detached (no solver
    is differentiable through its iterations).
    """
    X = _tensor("X", X)
    y = _tensor("y", y, X.device).to(X.dtype)
    X, y = check_data(X, y, source=None)
    check_scale(X, y, source=None)
    return X, y


def check_samples(n: int, fit_intercept: bool, standardize: bool = False) -> None:
    """The one rule for tiny data: with an intercept (or standardization) one sample
    centres to zero, so nothing can be estimated; at least 2 are needed."""
    if n < 2 and (fit_intercept or standardize):
        what = "fit_intercept" if fit_intercept else "standardize"
        raise InputError(f"the data has {n} sample (row): with {what} its centred value is "
                         "0 and there is nothing to fit; at least 2 samples are needed")
