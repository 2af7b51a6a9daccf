r"""Coordinate descent and working sets for the squared loss with the other penalties.

The penalties of :mod:`lasso_torch.weighted` (per-feature factors, bounds) and
:mod:`lasso_torch.nonconvex` (MCP, SCAD) are separable, so one coordinate's exact update
is their 1-D prox at step ``1/G_jj``::

    w_j <- prox_{omega_j / G_jj}(w_j + q_j / G_jj),   q = X_c^T S r / n,  G = X_c^T S X_c / n

(clip after thresholding for bounds, firm thresholding for MCP, SCAD's three pieces).
One ``step()`` is one epoch, on the Gram matrix (host, float64). With ``working_sets``
each step first scores every feature by its KKT violation, keeps the support and the
worst violators (at least doubling), and runs epochs on that block until its own KKT
violation is below a third of the full one (skglm's pattern).

``cd`` and ``ws`` keep their names: their builders dispatch here when the penalty is not
the uniform elastic net (:func:`lasso_torch.penalties.is_plain`), and refuse a loss other
than the squared one (use ``prox_newton``, ``fista`` or ``ista`` there).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..datafits import Quadratic
from ..errors import InputError
from ..nonconvex import MCP, SCAD
from ..penalties import is_plain
from ..prox import scad_threshold
from . import anderson_cd, coordinate, working_set  # noqa: F401  (registered first)
from .engine import Engine
from .kernels import box_enet_epoch
from .registry import get_solver, register


def _params(penalty: Any, like: Tensor) -> dict[str, np.ndarray | float | str]:
    """The penalty as per-coordinate numpy arrays for the host epochs."""
    one = torch.ones_like(like)
    if isinstance(penalty, (MCP, SCAD)):
        lam = penalty.lam(one).double().cpu().numpy()
        return {"kind": type(penalty).__name__, "lam": lam, "gamma": penalty.gamma}
    a1, a2 = penalty._a(one)
    lo, hi = penalty._bounds(one)
    return {"kind": "enet", "a1": a1.double().cpu().numpy(), "a2": a2.double().cpu().numpy(),
            "lo": lo.double().cpu().numpy(), "hi": hi.double().cpu().numpy()}


def prox_1d(z: float, t: float, j: int, P: dict[str, Any]) -> float:
    """The exact 1-D prox of coordinate ``j``'s penalty at step ``t``."""
    kind = P["kind"]
    if kind == "enet":
        a1 = t * P["a1"][j]
        v = (z - a1 if z > a1 else z + a1 if z < -a1 else 0.0) / (1.0 + t * P["a2"][j])
        return min(max(v, P["lo"][j]), P["hi"][j])
    lam, g = P["lam"][j], P["gamma"]
    az = abs(z)
    if az <= t * lam:
        return 0.0
    if kind == "MCP":
        if g <= t:
            return z if az > math.sqrt(t * g) * lam else 0.0
        return z if az > g * lam else math.copysign((az - t * lam) / (1 - t / g), z)
    if g <= 1 + t:  # SCAD's middle piece is not convex at this step: the exact general prox
        return float(scad_threshold(torch.tensor([z], dtype=torch.float64), t, lam, g)[0])
    if az <= (1 + t) * lam:
        return math.copysign(az - t * lam, z)
    if az <= g * lam:
        return math.copysign(((g - 1) * az - t * g * lam) / (g - 1 - t), z)
    return z


def epochs(G: np.ndarray, q: np.ndarray, w: np.ndarray, idx: np.ndarray, P: dict[str, Any],
           n_epochs: int) -> None:
    """``n_epochs`` cyclic epochs over ``idx`` (positions in ``G``), ``q = c - G w`` kept;
    compiled (:func:`~lasso_torch.solvers.kernels.box_enet_epoch`) for the weighted /
    bounded elastic net, the Python loop below for MCP and SCAD."""
    if P["kind"] == "enet":
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        for _ in range(n_epochs):
            box_enet_epoch(G, q, w, idx, P["a1"], P["a2"], P["lo"], P["hi"])
        return
    for _ in range(n_epochs):
        for j in idx:
            d = G[j, j]
            if d <= 0.0:
                continue
            new = prox_1d(w[j] + q[j] / d, 1.0 / d, j, P)
            if new != w[j]:
                q -= (new - w[j]) * G[j]
                w[j] = new


class PenaltyCD(Engine):
    """Cyclic CD (optionally in working sets) for a quadratic datafit, any separable penalty."""

    def __init__(self, datafit: Quadratic, penalty: Any, w0: Tensor, *,
                 working_sets: bool = False, ws_min: int = 10, **_: Any) -> None:
        self.datafit, self.penalty = datafit, penalty
        self.device, self.dtype = w0.device, w0.dtype
        self.P = _params(penalty, w0)
        self.w = w0.detach().double().cpu().numpy().copy()
        self.G = datafit.gram.double().cpu().numpy()
        self.c = datafit.Xty.double().cpu().numpy()
        self.q = self.c - self.G @ self.w
        self.working_sets, self.ws_min = working_sets, ws_min

    def step(self) -> None:
        p = self.w.shape[0]
        if not self.working_sets or p <= self.ws_min:
            epochs(self.G, self.q, self.w, np.arange(p), self.P, 1)
            return
        score = self._kkt(self.penalty, np.arange(p))
        supp = self.w != 0
        size = min(p, max(self.ws_min, 2 * int(supp.sum())))
        order = np.argsort(-np.where(supp, np.inf, score), kind="stable")
        ws = np.sort(order[:size])
        sub_pen = self.penalty.features(torch.from_numpy(ws).to(self.device))
        target = score.max() / 3
        for _ in range(1000):
            epochs(self.G, self.q, self.w, ws, self.P, 1)
            if float(self._kkt(sub_pen, ws).max()) <= target:
                break

    def _kkt(self, penalty: Any, idx: np.ndarray) -> np.ndarray:
        """KKT violation of the coordinates ``idx`` (``-q`` is the gradient)."""
        w = torch.from_numpy(self.w[idx]).to(device=self.device, dtype=self.dtype)
        g = torch.from_numpy(-self.q[idx]).to(device=self.device, dtype=self.dtype)
        return penalty.subdiff_distance(w, g).double().cpu().numpy()

    def coef(self) -> Tensor:
        return torch.from_numpy(self.w.copy()).to(device=self.device, dtype=self.dtype)


def _dispatch(original: Any, working_sets: bool) -> Any:
    def build(datafit: Any, penalty: Any, w0: Tensor, **options: Any) -> Engine:
        if not isinstance(datafit, Quadratic):
            raise InputError(f"solver {original.name!r} serves the squared loss; for loss "
                             f"{getattr(datafit, 'name', '?')!r} use prox_newton, fista or ista")
        if is_plain(penalty):
            return original.build(datafit, penalty, w0, **options)
        if w0.dim() != 1:
            raise InputError(f"solver {original.name!r} solves one problem at a time")
        return PenaltyCD(datafit, penalty, w0, working_sets=working_sets, **options)
    return build


for _name, _ws in (("cd", False), ("ws", True), ("anderson_cd", True)):
    _spec = get_solver(_name)
    if not getattr(_spec.build, "dispatches", False):
        _build = _dispatch(_spec, _ws)
        _build.dispatches = True
        register(replace(_spec, build=_build))
