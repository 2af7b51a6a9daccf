"""``TorchLassoCV`` / ``TorchElasticNetCV``: alpha (and l1_ratio) by K-fold cross-validation.

The same procedure and parameters as scikit-learn's ``LassoCV`` / ``ElasticNetCV``, so that
on the same folds both give the same ``alphas_``, ``mse_path_`` and ``alpha_``:

1. the alpha grid, from the full data: ``alpha_max = ||X_c^T S y_c||_inf / (n l1_ratio)``
   (the positive part's max with ``positive``) and ``alphas`` (an int) values
   geometrically spaced down to ``eps * alpha_max``, or the given alphas sorted in
   decreasing order;
2. for every training fold and every alpha, the elastic-net solution on that fold (its own
   ``n``, centering, weights), and its (weighted) mean squared error on the held-out rows:
   ``mse_path_[k, f]``;
3. ``alpha_`` minimizes the mean over folds (the first, i.e. largest, alpha on ties), and the
   estimator is refit on all the data with it (``sample_weight`` included).

Step 2 is :func:`lasso_torch.cv.cross_validate`: one call of :func:`lasso_torch.lasso_path`
with the folds times ``sample_weight`` as row weights and ``strategy="auto"``: on the CPU
each fold's alphas are a warm sequence (the compiled CD path on the fold's Gram matrix
when ``n >= p``, working sets when ``n < p``: :func:`lasso_torch.solvers.auto.choose_path`),
on a GPU one batched FISTA solve of all folds x alphas;
``positive`` constrains every solve to ``w >= 0`` (the same path, with the bounded penalty
of :func:`lasso_torch.solve`). ``groups`` (and any metadata) reach the splitter through
scikit-learn's metadata routing; ``n_jobs`` is accepted and unused (torch's threads).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import sklearn
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.validation import check_scalar

from ..cv import cross_validate, heldout_mse, masks_from_folds, one_se_rule
from ..errors import InputError
from ..path import grid
from .estimators import TorchElasticNet, TorchLinearModel
from .inputs import (
    offsets,
    sample_weights,
    to_tensor,
    torch_device,
    torch_dtype,
    validate_fit,
)
from .sklearn_path import least_squares

NO_GRID = ("Automatic alpha grid generation is not supported for l1_ratio=0. Please supply "
           "a grid by providing your estimator with the appropriate `alphas=` argument.")


def alpha_grid(X: Any, y: np.ndarray, l1_ratio: float, fit_intercept: bool, eps: float,
               n_alphas: int, sw: np.ndarray | None = None, positive: bool = False
               ) -> np.ndarray:
    """scikit-learn's ``_alpha_grid``: ``n_alphas`` values from ``alpha_max`` down to
    ``eps * alpha_max``; ``alpha_max = max_j |x_j,c^T S y_c| / (sum(S) l1_ratio)`` (the
    largest signed value with ``positive``), in scikit-learn's float operations."""
    if l1_ratio == 0:
        raise InputError(NO_GRID)
    yc = y - np.average(y, weights=sw) if fit_intercept else y
    yw = yc if sw is None else yc * sw
    Xy = np.asarray(X.T @ yw).ravel()
    if fit_intercept:
        Xy = Xy - offsets(X, sw) * yw.sum()
    n = X.shape[0] if sw is None else sw.sum()
    top = Xy.max() if positive else np.abs(Xy).max()
    return grid(top / (n * l1_ratio), n_alphas, eps).numpy()


