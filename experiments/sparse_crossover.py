"""Where the sparse kernels win (issue 27): a random sparse design of growing density, solved
by ``anderson_cd`` on its CSC columns, by ``fista`` on torch CSR products, and by
``anderson_cd`` on the same matrix densified, at 0.1 and 0.01 alpha_max; time to a relative
gap of 1e-6 (recomputed here in float64), min of 3, one thread. The rule of
``lasso_torch/solvers/auto.py`` for a sparse X on the CPU quotes this table.

Usage::

    python experiments/sparse_crossover.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import torch
from scipy import sparse as scipy_sparse

import lasso_torch as lt
from lasso_torch.sparse import from_scipy


def timed(fn, repeats=2):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def within(X, y, a, solver, budget):
    """``lt.solve`` to the gap, stopped after ``budget`` seconds."""
    t0 = time.perf_counter()
    return lt.solve(X, y, a, solver=solver, tol=1e-6, max_iter=100_000, warn=False,
                    callback=lambda *_: time.perf_counter() - t0 > budget)


def main(n: int = 3000, p: int = 1000) -> None:
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    print("| density | α/α_max | anderson_cd (CSC) | fista (CSR) | anderson_cd (dense) |")
    print("|---|---|---|---|---|")
    for density in (0.01, 0.1, 0.3, 0.6):
        rng = np.random.default_rng(0)
        A = scipy_sparse.random(n, p, density=density, random_state=0, format="csr")
        beta = np.zeros(p)
        beta[rng.choice(p, 50, replace=False)] = rng.normal(0, 2, 50)
        y = torch.from_numpy(A @ beta + rng.standard_normal(n))
        Xs, Xd = from_scipy(A, torch.float64, "cpu"), torch.from_numpy(A.toarray())
        amax = float(lt.alpha_max(Xs, y))
        for frac in (0.1, 0.01):
            a, cells = frac * amax, []
            for X, solver in ((Xs, "anderson_cd"), (Xs, "fista"), (Xd, "anderson_cd")):
                lt.solve(X, y, a, solver=solver, max_iter=2, warn=False)
                t, r = timed(lambda X=X, s=solver, a=a, y=y: within(X, y, a, s, 5.0))
                gap = float(lt.duality_gap(Xs, y, r.coef, a, relative=True))
                cells.append(f"{t * 1e3:.3g} ms" if gap <= 1e-6 else "—")
            print(f"| {density} | {frac} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
