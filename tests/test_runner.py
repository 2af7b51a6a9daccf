"""The runner: config -> traces and metrics on disk, determinism, divergence, paths, sweeps."""

import json
import sys
import warnings

import numpy as np
import pytest
import torch

import lasso_torch as lt
from lasso_torch.experiment import backend, run_config, validate
from lasso_torch.experiment.geometry import geometry_arrays
from lasso_torch.runs import list_runs

FIELDS = ("iteration", "time", "objective", "gap", "kkt", "n_zeros", "coef")


def small(tmp_path, **over):
    cfg = {
        "name": "small",
        "data": {"kind": "synthetic", "n": 60, "p": 8, "correlation": 0.5, "density": 0.25},
        "objective": {"alpha": {"fraction": 0.2}},
        "solvers": [{"kind": "fista", "max_iter": 500, "record_every": 1},
                    {"kind": "cd", "max_iter": 200, "record_every": 1},
                    {"kind": "fista", "max_iter": 500, "record_every": 5, "restart": False}],
        "output": str(tmp_path / "runs"),
    }
    cfg.update(over)
    return cfg


def test_run_layout_and_metrics(tmp_path):
    run = run_config(small(tmp_path))
    assert run.status == "complete" and run.path.parent == tmp_path / "runs"
    assert {p.name for p in run.path.iterdir()} >= {"config.yaml", "meta.json", "metrics.json",
                                                    "traces.npz"}
    assert run.solvers == ["fista", "cd", "fista-2"]  # labels made unique
    pb = run.metrics["problem"]
    assert pb["n"] == 60 and pb["p"] == 8 and pb["l1_ratio"] == 1.0 and pb["kind"] == "lasso"
    assert pb["alpha"] == pytest.approx(0.2 * pb["alpha_max"])
    ref = run.traces["reference"]["coef"]
    assert ref.shape == (8,) and run.metrics["reference"]["n_zeros"] == int((ref == 0).sum())
    for label, m in run.metrics["solvers"].items():
        assert m["converged"] and m["status"] == "converged" and m["gap"] <= 1e-8
        assert m["n_zeros"] + m["nnz"] == 8
        assert m["objective"] == pytest.approx(run.metrics["reference"]["objective"], rel=1e-7)
        t = run.traces[label]
        assert set(FIELDS) <= t.keys()
        assert t["coef"].shape == (len(t["iteration"]), 8)
        assert t["iteration"][0] == 0 and np.all(np.diff(t["iteration"]) > 0)
    assert np.all(run.traces["fista-2"]["iteration"] % 5 == 0)
    prob = run.traces["problem"]
    assert prob["gram"].shape == (8, 8) and prob["xty"].shape == (8,) and prob["n"] == 60
    assert prob["beta_true"].shape == (8,)
    assert "NaN" not in (run.path / "metrics.json").read_text()
    assert validate(run.config).dump() == run.config
    assert run.meta["device"] == "cpu" and run.meta["dtype"] == "float64"
    assert set(run.meta["versions"]) == {"python", "torch", "numpy", "lasso_torch"}


def test_reference_is_the_solution(tmp_path):
    run = run_config(small(tmp_path))
    X, y, _ = lt.data.make_synthetic(60, 8, 0.5, 0.25, 3.0, 0)
    X = lt.data.standardize(X)[0]
    gap = lt.duality_gap(X, y, torch.from_numpy(run.traces["reference"]["coef"]),
                         run.metrics["problem"]["alpha"], relative=True)
    assert float(gap) < 1e-11


def test_same_config_gives_bit_identical_traces(tmp_path):
    a = run_config(small(tmp_path, output=str(tmp_path / "a")))
    b = run_config(small(tmp_path, output=str(tmp_path / "b")))
    assert a.meta["config_hash"] == b.meta["config_hash"]
    for group in a.traces:
        for field, arr in a.traces[group].items():
            if field != "time":  # wall clock
                np.testing.assert_array_equal(arr, b.traces[group][field])


