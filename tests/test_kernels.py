"""The compiled host kernels: CD epochs equal a plain Python epoch bit for bit, the
compiled certificate equals the project's, and the working-set Anderson CD engine solves
what scikit-learn solves, with CD's exact zeros and its own certificate."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lasso_torch as lt
from lasso_torch.data import make_synthetic
from lasso_torch.penalties import make_penalty
from lasso_torch.solvers import CoordinateDescent, run_loop
from lasso_torch.solvers.anderson import anderson_weights
from lasso_torch.solvers.anderson_cd import AndersonCD
from lasso_torch.solvers.kernels import (
    cd_epoch_gram,
    cd_epoch_residual,
    enet_certificate,
    kkt_scores,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")
DTYPES = {"float32": np.float32, "float64": np.float64}


# --- the plain Python reference epoch ----------------------------------------------------
def ref_dot(a: np.ndarray, b: np.ndarray):
    """The kernels' summation order: four lanes ``i mod 4``, the tail into lane 0."""
    s = [a.dtype.type(0)] * 4
    m = len(a) - len(a) % 4
    for i in range(m):
        s[i % 4] = s[i % 4] + a[i] * b[i]
    for i in range(m, len(a)):
        s[0] = s[0] + a[i] * b[i]
    return (s[0] + s[1]) + (s[2] + s[3])


def ref_epoch(gram: bool, A, aux, w, norms, l1, l2, order) -> None:
    """One textbook CD epoch in numpy scalars of the arrays' dtype (in place)."""
    zero = w.dtype.type(0)
    for j in order:
        nj = norms[j]
        if nj == 0:
            continue
        wj = w[j]
        z = (aux[j] if gram else ref_dot(A[:, j], aux)) + wj * nj
        new = (z - l1) / (nj + l2) if z > l1 else (z + l1) / (nj + l2) if z < -l1 else zero
        if new != wj:
            d = new - wj
            aux[:] = aux - d * (A[j] if gram else A[:, j])
            w[j] = new


problems = st.tuples(
    st.integers(2, 12), st.integers(1, 9), st.integers(0, 2**31 - 1),
    st.sampled_from(["float32", "float64"]), st.sampled_from([1.0, 0.7, 0.0]),
    st.floats(0.01, 1.2), st.booleans(),
)


def _problem(n, p, seed, dtype, zero_col=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) @ (np.eye(p) + 0.5 * rng.standard_normal((p, p)))
    if zero_col and p > 1:
        X[:, 0] = 1.0  # a constant column: zero once centered, skipped by CD
    X = X - X.mean(0)
    y = X[:, : min(p, 3)].sum(1) + rng.standard_normal(n)
    y = y - y.mean()
    return np.asfortranarray(X.astype(dtype)), y.astype(dtype)


@settings(max_examples=60, deadline=None)
@given(problems)
def test_compiled_epochs_equal_the_python_epoch_iterate_for_iterate(case):
    n, p, seed, dtype, rho, frac, random_order = case
    X, y = _problem(n, p, seed, DTYPES[dtype], zero_col=seed % 3 == 0)
    amax = float(np.abs(X.T @ y).max()) / n + 1e-3
    alpha = frac * amax
    t = X.dtype.type
    l1, l2 = t(n * alpha * rho), t(n * alpha * (1 - rho))
    rng = np.random.default_rng(seed)
    for gram in (True, False):
        G = np.ascontiguousarray(X.T @ X)
        A = G if gram else X
        norms = (np.diag(G) if gram else (X * X).sum(0)).copy()
        w_k, w_r = np.zeros(p, X.dtype), np.zeros(p, X.dtype)
        aux_k = X.T @ y if gram else y.copy()
        aux_r = aux_k.copy()
        for _ in range(4):
            order = rng.integers(0, p, p) if random_order else np.arange(p)
            epoch = cd_epoch_gram if gram else cd_epoch_residual
            epoch(A, aux_k, w_k, norms, l1, l2, order)
            ref_epoch(gram, A, aux_r, w_r, norms, l1, l2, order)
            assert w_k.dtype == X.dtype and aux_k.dtype == X.dtype
            np.testing.assert_array_equal(w_k, w_r)
            np.testing.assert_array_equal(aux_k, aux_r)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("gram", [True, False])
