"""Cross-validated alpha from one path call: every fold x every alpha.

K-fold cross-validation of the elastic net (scikit-learn's ``LassoCV`` procedure): for each
fold ``f`` and each alpha of a decreasing grid, solve on the fold's training rows (its own
``n`` and its own centering) and measure the mean squared error on its held-out rows::

    mse_path[k, f] = mean_{i in test_f} (y_i - x_i^T w_fk - b_fk)^2

The chosen alpha minimizes the mean over folds (the first, i.e. the largest, on ties). The
folds are row masks ``(n, F)`` of :func:`lasso_torch.lasso_path` (``strategy="auto"``: on
the CPU each fold's warm sequence, the compiled CD path on its Gram matrix when ``n >= p``;
on a GPU all ``F x K`` problems as one batched FISTA iterate). Needs no scikit-learn; the
estimators in
:mod:`lasso_torch.sklearn` call it with scikit-learn's splitters.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .checks import as_data, check_sample_weight
from .errors import InputError
from .path import lasso_path
from .sparse import is_sparse


@dataclass
class CVResult:
    """``alphas (K,)`` decreasing, ``mse_path (K, F)`` held-out MSE, the chosen ``alpha`` and
    its ``index``; ``gaps (F, K)`` the relative duality gaps the fold paths reached, and
    ``converged`` whether all of them reached ``tol``; ``time`` in seconds."""

    alphas: np.ndarray
    mse_path: np.ndarray
    alpha: float
    index: int
    l1_ratio: float
    gaps: np.ndarray
    converged: bool
    time: float

    @property
    def mse_mean(self) -> np.ndarray:
        return self.mse_path.mean(1)

    @property
    def mse_std(self) -> np.ndarray:
        return self.mse_path.std(1)

    @property
    def alpha_1se(self) -> float:
        """The 1-SE rule's alpha (:func:`one_se_rule`)."""
        return float(self.alphas[one_se_rule(self.alphas, self.mse_path)[1]])


def one_se_rule(alphas: np.ndarray, mse_path: np.ndarray) -> tuple[int, int, np.ndarray]:
    """``(i_min, i_1se, se)``: the index of the smallest mean held-out error, the index of
    the largest alpha whose mean error is within one standard error of that minimum (the
    1-SE rule: the sparsest model as good as the best within the noise of the folds), and
    the standard errors ``std / sqrt(F)`` (``mse_path (K, F)``, ``ddof = 1``)."""
    a = np.asarray(alphas, dtype=np.float64)
    mse = np.asarray(mse_path, dtype=np.float64)
    mean = mse.mean(1)
    folds = mse.shape[1]
    se = mse.std(1, ddof=1) / np.sqrt(folds) if folds > 1 else np.zeros_like(mean)
    i_min = int(np.argmin(mean))
    within = np.flatnonzero(mean <= mean[i_min] + se[i_min])
    i_1se = int(within[np.argmax(a[within])])
    return i_min, i_1se, se


