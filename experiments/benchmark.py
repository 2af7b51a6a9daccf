"""Speed benchmark: lasso_torch's solvers and paths against scikit-learn, celer and skglm.

Everything is measured in this one process with the thread pools pinned (threadpoolctl for
numpy/scipy/numba's BLAS, ``torch.set_num_threads`` for torch). The convention is
scikit-learn's objective; "solved" means a relative duality gap ``gap / P(0) <= 1e-6``,
computed by this script in float64 for every solver (``lt.duality_gap``), whatever the
solver says about itself. A peer whose own tolerance does not reach that gap is re-run
with a tolerance ten times smaller (up to four times); the row reports the tolerance used.

Rows (JSON and a markdown table under ``--out``):

* single problems (``alpha = 0.1`` and ``0.01 x alpha_max``): time to the gap (median of
  ``--repeats``), iterations, ms per iteration and, for ISTA/FISTA, the per-iteration time
  divided by the *floor*: one ``X @ w`` plus one ``X.T @ r`` (one ``G @ w`` in Gram form)
  timed in the same run, interleaved step by step with the solver's own steps (for
  ISTA/FISTA the ms/iter column is that median step, without the gap checks);
* the 100-alpha path (``alpha_max`` down to ``1e-3 alpha_max``), every alpha certified:
  ``lt.lasso_path`` batched and warm-started against ``sklearn.linear_model.lasso_path``
  and ``celer_path``.

* ``--device cuda``: the project's solvers and paths run on the GPU (the peers stay on the
  CPU, so the path rows are the GPU's speed-up over scikit-learn on the CPU), plus the
  *large* workload (``--large-shape``, default n=100000, p=10000, float32 and float64): ms
  per FISTA/ISTA step, the bandwidth it achieves (the two passes over ``X`` a step needs)
  as a fraction of the device's copy bandwidth measured in the same run, and the time to
  the gap with ``ws`` and ``fista``. ``--large`` adds that workload on any device.

Usage::

    python experiments/benchmark.py --quick         # about a minute, smaller workloads
    python experiments/benchmark.py                 # the full run behind BENCHMARK.md
    python experiments/benchmark.py --device cuda   # GPU rows (needs CUDA)
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import lasso_torch as lt
from lasso_torch.data import load_diabetes, make_synthetic, standardize

TARGET = 1e-6


# --- workloads --------------------------------------------------------------------------
def workloads(quick: bool) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    if quick:
        corr = make_synthetic(200, 1000, correlation=0.6, density=0.05, snr=3.0, seed=0)
        tall = make_synthetic(5000, 200, correlation=0.5, density=0.05, snr=3.0, seed=0)
    else:
        corr = make_synthetic(500, 5000, correlation=0.6, density=0.05, snr=3.0, seed=0)
        tall = make_synthetic(20000, 500, correlation=0.5, density=0.05, snr=3.0, seed=0)
    Xd, yd = load_diabetes()
    Xd = standardize(Xd)[0]
    return {"sim-corr": corr[:2], "sim-tall": tall[:2], "diabetes": (Xd, yd)}


def rel_gap(X: torch.Tensor, y: torch.Tensor, coef, alpha) -> float:
    """The benchmark's own certificate: float64 relative duality gap (max over columns)."""
    coef = torch.as_tensor(np.asarray(coef), dtype=torch.float64)
    alpha = torch.as_tensor(np.asarray(alpha), dtype=torch.float64)
    return float(lt.duality_gap(X.double(), y.double(), coef, alpha, relative=True).max())


LONG = 5.0  # seconds: a run this long is measured once (its noise is small against it)


def median_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median over ``repeats`` runs, or the one run when it took more than :data:`LONG`."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
        if times[-1] > LONG:
            break
    return statistics.median(times), out


