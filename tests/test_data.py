"""Data sources: synthetic design laws, row sharding, bundled diabetes, CSV/NPZ loaders."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lasso_torch as lt
from lasso_torch.data import (
    BLOCK_ROWS,
    check_data,
    load_csv,
    load_diabetes,
    load_npz,
    make_synthetic,
    standardize,
)


def test_synthetic_shapes_and_truth():
    X, y, beta = make_synthetic(300, 40, correlation=0.5, density=0.1, seed=3)
    assert X.shape == (300, 40) and y.shape == (300,) and beta.shape == (40,)
    assert X.dtype == torch.float64
    assert int((beta != 0).sum()) == 4
    nz = beta[beta != 0].abs()
    assert bool(((nz >= 1) & (nz <= 2)).all())


def test_synthetic_at_least_one_nonzero():
    _, _, beta = make_synthetic(10, 5, density=0.0)
    assert int((beta != 0).sum()) == 1


def test_synthetic_is_deterministic_and_seed_dependent():
    a = make_synthetic(100, 7, correlation=0.3, seed=5)
    b = make_synthetic(100, 7, correlation=0.3, seed=5)
    c = make_synthetic(100, 7, correlation=0.3, seed=6)
    for u, v in zip(a, b, strict=True):
        assert torch.equal(u, v)
    assert not torch.equal(a[0], c[0])


def test_synthetic_toeplitz_correlation_and_snr():
    rho, snr = 0.7, 4.0
    X, y, beta = make_synthetic(20000, 6, correlation=rho, density=0.5, snr=snr, seed=1)
    emp = torch.cov(X.T)
    target = rho ** (torch.arange(6)[:, None] - torch.arange(6)[None, :]).abs().double()
    assert torch.allclose(emp, target, atol=0.04)
    noise = y - X @ beta
    signal_var = float(beta @ target @ beta)
    assert float(noise.var()) == pytest.approx(signal_var / snr, rel=0.05)


def test_synthetic_no_noise_when_snr_inf():
    X, y, beta = make_synthetic(50, 5, snr=float("inf"))
    assert torch.allclose(y, X @ beta, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 3 * BLOCK_ROWS + 5),
    cuts=st.lists(st.floats(0, 1), min_size=1, max_size=3),
)
def test_rows_slices_reassemble_the_full_data(n, cuts):
    X, y, _ = make_synthetic(n, 3, correlation=0.4, seed=11)
    bounds = sorted({0, n, *(int(c * n) for c in cuts)})
    parts = [make_synthetic(n, 3, correlation=0.4, seed=11, rows=slice(a, b))
             for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    assert torch.equal(torch.cat([p[0] for p in parts]), X)
    assert torch.equal(torch.cat([p[1] for p in parts]), y)


def test_synthetic_dtype():
    X, y, beta = make_synthetic(20, 4, dtype=torch.float32)
    assert X.dtype == y.dtype == beta.dtype == torch.float32
    X64, _, _ = make_synthetic(20, 4)
    assert torch.equal(X, X64.float())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_synthetic_cuda_same_values():
    X, _, _ = make_synthetic(20, 4, device="cuda")
    assert X.is_cuda and torch.equal(X.cpu(), make_synthetic(20, 4)[0])


@pytest.mark.parametrize("kwargs", [
    {"n": 0, "p": 3}, {"n": 3, "p": 0}, {"n": 3, "p": 3, "correlation": 1.0},
    {"n": 3, "p": 3, "density": 1.5}, {"n": 3, "p": 3, "snr": 0.0},
    {"n": 10, "p": 3, "rows": slice(0, 10, 2)},
])
def test_synthetic_bad_arguments(kwargs):
    with pytest.raises(lt.InputError):
        make_synthetic(**kwargs)


def test_diabetes_is_the_lars_data():
    X, y = load_diabetes()
    assert X.shape == (442, 10) and y.shape == (442,)
    assert X[0].tolist()[:4] == [59.0, 2.0, 32.1, 101.0]
    assert y[:3].tolist() == [151.0, 75.0, 141.0]
    sk = pytest.importorskip("sklearn.datasets")
    Xs, ys = sk.load_diabetes(return_X_y=True, scaled=False)
    assert np.array_equal(X.numpy(), Xs) and np.array_equal(y.numpy(), ys)


def test_csv_roundtrip(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("a,target,b\n1,2,3\n4,5,6\n7,8,9.5\n")
    X, y = load_csv(f, "target")
    assert X.tolist() == [[1, 3], [4, 6], [7, 9.5]] and y.tolist() == [2, 5, 8]
    X2, y2 = load_csv(f, 1)
    assert torch.equal(X, X2) and torch.equal(y, y2)


@pytest.mark.parametrize("text, target, match", [
    ("a,b\n1,2\n", "c", "no column named 'c'"),
    ("a,b\n1,nan\n", "b", "NaN/inf"),
    ("a,b\n1,inf\n", "a", "NaN/inf"),
    ("a,b\n1,x\n", "b", "line 2"),
    ("a,b\n1,2,3\n", "b", "line 2"),
    ("a,b\n", "b", "zero rows"),
    ("y\n1\n2\n", "y", "zero features"),
    ("", "y", "empty"),
])
def test_csv_errors(tmp_path, text, target, match):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(lt.InputError, match=match):
        load_csv(f, target)


def test_missing_files_name_the_file(tmp_path):
    for loader in (load_csv, load_npz):
        with pytest.raises(lt.InputError, match="nope"):
            loader(tmp_path / "nope.csv", "y")


def test_npz_loader(tmp_path):
    f = tmp_path / "d.npz"
    X = np.arange(12.0).reshape(4, 3)
    np.savez(f, X=X, y=np.ones(4))
    Xt, yt = load_npz(f)
    assert np.array_equal(Xt.numpy(), X) and yt.tolist() == [1.0] * 4
    Xc, yc = load_npz(f, target=0)
    assert np.array_equal(Xc.numpy(), X[:, 1:]) and np.array_equal(yc.numpy(), X[:, 0])
    np.savez(f, X=X, y=np.ones(5))
    with pytest.raises(lt.InputError, match="4 rows but y has 5"):
        load_npz(f)
    with pytest.raises(lt.InputError, match="no array 'z'"):
        load_npz(f, target="z")


def test_check_data_messages():
    with pytest.raises(lt.InputError, match="src: X has 3 rows but y has 2"):
        check_data(torch.zeros(3, 2), torch.zeros(2), "src")


def test_standardize():
    X, _, _ = make_synthetic(50, 4, seed=2)
    X = torch.cat([X * 3 + 1, torch.full((50, 1), 7.0, dtype=X.dtype)], 1)
    Xs, mean, scale = standardize(X)
    assert torch.allclose(Xs.mean(0), torch.zeros(5, dtype=X.dtype), atol=1e-14)
    assert torch.allclose(Xs[:, :4].std(0, correction=0), torch.ones(4, dtype=X.dtype))
    assert torch.equal(Xs[:, 4], torch.zeros(50, dtype=X.dtype)) and float(scale[4]) == 1.0
    assert torch.allclose(Xs * scale + mean, X)
