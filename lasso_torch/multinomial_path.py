r"""``lt.lasso_path(X, y, loss="multinomial")``: the warm regularization path of sparse
multinomial logistic regression (:mod:`lasso_torch.glm.multinomial`).

``alpha_max`` is the smallest ``alpha`` whose solution is ``W = 0``: with ``P0`` the
probabilities at ``W = 0`` (the weighted class frequencies with an intercept, ``1/K``
without) and ``V0 = X^T S (Y - P0) / N``, ``max_jk |V0_jk| / l1_ratio`` for ``"l1"``,
``max_j ||V0_j.||_2 / l1_ratio`` for ``"grouped"``. The grid is the package's
(:func:`lasso_torch.path.grid`), solved from ``alpha_max`` down, each alpha warm-started
from the previous one's ``(W, b, eta)`` by the compiled proximal Newton (one host copy of
``X`` for the grid; FISTA on a GPU), each certified by
:func:`lasso_torch.glm.multinomial.certificate` (float64): ``status`` is ``converged``
only where that gap is within ``tol``.

The result (:class:`lasso_torch.path_result.PathResult`) has a class axis: ``coefs (p, K,
A)``, ``intercepts (K, A)`` (of zero sum), ``gaps (A,)`` (relative: ``gap / P(0)``),
``n_iters (A,)`` (outer iterations), ``converged``, ``status`` (A,); the classes are
``torch.unique(y)`` in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .checks import check_alphas, check_l1_ratio
from .errors import InputError
from .glm import multinomial as mn
from .multinomial_solve import (
    Problem,
    certified_status,
    fista_multinomial,
    multinomial_kind,
    newton_certified,
)
from .path_result import PathResult
from .solvers.mn_host import compiled_applies


def multinomial_alpha_max(prob: Problem, l1_ratio: float, grouped: bool) -> float:
    """The smallest alpha with ``W = 0`` optimal (module docstring)."""
    P0 = mn.softmax(torch.zeros_like(prob.Y) + prob.b0)
    V0 = prob.X.T @ (prob.s[:, None] * (prob.Y - P0)) / prob.s.sum()
    vn = torch.linalg.vector_norm(V0, dim=1) if grouped else V0.abs()
    return float(vn.max()) / l1_ratio


def multinomial_path(X: Any, y: Any, alphas: Any = None, l1_ratio: float = 1.0,
                     tol: float = 1e-6, fit_intercept: bool = True, *, penalty: Any = None,
                     sample_weight: Any = None, max_iter: int = 20_000,
                     solver: str | None = None, catch_interrupt: bool = False,
                     make_grid: Callable[[float], Tensor] | None = None,
                     masks: Any = None, strategy: str = "warm", distributed: bool = False
                     ) -> PathResult:
    """The warm path (module docstring); ``make_grid(alpha_max)`` gives the grid when
    ``alphas`` is None. ``solver``: ``None``/``"auto"``/``"prox_newton"`` (compiled, on
    the CPU) or ``"fista"``. ``masks``, ``distributed=True`` and ``strategy="batched"``
    are refused (one clear error)."""
    if masks is not None or distributed or strategy == "batched":
        raise InputError("lasso_path with loss 'multinomial' takes no masks, no "
                         "distributed=True and no strategy 'batched' (it runs the warm "
                         "sequence): fit each fold's rows by itself")
    rho = check_l1_ratio(l1_ratio)
    grouped = multinomial_kind(penalty) == "grouped"
    if solver not in (None, "auto", "prox_newton", "fista"):
        raise InputError(f"lasso_path with loss 'multinomial' takes solver 'auto', "
                         f"'prox_newton' or 'fista', got {solver!r}")
    prob = Problem(X, y, fit_intercept, sample_weight)
    if alphas is None:
        if rho <= 0:
            raise InputError("an automatic alpha grid needs l1_ratio > 0; pass alphas= for "
                             "ridge")
        alphas = make_grid(multinomial_alpha_max(prob, rho, grouped)).to(prob.X.dtype)
    else:
        alphas = check_alphas(alphas, prob.X)
    compiled = solver != "fista" and compiled_applies(prob.X)
    if solver == "prox_newton" and not compiled:
        raise InputError("solver 'prox_newton' (multinomial) needs a dense X on the CPU")
    A, p, K = alphas.numel(), prob.p, prob.K
    coefs = torch.zeros(p, K, A, dtype=prob.X.dtype)
    intercepts = torch.zeros(K, A, dtype=prob.X.dtype)
    gaps = torch.full((A,), float("nan"), dtype=prob.X.dtype)
    iters = torch.zeros(A, dtype=torch.int64)
    status = np.full(A, "interrupted", dtype=object)
    host = prob.host() if compiled else None
    W = torch.zeros(p, K, dtype=prob.X.dtype)
    t0 = time.perf_counter()
    try:
        for k, a in enumerate(alphas.tolist()):
            if compiled:
                W, b, cert, it = newton_certified(prob, host, a, rho, grouped, tol, max_iter)
            else:
                W, b, cert, it, _ = fista_multinomial(prob, a, rho, grouped, tol, max_iter, W, 10)
            coefs[:, :, k], intercepts[:, k], iters[k] = W, b, it
            gaps[k] = cert[1] / prob.p0
            status[k] = certified_status(cert[1] / prob.p0, tol, it, max_iter)
    except KeyboardInterrupt:
        if not catch_interrupt:
            raise
    return PathResult(alphas=alphas, coefs=coefs, intercepts=intercepts, gaps=gaps,
                      n_iters=iters, converged=torch.as_tensor(status == "converged"),
                      status=status, time=time.perf_counter() - t0, strategy="warm",
                      l1_ratio=rho)

