"""Implicit differentiation's cost (issue 24): the backward pass against the forward solve
on the problem classes of ``bench_classes.py`` (``--quick`` shapes), at two alphas.

Forward: ``lt.solve`` (auto solver, relative gap 1e-6) with ``X``, ``y`` and ``alpha``
requiring grad; backward: ``loss.backward()`` of ``loss = ||coef||^2 + intercept`` (one
system on the support, one vector-Jacobian product). Times are the min of ``--repeats``;
memory is the bytes of the backward's support system (``X_S`` and ``H``: ``O(n s)``; the
gradient of ``X`` itself is ``(n, p)`` as any gradient of ``X``). Unrolling's memory is
measured in ``unrolled_vs_implicit.py``.

Usage::

    OMP_NUM_THREADS=1 python experiments/implicit_bench.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_classes import classes  # noqa: E402

import lasso_torch as lt  # noqa: E402


def one(X, y, frac, repeats):
    amax = float(lt.alpha_max(X, y))
    fwd, bwd = [], []
    for _ in range(repeats):
        Xr, yr = X.clone().requires_grad_(), y.clone().requires_grad_()
        a = torch.tensor(frac * amax, dtype=X.dtype, requires_grad=True)
        t0 = time.perf_counter()
        res = lt.solve(Xr, yr, a, tol=1e-6, warn=False)
        t1 = time.perf_counter()
        ((res.coef ** 2).sum() + res.intercept).backward()
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
    s = int((res.coef != 0).sum())
    n, p = X.shape
    mem = 8 * (n * (s + 1) + (s + 1) ** 2)
    return min(fwd), min(bwd), s, res.n_iter, res.solver, mem


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    print(f"{'class':12s} {'shape':>12s} {'a/amax':>6s} {'solver':>12s} {'s':>5s} "
          f"{'fwd ms':>8s} {'bwd ms':>8s} {'bwd/fwd':>7s} {'sys MB':>7s}")
    for name, data in classes(quick=True).items():
        if data is None:
            X, y, _ = lt.make_synthetic(50, 30, correlation=0.6, density=0.1, snr=3.0, seed=1)
        else:
            X, y = data
        X, y = X.to(torch.float64), y.to(torch.float64)
        for frac in (0.1, 0.02):
            f, b, s, it, solver, mem = one(X, y, frac, args.repeats)
            print(f"{name:12s} {str(tuple(X.shape)):>12s} {frac:6.2f} {solver:>12s} {s:5d} "
                  f"{1e3 * f:8.2f} {1e3 * b:8.2f} {b / f:7.2f} {mem / 1e6:7.2f}")


if __name__ == "__main__":
    main()
