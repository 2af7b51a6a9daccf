"""``solver="auto"``: the fastest certified solver for the data's shape, device, dtype and alpha.

The rule (measured by ``experiments/benchmark.py``, whose rows include ``auto``; see
``experiments/BENCHMARK.md``):

* rows sharded over ``torch.distributed``, or data on a GPU: ``fista`` (every step is two
  GEMV/GEMMs on the device; the host-side solvers would copy the data back);
* CPU, large tall data (``n >= 4 p``, ``p <= 2048``, ``n p >= 5e5``) and a large alpha
  (``alpha >= 0.05 alpha_max``): ``ws`` (a few active-set solves on Gram blocks of the support);
* CPU otherwise (tiny, small ill-conditioned, wide ``p >> n``, tall with a small alpha):
  ``anderson_cd`` (compiled working-set coordinate descent with Anderson extrapolation, in
  Gram form on tall data; on 20000 x 200 at 0.02 and 0.005 alpha_max it took 33-38 ms
  where ``cd`` took 36-45 ms and scikit-learn 37-45 ms);
* a sparse ``X`` on the CPU (any shape, ridge included): ``anderson_cd`` on its CSC columns
  (:mod:`lasso_torch.solvers.sparse_cd`; ``fista`` for MCP/SCAD). Measured
  (``experiments/bench_classes.py --sparse``, 1 thread): a tf-idf text design 20000 x 50000
  at 0.1 %, 0.1 and 0.01 alpha_max, in 21 and 25 ms, ``fista`` on torch CSR products 171
  and 699 ms (scikit-learn 0.83 s, skglm 28 and 66 ms). The crossover by density
  (``experiments/sparse_crossover.py``, 3000 x 1000, 0.1 / 0.01 alpha_max): against
  ``fista`` on CSR the CSC kernels win at every density (1 %: 1.6 / 4.2 ms against 13 /
  12 ms; 60 %: 40 / 104 ms against 461 / 358 ms); against ``anderson_cd`` on the matrix
  densified they win up to 30 % (19 / 77 ms against 40 / 83 ms) and lose at 60 % (40 / 104
  ms against 22 / 36 ms): a sparse matrix that dense is better passed dense (auto does not
  densify: memory is the user's call). On a GPU the batched ``fista`` stays (the CSC kernels
  run on the host: the matrix would be copied back);
* ridge (``l1_ratio == 0``) on the CPU: ``ws`` (one linear solve in Gram form);
* a loss other than the squared one: ``prox_newton``, compiled on a dense CPU ``X``
  (:mod:`lasso_torch.solvers.pn_kernels`; ``fista`` with backtracking for a user's loss
  through autograd). Measured by ``experiments/bench_glm.py`` (L1 logistic with intercept,
  relative gap 1e-6 recomputed in numpy float64, one thread, load ~7 on 2 cores; ours /
  fastest peer, ms): 569 x 30 at 0.1 alpha_max 2.3-2.9 / 2.2 (glum), at 0.01 3.0 / 3.0
  (glum); 2000 x 500 34 / 72 (skglm), 124 / 278 (liblinear); 200 x 2000 18 / 33,
  32 / 63; 20000 x 100 92 / 53 (glum), 85 / 92 (glum). No other certified solver of the
  package is faster on these (``fista`` takes 10-100x longer).
* the squared loss, very wide and elastic net (``experiments/bench_classes_extra.py``,
  block-correlated ``p = 250 n``): ``anderson_cd`` stays the choice, it was the fastest
  there: 100 x 25000 at 0.1 / 0.01 alpha_max 77-80 / 313-610 ms (two runs, load ~7;
  ws 94 / 757, celer 147 / 746, skglm 247 / 1000); elastic net ``l1_ratio = 0.5`` on
  200 x 2000 26 / 67 ms (ws 54 / 252, celer 33 / 103). The issue's "ws 2.5x faster on
  very wide" did not reproduce on this design.
* group penalties (:mod:`lasso_torch.group_penalty`), any loss: ``prox_newton``, whose
  subproblem is then compiled block CD over the groups
  (:mod:`lasso_torch.solvers.group_kernels`), on a dense CPU ``X``; ``fista`` otherwise.
* a non-convex penalty with a loss other than the squared one: ``fista`` (MCP/SCAD make
  the Newton subproblem non-convex, where prox-Newton's line search can stall at a
  non-stationary point; measured, logistic + MCP: 5000 prox-Newton iterations against
  ``fista``'s KKT 3e-7 in 4 s). Weighted and bounded penalties go to the choice of their
  loss; ``cd``, ``ws`` and ``anderson_cd`` hand them (and the squared loss's MCP/SCAD) to
  the penalty-aware CD.

The choice is reported in the result (``SolveResult.solver``).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np
import torch

from ..datafits import Quadratic
from ..penalties import ElasticNet, is_plain
from .registry import SolverSpec, get_solver, register

TALL_RATIO = 4
TALL_MAX_P = 2048
TALL_MIN_SIZE = 500_000  # below, anderson_cd's host copy costs less than the Gram matrix
LARGE_ALPHA = 0.05
T = TypeVar("T")


def choose(datafit: Quadratic, penalty: ElasticNet, distributed: bool = False) -> str:
    """The registered solver ``auto`` stands for, on this datafit and penalty."""
    X = datafit.X
    if type(penalty).__name__ == "SparseGroupLasso":  # group penalties: compiled block CD
        dense_cpu = X.device.type == "cpu" and X.layout == torch.strided
        return "prox_newton" if dense_cpu and getattr(datafit, "name", "") != "autograd" \
            and not distributed else "fista"
    if not isinstance(datafit, Quadratic):  # logistic, Huber, Poisson, a user's loss
        convex = getattr(penalty, "convex", True)
        return "prox_newton" if convex and getattr(datafit, "name", "") != "autograd" else (
            "fista")
    if distributed or X.device.type != "cpu":
        return "fista"  # a GPU or sharded rows: the batched proximal solver
    if X.layout != torch.strided:  # a sparse X: its compiled working sets (CSC)
        return "anderson_cd" if is_plain(penalty) or hasattr(penalty, "_bounds") else "fista"
    if penalty.l1_ratio == 0:
        return "ws"
    if _tall(X):
        try:
            top = float(penalty.alpha_max(datafit.Xty)) if datafit.F == 1 else 0.0
        except (AttributeError, TypeError, ValueError):  # a penalty without alpha_max
            top = 0.0
        if top > 0 and float(penalty.alpha) >= LARGE_ALPHA * top:
            return "ws"
    return "anderson_cd"


WIDE_PATH_MAX_P = 8192  # beyond, a warm ws path was not measured: anderson_cd's engine


def choose_path(X: torch.Tensor, distributed: bool = False) -> tuple[str, str]:
    """``(strategy, solver)`` of ``lasso_path(strategy="auto")``: the batched FISTA path on a
    GPU, sharded rows or a sparse X (one GEMM for all alphas); on the CPU the warm sequence
    of ``anderson_cd`` when ``n >= p`` (its compiled path, :mod:`lasso_torch.solvers.cd_path`:
    one Gram matrix for the whole grid, where ``p <= 2048`` in float64), of ``ws`` when
    ``n < p <= 8192``, of ``anderson_cd``'s engine beyond. Measured for 100 alphas at one
    thread (load ~1; anderson_cd's compiled path / ws): 1000 x 500 0.074 / 1.16 s,
    20000 x 200 0.048 / 0.149 s; 200 x 2000 2.39 / 0.33 s, 500 x 1000 2.51 / 1.23 s."""
    if distributed or X.device.type != "cpu":
        return "batched", "fista"
    if X.layout != torch.strided:  # the sparse engine's warm path (solvers.sparse_path)
        return "warm", "anderson_cd"
    n, p = X.shape
    return "warm", "ws" if n < p <= WIDE_PATH_MAX_P else "anderson_cd"


def _tall(X: torch.Tensor) -> bool:
    """Tall enough that the Gram matrix pays for itself (a sparse X never is, here)."""
    n, p = X.shape
    return n >= TALL_RATIO * p and p <= TALL_MAX_P and n * p >= TALL_MIN_SIZE


SMALL = 2_000_000  # entries of X up to which one intra-op thread is the safer choice


def _small_cpu(X: object) -> bool:
    """A CPU ``X`` (tensor, numpy array, scipy.sparse) of at most :data:`SMALL` entries
    (stored entries plus ``n + p`` for a sparse one: its vectors are the work there)."""
    if isinstance(X, torch.Tensor):
        if X.device.type != "cpu":
            return False
        if X.layout != torch.strided:
            return X.values().numel() + sum(X.shape) <= SMALL
        return X.numel() <= SMALL
    if hasattr(X, "nnz") and hasattr(X, "shape"):  # scipy.sparse
        return X.nnz + sum(X.shape) <= SMALL
    return isinstance(X, np.ndarray) and X.size <= SMALL


@contextlib.contextmanager
def threads_for(X: object) -> Iterator[None]:
    """Run a small CPU problem on one torch thread (restored after), from the data's checks
    to the result. Its products take microseconds to a millisecond: a second thread saves
    little, and on a loaded machine a threaded call waits for a time slice (measured: the
    65 x 442 x 65 Gram product of the small-real class at 2 threads, under load 2, 10-16 ms
    against 0.12 ms on one thread; anderson_cd on 200 x 2000 at 0.3 alpha_max 19-24 ms
    against 3-4 ms). The host solvers' numpy products go through torch
    (:func:`lasso_torch.linalg.mm`), so this setting covers them too."""
    before = torch.get_num_threads()
    small = before > 1 and _small_cpu(X)
    if small:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if small:
            torch.set_num_threads(before)


def small_on_one_thread(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn(X, ...)`` run inside :func:`threads_for` ``(X)``."""

    @functools.wraps(fn)
    def wrapper(X: Any, *args: Any, **kwargs: Any) -> T:
        with threads_for(X):
            return fn(X, *args, **kwargs)

    return wrapper


def _build(datafit: Quadratic, penalty: ElasticNet, w0: torch.Tensor, **options: object) -> object:
    spec = get_solver(choose(datafit, penalty))
    return spec.build(datafit, penalty, w0, **{**spec.options, **{
        k: v for k, v in options.items() if k in spec.options or k == "tol"}})


register(SolverSpec(
    "auto", _build, "the fastest certified solver for the data (the rule above)",
    check_every=1, family="auto"))
