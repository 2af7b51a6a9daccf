"""The problem a user asks for, from keyword options: the datafit (``loss=``) and the penalty
(``penalty=``, ``weights=``, ``positive=``, ``bounds=``, ``gamma=``), checked once for
``solve``, ``lasso_path``, the config and the estimators; and ``alpha_max`` of any of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from . import sparse as sp
from .datafits import Quadratic
from .errors import InputError
from .glm import LOSSES, Autograd
from .nonconvex import MCP, SCAD
from .penalties import is_plain, make_penalty
from .weighted import WeightedElasticNet

LOSS_NAMES = ("squared", *LOSSES)
PENALTY_NAMES = ("l1", "lasso", "elasticnet", "l2", "ridge", "mcp", "scad", "group",
                 "sparse_group")
GAMMA = {"mcp": 3.0, "scad": 3.7}  # the usual defaults (Zhang 2010; Fan & Li 2001)


def parse_loss(loss: str) -> tuple[str, dict[str, float]]:
    """``"tweedie(1.3)"`` -> ``("tweedie", {"power": 1.3})`` (R's ``tweedie(var.power)``
    idiom; ``"tweedie"`` alone has power 1.5); any other name -> ``(name, {})``."""
    if isinstance(loss, str) and loss.startswith("tweedie(") and loss.endswith(")"):
        try:
            return "tweedie", {"power": float(loss[8:-1])}
        except ValueError:
            raise InputError(f"loss {loss!r}: write tweedie(power), e.g. tweedie(1.5)") from None
    return loss, {}


def loss_name(loss: str | Callable | None) -> str:
    """``"squared"``, a built-in name, or ``"autograd"`` for a callable."""
    if loss is None:
        return "squared"
    if callable(loss):
        return "autograd"
    loss = parse_loss(loss)[0]
    if loss not in LOSS_NAMES:
        raise InputError(f"unknown loss {loss!r}; choose from {', '.join(LOSS_NAMES)} "
                         "or pass a callable loss(pred, y)")
    return loss


def make_datafit(loss: str | Callable | None, X: Tensor, y: Tensor, fit_intercept: bool = True,
                 gram: bool | str = "auto", row_weights: Tensor | None = None,
                 delta: float | None = None) -> Any:
    """The datafit of ``loss`` on ``(X, y)`` (see :mod:`lasso_torch.glm`)."""
    name = loss_name(loss)
    if delta is not None and name != "huber":
        raise InputError(f"delta is the huber loss's option, not the {name} loss's")
    if name == "squared":
        return Quadratic(X, y, fit_intercept=fit_intercept, gram=gram, row_weights=row_weights)
    if name == "autograd":
        return Autograd(X, y, fit_intercept, row_weights=row_weights, loss=loss)
    opts = {} if delta is None else {"delta": delta}
    opts.update(parse_loss(loss)[1])
    df = LOSSES[name](X, y, fit_intercept, row_weights=row_weights, **opts)
    df.check()
    return df


def _vector(v: Any, name: str, p: int, like: Tensor) -> Tensor:
    t = torch.as_tensor(np.asarray(v, dtype=np.float64) if not isinstance(v, Tensor) else v)
    t = t.to(dtype=like.dtype, device=like.device)
    if t.dim() == 0:
        t = t.expand(p).clone()
    if t.shape != (p,):
        raise InputError(f"{name} must have one value per feature ({p}), got shape "
                         f"{tuple(t.shape)}")
    return t


def _bounds(bounds: Any, positive: bool, p: int, like: Tensor) -> tuple[Any, Any]:
    if positive and bounds is not None:
        raise InputError("give positive=True or bounds=(lower, upper), not both")
    if positive:
        return torch.zeros(p, dtype=like.dtype, device=like.device), None
    if bounds is None:
        return None, None
    if not (isinstance(bounds, (tuple, list)) and len(bounds) == 2):
        raise InputError(f"bounds must be (lower, upper), got {bounds!r}")
    lo = None if bounds[0] is None else _vector(bounds[0], "bounds' lower", p, like)
    hi = None if bounds[1] is None else _vector(bounds[1], "bounds' upper", p, like)
    if (lo is not None and bool((lo > 0).any() | torch.isnan(lo).any())) or (
            hi is not None and bool((hi < 0).any() | torch.isnan(hi).any())):
        raise InputError("bounds must satisfy lower <= 0 <= upper for every feature")
    return lo, hi


def check_weights(weights: Any, p: int, like: Tensor) -> Tensor | None:
    """Per-feature penalty factors: ``(p,)`` finite ``>= 0``, not all 0."""
    if weights is None:
        return None
    w = _vector(weights, "weights", p, like)
    if not bool(torch.isfinite(w).all() & (w >= 0).all()) or not bool((w > 0).any()):
        raise InputError("weights must be finite, >= 0 and not all 0 (0: unpenalized)")
    return w


def build_penalty(alpha: float | Tensor, l1_ratio: float = 1.0, *, p: int, like: Tensor,
                  penalty: Any = None, weights: Any = None, positive: bool = False,
                  bounds: Any = None, gamma: float | None = None, groups: Any = None) -> Any:
    """The penalty object of the options (a plain L1/L2/ElasticNet when none is given)."""
    if penalty is not None and hasattr(penalty, "prox"):
        return penalty
    kind = "elasticnet" if penalty is None else str(penalty).lower()
    if kind not in PENALTY_NAMES:
        raise InputError(f"unknown penalty {penalty!r}; choose from {', '.join(PENALTY_NAMES)}")
    if (groups is not None) != (kind in ("group", "sparse_group")):
        raise InputError("groups= goes with penalty='group' or 'sparse_group' (and needs it)")
    if groups is not None:
        if positive or bounds is not None or gamma is not None:
            raise InputError("positive/bounds/gamma are not available with group penalties")
        from .group_penalty import group_lasso
        return group_lasso(alpha, groups, p, l1_ratio if kind == "sparse_group" else 0.0,
                           weights)
    l1_ratio = {"l1": 1.0, "lasso": 1.0, "l2": 0.0, "ridge": 0.0}.get(kind, l1_ratio)
    w = check_weights(weights, p, like)
    if kind in GAMMA:
        if positive or bounds is not None:
            raise InputError(f"positive/bounds are not available with penalty {kind!r}")
        g = GAMMA[kind] if gamma is None else gamma
        return (MCP if kind == "mcp" else SCAD)(alpha, g, w)
    if gamma is not None:
        raise InputError(f"gamma is an option of the mcp and scad penalties, not of {kind!r}")
    lo, hi = _bounds(bounds, positive, p, like)
    if w is None and lo is None and hi is None:
        return make_penalty(alpha, l1_ratio)
    return WeightedElasticNet(alpha, l1_ratio, w, lo, hi)


def unpenalized(penalty: Any) -> Tensor | None:
    """Indices of the features the penalty never penalizes (weight 0), or None."""
    w = getattr(penalty, "weights", None)
    if w is None or bool((w > 0).all()):
        return None
    return (w == 0).nonzero().squeeze(1)


def start_point(datafit: Any, penalty: Any, like: Tensor) -> Tensor:
    """Zeros, with the unpenalized features at their optimum: the solution at
    ``alpha >= alpha_max``."""
    zeros = torch.zeros(datafit.p, dtype=like.dtype, device=like.device)  # like may be sparse
    return profile_unpenalized(datafit, penalty, zeros)


def _row_h(df: Any, W: Tensor) -> Tensor:
    """Newton row weights ``(n, K)`` at ``W (p, K)``: ``s`` (squared loss), ``s l''``."""
    if isinstance(df, Quadratic):
        return df._weighted(torch.ones(df.X.shape[0], W.shape[1], dtype=W.dtype,
                                       device=W.device))
    return df.row_hessian(W)[1]


def profile_unpenalized(datafit: Any, penalty: Any, w: Tensor, max_iter: int = 50) -> Tensor:
    """``w`` with its unpenalized features (weight 0) replaced by their optimum given the
    others (Newton with backtracking, per column; the profiled intercept's Hessian). The
    certificates' dual point is taken there: it then satisfies ``x_j^T S u = 0`` on those
    features, as the dual's constraints require."""
    idx = unpenalized(penalty)
    if idx is None or not getattr(datafit, "conjugate_gap", True):
        return w
    W = (w[:, None] if w.dim() == 1 else w).detach().clone()
    scale = float(datafit.Xty.abs().max()) + 1e-300
    XU = sp.select(datafit.X, idx, 1)
    XU = XU.to_dense() if sp.is_sparse(XU) else XU  # the few unpenalized columns
    n = datafit.n_cols * torch.ones(W.shape[1], dtype=W.dtype, device=W.device)
    for _ in range(max_iter):
        G = datafit.gradient(W)[idx]
        if float(G.abs().max()) <= 1e-13 * scale:
            break
        h = _row_h(datafit, W)
        X = XU.expand(W.shape[1], *XU.shape)
        if datafit.fit_intercept:
            X = X - ((h.T @ XU) / h.sum(0).clamp(min=1e-300)[:, None])[:, None, :]
        H = torch.einsum("nk,knu,knv->kuv", h, X, X) / n[:, None, None]
        eye = torch.eye(idx.numel(), dtype=W.dtype, device=W.device)
        d = -torch.linalg.solve(H + 1e-14 * eye, G.T.unsqueeze(-1))[..., 0].T
        f0, t = datafit.value(W), torch.ones_like(n)
        slope = (G * d).sum(0)
        if bool((slope.abs() <= 1e-15 * f0.abs().clamp(min=1e-300)).all()):
            W[idx] += d  # a decrease below f's rounding: the Newton step, then done
            break
        for _ in range(40):
            cand = W.clone()
            cand[idx] += t * d
            ok = datafit.value(cand) <= f0 + 1e-4 * t * slope
            if bool(ok.all()):
                break
            t = torch.where(ok, t, t / 2)
        else:  # no decrease the float64 objective can measure: as good as it gets
            break
        W[idx] += t * d
    return W[:, 0] if w.dim() == 1 else W


def alpha_max(datafit: Any, penalty: Any) -> float:
    """The smallest alpha whose penalized coefficients are all 0 (weights and bounds
    honoured; unpenalized features at their optimum)."""
    w0 = start_point(datafit, penalty, datafit.X)
    grad0 = datafit.Xty if unpenalized(penalty) is None else -datafit.gradient(w0)
    if is_plain(penalty):
        return float(make_penalty(1.0, penalty.l1_ratio).alpha_max(grad0).max())
    return float(penalty.alpha_max(grad0).max())


def solver_check(spec: Any, datafit: Any, penalty: Any, options: dict[str, Any]) -> None:
    """What a solver cannot do with this datafit/penalty, as one clear message."""
    if not isinstance(datafit, Quadratic) and options.get("batch_size") is not None:
        raise InputError("minibatches (batch_size) serve the squared loss only")
    if isinstance(penalty, SCAD) and spec.name == "prox_newton":
        raise InputError("prox_newton needs a penalty closed under scaling: not scad")
    if math.isinf(getattr(penalty, "gamma", 1.0)):
        raise InputError("gamma must be finite")
