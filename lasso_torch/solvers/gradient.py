"""Engines for the optimizer-based solvers: ISTA/FISTA (prox) and plain subgradient.

The proximal engine sets ``p.grad`` from the datafit's closed-form gradient (no autograd
graph: one ``X w`` and one ``X^T r`` per step, or one Gram product) and calls the
``torch.optim`` optimizer. It serves one problem ``w (p,)`` or a batch ``W (p, K)`` (a
path's alphas, CV folds: one momentum and one restart test per column); in a batch it
retires converged columns and, with ``screening``, zeroes the features the gap-safe rule
proves 0 and drops from its products the features screened in every live column.
The subgradient engine is the honest baseline: autograd on the full loss
``f(w) + alpha |w|_1`` and ``torch.optim.SGD``'s update.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..certificates import Certificate, certificate_from_sums
from ..datafits import Quadratic
from ..errors import InputError
from ..optim import ProximalGradient, SubgradientDescent
from ..penalties import ElasticNet
from .engine import Engine
from .registry import SolverSpec, register
from .screening import gap_safe_dead
from .stochastic import Minibatches, batch_gradient, batch_value


def default_lr(datafit: Quadratic, lr: float | None) -> float:
    """``lr``, or ``1/L`` (the largest ``L`` of a batch's weight columns); 1 for a flat datafit."""
    if lr is not None:
        return float(lr)
    lip = float(datafit.lipschitz.max())
    return 1.0 / lip if lip > 0 else 1.0


class ProximalEngine(Engine):
    def __init__(self, datafit: Quadratic, penalty: ElasticNet, w0: Tensor, *,
                 lr: float | None = None, accelerated: bool = True, restart: bool = True,
                 backtracking: bool = False, screening: bool = False, tol: float = 0.0,
                 batch_size: int | None = None, seed: int = 0, schedule: str = "constant",
                 **_: Any) -> None:
        self.datafit, self.penalty = datafit, penalty
        self.batch = w0.dim() == 2
        self.screening = screening and self.batch and penalty.l1_ratio > 0
        # a batch in Gram form certifies from Gram sums (float64, tol >= 1e-9: see gram_sums)
        self.gram_sums = (self.batch and datafit.use_gram and w0.dtype == torch.float64
                          and tol >= 1e-9)
        self.step_df = datafit  # the datafit of the steps: the live features only
        self.feat: Tensor | None = None  # live features (None: all)
        self.keep: Tensor | None = None  # (p_live, K) not screened
        self.dead: Tensor | None = None  # screened at the last check, applied at the next step
        self.w = w0.detach().clone()
        self.opt = ProximalGradient([self.w], lr=default_lr(datafit, lr), penalty=penalty,
                                    accelerated=accelerated, restart=restart,
                                    backtracking=backtracking, columnwise=self.batch,
                                    schedule=schedule, check_finite=0)
        self.backtracking = backtracking
        self.batches = Minibatches(datafit.X.shape[0], batch_size, seed, datafit.X.device)
        if backtracking and not self.batches.full:
            raise InputError("backtracking needs the full batch (batch_size: null)")

    def step(self) -> None:
        if self.dead is not None:  # after the loop retired its finished columns
            self._screen(self.dead)
            self.dead = None
        rows = self.batches.next()
        self.w.grad = (self.step_df.gradient(self.w) if rows is None
                       else batch_gradient(self.step_df, self.w, rows))
        if self.backtracking:
            self.opt.step(lambda: self.step_df.value(self.w))
        else:  # w does not require grad: the update without step()'s per-call wrapper
            self.opt.update()
        if self.keep is not None:
            self.opt.state[self.w]["x"].mul_(self.keep)
            self.w.mul_(self.keep)

    def coef(self) -> Tensor:
        st = self.opt.state.get(self.w)
        x = st["x"] if st else self.w
        if self.feat is None:
            return x
        full = x.new_zeros((self.datafit.p, *x.shape[1:]))
        full[self.feat] = x
        return full



    def certificate(self) -> Certificate:
        w, df = self.coef(), self.datafit
        r2, ry, Xtr = df.gram_sums(w) if self.gram_sums else df.sums(w)
        cert = certificate_from_sums(df, w, r2, ry, Xtr, self.penalty)
        if self.screening:
            self.dead = gap_safe_dead(df, w, Xtr, cert.gap, self.penalty)
        return cert

    def _screen(self, dead: Tensor) -> None:
        keep = ~(dead if self.feat is None else dead[self.feat])
        self.keep = keep.to(self.w.dtype)
        rows = keep.any(1)
        if int(rows.sum()) <= 0.8 * rows.numel():  # drop features screened everywhere
            self._slice(rows=rows)
        self.w.mul_(self.keep)
        if self.w in self.opt.state:
            self.opt.state[self.w]["x"].mul_(self.keep)

    def retire(self, keep: Tensor) -> bool:
        if not self.batch:
            return False
        self._slice(cols=keep)
        if self.dead is not None:
            self.dead = self.dead[:, keep]
        groups = self.datafit.groups
        if groups is not None:
            self.datafit = self.datafit.columns(groups[keep])
        self.step_df = (self.datafit if self.feat is None
                        else self.datafit.features(self.feat))
        self.penalty = self.penalty.select(keep)  # keeps per-feature weights and bounds
        self.opt.param_groups[0]["penalty"] = self.penalty
        return True

    def _slice(self, rows: Tensor | None = None, cols: Tensor | None = None) -> None:
        """Keep the rows (features) / columns (problems) of the iterate and its state."""
        K = self.w.shape[1]

        def cut(v: Tensor) -> Tensor:
            if rows is not None and v.dim() == 2:
                v = v[rows]
            if cols is not None and v.dim() >= 1 and v.shape[-1] == K:
                v = v[..., cols]
            return v

        state = {k: cut(v) if isinstance(v, Tensor) else v
                 for k, v in self.opt.state.pop(self.w, {}).items()}
        self.w = cut(self.w).clone()
        self.opt.param_groups[0]["params"] = [self.w]
        if state:
            self.opt.state[self.w] = state
        if self.keep is not None:
            self.keep = cut(self.keep)
        if rows is not None:
            idx = rows.nonzero().squeeze(1)
            self.feat = idx if self.feat is None else self.feat[idx]
            self.step_df = self.datafit.features(self.feat)


class SubgradientEngine(Engine):
    def __init__(self, datafit: Quadratic, penalty: ElasticNet, w0: Tensor, *,
                 lr: float | None = None, schedule: Any = "constant",
                 batch_size: int | None = None, seed: int = 0, **_: Any) -> None:
        self.datafit, self.penalty = datafit, penalty
        self.w = w0.detach().clone().requires_grad_(True)
        self.opt = SubgradientDescent([self.w], lr=default_lr(datafit, lr), schedule=schedule,
                                      check_finite=0)
        self.batches = Minibatches(datafit.X.shape[0], batch_size, seed, datafit.X.device)

    def step(self) -> None:
        self.opt.zero_grad()
        rows = self.batches.next()
        f = self.datafit.value(self.w) if rows is None else batch_value(
            self.datafit, self.w, rows)
        (f + self.penalty.value(self.w)).sum().backward()
        self.opt.step()


    def coef(self) -> Tensor:
        return self.w.detach()



STOCHASTIC = {"batch_size": None, "seed": 0, "schedule": "constant"}
register(SolverSpec(
    "ista", lambda df, pen, w0, **o: ProximalEngine(df, pen, w0, accelerated=False, **o),
    "proximal gradient, step 1/L: exact zeros from some iteration on",
    options={"lr": None, "backtracking": False, **STOCHASTIC}, batched=True, weights=True,
    sharded=True, uses_lr=True))
register(SolverSpec(
    "fista", lambda df, pen, w0, **o: ProximalEngine(df, pen, w0, accelerated=True, **o),
    "ISTA + Nesterov momentum + adaptive restart, optional backtracking",
    options={"lr": None, "restart": True, "backtracking": False, **STOCHASTIC}, batched=True,
    weights=True, sharded=True, uses_lr=True))
register(SolverSpec(
    "subgradient", SubgradientEngine,
    "torch.optim.SGD on the full loss through autograd: never exact zeros",
    options={"lr": None, **STOCHASTIC}, stall_patience=None, exact_zeros=False,
    batched=True, weights=True, uses_lr=True))