def test_cd_engine_steps_are_reference_epochs(dtype, gram):
    X, y, _ = make_synthetic(30, 12, correlation=0.5, density=0.3, seed=1, dtype=dtype)
    df = lt.Quadratic(X, y)
    alpha = 0.05 * float(lt.alpha_max(X, y))
    eng = CoordinateDescent(df, make_penalty(alpha, 0.8), torch.zeros(12, dtype=dtype),
                            gram=gram)
    Xc = np.asfortranarray((X - X.mean(0)).numpy())
    np.testing.assert_allclose(eng.Xc, Xc, rtol=1e-6, atol=1e-6)
    t = Xc.dtype.type
    # the reference epochs run on the engine's own inputs (centered design, norms)
    A = eng.G.copy() if gram else eng.Xc.copy()
    aux = eng.q.copy() if gram else eng.r.copy()
    norms = eng.norms.copy()
    w = np.zeros(12, Xc.dtype)
    for _ in range(5):
        eng.step()
        ref_epoch(gram, A, aux, w, norms, t(30 * alpha * 0.8), t(30 * alpha * 0.2), range(12))
        np.testing.assert_array_equal(eng.coef().numpy(), w)
        assert eng.coef().dtype == dtype


def test_random_selection_is_seeded_and_solves():
    X, y, _ = make_synthetic(60, 25, correlation=0.6, density=0.2, seed=2)
    alpha = 0.05 * float(lt.alpha_max(X, y))

    def run(seed):
        df = lt.Quadratic(X, y)
        eng = CoordinateDescent(df, make_penalty(alpha, 1.0), torch.zeros(25, dtype=X.dtype),
                                selection="random", seed=seed)
        out = run_loop(eng, max_iter=5000, tol=1e-10, check_every=1)
        return eng.coef(), out

    (a, out), (b, _), (c, _) = run(0), run(0), run(1)
    assert out.status == "converged"
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert float(lt.duality_gap(X, y, c, alpha, relative=True)) <= 1e-10
    with pytest.raises(ValueError, match="selection"):
        CoordinateDescent(lt.Quadratic(X, y), make_penalty(alpha, 1.0), torch.zeros(25),
                          selection="greedy")


# --- the compiled certificate ------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.integers(2, 30), st.integers(1, 20), st.integers(0, 2**31 - 1),
       st.sampled_from([1.0, 0.4, 0.0]), st.floats(0.01, 2.0))
def test_compiled_certificate_equals_the_projects(n, p, seed, rho, frac):
    rng = np.random.default_rng(seed)
    X = torch.from_numpy(rng.standard_normal((n, p)))
    y = torch.from_numpy(rng.standard_normal(n))
    w = torch.from_numpy(rng.standard_normal(p) * (rng.random(p) < 0.5))
    df = lt.Quadratic(X, y)
    alpha = frac * float(lt.alpha_max(X, y)) + 1e-3
    ref = lt.certificates.certify(df, w, alpha, rho)
    r, Xtr = df.residual_xtr(w)
    primal, gap, kkt = enet_certificate(float(r @ r), float(r @ df.yc), Xtr.numpy(), w.numpy(),
                                        np.arange(p), n, alpha * rho, alpha * (1 - rho))
    scale = float(df.p0) + float(ref.objective)
    assert abs(primal - float(ref.objective)) <= 1e-12 * scale
    assert abs(gap - float(ref.gap)) <= 1e-12 * scale
    assert abs(kkt - float(ref.kkt)) <= 1e-12 * (1 + float(ref.kkt))
    if rho > 0:  # off the support: |g_j| - a1, whose positive part is the KKT violation
        out = np.empty(p)
        kkt_scores(Xtr.numpy() / n, w.numpy(), alpha * rho, alpha * (1 - rho), out)
        sd = lt.penalties.make_penalty(alpha, rho).subdiff_distance(w, -Xtr / n).numpy()
        np.testing.assert_allclose(np.maximum(out, 0), sd, rtol=1e-12, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 30), st.integers(0, 2**31 - 1))
