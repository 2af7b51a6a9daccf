"""Sparse data: the text-like generator, libsvm/svmlight files, and configs that run them
(X never densified)."""

import numpy as np
import pytest
import torch
from scipy import sparse as scipy_sparse

import lasso_torch as lt
from lasso_torch import InputError
from lasso_torch.data_sparse import load_svmlight, make_sparse_synthetic, standardize_sparse
from lasso_torch.experiment import run_config, validate


def test_sparse_synthetic_is_text_like_and_deterministic():
    X, y, beta = make_sparse_synthetic(2000, 3000, 0.01, informative=30, seed=3)
    assert X.layout == torch.sparse_csr and X.shape == (2000, 3000)
    nnz = X.values().numel()
    assert 0.995 * 0.01 * 2000 * 3000 <= nnz <= 0.01 * 2000 * 3000
    counts = np.bincount(X.col_indices().numpy(), minlength=3000)
    assert counts[:30].mean() > 20 * counts[-1000:].mean()  # power-law frequencies
    assert int((beta != 0).sum()) == 30 and y.shape == (2000,)
    X2, y2, _ = make_sparse_synthetic(2000, 3000, 0.01, informative=30, seed=3)
    assert torch.equal(X2.values(), X.values()) and torch.equal(y2, y)
    yl = make_sparse_synthetic(200, 300, 0.05, seed=1, loss="logistic")[1]
    assert set(yl.unique().tolist()) == {0.0, 1.0}
    with pytest.raises(InputError, match="density"):
        make_sparse_synthetic(10, 10, 0.0)


def test_svmlight_round_trip_and_errors(tmp_path):
    from sklearn.datasets import dump_svmlight_file

    A = scipy_sparse.random(30, 12, density=0.3, random_state=0, format="csr")
    y = np.arange(30.0)
    dump_svmlight_file(A, y, str(tmp_path / "d.svm"), zero_based=False)
    X, yt = load_svmlight(tmp_path / "d.svm", n_features=12)
    assert X.layout == torch.sparse_csr
    np.testing.assert_allclose(X.to_dense().numpy(), A.toarray(), rtol=1e-15)  # text: %.16g
    np.testing.assert_array_equal(yt.numpy(), y)
    (tmp_path / "bad.svm").write_text("1 3:x\n")
    with pytest.raises(InputError, match="libsvm"):
        load_svmlight(tmp_path / "bad.svm")
    with pytest.raises(InputError, match="not found"):
        load_svmlight(tmp_path / "missing.svm")


def test_standardize_sparse_scales_like_the_dense_standardize():
    X, _, _ = make_sparse_synthetic(300, 40, 0.1, informative=5, seed=2)
    s = torch.rand(300, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for w in (None, s):
        Z, mean, scale = standardize_sparse(X, w)
        Zd, meand, scaled = lt.standardize(X.to_dense(), w)
        torch.testing.assert_close(scale, scaled)
        torch.testing.assert_close(mean, meand)
        torch.testing.assert_close(Z.to_dense() - mean / scale, Zd)  # centered: the same


@pytest.mark.parametrize("kind", ["libsvm", "sparse_synthetic"])
def test_configs_run_sparse_data(tmp_path, kind):
    from sklearn.datasets import dump_svmlight_file

    X, y, _ = make_sparse_synthetic(300, 500, 0.02, informative=10, seed=0)
    A = scipy_sparse.csr_matrix((X.values().numpy(), X.col_indices().numpy(),
                                 X.crow_indices().numpy()), shape=(300, 500))
    dump_svmlight_file(A, y.numpy(), str(tmp_path / "t.svm"))
    data = ({"kind": "libsvm", "path": str(tmp_path / "t.svm"), "n_features": 500}
            if kind == "libsvm" else {"kind": "sparse_synthetic", "n": 300, "p": 500,
                                      "density": 0.02, "informative": 10})
    cfg = {"name": "sp", "output": str(tmp_path / "runs"), "device": "cpu", "data": data,
           "objective": {"alpha": {"fraction": 0.1}},
           "solvers": [{"kind": "auto", "tol": 1e-8}, {"kind": "cd", "tol": 1e-8}]}
    assert validate(cfg).data.kind == kind
    run = run_config(cfg)
    for name in ("auto", "cd"):
        assert run.metrics["solvers"][name]["status"] == "converged"
    with pytest.raises(Exception, match="sharded|locally"):
        from lasso_torch.experiment.rows import load_rows
        load_rows(validate(cfg), 0, 2)
