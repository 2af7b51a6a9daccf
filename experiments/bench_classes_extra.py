"""The classes ``bench_classes.py`` lacked (issue 23): squared loss on a very wide
block-correlated design (``p = 250 n``) and the elastic net (``l1_ratio = 0.5``), to re-derive
``solver="auto"``'s rule there; run by ``bench_classes.py --extra`` (the GLM classes by
``bench_glm.py``, which it also runs).

Time to a relative duality gap of 1e-6 recomputed in float64 by ``lt.duality_gap`` (with the
row's ``l1_ratio``), min of ``--repeats``, against scikit-learn, skglm and celer (their
tolerance lowered tenfold until certified, at most 6 times).
"""

from __future__ import annotations

import importlib
import warnings

import bench_glm
import numpy as np
import torch

import lasso_torch as lt

TARGET = 1e-6
SOLVERS = ("auto", "anderson_cd", "ws", "cd", "fista")


def block_design(n: int, p: int, block: int = 10, rho: float = 0.8, seed: int = 0):
    """Columns in blocks of ``block`` sharing a latent factor (within-block correlation
    ``rho``), 1% true features, SNR 3."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p // block))
    X = np.sqrt(rho) * np.repeat(Z, block, axis=1) + np.sqrt(1 - rho) * rng.standard_normal(
        (n, p))
    beta = np.zeros(p)
    beta[rng.choice(p, max(1, p // 100), replace=False)] = rng.standard_normal(max(1, p // 100))
    signal = X @ beta
    y = signal + signal.std() / 3 * rng.standard_normal(n)
    return torch.from_numpy(X), torch.from_numpy(y)


def gap(X, y, coef, alpha, l1_ratio):
    c = torch.as_tensor(np.asarray(coef), dtype=torch.float64)
    return float(lt.duality_gap(X, y, c, alpha, l1_ratio, relative=True))


def timed(fn, repeats):
    return bench_glm.timed(fn, repeats, budget=5.0)


def peers(l1_ratio):
    table = [("scikit-learn", "sklearn.linear_model"), ("skglm", "skglm"), ("celer", "celer")]
    out = {}
    for name, module in table:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        cls = mod.Lasso if l1_ratio == 1 else mod.ElasticNet

        def fit(X, y, a, tol, cls=cls):
            kw = {} if l1_ratio == 1 else {"l1_ratio": l1_ratio}
            return cls(alpha=a, tol=tol, max_iter=100_000, **kw).fit(X, y).coef_
        out[name] = fit
    return out


def row(name, X, y, frac, l1_ratio, repeats):
    amax = float(lt.alpha_max(X, y, l1_ratio))
    a = frac * amax
    out = {"class": name, "frac": frac}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in SOLVERS:
            t, res = timed(lambda s=s: lt.solve(X, y, a, l1_ratio, s, tol=TARGET,
                                                max_iter=100_000), repeats)
            out[s] = t if gap(X, y, res.coef, a, l1_ratio) <= TARGET else np.inf
            if s == "auto":
                out["auto_is"] = res.solver
        for pname, fit in peers(l1_ratio).items():
            Xn, yn, tol = X.numpy(), y.numpy(), 1e-6
            for _ in range(6):
                t, coef = timed(lambda tol=tol, f=fit, Xn=Xn, yn=yn: f(Xn, yn, a, tol),
                                repeats)
                if gap(X, y, coef, a, l1_ratio) <= TARGET:
                    break
                tol /= 10
            out[pname] = t if gap(X, y, coef, a, l1_ratio) <= TARGET else np.inf
    return out


def main(quick: bool = True, repeats: int = 3) -> list[dict]:
    n = 40 if quick else 100
    Xv, yv = block_design(n, 250 * n)
    Xw, yw = block_design(200, 2000, seed=1)
    rows = []
    for name, X, y, l1 in (("very-wide", Xv, yv, 1.0), ("enet wide", Xw, yw, 0.5)):
        for frac in (0.1, 0.01):
            r = row(f"{name} {X.shape[0]}x{X.shape[1]}", X, y, frac, l1, repeats)
            rows.append(r)
            cells = [f"{1e3 * r[k]:.3g}" if np.isfinite(r[k]) else "—"
                     for k in (*SOLVERS, *peers(l1))]
            print(f"| {r['class']} | {frac:g} | " + " | ".join(cells) + f" | {r['auto_is']} |",
                  flush=True)
    return rows


if __name__ == "__main__":
    torch.set_num_threads(1)
    print("| class | α/α_max | " + " | ".join(f"{s} [ms]" for s in SOLVERS)
          + " | scikit-learn [ms] | skglm [ms] | celer [ms] | auto ran |")
    main()
