"""Any ``torch.optim`` optimizer as a solver, and the proximal optimizers of ``lt.optim``.

**Autograd solvers** (``sgd``, ``adam``, ``adamw``, ``rmsprop``, ``adagrad``, ... by short
name; ``torch.optim.NAdam`` by full name; ``package.module:Class`` for a user's own
``torch.optim.Optimizer`` subclass): the full loss ``f_B(w) + penalty(w)`` through
autograd, the optimizer's update. The L1 term's subgradient ``alpha sign(w)`` pulls every
coordinate towards 0 by a constant amount and overshoots: the coefficients oscillate
around 0 and are never exactly 0.0. Adam divides each coordinate's step by its running
RMS gradient, which cancels the penalty's constant pull. AdamW's ``weight_decay`` is
decoupled ``w <- w - lr * wd * w``: an L2 (ridge-like) shrinkage on top of the penalty,
not an L1 term (recorded in the run's notes).

**Proximal solvers** (``prox_sgd``, ``prox_adam``, ``truncated_sgd``): the smooth part's
closed-form minibatch gradient, then the optimizer's prox or truncation step: exact zeros.

Options of a solver are the optimizer's keyword arguments (``options: {momentum: 0.9}``)
plus ``batch_size`` (None: full batch), ``seed`` (minibatch order) and ``schedule``
(``constant``, ``inv_sqrt``, ``inv``: the step over the steps, via ``LambdaLR``).
"""

from __future__ import annotations

import importlib
import inspect
import math
from typing import Any

import torch
from torch import Tensor

from ..colours import OTHER_OPTIMIZER, SOLVER_COLOURS
from ..datafits import Quadratic
from ..errors import InputError
from ..optim import ProxAdam, ProxSGD, TruncatedSGD
from ..penalties import ElasticNet
from .engine import Engine
from .registry import SolverSpec, add_resolver, register
from .stochastic import Minibatches, batch_gradient, batch_value

SHORT = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
         "adagrad": "Adagrad", "adadelta": "Adadelta", "adamax": "Adamax", "nadam": "NAdam",
         "radam": "RAdam", "asgd": "ASGD", "lbfgs": "LBFGS", "rprop": "Rprop"}
ENGINE_OPTIONS = {"lr": None, "batch_size": None, "seed": 0, "schedule": "constant"}
FACTORS = {"constant": lambda k: 1.0, "inv_sqrt": lambda k: 1.0 / math.sqrt(k + 1),
           "inv": lambda k: 1.0 / (k + 1)}


def _schedule(opt: torch.optim.Optimizer, schedule: str) -> Any:
    if schedule not in FACTORS:
        raise InputError(f"schedule must be one of {', '.join(FACTORS)}, got {schedule!r}")
    return None if schedule == "constant" else torch.optim.lr_scheduler.LambdaLR(
        opt, FACTORS[schedule])


