"""GLM benchmark (issue 23): L1 logistic regression with an intercept, time to a relative
duality gap of 1e-6, against skglm (ProxNewton), scikit-learn (liblinear, saga) and glum,
in one process.

Classes: ``breast-cancer`` (569 x 30, standardized), ``synthetic`` 2000 x 500 (correlated
columns, 20 true features), ``wide`` 200 x 2000 and ``tall`` 20000 x 100; alpha/alpha_max in
{0.1, 0.01}. Poisson and multinomial: ``bench_glm_more.py``.

**The gap is recomputed here in float64** (:func:`logistic_gap`, numpy only, sharing no
code with the package): the peer's ``w`` with its best intercept (the 1-D convex problem
solved to rounding by Newton), ``u = y sigmoid(-y eta)``, ``kappa = min(1, alpha /
||X^T u / n||_inf)``, ``gap = P(w) + 1/n sum_i [q log q + (1 - q) log(1 - q)]`` with
``q = kappa y u``; relative to ``P(0) = min_b 1/n sum log(1 + exp(-y b))``. A peer's
tolerance is lowered tenfold until its answer is certified (at most 6 times); a peer that
never gets there is shown as ``—``. liblinear penalizes its intercept, so it runs (and is
certified) without intercept on centered columns (its own problem; the row says so).
Times: the minimum of ``--repeats`` runs after a warm-up call (numba compiled and cached).

Usage::

    OMP_NUM_THREADS=1 python experiments/bench_glm.py            # about a minute
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import torch

import lasso_torch as lt
from lasso_torch.data import make_synthetic

TARGET = 1e-6


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def _sig(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def best_intercept(z: np.ndarray, y: np.ndarray) -> float:
    """``argmin_b mean(log(1 + exp(-y (z + b))))`` (Newton with bisection, to rounding)."""
    lo, hi, b = -50.0, 50.0, 0.0
    for _ in range(200):
        p = _sig(y * (z + b))
        d1 = -np.mean(y * (1 - p))
        d2 = np.mean(p * (1 - p))
        lo, hi = (b, hi) if d1 < 0 else (lo, b)
        new = b - d1 / d2 if d2 > 0 else 0.5 * (lo + hi)
        if not lo <= new <= hi:
            new = 0.5 * (lo + hi)
        if abs(new - b) <= 1e-15 * (1 + abs(b)):
            return new
        b = new
    return b


def logistic_gap(X: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float,
                 intercept: bool = True) -> float:
    """The relative duality gap of ``w`` (labels ``+-1``), float64, module docstring."""
    X, y, w = (np.asarray(a, dtype=np.float64) for a in (X, y, w))
    n = len(y)
    z = X @ w
    b = best_intercept(z, y) if intercept else 0.0
    eta = z + b
    primal = np.mean(_softplus(-y * eta)) + alpha * np.abs(w).sum()
    u = y * _sig(-y * eta)
    v = X.T @ u / n
    kappa = min(1.0, alpha / max(np.abs(v).max(), 1e-300))
    q = np.clip(kappa * y * u, 0.0, 1.0)
    conj = np.mean(np.where(q > 0, q * np.log(np.where(q > 0, q, 1)), 0.0)
                   + np.where(q < 1, (1 - q) * np.log1p(-np.where(q < 1, q, 0)), 0.0))
    b0 = best_intercept(np.zeros(n), y) if intercept else 0.0
    p0 = np.mean(_softplus(-y * b0))
    return float((primal + conj) / p0)


def classes() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    out = {"breast-cancer": (X, y.astype(float))}
    for name, (n, p) in {"synthetic": (2000, 500), "wide": (200, 2000),
                         "tall": (20000, 100)}.items():
        Xs, _, beta = make_synthetic(n, p, correlation=0.5, density=20 / p, seed=0)
        Xs = Xs.numpy()
        rng = np.random.default_rng(0)
        eta = Xs @ beta.numpy()
        eta *= 2.0 / eta.std()
        out[name] = (Xs, (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float))
    return out


def peers() -> dict:
    from sklearn.linear_model import LogisticRegression

    out = {}

    def sk(solver, intercept):
        def fit(X, y, a, tol):
            m = LogisticRegression(penalty="l1", C=1 / (len(y) * a), solver=solver, tol=tol,
                                   fit_intercept=intercept, max_iter=100_000).fit(X, y)
            return m.coef_[0]
        return fit
    out["scikit-learn saga"] = (sk("saga", True), True)
    out["scikit-learn liblinear (no intercept)"] = (sk("liblinear", False), False)
    try:
        from skglm import GeneralizedLinearEstimator
        from skglm.datafits import Logistic
        from skglm.penalties import L1
        from skglm.solvers import ProxNewton

        def fit_skglm(X, y, a, tol):
            m = GeneralizedLinearEstimator(Logistic(), L1(a), ProxNewton(
                fit_intercept=True, tol=tol, max_iter=1000)).fit(X, 2 * y - 1)
            return m.coef_.ravel()
        out["skglm ProxNewton"] = (fit_skglm, True)
    except ImportError:
        pass
    try:
        from glum import GeneralizedLinearRegressor

        def fit_glum(X, y, a, tol):
            m = GeneralizedLinearRegressor(family="binomial", alpha=a, l1_ratio=1.0,
                                           fit_intercept=True, gradient_tol=tol,
                                           max_iter=10_000).fit(X, y)
            return m.coef_
        out["glum"] = (fit_glum, True)
    except ImportError:
        pass
    return out


BUDGET = 10.0  # seconds: a fit this long is run once, and its tolerance not lowered further


def timed(fn, repeats, warm_up=True, budget=BUDGET):
    """``(best time, last output)`` of ``repeats`` calls of ``fn`` (after one untimed
    warm-up call: compilation, caches); a call longer than ``budget`` seconds is not
    repeated. The benchmarks' one timer."""
    if warm_up:
        fn()
    t0 = time.perf_counter()
    out = fn()
    best = time.perf_counter() - t0
    if best > budget:
        return best, out
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def certified_time(fit, X, y, alpha, intercept, repeats, tol0):
    """Lower the tolerance until the answer is certified; ``(time, gap, tol)``."""
    ys = 2 * y - 1
    Xi = X if intercept else X - X.mean(0)
    tol = tol0
    for _ in range(7):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, coef = timed(lambda tol=tol: fit(Xi, y, alpha, tol), repeats)
        gap = logistic_gap(Xi, ys, coef, alpha, intercept)
        if gap <= TARGET:
            return t, gap, tol
        if t > BUDGET:
            break
        tol /= 10
    return np.inf, gap, tol


