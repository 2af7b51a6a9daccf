"""The solver registry: one :class:`SolverSpec` per solver, declared in the solver's own file.

``lt.solve``, ``lt.lasso_path``, the config schema, the CLI, the plots and the scikit-learn
estimators all read it, so adding a solver is one file (its engine and its spec) and its
test. An engine is built as ``spec.build(datafit, penalty, w0, **options)`` (every engine
class takes that signature) and offers ``step()``, ``coef()`` and ``certificate()`` (see
:class:`lasso_torch.solvers.engine.Engine`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..colours import DEFAULT, SOLVER_COLOURS
from ..errors import InputError


@dataclass(frozen=True)
class SolverSpec:
    """What the framework needs to know about one solver.

    Attributes:
        name: the name users write (``solver="fista"``, ``kind: fista``).
        build: ``build(datafit, penalty, w0, **options) -> engine``.
        summary: one line for the docs and ``--help``.
        options: the solver's own options and their defaults (``lr``, ``restart``, ...);
            ``solve`` passes only these (plus ``tol``) to ``build``.
        check_every: iterations between gap checks (the host syncs) by default.
        stall_patience: checks without progress near the dtype's precision before
            ``stalled`` (None: never stall-stop, e.g. the subgradient baseline).
        exact_zeros: whether its iterates hold exact zeros (a prox or a threshold).
        batched: whether it serves ``(p, K)`` iterates (the batched path, CV folds).
        weights: whether it takes row weights natively (else ``solve`` rescales the rows
            by ``sqrt(s)`` and centers them by the weighted means: the same problem).
        sharded: whether it runs with the rows sharded over ``torch.distributed``.
        uses_lr: whether ``lr`` means something to it (default ``1/L``).
        colour: its colour in every figure.
        iteration: what one iteration is (``"step"``, ``"epoch"``, ``"outer iteration"``).
        sparse: whether it takes a sparse ``X`` as it is (``cd``, ``anderson_cd``, ``ws``:
            :mod:`lasso_torch.solvers.sparse_path`; ``prox_newton``); the batched solvers
            take one too.
        path: ``path(datafit, alphas, pen, tol, max_iter, catch_interrupt, **options)``, a
            compiled warm path over a whole grid (``(W, rel_gaps, n_iters, status)``, or
            None where it does not apply), or None: the warm path runs the engine per alpha.
        family: ``"solver"`` (the package's deterministic solvers, checked against the
            references to tight tolerances) or ``"optimizer"`` (a training optimizer run on
            the problem: torch.optim's, the proximal/truncated stochastic ones).
    """

    name: str
    build: Callable[..., Any]
    summary: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    check_every: int = 10
    stall_patience: int | None = 20
    exact_zeros: bool = True
    batched: bool = False
    weights: bool = False
    sharded: bool = False
    uses_lr: bool = False
    colour: str = ""  # "": lasso_torch.colours' entry for the name
    iteration: str = "step"
    family: str = "solver"
    sparse: bool = False
    path: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        if not self.colour:
            object.__setattr__(self, "colour", SOLVER_COLOURS.get(self.name, DEFAULT))


REGISTRY: dict[str, SolverSpec] = {}
RESOLVERS: list[Callable[[str], SolverSpec | None]] = []


def register(spec: SolverSpec) -> SolverSpec:
    """Add (or replace) a solver; returns the spec, so a module can keep it."""
    REGISTRY[spec.name] = spec
    return spec


def add_resolver(resolver: Callable[[str], SolverSpec | None]) -> None:
    """``resolver(name)`` builds (and registers) the spec of a name not registered yet, or
    returns None (``torch.optim.NAdam``, ``package.module:Class``)."""
    RESOLVERS.append(resolver)


def get_solver(name: str) -> SolverSpec:
    """The spec of ``name``; an :class:`InputError` naming the closest solver otherwise."""
    if isinstance(name, str) and name in REGISTRY:
        return REGISTRY[name]
    for resolve in RESOLVERS if isinstance(name, str) else ():
        spec = resolve(name)
        if spec is not None:
            return spec
    close = difflib.get_close_matches(str(name), list(REGISTRY), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise InputError(f"unknown solver {name!r}{hint}; choose from "
                     f"{', '.join(REGISTRY)}, torch.optim.<Name> or module:Class")


def solver_names(**where: object) -> tuple[str, ...]:
    """Registered names, optionally those whose flags match (``exact_zeros=True``, ...)."""
    return tuple(n for n, s in REGISTRY.items()
                 if all(getattr(s, k) == v for k, v in where.items()))
