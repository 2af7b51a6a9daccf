"""Audit of the final certificate (issue 22): is every "converged" true, and what does the
certificate cost?

1. **Audit**: for each loss x {float32, float64} x {centered, column means 1e5, means 1e7},
   random problems (shapes, alpha, solver drawn at random) solved with ``lt.solve``; each
   "converged" is checked against the relative duality gap recomputed by the tests'
   independent float64 formula (``tests/test_final_certificate.py``: numpy, explicitly
   centered data, written apart from the package). Columns: problems, converged, converged
   with a true gap above tol (must be 0), the median cost of the final certificate as a
   share of the solve.
2. **Cost** on the benchmark classes (``bench_classes.py``'s shapes, float64, ``auto``):
   the time of ``lt.solve`` and of its final certificate alone
   (:func:`lasso_torch.certificates.final_certificate` on the returned answer), and the
   fixed cost of one ``lt.solve`` call on 60 x 25 against scikit-learn's ``Lasso.fit``.

Usage::

    python experiments/certificate_audit.py [--problems 40] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from test_final_certificate import SOLVERS, _problem, true_gap  # noqa: E402

import lasso_torch as lt  # noqa: E402
from lasso_torch.certificates import final_certificate  # noqa: E402
from lasso_torch.data import make_synthetic  # noqa: E402
from lasso_torch.penalties import L1  # noqa: E402
from lasso_torch.problem import alpha_max, make_datafit  # noqa: E402

TOL = 1e-6


def _cert_time(X, y, res, loss, alpha, repeats=3):
    df = make_datafit(None if loss == "squared" else loss, torch.as_tensor(X),
                      torch.as_tensor(y, dtype=torch.as_tensor(X).dtype))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        final_certificate(torch.as_tensor(X), torch.as_tensor(y).to(torch.as_tensor(X).dtype),
                          res.coef, L1(alpha), df)
        best = min(best, time.perf_counter() - t0)
    return best


def audit(problems: int) -> list[str]:
    rng = np.random.default_rng(0)
    lines = ["| loss | dtype | column means | problems | converged | converged, true gap > tol "
             "| certificate / solve (median) |", "|---|---|---|---|---|---|---|"]
    for loss in SOLVERS:
        for dtype in (np.float32, np.float64):
            for shift in (0.0, 1e5, 1e7):
                conv = wrong = 0
                shares = []
                for _ in range(problems):
                    n, p = int(rng.integers(10, 300)), int(rng.integers(2, 60))
                    X, y = _problem(int(rng.integers(1 << 30)), n, p, loss, shift, dtype)
                    X64, y64 = X.astype(np.float64), np.asarray(y, np.float64)
                    top = float(alpha_max(make_datafit(
                        None if loss == "squared" else loss, torch.as_tensor(X64),
                        torch.as_tensor(y64)), L1(1.0)))
                    alpha = float(rng.choice([0.5, 0.1, 0.02])) * top
                    solver = str(rng.choice(SOLVERS[loss]))
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        t0 = time.perf_counter()
                        res = lt.solve(X, y, alpha=alpha, solver=solver, tol=TOL,
                                       max_iter=1000, loss=None if loss == "squared" else loss)
                        spent = time.perf_counter() - t0
                    shares.append(_cert_time(X, y, res, loss, alpha, 1) / spent)
                    if res.status == "converged":
                        conv += 1
                        wrong += true_gap(X64, y64, res.coef.double().numpy(), alpha,
                                          loss) > TOL + 1e-9
                lines.append(f"| {loss} | {np.dtype(dtype).name} | "
                             f"{'centered' if shift == 0 else f'{shift:.0e}'} | {problems} | "
                             f"{conv} | {wrong} | {np.median(shares):.1%} |")
    return lines


def cost(quick: bool) -> list[str]:
    shapes = {"tiny": (50, 30), "wide": (100, 1000) if quick else (200, 2000),
              "tall": (5000, 100) if quick else (20000, 200),
              "large-wide": (500, 5000) if quick else (1000, 20000)}
    lines = ["| class (n x p) | alpha/alpha_max | solver | solve (s) | final certificate (s) "
             "| share |", "|---|---|---|---|---|---|"]
    for name, (n, p) in shapes.items():
        X, y, _ = make_synthetic(n, p, correlation=0.6, density=0.02 if p > 500 else 0.1,
                                 snr=3.0, seed=1)
        for frac in (0.1, 0.02):
            alpha = frac * float(lt.alpha_max(X, y))
            lt.solve(X, y, alpha)  # compile / warm
            t0 = time.perf_counter()
            res = lt.solve(X, y, alpha)
            spent = time.perf_counter() - t0
            c = _cert_time(X.numpy(), y.numpy(), res, "squared", alpha)
            lines.append(f"| {name} ({n} x {p}) | {frac} | {res.solver} | {spent:.4f} | "
                         f"{c:.5f} | {c / spent:.1%} |")
    return lines


def overhead(repeats: int = 200) -> str:
    from sklearn.linear_model import Lasso

    X, y, _ = make_synthetic(60, 25, seed=0)
    Xn, yn = X.numpy(), y.numpy()
    alpha = 0.1 * float(lt.alpha_max(X, y))
    lt.solve(X, y, alpha)

    def best(fn):
        out = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            out = min(out, time.perf_counter() - t0)
        return out

    ours = best(lambda: lt.solve(X, y, alpha))
    res = lt.solve(X, y, alpha)
    cert = best(lambda: final_certificate(X, y, res.coef, L1(alpha),
                                          make_datafit(None, X, y)))
    sk = best(lambda: Lasso(alpha=alpha, tol=1e-6 / 2).fit(Xn, yn))
    return (f"one call on 60 x 25 (min of {repeats}): lt.solve {ours * 1e3:.3f} ms, of which "
            f"the final certificate {cert * 1e3:.3f} ms; scikit-learn Lasso.fit "
            f"{sk * 1e3:.3f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=40)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"# certificate audit ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"torch {torch.__version__}, 1 thread)\n")
    print("\n".join(audit(args.problems)), "\n")
    print("\n".join(cost(args.quick)), "\n")
    print(overhead())


if __name__ == "__main__":
    main()