class _TorchLinearModelCV(TorchLinearModel):
    """Shared fit of the CV estimators; ``_l1_ratios()`` gives the l1_ratio values tried."""

    def _l1_ratios(self) -> np.ndarray:
        return np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False  # one target (as LassoCV / ElasticNetCV)
        return tags

    def _alpha_grids(self, X: Any, y: np.ndarray, sw: np.ndarray | None,
                     l1_ratios: np.ndarray) -> np.ndarray:
        if isinstance(self.alphas, Integral):
            check_scalar(self.alphas, "alphas", Integral, min_val=1)
            return np.stack([alpha_grid(X, y, r, self.fit_intercept, self.eps, self.alphas,
                                        sw, self.positive) for r in l1_ratios])
        for i, a in enumerate(self.alphas):  # scikit-learn's messages
            check_scalar(a, f"alphas[{i}]", Real, min_val=0.0, include_boundaries="left")
        alphas = np.asarray(self.alphas, dtype=np.float64).ravel()
        if alphas.size == 0:
            raise InputError("alphas: an empty list; give at least one alpha > 0, or an "
                             "int (the number of alphas of the grid)")
        return np.tile(np.sort(alphas)[::-1], (len(l1_ratios), 1))

    def get_metadata_routing(self) -> MetadataRouter:
        """``groups`` (and other split metadata) go to the splitter's ``split``."""
        return MetadataRouter(owner=self).add(
            splitter=check_cv(self.cv),
            method_mapping=MethodMapping().add(caller="fit", callee="split"))

    def _folds(self, X: Any, y: np.ndarray, sample_weight: Any, params: dict) -> list:
        if sklearn.get_config().get("enable_metadata_routing", False):
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            split = routed.splitter.split
        elif params:
            raise ValueError(f"Passing extra keyword arguments to {type(self).__name__}.fit "
                             f"is only supported if enable_metadata_routing=True, which you "
                             f"can set using `sklearn.set_config`. Got {sorted(params)}.")
        else:
            split = {}
        return list(check_cv(self.cv).split(X, y, **split))

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **params: Any
            ) -> _TorchLinearModelCV:
        """Cross-validate alpha (and l1_ratio) on ``cv`` folds, then refit on all data."""
        X, y = validate_fit(self, X, y, True, multi_output=False)
        sw = sample_weights(sample_weight, X)
        l1_ratios = self._l1_ratios()
        if np.any((l1_ratios < 0) | (l1_ratios > 1)):
            raise ValueError(f"l1_ratio must be in [0, 1], got {self.l1_ratio!r}")
        alphas = self._alpha_grids(X, y, sw, l1_ratios)
        folds = self._folds(X, y, sample_weight, params)
        mse_paths, worst = self._cv_paths(X, y, sw, folds, alphas, l1_ratios)
        if worst > 2 * self.tol:
            warnings.warn(f"Objective did not converge. You might want to increase the number "
                          f"of iterations: the cross-validation paths reached a relative "
                          f"duality gap of {worst:.3e} > {2 * self.tol:.1e}.",
                          ConvergenceWarning, stacklevel=2)
        mean = mse_paths.mean(-1)
        best = np.inf
        for r in range(len(l1_ratios)):
            i = int(np.argmin(mean[r]))
            if mean[r, i] < best:  # strictly smaller: ties keep the first l1_ratio
                best = mean[r, i]
                self.alpha_, self.l1_ratio_ = float(alphas[r, i]), float(l1_ratios[r])
        self.mse_path_ = np.squeeze(mse_paths)
        r = int(np.flatnonzero(l1_ratios == self.l1_ratio_)[0])
        # the 1-SE rule on the chosen l1_ratio's grid (lasso_torch.cv.one_se_rule)
        self.alpha_1se_ = float(alphas[r, one_se_rule(alphas[r], mse_paths[r])[1]])
        # as scikit-learn: one grid per l1_ratio when it built them, else the given grid
        explicit = not isinstance(self.alphas, Integral)
        self.alphas_ = alphas[0] if len(l1_ratios) == 1 or explicit else alphas
        self._refit(X, y, sample_weight)
        self.n_folds_ = len(folds)
        return self

    def _cv_paths(self, X: Any, y: np.ndarray, sw: np.ndarray | None, folds: list,
                  alphas: np.ndarray, l1_ratios: np.ndarray) -> tuple[np.ndarray, float]:
        """``mse_path (R, K, F)`` and the worst relative gap of the fold paths."""
        dtype, device = torch_dtype(self.dtype, X.dtype), torch_device(self.device)
        Xt, yt = to_tensor(X, dtype, device), to_tensor(y, dtype, device)
        swt = None if sw is None else torch.as_tensor(sw).to(dtype=dtype, device=device)
        train, test = masks_from_folds(X.shape[0], folds, dtype=dtype, device=device)
        mse, worst = [], 0.0
        for r, l1 in enumerate(l1_ratios):
            if self.verbose:
                print(f"{type(self).__name__}: l1_ratio {l1}, {len(folds)} folds x "
                      f"{alphas.shape[1]} alphas")
            pos = alphas[r][alphas[r] > 0]  # alpha = 0 (least squares): solved directly
            zero = self._zero_mse(Xt, yt, swt, train, test, float(l1), alphas.shape[1] - pos.size)
            if pos.size:
                res = cross_validate(Xt, yt, pos, float(l1), masks=train, test_masks=test,
                                     fit_intercept=self.fit_intercept, tol=2 * self.tol,
                                     max_iter=self.max_iter, sample_weight=swt,
                                     strategy="auto", positive=self.positive)
                part = res.mse_path
                worst = max(worst, float(res.gaps.max()))
            else:
                part = np.zeros((0, train.shape[1]))
            mse.append(np.concatenate([part, zero]))
        return np.stack(mse).astype(np.float64), worst

    def _zero_mse(self, X: torch.Tensor, y: torch.Tensor, sw: torch.Tensor | None,
                  train: torch.Tensor, test: torch.Tensor, l1_ratio: float, count: int
                  ) -> np.ndarray:
        """Held-out MSE ``(count, F)`` of the grid's ``alpha = 0`` entries (least squares)."""
        if count == 0:
            return np.zeros((0, train.shape[1]))
        coefs, inters = [], []
        for f in range(train.shape[1]):
            w = train[:, f] if sw is None else train[:, f] * sw
            res = least_squares(X, y, w, self.fit_intercept, l1_ratio,
                                positive=self.positive)
            coefs.append(res.coef[:, None])
            inters.append(res.intercept.reshape(1))
        mse = heldout_mse(X, y, test, torch.stack(coefs), torch.stack(inters), sw)
        return np.repeat(mse.T.double().cpu().numpy(), count, axis=0)

    def _refit(self, X: Any, y: np.ndarray, sample_weight: Any) -> None:
        precompute = getattr(self, "precompute", "auto")
        model = TorchElasticNet(
            self.alpha_, l1_ratio=self.l1_ratio_, fit_intercept=self.fit_intercept,
            precompute=False if isinstance(precompute, str) else precompute,
            max_iter=self.max_iter, copy_X=self.copy_X, tol=self.tol, positive=self.positive,
            random_state=self.random_state, selection=self.selection, solver=self.solver,
            device=self.device, dtype=self.dtype)
        model.fit(X, y, sample_weight=sample_weight)
        for name in ("coef_", "intercept_", "n_iter_", "dual_gap_", "status_"):
            setattr(self, name, getattr(model, name))


