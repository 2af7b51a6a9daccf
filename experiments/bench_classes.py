"""Problem-class benchmark (issue 18): the default solver and the best one against scikit-learn,
celer and skglm, on the classes users bring, at four values of alpha, plus the 100-alpha path.

Classes (float64): ``tiny`` (50 x 30), ``small-real`` (diabetes with its pairwise
interactions and squares: 442 x 65, correlated columns), ``wide`` (p >> n, 200 x 2000,
correlated), ``tall`` (20000 x 200) and ``large-wide`` (1000 x 20000); ``--quick`` shrinks the
last three. alpha/alpha_max in {0.3, 0.1, 0.02, 0.005}. Time to a relative duality gap of
1e-6 recomputed by this script in float64 (``benchmark.rel_gap``), min of ``--repeats``;
the peers' tolerance is lowered until they reach it. Every row prints its ratio to
scikit-learn and to the fastest peer. The numba compile time (paid once per machine, then
cached on disk) is measured separately in fresh processes, and the fixed cost of one
``lt.solve`` call is compared with scikit-learn's whole ``Lasso.fit`` on 60 x 25.

Usage::

    python experiments/bench_classes.py --quick      # a few minutes
    python experiments/bench_classes.py              # the full table of BENCHMARK.md
    python experiments/bench_classes.py --extra      # issue 23's classes (GLMs, very wide)
    python experiments/bench_classes.py --sparse     # the sparse classes (bench_sparse.py)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
import benchmark as bm  # noqa: E402  (rel_gap, peers, run_peer: one definition)

import lasso_torch as lt  # noqa: E402
from lasso_torch.data import load_diabetes, make_synthetic, standardize  # noqa: E402

FRACTIONS = (0.3, 0.1, 0.02, 0.005)
SOLVERS = ("auto", "anderson_cd", "cd", "ws", "fista")


def classes(quick: bool) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    Xd, yd = load_diabetes()
    Xd = standardize(Xd)[0]
    pairs = [Xd[:, i] * Xd[:, j] for i, j in itertools.combinations_with_replacement(range(10), 2)]
    small = standardize(torch.cat([Xd, torch.stack(pairs, 1)], 1))[0]
    shapes = {"tiny": (50, 30), "wide": (100, 1000) if quick else (200, 2000),
              "tall": (5000, 100) if quick else (20000, 200),
              "large-wide": (500, 5000) if quick else (1000, 20000)}
    out = {"tiny": None, "small-real": (small, yd)}
    for name, (n, p) in shapes.items():
        X, y, _ = make_synthetic(n, p, correlation=0.6, density=0.02 if p > 500 else 0.1,
                                 snr=3.0, seed=1)
        out[name] = (X, y)
    return out


def run_ours(X, y, alpha, solver, repeats, budget):
    """``(time, result)``: min over repeats of one ``lt.solve`` to the target gap."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lt.solve(X[:40, :20], y[:40], alpha, solver=solver, max_iter=3)  # warm caches
        best, res = float("inf"), None
        for _ in range(repeats):
            t0 = time.perf_counter()
            res = lt.solve(X, y, alpha, solver=solver, tol=bm.TARGET, max_iter=1_000_000,
                           callback=lambda *_, t0=t0: time.perf_counter() - t0 > budget)
            best = min(best, time.perf_counter() - t0)
            if res.status == "stopped" or best > bm.LONG:  # one long run says enough
                break
    return best, res


