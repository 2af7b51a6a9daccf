"""The experiment layer at run level: every registered solver in a config, its options,
minibatches and seed, the per-coefficient account in metrics and traces, the path metrics
(one definition for both backends), notes in meta.json, support columns in the tables,
and bad solvers/options as one line and exit status 2 with nothing written."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch.distributed as dist
from typer.testing import CliRunner

import lasso_torch as lt
from lasso_torch.cli import app
from lasso_torch.experiment import run_config, validate
from lasso_torch.experiment.record import identified_at, path_summary, worst
from lasso_torch.solvers import REGISTRY


def small(tmp_path, solvers, **over):
    cfg = {"name": "small", "output": str(tmp_path / "runs"), "device": "cpu",
           "data": {"kind": "synthetic", "n": 60, "p": 8, "correlation": 0.5, "density": 0.25},
           "objective": {"alpha": {"fraction": 0.2}}, "solvers": solvers}
    cfg.update(over)
    return cfg


def quiet_run(cfg):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lt.ConvergenceWarning)
        return run_config(cfg)


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_the_config_accepts_every_registered_solver(kind):
    assert validate({"name": "x", "solvers": [{"kind": kind}]}).solvers[0].kind == kind


def test_options_batch_size_and_the_seed_reach_the_solver(tmp_path):
    sgd = {"kind": "sgd", "lr": 0.02, "options": {"momentum": 0.9}, "batch_size": 20,
           "max_iter": 60, "record_every": 3}
    a, b = (quiet_run(small(tmp_path, [sgd], output=str(tmp_path / o))) for o in "ab")
    c = quiet_run(small(tmp_path, [sgd], seed=1, output=str(tmp_path / "c"),
                        data={"kind": "synthetic", "n": 60, "p": 8, "correlation": 0.5,
                              "density": 0.25, "seed": 0}))
    np.testing.assert_array_equal(a.traces["sgd"]["coef"], b.traces["sgd"]["coef"])
    assert not np.array_equal(a.traces["sgd"]["coef"], c.traces["sgd"]["coef"])  # other order
    np.testing.assert_allclose(a.traces["sgd"]["epoch"][-1], 60 * 20 / 60)  # 3 steps an epoch


def test_the_account_is_in_metrics_and_traces(tmp_path):
    run = quiet_run(small(tmp_path, [{"kind": "ista", "record_every": 1},
                                     {"kind": "adam", "lr": 0.01, "max_iter": 400}]))
    ista, adam = (run.metrics["solvers"][k]["account"] for k in ("ista", "adam"))
    ref = run.traces["reference"]["coef"]
    assert len(ista["zero_at"]) == 8 and ista["n_zero"] == int((ref == 0).sum()) > 0
    zeroed = [j for j in range(8) if ista["zero_at"][j] is not None]
    assert zeroed == np.flatnonzero(ref == 0).tolist()
    assert isinstance(ista["support_at"], int) and ista["band"] is None  # exact zeros: no band
    assert adam["support_at"] is None and adam["n_zero"] == 0  # never exactly 0.0
    assert adam["band"] == pytest.approx(0.01 * run.metrics["problem"]["alpha"])
    for acc in (ista, adam):  # synthetic data: the support against the truth
        assert {"precision", "recall", "true_support_at"} <= set(acc)
    arrays = run.traces["ista.account"]
    assert arrays["zero_at"].tolist() == [-1 if z is None else z for z in ista["zero_at"]]
    assert arrays["sign_changes"].tolist() == ista["sign_changes"]
    assert "precision" in run.metrics["reference"]


def test_identified_at():
    it = np.array([0, 5, 10, 15])
    c = np.array([[1.0, 0.2], [1.0, 0.0], [1.0, -0.1], [1.0, 0.0]])
    assert identified_at(it, c, np.array([2.0, 0.0])) == 15
    assert identified_at(it, c[:2], np.array([2.0, 0.0])) == 5
    assert identified_at(it, c, np.array([2.0, 1.0])) is None
    assert identified_at(it[:1], c[:1], np.array([1.0, 1.0])) == 0


def test_path_metrics_have_one_definition():
    rows = {"alphas": np.array([1.0, 0.5, 0.1]), "coefs": np.array([[0, 0], [1, 0], [1, 2.0]]),
            "gaps": np.array([1e-9, 1e-8, 1e-7]), "n_iter": np.array([2, 7, 30]),
            "status": ["converged", "max_iter", "converged"], "time": 0.5}
    m = path_summary("cd", "auto", rows)
    assert m["n_iter"] == 39 and m["n_iter_max"] == 30 and m["gap"] == 1e-7
    assert m["status"] == "max_iter" and m["converged"] is False and m["n_zeros"] == 0
    assert worst(["converged", "stalled", "diverged"]) == "diverged"


@pytest.mark.parametrize("distributed", [False, pytest.param(True, marks=pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()), reason="needs gloo"))])
def test_a_path_run_sums_the_iterations_of_its_points(tmp_path, distributed):
    run = run_config(small(tmp_path, [{"kind": "fista", "max_iter": 5000, "tol": 1e-10}],
                           objective={"alpha": {"num": 6, "min_fraction": 0.05}},
                           distributed=distributed))
    m, path = run.metrics["solvers"]["fista"], run.traces["path"]
    assert m["n_iter"] == int(path["n_iters"].sum()) and m["n_iter_max"] == path["n_iters"].max()
    assert m["converged"] and m["path_points"] == 6


def test_adamw_weight_decay_is_noted_in_the_run(tmp_path):
    run = quiet_run(small(tmp_path, [{"kind": "adamw", "lr": 0.01, "max_iter": 20,
                                      "options": {"weight_decay": 0.1}}]))
    (note,) = run.meta["notes"]["adamw"]
    assert "L2" in note and run.metrics["solvers"]["adamw"]["notes"] == [note]
    assert "L2" in json.loads((run.path / "meta.json").read_text())["notes"]["adamw"][0]


def test_a_user_optimizer_by_import_path_runs_from_a_config(tmp_path):
    run = quiet_run(small(tmp_path, [{"kind": "user_optim:SignSGD", "lr": 1e-3, "max_iter": 20,
                                      "options": {"beta": 0.5}}]))
    assert run.metrics["solvers"]["user_optim:SignSGD"]["n_iter"] == 20


BAD = {
    "import": ({"kind": "nomodule_xyz:Opt"}, "cannot import"),
    "not_an_optimizer": ({"kind": "user_optim:NotAnOptimizer"}, "not a torch.optim.Optimizer"),
    "unknown_option": ({"kind": "adam", "options": {"betaz": 0.5}}, "no option 'betaz'"),
    "bad_value": ({"kind": "sgd", "options": {"momentum": -1.0}}, "momentum"),
    "wrong_type": ({"kind": "adam", "options": {"betas": "fast"}}, "solvers.0 (adam)"),
    "no_minibatches": ({"kind": "cd", "batch_size": 8}, "takes no batch_size"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_solver_is_one_line_and_exit_2_with_nothing_written(tmp_path, case):
    import yaml

    solver, match = BAD[case]
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(small(tmp_path, [solver])))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "c.yaml"), "--no-plots"])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and match in lines[0], lines
    assert "Traceback" not in res.output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_run_and_compare_tables_show_the_support_columns(tmp_path):
    a = quiet_run(small(tmp_path, [{"kind": "cd"}, {"kind": "adam", "lr": 0.01,
                                                     "max_iter": 50}], name="a"))
    b = quiet_run(small(tmp_path, [{"kind": "cd"}], name="b", data={"kind": "diabetes"}))
    res = CliRunner().invoke(app, ["compare", str(a.path), str(b.path)])
    assert res.exit_code == 0, res.stderr
    header = res.stdout.splitlines()[0]
    assert "support at" in header and "precision" in header and "recall" in header
    rows = {ln.split()[0] + " " + ln.split()[1]: ln for ln in res.stdout.splitlines()[2:6]}
    assert "never" in rows[f"{a.path.name} adam"]
    assert rows[f"{b.path.name} cd"].split()[-2:] == ["-", "-"]  # no truth: no scores
