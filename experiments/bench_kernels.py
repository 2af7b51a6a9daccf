"""Compiled host kernels: time to a relative duality gap of 1e-6, old CD against new.

Solvers (float64, everything in this process, torch and OpenMP/BLAS at ``--threads``):

* ``old cd``: the Python loop over coordinates that ``cd`` was before the kernels (kept
  here as :class:`OldCD`, run through the same loop and certificate as the others);
* ``cd``: :class:`lasso_torch.solvers.CoordinateDescent` (compiled epochs, compiled
  certificate);
* ``anderson``: :class:`lasso_torch.solvers.anderson_cd.AndersonCD` (working sets, Anderson
  extrapolation, the whole inner solve compiled);
* ``ws``: :class:`lasso_torch.solvers.WorkingSet` (its subproblem partly compiled);
* ``sklearn``: ``sklearn.linear_model.Lasso`` (``fit``, as a user calls it).

The project's solvers are timed from the data tensors: datafit, engine and
:func:`~lasso_torch.solvers.run_loop` (``lt.solve``'s fixed costs are not in these rows).
"Solved" is checked here, in float64, by ``lt.duality_gap`` for every solver; a solver
whose own tolerance misses 1e-6 is re-run with a tolerance ten times smaller (3 times at
most). Times are the minimum of ``--repeats`` (the machine is shared). A run over
``--budget`` seconds is stopped and shown as ``>budget``.

The compile time is measured apart, in fresh processes: ``first`` with an empty numba
cache (compiles and writes it), ``cached`` loading it.

Usage::

    python experiments/bench_kernels.py                 # the full table (~10 min)
    python experiments/bench_kernels.py --quick         # tiny and small problems only
    python experiments/bench_kernels.py --subproblem    # the ws subproblem, before/after
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy
    os.environ.setdefault(_var, "2")

import numpy as np  # noqa: E402
import torch  # noqa: E402

TARGET = 1e-6
FRACS = (0.3, 0.1, 0.02, 0.005)
SOLVERS = ("old cd", "cd", "anderson", "ws", "sklearn")


class OldCD:
    """``cd`` before the kernels: one Python iteration per coordinate (numpy)."""

    def __init__(self, datafit, alpha, l1_ratio, w0):
        X = (datafit.X - datafit.x_mean).numpy()
        self.Xc, n = np.asfortranarray(X), X.shape[0]
        self.w = w0.numpy().copy()
        self.l1, self.l2 = n * alpha * l1_ratio, n * alpha * (1 - l1_ratio)
        self.gram = n >= X.shape[1]
        r = datafit.yc.numpy() - self.Xc @ self.w
        if self.gram:
            self.G = np.ascontiguousarray(self.Xc.T @ self.Xc)
            self.norms, self.q = np.diag(self.G).copy(), self.Xc.T @ r
        else:
            self.norms, self.r = (self.Xc * self.Xc).sum(0), r

    def step(self):
        w, l1, l2 = self.w, self.l1, self.l2
        for j in range(w.shape[0]):
            nj = self.norms[j]
            if nj == 0.0:
                continue
            col = self.G[j] if self.gram else self.Xc[:, j]
            z = (self.q[j] if self.gram else col @ self.r) + w[j] * nj
            new = (z - l1 if z > l1 else z + l1 if z < -l1 else 0.0) / (nj + l2)
            if new != w[j]:
                (self.q if self.gram else self.r).__isub__((new - w[j]) * col)
                w[j] = new

    def coef(self):
        return torch.from_numpy(self.w.copy())


def problems(quick: bool) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    from lasso_torch.data import load_diabetes, make_synthetic, standardize

    Xd, yd = load_diabetes()
    B = standardize(Xd)[0].numpy()
    i, j = np.triu_indices(B.shape[1], 1)
    inter = np.column_stack([B, B[:, i] * B[:, j], B**2])  # 10 + 45 + 10 columns
    out = {
        "tiny 50x30": make_synthetic(50, 30, correlation=0.5, density=0.2, seed=0)[:2],
        "small 442x65": (standardize(torch.from_numpy(inter))[0].contiguous(), yd),
    }
    if not quick:
        out["wide 200x2000"] = make_synthetic(200, 2000, correlation=0.6, density=0.05,
                                              seed=0)[:2]
        out["tall 20000x200"] = make_synthetic(20000, 200, correlation=0.5, density=0.05,
                                               seed=0)[:2]
    return out


def run_once(name: str, X, y, alpha: float, tol: float, budget: float):
    """(seconds, coef, iterations) of one solve from the data."""
    import lasso_torch as lt
    from lasso_torch.penalties import make_penalty
    from lasso_torch.solvers import CoordinateDescent, WorkingSet, run_loop
    from lasso_torch.solvers.anderson_cd import AndersonCD

    if name == "sklearn":
        from sklearn.linear_model import Lasso

        Xn, yn = X.numpy(), y.numpy()
        t = time.perf_counter()
        est = Lasso(alpha=alpha, tol=tol / 2, max_iter=1_000_000).fit(Xn, yn)
        return time.perf_counter() - t, torch.from_numpy(est.coef_), est.n_iter_
    t = time.perf_counter()
    df = lt.Quadratic(X, y)
    w0 = torch.zeros(X.shape[1], dtype=X.dtype)
    eng = {"old cd": lambda: OldCD(df, alpha, 1.0, w0),
           "cd": lambda: CoordinateDescent(df, make_penalty(alpha, 1.0), w0),
           "anderson": lambda: AndersonCD(df, make_penalty(alpha, 1.0), w0, tol=tol),
           "ws": lambda: WorkingSet(df, make_penalty(alpha, 1.0), w0, tol=tol)}[name]()
    out = run_loop(eng, max_iter=10**7, tol=tol, check_every=1,
                   stall_patience=5 if name in ("ws", "anderson") else 20,
                   callback=lambda *_: time.perf_counter() - t > budget)
    return time.perf_counter() - t, eng.coef(), getattr(eng, "epochs", out.n_iter)


def measure(name: str, X, y, alpha: float, repeats: int, budget: float) -> dict:
    import lasso_torch as lt

    tol = TARGET
    for _ in range(4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sec, coef, its = run_once(name, X, y, alpha, tol, budget)
        gap = float(lt.duality_gap(X, y, coef.double(), alpha, relative=True))
        if gap <= TARGET or sec > budget:
            break
        tol /= 10
    if sec <= budget:
        for _ in range(repeats - 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sec = min(sec, run_once(name, X, y, alpha, tol, budget)[0])
    return dict(time=sec, gap=gap, iters=its, tol=tol, over=sec > budget)


def subproblem_rows(repeats: int) -> None:
    """``ws`` with its subproblem in numpy (before) and compiled (after): ms to gap 1e-6."""
    import lasso_torch as lt
    from lasso_torch.data import load_diabetes, make_synthetic, standardize
    from lasso_torch.solvers import subproblem

    Xd, yd = load_diabetes()
    B = make_synthetic(300, 10, correlation=0.8, density=0.5, seed=1)[0].numpy()
    i, j = np.triu_indices(10, 1)
    P = np.column_stack([B, B[:, i] * B[:, j], B**2])[:, :60]  # 300 x 60, interactions
    rng = np.random.default_rng(0)
    yp = P[:, :5].sum(1) + P[:, 40:45].sum(1) + rng.standard_normal(300)
    cases = {"diabetes 442x10": (standardize(Xd)[0], yd),
             "corr+interactions 300x60": (torch.from_numpy(P), torch.from_numpy(yp)),
             "small 442x65": problems(True)["small 442x65"]}
    print("| ws subproblem | a/a_max | numpy ms | compiled ms |\n|---|---|---|---|")
    for name, (X, y) in cases.items():
        for frac in FRACS:
            a, cells = frac * float(lt.alpha_max(X, y)), []
            for limit in (0, subproblem.COMPILED_MAX):
                subproblem.COMPILED_MAX = limit
                cells.append(min(measure("ws", X, y, a, 1, 60)["time"]
                                 for _ in range(repeats)))
            print(f"| {name} | {frac} | {1e3 * cells[0]:.2f} | {1e3 * cells[1]:.2f} |")
    print()


def probe() -> None:
    """Import the package, then run every kernel once (both dtypes, both forms); print the
    two times. Run in a fresh process by :func:`compile_times`."""
    t = time.perf_counter()
    import lasso_torch as lt
    from lasso_torch.data import make_synthetic
    from lasso_torch.penalties import make_penalty
    from lasso_torch.solvers import CoordinateDescent, WorkingSet, run_loop
    from lasso_torch.solvers.anderson_cd import AndersonCD

    t1 = time.perf_counter()
    X, y, _ = make_synthetic(60, 30, seed=0)
    a = 0.05 * float(lt.alpha_max(X, y))
    for dtype in (torch.float32, torch.float64):
        for gram in (True, False):
            df = lt.Quadratic(X.to(dtype), y.to(dtype), gram=gram)
            w0 = torch.zeros(30, dtype=dtype)
            for eng in (CoordinateDescent(df, make_penalty(a, 1.0), w0, gram=gram),
                        AndersonCD(df, make_penalty(a, 1.0), w0, gram=gram, tol=1e-9),
                        WorkingSet(df, make_penalty(a, 1.0), w0, tol=1e-9, ws_min=10)):
                run_loop(eng, max_iter=3, tol=1e-9, check_every=1)
    print(t1 - t, time.perf_counter() - t1)


def compile_times() -> dict[str, float]:
    """Seconds to run every kernel once in a fresh process, with an empty numba cache
    (``first``: compiles and writes it) and then with that cache (``cached``)."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for key in ("first", "cached"):
            res = subprocess.run([sys.executable, __file__, "--probe"], env=env,
                                 capture_output=True, text=True, check=True)
            out["import"], out[key] = map(float, res.stdout.split()[-2:])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", type=float, default=20.0)
    ap.add_argument("--no-compile", action="store_true", help="skip the compile-time runs")
    ap.add_argument("--subproblem", action="store_true",
                    help="only the ws subproblem rows, numpy against compiled")
    ap.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        return probe()
    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:
        pass
    import lasso_torch as lt

    if not args.no_compile:
        ct = compile_times()
        print(f"compile (all kernels, float32+float64, both forms): first call "
              f"{ct['first']:.1f} s with an empty cache, {ct['cached']:.2f} s cached "
              f"(imports {ct['import']:.2f} s)\n")
    with warnings.catch_warnings():  # this process's first calls (cache load) untimed
        warnings.simplefilter("ignore")
        X, y = problems(True)["tiny 50x30"]
        for name in SOLVERS:
            run_once(name, X, y, 0.1 * float(lt.alpha_max(X, y)), 1e-6, 60)
    subproblem_rows(args.repeats)
    if args.subproblem:
        return
    head = " | ".join(f"{s} ms" for s in SOLVERS)
    print(f"| problem | a/a_max | {head} | best / sklearn |")
    print("|---" * (len(SOLVERS) + 3) + "|")
    for pname, (X, y) in problems(args.quick).items():
        amax = float(lt.alpha_max(X, y))
        for frac in FRACS:
            rows = {s: measure(s, X, y, frac * amax, args.repeats, args.budget)
                    for s in SOLVERS}
            cells = []
            for s in SOLVERS:
                r = rows[s]
                cell = f">{args.budget:.0f}s" if r["over"] else f"{1e3 * r['time']:.2f}"
                cells.append(cell + ("" if r["gap"] <= TARGET else f" (gap {r['gap']:.0e})"))
            best = min(rows[s]["time"] for s in ("cd", "anderson", "ws"))
            ratio = best / rows["sklearn"]["time"]
            print(f"| {pname} | {frac} | {' | '.join(cells)} | {ratio:.2f} |", flush=True)


if __name__ == "__main__":
    main()
