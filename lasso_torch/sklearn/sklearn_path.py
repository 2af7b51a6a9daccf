"""Two solves of the estimators outside the one-alpha path: the ``path`` static method
(scikit-learn's ``enet_path`` semantics over :func:`lasso_torch.lasso_path`) and the
direct solve of ridge and ``alpha=0`` (least squares, which scikit-learn warns a descent
"does not converge well" on): exact, where a descent reaches ``tol`` only."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import sparse as scipy_sparse
from torch import Tensor

from ..certificates import certify
from ..checks import check_sample_weight
from ..datafits import Quadratic
from ..errors import InputError
from ..path import lasso_path
from ..solve import SolveResult
from ..sparse import is_sparse
from .inputs import to_tensor, torch_dtype


def least_squares(X: Tensor, y: Tensor, sw: Tensor | None, fit_intercept: bool,
                  l1_ratio: float, alpha: float = 0.0, positive: bool = False) -> SolveResult:
    """Ridge (``alpha (1 - l1_ratio)/2 ||w||^2``) or, at ``alpha = 0``, the minimum-norm
    (weighted) least squares, solved directly: ``lstsq`` of the centered rows scaled by
    ``sqrt(s)``, stacked on ``sqrt(n a2) I`` (``positive``: ``scipy.optimize.nnls``, on the
    host). At ``alpha = 0`` the "gap" is the objective ``sum s r^2 / (2n)`` (no penalty: no
    dual to bound it by)."""
    if is_sparse(X):
        X = X.to_dense()  # a direct solve needs the columns (ridge / alpha = 0 only)
    s = check_sample_weight(sw, X)
    n, p = X.shape
    s = torch.ones(n, dtype=X.dtype, device=X.device) if s is None else s
    xm = (s @ X) / n if fit_intercept else X.new_zeros(p)
    ym = (s @ y) / n if fit_intercept else y.new_zeros(y.shape[1:])
    r = s.sqrt()
    A, b = (X - xm) * r[:, None], (y - ym) * (r if y.dim() == 1 else r[:, None])
    a2 = alpha * (1 - l1_ratio)
    if a2 > 0:
        A = torch.cat([A, (n * a2) ** 0.5 * torch.eye(p, dtype=X.dtype, device=X.device)])
        b = torch.cat([b, b.new_zeros((p, *b.shape[1:]))])
    if positive:
        coef = _nnls(A, b)
    elif X.device.type == "cpu":
        coef = torch.linalg.lstsq(A, b, driver="gelsd").solution
    else:
        coef = torch.linalg.pinv(A) @ b
    res = b[:n] - A[:n] @ coef
    p0 = (b[:n] * b[:n]).sum(0) / (2 * n)
    if alpha > 0:
        cert = certify(Quadratic(X, y, fit_intercept, gram=False, row_weights=s), coef,
                       alpha, l1_ratio)
        obj, gap, kkt = cert.objective, cert.gap, cert.kkt
    else:
        obj = gap = (res * res).sum(0) / (2 * n)
        kkt = torch.zeros_like(obj)
    return SolveResult(
        solver="lstsq", coef=coef, intercept=ym - xm @ coef, n_iter=1,  # one direct solve
        gap=gap / p0.clamp(min=torch.finfo(X.dtype).tiny), gap_abs=gap, objective=obj,
        kkt=kkt, converged=True, status="converged", lr=None, time=0.0, alpha=alpha,
        l1_ratio=l1_ratio, n_iters=None if y.dim() == 1 else np.ones(y.shape[1], dtype=int))


def _nnls(A: Tensor, b: Tensor) -> Tensor:
    """``argmin_{w >= 0} ||A w - b||`` per column of ``b`` (scipy's active-set NNLS)."""
    from scipy.optimize import nnls

    An = A.detach().double().cpu().numpy()
    cols = [b] if b.dim() == 1 else list(b.T)
    ws = [nnls(An, c.detach().double().cpu().numpy(), maxiter=50 * A.shape[1])[0]
          for c in cols]
    w = np.stack(ws, -1) if b.dim() == 2 else ws[0]
    return torch.as_tensor(w).to(dtype=A.dtype, device=A.device)


def enet_path_torch(X: Any, y: Any, *, l1_ratio: float = 0.5, eps: float = 1e-3,
                    n_alphas: int | None = None, alphas: Any = None, precompute: Any = "auto",
                    Xy: Any = None, copy_X: bool = True, coef_init: Any = None,
                    verbose: bool = False, return_n_iter: bool = False, positive: bool = False,
                    check_input: bool = True, tol: float = 1e-4, max_iter: int = 1000,
                    **params: Any) -> tuple[np.ndarray, ...]:
    """scikit-learn's ``enet_path`` (no intercept): ``(alphas, coefs, dual_gaps[, n_iters])``
    with ``coefs (n_features, n_alphas)`` (``(n_targets, n_features, n_alphas)`` for 2-D
    ``y``), the absolute duality gaps, every alpha solved to scikit-learn's ``tol``."""
    if params:
        raise InputError(f"Unexpected parameters in params: {sorted(params)}")
    dense = X if scipy_sparse.issparse(X) else np.asarray(X)
    dtype = torch_dtype(None, dense.dtype)
    Xt = to_tensor(dense if scipy_sparse.issparse(dense) else dense.astype(np.float64 if dtype
                   == torch.float64 else np.float32), dtype, torch.device("cpu"))
    Y = torch.as_tensor(np.asarray(y)).to(dtype)
    if isinstance(alphas, int):
        n_alphas, alphas = alphas, None
    cols = [Y] if Y.dim() == 1 else list(Y.T)
    out_a, out_c, out_g, out_n = None, [], [], []
    if positive and Y.dim() == 2:  # scikit-learn's rule
        raise InputError("positive=True is not allowed for multi-output y (n, T)")
    for yk in cols:
        res = lasso_path(Xt, yk, alphas=alphas, n_alphas=n_alphas or 100, eps=eps,
                         l1_ratio=l1_ratio, tol=2 * tol, fit_intercept=False, positive=positive,
                         strategy="warm",
                         max_iter=max(max_iter, 1))
        p0 = float((yk * yk).sum()) / (2 * yk.shape[0])
        out_a = res.alphas.double().numpy()
        out_c.append(res.coefs.double().numpy())
        out_g.append(res.gaps.double().numpy() * p0)
        out_n.append(res.n_iters.numpy())
    coefs = out_c[0] if Y.dim() == 1 else np.stack(out_c)
    gaps = out_g[0] if Y.dim() == 1 else np.stack(out_g).sum(0)
    out = (out_a, coefs, gaps)
    return (*out, out_n[0] if Y.dim() == 1 else np.stack(out_n)) if return_n_iter else out
