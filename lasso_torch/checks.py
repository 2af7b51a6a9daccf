"""Input checks written once: data conversion (:func:`as_data`) and the option checks
(alpha, l1_ratio, grids) that ``solve``, ``lasso_path``, CV, the config and the estimators
share."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .data import check_data


def as_data(X: Any, y: Any) -> tuple[Tensor, Tensor]:
    """Validate and convert ``X (n, p)``, ``y (n,)``: same float dtype and device, finite."""
    X = torch.as_tensor(X)
    if not X.is_floating_point():
        X = X.to(torch.get_default_dtype())
    y = torch.as_tensor(y, device=X.device).to(X.dtype)
    return check_data(X, y, source=None)
