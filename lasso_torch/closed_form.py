"""The seed articles' one-feature formulas, in the seed's own lambda.

With ``Sxy = sum (x_i - x_mean)(y_i - y_mean)`` and ``Sxx = sum (x_i - x_mean)^2``:

* OLS, ``min SSE``:                     ``m = Sxy / Sxx``
* ridge, ``min SSE + lam m^2``:         ``m = Sxy / (Sxx + lam)``
* lasso, ``min SSE + 2 lam |m|``:       ``m = S(Sxy, lam) / Sxx``, i.e. three cases:
  ``(Sxy - lam)/Sxx`` if ``Sxy > lam`` (m > 0), ``(Sxy + lam)/Sxx`` if ``Sxy < -lam``
  (m < 0), and exactly ``0.0`` when ``|Sxy| <= lam``.
* lasso written ``min SSE + lam |m|``:  ``m = S(Sxy, lam/2) / Sxx`` (``scale=1`` below).
* intercept, any of them:               ``b = y_mean - m x_mean``.

Mapping to the framework's alpha (scikit-learn's scaling, ``P = SSE/(2n) + alpha |m|``
for the lasso and ``SSE/(2n) + alpha/2 m^2`` for ridge): multiply ``P`` by ``2n``.
Lasso ``SSE + 2 lam |m|`` and ridge ``SSE + lam m^2`` both give ``lam = n * alpha``;
lasso ``SSE + lam |m|`` gives ``lam = 2 n alpha``. See ``lam_to_alpha``/``alpha_to_lam``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

Form = Literal["lasso", "lasso_1", "ridge"]
_SCALE = {"lasso": 1.0, "ridge": 1.0, "lasso_1": 2.0}


def _sums(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    xc, yc = x - x.mean(), y - y.mean()
    return (xc * yc).sum(), (xc * xc).sum()


def ols_slope(x: Tensor, y: Tensor) -> Tensor:
    """``Sxy / Sxx``."""
    sxy, sxx = _sums(x, y)
    return sxy / sxx


def ridge_slope(x: Tensor, y: Tensor, lam: float | Tensor) -> Tensor:
    """Minimizer of ``SSE + lam m^2``: ``Sxy / (Sxx + lam)``; never 0 when ``Sxy != 0``."""
    sxy, sxx = _sums(x, y)
    return sxy / (sxx + lam)


def lasso_slope(x: Tensor, y: Tensor, lam: float | Tensor, scale: Literal[1, 2] = 2) -> Tensor:
    """Minimizer of ``SSE + scale * lam |m|`` (default ``scale=2``, the seed's headline form).

    With ``t = scale * lam / 2``: ``(Sxy - t)/Sxx`` if ``Sxy > t``, ``(Sxy + t)/Sxx`` if
    ``Sxy < -t``, else exactly 0.0. For ``scale=2`` that is ``S(Sxy, lam) / Sxx``.
    """
    if scale not in (1, 2):
        raise ValueError(f"scale must be 1 (SSE + lam|m|) or 2 (SSE + 2 lam|m|), got {scale}")
    sxy, sxx = _sums(x, y)
    t = torch.as_tensor(lam, dtype=sxy.dtype, device=sxy.device) * (scale / 2)
    pos, neg = (sxy - t) / sxx, (sxy + t) / sxx
    zero = torch.zeros_like(sxy)
    return torch.where(sxy > t, pos, torch.where(sxy < -t, neg, zero))


def intercept(x: Tensor, y: Tensor, m: Tensor | float) -> Tensor:
    """``b = y_mean - m x_mean``."""
    return y.mean() - m * x.mean()


def lam_to_alpha(lam: float, n: int, form: Form = "lasso") -> float:
    """The framework's alpha for the seed's lam: ``lam / n`` (``lam / (2n)`` for ``lasso_1``)."""
    return lam / (n * _SCALE[form])


def alpha_to_lam(alpha: float, n: int, form: Form = "lasso") -> float:
    """Inverse of :func:`lam_to_alpha`."""
    return alpha * n * _SCALE[form]
