r"""Proximal gradient descent as a ``torch.optim.Optimizer``: ISTA and FISTA.

For ``min f(w) + g(w)`` with ``f`` smooth (its gradient in ``p.grad``) and ``g`` the
penalty (its prox in ``penalty.prox``), with step ``lr = 1/L``:

.. math::
    x_{k+1} &= \mathrm{prox}_{lr\,g}(y_k - lr \nabla f(y_k)) \\
    t_{k+1} &= (1 + \sqrt{1 + 4 t_k^2}) / 2 \\
    y_{k+1} &= x_{k+1} + \frac{t_k - 1}{t_{k+1}} (x_{k+1} - x_k)

ISTA is ``accelerated=False`` (then ``y_k = x_k``); FISTA is ``accelerated=True``.

* **The parameter holds** ``y_k``, the point where the next gradient is taken, so the
  usual loop (``zero_grad``; ``loss.backward()``; ``step()``) works. The prox iterate
  ``x_k`` is in ``optimizer.state[p]["x"]``; ``optimizer.eval()`` copies it into the
  parameters and ``optimizer.train()`` restores ``y_k`` (as schedule-free optimizers do).
  Once a coordinate is exactly 0 in two consecutive ``x``, it is exactly 0 in ``y`` too.
* **Adaptive restart** (O'Donoghue & Candes 2015, gradient scheme): when
  ``(y_k - x_{k+1})^T (x_{k+1} - x_k) > 0`` the momentum is reset (``t = 1``,
  ``y = x``). The test is a tensor ``where``: no host synchronisation.
* **Backtracking** (optional, Beck & Teboulle): ``step(closure)``, the closure in torch's
  convention (as for ``LBFGS``: it zeroes the grads, evaluates the smooth part ``f`` at
  the current parameters, calls ``backward`` and returns ``f``; a closure that only
  returns ``f``, the gradient set in ``p.grad`` beforehand, works too). ``lr`` shrinks
  by ``backtrack_factor`` until ``f(x) <= f(y) + <grad, x - y> + |x - y|^2 / (2 lr)``.
  This needs one host sync per step; the default step ``1/L`` from power iteration does not need it.
* **Checked, schedulable, saved as plain data** (see :mod:`lasso_torch.optim._base`):
  ``schedule`` gives ``lr_k`` (stochastic ISTA wants ``"inv_sqrt"``); FISTA's ``t`` is
  kept in float32 or wider under bfloat16/float16 parameters, and kept so by
  ``load_state_dict``. Momentum on minibatch gradients at ``lr = 1/L`` can diverge: use
  ISTA (or :class:`~lasso_torch.optim.ProxSGD`) with a decreasing step there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from ._base import PenalizedOptimizer


class ProximalGradient(PenalizedOptimizer):
    """Proximal gradient (ISTA / FISTA) on parameters whose ``.grad`` is ``grad f``.

    Args:
        params: parameters (or param groups; a group may set its own ``penalty``,
            ``None`` for an unpenalized parameter).
        lr: step size, ``1/L`` for an ``L``-smooth ``f``.
        penalty: an object with ``prox(z, step)`` (see :mod:`lasso_torch.penalties`).
        accelerated: FISTA momentum (``False`` gives ISTA).
        restart: adaptive (gradient-scheme) restart of the momentum.
        backtracking: shrink ``lr`` until the quadratic upper bound holds (needs a closure).
        backtrack_factor: the shrink factor (> 1).
        columnwise: a ``(p, K)`` parameter is ``K`` independent problems (a batched
            path): each column has its own momentum ``t`` and its own restart test.
        schedule: ``"constant"``, ``"inv_sqrt"`` or ``"inv"`` (not with backtracking).
        check_finite: raise on a non-finite parameter every this many ``step()`` (0: never).
    """

    _wide_state = ("t", "half")

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float,
        penalty: Any = None,
        accelerated: bool = True,
        restart: bool = True,
        backtracking: bool = False,
        backtrack_factor: float = 2.0,
        columnwise: bool = False,
        schedule: str = "constant",
        check_finite: int = 1,
    ) -> None:
        if not backtrack_factor > 1:
            raise ValueError(f"backtrack_factor must be > 1, got {backtrack_factor}")
        if backtracking and schedule != "constant":
            raise ValueError("backtracking sets lr itself: use schedule='constant' with it")
        defaults = dict(
            lr=lr, penalty=penalty, accelerated=accelerated, restart=restart,
            backtracking=backtracking, backtrack_factor=backtrack_factor, columnwise=columnwise,
            schedule=schedule,
        )
        super().__init__(params, defaults, check_finite)

    def _prox(self, group: dict[str, Any], z: Tensor, lr: float) -> Tensor:
        pen = group["penalty"]
        return z if pen is None else pen.prox(z, lr)

    def _state(self, p: Tensor, columnwise: bool = False) -> dict[str, Tensor]:
        st = self.state[p]
        if not st:
            st["x"] = p.detach().clone()
            shape = p.shape[1:] if columnwise else ()
            wide = torch.promote_types(p.dtype, torch.float32)  # t never in bfloat16
            st["t"] = torch.ones(shape, dtype=wide, device=p.device)
            st["half"] = torch.full((), 0.5, dtype=wide, device=p.device)
        return st

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:  # type: ignore[override]
        """One proximal gradient step; with backtracking, ``closure()`` returns ``f``."""
        if self._eval:
            raise RuntimeError("optimizer is in eval() mode; call train() before step()")
        if any(g["backtracking"] for g in self.param_groups):
            loss = self._step_backtracking(closure)
            self._after_step()
            return loss
        return super().step(closure)

    def update(self) -> None:
        """The update of :meth:`step` (no backtracking) from the gradients in ``p.grad``.

        For a caller that owns this optimizer and runs it on parameters that do not
        require grad (the solvers' engines): ``Optimizer.step``'s hook and profiler wrapper
        and the ``no_grad`` context cost about 50 us per call, measured as 10-15 % of a
        float32 step on sim-corr (500 x 5000).
        """
        for group in self.param_groups:
            lr = self._lr(group)
            for p in group["params"]:
                if p.grad is not None:
                    z = torch.add(p, p.grad, alpha=-lr)  # one fused kernel
                    x_new = self._prox(group, z, lr)
                    self._move(group, p, x_new)

    def _move(self, group: dict[str, Any], p: Tensor, x_new: Tensor) -> None:
        """Commit ``x_{k+1}``: set ``x`` and the next gradient point ``y`` (momentum)."""
        columnwise = group.get("columnwise", False)
        st = self._state(p, columnwise)
        if group["accelerated"]:
            x_old, t = st["x"], st["t"]
            # t_new = (1 + sqrt(1 + 4 t^2)) / 2 = 1/2 + hypot(t, 1/2): two kernels, not six
            t_new = torch.hypot(t, st["half"]).add_(0.5)
            beta = (t - 1) / t_new
            d = x_new - x_old
            if group["restart"]:  # any shape: a sum over all entries (per column if columnwise)
                v = p - x_new
                vd = (v * d).sum(0) if columnwise else torch.dot(v.reshape(-1), d.reshape(-1))
                bad = vd > 0
                beta = torch.where(bad, 0.0, beta)
                t_new = torch.where(bad, 1.0, t_new)
            torch.addcmul(x_new, d, beta.to(p.dtype), out=p)  # y = x_new + beta (x_new - x_old)
            st["t"] = t_new
        else:
            p.copy_(x_new)
        st["x"] = x_new

    def _step_backtracking(self, closure: Callable[[], Tensor] | None) -> Tensor:
        if closure is None:
            raise ValueError("backtracking needs step(closure) with a closure returning f")
        with torch.enable_grad():  # torch's convention: the closure may compute the grads
            f_y = closure().detach()
        entries = [(g, p) for g in self.param_groups for p in g["params"] if p.grad is not None]
        ys = [p.detach().clone() for _, p in entries]
        grads = [p.grad.detach().clone() for _, p in entries]
        for g in self.param_groups:
            self._lr(g)
        slack = 1 + 8 * torch.finfo(f_y.dtype).eps
        while True:
            xs = []
            bound = f_y.clone()
            for (g, p), y, gr in zip(entries, ys, grads, strict=True):
                x = self._prox(g, y - g["lr"] * gr, g["lr"])
                p.copy_(x)
                d = x - y
                bound = bound + (gr * d).sum() + (d * d).sum() / (2 * g["lr"])
                xs.append(x)
            with torch.enable_grad():  # it may zero and recompute p.grad: restored below
                f_x = closure().detach()
            if bool(f_x <= bound * slack) or not bool(torch.isfinite(f_y)):
                break
            for g in {id(g): g for g, _ in entries}.values():
                g["lr"] = g["lr"] / g["backtrack_factor"]
        for (g, p), x, y, gr in zip(entries, xs, ys, grads, strict=True):
            p.copy_(y)
            p.grad = gr
            self._move(g, p, x)
        return f_y

    @torch.no_grad()
    def eval(self) -> None:
        """Put the prox iterates ``x_k`` (exactly sparse) into the parameters."""
        if not self._eval:
            for group in self.param_groups:
                for p in group["params"]:
                    if p in self.state:
                        st = self.state[p]
                        st["y"] = p.detach().clone()
                        p.copy_(st["x"])
            self._eval = True

    @torch.no_grad()
    def train(self) -> None:
        """Undo :meth:`eval`: the parameters hold the gradient points ``y_k`` again."""
        if self._eval:
            for group in self.param_groups:
                for p in group["params"]:
                    if p in self.state and "y" in self.state[p]:
                        p.copy_(self.state[p].pop("y"))
            self._eval = False


class ISTA(ProximalGradient):
    """Proximal gradient without momentum: ``w <- prox_{lr g}(w - lr grad f(w))``."""

    def __init__(self, params, lr: float, penalty: Any = None, backtracking: bool = False,
                 backtrack_factor: float = 2.0, schedule: str = "constant",
                 check_finite: int = 1) -> None:
        super().__init__(params, lr, penalty, accelerated=False, restart=False,
                         backtracking=backtracking, backtrack_factor=backtrack_factor,
                         schedule=schedule, check_finite=check_finite)


class FISTA(ProximalGradient):
    """Proximal gradient with Nesterov momentum and (by default) adaptive restart."""

    def __init__(self, params, lr: float, penalty: Any = None, restart: bool = True,
                 backtracking: bool = False, backtrack_factor: float = 2.0,
                 schedule: str = "constant", check_finite: int = 1) -> None:
        super().__init__(params, lr, penalty, accelerated=True, restart=restart,
                         backtracking=backtracking, backtrack_factor=backtrack_factor,
                         schedule=schedule, check_finite=check_finite)
