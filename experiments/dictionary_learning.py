"""Dictionary learning end to end through a Lasso layer (issue 24, part 4): Adam on the
dictionary, the sparse codes from :class:`lasso_torch.nn.LassoLayer` (certified solve,
implicit backward) against :class:`lasso_torch.nn.UnrolledLassoLayer` (``K`` FISTA steps
kept by autograd).

Signals ``y = D* z + noise`` with ``D* (n, p)`` unit-norm atoms and ``k``-sparse ``z``.
Each step: a minibatch of signals, codes ``C = layer(D, Y)``, loss
``mean ||y - D c||^2``, Adam on ``D``, atoms renormalized. Reported against steps and
wall time: the held-out reconstruction error with *exact* Lasso codes of the current
dictionary (so each method's dictionary is judged the same way), and the fraction of
true atoms recovered (``max |cos| > 0.95``).

Usage::

    OMP_NUM_THREADS=1 python experiments/dictionary_learning.py [--steps 150] [--out docs/img]
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

F64 = torch.float64


def signals(D, N, k, g):
    p = D.shape[1]
    Z = torch.zeros(N, p, dtype=F64)
    for i in range(N):
        Z[i, torch.randperm(p, generator=g)[:k]] = torch.randn(k, generator=g, dtype=F64)
    return Z @ D.T + 0.02 * torch.randn(N, D.shape[0], generator=g, dtype=F64)


def evaluate(D, D_true, Y_test, alpha):
    with torch.no_grad():
        C = lt.nn.LassoLayer(alpha, tol=1e-8)(D, Y_test)
        err = float(((Y_test - C @ D.T) ** 2).sum(1).mean() / (Y_test ** 2).sum(1).mean())
        cos = (D_true.T @ (D / D.norm(dim=0))).abs().amax(1)
    return err, float((cos > 0.95).double().mean())


def train(layer, D0, D_true, Y, Y_test, alpha, steps, batch, lr, seed):
    g = torch.Generator().manual_seed(seed)
    D = torch.nn.Parameter(D0.clone())
    opt = torch.optim.Adam([D], lr=lr)
    hist, elapsed = [], 0.0
    hist.append((0, 0.0, *evaluate(D.detach(), D_true, Y_test, alpha)))
    for step in range(1, steps + 1):
        idx = torch.randperm(Y.shape[0], generator=g)[:batch]
        t0 = time.perf_counter()
        opt.zero_grad()
        C = layer(D, Y[idx])
        loss = ((Y[idx] - C @ D.T) ** 2).sum(1).mean()
        loss.backward()
        opt.step()
        with torch.no_grad():
            D /= D.norm(dim=0)
        elapsed += time.perf_counter() - t0
        if step % 10 == 0 or step == steps:
            hist.append((step, elapsed, *evaluate(D.detach(), D_true, Y_test, alpha)))
    return hist


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--out", default="docs/img")
    args = ap.parse_args()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    n, p, k = 24, 40, 3
    D_true = torch.randn(n, p, generator=g, dtype=F64)
    D_true /= D_true.norm(dim=0)
    Y, Y_test = signals(D_true, 2000, k, g), signals(D_true, 300, k, g)
    D0 = D_true + 0.7 * torch.randn(n, p, generator=g, dtype=F64) / n ** 0.5
    D0 /= D0.norm(dim=0)
    alpha = 0.02
    layers = {"implicit (LassoLayer)": lt.nn.LassoLayer(alpha, tol=1e-8),
              "unrolled FISTA K=10": lt.nn.UnrolledLassoLayer(alpha, n_iter=10),
              "unrolled FISTA K=50": lt.nn.UnrolledLassoLayer(alpha, n_iter=50),
              "unrolled FISTA K=200": lt.nn.UnrolledLassoLayer(alpha, n_iter=200)}
    results = {}
    for name, layer in layers.items():
        h = train(layer, D0, D_true, Y, Y_test, alpha, args.steps, 64, 5e-3, seed=1)
        results[name] = h
        print(f"{name:24s} {args.steps} steps in {h[-1][1]:6.2f} s: held-out rel. error "
              f"{h[0][2]:.4f} -> {h[-1][2]:.4f}, atoms recovered {h[0][3]:.2f} -> {h[-1][3]:.2f}")
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
    for i, (name, h) in enumerate(results.items()):
        st, tt, err, rec = zip(*h, strict=True)
        ax[0].plot(st, err, "-o", ms=3, color=f"C{i}", label=name)
        ax[1].plot(tt, err, "-o", ms=3, color=f"C{i}", label=name)
        ax[2].plot(st, rec, "-o", ms=3, color=f"C{i}", label=name)
    ax[0].set(xlabel="Adam step", ylabel="held-out relative reconstruction error",
              yscale="log", title="error vs steps")
    ax[1].set(xlabel="training wall time [s]", yscale="log", title="error vs time")
    ax[2].set(xlabel="Adam step", ylabel="true atoms recovered (|cos| > 0.95)",
              title="dictionary recovery")
    for a in ax:
        a.grid(True, alpha=0.3)
        a.legend(fontsize=8)
    fig.suptitle(f"Dictionary learning, D {n}x{p}, {k}-sparse codes, alpha={alpha}, batch 64: "
                 "implicit vs unrolled layers", fontsize=10)
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "dictionary_learning.png", dpi=150)
    print(f"figure: {out / 'dictionary_learning.png'}")


if __name__ == "__main__":
    main()
