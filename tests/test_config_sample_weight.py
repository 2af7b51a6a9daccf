"""``data.sample_weight`` in a config: the three sources (a file for any data kind, a CSV
column, an NPZ array), the weighted run equal to ``lt.solve(sample_weight=...)`` and to
scikit-learn's ``Lasso.fit(sample_weight=...)``, the weights in every solve (reference,
solvers incl. the torch optimizers, path, CV) and in the record, and bad weights as one
line and exit status 2 with nothing written."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner

import lasso_torch as lt
from lasso_torch.cli import app
from lasso_torch.experiment import run_config

N, P = 80, 10
TIGHT = {"tol": 1e-14, "max_iter": 100_000}


def weights(n=N, seed=1):
    s = np.random.default_rng(seed).uniform(0, 3, n)
    s[:6] = 0
    return s


def synthetic():
    X, y, _ = lt.make_synthetic(N, P, 0.3, 0.3, 3.0, 0)
    return X.numpy(), y.numpy()


def weighted_synthetic(tmp_path):
    return {"kind": "synthetic", "n": N, "p": P, "correlation": 0.3, "density": 0.3,
            "sample_weight": {"file": str(tmp_path / "w.npy")}}


def config(tmp_path, data, solvers=None, **objective):
    return {"name": "sw", "output": str(tmp_path / "runs"), "device": "cpu",
            "data": data, "objective": {"alpha": 0.05, "standardize": False, **objective},
            "solvers": solvers or [{"kind": "cd", **TIGHT}]}


def quiet_run(cfg):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lt.ConvergenceWarning)
        return run_config(cfg)


def final_coef(run, label):
    return run.traces[label]["coef"][-1]


def test_a_weighted_run_equals_solve_and_sklearn(tmp_path):
    from sklearn.linear_model import Lasso

    X, y = synthetic()
    s = weights()
    np.save(tmp_path / "w.npy", s)
    run = quiet_run(config(tmp_path, weighted_synthetic(tmp_path),
                           [{"kind": "cd", **TIGHT}, {"kind": "fista", **TIGHT}]))
    res = lt.solve(X, y, 0.05, sample_weight=s, solver="cd", **TIGHT)
    ref = Lasso(alpha=0.05, **TIGHT).fit(X, y, sample_weight=s)
    scale = np.abs(ref.coef_).max()
    for coef in (run.traces["reference"]["coef"], final_coef(run, "cd"),
                 final_coef(run, "fista"), res.coef.numpy()):
        np.testing.assert_allclose(coef, ref.coef_, rtol=0, atol=1e-6 * scale)
    for m in (run.metrics["reference"], *run.metrics["solvers"].values()):
        assert m["objective"] == pytest.approx(float(res.objective), rel=1e-9)  # weighted
    unweighted = lt.solve(X, y, 0.05, solver="cd", **TIGHT)
    assert abs(float(unweighted.objective) - float(res.objective)) > 1e-3
    pb = run.metrics["problem"]
    assert pb["sample_weight"] == {"sum": pytest.approx(s.sum()), "min": 0.0,
                                   "max": pytest.approx(s.max()), "zeros": 6}
    np.testing.assert_array_equal(run.traces["problem"]["sample_weight"], s)
    assert run.config["data"]["sample_weight"]["file"] == str(tmp_path / "w.npy")
    assert pb["alpha_max"] == pytest.approx(float(lt.alpha_max(
        torch.as_tensor(X), torch.as_tensor(y), sample_weight=torch.as_tensor(s))))


def test_a_csv_column_and_an_npz_array_hold_the_weights(tmp_path):
    X, y = synthetic()
    s = weights()
    header = ",".join([f"x{j}" for j in range(P)] + ["w", "y"])
    rows = np.column_stack([X, s, y])
    np.savetxt(tmp_path / "d.csv", rows, delimiter=",", header=header, comments="")
    np.savez(tmp_path / "d.npz", X=X, y=y, w=s)
    np.savetxt(tmp_path / "w.csv", s)
    csv_run = quiet_run(config(tmp_path, {"kind": "csv", "path": str(tmp_path / "d.csv"),
                                          "target": "y", "sample_weight": "w"}))
    idx_run = quiet_run(config(tmp_path, {"kind": "csv", "path": str(tmp_path / "d.csv"),
                                          "target": -1, "sample_weight": P}))
    npz_run = quiet_run(config(tmp_path, {"kind": "npz", "path": str(tmp_path / "d.npz"),
                                          "sample_weight": "w"}))
    file_run = quiet_run(config(tmp_path, {"kind": "npz", "path": str(tmp_path / "d.npz"),
                                           "sample_weight": {"file": str(tmp_path / "w.csv")}}))
    res = lt.solve(X, y, 0.05, sample_weight=s, solver="cd", **TIGHT)
    for run in (csv_run, idx_run, npz_run, file_run):
        assert run.metrics["problem"]["p"] == P  # the weight column is not a feature
        np.testing.assert_allclose(final_coef(run, "cd"), res.coef.numpy(), rtol=1e-9,
                                   atol=1e-12)


def test_standardize_uses_the_weighted_mean_and_std(tmp_path):
    X, y = synthetic()
    s = weights()
    np.save(tmp_path / "w.npy", s)
    run = quiet_run(config(tmp_path, weighted_synthetic(tmp_path), standardize=True))
    Xs, mean, scale = lt.standardize(torch.as_tensor(X), torch.as_tensor(s))
    st = torch.as_tensor(s)
    assert torch.allclose(st @ Xs / s.sum(), torch.zeros(P, dtype=Xs.dtype), atol=1e-12)
    assert torch.allclose(st @ (Xs * Xs) / s.sum(), torch.ones(P, dtype=Xs.dtype))
    res = lt.solve(Xs, y, 0.05, sample_weight=s, solver="cd", **TIGHT)
    np.testing.assert_allclose(final_coef(run, "cd"), res.coef.numpy(), rtol=1e-9, atol=1e-12)
    # integer weights are repeated rows: the same standardization
    reps = np.arange(N) % 3
    Xr = torch.as_tensor(np.repeat(X, reps, axis=0))
    np.testing.assert_allclose(lt.standardize(torch.as_tensor(X), torch.as_tensor(
        reps.astype(float)))[2], lt.standardize(Xr)[2], rtol=1e-12)


def test_path_and_cv_runs_are_weighted(tmp_path):
    X, y = synthetic()
    s = weights()
    np.save(tmp_path / "w.npy", s)
    data = weighted_synthetic(tmp_path)
    grid = [0.2, 0.05, 0.01]
    path_run = quiet_run(config(tmp_path, data, [{"kind": "cd", "tol": 1e-12}], alpha=grid))
    path = lt.lasso_path(X, y, grid, sample_weight=s, tol=1e-12, strategy="warm")
    np.testing.assert_allclose(path_run.traces["path"]["coefs"], path.coefs.numpy().T,
                               rtol=1e-7, atol=1e-9)
    cv_run = quiet_run(config(tmp_path, data, alpha=grid, cv=3))
    cv = lt.cv.cross_validate(X, y, grid, n_folds=3, seed=0, tol=1e-6, sample_weight=s)
    np.testing.assert_allclose(cv_run.traces["cv"]["mse_path"], cv.mse_path, rtol=1e-6)
    assert cv_run.metrics["problem"]["alpha"] == cv.alpha


def test_a_torch_optimizer_minimizes_the_weighted_loss(tmp_path):
    """Integer weights are repeated rows: full-batch Adam takes the same steps on both."""
    X, y = synthetic()
    reps = np.arange(N) % 3
    np.savez(tmp_path / "w.npz", X=X, y=y, w=reps.astype(float))
    np.savez(tmp_path / "r.npz", X=np.repeat(X, reps, axis=0), y=np.repeat(y, reps))
    adam = [{"kind": "adam", "lr": 0.01, "max_iter": 200, "record_every": 200}]
    a = quiet_run(config(tmp_path, {"kind": "npz", "path": str(tmp_path / "w.npz"),
                                    "sample_weight": "w"}, adam))
    b = quiet_run(config(tmp_path, {"kind": "npz", "path": str(tmp_path / "r.npz")}, adam))
    np.testing.assert_allclose(final_coef(a, "adam"), final_coef(b, "adam"), rtol=1e-8,
                               atol=1e-10)
    assert a.metrics["solvers"]["adam"]["objective"] == pytest.approx(
        b.metrics["solvers"]["adam"]["objective"], rel=1e-9)


def _bad_cases(tmp_path):
    X, y = synthetic()
    np.savez(tmp_path / "d.npz", X=X, y=y, w=-np.ones(N), short=np.ones(N - 1))
    np.savetxt(tmp_path / "d.csv", np.column_stack([X[:, :2], y]), delimiter=",",
               header="a,b,y", comments="")
    for name, values in {"nan": np.where(np.arange(N) == 3, np.nan, 1.0),
                         "zero": np.zeros(N), "neg": -np.ones(N)}.items():
        np.save(tmp_path / f"{name}.npy", values)
    (tmp_path / "text.csv").write_text("weight\n1\n")
    npz = {"kind": "npz", "path": str(tmp_path / "d.npz")}
    csv = {"kind": "csv", "path": str(tmp_path / "d.csv"), "target": "y"}
    return {
        "nan": ({**npz, "sample_weight": {"file": "nan.npy"}}, "row 3 is nan"),
        "all_zero": ({**npz, "sample_weight": {"file": "zero.npy"}}, "all weights are 0"),
        "negative": ({**npz, "sample_weight": "w"}, ">= 0; row 0 is -1.0"),
        "length": ({**npz, "sample_weight": "short"}, f"expected {N} weights"),
        "no_array": ({**npz, "sample_weight": "v"}, "has no array 'v'"),
        "no_column": ({**csv, "sample_weight": "w"}, "has no column 'w'"),
        "target": ({**csv, "sample_weight": "y"}, "is the target"),
        "no_file": ({**npz, "sample_weight": {"file": "none.npy"}}, "data file not found"),
        "text": ({**npz, "sample_weight": {"file": "text.csv"}}, "one number per line"),
        "synthetic_column": ({"kind": "synthetic", "sample_weight": "w"}, "sample_weight"),
    }


def test_bad_weights_are_one_line_and_exit_2_with_nothing_written(tmp_path):
    for case, (data, match) in _bad_cases(tmp_path).items():
        (tmp_path / f"{case}.yaml").write_text(yaml.safe_dump(config(tmp_path, data)))
        res = CliRunner().invoke(app, ["run", str(tmp_path / f"{case}.yaml"), "--no-plots"])
        assert res.exit_code == 2, (case, res.output)
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (case, lines)
        assert match in lines[0] and "sample_weight" in lines[0], (case, lines[0])
        assert "Traceback" not in res.output
        assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_weights_do_not_run_distributed(tmp_path):
    np.save(tmp_path / "w.npy", np.ones(N))
    cfg = config(tmp_path, {"kind": "synthetic", "n": N, "sample_weight": {
        "file": str(tmp_path / "w.npy")}}, distributed=True)
    cfg["distributed"] = cfg["objective"].pop("distributed")
    with pytest.raises(lt.InputError, match="data.sample_weight does not run with distributed"):
        run_config(cfg)