def single_rows(data, repeats, budget):
    peers = {k: v for k, v in bm.peers().items() if callable(v)}
    rows = []
    for (name, (X, y)), frac in itertools.product(data.items(), FRACTIONS):
        alpha = frac * float(lt.alpha_max(X, y))
        row = {"class": name, "n": X.shape[0], "p": X.shape[1], "frac": frac}
        for s in SOLVERS:
            t, res = run_ours(X, y, alpha, s, repeats, budget)
            gap = bm.rel_gap(X, y, res.coef, alpha)
            row[s] = t if gap <= bm.TARGET else float("inf")
            if s == "auto":
                row["auto_is"] = res.solver
        for pname, fit in peers.items():
            out = bm.run_peer(pname, fit, X, y, alpha, repeats)
            row[pname] = out["time_s"] if out["solved"] else float("inf")
        best = min(SOLVERS[1:], key=lambda s: row[s])
        row["best"], row["best_is"] = row[best], best
        peer_times = [row[p] for p in peers]
        row["fastest_peer"] = min(peer_times) if peer_times else float("nan")
        rows.append(row)
        print(_line(row, list(peers)), flush=True)
    return rows, list(peers)


def path_rows(data, budget):
    rows = []
    for name, (X, y) in data.items():
        rows.extend(dict(r, **{"class": name}) for r in bm.run_paths(
            X, y, 100, budget, False, project=name != "large-wide"))  # auto's path only there
        t0 = time.perf_counter()
        res = lt.lasso_path(X, y, n_alphas=100, eps=1e-3, tol=bm.TARGET)  # strategy auto
        t = time.perf_counter() - t0
        gaps = lt.duality_gap(X, y, res.coefs, res.alphas, relative=True)
        rows.append({"class": name, "solver": f"lasso_torch auto ({res.strategy})",
                     "time_s": t, "certified": int((gaps <= bm.TARGET).sum()),
                     "n_alphas": 100, "max_gap": float(gaps.max())})
        print(f"path {name}: " + ", ".join(f"{r['solver']} {r.get('time_s', float('nan')):.3g}s"
                                          f" ({r.get('certified', '-')}/100)"
                                          for r in rows if r["class"] == name), flush=True)
    return rows


def step_rows(data) -> list[dict]:
    """ISTA/FISTA: ms per step against the floor (one ``X @ w`` and one ``X^T r``, or one
    ``G @ w`` in Gram form), interleaved step by step (``benchmark.per_iteration``)."""
    rows = []
    for name in ("wide", "tall", "large-wide"):
        X, y = data[name]
        alpha = 0.1 * float(lt.alpha_max(X, y))
        for solver, dtype in itertools.product(("ista", "fista"), (torch.float64, torch.float32)):
            step, floor = bm.per_iteration(X, y, alpha, solver, dtype, n_iter=60)
            rows.append({"class": name, "solver": solver, "dtype": str(dtype)[6:],
                         "step_ms": step, "floor_ms": floor, "ratio": step / floor})
            print(f"step {name} {solver} {rows[-1]['dtype']}: {step:.3g} ms, floor "
                  f"{floor:.3g} ms, {step / floor:.2f}x", flush=True)
    return rows


def overhead(repeats: int = 200) -> dict[str, float]:
    """Median ms of ``lt.solve`` (auto) and of scikit-learn's ``Lasso.fit`` on 60 x 25."""
    from sklearn.linear_model import Lasso

    X, y, _ = make_synthetic(60, 25, correlation=0.3, seed=0)
    a = 0.1 * float(lt.alpha_max(X, y))
    Xn, yn = X.numpy(), y.numpy()
    out = {}
    for name, fn in (("lt.solve", lambda: lt.solve(X, y, a)),
                     ("sklearn Lasso.fit", lambda: Lasso(alpha=a, tol=1e-6).fit(Xn, yn))):
        fn()
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        out[name] = 1e3 * float(np.median(ts))
    return out


def _fmt(t: float) -> str:
    return "—" if not np.isfinite(t) else f"{t * 1e3:.3g}"


def _line(row, peers) -> str:
    cols = [row["class"], str(row["frac"])] + [_fmt(row[s]) for s in SOLVERS]
    cols += [_fmt(row[p]) for p in peers]
    sk = row.get("scikit-learn CD", float("nan"))
    cols += [row["auto_is"], f"{row['auto'] / sk:.2f}", f"{row['best'] / sk:.2f}",
             f"{row['best'] / row['fastest_peer']:.2f}", row["best_is"]]
    return "| " + " | ".join(cols) + " |"