def test_diverging_solver_is_marked_and_the_others_still_run(tmp_path):
    cfg = small(tmp_path, solvers=[
        {"kind": "ista", "lr": 1000.0, "max_iter": 500, "record_every": 1},
        {"kind": "cd", "max_iter": 200},
    ])
    with pytest.warns(lt.ConvergenceWarning, match="diverged"):
        run = run_config(cfg)
    assert run.status == "diverged"
    bad = run.metrics["solvers"]["ista"]
    assert bad["status"] == "diverged" and not bad["converged"] and bad["objective"] is None
    obj = run.traces["ista"]["objective"]
    assert not np.isfinite(obj[-1]) and np.all(np.isfinite(obj[:-1]))  # stops at the first
    assert bad["n_iter"] == run.traces["ista"]["iteration"][-1] < 500
    assert run.metrics["solvers"]["cd"]["converged"]


def test_max_iter_warns_with_the_gap(tmp_path):
    cfg = small(tmp_path, solvers=[{"kind": "ista", "max_iter": 3, "tol": 1e-12}])
    with pytest.warns(lt.ConvergenceWarning, match=r"max_iter after 3 iterations; relative "
                                                  r"duality gap \d"):
        run = run_config(cfg)
    m = run.metrics["solvers"]["ista"]
    assert m["converged"] is False and m["status"] == "max_iter" and m["n_iter"] == 3
    assert run.status == "complete"


def test_interrupt_keeps_the_partial_run(tmp_path, monkeypatch):
    calls = []
    real = backend.solve

    def solve(*args, **kwargs):
        calls.append(kwargs.get("solver"))
        if len(calls) == 3:  # reference, first solver, then Ctrl-C in the second
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(backend, "solve", solve)
    run = run_config(small(tmp_path))
    assert run.status == "interrupted"
    assert run.solvers == ["fista"] and "fista" in run.traces
    assert not list((tmp_path / "runs").glob(".tmp-*"))


