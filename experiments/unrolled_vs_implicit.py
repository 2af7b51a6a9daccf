"""Unrolled against implicit differentiation of a Lasso solution (issue 24, part 2): the
learned-ISTA setting.

Sparse coding of ``B`` signals against a dictionary ``D (n, p)`` (unit-norm atoms):
``C = argmin 1/(2n)||y_b - D c||^2 + alpha |c|_1`` for each signal, and the gradient of the
reconstruction loss ``sum_b ||y_b - D c_b||^2`` with respect to ``D`` and ``log alpha``.
The implicit gradient (:class:`lasso_torch.nn.LassoLayer`: certified solve to relative gap
1e-12, one system per support) is the reference; backpropagation through ``K`` ISTA or FISTA
steps (:class:`lasso_torch.nn.UnrolledLassoLayer`) approaches it as ``K`` grows. Reported
per ``K``: the relative error of the ``D`` gradient, the forward+backward time (min of 3)
and the memory autograd keeps for the backward (bytes of the distinct tensors saved,
counted by ``torch.autograd.graph.saved_tensors_hooks``; the implicit backward's own
workspace, ``X_S`` and ``H`` per signal, is added to its count).

Usage::

    OMP_NUM_THREADS=1 python experiments/unrolled_vs_implicit.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

import lasso_torch as lt  # noqa: E402

KS = (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def problem(n=64, p=128, B=16, k=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    D = torch.randn(n, p, generator=g, dtype=torch.float64)
    D = D / D.norm(dim=0)
    Z = torch.zeros(B, p, dtype=torch.float64)
    for b in range(B):
        Z[b, torch.randperm(p, generator=g)[:k]] = torch.randn(k, generator=g, dtype=torch.float64)
    Y = Z @ D.T + 0.05 * torch.randn(B, n, generator=g, dtype=torch.float64)
    alpha = 0.2 * float((D.T @ Y.T).abs().max()) / n
    return D, Y, alpha


def measure(layer, D, Y, repeats=3):
    """(gradient of D, gradient of log alpha, seconds, saved bytes, coefficients)."""
    best = float("inf")
    for _ in range(repeats):
        layer.zero_grad()
        Dr = D.clone().requires_grad_()
        seen: dict[int, int] = {}

        def pack(t, seen=seen):
            seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            return t

        t0 = time.perf_counter()
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            C = layer(Dr, Y)
            loss = ((Y - C @ Dr.T) ** 2).sum()
        loss.backward()
        best = min(best, time.perf_counter() - t0)
    return Dr.grad, layer.log_alpha.grad.clone(), best, sum(seen.values()), C.detach()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/img")
    args = ap.parse_args()
    torch.set_num_threads(1)
    D, Y, alpha = problem()
    impl = lt.nn.LassoLayer(alpha, learn_alpha=True, tol=1e-12)
    gD, ga, t_impl, mem_impl, C = measure(impl, D, Y)
    s = (C != 0).sum(1)
    mem_impl += int(sum(8 * (D.shape[0] * k + k * k) for k in s.tolist()))
    print(f"implicit: {1e3 * t_impl:.1f} ms, {mem_impl / 1e6:.3f} MB, supports {s.tolist()}")
    rows = {"ista": [], "fista": []}
    for name, acc in (("ista", False), ("fista", True)):
        for K in KS:
            layer = lt.nn.UnrolledLassoLayer(alpha, n_iter=K, accelerate=acc, learn_alpha=True)
            g, gal, t, mem, _ = measure(layer, D, Y, repeats=1 if K >= 2000 else 3)
            err = float((g - gD).norm() / gD.norm())
            err_a = float((gal - ga).abs() / ga.abs())
            rows[name].append((K, err, err_a, t, mem))
            print(f"{name:5s} K={K:5d}  grad D rel err {err:.2e}  grad log-alpha {err_a:.2e}  "
                  f"{1e3 * t:8.1f} ms  {mem / 1e6:8.2f} MB")
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
    for name, style in (("ista", "o-"), ("fista", "s-")):
        K = [r[0] for r in rows[name]]
        ax[0].loglog(K, [max(r[1], 1e-16) for r in rows[name]], style, label=f"unrolled {name}")
        ax[1].loglog(K, [1e3 * r[3] for r in rows[name]], style, label=f"unrolled {name}")
        ax[2].loglog(K, [r[4] / 1e6 for r in rows[name]], style, label=f"unrolled {name}")
    ax[1].axhline(1e3 * t_impl, color="k", ls="--", label="implicit (solve + backward)")
    ax[2].axhline(mem_impl / 1e6, color="k", ls="--", label="implicit")
    ax[0].set(xlabel="unrolled iterations K", ylabel="relative error of dL/dD vs implicit",
              title="gradient error")
    ax[1].set(xlabel="K", ylabel="forward + backward [ms]", title="time")
    ax[2].set(xlabel="K", ylabel="memory kept for backward [MB]", title="memory")
    for a in ax:
        a.grid(True, which="both", alpha=0.3)
        a.legend(fontsize=8)
    fig.suptitle(f"Sparse coding, D {tuple(D.shape)}, {Y.shape[0]} signals, "
                 f"alpha = {alpha:.3g}: unrolled ISTA/FISTA vs implicit differentiation",
                 fontsize=10)
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "unrolled_vs_implicit.png", dpi=150)
    print(f"figure: {out / 'unrolled_vs_implicit.png'}")


if __name__ == "__main__":
    main()
