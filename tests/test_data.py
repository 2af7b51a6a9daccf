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


# --- input checks of lt.solve (checks.as_data) and the loaders: issue 15 ------------------
def _xy(n: int = 20, p: int = 5):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(n, p, generator=g, dtype=torch.float64),
            torch.randn(n, generator=g, dtype=torch.float64))


def test_requires_grad_inputs_solve_the_same_and_carry_the_implicit_gradient():
    X, y = _xy()
    res = lt.solve(X.requires_grad_(), y.requires_grad_(), 0.1)
    ref = lt.solve(X.detach(), y.detach(), 0.1)
    assert res.converged and torch.equal(res.coef.detach(), ref.coef)
    assert res.coef.requires_grad and not ref.coef.requires_grad  # lasso_torch.implicit


@pytest.mark.parametrize("bad,words", [
    (lambda X: torch.empty(X.shape, device="meta"), ["X is on the meta device"]),
    (lambda X: X.to(torch.complex128), ["X is complex"]),
    (lambda X: X * 1e200, ["X has values up to", "overflow float64"]),
    (lambda X: X[:1], ["1 sample", "at least 2 samples"]),
])
def test_solve_refuses_inputs_with_one_clear_error(bad, words):
    X, y = _xy()
    Xb = bad(X)
    yb = y[: Xb.shape[0]]
    with pytest.raises(lt.InputError) as e:
        lt.solve(Xb, yb, 0.1)
    for w in words:
        assert w in str(e.value)


def test_complex_y_and_float32_overflow_are_refused():
    X, y = _xy()
    with pytest.raises(lt.InputError, match="y is complex"):
        lt.solve(X, y.to(torch.complex128), 0.1)
    with pytest.raises(lt.InputError, match="overflow float32"):
        lt.solve(X.float() * 1e19, y.float(), 0.1)


def test_lists_solve_in_float64_like_numpy():
    X, y = _xy()
    from_list = lt.solve(X.tolist(), y.tolist(), 0.1)
    from_numpy = lt.solve(X.numpy(), y.numpy(), 0.1)
    assert from_list.coef.dtype == from_numpy.coef.dtype == torch.float64
    assert torch.equal(from_list.coef, from_numpy.coef)
    assert lt.solve(X.numpy().astype(np.float32), y.numpy(), 0.1).coef.dtype == torch.float32
    assert lt.solve(np.arange(40).reshape(20, 2), np.arange(20) % 3, 0.1).coef.dtype == \
        torch.float64


def test_one_sample_without_intercept_is_a_problem_to_solve():
    res = lt.solve([[1.0, 2.0]], [3.0], 0.1, fit_intercept=False, solver="cd")
    assert res.converged


def test_standardize_is_scale_invariant_at_the_extremes():
    X, _ = _xy(50, 3)
    ref = lt.standardize(X)[0]
    for scale in (1e200, 1e-200):
        torch.testing.assert_close(lt.standardize(X * scale)[0], ref, rtol=0, atol=1e-14)


def test_npz_files_that_are_not_npz(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, X=np.ones((4, 2)), y=np.arange(4.0))
    cases = {
        "trunc.npz": (good.read_bytes()[:100], "not a readable .npz file"),
        "text.npz": (b"1,2\n3,4\n", "not a zip archive"),
        "empty.npz": (b"", "the file is empty"),
    }
    for name, (content, words) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(lt.InputError, match=words):
            lt.load_npz(tmp_path / name)
    np.save(tmp_path / "array.npy", np.ones(3))
    (tmp_path / "array.npz").write_bytes((tmp_path / "array.npy").read_bytes())
    with pytest.raises(lt.InputError, match="not a zip archive"):
        lt.load_npz(tmp_path / "array.npz")
    np.savez(tmp_path / "c.npz", X=np.ones((4, 2)) * 1j, y=np.ones(4))
    with pytest.raises(lt.InputError, match="'X' is complex"):
        lt.load_npz(tmp_path / "c.npz")
    np.savez(tmp_path / "s.npz", X=np.array([["a", "b"]] * 4), y=np.ones(4))
    with pytest.raises(lt.InputError, match="expected numbers"):
        lt.load_npz(tmp_path / "s.npz")
    (tmp_path / "l.csv").write_bytes("a,b,y\n1,2,caf\xe9\n".encode("latin-1"))
    with pytest.raises(lt.InputError, match="not a readable CSV text file"):
        lt.load_csv(tmp_path / "l.csv", "y")