def test_anderson_weights_sum_to_one_and_minimize(K, m, seed):
    M = np.random.default_rng(seed).standard_normal((K + 1, m))
    c = anderson_weights(M)
    if c.size == 0:  # dependent steps (K >= m): no extrapolation
        assert K >= m
        return
    U = np.diff(M, axis=0)
    assert abs(c.sum() - 1) < 1e-10
    C = U @ U.T  # argmin ||U^T c|| subject to sum(c) = 1: c = C^-1 1 / (1^T C^-1 1)
    z = np.linalg.solve(C, np.ones(K))
    np.testing.assert_allclose(c, z / z.sum(), rtol=1e-6 * np.linalg.cond(C), atol=1e-12)


# --- the working-set Anderson CD engine --------------------------------------------------
def _solve(X, y, alpha, rho=1.0, tol=1e-10, gram=None, **kw):
    df = lt.Quadratic(X, y)
    eng = AndersonCD(df, make_penalty(alpha, rho), torch.zeros(X.shape[1], dtype=X.dtype),
                     tol=tol,
                     gram=gram, **kw)
    out = run_loop(eng, max_iter=500, tol=tol, check_every=1,
                   stall_patience=5)
    return eng, out


def _sklearn(X, y, alpha, rho):
    from sklearn.linear_model import ElasticNet, Lasso

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = Lasso(alpha=alpha) if rho == 1 else ElasticNet(alpha=alpha, l1_ratio=rho)
        est.set_params(tol=1e-14, max_iter=200_000)
        return torch.from_numpy(est.fit(X.numpy(), y.numpy()).coef_)


@pytest.mark.parametrize("gram", [True, False])
@pytest.mark.parametrize("rho", [1.0, 0.5])
@pytest.mark.parametrize("shape,frac", [((50, 30), 0.1), ((60, 200), 0.05), ((400, 40), 0.01),
                                        ((40, 120), 0.3)])
def test_anderson_cd_equals_sklearn_and_cd_zeros(shape, frac, rho, gram):
    X, y, _ = make_synthetic(*shape, correlation=0.6, density=0.1, seed=sum(shape))
    alpha = frac * float(lt.alpha_max(X, y)) / rho
    eng, out = _solve(X, y, alpha, rho, gram=gram)
    assert out.status == "converged" and eng.use_gram == gram
    w = eng.coef()
    assert float(lt.duality_gap(X, y, w, alpha, l1_ratio=rho, relative=True)) <= 1e-10
    assert float(out.cert.rel_gap) <= 1e-10
    ref = _sklearn(X, y, alpha, rho)
    scale = float(ref.abs().max())
    torch.testing.assert_close(w, ref, rtol=0, atol=1e-5 * scale)
    cd = lt.solve(X, y, alpha, l1_ratio=rho, solver="cd", tol=1e-12, max_iter=100_000)
    assert torch.equal(w == 0.0, cd.coef == 0.0)


@pytest.mark.parametrize("gram", [True, False])
def test_anderson_cd_ridge_and_alpha_above_alpha_max(gram):
    X, y, _ = make_synthetic(80, 30, correlation=0.5, seed=3)
    amax = float(lt.alpha_max(X, y))
    eng, out = _solve(X, y, 2 * amax, gram=gram)
    assert out.status == "converged" and bool((eng.coef() == 0.0).all())
    eng, out = _solve(X, y, 0.1 * amax, rho=0.0, gram=gram)
    assert out.status == "converged"
    assert float(lt.duality_gap(X, y, eng.coef(), 0.1 * amax, l1_ratio=0.0,
                                relative=True)) <= 1e-10


