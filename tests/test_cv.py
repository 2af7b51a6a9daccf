"""lasso_torch.cv: K-fold masks and cross-validated alpha from one batched path."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lasso_torch as lt
from lasso_torch.cv import cross_validate, heldout_mse, kfold_masks, masks_from_folds

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 60), folds=st.integers(2, 10), shuffle=st.booleans(),
       seed=st.integers(0, 5))
def test_kfold_masks_hold_out_every_row_exactly_once(n, folds, shuffle, seed):
    if folds > n:
        with pytest.raises(lt.InputError, match="folds"):
            kfold_masks(n, folds)
        return
    m = kfold_masks(n, folds, shuffle=shuffle, seed=seed)
    assert m.shape == (n, folds)
    assert torch.equal((1 - m).sum(1), torch.ones(n, dtype=m.dtype))  # one test fold per row
    sizes = sorted((1 - m).sum(0).long().tolist(), reverse=True)
    assert sizes == [n // folds + (1 if f < n % folds else 0) for f in range(folds)]


def test_unshuffled_masks_are_sklearns_kfold():
    KFold = pytest.importorskip("sklearn.model_selection").KFold
    train, test = masks_from_folds(23, list(KFold(4).split(np.zeros((23, 1)))))
    assert torch.equal(train, kfold_masks(23, 4, shuffle=False))
    assert torch.equal(test, 1 - train)


def problem(n=60, p=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, p, generator=g, dtype=torch.float64)
    beta = torch.zeros(p, dtype=torch.float64)
    beta[:4] = torch.tensor([3.0, -2.0, 1.5, 1.0], dtype=torch.float64)
    y = X @ beta + 0.5 * torch.randn(n, generator=g, dtype=torch.float64) + 1.0
    return X, y


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_cross_validate_equals_one_solve_per_fold_and_alpha(l1_ratio):
    X, y = problem()
    amax = float(lt.alpha_max(X, y, l1_ratio))
    alphas = amax * np.array([0.5, 0.05, 0.2, 0.01])  # unsorted: used in decreasing order
    res = cross_validate(X, y, alphas, l1_ratio, n_folds=3, seed=1, tol=1e-12,
                         max_iter=100_000)
    assert res.converged and res.mse_path.shape == (4, 3)
    np.testing.assert_array_equal(res.alphas, np.sort(alphas)[::-1])
    masks = kfold_masks(60, 3, seed=1)
    for f in range(3):
        tr, te = masks[:, f].bool(), ~masks[:, f].bool()
        for k, a in enumerate(res.alphas):
            s = lt.solve(X[tr], y[tr], float(a), l1_ratio, "cd", tol=1e-14, max_iter=100_000)
            r = y[te] - X[te] @ s.coef - s.intercept
            assert res.mse_path[k, f] == pytest.approx(float((r * r).mean()), rel=1e-8)
    assert res.index == int(np.argmin(res.mse_path.mean(1)))
    assert res.alpha == res.alphas[res.index]
    np.testing.assert_allclose(res.mse_std, res.mse_path.std(1))


def test_cross_validate_picks_a_sparse_model_and_runs_in_float32():
    X, y = problem()
    amax = float(lt.alpha_max(X, y))
    alphas = amax * np.geomspace(1, 1e-3, 20)
    res64 = cross_validate(X, y, alphas, tol=1e-8)
    res32 = cross_validate(X.float(), y.float(), alphas, tol=1e-4)
    assert 0 < res64.index < 19  # an interior minimum: the noise is not fitted
    assert abs(res32.index - res64.index) <= 1
    np.testing.assert_allclose(res32.mse_path, res64.mse_path, rtol=1e-2)


def test_heldout_mse_by_hand():
    X, y = problem(n=10, p=5)
    test = torch.zeros(10, 2, dtype=X.dtype)
    test[:4, 0], test[4:, 1] = 1, 1
    coefs = torch.ones(2, 5, 1, dtype=X.dtype)
    inter = torch.zeros(2, 1, dtype=X.dtype)
    mse = heldout_mse(X, y, test, coefs, inter)
    assert float(mse[0, 0]) == pytest.approx(float(((y[:4] - X[:4].sum(1)) ** 2).mean()))
    assert float(mse[1, 0]) == pytest.approx(float(((y[4:] - X[4:].sum(1)) ** 2).mean()))


def test_bad_inputs_are_input_errors():
    X, y = problem(n=12, p=5)
    with pytest.raises(lt.InputError, match="alphas"):
        cross_validate(X, y, [0.1, -1.0])
    with pytest.raises(lt.InputError, match="held-out"):
        cross_validate(X, y, [0.1], masks=torch.ones(12, 2, dtype=X.dtype))


# --- the config option: objective.cv ----------------------------------------------------------
def test_config_cv_option_chooses_alpha_by_cross_validation(tmp_path):
    from lasso_torch.data import load_diabetes, standardize
    from lasso_torch.experiment import load_config, run_config
    from lasso_torch.plots import plot_run

    cfg = {"name": "cv-diabetes", "data": {"kind": "diabetes"}, "output": str(tmp_path),
           "objective": {"kind": "lasso", "alpha": {"num": 12}, "cv": 3},
           "solvers": [{"kind": "fista", "max_iter": 2000, "record_every": 10}]}
    assert not load_config(cfg).objective.is_path
    run = run_config(cfg)
    X, y = load_diabetes()
    expected = cross_validate(standardize(X)[0], y, run.traces["cv"]["alphas"], n_folds=3,
                              seed=0)
    pb = run.metrics["problem"]
    assert pb["alpha"] == pytest.approx(expected.alpha, rel=1e-12)
    assert pb["cv"]["folds"] == 3 and pb["cv"]["num"] == 12 and pb["cv"]["converged"]
    np.testing.assert_allclose(run.traces["cv"]["mse_path"], expected.mse_path, rtol=1e-9)
    assert run.traces["cv"]["alphas"][0] == pytest.approx(pb["alpha_max"], rel=1e-12)
    assert run.metrics["solvers"]["fista"]["converged"]
    (fig,) = plot_run(run.path, kinds=["cv"])
    assert fig.name == "cv.png" and fig.stat().st_size > 0


def test_config_cv_needs_a_grid_and_one_process():
    from lasso_torch.experiment import load_config

    base = {"name": "x", "objective": {"alpha": 0.1, "cv": 5}}
    with pytest.raises(lt.InputError, match="cv chooses alpha from a grid"):
        load_config(base)
    with pytest.raises(lt.InputError, match="objective.cv: Input should be greater"):
        load_config({"name": "x", "objective": {"alpha": [0.1, 0.2], "cv": 1}})
    with pytest.raises(lt.InputError, match="does not run distributed"):
        load_config({"name": "x", "distributed": True,
                     "objective": {"alpha": [0.1, 0.2], "cv": 5}})