def floor_ms(X: torch.Tensor, y: torch.Tensor, gram: bool, repeats: int = 50) -> float:
    """Median time of one ``X @ w`` plus one ``X.T @ r`` (or one ``G @ w``), in ms."""
    w = torch.randn(X.shape[1], dtype=X.dtype, generator=torch.Generator().manual_seed(0))
    w = w.to(X.device)
    G = X.T @ X if gram else None
    sync = torch.cuda.synchronize if X.is_cuda else (lambda: None)
    times = []
    for _ in range(repeats):
        sync()
        t = time.perf_counter()
        if gram:
            _ = G @ w
        else:
            r = y - X @ w
            _ = X.T @ r
        sync()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


# --- project solvers ----------------------------------------------------------------------
def run_project(X, y, alpha, solver, dtype, repeats, budget, device="cpu"):
    Xd, yd = X.to(device, dtype), y.to(device, dtype)
    with warnings.catch_warnings():  # first-call costs (torch.optim's lazy imports) untimed
        warnings.simplefilter("ignore")
        lt.solve(Xd[:50, :20], yd[:50], alpha, solver=solver, max_iter=5)
    t0 = time.perf_counter()

    def stop(*_):
        return time.perf_counter() - t0 > budget

    def once():
        nonlocal t0
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = lt.solve(Xd, yd, alpha, solver=solver, tol=TARGET, max_iter=100_000,
                           callback=stop)
        _sync(Xd)
        return out
    t, res = median_time(once, 1)
    if res.status != "stopped" and repeats > 1:  # out of budget: one run says enough
        t, res = median_time(once, repeats)
    gap = rel_gap(X, y, res.coef.cpu(), alpha)
    row = dict(solver=f"lasso_torch {solver}", dtype=str(dtype).replace("torch.", ""),
               time_s=t, n_iter=res.n_iter, ms_per_iter=1e3 * t / max(res.n_iter, 1),
               gap=gap, solved=gap <= TARGET, status=res.status)
    return row


def _sync(t: torch.Tensor) -> None:
    if t.is_cuda:
        torch.cuda.synchronize(t.device)


def per_iteration(X, y, alpha, solver, dtype, n_iter=100, device="cpu"):
    """``(ms per ISTA/FISTA step, ms per floor)``, medians over steps interleaved with floors.

    The engine is the one ``lt.solve`` runs (no checks inside: the loop's checks come every
    ``check_every`` steps); each step is timed alone and followed by one floor operation
    (``X @ w`` plus ``X.T @ r``, or ``G @ w`` in Gram form), so load on a shared machine
    hits both alike.
    """
    from lasso_torch.penalties import make_penalty
    from lasso_torch.solvers import ProximalEngine

    Xd, yd = X.to(device, dtype), y.to(device, dtype)
    df = lt.Quadratic(Xd, yd)
    w0 = torch.zeros(X.shape[1], dtype=dtype, device=Xd.device)
    eng = ProximalEngine(df, make_penalty(alpha, 1.0), w0, lr=1.0 / float(df.lipschitz),
                         accelerated=solver == "fista")
    G = df.gram if df.use_gram else None
    w = torch.randn(X.shape[1], dtype=dtype, generator=torch.Generator().manual_seed(0))
    w = w.to(Xd.device)
    sync = torch.cuda.synchronize if Xd.is_cuda else (lambda: None)
    steps, floors = [], []
    for i in range(n_iter + 5):
        sync()
        t = time.perf_counter()
        eng.step()
        sync()
        t1 = time.perf_counter()
        _ = G @ w if G is not None else Xd.T @ (yd - Xd @ w)
        sync()
        t2 = time.perf_counter()
        if i >= 5:
            steps.append(t1 - t)
            floors.append(t2 - t1)
    return 1e3 * statistics.median(steps), 1e3 * statistics.median(floors)


