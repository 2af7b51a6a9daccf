"""lasso_torch.distributed: the rows of X sharded over 2 and 3 gloo processes (127.0.0.1).

The acceptance test of issue 7: every rank builds only its own rows (of the seeded
synthetic generator), solves with ``distributed=True`` and the results (solution, and the
iterates at every recorded iteration) equal the single-process ones to 1e-10 in float64,
with row counts that do not divide evenly. One spawn per world size runs every case (a
spawn costs seconds); the processes come from a forkserver that imports torch once.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from datetime import timedelta
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from hypothesis import given
from hypothesis import strategies as st

import lasso_torch as lt
from lasso_torch.data import make_synthetic, shard_rows
from lasso_torch.data_shards import load_csv_shard, load_npz_shard
from lasso_torch.datafits import Quadratic
from lasso_torch.distributed import ShardedQuadratic
from lasso_torch.experiment import Config, backend, run_single, validate

pytestmark = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()), reason="needs torch.distributed gloo"
)

# name -> (n, p, solve kwargs); every n is odd: no even split over 2 or 3 ranks.
SOLVES = {
    "fista_wide": (23, 40, dict(alpha=1.0, solver="fista", record_every=6)),
    "ista_enet_gram": (103, 10, dict(alpha=0.3, l1_ratio=0.5, solver="ista", record_every=5)),
    "fista_nointercept_backtracking": (41, 30, dict(alpha=0.6, solver="fista",
                                                    fit_intercept=False,
                                                    backtracking=True, gram=False,
                                                    record_every=8)),
}
COMMON = dict(tol=1e-12, check_every=6, warn=False)
PATH = (41, 30, dict(alphas=[1.5, 0.8, 0.4], tol=1e-10, check_every=8, record_every=8))
SEED = 3
RUN = dict(name="sharded", data=dict(kind="synthetic", n=203, p=12, correlation=0.5, seed=SEED),
           objective=dict(alpha=dict(fraction=0.1)), device="cpu", dtype="float64",
           solvers=[dict(kind="fista", tol=1e-12, max_iter=2000, record_every=5),
                    dict(kind="ista", tol=1e-10, max_iter=2000, record_every=5)])


def _run_config(output: Path | str, distributed: bool = False) -> Config:
    return validate({**RUN, "output": str(output), "distributed": distributed})


def _data(n: int, p: int, rows: slice | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    X, y, _ = make_synthetic(n, p, correlation=0.3, density=0.2, seed=SEED, rows=rows)
    return X, y


def _lopsided(n: int, rank: int, world: int) -> slice:
    """Rank r gets a share of the rows proportional to r + 1 (very uneven blocks)."""
    cuts = [n * sum(range(1, r + 1)) // sum(range(1, world + 1)) for r in range(world + 1)]
    return slice(cuts[rank], cuts[rank + 1])


def _error(fn) -> str:
    try:
        fn()
    except lt.InputError as e:
        return str(e)
    return ""


def _worker(rank: int, world: int, port: int, out_dir: str) -> None:
    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world, timeout=timedelta(seconds=120))
    out: dict[str, np.ndarray] = {}
    try:
        for name, (n, p, kw) in SOLVES.items():
            X, y = _data(n, p, shard_rows(n, rank, world))
            res = lt.solve(X, y, distributed=True, **COMMON, **kw)
            out[f"{name}.coef"] = res.coef.numpy()
            out[f"{name}.intercept"] = res.intercept.numpy()
            out[f"{name}.n_iter"] = np.asarray(res.n_iter)
            out[f"{name}.lr"] = np.asarray(res.lr)
            out[f"{name}.status"] = np.asarray(res.status)
            for key in ("iteration", "coef", "objective", "gap"):
                out[f"{name}.trace.{key}"] = res.trace[key]
        n, p, kw = PATH
        X, y = _data(n, p, _lopsided(n, rank, world))
        path = lt.lasso_path(X, y, distributed=True, **kw)
        out["path.coefs"] = path.coefs.numpy()
        out["path.intercepts"] = path.intercepts.numpy()
        out["path.n_iters"] = path.n_iters.numpy()
        for key in ("iteration", "coef", "objective", "gap"):
            out[f"path.trace.{key}"] = path.trace[key]
        df = ShardedQuadratic(X, y, gram=False)
        out["df.lipschitz"] = df.lipschitz.numpy()
        out["df.p0"] = df.p0.numpy()
        out["df.Xty"] = df.Xty.numpy()
        out["df.gram"] = df.gram.numpy()
        out["df.n"] = np.asarray(df.n)
        # failures on one rank raise the same error on every rank (nobody is left waiting)
        bad_y = y.clone()
        if rank == world - 1:
            bad_y[0] = float("nan")
        out["err.nan"] = np.asarray(_error(lambda: lt.solve(X, bad_y, 0.5, distributed=True)))
        out["err.cd"] = np.asarray(_error(
            lambda: lt.solve(X, y, 0.5, solver="cd", distributed=True)))
        out["err.alpha"] = np.asarray(_error(
            lambda: lt.solve(X, y, 0.5 + (rank == 0), distributed=True)))
        Xw = X[:, :-1] if rank == 1 else X
        out["err.shape"] = np.asarray(_error(lambda: lt.solve(Xw, y, 0.5, distributed=True)))
        # a config run: rank 0 writes, the others return the same run
        run = run_single(_run_config(Path(out_dir) / "runs", distributed=True))
        out["run.path"] = np.asarray(str(run.path))
        out["run.fista.objective"] = np.asarray(run.metrics["solvers"]["fista"]["objective"])
        # a data error on one rank: every rank raises it, nothing is written
        fail = mock.patch.object(backend, "load_rows",
                                 side_effect=lt.InputError("no such file"))
        with fail if rank == world - 1 else contextlib.nullcontext():
            out["err.run"] = np.asarray(_error(lambda: run_single(
                _run_config(Path(out_dir) / "bad_runs", distributed=True))))
        np.savez(Path(out_dir) / f"rank{rank}.npz", **out)
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", params=[2, 3], ids=lambda w: f"world{w}")
def ranks(request, tmp_path_factory) -> list[dict[str, np.ndarray]]:
    world = request.param
    out = tmp_path_factory.mktemp(f"world{world}")
    # torch.optim's first optimizer imports torch._dynamo (seconds): import it once, here
    mp.get_context("forkserver").set_forkserver_preload(["torch", "torch._dynamo", "lasso_torch"])
    mp.start_processes(_worker, args=(world, _free_port(), str(out)), nprocs=world,
                       start_method="forkserver")
    results = []
    for r in range(world):
        with np.load(out / f"rank{r}.npz") as f:
            results.append(dict(f))
    return results


def _close(a, b, tol: float = 1e-10) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=tol)


@pytest.mark.parametrize("name", list(SOLVES))
def test_solve_equals_single_process(ranks, name):
    n, p, kw = SOLVES[name]
    ref = lt.solve(*_data(n, p), **COMMON, **kw)
    got = ranks[0]
    assert str(got[f"{name}.status"]) == ref.status == "converged"
    assert int(got[f"{name}.n_iter"]) == ref.n_iter
    assert float(got[f"{name}.lr"]) == pytest.approx(ref.lr, rel=1e-12)
    _close(got[f"{name}.coef"], ref.coef)
    _close(got[f"{name}.intercept"], ref.intercept)
    # the iterates agree at every recorded iteration
    np.testing.assert_array_equal(got[f"{name}.trace.iteration"], ref.trace["iteration"])
    _close(got[f"{name}.trace.coef"], ref.trace["coef"])
    _close(got[f"{name}.trace.objective"], ref.trace["objective"])
    _close(got[f"{name}.trace.gap"], ref.trace["gap"])
    assert np.array_equal(got[f"{name}.coef"] == 0, ref.coef.numpy() == 0)  # same exact zeros


def test_every_rank_holds_the_same_result(ranks):
    for other in ranks[1:]:
        for key, value in ranks[0].items():
            if not key.startswith("err."):
                np.testing.assert_array_equal(other[key], value, err_msg=key)


def test_path_equals_single_process(ranks):
    n, p, kw = PATH
    ref = lt.lasso_path(*_data(n, p), strategy="batched", finish=None, **kw)
    got = ranks[0]
    np.testing.assert_array_equal(got["path.n_iters"], ref.n_iters.numpy())
    _close(got["path.coefs"], ref.coefs)
    _close(got["path.intercepts"], ref.intercepts)
    np.testing.assert_array_equal(got["path.trace.iteration"], ref.trace["iteration"])
    _close(got["path.trace.coef"], ref.trace["coef"])
    _close(got["path.trace.objective"], ref.trace["objective"])
    _close(got["path.trace.gap"], ref.trace["gap"])


def test_global_quantities_equal_single_process(ranks):
    n, p, _ = PATH
    df = Quadratic(*_data(n, p), gram=False)
    got = ranks[0]
    assert int(got["df.n"]) == n
    np.testing.assert_allclose(got["df.lipschitz"], df.lipschitz.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["df.p0"], df.p0.numpy(), rtol=1e-12)
    _close(got["df.Xty"], df.Xty, 1e-12)
    _close(got["df.gram"], df.gram, 1e-12)


def test_a_failure_on_one_rank_raises_on_every_rank(ranks):
    world = len(ranks)
    for got in ranks:
        assert f"rank {world - 1}:" in str(got["err.nan"]) and "NaN" in str(got["err.nan"])
        assert "does not run with sharded rows" in str(got["err.cd"])
        assert "options" in str(got["err.alpha"]) and "differ" in str(got["err.alpha"])
        assert "shards differ" in str(got["err.shape"])


def test_config_run_rank0_writes_the_single_process_run(ranks, tmp_path):
    out = Path(str(ranks[0]["run.path"]))
    assert all(str(r["run.path"]) == str(out) for r in ranks)
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # one run, no temp folder
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["world_size"] == len(ranks)
    got = json.loads((out / "metrics.json").read_text())
    ref = run_single(_run_config(tmp_path)).metrics
    assert got["problem"]["n"] == ref["problem"]["n"]
    assert got["problem"]["alpha"] == pytest.approx(ref["problem"]["alpha"], rel=1e-12)
    for label in ("fista", "ista"):
        for key in ("n_iter", "n_zeros", "status"):
            assert got["solvers"][label][key] == ref["solvers"][label][key]
        assert got["solvers"][label]["objective"] == pytest.approx(
            ref["solvers"][label]["objective"], rel=1e-12)
    with np.load(out / "traces.npz") as f, np.load(next(tmp_path.iterdir()) / "traces.npz") as g:
        _close(f["fista/coef"], g["fista/coef"])
    assert not (out.parent.parent / "bad_runs").exists() or not any(
        (out.parent.parent / "bad_runs").iterdir())
    for r in ranks:
        assert f"rank {len(ranks) - 1}: no such file" in str(r["err.run"])


def _failing_worker(rank: int, world: int, port: int, out_dir: str) -> None:
    """Rank 1 fails in its second solve (after the reference): the process dies."""
    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world, timeout=timedelta(seconds=60))
    real, calls = backend.solve, []

    def solve(*args, **kwargs):
        calls.append(1)
        if rank == 1 and len(calls) == 2:
            raise RuntimeError("injected failure on rank 1")
        return real(*args, **kwargs)

    with mock.patch.object(backend, "solve", solve):
        run_single(_run_config(out_dir, distributed=True))


def test_a_rank_failing_mid_run_ends_every_rank_and_rank0_saves_the_run(tmp_path):
    mp.get_context("forkserver").set_forkserver_preload(["torch", "torch._dynamo", "lasso_torch"])
    with pytest.raises((mp.ProcessRaisedException, mp.ProcessExitedException)):
        mp.start_processes(_failing_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2,
                           start_method="forkserver")
    folders = list(tmp_path.iterdir())
    assert len(folders) == 1 and not folders[0].name.startswith(".tmp"), folders
    meta = json.loads((folders[0] / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["world_size"] == 2
    assert meta["error"]  # the collective's error or the launcher's SIGTERM, named


# --- single-process parts (no spawn) ------------------------------------------------------
def test_distributed_needs_a_process_group():
    X, y = _data(23, 5)
    with pytest.raises(lt.InputError, match="process group"):
        lt.solve(X, y, 0.5, distributed=True)


def test_batched_columns_are_the_single_alpha_runs():
    """The columnwise FISTA (own momentum and restart per column) runs each column exactly
    as ``lt.solve`` runs that alpha alone: same iterates at every recorded iteration."""
    n, p, kw = PATH
    X, y = _data(n, p)
    path = lt.lasso_path(X, y, strategy="batched", finish=None, screening=False, **kw)
    for k, alpha in enumerate(path.alphas.tolist()):
        ref = lt.solve(X, y, alpha, solver="fista", gram=False, tol=0,
                       max_iter=int(path.trace["iteration"][-1]),
                       record_every=kw["record_every"], check_every=kw["check_every"],
                       stall_patience=None, warn=False)
        # up to the check where the column retired (then it keeps its final iterate)
        T = min(len(ref.trace["iteration"]), int(path.n_iters[k]) // kw["record_every"] + 1)
        np.testing.assert_array_equal(path.trace["iteration"][:T], ref.trace["iteration"][:T])
        _close(path.trace["coef"][:T, :, k], ref.trace["coef"][:T])
        _close(path.coefs[:, k], lt.solve(X, y, alpha, tol=1e-13, warn=False).coef, 1e-8)


def test_demo_config_runs_without_a_launcher_as_a_group_of_one(tmp_path):
    from lasso_torch.experiment import run_config

    demo = Path(__file__).parent.parent / "configs" / "distributed_demo.yaml"
    run = run_config(demo, {"data.n": 301, "data.p": 20, "output": str(tmp_path)})
    assert run.status == "complete" and run.meta["world_size"] == 1
    assert all(m["converged"] for m in run.metrics["solvers"].values())
    assert not dist.is_initialized()  # the group it started is gone
    assert [p.name for p in tmp_path.iterdir()] == [run.path.name]


@pytest.mark.parametrize("kind", ["npz", "csv"])
def test_file_config_sharded_equals_single_process(tmp_path, kind):
    from lasso_torch.experiment import run_config

    X, y = _data(57, 6)
    if kind == "npz":
        np.savez(tmp_path / "d.npz", X=X.numpy(), y=y.numpy())
        data = {"kind": "npz", "path": str(tmp_path / "d.npz")}
    else:
        rows = ["y," + ",".join(f"x{j}" for j in range(6))] + [
            ",".join(repr(float(v)) for v in (y[i], *X[i])) for i in range(57)]
        (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
        data = {"kind": "csv", "path": str(tmp_path / "d.csv"), "target": "y"}
    cfg = {**RUN, "data": data, "output": str(tmp_path / "runs")}
    one = run_config({**cfg, "distributed": True})
    ref = run_config(cfg)
    for label in ("fista", "ista"):
        assert one.metrics["solvers"][label]["n_iter"] == ref.metrics["solvers"][label]["n_iter"]
        assert one.metrics["solvers"][label]["objective"] == pytest.approx(
            ref.metrics["solvers"][label]["objective"], rel=1e-12)


@pytest.mark.skipif(not (torch.cuda.is_available() and dist.is_nccl_available()),
                    reason="needs a CUDA device and nccl")
def test_nccl_group_of_one_on_cuda_equals_single_process():
    n, p, kw = SOLVES["fista_wide"]
    X, y = _data(n, p)
    ref = lt.solve(X, y, **COMMON, **kw)
    dist.init_process_group("nccl", store=dist.HashStore(), rank=0, world_size=1)
    try:
        got = lt.solve(X.cuda(), y.cuda(), distributed=True, **COMMON, **kw)
        path = lt.lasso_path(X.cuda(), y.cuda(), distributed=True, **PATH[2])
    finally:
        dist.destroy_process_group()
    _close(got.coef.cpu(), ref.coef)
    _close(got.trace["coef"], ref.trace["coef"])
    _close(path.coefs.cpu(), lt.lasso_path(X, y, strategy="batched", finish=None, **PATH[2]).coefs)


@given(n=st.integers(0, 500), world=st.integers(1, 12))
def test_shard_rows_cover_the_rows_in_order(n, world):
    parts = [shard_rows(n, r, world) for r in range(world)]
    assert parts[0].start == 0 and parts[-1].stop == n
    assert all(a.stop == b.start for a, b in zip(parts, parts[1:], strict=False))
    sizes = [s.stop - s.start for s in parts]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("world", [1, 2, 3, 5])
def test_file_shards_concatenate_to_the_file(tmp_path, world):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((23, 4)), rng.standard_normal(23)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    np.savez_compressed(tmp_path / "c.npz", X=X, y=y)
    np.savez(tmp_path / "f.npz", X=np.asfortranarray(X), y=y)
    lines = ["a,b,target,c,d"] + [
        ",".join(repr(float(v)) for v in (*X[i, :2], y[i], *X[i, 2:])) for i in range(23)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    loads = [lambda r, f=f: load_npz_shard(tmp_path / f, r, world) for f in
             ("d.npz", "c.npz", "f.npz")]
    loads.append(lambda r: load_csv_shard(tmp_path / "d.csv", "target", r, world))
    for load in loads:
        parts = [load(r) for r in range(world)]
        np.testing.assert_array_equal(torch.cat([X for X, _ in parts]).numpy(), X)
        np.testing.assert_array_equal(torch.cat([y for _, y in parts]).numpy(), y)
