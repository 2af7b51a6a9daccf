"""The engine protocol every solver implements, and its defaults.

An engine owns one iterate: ``w (p,)``, or a batch ``W (p, K)`` of ``K`` independent
problems (the alphas of a path, the folds of cross-validation) when its spec says
``batched``. The loop (:func:`lasso_torch.solvers.loop.run_loop`) calls

* ``step()``: one iteration, without host synchronisation;
* ``coef()``: the current (sparse) iterate, on the data's device and dtype;
* ``certificate()``: objective, duality gap, relative gap and KKT violation per column
  (an engine may reuse what its next step needs: the working-set engine does);
* ``retire(keep)``: drop the columns whose ``keep`` is False (converged, stalled): an
  engine that can shrink its work does and returns True; the default returns False and
  the loop keeps those columns' results frozen while the engine goes on.
"""

from __future__ import annotations

from torch import Tensor

from ..certificates import Certificate, certify
from ..datafits import Quadratic
from ..penalties import ElasticNet


class Engine:
    """Base class: subclasses set ``datafit`` and ``penalty`` and define ``step``/``coef``."""

    datafit: Quadratic
    penalty: ElasticNet
    notes: tuple[str, ...] = ()  # what a reader of the run must know (e.g. AdamW's decay)

    @property
    def lr(self) -> float | None:
        """The step size of the engine's optimizer (``self.opt``), if it has one."""
        opt = getattr(self, "opt", None)
        return None if opt is None else float(opt.param_groups[0]["lr"])

    @property
    def epoch(self) -> float | None:
        """Passes over the data so far, for an engine drawing minibatches (``self.batches``)."""
        batches = getattr(self, "batches", None)
        return None if batches is None else batches.epoch

    def step(self) -> None:
        raise NotImplementedError

    def coef(self) -> Tensor:
        raise NotImplementedError

    def certificate(self) -> Certificate:
        return certify(self.datafit, self.coef(), self.penalty)

    def retire(self, keep: Tensor) -> bool:
        return False

    def warm_from(self, previous: Engine) -> None:
        """Reuse what ``previous`` (the last alpha of a warm path, same datafit) computed."""
