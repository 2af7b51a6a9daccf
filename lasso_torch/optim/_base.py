r"""What every ``lt.optim`` optimizer shares: checked param groups, step schedules, a
state dict of plain data, and a stop at the first non-finite iterate.

* **Param groups.** Each group has a ``penalty`` (``None``: a plain gradient step) that
  must be an *instance* with a callable ``prox(z, step)``, and an ``lr > 0``. Both are
  checked when the group is added (the constructor, ``add_param_group``), and ``lr`` again
  at every step (a user may set ``group["lr"]``).
* **Step schedules** (``schedule=``), with ``k = 0, 1, ...`` the group's step count:
  ``"constant"`` (``lr_k = lr``; ``group["lr"]`` is never touched, so a
  ``torch.optim.lr_scheduler`` or a hand edit of ``group["lr"]`` works as usual),
  ``"inv_sqrt"`` (``lr_k = lr / sqrt(k + 1)``) and ``"inv"`` (``lr_k = lr / (k + 1)``).
  A decreasing schedule writes ``group["lr"] = group["base_lr"] * factor(k)``.
* **Stochastic use.** A minibatch gradient is a noisy estimate of ``grad f``: at a
  constant step the iterates do not converge but hover around the solution at a distance
  that grows with ``lr`` and the gradient's variance, and the set of exact zeros of a
  prox method flickers. Take a smaller ``lr`` than the full-batch ``1/L`` (which can blow
  up FISTA's momentum on noisy gradients) and a decreasing schedule (``inv_sqrt``).
* **State dict.** ``state_dict()`` holds tensors and plain Python data only, so a plain
  ``torch.load`` (``weights_only=True``) reads it: the penalty object is stored as its
  ``repr`` (a label), and ``load_state_dict`` keeps the penalties of the optimizer it loads
  into. The eval flag is saved too; the next iterates after a round trip are bit-identical.
* **Non-finite iterates.** ``step()`` checks every ``check_finite`` steps (one host sync;
  ``0`` never) that the parameters are finite and raises ``FloatingPointError`` naming
  the parameter, the step and the step size (``meta`` tensors, which hold no values, are
  not checked).
* **Refused groups leave nothing behind.** A group that fails its checks (a penalty
  class instead of an instance, ``lr <= 0``, complex parameters, an unknown schedule) is
  removed again before the error is raised: the optimizer steps as before.
* **Complex parameters are refused** (a ``TypeError``): the penalties' prox (soft
  thresholding, ...) is defined on real numbers. Optimize ``torch.view_as_real(w)``
  instead if the real and imaginary parts are penalized separately.
* **schedule= and torch LR schedulers.** A decreasing ``schedule`` writes ``group["lr"]``
  itself at every step, so it cannot be combined with a ``torch.optim.lr_scheduler``
  (which writes it too): ``step()`` refuses the pair with a ``ValueError``. Use
  ``schedule="constant"`` (the default) with a torch scheduler, or the built-in schedule
  alone.
* **load_state_dict checks the state.** A state dict of another optimizer (a
  ``torch.optim.Adam`` checkpoint into :class:`ProxAdam`) lacks this optimizer's group
  keys or per-parameter state, and is refused with a ``ValueError`` naming what is
  missing, before anything is changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

SCHEDULES = ("constant", "inv_sqrt", "inv")


def schedule_factor(schedule: str, k: int) -> float:
    """``lr_k / lr`` at step ``k = 0, 1, ...``: 1, ``1/sqrt(k+1)`` or ``1/(k+1)``."""
    if schedule == "constant":
        return 1.0
    if schedule == "inv_sqrt":
        return 1.0 / math.sqrt(k + 1)
    if schedule == "inv":
        return 1.0 / (k + 1)
    raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}")


def check_penalty(penalty: Any, where: str = "penalty") -> None:
    """``None`` or an instance with a callable ``prox``; a clear ``TypeError`` otherwise."""
    if penalty is None:
        return
    if isinstance(penalty, type):
        raise TypeError(f"{where}: got the class {penalty.__name__}, pass an instance such as "
                        f"{penalty.__name__}(alpha=0.1)")
    if not callable(getattr(penalty, "prox", None)):
        raise TypeError(f"{where}: {penalty!r} has no callable prox(z, step); use a penalty "
                        "from lasso_torch.penalties (L1, ElasticNet, GroupL1, ...)")


def check_lr(lr: Any, where: str = "lr") -> None:
    """A finite number > 0 (a ``ValueError`` naming the value otherwise)."""
    if isinstance(lr, Tensor):
        lr = float(lr)
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"{where} must be a finite number > 0, got {lr!r}")


def _positive(lr: Any) -> bool:
    return isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0


def check_finite_params(opt: Optimizer, step: int) -> None:
    """Raise ``FloatingPointError`` if a parameter holds nan/inf (one host sync in all;
    ``meta`` tensors hold no values and are skipped)."""
    params = [p for g in opt.param_groups for p in g["params"] if not p.is_meta]
    if not params or bool(torch.stack([torch.isfinite(p).all() for p in params]).all()):
        return
    for gi, g in enumerate(opt.param_groups):
        for pi, p in enumerate(g["params"]):
            if not p.is_meta and not bool(torch.isfinite(p).all()):
                raise FloatingPointError(
                    f"{type(opt).__name__}: parameter {pi} of param group {gi} (shape "
                    f"{tuple(p.shape)}) is not finite after step {step} at lr={g['lr']:.3g}: "
                    "the step is too large for this loss (for minibatch gradients take a "
                    "smaller lr than 1/L and a decreasing schedule)")


class PenalizedOptimizer(Optimizer):
    """Base class: see the module docstring. A subclass writes :meth:`update`."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]],
                 defaults: dict[str, Any], check_finite: int = 1) -> None:
        defaults.setdefault("penalty", None)
        defaults.setdefault("schedule", "constant")
        if int(check_finite) < 0:
            raise ValueError(f"check_finite must be >= 0, got {check_finite}")
        self.check_finite = int(check_finite)
        self._eval = False
        self._n_steps = 0
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        g = self.param_groups[-1]
        i = len(self.param_groups) - 1
        try:
            self.check_group(g, f"param group {i}")
        except Exception:
            self.param_groups.pop()  # a refused group leaves nothing behind
            raise
        g.setdefault("base_lr", float(g["lr"]))
        g.setdefault("steps", 0)

    def check_group(self, g: dict[str, Any], where: str) -> None:
        """A new group's checks (a subclass adds its own): penalty, lr, schedule, real
        parameters."""
        check_penalty(g["penalty"], f"{where}: penalty")
        check_lr(g["lr"], f"{where}: lr")
        schedule_factor(g["schedule"], 0)
        complex_ = [j for j, p in enumerate(g["params"]) if p.is_complex()]
        if complex_:
            raise TypeError(f"{where}: parameter {complex_[0]} is complex "
                            f"({g['params'][complex_[0]].dtype}); {type(self).__name__} "
                            "works on real parameters (the penalties' prox is defined on "
                            "real numbers): optimize torch.view_as_real(w) instead")

    def _lr(self, group: dict[str, Any]) -> float:
        """This step's ``lr`` for ``group`` (the schedule applied), counting the step."""
        if group["schedule"] != "constant" and "initial_lr" in group:
            raise ValueError(f"schedule={group['schedule']!r} and a torch.optim.lr_scheduler "
                             "both set group['lr']; keep one: schedule='constant' with the "
                             "torch scheduler, or the built-in schedule without it")
        if group["schedule"] != "constant":
            group["lr"] = group["base_lr"] * schedule_factor(group["schedule"], group["steps"])
        if not _positive(group["lr"]):
            i = next(i for i, g in enumerate(self.param_groups) if g is group)
            check_lr(group["lr"], f"param group {i}: lr")
        group["steps"] += 1
        return float(group["lr"])

    def update(self) -> None:  # pragma: no cover - every subclass writes it
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:  # type: ignore[override]
        """One step from the gradients in ``p.grad``; ``closure`` (optional) recomputes
        them and returns the loss (torch's convention: it zeroes grads and calls backward)."""
        if self._eval:
            raise RuntimeError("optimizer is in eval() mode; call train() before step()")
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self.update()
        self._after_step()
        return loss

    def _after_step(self) -> None:
        self._n_steps += 1
        if self.check_finite and self._n_steps % self.check_finite == 0:
            check_finite_params(self, self._n_steps)

    def eval(self) -> None:
        """Parameters hold the (exactly sparse) iterate already: only sets the flag."""
        self._eval = True

    def train(self) -> None:
        """Undo :meth:`eval`."""
        self._eval = False

    # --- a state dict of plain data ---------------------------------------------------
    _wide_state: tuple[str, ...] = ()  # state keys whose dtype load_state_dict must keep
    _state_keys: tuple[str, ...] = ()  # keys every parameter's state holds (once it has one)

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        for g in sd["param_groups"]:
            g["penalty"] = None if g.get("penalty") is None else repr(g["penalty"])
        sd["eval"] = self._eval
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a :meth:`state_dict`; the penalties stay those of this optimizer."""
        sd = dict(state_dict)
        self._check_state_dict(sd)
        was_eval = bool(sd.pop("eval", False))
        penalties = [g["penalty"] for g in self.param_groups]
        saved_ids = [i for g in sd["param_groups"] for i in g["params"]]
        wide = {i: {k: v for k, v in sd["state"][i].items() if k in self._wide_state}
                for i in saved_ids if i in sd["state"]}
        super().load_state_dict(sd)
        params = [p for g in self.param_groups for p in g["params"]]
        for i, p in zip(saved_ids, params, strict=True):  # torch cast these to p.dtype
            for k, v in wide.get(i, {}).items():
                self.state[p][k] = v.to(device=p.device, copy=True)
        for g, pen in zip(self.param_groups, penalties, strict=True):
            g["penalty"] = pen
        self._eval = was_eval

    def _check_state_dict(self, sd: dict[str, Any]) -> None:
        """A state dict of this optimizer: its group keys and per-parameter state, else a
        ``ValueError`` naming what is missing (nothing is loaded)."""
        name = type(self).__name__
        if not isinstance(sd.get("param_groups"), list) or not isinstance(sd.get("state"), dict):
            raise ValueError(f"{name}.load_state_dict: not an optimizer state dict (no "
                             "'param_groups' list and 'state' mapping)")
        need = set(self.param_groups[0]) - {"params", "penalty"} if self.param_groups else set()
        for i, g in enumerate(sd["param_groups"]):
            missing = sorted(need - set(g))
            if missing:
                raise ValueError(f"{name}.load_state_dict: param group {i} lacks "
                                 f"{', '.join(missing)}: the state dict of another optimizer "
                                 f"(a torch.optim checkpoint?), not of a {name}")
        for key, st in sd["state"].items():
            missing = sorted(set(self._state_keys) - set(st)) if st else []
            if missing:
                raise ValueError(f"{name}.load_state_dict: the state of parameter {key} "
                                 f"lacks {', '.join(missing)}: not the state of a {name}")