_DOC_PARAMS = ("eps, alphas (an int: the number of alphas; or the alphas), fit_intercept, "
               "precompute, max_iter, tol, copy_X, cv, verbose, n_jobs, positive, "
               "random_state, selection: as scikit-learn's; solver, device, dtype: as "
               ":class:`TorchElasticNet`")


class TorchLassoCV(_TorchLinearModelCV):
    """Lasso with alpha chosen by cross-validation, like ``sklearn.linear_model.LassoCV``.

    Parameters: eps, alphas, fit_intercept, precompute, max_iter, tol, copy_X, cv, verbose,
    n_jobs, positive, random_state, selection (scikit-learn's), solver, device, dtype.
    Attributes: alpha_, alpha_1se_ (the 1-SE rule: the largest alpha whose mean error is
    within one standard error of the minimum; not the refit alpha), alphas_ (K,), mse_path_
    (K, n_folds), n_folds_, and the refit's
    coef_, intercept_, n_iter_, dual_gap_, status_.
    """

    def __init__(self, *, eps: float = 1e-3, alphas: Any = 100, fit_intercept: bool = True,
                 precompute: Any = "auto", max_iter: int = 1000, tol: float = 1e-4,
                 copy_X: bool = True, cv: Any = None, verbose: Any = False,
                 n_jobs: int | None = None, positive: bool = False, random_state: Any = None,
                 selection: str = "cyclic", solver: str = "auto", device: str | None = "cpu",
                 dtype: str | None = None) -> None:
        for k, v in locals().items():
            if k not in ("self", "__class__"):
                setattr(self, k, v)

    def _l1_ratios(self) -> np.ndarray:
        return np.ones(1)

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **params: Any) -> TorchLassoCV:
        super().fit(X, y, sample_weight, **params)
        del self.l1_ratio_
        return self


class TorchElasticNetCV(_TorchLinearModelCV):
    """Elastic net with alpha and l1_ratio chosen by cross-validation (``ElasticNetCV``).

    ``l1_ratio`` may be a list: every value gets its own alpha grid, and ``mse_path_`` is
    ``(n_l1_ratio, K, n_folds)`` and ``alphas_`` ``(n_l1_ratio, K)``. Other parameters and
    attributes as :class:`TorchLassoCV`, plus ``l1_ratio_``.
    """

    def __init__(self, *, l1_ratio: Any = 0.5, eps: float = 1e-3, alphas: Any = 100,
                 fit_intercept: bool = True, precompute: Any = "auto", max_iter: int = 1000,
                 tol: float = 1e-4, cv: Any = None, copy_X: bool = True, verbose: Any = 0,
                 n_jobs: int | None = None, positive: bool = False, random_state: Any = None,
                 selection: str = "cyclic", solver: str = "auto", device: str | None = "cpu",
                 dtype: str | None = None) -> None:
        for k, v in locals().items():
            if k not in ("self", "__class__"):
                setattr(self, k, v)
