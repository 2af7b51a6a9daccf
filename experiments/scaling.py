"""Weak scaling of the row-sharded FISTA step (lasso_torch.distributed).

Each of ``world`` processes holds ``--rows`` rows of a ``p``-feature synthetic design (the
global problem grows with the number of processes: weak scaling) and runs ``--iters``
FISTA steps without the Gram form, so every step is ``X_r w``, ``X_r^T r`` and one
all-reduce of ``p`` numbers. Reported per world size: the time per iteration (the slowest
rank's, median of ``--repeats``), and in an instrumented repeat the share spent inside the
all-reduce and the share spent waiting for the slowest rank (a barrier before each
all-reduce, device synchronized: see ``ShardedQuadratic.timed``). Ideal weak scaling
keeps the time per iteration flat.

    .venv/bin/python experiments/scaling.py                      # gloo, CPU, 1 and 2 processes
    .venv/bin/python experiments/scaling.py --device cuda --worlds 1 2   # nccl, one GPU each

Writes ``scaling.json`` and ``scaling.png`` into ``--out`` (default experiments/out/scaling,
git-ignored). Processes talk over 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import time
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, args: argparse.Namespace, out: str) -> None:
    from lasso_torch.data import make_synthetic, shard_rows
    from lasso_torch.distributed import ShardedQuadratic
    from lasso_torch.penalties import L1
    from lasso_torch.solvers import ProximalEngine

    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    torch.set_num_threads(args.threads)
    cuda = args.device == "cuda"
    if cuda:
        torch.cuda.set_device(rank % torch.cuda.device_count())
    device = torch.device("cuda", torch.cuda.current_device()) if cuda else torch.device("cpu")
    dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world,
                            init_method=f"tcp://127.0.0.1:{port}",
                            timeout=timedelta(seconds=300))
    try:
        n = args.rows * world
        X, y, _ = make_synthetic(n, args.p, correlation=0.5, density=0.05, seed=0,
                                 rows=shard_rows(n, rank, world), device=device)
        df = ShardedQuadratic(X, y, gram=False)
        alpha = 0.1 * float(df.Xty.abs().amax())
        results = []
        for timed in (False, True):
            for _ in range(args.repeats):
                engine = ProximalEngine(df, L1(alpha), torch.zeros(args.p, dtype=X.dtype,
                                        device=device), lr=1.0 / float(df.lipschitz),
                                        accelerated=True)
                for _ in range(args.warmup):
                    engine.step()
                df.timed, df.comm_seconds, df.wait_seconds, df.comm_calls = timed, 0.0, 0.0, 0
                dist.barrier()
                if cuda:
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
                for _ in range(args.iters):
                    engine.step()
                if cuda:
                    torch.cuda.synchronize()
                total = time.perf_counter() - t0
                slowest = torch.tensor([total, df.comm_seconds, df.wait_seconds],
                                       dtype=torch.float64, device=device)
                df.timed = False
                dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
                results.append(dict(timed=timed, total=float(slowest[0]),
                                    comm=float(slowest[1]), wait=float(slowest[2]),
                                    calls=df.comm_calls))
        if rank == 0:
            Path(out).write_text(json.dumps(results))
    finally:
        dist.destroy_process_group()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worlds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rows", type=int, default=20_000, help="rows per process")
    ap.add_argument("--p", type=int, default=500)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--out", type=Path, default=Path("experiments/out/scaling"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for world in args.worlds:
        tmp = args.out / f"world{world}.json"
        mp.start_processes(_worker, args=(world, _free_port(), args, str(tmp)), nprocs=world,
                           start_method="spawn")
        runs = json.loads(tmp.read_text())
        tmp.unlink()
        plain = statistics.median(r["total"] for r in runs if not r["timed"])
        timed = [r for r in runs if r["timed"]]
        share = statistics.median(r["comm"] / r["total"] for r in timed)
        wait = statistics.median(r["wait"] / r["total"] for r in timed)
        row = dict(world=world, ms_per_iter=1e3 * plain / args.iters,
                   ms_per_iter_timed=1e3 * statistics.median(r["total"] for r in timed)
                   / args.iters, comm_share=share, wait_share=wait,
                   allreduce_per_iter=timed[0]["calls"] / args.iters)
        rows.append(row)
        print(f"world {world}: {row['ms_per_iter']:.3f} ms/iter "
              f"({row['ms_per_iter_timed']:.3f} with timing): all-reduce {100 * share:.1f}%, "
              f"waiting for the slowest rank {100 * wait:.1f}% "
              f"({row['allreduce_per_iter']:.0f} all-reduce/iter)",
              flush=True)
    meta = dict(vars(args), out=str(args.out), torch=torch.__version__,
                machine=platform.machine(), cpus=os.cpu_count(),
                backend="nccl" if args.device == "cuda" else "gloo",
                gpu=torch.cuda.get_device_name() if args.device == "cuda" else None)
    (args.out / "scaling.json").write_text(json.dumps(dict(meta=meta, rows=rows), indent=2))
    _plot(rows, meta, args.out / "scaling.png")
    print(f"wrote {args.out / 'scaling.json'} and {args.out / 'scaling.png'}")


def _plot(rows: list[dict], meta: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    worlds = [r["world"] for r in rows]
    total = [r["ms_per_iter_timed"] for r in rows]
    comm = [t * r["comm_share"] for t, r in zip(total, rows, strict=True)]
    wait = [t * r["wait_share"] for t, r in zip(total, rows, strict=True)]
    compute = [t - c - w for t, c, w in zip(total, comm, wait, strict=True)]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    labels = [str(w) for w in worlds]
    ax.bar(labels, compute, label="compute (X w, X^T r, prox)", color="#4c72b0")
    ax.bar(labels, wait, bottom=compute, label="waiting for the slowest rank",
           color="#c0c0c0")
    ax.bar(labels, comm, bottom=[c + w for c, w in zip(compute, wait, strict=True)],
           label="all-reduce of p numbers", color="#dd8452")
    ax.axhline(total[0], color="k", lw=0.8, ls="--", label="ideal weak scaling")
    for i, (t, r) in enumerate(zip(total, rows, strict=True)):
        ax.text(i, t, f"{t:.2f} ms (untimed {r['ms_per_iter']:.2f})\n"
                f"{100 * r['comm_share']:.0f}% all-reduce, {100 * r['wait_share']:.0f}% wait",
                ha="center", va="bottom", fontsize=8)
    ax.set_xlabel(f"processes ({meta['backend']}), {meta['rows']} rows each, p = {meta['p']}")
    ax.set_ylabel("time per FISTA iteration (ms)")
    ax.set_title("Weak scaling of the row-sharded FISTA step")
    ax.set_ylim(0, max(total) * 1.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