def _split(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(engine options, the optimizer's keyword arguments)``."""
    eng = {k: options.pop(k, v) for k, v in ENGINE_OPTIONS.items()}
    for k in ("tol", "restart", "backtracking", "screening"):
        options.pop(k, None)
    return eng, options


class TorchOptimizerEngine(Engine):
    """``optimizer`` (a ``torch.optim.Optimizer`` class) on ``f_B(w) + penalty(w)``."""

    def __init__(self, datafit: Quadratic, penalty: ElasticNet, w0: Tensor, *,
                 optimizer: type, smooth_only: str | None = None, **options: Any) -> None:
        if smooth_only and not _smooth(penalty):
            raise InputError(f"solver {smooth_only!r} ({optimizer.__name__}) assumes a smooth "
                             "objective and this penalty has an L1 part: it would stall or "
                             "diverge; take a proximal solver (fista, cd, prox_adam), or ask "
                             f"for it explicitly as solver='torch.optim.{optimizer.__name__}'")
        self.datafit, self.penalty = datafit, penalty
        eng, kwargs = _split(dict(options))
        self.w = w0.detach().clone().requires_grad_(True)
        if eng["lr"] is not None:
            kwargs["lr"] = float(eng["lr"])
        elif optimizer in (torch.optim.SGD, torch.optim.ASGD):  # auto: 1/L, as ISTA's
            lip = float(datafit.lipschitz)
            kwargs["lr"] = 1.0 / lip if lip > 0 else 1.0
        try:
            self.opt = optimizer([self.w], **kwargs)
        except (TypeError, ValueError) as e:
            raise InputError(f"{optimizer.__name__}: {e}") from None
        self.sched = _schedule(self.opt, eng["schedule"])
        self.batches = Minibatches(datafit.X.shape[0], eng["batch_size"], eng["seed"],
                                   datafit.X.device)
        self.notes = _notes(optimizer, self.opt)

    def _loss(self, rows: Tensor | None) -> Tensor:
        f = self.datafit.value(self.w) if rows is None else batch_value(
            self.datafit, self.w, rows)
        return (f + self.penalty.value(self.w)).sum()

    def step(self) -> None:
        rows = self.batches.next()

        def closure() -> Tensor:
            self.opt.zero_grad()
            loss = self._loss(rows)
            loss.backward()
            return loss

        self.opt.step(closure)
        if self.sched is not None:
            self.sched.step()

    def coef(self) -> Tensor:
        return self.w.detach()




def _smooth(penalty: Any) -> bool:
    """Whether a penalty is differentiable everywhere (ridge; no penalty at all)."""
    if penalty is None:
        return True
    if not isinstance(penalty, ElasticNet) or type(penalty).prox is not ElasticNet.prox:
        return False
    return penalty.l1_ratio == 0 or not bool(torch.as_tensor(penalty.alpha).any())


SMOOTH_ONLY = ("lbfgs",)  # short names refused on a non-smooth objective (full name: asked)


def _notes(optimizer: type, opt: torch.optim.Optimizer) -> tuple[str, ...]:
    wd = opt.param_groups[0].get("weight_decay", 0) or 0
    if wd and optimizer is torch.optim.AdamW:
        return (f"AdamW's decoupled weight_decay={wd:g} shrinks w by lr*{wd:g}*w each step: "
                "an L2 (ridge-like) term on top of the penalty, not an L1 one",)
    if wd:
        return (f"weight_decay={wd:g} adds an L2 term wd/2 |w|^2 to the loss",)
    return ()


class ProxOptimizerEngine(Engine):
    """A proximal ``lt.optim`` optimizer on the closed-form (minibatch) gradient."""

    def __init__(self, datafit: Quadratic, penalty: ElasticNet, w0: Tensor, *,
                 optimizer: type, **options: Any) -> None:
        self.datafit, self.penalty = datafit, penalty
        eng, kwargs = _split(dict(options))
        self.w = w0.detach().clone()
        lr = eng["lr"]
        if lr is None:  # 1/L for the SGD-like steps; Adam's own default otherwise
            lip = float(datafit.lipschitz)
            lr = 1e-3 if optimizer is ProxAdam else (1.0 / lip if lip > 0 else 1.0)
        try:
            self.opt = optimizer([self.w], lr=float(lr), penalty=penalty,
                                 schedule=eng["schedule"], check_finite=0, **kwargs)
        except (TypeError, ValueError) as e:
            raise InputError(f"{optimizer.__name__}: {e}") from None
        self.batches = Minibatches(datafit.X.shape[0], eng["batch_size"], eng["seed"],
                                   datafit.X.device)

    def step(self) -> None:
        rows = self.batches.next()
        self.w.grad = (self.datafit.gradient(self.w) if rows is None
                       else batch_gradient(self.datafit, self.w, rows))
        self.opt.update()

    def coef(self) -> Tensor:
        return self.w




def _optimizer_options(cls: type) -> dict[str, Any]:
    """The optimizer's keyword arguments and their defaults (``params`` left out)."""
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return {}
    return {n: (None if p.default is inspect.Parameter.empty else p.default)
            for n, p in sig.parameters.items()
            if n not in ("self", "params", "lr") and p.kind not in (p.VAR_POSITIONAL,
                                                                    p.VAR_KEYWORD)}


def torch_spec(name: str, cls: type, summary: str = "") -> SolverSpec:
    """The spec of an autograd solver running ``cls`` (a short name of
    :data:`SMOOTH_ONLY` refuses a non-smooth objective)."""
    smooth_only = name if name in SMOOTH_ONLY else None
    return SolverSpec(
        name, lambda df, pen, w0, **o: TorchOptimizerEngine(df, pen, w0, optimizer=cls,
                                                            smooth_only=smooth_only, **o),
        summary or f"{cls.__module__}.{cls.__name__} on loss + penalty through autograd",
        options={**ENGINE_OPTIONS, **_optimizer_options(cls)}, stall_patience=None,
        exact_zeros=False, weights=True, uses_lr=True,
        colour=SOLVER_COLOURS.get(name, OTHER_OPTIMIZER),
        family="optimizer")


def _import(name: str, mod: str, attr: str) -> Any:
    """``mod.attr`` imported; every failure one :class:`InputError` (importing runs the
    module's code: a module that raises, or calls ``sys.exit``, is refused, not obeyed)."""
    if not mod or mod.startswith(".") or not attr:
        raise InputError(f"solver {name!r}: write an absolute import path, package.module:Class "
                         "(a relative module or an empty part cannot be imported)")
    try:
        return getattr(importlib.import_module(mod), attr)
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001 (SystemExit too: the module's code ran)
        why = " ".join(f"{type(e).__name__}: {e}".split())
        raise InputError(f"solver {name!r}: cannot import {attr!r} from {mod!r} "
                         f"({why[:200]})") from None


def _resolve(name: str) -> SolverSpec | None:
    """``torch.optim.NAdam`` or ``package.module:Class``: a spec built on first use."""
    if name.startswith("torch.optim."):
        mod, attr = "torch.optim", name[len("torch.optim."):]
    elif ":" in name:
        mod, attr = name.split(":", 1)
    else:
        return None
    cls = _import(name, mod, attr)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise InputError(f"solver {name!r}: {cls!r} is not a torch.optim.Optimizer subclass")
    return register(torch_spec(name, cls))


for _short, _cls in SHORT.items():
    register(torch_spec(_short, getattr(torch.optim, _cls)))
add_resolver(_resolve)

_PROX = {"prox_sgd": (ProxSGD, "proximal SGD (momentum optional): exact zeros"),
         "prox_adam": (ProxAdam, "Adam's step, then the prox in Adam's diagonal metric"),
         "truncated_sgd": (TruncatedSGD, "SGD, then coordinates that crossed 0 set to 0")}
for _name, (_cls, _summary) in _PROX.items():
    register(SolverSpec(
        _name, lambda df, pen, w0, _c=_cls, **o: ProxOptimizerEngine(df, pen, w0, optimizer=_c,
                                                                    **o),
        _summary, options={**ENGINE_OPTIONS, **{k: v for k, v in _optimizer_options(_cls)
                                                 .items() if k not in ("penalty", "schedule",
                                                                      "check_finite")}},
        stall_patience=None, weights=True, uses_lr=True, family="optimizer"))