def test_a_solver_error_is_recorded_and_the_others_run(tmp_path, monkeypatch):
    real = backend.solve
    calls = []

    def solve(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the reference, fista, then cd
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(backend, "solve", solve)
    run = run_config(small(tmp_path))
    m = run.metrics["solvers"]
    assert run.status == "failed" and list(m) == ["fista", "cd", "fista-2"]
    assert m["cd"]["status"] == "failed" and m["cd"]["error"] == "RuntimeError: boom"
    assert m["fista"]["status"] == m["fista-2"]["status"] == "converged"


def test_an_error_outside_the_solvers_keeps_the_run_and_reraises(tmp_path, monkeypatch):
    def reference(*args, **kwargs):  # the first solve is the reference's
        raise RuntimeError("boom")

    monkeypatch.setattr(backend, "solve", reference)
    with pytest.raises(RuntimeError, match="boom"):
        run_config(small(tmp_path))
    (path,) = (tmp_path / "runs").iterdir()
    meta = json.loads((path / "meta.json").read_text())
    assert meta["status"] == "interrupted" and "boom" in meta["error"]


def test_path_run_has_lasso_and_ridge_on_their_grids(tmp_path):
    cfg = small(tmp_path, objective={"alpha": {"num": 12, "min_fraction": 1e-2}},
                solvers=[{"kind": "cd", "max_iter": 5000, "tol": 1e-10}])
    run = run_config(cfg)
    path = run.traces["path"]
    alphas, coefs, ridge = path["alphas"], path["coefs"], path["ridge_coefs"]
    assert alphas.shape == (12,) and coefs.shape == (12, 8)
    # ridge on its own grid: 1000 alpha_max (where it has shrunk) down to the lasso's end
    r_alphas = path["ridge_alphas"]
    assert ridge.shape == (r_alphas.size, 8) and r_alphas.size == 24
    assert r_alphas[0] == pytest.approx(1e3 * float(path["alpha_max"]))
    assert r_alphas[-1] == pytest.approx(alphas[-1])
    assert np.all(np.diff(alphas) < 0)
    assert alphas[0] == pytest.approx(float(path["alpha_max"]))
    assert np.all(coefs[0] == 0.0)  # nothing enters at alpha_max
    assert (coefs[-1] != 0).sum() > (coefs[0] != 0).sum()
    assert np.all(ridge != 0.0)  # ridge never gives exact zeros
    assert np.all(path["gaps"] <= 1e-10)
    assert run.metrics["problem"]["alpha"] is None and len(run.metrics["problem"]["alphas"]) == 12
    np.testing.assert_allclose(run.traces["reference"]["coef"], coefs[-1], atol=1e-6)
    # each point equals an independent solve at that alpha
    X, y, _ = lt.data.make_synthetic(60, 8, 0.5, 0.25, 3.0, 0)
    X = lt.data.standardize(X)[0]
    res = lt.solve(X, y, float(alphas[5]), solver="cd", tol=1e-12, max_iter=10000)
    np.testing.assert_allclose(coefs[5], res.coef.numpy(), atol=1e-6)
    assert run.solvers == ["cd"] and run.metrics["solvers"]["cd"]["path_points"] == 12


def test_ridge_and_elasticnet_runs(tmp_path):
    for kind, ratio in (("ridge", 0.0), ("elasticnet", 0.5)):
        run = run_config(small(tmp_path, name=kind, objective={"kind": kind,
                                                               "alpha": {"fraction": 0.1}}))
        assert run.metrics["problem"]["l1_ratio"] == ratio
        assert all(m["converged"] for m in run.metrics["solvers"].values())


# subgradient, sgd and adam never reach 0.0 here, by design: their max_iter warnings
@pytest.mark.filterwarnings("ignore:.*max_iter after:UserWarning")
def test_geometry_of_two_features(tmp_path):
    from pathlib import Path

    run = run_config(Path(__file__).parent.parent / "configs" / "two_features_geometry.yaml",
                     {"output": str(tmp_path)})
    g = run.traces["geometry"]
    lasso, ridge, ols, t = g["lasso"], g["ridge"], g["ols"], float(g["t"])
    assert (lasso == 0).sum() == 1, "the shipped config has one exact zero"
    assert t == pytest.approx(np.abs(lasso).sum())
    assert np.linalg.norm(ridge) == pytest.approx(t, rel=1e-9)
    assert np.all(ridge != 0)
    G, c = run.traces["problem"]["gram"], run.traces["problem"]["xty"]
    np.testing.assert_allclose(G @ ols, c, atol=1e-12)

    def rss(w):  # up to a constant: w'Gw/2 - c'w
        return 0.5 * w @ G @ w - c @ w

    angles = np.linspace(0, 2 * np.pi, 2001)
    circle = t * np.stack([np.cos(angles), np.sin(angles)], 1)
    assert rss(ridge) <= min(rss(w) for w in circle) + 1e-9


def test_geometry_ols_inside_the_ball():
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)
    y = torch.tensor([0.1, 0.1, -0.1, -0.1], dtype=torch.float64)
    g = geometry_arrays(X, y, torch.tensor([10.0, 0.0], dtype=torch.float64), True)
    np.testing.assert_allclose(g["ridge"], g["ols"])


def test_large_p_records_a_coefficient_subset(tmp_path):
    cfg = small(tmp_path, data={"kind": "synthetic", "n": 40, "p": 150, "density": 0.05},
                solvers=[{"kind": "fista", "max_iter": 300, "record_every": 10},
                         {"kind": "ista", "max_iter": 5, "record_every": 1, "tol": 0.0,
                          "record_coef": [3, 1, 3]},
                         {"kind": "cd", "max_iter": 100, "record_coef": "none"}])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lt.ConvergenceWarning)
        run = run_config(cfg)
    t = run.traces["fista"]
    idx = t["coef_index"]
    assert len(idx) == 100 and t["coef"].shape == (len(t["iteration"]), 100)
    support = np.flatnonzero(run.traces["reference"]["coef"])
    assert set(support) <= set(idx)
    assert run.traces["ista"]["coef_index"].tolist() == [1, 3]
    assert "coef" not in run.traces["cd"]
    assert "problem" in run.traces and "gram" not in run.traces["problem"]  # p > 50


