"""``TorchLasso``, ``TorchElasticNet``, ``TorchRidge``: scikit-learn regressors over ``solve``.

numpy in, numpy out: ``fit`` validates the data the scikit-learn way, moves it to
``device`` in ``dtype``, calls :func:`lasso_torch.solve`, and stores ``coef_``,
``intercept_``, ``n_iter_`` and ``dual_gap_`` (the absolute duality gap, as scikit-learn's)
as numpy values. ``tol`` has scikit-learn's meaning: the solver stops when
``dual_gap <= tol * ||y - mean(y)||^2 / n``, i.e. at relative gap ``gap / P(0) <= 2 tol``.
When a fit ends before that (``max_iter``, a stall at float32 precision, divergence), a
:class:`sklearn.exceptions.ConvergenceWarning` says so and gives the gap reached.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import InputError
from ..solve import SolveResult, solve

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


def to_tensor(a: np.ndarray, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A numpy array on ``device`` in ``dtype`` (read-only arrays are copied, not shared)."""
    if not a.flags.writeable:
        a = a.copy()
    return torch.as_tensor(a).to(device=device, dtype=dtype)


def abs_tol(y: np.ndarray, tol: float, fit_intercept: bool) -> float:
    """scikit-learn's stopping threshold on the duality gap: ``tol * ||y_c||^2 / n``."""
    yc = y - y.mean() if fit_intercept else y
    return float(tol * (yc @ yc) / y.shape[0])


def warn_unconverged(res: SolveResult, tol_abs: float, stacklevel: int = 3) -> None:
    """scikit-learn's ConvergenceWarning, with the duality gap reached and the target."""
    if res.converged:
        return
    hint = {"max_iter": "increase max_iter", "stalled": "no progress at this dtype's "
            "precision; use float64 or a larger tol"}.get(res.status, "try a smaller lr")
    warnings.warn(
        f"{res.solver} did not converge ({res.status} after {res.n_iter} iterations): "
        f"duality gap {float(res.gap_abs):.3e} > tolerance {tol_abs:.3e}; {hint}.",
        ConvergenceWarning, stacklevel=stacklevel,
    )


class TorchLinearModel(RegressorMixin, BaseEstimator):
    """Shared fit/predict; subclasses fix ``l1_ratio`` via ``_l1_ratio()``."""

    def _l1_ratio(self) -> float:
        return float(self.l1_ratio)

    def _validate_fit_data(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        return validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True)

    def fit(self, X: Any, y: Any) -> TorchLinearModel:
        """Fit on ``X (n_samples, n_features)``, ``y (n_samples,)``; returns ``self``."""
        X, y = self._validate_fit_data(X, y)
        dtype = torch_dtype(self.dtype, X.dtype)
        device = torch_device(self.device)
        res = solve(
            to_tensor(X, dtype, device), to_tensor(y, dtype, device), self.alpha,
            self._l1_ratio(), self.solver, tol=2 * self.tol, max_iter=self.max_iter,
            fit_intercept=self.fit_intercept, warn=False,
        )
        warn_unconverged(res, abs_tol(y, self.tol, self.fit_intercept))
        self._set_result(res)
        return self

    def _set_result(self, res: SolveResult) -> None:
        self.coef_ = res.coef.detach().cpu().numpy()
        self.intercept_ = float(res.intercept) if self.fit_intercept else 0.0
        self.n_iter_ = int(res.n_iter)
        self.dual_gap_ = float(res.gap_abs)
        self.status_ = res.status

    def predict(self, X: Any) -> np.ndarray:
        """``X @ coef_ + intercept_`` (numpy, on the host)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X @ self.coef_.astype(X.dtype, copy=False) + self.intercept_


class TorchElasticNet(TorchLinearModel):
    """Elastic net ``1/(2n)||y - Xw - b||^2 + alpha (l1_ratio |w|_1 + (1-l1_ratio)/2 |w|^2)``.

    The same objective and parameters as ``sklearn.linear_model.ElasticNet``; the solver
    is any of :data:`lasso_torch.SOLVERS`, run on ``device`` in ``dtype``.

    Args:
        alpha: overall penalty strength (> 0).
        l1_ratio: the L1 share of the penalty, in [0, 1].
        fit_intercept: fit an unpenalized intercept (profiled out by centering).
        solver: ``"fista"`` (default), ``"ista"``, ``"cd"`` or ``"subgradient"``.
        tol: scikit-learn's tolerance: stop at ``dual_gap <= tol * ||y_c||^2 / n``.
        max_iter: iterations (epochs for ``"cd"``).
        device: torch device for the solve (``"cpu"``, ``"cuda"``, ...).
        dtype: ``None`` (the data's: float32 stays float32, else float64), ``"float32"``
            or ``"float64"``.

    Attributes:
        coef_ (ndarray (n_features,)), intercept_ (float), n_iter_ (int), dual_gap_ (float,
        the absolute duality gap as scikit-learn's), status_ (the solver's stop reason),
        n_features_in_.
    """

    def __init__(self, alpha: float = 1.0, *, l1_ratio: float = 0.5, fit_intercept: bool = True,
                 solver: str = "fista", tol: float = 1e-4, max_iter: int = 10_000,
                 device: str | None = "cpu", dtype: str | None = None) -> None:
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.device = device
        self.dtype = dtype


class _FixedRatioModel(TorchLinearModel):
    """The parameters of a model whose ``l1_ratio`` is fixed by its class."""

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True, solver: str = "fista",
                 tol: float = 1e-4, max_iter: int = 10_000, device: str | None = "cpu",
                 dtype: str | None = None) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.device = device
        self.dtype = dtype


class TorchLasso(_FixedRatioModel):
    """Lasso ``1/(2n)||y - Xw - b||^2 + alpha |w|_1``: ``TorchElasticNet`` with ``l1_ratio=1``.

    Same parameters and attributes as :class:`TorchElasticNet` (no ``l1_ratio``);
    ``TorchLasso(alpha=a)`` solves the problem of ``sklearn.linear_model.Lasso(alpha=a)``.
    """

    def _l1_ratio(self) -> float:
        return 1.0


class TorchRidge(_FixedRatioModel):
    """Ridge ``1/(2n)||y - Xw - b||^2 + alpha/2 |w|^2``: ``TorchElasticNet`` with ``l1_ratio=0``.

    Careful with the scaling: this is ElasticNet's, so ``TorchRidge(alpha=a)`` equals
    ``sklearn.linear_model.Ridge(alpha=n_samples * a)`` (whose loss is
    ``||y - Xw - b||^2 + alpha |w|^2``). Same parameters and attributes as
    :class:`TorchElasticNet` (no ``l1_ratio``).
    """

    def _l1_ratio(self) -> float:
        return 0.0
