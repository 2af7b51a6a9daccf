"""``TorchLasso``, ``TorchElasticNet``, ``TorchRidge``: scikit-learn regressors over ``solve``.

Drop-ins for ``sklearn.linear_model.Lasso`` / ``ElasticNet``: the same parameters with the
same meaning (``precompute`` incl. a Gram matrix, ``positive``, ``warm_start``,
``selection``/``random_state``, ``copy_X``, ``max_iter=1000``, ``tol``), the same ``fit``
arguments (``sample_weight``, ``check_input``; routed through metadata routing), sparse
``X`` (scipy.sparse, never densified), ``y (n, T)`` (``coef_ (T, p)``), the same attributes
(``coef_``, ``intercept_`` numpy floats, ``n_iter_``, ``dual_gap_``, ``sparse_coef_``) and
the ``path`` static method; plus ``solver``, ``device`` and ``dtype``. ``tol`` has
scikit-learn's meaning: stop at ``dual_gap <= tol * ||y_c||^2 / n`` (relative gap
``2 tol``). ``solver="auto"`` (default) is ``"cd"`` (scikit-learn's algorithm: ``max_iter``
counts epochs), a direct least-squares solve for ridge (``l1_ratio=0``) and ``alpha=0``
(exact, where a descent stops at ``tol``); a sparse ``X``
is solved by ``ws`` in Gram form (``p <= 4096``) or ``fista``; so is ``positive=True`` beyond
4096 features (its coordinate descent works on the Gram matrix). ``n_iter_`` is in the
solver's unit (epochs, working-set outer iterations, steps).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from scipy import sparse as scipy_sparse
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import InputError
from ..solve import SolveResult, solve
from ..solvers import get_solver
from .inputs import (
    abs_tol,
    offsets,
    precomputed_gram,
    sample_weights,
    to_tensor,
    torch_device,
    torch_dtype,
    validate_fit,
)
from .sklearn_path import enet_path_torch, least_squares

SPARSE_GRAM_MAX = 4096  # features up to which a dense X with positive=True is solved in
# Gram form (cd), beyond by fista; a sparse X runs cd on its CSC columns


def warn_unconverged(res: SolveResult, tol_abs: Any, stacklevel: int = 3) -> None:
    """scikit-learn's ConvergenceWarning, with the duality gap reached and the target."""
    if res.converged:
        return
    hint = {"stalled": " (no progress at this dtype's precision: use float64 or a larger "
            "tol)", "diverged": " (the iterates diverged)"}.get(res.status, "")
    gap = float(np.max(res.gap_abs.detach().cpu().numpy()))
    warnings.warn(
        f"Objective did not converge. You might want to increase the number of iterations."
        f" Duality gap: {gap:.3e}, tolerance: {float(np.min(tol_abs)):.3e}; {res.solver}: "
        f"{res.status} after {res.n_iter} iterations{hint}.",
        ConvergenceWarning, stacklevel=stacklevel,
    )