def test_record_coef_index_out_of_range_is_a_user_error(tmp_path):
    cfg = small(tmp_path, solvers=[{"kind": "cd", "record_coef": [99]}])
    with pytest.raises(lt.InputError, match=r"solvers.0.record_coef: index 99 out of range"):
        run_config(cfg)
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_file_data_sources(tmp_path):
    X, y, _ = lt.data.make_synthetic(30, 4, seed=3)
    np.savez(tmp_path / "d.npz", X=X.numpy(), y=y.numpy())
    header = "a,b,c,d,target\n"
    rows = "\n".join(",".join(f"{v!r}" for v in [*x, t]) for x, t in zip(X.tolist(), y.tolist(),
                                                                       strict=True))
    (tmp_path / "d.csv").write_text(header + rows + "\n")
    base = small(tmp_path, solvers=[{"kind": "cd", "record_every": 0}])
    r1 = run_config({**base, "name": "npz",
                     "data": {"kind": "npz", "path": str(tmp_path / "d.npz")}})
    r2 = run_config({**base, "name": "csv", "data": {"kind": "csv", "target": "target",
                                                     "path": str(tmp_path / "d.csv")}})
    assert r1.metrics["problem"]["n"] == 30 and r1.metrics["problem"]["p"] == 4
    assert r1.metrics["solvers"]["cd"]["objective"] == pytest.approx(
        r2.metrics["solvers"]["cd"]["objective"], rel=1e-12)
    with pytest.raises(lt.InputError, match="data file not found: .*missing.csv"):
        run_config({**base, "data": {"kind": "csv", "target": "y",
                                     "path": str(tmp_path / "missing.csv")}})


def test_diabetes_run(tmp_path):
    run = run_config({"name": "dia", "data": {"kind": "diabetes"}, "output": str(tmp_path),
                      "objective": {"alpha": {"fraction": 0.05}}})
    assert run.metrics["problem"]["n"] == 442 and run.metrics["problem"]["p"] == 10
    assert run.metrics["solvers"]["auto"]["converged"]


def test_float32_run(tmp_path):
    run = run_config(small(tmp_path, dtype="float32",
                           solvers=[{"kind": "fista", "max_iter": 500, "tol": 1e-5}]))
    assert run.meta["dtype"] == "float32"
    m = run.metrics["solvers"]["fista"]
    assert m["converged"] and m["objective"] == pytest.approx(
        run.metrics["reference"]["objective"], rel=1e-5)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_without_cuda_is_a_user_error(tmp_path):
    with pytest.raises(lt.InputError, match="device: 'cuda' requested but CUDA is not available"):
        run_config(small(tmp_path, device="cuda"))
    assert not (tmp_path / "runs").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_run_matches_cpu(tmp_path):
    gpu = run_config(small(tmp_path, device="cuda", output=str(tmp_path / "g")))
    cpu = run_config(small(tmp_path, device="cpu", output=str(tmp_path / "c")))
    assert gpu.meta["device"].startswith("cuda")
    for label, m in cpu.metrics["solvers"].items():
        assert gpu.metrics["solvers"][label]["objective"] == pytest.approx(m["objective"],
                                                                           rel=1e-9)


def test_sweep_runs_each_point_once(tmp_path):
    cfg = small(tmp_path, solvers=[{"kind": "cd", "record_every": 0}],
                sweep={"objective.alpha": [0.3, 0.1], "solvers.0.kind": ["cd", "fista"]})
    runs = run_config(cfg)
    assert len(runs) == 4 and not any(r.skipped for r in runs)
    assert len(list_runs(tmp_path / "runs")) == 4  # (and the hidden .locks of the claims)
    assert {r.config["solvers"][0]["kind"] for r in runs} == {"cd", "fista"}
    again = run_config(cfg)
    assert len(again) == 4 and all(r.skipped for r in again)
    assert [r.path for r in again] == [r.path for r in runs]
    assert len(list_runs(tmp_path / "runs")) == 4  # (and the hidden .locks of the claims)