def kfold_masks(n: int, n_folds: int = 5, *, shuffle: bool = True, seed: int = 0,
                dtype: torch.dtype = torch.float64,
                device: str | torch.device = "cpu") -> Tensor:
    """Training masks ``(n, F)`` of K-fold CV: fold ``f`` holds out the ``f``-th of ``F``
    contiguous chunks (the first ``n % F`` chunks one row larger, as scikit-learn's
    ``KFold``), of the rows in a seeded random order when ``shuffle``."""
    if not (isinstance(n_folds, int) and 2 <= n_folds <= n):
        raise InputError(f"cross-validation needs 2 <= folds <= n_samples = {n}, got {n_folds}")
    order = (torch.randperm(n, generator=torch.Generator().manual_seed(seed)) if shuffle
             else torch.arange(n))
    sizes = [n // n_folds + (1 if f < n % n_folds else 0) for f in range(n_folds)]
    masks = torch.ones(n, n_folds, dtype=dtype)
    start = 0
    for f, size in enumerate(sizes):
        masks[order[start:start + size], f] = 0
        start += size
    return masks.to(device)


def masks_from_folds(n: int, folds: Sequence[tuple[Any, Any]], *,
                     dtype: torch.dtype = torch.float64,
                     device: str | torch.device = "cpu") -> tuple[Tensor, Tensor]:
    """``(train, test)`` masks ``(n, F)`` from ``(train_indices, test_indices)`` pairs (what a
    scikit-learn splitter yields)."""
    train = torch.zeros(n, len(folds), dtype=dtype)
    test = torch.zeros(n, len(folds), dtype=dtype)
    for f, (tr, te) in enumerate(folds):
        train[torch.as_tensor(np.asarray(tr), dtype=torch.long), f] = 1
        test[torch.as_tensor(np.asarray(te), dtype=torch.long), f] = 1
    return train.to(device), test.to(device)


def heldout_mse(X: Tensor, y: Tensor, test: Tensor, coefs: Tensor, intercepts: Tensor,
                sample_weight: Tensor | None = None) -> Tensor:
    """``(F, K)`` mean squared error of each fold's solutions ``coefs (F, p, K)``,
    ``intercepts (F, K)`` on that fold's test rows (``test (n, F)`` 0/1), weighted by
    ``sample_weight`` (scikit-learn's ``np.average(r**2, weights=sw_test)``): one product
    per fold, on its test rows (on all rows, masked, for a sparse ``X``)."""
    W = test if sample_weight is None else test * sample_weight[:, None]
    out = []
    for f in range(test.shape[1]):
        rows = None if is_sparse(X) else test[:, f].nonzero().squeeze(1)
        Xf, yf, Wf = (X, y, W[:, f]) if rows is None else (X[rows], y[rows], W[rows, f])
        r = yf.unsqueeze(1) - Xf @ coefs[f] - intercepts[f]
        out.append((Wf[:, None] * r * r).sum(0) / Wf.sum())
    return torch.stack(out)


def heldout_deviance(X: Tensor, y: Tensor, test: Tensor, coefs: Tensor, intercepts: Tensor,
                     sample_weight: Tensor | None, loss: Any, delta: float | None) -> Tensor:
    """``(F, K)`` held-out mean loss above its floor (half the mean deviance for the
    Poisson, Gamma and Tweedie losses, the mean log-loss for the logistic), weighted."""
    from .problem import make_datafit

    W = test if sample_weight is None else test * sample_weight[:, None]
    out = []
    for f in range(test.shape[1]):
        rows = test[:, f].nonzero().squeeze(1)
        Xf = X.index_select(0, rows) if is_sparse(X) else X[rows]
        df = make_datafit(loss, Xf, y[rows], False, False, W[rows, f], delta)
        eta = Xf @ coefs[f] + intercepts[f]
        floor = df.saturated(eta)
        out.append(df.value_at(eta) - (W[rows, f][:, None] * floor).sum(0) / W[rows, f].sum())
    return torch.stack(out)


def cross_validate(
    X: Tensor | np.ndarray,
    y: Tensor | np.ndarray,
    alphas: Tensor | np.ndarray | Sequence[float],
    l1_ratio: float = 1.0,
    *,
    masks: Tensor | None = None,
    test_masks: Tensor | None = None,
    n_folds: int = 5,
    shuffle: bool = True,
    seed: int = 0,
    fit_intercept: bool = True,
    tol: float = 1e-6,
    max_iter: int = 20_000,
    sample_weight: Tensor | np.ndarray | None = None,
    strategy: str = "auto",
    solver: str | None = None,
    positive: bool = False,
    loss: Any = None,
    delta: float | None = None,
    **problem: Any,
) -> CVResult:
    """Held-out MSE of every alpha on every fold, and the alpha that minimizes its mean
    (for another ``loss``: the held-out deviance, :func:`heldout_deviance`, in ``mse_path``).

    Args:
        X, y: data ``(n, p)``, ``(n,)``; the solves run on ``X``'s device and dtype.
        alphas: the grid (any order; used in decreasing order).
        l1_ratio: scikit-learn's ElasticNet convention (1: Lasso).
        masks: training masks ``(n, F)`` of 0/1; default :func:`kfold_masks` with
            ``n_folds`` folds (rows shuffled by ``seed`` when ``shuffle``).
        test_masks: held-out rows ``(n, F)``; default the complement of ``masks``.
        tol: every fold and alpha is solved to relative duality gap ``<= tol``.
        sample_weight: ``(n,)`` row weights: each fold's training rows weighted (the folds
            as 0/1 row weights times these, one batched path) and its held-out MSE too.
        strategy, solver: :func:`lasso_torch.lasso_path`'s (``"auto"``: its rule, the warm
            sequence per fold on the CPU, the batch on a GPU; ``"batched"``: all folds x
            alphas at once; ``"warm"``: each fold's warm sequence).
        positive: coefficients constrained to ``w >= 0`` (as :func:`lasso_torch.solve`).
        loss, delta, problem: the problem as in :func:`lasso_torch.solve` (``penalty``,
            ``groups``, ``weights``, ...).
    """
    t0 = time.perf_counter()
    X, y = as_data(X, y)
    a = torch.as_tensor(np.asarray(alphas, dtype=np.float64)).reshape(-1)
    if a.numel() == 0 or not bool(torch.isfinite(a).all() & (a > 0).all()):
        raise InputError("alphas must be a non-empty list of finite numbers > 0")
    a = a.sort(descending=True).values
    if masks is None:
        masks = kfold_masks(X.shape[0], n_folds, shuffle=shuffle, seed=seed, dtype=X.dtype,
                            device=X.device)
    masks = torch.as_tensor(masks).to(dtype=X.dtype, device=X.device)
    test = 1 - masks if test_masks is None else torch.as_tensor(test_masks).to(masks)
    if bool((test.sum(0) < 1).any()):
        raise InputError("every fold needs at least one held-out row")
    s = check_sample_weight(sample_weight, X)
    path = lasso_path(X, y, alphas=a.to(dtype=X.dtype, device=X.device), l1_ratio=l1_ratio,
                      warn=False,
                      tol=tol, strategy=strategy, solver=solver, fit_intercept=fit_intercept,
                      masks=masks, max_iter=max_iter, sample_weight=s, positive=positive,
                      loss=loss, delta=delta, **problem)
    if loss is None or loss == "squared":
        err = heldout_mse(X, y, test, path.coefs, path.intercepts, s)
    else:
        err = heldout_deviance(X, y, test, path.coefs, path.intercepts, s, loss, delta)
    mse = err.T.double().cpu().numpy()
    index = int(np.argmin(mse.mean(1)))
    alphas_np = a.numpy()
    return CVResult(alphas=alphas_np, mse_path=mse, alpha=float(alphas_np[index]), index=index,
                    l1_ratio=float(l1_ratio), gaps=path.gaps.double().cpu().numpy(),
                    converged=bool(path.converged.all()), time=time.perf_counter() - t0)