# --- peers ---------------------------------------------------------------------------------
def peers() -> dict[str, Callable | str]:
    """Peer fitters ``fit(X, y, alpha, tol) -> (coef, n_iter)``, or why one is missing."""
    table = [  # name, module, its Lasso class, max_iter
        ("scikit-learn CD", "sklearn.linear_model", "Lasso", 1_000_000),
        ("celer", "celer", "Lasso", 1000),
        ("skglm", "skglm", "Lasso", 1000),
    ]
    out: dict[str, Callable | str] = {}
    for name, module, cls_name, max_iter in table:
        try:
            cls = getattr(importlib.import_module(module), cls_name)
        except ImportError as e:
            out[name] = f"not installed ({e})"
            continue

        def fit(X, y, a, tol, cls=cls, max_iter=max_iter):
            m = cls(alpha=a, tol=tol, max_iter=max_iter).fit(X, y)
            return m.coef_, getattr(m, "n_iter_", -1)
        out[name] = fit
    return out


def run_peer(name, fit, X, y, alpha, repeats):
    Xn, yn = X.numpy(), y.numpy()
    fit(Xn[:50], yn[:50], alpha, 1e-2)  # JIT warm-up (numba) outside the timing
    tol = TARGET / 2 if name.startswith("scikit") else TARGET
    for _ in range(5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, (coef, n_iter) = median_time(lambda tol=tol: fit(Xn, yn, alpha, tol), repeats)
        gap = rel_gap(X, y, coef, alpha)
        if gap <= TARGET:
            break
        tol /= 10
    n_iter = int(np.max(n_iter)) if n_iter is not None else -1
    return dict(solver=name, dtype="float64", time_s=t, n_iter=n_iter,
                ms_per_iter=1e3 * t / max(n_iter, 1), gap=gap, solved=gap <= TARGET,
                status=f"tol={tol:.0e}")


# --- paths -----------------------------------------------------------------------------------
def run_paths(X, y, n_alphas, budget, quick, device="cpu", project=True):
    """The 100-alpha path rows: the project's batched and warm ``ws`` paths (unless
    ``project`` is False), scikit-learn's and celer's, each certified by ``duality_gap``."""
    rows = []
    alphas = lt.path.alpha_grid(X, y, n_alphas, 1e-3)
    Xd, yd = X.to(device), y.to(device)
    where = "" if device == "cpu" else f" ({device})"
    for batched in (True, False) if project else ():
        name = ("lasso_torch batched" if batched else "lasso_torch warm (ws)") + where
        kw = dict(max_time=budget) if batched else dict(solver="ws")

        def fit(b=batched, kw=kw):
            out = lt.lasso_path(Xd, yd, alphas=alphas.to(device), tol=TARGET, batched=b, **kw)
            _sync(Xd)
            return out
        t, res = median_time(fit, 1)
        gaps = lt.duality_gap(X, y, res.coefs.cpu(), alphas, relative=True)
        rows.append(dict(solver=name, time_s=t, certified=int((gaps <= TARGET).sum()),
                         n_alphas=n_alphas, max_gap=float(gaps.max()), tol="1e-06"))
    Xc, yc = (X - X.mean(0)).numpy(), (y - y.mean()).numpy()
    a_np = alphas.numpy()
    fns = {}
    try:
        from sklearn.linear_model import lasso_path as sk_path
        fns["scikit-learn lasso_path"] = lambda tol: sk_path(
            Xc, yc, alphas=a_np, tol=tol, max_iter=1_000_000)[1]
    except ImportError as e:
        rows.append(dict(solver="scikit-learn lasso_path", note=f"not installed ({e})"))
    try:
        from celer import celer_path
        celer_path(Xc[:50], yc[:50], "lasso", alphas=a_np[:2], tol=1e-2)  # JIT warm-up
        fns["celer_path"] = lambda tol: celer_path(Xc, yc, "lasso", alphas=a_np, tol=tol)[1]
    except ImportError as e:
        rows.append(dict(solver="celer_path", note=f"not installed ({e})"))
    for name, fn in fns.items():
        tol = TARGET / 2 if name.startswith("scikit") else TARGET
        total = 0.0
        for _ in range(4):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t, coefs = median_time(lambda fn=fn, tol=tol: fn(tol), 1)
            total += t
            gaps = lt.duality_gap(X, y, torch.from_numpy(np.asarray(coefs)), alphas,
                                  relative=True)
            ok = int((gaps <= TARGET).sum())
            if ok == n_alphas or total > budget:
                break
            tol /= 10
        rows.append(dict(solver=name, time_s=t, certified=ok, n_alphas=n_alphas,
                         max_gap=float(gaps.max()), tol=f"{tol:.0e}"))
    return rows


# --- the large workload (GPU) ----------------------------------------------------------------
def copy_bandwidth(device: str, nbytes: int = 1 << 30, repeats: int = 10) -> float:
    """Bytes per second of one device-to-device copy (read + write), median of ``repeats``."""
    a = torch.empty(nbytes // 4, dtype=torch.float32, device=device).uniform_()
    b = torch.empty_like(a)
    times = []
    for _ in range(repeats + 1):
        _sync(a)
        t = time.perf_counter()
        b.copy_(a)
        _sync(a)
        times.append(time.perf_counter() - t)
    del a, b
    return 2 * nbytes / statistics.median(times[1:])


def large_rows(shape: tuple[int, int], device: str, budget: float,
               copy_bytes: int = 1 << 30) -> tuple[list[dict], float]:
    """Per-step time and bandwidth of ISTA/FISTA, and time to 1e-6, on one large problem."""
    n, p = shape
    X, y, _ = make_synthetic(n, p, correlation=0.5, density=0.01, snr=3.0, seed=0)
    alpha = 0.1 * float(lt.alpha_max(X, y))
    bw = copy_bandwidth(device, copy_bytes)
    gram = n >= 4 * p and p <= 8192  # Quadratic's rule: then a step reads G, not X twice
    rows = []
    for dtype in (torch.float32, torch.float64):
        size = torch.finfo(dtype).bits // 8
        for solver in ("fista", "ista"):
            ms, fl = per_iteration(X, y, alpha, solver, dtype, n_iter=50, device=device)
            moved = (p * p if gram else 2 * n * p) * size  # G @ w, or X @ w and X.T @ r
            rows.append(dict(workload=f"large {n}x{p}", solver=f"lasso_torch {solver}",
                             dtype=str(dtype)[6:], ms_per_iter=ms, floor_ms=fl,
                             floor_ratio=ms / fl, gb_s=moved / (ms / 1e3) / 1e9,
                             bw_fraction=moved / (ms / 1e3) / bw))
        for solver in ("ws", "fista"):
            row = run_project(X, y, alpha, solver, dtype, 1, budget, device=device)
            row.update(workload=f"large {n}x{p}", frac=0.1)
            rows.append(row)
        print("  large", dtype, flush=True)
    return rows, bw


def text_like(n: int, p: int, density: float, seed: int = 0):
    """A bag-of-words-like design as scipy CSR: column (term) frequencies follow a Zipf law,
    values are log(1 + counts) (tf), ``density * n * p`` stored entries; ``y`` from 50
    active terms plus noise."""
    from scipy import sparse as scipy_sparse

    rng = np.random.default_rng(seed)
    nnz = int(density * n * p)
    freq = 1.0 / np.arange(1, p + 1) ** 1.1
    cols = rng.choice(p, size=nnz, p=freq / freq.sum())
    rows = rng.integers(0, n, size=nnz)
    vals = np.log1p(rng.geometric(0.5, size=nnz)).astype(np.float64)
    X = scipy_sparse.csr_matrix((vals, (rows, cols)), shape=(n, p))
    X.sum_duplicates()
    beta = np.zeros(p)
    active = rng.choice(np.arange(10, min(p, 5000)), 50, replace=False)
    beta[active] = rng.choice([-1.0, 1.0], 50) * rng.uniform(1, 3, 50)
    signal = X @ beta
    return X, signal + rng.standard_normal(n) * signal.std()


def sparse_rows(shape: tuple[int, int], density: float, device: str, budget: float,
                frac: float = 0.1) -> list[dict]:
    """Time to relative gap 1e-6 on a sparse text-like design (never densified): FISTA on
    torch CSR (``device``) against scikit-learn's sparse coordinate descent."""
    from sklearn.linear_model import Lasso

    from lasso_torch.sparse import from_scipy

    n, p = shape
    A, y = text_like(n, p, density)
    X = from_scipy(A, torch.float64, device)
    yt = torch.as_tensor(y, device=device)
    alpha = frac * float(lt.alpha_max(X, yt))
    base = dict(workload=f"sparse text-like {n}x{p} ({A.nnz / (n * p):.3%})", frac=frac)
    rows = []
    for solver in ("fista", "ista"):
        t0 = time.perf_counter()
        res = lt.solve(X, yt, alpha, 1.0, solver, tol=TARGET, max_iter=1_000_000, warn=False,
                       callback=lambda k, w, c, t0=t0: time.perf_counter() - t0 > budget)
        sec = time.perf_counter() - t0
        rows.append(dict(base, solver=f"lasso_torch {solver} ({device}, CSR)", time=sec,
                         n_iter=res.n_iter, rel_gap=float(res.gap), nnz_coef=int(
                             (res.coef != 0).sum()), status=res.status))
        print("  sparse", rows[-1], flush=True)
    t0 = time.perf_counter()
    sk = Lasso(alpha=alpha, tol=TARGET / 2, max_iter=100_000).fit(A, y)
    sec = time.perf_counter() - t0
    gap = float(lt.duality_gap(X.cpu(), yt.cpu(), torch.as_tensor(sk.coef_), alpha,
                               relative=True))
    rows.append(dict(base, solver="scikit-learn cd (scipy CSR)", time=sec, n_iter=sk.n_iter_,
                     rel_gap=gap, nnz_coef=int((sk.coef_ != 0).sum()), status="done"))
    print("  sparse", rows[-1], flush=True)
    return rows


# --- report ----------------------------------------------------------------------------------
def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "torch": torch.__version__,
           "numpy": np.__version__, "lasso_torch": lt.__version__}
    for mod in ("sklearn", "celer", "skglm", "threadpoolctl"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            out[mod] = "not installed"
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return f"{cpu}, {os.cpu_count()} cores, GPU: {gpu}"


def fmt(v, digits=3):
    if isinstance(v, float):
        if math.isnan(v):
            return "-"
        return f"{v:.2e}" if (abs(v) < 1e-2 and v != 0) else f"{v:.{digits}g}"
    return str(v)


def headline(report: dict) -> list[str]:
    """Time to relative gap 1e-6 (float64): the project's best solver against the peers."""
    peers_ = ("scikit-learn CD", "celer", "skglm")
    lines = ["| workload, α/α_max | lasso_torch best (solver) | " + " | ".join(peers_)
             + " | best / scikit-learn |", "|" + "---|" * (3 + len(peers_))]
    keys = dict.fromkeys((r["workload"], r["frac"]) for r in report["solves"])
    for w, f in keys:
        rows = [r for r in report["solves"] if r["workload"] == w and r["frac"] == f]
        ours = [r for r in rows if r["solver"].startswith("lasso_torch") and r.get("solved")
                and r.get("dtype") == "float64"]
        best = min(ours, key=lambda r: r["time_s"]) if ours else None
        cells = []
        for name in peers_:
            r = next((r for r in rows if r["solver"] == name), None)
            cells.append(fmt(r["time_s"]) + " s" if r and r.get("solved") else "-")
        sk = next((r for r in rows if r["solver"] == "scikit-learn CD" and r.get("solved")), None)
        ratio = fmt(best["time_s"] / sk["time_s"]) if best and sk else "-"
        b = (f"{fmt(best['time_s'])} s ({best['solver'].removeprefix('lasso_torch ')})"
             if best else "not solved")
        lines.append(f"| {w} {f} | {b} | " + " | ".join(cells) + f" | {ratio} |")
    return lines


def markdown(report: dict) -> str:
    lines = [f"Measured {report['date']} on {report['machine']}; threads {report['threads']}; "
             f"median of {report['repeats']} repeats; mode {report['mode']}.",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()), ""]
    lines += ["Time to relative duality gap <= 1e-6 (float64, gap recomputed by the benchmark):",
              ""] + headline(report) + ["", "All rows:", ""]
    lines += ["| workload | α/α_max | solver | dtype | time (s) | iters | ms/iter | "
              "iter/floor | rel. gap | solved | note |", "|" + "---|" * 11]
    for r in report["solves"]:
        lines.append(
            f"| {r['workload']} | {r['frac']} | {r['solver']} | {r.get('dtype', '')} | "
            f"{fmt(r.get('time_s', float('nan')))} | {r.get('n_iter', '')} | "
            f"{fmt(r.get('ms_per_iter', float('nan')))} | {fmt(r.get('floor_ratio', ''))} | "
            f"{fmt(r.get('gap', float('nan')))} | {r.get('solved', '')} | "
            f"{r.get('status', r.get('note', ''))} |")
    lines += ["", "Floor (one X@w + one X.T@r, or one G@w in Gram form), ms:", ""]
    for k, v in report["floors"].items():
        lines.append(f"- {k}: {v:.4g}")
    lines += ["", f"Regularization path ({report['n_alphas']} α, α_max to 1e-3 α_max, every α "
              "certified to relative gap 1e-6 by this script):", "",
              "| workload | solver | time (s) | certified | max rel. gap | tol used |",
              "|---|---|---|---|---|---|"]
    for r in report["paths"]:
        if "note" in r:
            lines.append(f"| {r['workload']} | {r['solver']} | - | - | - | {r['note']} |")
        else:
            lines.append(f"| {r['workload']} | {r['solver']} | {fmt(r['time_s'])} | "
                         f"{r['certified']}/{r['n_alphas']} | {fmt(r['max_gap'])} | {r['tol']} |")
    if report.get("large"):
        lines += ["", f"Large workload on {report['device']} (α = 0.1 α_max; copy bandwidth "
                  f"measured in this run: {report['copy_bandwidth'] / 1e9:.0f} GB/s):", "",
                  "| workload | solver | dtype | ms/step | floor ms | step/floor | GB/s | "
                  "of copy bandwidth | time to 1e-6 (s) | rel. gap | note |",
                  "|" + "---|" * 11]
        for r in report["large"]:
            lines.append(
                f"| {r['workload']} | {r['solver']} | {r['dtype']} | "
                f"{fmt(r.get('ms_per_iter', float('nan')))} | "
                f"{fmt(r.get('floor_ms', float('nan')))} | "
                f"{fmt(r.get('floor_ratio', float('nan')))} | {fmt(r.get('gb_s', float('nan')))} | "
                f"{fmt(r.get('bw_fraction', float('nan')))} | "
                f"{fmt(r['time_s']) if 'time_s' in r else '-'} | "
                f"{fmt(r.get('gap', float('nan')))} | {r.get('status', '')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small workloads, ~1 minute")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads for torch and numpy/scipy/numba (one: fair on a shared box)")
    ap.add_argument("--repeats", type=int, default=None, help="default 3 (quick: 1)")
    ap.add_argument("--out", default="runs/benchmark")
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds allowed per solve / path (default 10 / 400; quick 5 / 15)")
    ap.add_argument("--no-path", action="store_true")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                    help="where the project's solvers run (the peers always on the CPU)")
    ap.add_argument("--large", action="store_true",
                    help="add the large workload (on by default with --device cuda)")
    ap.add_argument("--large-shape", default="100000x10000", help="n x p of the large workload")
    ap.add_argument("--sparse", action="store_true",
                    help="add the sparse text-like row (torch CSR, never densified)")
    ap.add_argument("--sparse-shape", default="100000x100000", help="n x p of the sparse row")
    ap.add_argument("--sparse-density", type=float, default=1e-3)
    args = ap.parse_args(argv)
    device = args.device
    if device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda, but torch sees no CUDA device", file=sys.stderr)
        return 2
    try:
        large_shape = tuple(int(v) for v in args.large_shape.lower().split("x"))
        assert len(large_shape) == 2 and min(large_shape) > 0
    except (ValueError, AssertionError):
        print(f"error: --large-shape: expected NxP, got {args.large_shape!r}", file=sys.stderr)
        return 2
    quick = args.quick
    repeats = args.repeats or (1 if quick else 3)
    solve_budget = args.budget or (5.0 if quick else 10.0)
    path_budget = args.budget or (15.0 if quick else 400.0)
    n_alphas = 20 if quick else 100

    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(args.threads)
    except ImportError:
        limiter = None
        print("threadpoolctl not installed: numpy/scipy thread pools are not pinned")
    report = dict(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine=machine(),
                  threads=args.threads, repeats=repeats, mode="quick" if quick else "full",
                  versions=versions(), solves=[], floors={}, paths=[], n_alphas=n_alphas,
                  device=device)
    peer_fns = peers()
    for name, (X, y) in workloads(quick).items():
        n, p = X.shape
        amax = float(lt.alpha_max(X, y))
        gram = n >= 4 * p and p <= 8192
        for dtype in (torch.float64, torch.float32):
            fl = floor_ms(X.to(device, dtype), y.to(device, dtype), gram)
            report["floors"][f"{name} {str(dtype)[6:]} ({'Gram' if gram else 'X, X.T'})"] = fl
        for frac in (0.1, 0.01):
            alpha = frac * amax
            print(f"{name} (n={n}, p={p}) alpha = {frac} alpha_max", flush=True)
            for solver in ("ws", "fista", "ista", "cd"):
                for dtype in (torch.float64, torch.float32):
                    if solver == "cd" and (dtype == torch.float32 or p > 1000
                                           or device != "cpu"):
                        continue  # host numpy loop per coordinate: the reference, not fast
                    row = run_project(X, y, alpha, solver, dtype, repeats, solve_budget, device)
                    if device != "cpu":
                        row["solver"] += f" ({device})"
                    if solver in ("ista", "fista"):
                        ms, fl = per_iteration(X, y, alpha, solver, dtype, device=device)
                        row.update(floor_ratio=ms / fl, ms_per_iter=ms, floor_ms=fl)
                    row.update(workload=name, frac=frac)
                    report["solves"].append(row)
                    print("  ", {k: fmt(v) for k, v in row.items()}, flush=True)
            for pname, fit in peer_fns.items():
                if isinstance(fit, str):
                    row = dict(solver=pname, note=fit)
                else:
                    row = run_peer(pname, fit, X, y, alpha, repeats)
                row.update(workload=name, frac=frac)
                report["solves"].append(row)
                print("  ", {k: fmt(v) for k, v in row.items()}, flush=True)
        if not args.no_path and name != "diabetes":
            for r in run_paths(X, y, n_alphas, path_budget, quick, device):
                r["workload"] = name
                report["paths"].append(r)
                print("  path", {k: fmt(v) for k, v in r.items()}, flush=True)
    if args.large or device == "cuda":
        report["large"], report["copy_bandwidth"] = large_rows(large_shape, device,
                                                               solve_budget * 6)
    if args.sparse:
        shape = tuple(int(v) for v in args.sparse_shape.lower().split("x"))
        report["sparse"] = sparse_rows(shape, args.sparse_density, device, solve_budget * 30)
    if device == "cuda":
        report["gpu"] = f"measured on {torch.cuda.get_device_name(0)} (rows marked (cuda))"
    elif torch.cuda.is_available():
        report["gpu"] = "CUDA present but not used: rerun with --device cuda"
    else:
        report["gpu"] = "not measured: no GPU in this session"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark.json").write_text(json.dumps(report, indent=1, default=str))
    md = markdown(report) + f"\nGPU: {report['gpu']}\n"
    (out / "benchmark.md").write_text(md)
    print(md)
    if limiter is not None:
        limiter.unregister() if hasattr(limiter, "unregister") else None
    return 0


if __name__ == "__main__":
    sys.exit(main())
