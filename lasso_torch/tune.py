r"""Hypergradient tuning of alpha: descend the validation criterion in ``log alpha``.

The criterion ``C(alpha)`` is the held-out mean squared error of the solution ``w(alpha)``
(one split, or the mean over ``K`` folds); its gradient comes from implicit
differentiation of the certified solution (:mod:`lasso_torch.implicit`): one linear system
on the support per solve, no grid. ``per_feature=True`` tunes one ``alpha_j`` per feature
(the weighted Lasso, ``alpha_j = exp(theta_j)`` as per-feature weights of ``alpha = 1``),
which no grid can search.

The outer loop (as sparse-ho / HOAG): gradient descent on ``theta = log alpha`` with a
backtracking step (a step that raises the criterion is halved and retried, an accepted one
grows the next by 1.5), every inner solve warm-started from the previous solution, and the
inner tolerance tightened as the outer steps shrink: ``tol_k = clip(tol0 * (|step_k| /
|step_0|)^2, tol_min, tol0)``. It stops when the criterion's relative decrease stays below
``rtol`` for ``patience`` steps, the step is below ``1e-6`` in ``log alpha``, or at
``max_iter``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .checks import as_data
from .cv import kfold_masks
from .errors import InputError
from .solve import solve


@dataclass
class TuneResult:
    """The tuned ``alpha`` (a float, or ``(p,)`` per feature), the solution there on the
    training rows, and the trajectory: ``alphas`` (one row per accepted outer step;
    ``(k,)`` or ``(k, p)``), ``criterion``, ``grad_norm``, ``inner_tol`` per step."""

    alpha: float | Tensor
    coef: Tensor
    intercept: Tensor
    criterion_value: float
    criterion: str
    per_feature: bool
    alphas: np.ndarray
    criteria: np.ndarray
    grad_norms: np.ndarray
    inner_tols: np.ndarray
    n_iter: int
    n_solves: int
    time: float
    status: str
    notes: list[str] = field(default_factory=list)


def _splits(X: Tensor, y: Tensor, X_val: Any, y_val: Any, criterion: str, n_folds: int,
            val_fraction: float, seed: int) -> list[tuple[Tensor, Tensor, Tensor, Tensor]]:
    """``(X_train, y_train, X_test, y_test)`` per fold (one for the holdout)."""
    if criterion == "holdout":
        if X_val is not None:
            Xv, yv = as_data(X_val, y_val)
            return [(X, y, Xv.to(X), yv.to(X))]
        n = X.shape[0]
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        k = max(1, int(round(val_fraction * n)))
        te, tr = order[:k].to(X.device), order[k:].to(X.device)
        return [(X[tr], y[tr], X[te], y[te])]
    if X_val is not None:
        raise InputError("criterion 'cv' splits X, y into folds: give no X_val, y_val")
    M = kfold_masks(X.shape[0], n_folds, seed=seed, device=X.device).bool()
    return [(X[M[:, f]], y[M[:, f]], X[~M[:, f]], y[~M[:, f]]) for f in range(n_folds)]


class _Criterion:
    """The mean held-out MSE over the splits at ``theta``, warm-starting each split."""

    def __init__(self, splits: list, per_feature: bool, options: dict[str, Any]) -> None:
        self.splits, self.per_feature, self.options = splits, per_feature, options
        self.warm: list[Tensor | None] = [None] * len(splits)
        self.n_solves = 0

    def __call__(self, theta: Tensor, tol: float, grad: bool = True
                 ) -> tuple[float, Tensor | None, list]:
        th = theta.detach().clone().requires_grad_(grad)
        total = torch.zeros((), dtype=theta.dtype, device=theta.device)
        sols = []
        for i, (Xt, yt, Xv, yv) in enumerate(self.splits):
            coef, intercept = self._solve(i, Xt, yt, th, tol)
            total = total + ((Xv @ coef + intercept - yv) ** 2).mean()
            sols.append(coef.detach())
        total = total / len(self.splits)
        g = None
        if grad:
            (g,) = torch.autograd.grad(total, th, allow_unused=True)
            g = torch.zeros_like(th) if g is None else g
        return float(total.detach()), g, sols

    def _solve(self, i: int, X: Tensor, y: Tensor, th: Tensor, tol: float
               ) -> tuple[Tensor, Tensor]:
        """One split's solution, attached to ``th``. Per feature with the lasso: the
        lasso of the rescaled columns ``x_j / alpha_j`` at alpha 1, ``w = w' / alpha``
        (the same solution map, solved by the unweighted solvers)."""
        a = torch.exp(th)
        self.n_solves += 1
        rescale = self.per_feature and float(self.options.get("l1_ratio", 1.0)) == 1.0
        if rescale:
            w0 = None if self.warm[i] is None else self.warm[i] * a.detach()
            res = solve(X / a, y, 1.0, tol=tol, coef_init=w0, warn=False, **self.options)
            coef = res.coef / a
        else:
            alpha, w = (1.0, a) if self.per_feature else (a, None)
            res = solve(X, y, alpha, weights=w, tol=tol, coef_init=self.warm[i], warn=False,
                        **self.options)
            coef = res.coef
        self.warm[i] = coef.detach()
        return coef, res.intercept


def tune(X: Any, y: Any, X_val: Any = None, y_val: Any = None, *, weights: str = "single",
         criterion: str = "holdout", n_folds: int = 5, alpha0: float | None = None,
         max_iter: int = 50, step0: float = 1.0, tol0: float = 1e-4, tol_min: float = 1e-10,
         rtol: float = 1e-5, patience: int = 3, val_fraction: float = 0.25, seed: int = 0,
         **solve_options: Any) -> TuneResult:
    """Tune alpha (``weights="single"``) or one alpha per feature (``"per_feature"``) by
    hypergradient descent on ``log alpha`` (module docstring).

    ``criterion``: ``"holdout"`` (``X_val, y_val``, or a seeded ``val_fraction`` of the
    rows) or ``"cv"`` (``n_folds``-fold, the mean held-out MSE). ``alpha0``: the start
    (default ``alpha_max / 10`` of the training data). ``solve_options`` go to
    :func:`lasso_torch.solve` (``l1_ratio``, ``fit_intercept``, ``solver``, ...). The
    returned ``coef`` is the solution on all of ``X, y`` at the tuned alpha.
    """
    if weights not in ("single", "per_feature"):
        raise InputError(f"weights must be 'single' or 'per_feature', got {weights!r}")
    if criterion not in ("holdout", "cv"):
        raise InputError(f"criterion must be 'holdout' or 'cv', got {criterion!r}")
    if "loss" in solve_options and solve_options["loss"] not in (None, "squared"):
        raise InputError("lt.tune's criterion is the held-out squared error: loss squared")
    X, y = as_data(X, y)
    per_feature = weights == "per_feature"
    t0 = time.perf_counter()
    splits = _splits(X, y, X_val, y_val, criterion, n_folds, val_fraction, seed)
    if alpha0 is None:
        from .certificates import alpha_max
        alpha0 = 0.1 * float(alpha_max(splits[0][0], splits[0][1],
                                       solve_options.get("l1_ratio", 1.0),
                                       solve_options.get("fit_intercept", True)))
    shape = (X.shape[1],) if per_feature else ()
    theta = torch.full(shape, math.log(alpha0), dtype=X.dtype, device=X.device)
    crit = _Criterion(splits, per_feature, solve_options)
    tol, step, step_first = tol0, step0, None
    value, g, _ = crit(theta, tol)
    hist = [(theta.clone(), value, float(g.norm()), tol)]
    status, calm = "max_iter", 0
    for _ in range(max_iter):
        if float(g.norm()) == 0.0:
            status = "converged"
            break
        direction = -g / g.norm() if not per_feature else -g / g.abs().max()
        while True:  # backtracking on the criterion
            cand = theta + step * direction
            new, g_new, _ = crit(cand, tol)
            if new <= value or step < 1e-6:
                break
            step /= 2
        if step < 1e-6:
            status = "converged"
            break
        decrease = (value - new) / max(abs(value), 1e-300)
        theta, value, g = cand, new, g_new
        step_first = step_first or step
        tol = min(tol0, max(tol_min, tol0 * (step / step_first) ** 2))
        hist.append((theta.clone(), value, float(g.norm()), tol))
        calm = calm + 1 if decrease < rtol else 0
        if calm >= patience:
            status = "converged"
            break
        step *= 1.5
    alpha = torch.exp(theta)
    a_fit, w_fit = (1.0, alpha) if per_feature else (float(alpha), None)
    final = solve(X, y, a_fit, weights=w_fit, tol=tol_min, warn=False, **solve_options)
    return TuneResult(
        alpha=alpha if per_feature else float(alpha), coef=final.coef, intercept=final.intercept,
        criterion_value=value, criterion=criterion, per_feature=per_feature,
        alphas=np.stack([torch.exp(h[0]).cpu().numpy() for h in hist]),
        criteria=np.array([h[1] for h in hist]), grad_norms=np.array([h[2] for h in hist]),
        inner_tols=np.array([h[3] for h in hist]), n_iter=len(hist) - 1,
        n_solves=crit.n_solves + 1, time=time.perf_counter() - t0, status=status)