def ours(X: np.ndarray, y: np.ndarray, a: float, tol: float) -> np.ndarray:
    """lasso_torch's default (``solver="auto"``) on the arrays, as a user calls it."""
    return lt.solve(torch.from_numpy(X), torch.from_numpy(y), a, loss="logistic",
                    tol=tol).coef.numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.threads} thread(s), "
          f"load {os.getloadavg()[0]:.1f}, min of {args.repeats}, time [ms] to a relative "
          f"gap <= {TARGET:g} recomputed in float64 by this script")
    ps = peers()
    head = ["class", "α/α_max", "lasso_torch auto [ms]", "auto ran"] + [
        f"{k} [ms]" for k in ps] + ["auto / fastest peer"]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for name, (X, y) in classes().items():
        ys = 2 * y - 1
        n = len(y)
        amax = np.abs(X.T @ (ys * _sig(-ys * best_intercept(np.zeros(n), ys)))).max() / n
        for frac in (0.1, 0.01):
            a = frac * amax
            t_ours, g, _ = certified_time(ours, X, y, a, True, args.repeats, TARGET)
            ran = lt.solve(X, y, a, loss="logistic").solver
            row = [name, f"{frac:g}", f"{1e3 * t_ours:.3g}", ran]
            peer_t = []
            for fit, intercept in ps.values():
                t, g, _ = certified_time(fit, X, y, a, intercept, args.repeats, 1e-4)
                peer_t.append(t)
                row.append("—" if not np.isfinite(t) else f"{1e3 * t:.3g}")
            row.append(f"{t_ours / min(peer_t):.2f}")
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