def test_path_warns_when_points_do_not_converge(tmp_path):
    cfg = small(tmp_path, objective={"alpha": [0.5, 0.05]},
                solvers=[{"kind": "ista", "max_iter": 2, "tol": 1e-12}])
    with pytest.warns(lt.ConvergenceWarning) as record:
        run = run_config(cfg)
    messages = [str(w.message) for w in record]
    assert any(m.startswith("ista path (l1_ratio 1): 2 of 2 points") for m in messages)
    assert any(m.startswith("ista path (l1_ratio 0)") for m in messages)  # the ridge path
    assert run.metrics["solvers"]["ista"]["converged"] is False


def test_path_interrupted_between_points_keeps_them(tmp_path, monkeypatch):
    import lasso_torch.path_strategies as path_mod
    import lasso_torch.solvers.cd_path as cd_path

    calls = []

    def interrupting(real):
        def once_then_ctrl_c(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:  # the first alpha, then Ctrl-C before the second
                raise KeyboardInterrupt
            return real(*args, **kwargs)
        return once_then_ctrl_c

    # the engine's loop per alpha, or the compiled path's kernel per alpha (cd's path)
    monkeypatch.setattr(path_mod, "run_loop", interrupting(path_mod.run_loop))
    monkeypatch.setattr(cd_path, "inner_gram", interrupting(cd_path.inner_gram))
    run = run_config(small(tmp_path, objective={"alpha": {"num": 5}},
                           solvers=[{"kind": "cd"}]))
    assert run.status == "interrupted"
    assert run.traces["path"]["coefs"].shape == (1, 8) and "ridge_coefs" not in run.traces["path"]


def test_progress_bar_on_a_terminal(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    run = run_config(small(tmp_path, solvers=[{"kind": "ista", "max_iter": 400}]))
    assert run.metrics["solvers"]["ista"]["converged"]
    assert "ista" in capsys.readouterr().err  # tqdm drew (and cleared) its bar on stderr


# --- progress of every phase; extreme scales (issue 15) --------------------------------------
def test_every_phase_says_what_it_does_without_a_terminal(tmp_path):
    lines: list[str] = []
    run_config(small(tmp_path, objective={"alpha": {"num": 5}, "cv": 3},
                     solvers=[{"kind": "cd"}]), log=lines.append)
    run_config(small(tmp_path, objective={"alpha": {"num": 4}}, solvers=[{"kind": "cd"}]),
               log=lines.append)
    text = "\n".join(lines)
    for start in ("reference (cd, tol 1e-12): up to 200000 it",
                  "cross-validation: 3 folds x 5 alphas ...",
                  "path cd (l1_ratio 1): up to 4 alpha", "path cd (l1_ratio 0): up to 20 alpha"):
        assert start in text, text


def test_phase_lines_while_it_lasts_and_when_it_ends(monkeypatch):
    from lasso_torch import progress

    clock = iter([0.0, 5.0, 12.0, 13.0, 30.0])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    lines: list[str] = []
    phase = progress.Phase("work", 100, log=lines.append, tty=False)
    phase.update(10)  # 5 s: nothing yet
    phase.update(40, "gap 1e-3")  # 12 s: a line
    phase.update(50)  # 13 s: nothing
    phase.close("done")
    assert lines == ["work: up to 100 it", "work: 40/100, gap 1e-3 (12 s)", "work: done, 30.0 s"]


def test_data_scaled_by_1e200_standardizes_to_the_same_run(tmp_path):
    X, y, _ = lt.data.make_synthetic(60, 8, 0.5, 0.25, 3.0, 0)
    for name, scale in (("one", 1.0), ("huge", 1e200)):
        np.savez(tmp_path / f"{name}.npz", X=X.numpy() * scale, y=y.numpy())
    runs = [run_config(small(tmp_path, name=name, solvers=[{"kind": "cd", "tol": 1e-12}],
                             data={"kind": "npz", "path": str(tmp_path / f"{name}.npz")}))
            for name in ("one", "huge")]
    a, b = (r.metrics["solvers"]["cd"] for r in runs)
    assert a["n_zeros"] == b["n_zeros"] and b["converged"]
    assert b["objective"] == pytest.approx(a["objective"], rel=1e-10)
