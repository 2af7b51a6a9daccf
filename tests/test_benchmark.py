"""The benchmark script's own machinery (not its timings): rows, the large workload, errors."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    path = ROOT / "experiments" / "benchmark.py"
    spec = importlib.util.spec_from_file_location("benchmark", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["benchmark"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_large_workload_rows_on_cpu(bench, one_torch_thread):
    rows, bw = bench.large_rows((600, 80), "cpu", budget=5.0, copy_bytes=1 << 20)
    assert bw > 0
    steps = [r for r in rows if "bw_fraction" in r]
    assert {(r["solver"], r["dtype"]) for r in steps} == {
        (f"lasso_torch {s}", d) for s in ("fista", "ista") for d in ("float32", "float64")}
    assert all(r["ms_per_iter"] > 0 and r["gb_s"] > 0 and r["floor_ratio"] > 0 for r in steps)
    solved = [r for r in rows if "time_s" in r]
    assert len(solved) == 4 and all(r["gap"] <= 1e-4 for r in solved)
    md = bench.markdown(dict(date="d", machine="m", threads=1, repeats=1, mode="quick",
                             versions={}, solves=[], floors={}, paths=[], n_alphas=0,
                             device="cpu", large=rows, copy_bandwidth=bw))
    assert "Large workload on cpu" in md and md.count("| large 600x80 |") == len(rows)


def test_cuda_without_cuda_is_a_clear_error(bench, capsys):
    if torch.cuda.is_available():
        pytest.skip("CUDA is present")
    assert bench.main(["--device", "cuda"]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_bad_large_shape_is_a_clear_error(bench, capsys):
    assert bench.main(["--large-shape", "100x"]) == 2
    assert "--large-shape" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_per_iteration_on_cuda(bench):
    from lasso_torch.data import make_synthetic

    X, y, _ = make_synthetic(400, 300, seed=0)
    ms, fl = bench.per_iteration(X, y, 0.1, "fista", torch.float32, n_iter=10, device="cuda")
    assert ms > 0 and fl > 0


def test_problem_class_rows_on_tiny_data(bench, one_torch_thread):
    """bench_classes' rows, path rows and table on the tiny class (machinery, not timings):
    every time is certified by the script's own gap, auto's choice is a registered solver."""
    pytest.importorskip("sklearn")
    sys.path.insert(0, str(ROOT / "experiments"))
    try:
        import bench_classes as bc
    finally:
        sys.path.remove(str(ROOT / "experiments"))
    from lasso_torch.solvers import REGISTRY

    data = {"tiny": bc.classes(quick=True)["tiny"]}
    rows, peers = bc.single_rows(data, repeats=1, budget=5.0)
    assert [r["frac"] for r in rows] == list(bc.FRACTIONS)
    for r in rows:
        assert r["auto_is"] in REGISTRY and r["best_is"] in bc.SOLVERS
        assert all(r[s] > 0 for s in bc.SOLVERS)
    paths = bc.path_rows(data, budget=5.0)
    auto = [p for p in paths if p["solver"].startswith("lasso_torch auto")]
    assert auto and auto[0]["certified"] == 100
    md = bc.markdown(rows, peers, paths, "note")
    timed = [p for p in paths if "time_s" in p]  # a peer not installed is a note, no row
    assert md.count("| tiny |") == len(rows) + len(timed)


def test_sparse_class_rows_on_tiny_data(one_torch_thread):
    """bench_sparse's rows (machinery, not timings) on tiny sparse data: every time it keeps
    is certified by the script's own float64 gap; auto runs the sparse engines."""
    pytest.importorskip("sklearn")
    sys.path.insert(0, str(ROOT / "experiments"))
    try:
        import bench_sparse as bs
    finally:
        sys.path.remove(str(ROOT / "experiments"))
    from lasso_torch.data_sparse import make_sparse_synthetic

    X, y, _ = make_sparse_synthetic(200, 300, 0.03, informative=10)
    data = {"text": ("squared", X, y)}
    rows = bs.single_rows(data, repeats=1, budget=1.0, with_peers=False)
    assert [(r["class"], r["frac"]) for r in rows] == [("text", f) for f in bs.FRACTIONS]
    assert {r["auto_is"] for r in rows} == {"anderson_cd"}
    assert all(np.isfinite(r["auto"]) for r in rows)  # certified to 1e-6 by the script
    paths = bs.path_rows({"text": data["text"]}, n_alphas=10, with_peers=False)
    ours = [p for p in paths if p["solver"] == "lasso_torch auto"]
    assert ours and ours[0]["certified"] == 10