@pytest.mark.parametrize("gram", [True, False])
def test_anderson_cd_certificate_is_the_projects_and_warm_start(gram):
    X, y, _ = make_synthetic(100, 50, correlation=0.7, density=0.2, seed=4)
    alpha = 0.02 * float(lt.alpha_max(X, y))
    eng, out = _solve(X, y, alpha, tol=1e-8, gram=gram)
    ref = lt.certificates.certify(eng.datafit, eng.coef(), alpha, 1.0)
    for got, want in zip(out.cert, ref, strict=True):
        assert abs(float(got) - float(want)) <= 1e-12 * float(eng.datafit.p0)
    df = lt.Quadratic(X, y)
    warm = AndersonCD(df, make_penalty(0.9 * alpha, 1.0), eng.coef(), tol=1e-8, gram=gram)
    out = run_loop(warm, max_iter=100, tol=1e-8, check_every=1)
    assert out.status == "converged" and out.n_iter <= 3


@pytest.mark.parametrize("shape,gram", [((80, 300), False), ((400, 40), True)])
def test_anderson_cd_float32_stops_honestly(shape, gram):
    X, y, _ = make_synthetic(*shape, correlation=0.6, density=0.05, seed=6,
                             dtype=torch.float32)
    alpha = 0.02 * float(lt.alpha_max(X, y))
    eng, out = _solve(X, y, alpha, tol=1e-12, gram=gram)
    assert eng.coef().dtype == torch.float32
    assert out.status in ("converged", "stalled")
    gap = lt.duality_gap(X.double(), y.double(), eng.coef().double(), alpha, relative=True)
    assert float(gap) < 1e-4


# --- the working-set subproblem, compiled against its numpy implementation ---------------
@settings(max_examples=40, deadline=None)
@given(st.integers(5, 60), st.integers(2, 40), st.integers(0, 2**31 - 1),
       st.sampled_from([1.0, 0.6]), st.floats(0.003, 0.5), st.floats(0.0, 0.95))
def test_compiled_subproblem_equals_the_numpy_one(n, m, seed, rho, frac, corr):
    from lasso_torch.solvers.subproblem import GramSubproblem

    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, m))
    X = np.sqrt(1 - corr) * Z + np.sqrt(corr) * Z[:, :1]  # correlated: ill-conditioned
    X -= X.mean(0)
    y = X[:, : min(m, 4)] @ rng.standard_normal(min(m, 4)) + 0.5 * rng.standard_normal(n)
    y -= y.mean()
    G, c, yy = X.T @ X / n, X.T @ y / n, float(y @ y) / n
    alpha = frac * float(np.abs(c).max()) / rho
    out = {}
    for compiled in (True, False):
        sub = GramSubproblem(G, c, yy, alpha, rho, n - 1, compiled=compiled)
        w = sub.solve(np.zeros(m), 1e-14 * yy)
        out[compiled] = (w, sub.gap(w))
    (w1, g1), (w0, g0) = out[True], out[False]
    assert abs(g1 - g0) <= 1e-13 * yy
    if max(g0, g1) <= 1e-14 * yy:  # both solved: the same solution
        np.testing.assert_allclose(w1, w0, rtol=0, atol=1e-12 * max(1.0, np.abs(w0).max()))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(0, 2**31 - 1), st.sampled_from([1.0, 0.5, 0.0]))
