"""The agreement table of issue 14: loss x penalty x solver against independent references.

Each row: max relative coefficient error against the reference, identical zero pattern,
the certificate reached (relative duality gap, or the KKT violation where there is no
gap) and the iterations. References: scikit-learn (LogisticRegression saga, Lasso
positive), skglm (Huber, Poisson, WeightedL1, MCP, SCAD), the lasso on rescaled columns.
Run:  .venv/bin/python experiments/losses_agreement.py
"""

from __future__ import annotations

import warnings

import numpy as np

import lasso_torch as lt

warnings.filterwarnings("ignore")


def data(seed: int, n: int = 150, p: int = 25):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X /= np.sqrt((X**2).mean(0))
    beta = np.zeros(p)
    beta[:4] = [1.5, -1.0, 0.7, 0.4]
    return rng, X, beta


def skglm_fit(datafit, penalty, X, y):
    from skglm import GeneralizedLinearEstimator
    from skglm.solvers import AndersonCD, ProxNewton

    solver = (ProxNewton(tol=1e-12, max_iter=1000) if type(datafit).__name__ == "Poisson"
              else AndersonCD(tol=1e-13, max_iter=100_000))
    return GeneralizedLinearEstimator(datafit, penalty, solver).fit(X, y).coef_


def cases():
    from skglm.datafits import Huber, Poisson, Quadratic
    from skglm.penalties import L1 as SkL1
    from skglm.penalties import SCAD, MCPenalty, WeightedL1
    from sklearn.linear_model import Lasso, LogisticRegression

    rng, X, beta = data(0)
    n = X.shape[0]
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta + 0.3)))).astype(float)
    ref = LogisticRegression(penalty="l1", C=1 / (n * 0.02), solver="saga", tol=1e-13,
                             max_iter=100_000).fit(X, y).coef_[0]
    yield "logistic", "l1", "sklearn saga", X, y, ref, dict(alpha=0.02, loss="logistic")
    rng, X, beta = data(2)
    yh = X @ beta + 0.3 * rng.standard_normal(n)
    yh[:8] += 8
    yield "huber", "l1", "skglm", X, yh, skglm_fit(Huber(1.0), SkL1(0.05), X, yh), dict(
        alpha=0.05, loss="huber", delta=1.0)
    rng, X, beta = data(3)
    yp = rng.poisson(np.exp(0.3 * X @ beta + 0.5)).astype(float)
    yield "poisson", "l1", "skglm", X, yp, skglm_fit(Poisson(), SkL1(0.02), X, yp), dict(
        alpha=0.02, loss="poisson")
    rng, X, beta = data(4)
    yq = X @ beta + 0.3 * rng.standard_normal(n)
    ref = Lasso(alpha=0.05, positive=True, tol=1e-14, max_iter=100_000).fit(X, yq).coef_
    yield "squared", "l1 positive", "sklearn Lasso", X, yq, ref, dict(alpha=0.05, positive=True)
    w = rng.uniform(0.5, 2.0, X.shape[1])
    w[3] = 0.0
    yield "squared", "weighted l1 (w3=0)", "skglm", X, yq, skglm_fit(
        Quadratic(), WeightedL1(0.05, w), X, yq), dict(alpha=0.05, weights=w)
    w2 = rng.uniform(0.5, 2.0, X.shape[1])
    ref = lt.solve(X / w2, yq, 0.05, solver="cd", tol=1e-14).coef.numpy() / w2
    yield "squared", "weighted l1", "rescaled columns", X, yq, ref, dict(alpha=0.05, weights=w2)
    yield "squared", "mcp g=3", "skglm", X, yq, skglm_fit(Quadratic(), MCPenalty(0.1, 3.0),
                                                         X, yq), dict(alpha=0.1, penalty="mcp",
                                                                      gamma=3.0)
    yield "squared", "scad g=3.7", "skglm", X, yq, skglm_fit(Quadratic(), SCAD(0.1, 3.7), X, yq), \
        dict(alpha=0.1, penalty="scad", gamma=3.7)
    yb = (yq > 0).astype(float)
    yield "logistic", "weighted l1 (w3=0)", "rescaled columns*", X, yb, None, dict(
        alpha=0.02, loss="logistic", weights=w)


SOLVERS = {"squared": ("cd", "ws", "fista", "ista"),
           "logistic": ("prox_newton", "fista", "ista"),
           "huber": ("prox_newton", "fista"), "poisson": ("prox_newton", "ista")}


def main() -> None:
    print("| loss | penalty | reference | solver | rel. error | same zeros | certificate | "
          "value | iterations |")
    print("|---|---|---|---|---|---|---|---|---|")
    for loss, pen, refname, X, y, ref, kw in cases():
        alpha = kw.pop("alpha")
        if ref is None:  # the logistic weighted lasso: prox_newton on rescaled columns
            w = kw["weights"]
            keep = w > 0
            Xs = X.copy()
            Xs[:, keep] /= w[keep]
            r0 = lt.solve(Xs, y, alpha, loss="logistic", solver="prox_newton", tol=1e-13,
                          weights=np.where(keep, 1.0, 0.0))
            ref = r0.coef.numpy() / np.where(keep, w, 1.0)
        for solver in SOLVERS[loss]:
            r = lt.solve(X, y, alpha, solver=solver, tol=1e-11, max_iter=200_000, **kw)
            c = r.coef.numpy()
            err = np.abs(c - ref).max() / np.abs(ref).max()
            val = float(r.gap) if r.certificate != "kkt" else float(r.kkt)
            print(f"| {loss} | {pen} | {refname} | {solver} | {err:.1e} | "
                  f"{np.array_equal(c == 0, ref == 0)} | {r.certificate} | {val:.1e} | "
                  f"{r.n_iter} |")


if __name__ == "__main__":
    main()
