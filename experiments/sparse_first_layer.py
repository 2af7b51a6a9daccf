"""A sparse first layer: which inputs does a small MLP still read?

Synthetic regression where only ``k`` of ``p`` inputs matter (a nonlinear function of
them). A group-L1 penalty ``alpha * sum_j ||W[:, j]||_2`` on the first layer's input
columns asks the network to stop reading the others. Two ways to train, the same data,
initial weights, minibatches, learning rate and epochs:

* **Adam** on ``loss + penalty`` through autograd (what one writes first);
* **ProxAdam** (``lt.optim.ProxAdam``): Adam on the loss, then the penalty's prox in
  Adam's diagonal metric (whole columns become exactly 0.0);

plus Adam without the penalty for the held-out error it costs. It prints a table (exact
zero columns, surviving inputs, held-out MSE) and draws the columns' norms and the count
of exact zero columns per epoch to ``docs/img/sparse_first_layer.png``.

    python experiments/sparse_first_layer.py            # ~10 s on one CPU core

Full batch by default: with minibatches a column is 0 after a step iff the averaged
minibatch gradient of that column is below ``alpha`` in norm, so gradient noise makes
irrelevant columns leave 0 and come back (``--batch-size 500`` shows it). The network is
not convex either: a true input whose effect is only an interaction, zeroed before the
network learned it, has a zero gradient at 0 and never comes back; this target gives
every true input a marginal effect.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import lasso_torch as lt  # noqa: E402
from lasso_torch.penalties import GroupL1  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def make_data(n: int, p: int, k: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, p, generator=g)
    informative = sorted(torch.randperm(p, generator=g)[:k].tolist())
    a, b, c, d = (X[:, j] for j in informative[:4])
    y = (torch.sin(2 * a) + 0.8 * b + torch.tanh(2 * c) - 0.5 * d + 0.5 * a * b
         + 0.1 * torch.randn(n, generator=g))
    return X, y, informative


def make_mlp(p: int, hidden: int, seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(p, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                         nn.Linear(hidden, 1))


def mse(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(((model(X).squeeze(-1) - y) ** 2).mean())


def train(arm: str, data: dict, args: argparse.Namespace) -> dict:
    """One arm: ``adam`` (penalty through autograd), ``prox_adam`` or ``adam_no_penalty``."""
    X, y = data["X_train"], data["y_train"]
    model = make_mlp(X.shape[1], args.hidden, args.seed)
    penalty = GroupL1(args.alpha, dim=0)  # one group per input column of the first layer
    if arm == "prox_adam":
        opt = lt.optim.ProxAdam(lt.optim.param_groups(model, {"0.weight": penalty}), lr=args.lr)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed + 1)  # the same batches for every arm
    zeros_per_epoch = []
    for _ in range(args.epochs):
        perm = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), args.batch_size):
            b = perm[i:i + args.batch_size]
            opt.zero_grad()
            loss = 0.5 * ((model(X[b]).squeeze(-1) - y[b]) ** 2).mean()
            if arm == "adam":
                loss = loss + penalty.value(model[0].weight)
            loss.backward()
            opt.step()
        zeros_per_epoch.append(int((model[0].weight == 0.0).all(0).sum()))
    norms = torch.linalg.vector_norm(model[0].weight.detach(), dim=0)
    return {"arm": arm, "norms": norms, "zeros": zeros_per_epoch,
            "test_mse": mse(model, data["X_test"], data["y_test"])}


def table(results: list[dict], informative: list[int]) -> str:
    rows = [f"{'optimizer':<28}{'zero columns':>13}{'(last 50 ep.)':>14}{'min |W[:,j]| off':>18}"
            f"{'true kept':>11}{'held-out MSE':>14}  inputs read (nonzero columns)"]
    labels = {"adam": "Adam, penalty by autograd", "prox_adam": "ProxAdam (prox in metric)",
              "adam_no_penalty": "Adam, no penalty"}
    for r in results:
        alive = torch.nonzero(r["norms"] != 0).flatten().tolist()
        off = [j for j in range(len(r["norms"])) if j not in informative]
        kept = sum(j in alive for j in informative)
        shown = alive if len(alive) <= 10 else f"{len(alive)} of {len(r['norms'])}"
        last = r["zeros"][-50:]
        rows.append(f"{labels[r['arm']]:<28}{r['zeros'][-1]:>13}{f'{min(last)}-{max(last)}':>14}"
                    f"{float(r['norms'][off].min()):>18.2e}{f'{kept}/{len(informative)}':>11}"
                    f"{r['test_mse']:>14.4f}  {shown}")
    return "\n".join(rows)


def figure(results: list[dict], informative: list[int], path: Path) -> None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    colors = {"adam": "tab:red", "prox_adam": "tab:blue", "adam_no_penalty": "tab:gray"}
    labels = {"adam": "Adam, penalty by autograd", "prox_adam": "ProxAdam",
              "adam_no_penalty": "Adam, no penalty"}
    p = len(results[0]["norms"])
    floor = 1e-9
    width = 0.8 / len(results)
    for i, r in enumerate(results):
        x = torch.arange(p) + (i - (len(results) - 1) / 2) * width
        h = r["norms"].clamp(min=floor)
        ax1.bar(x, h, width=width, color=colors[r["arm"]], label=labels[r["arm"]])
        zero = r["norms"] == 0
        ax1.scatter(x[zero], torch.full((int(zero.sum()),), floor * 2), marker="x",
                    color=colors[r["arm"]], zorder=3, s=18)
        ax2.plot(range(1, len(r["zeros"]) + 1), r["zeros"], color=colors[r["arm"]],
                 label=labels[r["arm"]], lw=3 if r["arm"] == "adam" else 1.5,
                 ls="--" if r["arm"] == "adam_no_penalty" else "-")
    for j in informative:
        ax1.axvspan(j - 0.45, j + 0.45, color="gold", alpha=0.25, lw=0)
    ax1.set_yscale("log")
    ax1.set_ylim(floor, 1e3)
    ax1.set_xticks(range(p))
    ax1.set_xlabel("input j (shaded: the inputs y depends on)")
    ax1.set_ylabel("||W[:, j]||  (x: exactly 0.0)")
    ax1.set_title("First layer: the norm of each input's column")
    ax1.legend(fontsize=8, loc="upper center", ncol=3)
    ax2.axhline(p - len(informative), color="gold", ls="--", lw=1.5,
                label=f"irrelevant inputs ({p - len(informative)})")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("input columns exactly 0.0")
    ax2.set_title("Inputs the network no longer reads")
    ax2.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=20)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--n-train", type=int, default=5000)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--alpha", type=float, default=0.02)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--epochs", type=int, default=400)
    ap.add_argument("--batch-size", type=int, default=0,
                    help="0: full batch (the default); minibatch noise makes the zero set flicker")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "sparse_first_layer.png")
    args = ap.parse_args()
    args.batch_size = args.batch_size or args.n_train
    torch.set_num_threads(1)  # tiny networks: one core is the fastest
    X, y, informative = make_data(args.n_train + args.n_test, args.p, args.k, args.seed)
    data = {"X_train": X[:args.n_train], "y_train": y[:args.n_train],
            "X_test": X[args.n_train:], "y_test": y[args.n_train:]}
    t0 = time.perf_counter()
    results = [train(arm, data, args) for arm in ("adam", "prox_adam", "adam_no_penalty")]
    print(f"p = {args.p} inputs, y depends on {informative}; group-L1 alpha = {args.alpha} on "
          f"the first layer's input columns; lr = {args.lr}, {args.epochs} epochs of "
          f"minibatches of {args.batch_size}")
    print(table(results, informative))
    figure(results, informative, args.out)
    print(f"figure: {args.out}  ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
