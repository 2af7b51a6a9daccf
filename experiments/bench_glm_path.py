"""GLM path benchmark (issue 23): 100-alpha L1 paths with an intercept, time for the whole
path with **every alpha** at a relative duality gap <= 1e-6, the gap recomputed in float64
by this script (``logistic_gap`` of ``bench_glm.py``, ``poisson_gap`` of
``bench_glm_more.py``: numpy only, sharing no code with the package), in one process.

Classes: logistic on ``breast-cancer`` (569 x 30, standardized), ``synthetic`` 2000 x 500,
``wide`` 200 x 2000, ``tall`` 20000 x 100 (``bench_glm.classes``), and Poisson 2000 x 200
(``bench_glm_more``'s design). The grid: ``np.geomspace(alpha_max, eps alpha_max, 100)``.

Contenders (all warm-started along the grid):

* lasso_torch: ``lt.lasso_path(X, y, alphas=grid, loss=...)`` (the default strategy);
* glum: ``GeneralizedLinearRegressor(alpha_search=True, alphas=grid)`` (its own path);
* skglm: ``ProxNewton(warm_start)`` called along the grid from the previous solution;
* scikit-learn (logistic only): ``LogisticRegression(saga, warm_start=True)`` along the
  ``C = 1 / (n alpha)`` grid (up to ``SAGA_MAX`` entries of ``X``: its path took 12 s on
  breast-cancer and minutes beyond; ``n/a`` above), and liblinear (no warm start in
  liblinear; without intercept on centered columns: its own problem, certified as such).

A peer's tolerance is lowered tenfold (from 1e-4, at most 5 times) until every alpha of
its path is certified; a peer that never gets there shows ``—`` with how many alphas it
certified at its last tolerance. Times: the minimum of ``--repeats`` runs after a warm-up
(numba compiled and cached); a path slower than ``BUDGET`` runs once.

Usage::

    OMP_NUM_THREADS=1 python experiments/bench_glm_path.py --repeats 3 --eps 1e-2
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import torch
from bench_glm import BUDGET, TARGET, _sig, best_intercept, classes, logistic_gap, timed
from bench_glm_more import poisson_gap

import lasso_torch as lt
from lasso_torch.data import make_synthetic


def poisson_class() -> tuple[np.ndarray, np.ndarray]:
    X, _, beta = make_synthetic(2000, 200, correlation=0.5, density=0.05, seed=2)
    X = X.numpy()
    eta = X @ beta.numpy()
    y = np.random.default_rng(2).poisson(np.exp(0.5 * eta / eta.std())).astype(float)
    return X, y


SAGA_MAX = 500_000  # entries of X up to which saga's path runs (else "n/a")


def logistic_peers(X: np.ndarray, y: np.ndarray, grid: np.ndarray) -> dict:
    from sklearn.linear_model import LogisticRegression

    n = len(y)
    out = {}

    def saga(tol):
        m = LogisticRegression(penalty="l1", solver="saga", tol=tol, warm_start=True,
                               max_iter=100_000)
        coefs = []
        for a in grid:
            m.set_params(C=1 / (n * a))
            coefs.append(m.fit(X, y).coef_[0].copy())
        return np.array(coefs)
    if X.size <= SAGA_MAX:  # saga's path: 12 s on breast-cancer already, minutes beyond
        out["scikit-learn saga"] = (saga, True)

    def liblinear(tol):
        Xc = X - X.mean(0)
        return np.array([LogisticRegression(
            penalty="l1", C=1 / (n * a), solver="liblinear", tol=tol, fit_intercept=False,
            max_iter=100_000).fit(Xc, y).coef_[0] for a in grid])
    out["scikit-learn liblinear (no intercept)"] = (liblinear, False)
    out.update(_skglm_glum(X, y, grid, "logistic"))
    return out


def _skglm_glum(X: np.ndarray, y: np.ndarray, grid: np.ndarray, loss: str) -> dict:
    out = {}
    try:
        from skglm.datafits import Logistic, Poisson
        from skglm.penalties import L1
        from skglm.solvers import ProxNewton

        yy = 2 * y - 1 if loss == "logistic" else y

        def skglm(tol):
            df = Logistic() if loss == "logistic" else Poisson()
            w = np.zeros(X.shape[1] + 1)
            coefs = []
            for a in grid:
                solver = ProxNewton(fit_intercept=True, tol=tol, max_iter=1000)
                w = solver.solve(X, yy, df, L1(a), w_init=w.copy(),
                                 Xw_init=X @ w[:-1] + w[-1])[0]
                coefs.append(w[:-1].copy())
            return np.array(coefs)
        out["skglm ProxNewton"] = (skglm, True)
    except ImportError:
        pass
    try:
        from glum import GeneralizedLinearRegressor

        def glum(tol):
            return GeneralizedLinearRegressor(
                family="binomial" if loss == "logistic" else "poisson", alpha_search=True,
                alphas=grid, l1_ratio=1.0, fit_intercept=True, gradient_tol=tol,
                max_iter=10_000).fit(X, y).coef_path_
        out["glum"] = (glum, True)
    except ImportError:
        pass
    return out


PEERS = ("glum", "skglm ProxNewton", "scikit-learn saga",
         "scikit-learn liblinear (no intercept)")


def certified_path(fit, gapf, tol0, repeats, tries=6):
    """``(time, certified count)`` at the first tolerance certifying every alpha."""
    tol = tol0
    for _ in range(tries):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, coefs = timed(lambda tol=tol: fit(tol), repeats)
        ok = sum(gapf(k, c) <= TARGET for k, c in enumerate(coefs))
        if ok == len(coefs):
            return t, ok
        if t > BUDGET:
            break
        tol /= 10
    return np.inf, ok


def row(name, X, y, loss, eps, repeats):
    n = len(y)
    if loss == "logistic":
        ys = 2 * y - 1
        amax = np.abs(X.T @ (ys * _sig(-ys * best_intercept(np.zeros(n), ys)))).max() / n
        grid = np.geomspace(amax, eps * amax, 100)
        peers = logistic_peers(X, y, grid)
        Xc = X - X.mean(0)

        def gapf(intercept):
            Z = X if intercept else Xc
            return lambda k, c: logistic_gap(Z, ys, c, grid[k], intercept)
    else:
        amax = np.abs(X.T @ (y - y.mean())).max() / n
        grid = np.geomspace(amax, eps * amax, 100)
        peers = _skglm_glum(X, y, grid, loss)

        def gapf(intercept):
            return lambda k, c: poisson_gap(X, y, c, grid[k])
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def ours(tol):
        return lt.lasso_path(Xt, yt, alphas=torch.from_numpy(grid), loss=loss, tol=tol,
                             warn=False).coefs.numpy().T
    t_ours, ok = certified_path(ours, gapf(True), TARGET, repeats, tries=1)
    cells = [f"{1e3 * t_ours:.4g}" if np.isfinite(t_ours) else f"— ({ok}/100)"]
    times = []
    for key in PEERS:
        if key not in peers:
            cells.append("n/a")
            continue
        fit, intercept = peers[key]
        t, ok = certified_path(fit, gapf(intercept), 1e-4, repeats)
        times.append(t)
        cells.append(f"{1e3 * t:.4g}" if np.isfinite(t) else f"— ({ok}/100)")
    ratio = t_ours / min(times) if times and np.isfinite(min(times)) else np.nan
    head = f"| {name} | {loss} | {eps:g} | "
    print(head + " | ".join(cells) + f" | {ratio:.2f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--eps", type=float, nargs="+", default=[1e-2])
    ap.add_argument("--only", nargs="*", default=None, help="class names to run")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, 1 thread, load "
          f"{os.getloadavg()[0]:.1f}, min of {args.repeats}, 100-α path time [ms], every α "
          f"at relative gap <= {TARGET:g} recomputed in float64 by this script")
    head = ["class", "loss", "eps", "lasso_torch [ms]"] + [f"{k} [ms]" for k in PEERS] + [
        "ours / fastest peer"]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    data = {**classes(), "poisson 2000x200": poisson_class()}
    for eps in args.eps:
        for name, (X, y) in data.items():
            if args.only and name not in args.only:
                continue
            row(name, X, y, "poisson" if name.startswith("poisson") else "logistic", eps,
                args.repeats)


if __name__ == "__main__":
    main()
