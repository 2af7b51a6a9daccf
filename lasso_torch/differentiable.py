"""The hooks that make ``lt.solve`` and ``lt.lasso_path`` differentiable: inputs that
require grad are detached, the certified solve runs as usual, and the solution is attached
to them through :class:`lasso_torch.implicit.ImplicitSolution` (implicit differentiation:
one system on the support). With nothing requiring grad they are the plain functions (a
0-d tensor ``alpha`` / ``l1_ratio`` is read as a float).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from .errors import InputError
from .implicit import attach
from .problem import loss_name
from .sparse import is_sparse

LOSSES_DIFF = ("squared", "logistic", "huber", "poisson")


def wants_grad(*values: Any) -> bool:
    """Whether autograd is on and one of ``values`` is a tensor that requires grad."""
    return torch.is_grad_enabled() and any(
        isinstance(v, Tensor) and v.requires_grad for v in values)


def _number(v: Any) -> Any:
    """A 0-d tensor (or numpy scalar) as a float for the solver's checks."""
    if isinstance(v, Tensor) and v.dim() == 0:
        return float(v.detach())
    return v.item() if hasattr(v, "item") and getattr(v, "shape", None) == () else v


def differentiable(solve_fn: Callable[..., Any]) -> Callable[..., Any]:
    """``solve`` with differentiable inputs: the solve runs on detached copies and the
    result's ``coef`` and ``intercept`` are attached to the inputs' graph through
    :class:`ImplicitSolution`. Nothing requires grad: the plain solve (0-d tensor alpha and
    l1_ratio read as floats)."""

    @functools.wraps(solve_fn)
    def wrapper(X: Any, y: Any, alpha: Any, l1_ratio: Any = 1.0, solver: str = "auto",
                **kw: Any) -> Any:
        inputs = (X, y, alpha, l1_ratio, kw.get("sample_weight"), kw.get("weights"))
        if not wants_grad(*inputs):
            return solve_fn(X, y, _number(alpha), _number(l1_ratio), solver, **kw)
        return _solve_attached(solve_fn, inputs, solver, kw)

    return wrapper


def differentiable_path(path_fn: Callable[..., Any]) -> Callable[..., Any]:
    """``lasso_path`` with differentiable inputs (``X``, ``y``, ``alphas``, ``l1_ratio``,
    ``sample_weight``, ``weights``): the path runs detached, then ``coefs (p, K)`` and
    ``intercepts (K,)`` are attached column by column, each with its own alpha."""
    sig = inspect.signature(path_fn)

    @functools.wraps(path_fn)
    def wrapper(*args: Any, **kw: Any) -> Any:
        a = sig.bind(*args, **kw).arguments
        opts = a.get("kwargs", {})
        inputs = (a["X"], a["y"], a.get("alphas"), a.get("l1_ratio", 1.0),
                  a.get("sample_weight"), a.get("weights"))
        if not wants_grad(*inputs):
            return path_fn(*args, **kw)
        if a.get("masks") is not None or a.get("distributed"):
            raise InputError("differentiating a path needs no masks and distributed=False")
        _check_supported(a["X"], {**a, **opts})
        plain = {k: _detached(v) for k, v in a.items() if k != "kwargs"}
        plain["l1_ratio"] = _number(plain.get("l1_ratio", 1.0))
        res = path_fn(**plain, **opts)
        like = res.coefs
        alphas = _as(a["alphas"], like) if a.get("alphas") is not None else res.alphas
        if alphas.dim() == 1 and alphas.numel() == res.alphas.numel():  # the path's order
            alphas = alphas[torch.argsort(alphas.detach(), descending=True, stable=True)]
        X, y, _, rho, sw, wts = inputs
        res.coefs, res.intercepts = attach(
            res.coefs, res.intercepts, X=_as(X, like), y=_as(y, like), alpha=alphas,
            l1_ratio=_as(rho, like), sample_weight=_as(sw, like), weights=_as(wts, like),
            loss=loss_name(a.get("loss")), fit_intercept=a.get("fit_intercept", True),
            delta=a.get("delta"), positive=a.get("positive", False), bounds=a.get("bounds"))
        return res

    return wrapper


def _detached(v: Any) -> Any:
    return v.detach() if isinstance(v, Tensor) else v


def _solve_attached(solve_fn: Callable[..., Any], inputs: tuple, solver: str,
                    kw: dict[str, Any]) -> Any:
    X, y, alpha, l1_ratio, sw, wts = inputs
    _check_supported(X, kw)
    res = solve_fn(_detached(X), _detached(y), _number(alpha), _number(l1_ratio), solver,
                   **{**kw, "sample_weight": _detached(sw), "weights": _detached(wts)})
    like = res.coef
    res.coef, res.intercept = attach(
        res.coef, res.intercept, X=_as(X, like), y=_as(y, like), alpha=_as(alpha, like),
        l1_ratio=_as(l1_ratio, like), sample_weight=_as(sw, like), weights=_as(wts, like),
        loss=res.loss, fit_intercept=kw.get("fit_intercept", True), delta=kw.get("delta"),
        positive=kw.get("positive", False), bounds=kw.get("bounds"))
    return res


def _as(v: Any, like: Tensor) -> Tensor | None:
    """``v`` as a tensor on ``like``'s dtype/device, keeping its graph."""
    if v is None:
        return None
    if isinstance(v, Tensor):
        return v.to(dtype=like.dtype, device=like.device)
    return torch.as_tensor(v, dtype=like.dtype, device=like.device)


def _check_supported(X: Any, kw: dict[str, Any]) -> None:
    name = loss_name(kw.get("loss"))
    if name not in LOSSES_DIFF:
        raise InputError(f"differentiating a solution needs a built-in loss "
                         f"({', '.join(LOSSES_DIFF)}), got {name!r}")
    pen = kw.get("penalty")
    if pen is not None and str(pen).lower() not in ("l1", "lasso", "elasticnet"):
        raise InputError(f"differentiating a solution needs penalty l1 or elasticnet, "
                         f"got {pen!r}")
    if kw.get("distributed"):
        raise InputError("differentiating a solution is not available with distributed=True")
    if isinstance(X, Tensor) and is_sparse(X):
        raise InputError("differentiating a solution needs a dense X (X is sparse)")