class TorchLinearModel(RegressorMixin, BaseEstimator):
    """Shared fit/predict; subclasses fix ``l1_ratio`` via ``_l1_ratio()``."""

    path = staticmethod(enet_path_torch)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X, solved as torch CSR
        tags.target_tags.multi_output = True  # y (n, T): coef_ (T, p)
        return tags

    def _l1_ratio(self) -> float:
        return float(self.l1_ratio)

    def _check_params(self) -> None:
        if not (isinstance(self.alpha, (int, float, np.number)) and self.alpha >= 0
                and np.isfinite(self.alpha)):
            raise InputError(f"alpha must be a finite number >= 0, got {self.alpha!r}")
        if getattr(self, "selection", "cyclic") not in ("cyclic", "random"):
            raise InputError(f"selection must be 'cyclic' or 'random', got {self.selection!r}")
        if not 0 <= self._l1_ratio() <= 1:
            raise InputError(f"l1_ratio must be in [0, 1], got {self._l1_ratio()!r}")

    def fit(self, X: Any, y: Any, sample_weight: Any = None, check_input: bool = True
            ) -> TorchLinearModel:
        """Fit on ``X (n_samples, n_features)`` (dense or scipy.sparse), ``y (n_samples,)`` or
        ``(n_samples, n_targets)``, optional ``sample_weight (n_samples,)``; returns self."""
        self._check_params()
        X, y = validate_fit(self, X, y, check_input)
        if y.ndim == 2 and y.shape[1] == 1:  # one target, as scikit-learn: coef_ (p,)
            y = y[:, 0]
        sw = sample_weights(sample_weight, X)
        if self.alpha == 0:
            warnings.warn("With alpha=0, this algorithm does not converge well. You are "
                          "advised to use the LinearRegression estimator", UserWarning,
                          stacklevel=2)
        dtype, device = torch_dtype(self.dtype, X.dtype), torch_device(self.device)
        shift = self._center_in_place(X, sw)
        Xt, yt = to_tensor(X, dtype, device), to_tensor(y, dtype, device)
        try:
            res = self._solve(X, Xt, yt, sw, dtype, device)
        except InputError as e:  # squares that overflow: scikit-learn's non-finite message
            if "overflow" not in str(e):
                raise
            res = None
        coef = None if res is None else res.coef.detach().cpu().numpy()  # compute dtype
        if res is None or not (np.all(np.isfinite(coef))
                               and bool(torch.isfinite(res.intercept).all())):
            raise ValueError("Coordinate descent iterations resulted in non-finite parameter "
                             "values. The input data may contain large values and need to "
                             "be preprocessed.")
        warn_unconverged(res, abs_tol(y, sw, self.tol, self.fit_intercept))
        self._set_result(res, coef, shift, y.ndim == 2)
        return self

    def _center_in_place(self, X: Any, sw: np.ndarray | None) -> np.ndarray | None:
        """``copy_X=False``: a dense float ``X`` is centered in place (as scikit-learn may
        overwrite it) instead of being copied; returns the offsets taken out."""
        if (getattr(self, "copy_X", True) or not self.fit_intercept
                or not isinstance(X, np.ndarray) or not X.flags.writeable):
            return None
        shift = offsets(X, sw).astype(X.dtype)
        X -= shift
        return shift

    def _solver(self, X: Any) -> tuple[str, dict[str, Any]]:
        """The solver and its options (``selection``/``seed`` where the solver has them)."""
        name = self.solver
        if name == "auto":  # scikit-learn's algorithm (ridge is solved directly); positive
            # CD runs on the Gram matrix (lasso_torch.solvers.penalty_cd): fista when wide
            wide = getattr(self, "positive", False) and X.shape[1] > SPARSE_GRAM_MAX
            name = "fista" if wide and not scipy_sparse.issparse(X) else "cd"
        spec = get_solver(name)
        if scipy_sparse.issparse(X) and not (spec.batched or spec.sparse):
            name = "cd"  # compiled CD on the CSC columns (lasso_torch.solvers.sparse_cd)
            spec = get_solver(name)
        opts: dict[str, Any] = {}
        if "selection" in spec.options:
            opts["selection"] = getattr(self, "selection", "cyclic")
        if "seed" in spec.options and getattr(self, "selection", "cyclic") == "random":
            opts["seed"] = int(check_random_state(self.random_state).randint(2**31 - 1))
        return name, opts

    def _start(self, n_targets: int) -> torch.Tensor | None:
        """``warm_start``: the previous ``coef_`` (its shape permitting) as the start."""
        if not getattr(self, "warm_start", False) or not hasattr(self, "coef_"):
            return None
        coef = np.asarray(self.coef_, dtype=np.float64)
        p = self.n_features_in_
        if coef.size != p * n_targets:
            return None
        return torch.as_tensor(coef.reshape(n_targets, p).T if n_targets > 1 else
                               coef.reshape(p))

    def _solve(self, X: Any, Xt: torch.Tensor, yt: torch.Tensor, sw: np.ndarray | None,
               dtype: torch.dtype, device: torch.device) -> SolveResult:
        swt = None if sw is None else torch.as_tensor(sw)
        l1_ratio = self._l1_ratio()
        positive = bool(getattr(self, "positive", False))
        direct = self.solver == "auto" and l1_ratio == 0 and not positive
        if self.alpha == 0 or direct:  # (non-negative) least squares / ridge: one exact solve
            return least_squares(Xt, yt, swt, self.fit_intercept, l1_ratio, float(self.alpha),
                                 positive=positive)
        gram = precomputed_gram(getattr(self, "precompute", False), X, sw,
                                self.fit_intercept, dtype, device)
        w0 = self._start(1 if yt.dim() == 1 else yt.shape[1])
        if positive and w0 is not None:  # a previous fit's negative entries: infeasible
            w0 = w0.clamp(min=0)
        name, opts = self._solver(X)
        return solve(Xt, yt, float(self.alpha), l1_ratio, name, tol=2 * self.tol,
                     max_iter=self.max_iter, fit_intercept=self.fit_intercept,
                     sample_weight=swt, coef_init=w0, gram=gram, warn=False, check_start=True,
                     positive=positive, **opts)

    def _set_result(self, res: SolveResult, coef: np.ndarray, shift: np.ndarray | None,
                    multi: bool) -> None:
        dt = coef.dtype.type
        inter = res.intercept.detach().cpu().numpy().astype(coef.dtype)
        if shift is not None:
            inter = inter - shift @ coef
        self.coef_ = coef.T.copy() if multi else coef
        if not self.fit_intercept:
            self.intercept_ = np.zeros(coef.shape[1], dtype=coef.dtype) if multi else 0.0
        else:
            self.intercept_ = inter if multi else dt(inter)
        gaps = res.gap_abs.detach().cpu().numpy().astype(np.float64)
        self.dual_gap_ = gaps if multi else float(gaps)
        self.n_iter_ = (res.n_iters.tolist() if multi and res.n_iters is not None
                        else int(res.n_iter))
        self.status_ = res.status

    @property
    def sparse_coef_(self) -> scipy_sparse.csr_matrix:
        """``coef_`` as a scipy.sparse CSR matrix (its exact zeros not stored)."""
        return scipy_sparse.csr_matrix(np.atleast_2d(self.coef_))

    def predict(self, X: Any) -> np.ndarray:
        """``X @ coef_.T + intercept_`` (numpy, on the host; ``X`` dense or sparse)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"],
                          dtype=[np.float64, np.float32], reset=False)
        coef = np.asarray(self.coef_, dtype=X.dtype)
        out = X @ coef.T
        return np.asarray(out) + self.intercept_


def _params(self: Any, **values: Any) -> None:
    for k, v in values.items():
        setattr(self, k, v)


class TorchElasticNet(TorchLinearModel):
    """Elastic net ``1/(2n)||y - Xw - b||^2 + alpha (l1_ratio |w|_1 + (1-l1_ratio)/2 |w|^2)``.

    The same objective, parameters and attributes as ``sklearn.linear_model.ElasticNet``
    (see the module docstring); ``solver`` is ``"auto"`` or any of
    :data:`lasso_torch.SOLVERS`, run on ``device`` in ``dtype`` (``None``: the data's;
    float32 stays float32).
    ``selection="random"`` (with ``random_state``) reaches the solvers that offer it (the
    compiled coordinate descent); the others descend cyclically. ``positive=True`` is
    ``lt.solve(positive=True)`` (a bounded penalty): ``dual_gap_`` is then the positive
    problem's gap. ``status_`` is the solver's stop reason.
    """

    def __init__(self, alpha: float = 1.0, *, l1_ratio: float = 0.5, fit_intercept: bool = True,
                 precompute: Any = False, max_iter: int = 1000, copy_X: bool = True,
                 tol: float = 1e-4, warm_start: bool = False, positive: bool = False,
                 random_state: Any = None, selection: str = "cyclic", solver: str = "auto",
                 device: str | None = "cpu", dtype: str | None = None) -> None:
        _params(self, alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                precompute=precompute, max_iter=max_iter, copy_X=copy_X, tol=tol,
                warm_start=warm_start, positive=positive, random_state=random_state,
                selection=selection, solver=solver, device=device, dtype=dtype)


class _FixedRatioModel(TorchLinearModel):
    """The parameters of a model whose ``l1_ratio`` is fixed by its class."""

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True,
                 precompute: Any = False, copy_X: bool = True, max_iter: int = 1000,
                 tol: float = 1e-4, warm_start: bool = False, positive: bool = False,
                 random_state: Any = None, selection: str = "cyclic", solver: str = "auto",
                 device: str | None = "cpu", dtype: str | None = None) -> None:
        _params(self, alpha=alpha, fit_intercept=fit_intercept, precompute=precompute,
                copy_X=copy_X, max_iter=max_iter, tol=tol, warm_start=warm_start,
                positive=positive, random_state=random_state, selection=selection,
                solver=solver, device=device, dtype=dtype)


class TorchLasso(_FixedRatioModel):
    """Lasso ``1/(2n)||y - Xw - b||^2 + alpha |w|_1``: ``TorchElasticNet`` with ``l1_ratio=1``.

    Same parameters and attributes as :class:`TorchElasticNet` (no ``l1_ratio``);
    ``TorchLasso(alpha=a)`` solves the problem of ``sklearn.linear_model.Lasso(alpha=a)``.
    """

    path = staticmethod(lambda X, y, **kw: enet_path_torch(X, y, l1_ratio=1.0, **kw))

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