def test_compiled_fista_iterations_equal_numpy_ones(m, seed, rho):
    from lasso_torch.solvers.subproblem import GramSubproblem
    from lasso_torch.solvers.subproblem_kernels import fista_chunk

    rng = np.random.default_rng(seed)
    B = rng.standard_normal((m + 3, m))
    G, c = B.T @ B / (m + 3), rng.standard_normal(m)
    alpha = 0.2 * float(np.abs(c).max())
    sub = GramSubproblem(G, c, 1.0, alpha, rho, m, compiled=False)
    step = 1.0 / np.linalg.eigvalsh(G)[-1]
    x0, v0, t0 = np.zeros(m), np.zeros(m), 1.0
    x1, v1, t1 = x0.copy(), v0.copy(), t0
    for _ in range(25):
        x0, v0, t0 = sub.fista_step(x0, v0, t0, step)
        t1 = fista_chunk(sub.G, sub.c, x1, v1, t1, step, sub.a1, sub.a2, 1)
        scale = max(1.0, float(np.abs(x0).max()))
        np.testing.assert_allclose(x1, x0, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(v1, v0, rtol=0, atol=1e-12 * scale)
        assert t1 == pytest.approx(t0, rel=1e-12)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("engine", ["cd", "anderson"])
def test_host_engines_on_cuda_data(engine):
    X, y, _ = make_synthetic(60, 40, correlation=0.5, density=0.2, seed=8)
    alpha = 0.05 * float(lt.alpha_max(X, y))
    Xg, yg = X.cuda(), y.cuda()
    df = lt.Quadratic(Xg, yg)
    w0 = torch.zeros(40, dtype=X.dtype, device="cuda")
    eng = (CoordinateDescent(df, make_penalty(alpha, 1.0), w0) if engine == "cd"
           else AndersonCD(df, make_penalty(alpha, 1.0), w0, tol=1e-9))
    out = run_loop(eng, max_iter=10_000, tol=1e-9, check_every=1)
    assert out.status == "converged" and eng.coef().is_cuda and out.cert.gap.is_cuda
    assert float(lt.duality_gap(X, y, eng.coef().cpu(), alpha, relative=True)) <= 1e-9


@settings(max_examples=25, deadline=None)
@given(p=st.integers(1, 25), seed=st.integers(0, 10_000), rho=st.sampled_from([1.0, 0.6]),
       bounded=st.sampled_from(["none", "positive", "box"]), weighted=st.booleans())
def test_box_enet_epoch_equals_the_python_prox_epoch(p, seed, rho, bounded, weighted):
    """The compiled epoch of the weighted / bounded elastic net (penalty_cd) equals the
    Python loop over prox_1d bit for bit, epoch after epoch."""
    from lasso_torch.solvers.kernels import box_enet_epoch
    from lasso_torch.solvers.penalty_cd import prox_1d

    rng = np.random.default_rng(seed)
    A = rng.standard_normal((3 * p + 5, p))
    G = A.T @ A / A.shape[0]
    c = rng.standard_normal(p)
    P = {"kind": "enet", "a1": rho * rng.uniform(0.0, 0.5, p) * (1 if weighted else 0) +
         (0 if weighted else rho * 0.2), "a2": np.full(p, (1 - rho) * 0.2),
         "lo": np.full(p, -np.inf), "hi": np.full(p, np.inf)}
    P["a1"] = np.broadcast_to(P["a1"], (p,)).copy()
    if bounded == "positive":
        P["lo"][:] = 0.0
    elif bounded == "box":
        P["lo"][:], P["hi"][:] = -0.3, rng.uniform(0.0, 0.5, p)
    w1 = np.clip(np.zeros(p), P["lo"], P["hi"])
    w2 = w1.copy()
    q1, q2 = c - G @ w1, c - G @ w1
    idx = rng.permutation(p).astype(np.int64)
    for _ in range(4):
        box_enet_epoch(G, q1, w1, idx, P["a1"], P["a2"], P["lo"], P["hi"])
        for j in idx:  # the reference: penalty_cd's own Python update
            new = prox_1d(w2[j] + q2[j] / G[j, j], 1.0 / G[j, j], j, P)
            if new != w2[j]:
                q2 -= (new - w2[j]) * G[j]
                w2[j] = new
        np.testing.assert_array_equal(w1, w2)
        np.testing.assert_array_equal(q1, q2)
    assert ((w1 >= P["lo"]) & (w1 <= P["hi"])).all()
