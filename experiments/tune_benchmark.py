"""Hypergradient tuning against grids (issue 24, part 3): ``lt.tune`` vs the grid's best
alpha, ``TorchLassoCV``, scikit-learn's ``LassoCV`` and sparho (sparse-ho's successor), in
one process, with a figure of the validation curve and the hypergradient iterates.

Data: ``p`` features with three scales of relevance (10 strong, 40 weak, the rest 0),
correlated columns (Toeplitz 0.5), train / validation / test rows; everything centered by
the training means, no intercept (sparho's problems have none). Errors are mean squared
errors; "val" is the criterion the method minimized (the holdout), "test" fresh rows.
Timings: wall seconds of one call after a warm-up call on the same data (numba kernels
compiled), ``OMP_NUM_THREADS=1``.

Usage::

    OMP_NUM_THREADS=1 python experiments/tune_benchmark.py [--p 500] [--out docs/img]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import lasso_torch as lt  # noqa: E402


def data(n_train=100, n_val=100, n_test=2000, p=500, seed=0):
    g = np.random.default_rng(seed)
    n = n_train + n_val + n_test
    Z = g.standard_normal((n, p))
    X = Z.copy()
    for j in range(1, p):  # Toeplitz-like correlation 0.5 between neighbours
        X[:, j] = 0.5 * X[:, j - 1] + np.sqrt(0.75) * Z[:, j]
    w = np.zeros(p)
    w[:10] = g.choice([-1, 1], 10) * g.uniform(2, 3, 10)
    w[10:50] = g.choice([-1, 1], 40) * g.uniform(0.1, 0.3, 40)
    y = X @ w + 1.5 * g.standard_normal(n)
    m, my = X[:n_train].mean(0), y[:n_train].mean()
    X, y = X - m, y - my
    s = np.cumsum([0, n_train, n_val, n_test])
    return [(X[a:b], y[a:b]) for a, b in zip(s[:-1], s[1:], strict=True)]


def mse(X, y, w):
    return float(np.mean((X @ np.asarray(w) - y) ** 2))


def timed(fn, warm=True):
    if warm:
        fn()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--p", type=int, default=500)
    ap.add_argument("--out", default="docs/img")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    (Xt, yt), (Xv, yv), (Xs, ys) = data(p=args.p)
    T = {k: torch.from_numpy(v) for k, v in dict(Xt=Xt, yt=yt, Xv=Xv, yv=yv).items()}
    Xtv, ytv = np.vstack([Xt, Xv]), np.concatenate([yt, yv])
    rows = []

    def row(name, secs, w, val=None, extra=""):
        rows.append((name, secs, val, mse(Xs, ys, w), int(np.sum(np.asarray(w) != 0)), extra))

    amax = float(np.abs(Xt.T @ yt).max() / len(yt))
    for num in (100, 1000):
        grid = np.geomspace(amax, amax * 1e-3, num)

        def path(grid=grid):
            P = lt.lasso_path(T["Xt"], T["yt"], torch.from_numpy(grid), tol=1e-8,
                              fit_intercept=False)
            v = ((T["Xv"] @ P.coefs - T["yv"][:, None]) ** 2).mean(0)
            return P, v
        (P, v), secs = timed(path)
        k = int(v.argmin())
        row(f"grid holdout ({num} alphas, lasso_path)", secs, P.coefs[:, k].numpy(),
            float(v[k]), f"alpha={grid[k]:.4g}")
        if num == 1000:
            curve, best_val = (grid, v.numpy()), float(v[k])

    res, secs = timed(lambda: lt.tune(T["Xt"], T["yt"], T["Xv"], T["yv"], fit_intercept=False))
    row("lt.tune holdout, one alpha", secs, res.coef.numpy(), res.criterion_value,
        f"alpha={res.alpha:.4g}, {res.n_iter} steps, {res.n_solves} solves")
    single = res
    res, secs = timed(lambda: lt.tune(T["Xt"], T["yt"], T["Xv"], T["yv"], fit_intercept=False,
                                      weights="per_feature"))
    row("lt.tune holdout, alpha per feature", secs, res.coef.numpy(), res.criterion_value,
        f"{res.n_iter} steps, {res.n_solves} solves")
    Xtv_t, ytv_t = torch.from_numpy(Xtv), torch.from_numpy(ytv)
    res, secs = timed(lambda: lt.tune(Xtv_t, ytv_t, criterion="cv", fit_intercept=False))
    row("lt.tune 5-fold CV, one alpha (train+val)", secs, res.coef.numpy(), None,
        f"alpha={res.alpha:.4g}, {res.n_iter} steps, {res.n_solves} solves")
    from sklearn.linear_model import LassoCV

    from lasso_torch.sklearn import TorchLassoCV
    est, secs = timed(lambda: TorchLassoCV(alphas=100, cv=5, fit_intercept=False).fit(Xtv, ytv))
    row("TorchLassoCV 5-fold, 100 alphas (train+val)", secs, est.coef_, None,
        f"alpha={est.alpha_:.4g}")
    est, secs = timed(lambda: LassoCV(alphas=100, cv=5, fit_intercept=False).fit(Xtv, ytv))
    row("sklearn LassoCV 5-fold, 100 alphas (train+val)", secs, est.coef_, None,
        f"alpha={est.alpha_:.4g}")
    sp_iter = sparho_rows(row, Xtv, ytv, len(yt), amax)
    print(f"p={args.p}, n_train={len(yt)}, n_val={len(yv)}, n_test={len(ys)}")
    print(f"{'method':48s} {'time s':>7s} {'val MSE':>8s} {'test MSE':>8s} {'nnz':>4s}  notes")
    for name, secs, val, test, nnz, extra in rows:
        v = f"{val:8.4f}" if val is not None else f"{'':8s}"
        print(f"{name:48s} {secs:7.3f} {v} {test:8.4f} {nnz:4d}  {extra}")
    print(f"lt.tune one alpha: val MSE / best of 1000-alpha grid = "
          f"{single.criterion_value / best_val:.4f}")
    figure(curve, single, sp_iter, Path(args.out))


def sparho_rows(row, Xtv, ytv, n_train, amax):
    """sparho (if installed): HOAG search on the same holdout, one alpha and per feature."""
    try:
        import sparho
        from sparho.adapters.sklearn import SklearnLasso, SklearnWeightedLasso
    except ImportError:
        print("sparho not installed: its rows are left out")
        return None
    idx_t, idx_v = np.arange(n_train), np.arange(n_train, len(ytv))
    crit = sparho.HeldOutMSE(idx_t, idx_v)
    out = None
    for name, pen, solver, hp0 in (
            ("sparho hoag holdout, one alpha", sparho.L1(), SklearnLasso(tol=1e-8), 0.1 * amax),
            ("sparho hoag holdout, alpha per feature", sparho.WeightedL1(),
             SklearnWeightedLasso(tol=1e-8), np.full(Xtv.shape[1], 0.1 * amax))):
        prob = sparho.Problem(sparho.SquaredLoss(), pen, Xtv, ytv)
        res, secs = timed(lambda prob=prob, solver=solver, hp0=hp0: sparho.hoag_search(
            prob, hp0, solver=solver, criterion=crit, n_iter=50))
        w = np.asarray(res.best_coef)
        # sparho refits on all rows given (train+val here): score its hyperparameter's
        # training-rows solution on the holdout as the criterion it minimized
        val = min(h.value for h in res.history)
        row(name, secs, w, val, f"{res.n_iter} steps (coef refit on train+val)")
        if out is None:
            out = [(float(np.asarray(h.hyperparam)), h.value) for h in res.history]
    return out


def figure(curve, res, sp_iter, out: Path) -> None:
    grid, v = curve
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    late = res.alphas[2:] if len(res.alphas) > 3 else res.alphas
    lo, hi = late.min() / 1.15, late.max() * 1.15
    for ax, zoom in zip(axes, (False, True), strict=True):
        keep = (grid >= lo) & (grid <= hi) if zoom else np.ones_like(grid, dtype=bool)
        ax.plot(grid[keep], v[keep], color="0.6", lw=1.5,
                label="validation MSE, 1000-alpha grid")
        ax.plot(res.alphas, res.criteria, "o-", color="C3", ms=4, lw=1,
                label=f"lt.tune iterates ({res.n_iter} steps)")
        for i, (a, c) in enumerate(zip(res.alphas, res.criteria, strict=True)):
            if zoom or i < 2:
                ax.annotate(str(i), (a, c), textcoords="offset points", xytext=(3, 3),
                            fontsize=7)
        if sp_iter:
            a, c = zip(*sp_iter, strict=True)
            ax.plot(a, c, "x", color="C0", ms=5, alpha=0.7, label="sparho HOAG iterates")
        ax.set_xscale("log")
        ax.set_yscale("log" if not zoom else "linear")
        ax.set(xlabel="alpha", ylabel="held-out MSE",
               title="zoom: the iterates from step 2" if zoom else "grid curve and iterates")
        if zoom:
            ax.set_xlim(lo, hi)
            ax.set_ylim(min(v[keep].min(), res.criteria.min()) * 0.999,
                        max(v[keep].max(), res.criteria[-len(late):].max()) * 1.001)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Hypergradient descent on log(alpha) (start 0.1 alpha_max) vs the grid",
                 fontsize=10)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "tune_validation_curve.png", dpi=150)
    print(f"figure: {out / 'tune_validation_curve.png'}")


if __name__ == "__main__":
    main()