def markdown(rows, peers, paths, extra, steps=()) -> str:
    head = (["class", "α/α_max"] + [f"{s} [ms]" for s in SOLVERS] + [f"{p} [ms]" for p in peers]
            + ["auto ran", "auto / sklearn", "best / sklearn", "best / fastest peer", "best"])
    out = [extra, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += [_line(r, peers) for r in rows]
    out += ["", "| class | path solver | time [s] | certified / 100 | max gap |",
            "|---|---|---|---|---|"]
    for r in paths:
        if "time_s" in r:
            out.append(f"| {r['class']} | {r['solver']} | {r['time_s']:.3g} | "
                       f"{r['certified']} | {r['max_gap']:.2e} |")
    if steps:
        out += ["", "| class | solver | dtype | ms / step | floor [ms] | step / floor |",
                "|---|---|---|---|---|---|"]
        out += [f"| {r['class']} | {r['solver']} | {r['dtype']} | {r['step_ms']:.3g} | "
                f"{r['floor_ms']:.3g} | {r['ratio']:.2f} |" for r in steps]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", type=float, default=20.0)
    ap.add_argument("--no-path", action="store_true")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--out", default="runs/bench_classes")
    ap.add_argument("--extra", action="store_true",
                    help="only the classes of issue 23: very wide p = 250 n, elastic net "
                         "l1_ratio 0.5 (bench_classes_extra.py), the GLM classes "
                         "(bench_glm.py: logistic small-real, wide, tall; bench_glm_more.py: "
                         "Poisson, multinomial)")
    ap.add_argument("--sparse", action="store_true", help="the sparse classes only "
                    "(bench_sparse.py: text-like, one-hot, sparse logistic)")
    args = ap.parse_args()
    if args.sparse:
        return sparse_main(args)
    if args.extra:
        import bench_classes_extra
        import bench_glm
        import bench_glm_more

        torch.set_num_threads(1)
        bench_classes_extra.main(args.quick, args.repeats)
        sys.argv = [sys.argv[0], "--repeats", str(args.repeats)]
        bench_glm.main()
        bench_glm_more.main(args.repeats)
        return
    torch.set_num_threads(args.threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    extra = (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.threads} threads, "
             f"load average {os.getloadavg()[0]:.1f} at the start, "
             f"{'quick' if args.quick else 'full'} mode, min of {args.repeats}")
    if not args.no_compile:
        import bench_kernels

        c = bench_kernels.compile_times()
        extra += (f"; numba compile: {c['first']:.1f} s once per machine (empty cache), "
                  f"{c['cached']:.1f} s from the on-disk cache")
    ov = overhead()
    extra += "; per call on 60 x 25: " + ", ".join(f"{k} {v:.3f} ms" for k, v in ov.items())
    print(extra, flush=True)
    data = classes(args.quick)
    rows, peers = single_rows(data, args.repeats, args.budget)
    steps = step_rows(data)
    paths = [] if args.no_path else path_rows(data, 10 * args.budget)
    md = markdown(rows, peers, paths, extra, steps)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_classes.md").write_text(md + "\n")
    (out / "bench_classes.json").write_text(json.dumps(
        {"rows": rows, "paths": paths, "steps": steps, "overhead_ms": ov, "note": extra},
        default=str))
    print(md)


def sparse_main(args) -> None:
    """The sparse classes (issue 27): single alphas and 100-alpha paths, one process."""
    import bench_sparse

    torch.set_num_threads(args.threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.threads} threads, "
          f"load average {os.getloadavg()[0]:.1f}, min of {args.repeats}", flush=True)
    out = bench_sparse.run(args.quick, args.repeats, args.budget, paths=not args.no_path)
    path = Path(args.out)
    path.mkdir(parents=True, exist_ok=True)
    (path / "bench_sparse.json").write_text(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
