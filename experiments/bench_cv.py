"""Benchmark: ``TorchLassoCV`` against scikit-learn's ``LassoCV``, 5 folds x 100 alphas.

Both estimators get the same folds (``KFold(5, shuffle=True, random_state=0)``), the same
grid (100 alphas from ``alpha_max`` down to ``1e-3 alpha_max``) and the same ``tol`` in
scikit-learn's meaning (``dual_gap <= tol ||y_c||^2 / n``, i.e. relative gap ``2 tol``).
``TorchLassoCV`` solves all 5 x 100 problems in one ``lt.lasso_path`` call (the folds as
row masks; ``strategy="auto"``: on the CPU each fold's warm sequence, the compiled CD path
on its Gram matrix when ``n >= p``, working sets when ``n < p``), then refits at
``alpha_``; ``LassoCV`` runs one warm-started coordinate-descent path per fold. The time
is the whole ``fit`` (median of ``--repeats``; one fit when it takes over a minute), with
torch's and the BLAS thread pools pinned to ``--threads`` (default 1), after one warm-up
fit. Each row also reports whether both chose the same ``alpha_`` and how far their
``mse_path_`` are apart.

GPU rows (``device="cuda"``, float64 and float32) are measured when CUDA is present.

Usage::

    python experiments/bench_cv.py --quick      # smaller problems, ~half a minute
    python experiments/bench_cv.py              # the rows reported in BENCHMARK.md
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.linear_model import LassoCV
from sklearn.model_selection import KFold

import lasso_torch as lt
from lasso_torch.data import load_diabetes, make_synthetic, standardize
from lasso_torch.sklearn import TorchLassoCV


def workloads(quick: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    Xd, yd = load_diabetes()
    out = {"diabetes (standardized)": (standardize(Xd)[0], yd)}
    if quick:
        out["sim p>n"] = make_synthetic(200, 1000, correlation=0.6, density=0.05, seed=0)[:2]
        out["sim tall"] = make_synthetic(5000, 100, correlation=0.5, density=0.1, seed=0)[:2]
    else:
        out["sim p>n"] = make_synthetic(500, 2000, correlation=0.6, density=0.05, seed=0)[:2]
        out["sim tall"] = make_synthetic(20000, 200, correlation=0.5, density=0.1, seed=0)[:2]
    return {k: (X.numpy(), y.numpy()) for k, (X, y) in out.items()}


def timed_fit(make, X, y, repeats, long_s=60.0):
    """Median wall time of ``make().fit(X, y)`` over ``repeats`` fits (one when a fit takes
    longer than ``long_s`` seconds) and the last fitted estimator."""
    times, est = [], None
    for _ in range(repeats):
        if times and times[0] > long_s:
            break
        est = make()
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        if str(getattr(est, "device", "cpu")).startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times), est


def compare(name, X, y, tol, n_alphas, repeats, devices):
    cv = KFold(5, shuffle=True, random_state=0)
    t_sk, ref = timed_fit(lambda: LassoCV(alphas=n_alphas, cv=cv, tol=tol, max_iter=100_000),
                          X, y, repeats)
    rows = [dict(workload=name, n=X.shape[0], p=X.shape[1], tol=tol, estimator="LassoCV",
                 device="cpu", dtype="float64", time_s=t_sk, alpha=float(ref.alpha_))]
    for device, dtype in devices:
        def make(device=device, dtype=dtype):
            return TorchLassoCV(alphas=n_alphas, cv=cv, tol=tol, max_iter=100_000,
                                device=device, dtype=dtype)
        t, est = timed_fit(make, X, y, repeats)
        mse_rel = float(np.max(np.abs(est.mse_path_ / ref.mse_path_ - 1)))
        rows.append(dict(workload=name, n=X.shape[0], p=X.shape[1], tol=tol,
                         estimator="TorchLassoCV", device=device, dtype=dtype, time_s=t,
                         alpha=float(est.alpha_), same_alpha=bool(est.alpha_ == ref.alpha_),
                         alpha_ratio=float(est.alpha_ / ref.alpha_), mse_path_rel=mse_rel,
                         speedup=t_sk / t))
    return rows


def markdown(rows) -> str:
    head = ("| workload | n x p | tol | estimator | device, dtype | fit time (s) | alpha_ | "
            "same alpha_ as LassoCV | max rel. diff mse_path_ | LassoCV time / this |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        same = "" if "same_alpha" not in r else ("yes" if r["same_alpha"] else
                                                  f"no (x{r['alpha_ratio']:.3g})")
        diff = f"{r['mse_path_rel']:.1e}" if "mse_path_rel" in r else ""
        speed = f"{r['speedup']:.2f}" if "speedup" in r else ""
        lines.append(f"| {r['workload']} | {r['n']} x {r['p']} | {r['tol']:g} | "
                     f"{r['estimator']} | {r['device']}, {r['dtype']} | {r['time_s']:.3f} | "
                     f"{r['alpha']:.4g} | {same} | {diff} | {speed} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller problems, one repeat")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch and BLAS threads (default 1: on a shared 2-core machine two "
                         "OpenMP threads made small solves vary by 100x)")
    ap.add_argument("--repeats", type=int, default=None, help="default 3 (quick: 1)")
    ap.add_argument("--tol", type=float, nargs="+", default=[1e-4, 1e-6],
                    help="scikit-learn tolerances to compare at (default 1e-4 1e-6)")
    ap.add_argument("--alphas", type=int, default=100)
    ap.add_argument("--out", default="experiments/out/bench_cv.json")
    args = ap.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:
        print("threadpoolctl not installed: the BLAS thread pool is not pinned")
    devices = [("cpu", "float64")]
    if torch.cuda.is_available():
        devices += [("cuda", "float64"), ("cuda", "float32")]
    rows = []
    data = workloads(args.quick)
    Xw, yw = data["diabetes (standardized)"]
    for device, dtype in devices:  # warm-up (first torch calls, CUDA context) outside timing
        TorchLassoCV(alphas=5, cv=3, device=device, dtype=dtype).fit(Xw, yw)
    for name, (X, y) in data.items():
        for tol in args.tol:
            for r in compare(name, X, y, tol, args.alphas, repeats, devices):
                rows.append(r)
                print({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()},
                      flush=True)
    report = dict(
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        machine=f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} "
                f"torch threads",
        versions=dict(torch=torch.__version__, sklearn=sklearn.__version__,
                      numpy=np.__version__, lasso_torch=lt.__version__),
        folds=5, n_alphas=args.alphas, repeats=repeats, threads=args.threads,
        gpu=("measured" if torch.cuda.is_available()
             else "not measured: no GPU in this session"),
        rows=rows,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(markdown(rows))
    print(f"GPU: {report['gpu']}\nwritten: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
