"""``lt.solve(X, y, alpha, loss="multinomial")``: sparse multinomial logistic regression.

The problem and its certificate: :mod:`lasso_torch.glm.multinomial`. The solver is FISTA
with adaptive (gradient) restart on ``(W, b)`` jointly, step ``1/L`` with
``L = ||[X 1]||_S^2 / (2 N)`` (the softmax Hessian is at most ``1/2``), the gap checked
every ``check_every`` steps at the profiled intercepts. ``penalty="l1"`` (elementwise,
scikit-learn's ``penalty="l1"``) or ``"grouped"`` (glmnet's ``type.multinomial =
"grouped"``); ``l1_ratio`` as everywhere.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import torch
from torch import Tensor

from .checks import as_data, check_alpha, check_l1_ratio, check_sample_weight
from .errors import ConvergenceWarning, InputError
from .glm import multinomial as mn


def multinomial_classes(y: Tensor) -> tuple[Tensor, Tensor]:
    """``(classes, codes)``: the sorted labels and each row's class index."""
    classes, codes = torch.unique(y, return_inverse=True)
    if classes.numel() < 2:
        raise InputError("loss 'multinomial': y holds a single class; two or more are needed")
    return classes, codes


def solve_multinomial(X: Any, y: Any, alpha: float, l1_ratio: float = 1.0,
                      penalty: str | None = None, tol: float = 1e-6, max_iter: int = 100_000,
                      fit_intercept: bool = True, sample_weight: Any = None,
                      coef_init: Tensor | None = None, warn: bool = True,
                      check_every: int = 10) -> dict[str, Any]:
    """The fields of :class:`lasso_torch.solve.SolveResult` (module docstring)."""
    X, y = as_data(X, y)
    if X.layout != torch.strided:
        X = X.to_dense()
    alpha, rho = float(check_alpha(alpha)), check_l1_ratio(l1_ratio)
    kind = "l1" if penalty in (None, "l1", "lasso", "elasticnet") else str(penalty)
    if kind not in ("l1", "grouped"):
        raise InputError(f"loss 'multinomial' takes penalty 'l1' or 'grouped', got {penalty!r}")
    grouped = kind == "grouped"
    s = check_sample_weight(sample_weight, X)
    s = torch.ones_like(y) if s is None else s
    classes, codes = multinomial_classes(y)
    K, p = classes.numel(), X.shape[1]
    Y = mn.one_hot(codes, K, X)
    A = torch.cat([X, torch.ones_like(X[:, :1])], 1) if fit_intercept else X
    L = float(torch.linalg.matrix_norm(A * s.sqrt()[:, None], 2)) ** 2 / (2 * float(s.sum()))
    step = 1.0 / max(L, 1e-300)
    zero_b = torch.zeros(K, dtype=X.dtype)
    b0 = mn.profile_intercept(torch.zeros_like(Y), Y, s, zero_b) if fit_intercept else zero_b
    p0 = float(mn.loss_value(torch.zeros_like(Y) + b0, Y, s))
    W = torch.zeros(p, K, dtype=X.dtype) if coef_init is None else coef_init.to(X).clone()
    b = b0.clone()
    Wy, by, Wold, bold, t = W, b, W, b, 1.0
    t0 = time.perf_counter()
    status, it, cert = "max_iter", 0, None
    for it in range(1, max_iter + 1):
        P = torch.softmax(X @ Wy + by, 1)
        R = s[:, None] * (P - Y) / s.sum()
        W = mn.prox(Wy - step * (X.T @ R), step, alpha, rho, grouped)
        b = by - step * R.sum(0) if fit_intercept else by
        if float(((Wy - W) * (W - Wold)).sum() + ((by - b) * (b - bold)).sum()) > 0:
            t = 1.0  # gradient restart (O'Donoghue & Candes)
        tn = (1 + (1 + 4 * t * t) ** 0.5) / 2
        Wy, by = W + (t - 1) / tn * (W - Wold), b + (t - 1) / tn * (b - bold)
        Wold, bold, t = W, b, tn
        if it % check_every == 0 or it == max_iter:
            cert = mn.certificate(X, Y, s, W, b, alpha, rho, grouped, fit_intercept)
            if cert[1] / p0 <= tol:
                status = "converged"
                break
    if cert is None:
        cert = mn.certificate(X, Y, s, W, b, alpha, rho, grouped, fit_intercept)
    primal, gap, kkt, b = cert
    if warn and status != "converged":
        warnings.warn(f"multinomial: {status} after {it} iterations; relative duality gap "
                      f"{gap / p0:.3e} (tol {tol:.1e})", ConvergenceWarning, stacklevel=3)
    f = torch.tensor
    return dict(
        solver="fista (multinomial)", coef=W, intercept=b,
        n_iter=it, gap=f(gap / p0, dtype=X.dtype), gap_abs=f(gap, dtype=X.dtype),
        objective=f(primal, dtype=X.dtype), kkt=f(kkt, dtype=X.dtype),
        converged=status == "converged", status=status, lr=step,
        time=time.perf_counter() - t0, alpha=alpha, l1_ratio=rho, loss="multinomial",
        notes=(f"classes {classes.tolist()}", f"penalty {kind}"))
