r"""The proximal solvers with the rows of ``X`` sharded over ``torch.distributed`` processes.

Rank ``r`` holds a block of rows ``X_r (n_r, p)``, ``y_r (n_r,)``; the coefficients ``w``
(``(p,)``, or the batch ``W (p, K)`` of a path) are replicated. Every sum over the rows is
one all-reduce (``SUM``) over the process group, so no rank ever gathers ``X``::

    n, x_mean, y_mean  = sum_r (n_r, X_r^T 1, 1^T y_r)            once, at setup
    r_r                = (y_r - y_mean) - (X_r w - x_mean^T w)     local: the centered residual
    X_c^T r            = sum_r X_r^T r_r                           each step: one all-reduce
                                                                   of p (or p x K) numbers
    L                  = power iteration on v -> sum_r X_r^T (X_r v - x_mean^T v) / n
    gap, P(w), KKT     = from sum_r (X_r^T r_r, ||r_r||^2, r_r^T y_c,r)   each check: one
                                                                   all-reduce of p + 2 numbers

An all-reduce leaves the same values on every rank, so every rank takes the same prox
step, the same restart and the same stopping decision: the iterates are replicated, and
equal the single-process ones up to the rounding of the sums. With the Gram form
(``gram``; ``"auto"`` when the *global* ``n >= 4p``), ``G = sum_r X_r^T X_r / n - x_mean
x_mean^T`` is all-reduced once and the steps need no communication, only the checks do.

Use it from an initialized process group (``torchrun`` sets the environment; gloo on the
CPU, nccl on CUDA, where each rank's data is on its own GPU)::

    torch.distributed.init_process_group("gloo")
    res = lt.solve(X_local, y_local, alpha, solver="fista", distributed=True)

Everything a rank passes that is not data (alpha, solver, tol, ...) must be the same on
every rank; :func:`sharded_data` checks that, and an invalid shard on any rank raises the
same :class:`~lasso_torch.InputError` on every rank instead of leaving the others waiting.
A ``callback`` must return the same answer on every rank, and ``catch_interrupt`` is
rank-local (a Ctrl-C that reaches the ranks at different iterations leaves the others
waiting in their next all-reduce): leave it off, the launcher stops every rank.
"""

from .comm import (
    agree,
    check_group,
    init_from_env,
    rank_and_world,
    sharded_data,
    sharded_standardize,
)
from .datafit import ShardedQuadratic

__all__ = ["ShardedQuadratic", "agree", "check_group", "init_from_env", "rank_and_world",
           "sharded_data", "sharded_standardize"]
