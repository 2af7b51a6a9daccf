"""Process-group helpers for the row-sharded solvers: the group, agreement, shard checks.

See :mod:`lasso_torch.distributed` for the design.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from ..checks import as_data
from ..errors import InputError
from ..solvers.registry import solver_names


# --- the process group -------------------------------------------------------------------
def check_group(group: Any = None) -> None:
    """Raise :class:`InputError` unless a ``torch.distributed`` process group is initialized."""
    if not (dist.is_available() and dist.is_initialized()):
        raise InputError(
            "distributed=True needs an initialized torch.distributed process group: run under "
            "torchrun (or call torch.distributed.init_process_group) before solving"
        )


def init_from_env(device: str | torch.device = "cpu") -> bool:
    """Initialize the default process group from torchrun's environment, if there is one.

    Uses nccl for a CUDA ``device`` (and binds this rank to GPU ``LOCAL_RANK``), gloo
    otherwise. Returns True when a group is (now) initialized, False when the process
    was not started by a launcher (no ``WORLD_SIZE`` in the environment).
    """
    if dist.is_initialized():
        return True
    if "WORLD_SIZE" not in os.environ:
        return False
    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if cuda else "gloo")
    return True


def rank_and_world(group: Any = None) -> tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` when no process group is initialized."""
    if not (dist.is_available() and dist.is_initialized()):
        return 0, 1
    return dist.get_rank(group), dist.get_world_size(group)


def agree(error: str | None, group: Any = None) -> None:
    """Collective: raise the same :class:`InputError` on every rank if any rank has an error.

    Every rank must call it; ``error`` is this rank's message (``None`` when all is well).
    """
    errors: list[str | None] = [None] * dist.get_world_size(group)
    dist.all_gather_object(errors, error, group=group)
    bad = [(r, e) for r, e in enumerate(errors) if e]
    if bad:
        raise InputError("; ".join(f"rank {r}: {e}" for r, e in bad))


def sharded_data(
    X: Any, y: Any, spec: Any, options: Sequence[Any] = (), group: Any = None
) -> tuple[Tensor, Tensor]:
    """Collective :func:`lasso_torch.solve.as_data` for one shard of rows per rank.

    Validates each rank's shard, then checks that the shards agree on the number of
    features, the dtype and the device type, that ``solver`` runs sharded and that
    ``options`` are equal on every rank. Any problem raises on every rank.
    """
    check_group(group)
    error, shape = None, None
    try:
        X, y = as_data(X, y)
        shape = (X.shape[1], str(X.dtype), X.device.type)
    except InputError as e:
        error = str(e)
    agree(error, group)
    world = dist.get_world_size(group)
    solver = spec.name
    mine = (shape, solver, tuple(repr(o) for o in options))
    everyone: list[Any] = [None] * world
    dist.all_gather_object(everyone, mine, group=group)
    problems = []
    if len({s for s, _, _ in everyone}) > 1:
        problems.append("shards differ in (features, dtype, device): "
                        + ", ".join(f"rank {r} {s}" for r, (s, _, _) in enumerate(everyone)))
    if len({(s, o) for _, s, o in everyone}) > 1:
        problems.append("the options (solver, alpha, tol, ...) differ across ranks")
    if not spec.sharded:
        problems.append(f"solver {solver!r} does not run with sharded rows; "
                        f"choose from {', '.join(solver_names(sharded=True))}")
    if problems:
        raise InputError("; ".join(problems))
    return X, y


def sharded_standardize(X: Tensor, group: Any = None) -> Tensor:
    """:func:`lasso_torch.data.standardize` of the global data, for this rank's rows.

    The column means and (population) standard deviations are all-reduced; constant
    columns keep scale 1. Returns this rank's standardized rows.
    """
    count = torch.tensor([X.shape[0]], dtype=torch.int64, device=X.device)
    dist.all_reduce(count, group=group)
    n = int(count)
    total = X.sum(0)
    dist.all_reduce(total, group=group)
    mean = total / n
    sq = ((X - mean) ** 2).sum(0)
    dist.all_reduce(sq, group=group)
    scale = (sq / n).sqrt()
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return (X - mean) / scale




def sync(t: Tensor) -> None:
    """Wait for ``t``'s device (timings of CUDA work)."""
    if t.is_cuda:
        torch.cuda.synchronize(t.device)
