"""Every "converged" is true: the reported certificate is recomputed from the returned answer
in float64, and these tests recompute it once more with formulas written here (numpy, float64,
explicitly centered data), never imported from the package.

The rounding allowance of the tests' own float64 arithmetic is ``ALLOW`` (relative gap)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy import sparse as sps

import lasso_torch as lt
from lasso_torch.penalties import L1
from lasso_torch.problem import alpha_max as problem_alpha_max
from lasso_torch.problem import make_datafit

ALLOW = 1e-9  # the test's own float64 rounding, relative to P(0)
TOL = 1e-6


# --- the independent certificate -----------------------------------------------------------
def _loss_fns(loss: str, y: np.ndarray, delta: float = 1.35, fit_intercept: bool = True):
    """Per-row l(eta), l'(eta), l''(eta), l*(-v) and min l, written from the textbook forms."""
    # l*(-v) = v^2/2 - v y for the squared and Huber losses: the dual points sum to 0 (the free
    # intercept), so y is centered there (its mean would cancel: 1e6 targets lose 6 digits)
    yc = y - y.mean() if fit_intercept else y
    if loss == "squared":
        return (lambda e: 0.5 * (y - e) ** 2, lambda e: e - y, lambda e: np.ones_like(e),
                lambda v: 0.5 * v * v - v * yc, np.zeros_like(y))
    if loss == "logistic":
        t = 2 * y - 1 if set(np.unique(y)) <= {0.0, 1.0} else y

        def conj(v):
            q = np.clip(t * v, 0, 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.nan_to_num(q * np.log(q)) + np.nan_to_num((1 - q) * np.log1p(-q))

        return (lambda e: np.logaddexp(0, -t * e), lambda e: -t / (1 + np.exp(t * e)),
                lambda e: 1 / (2 + np.exp(e) + np.exp(-e)), conj, np.zeros_like(y))
    if loss == "poisson":
        def conj(v):
            q = y - v
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.nan_to_num(q * np.log(q)) - q

        floor = y - np.where(y > 0, y * np.log(np.where(y > 0, y, 1)), 0)
        return (lambda e: np.exp(e) - y * e, lambda e: np.exp(e) - y, np.exp, conj, floor)
    if loss == "huber":
        def f(e):
            r = np.abs(y - e)
            return np.where(r <= delta, 0.5 * r * r, delta * r - 0.5 * delta * delta)

        return (f, lambda e: -np.clip(y - e, -delta, delta),
                lambda e: (np.abs(y - e) <= delta).astype(float),
                lambda v: 0.5 * v * v - v * yc, np.zeros_like(y))
    raise ValueError(loss)


def true_gap(X, y, w, alpha, loss="squared", sw=None, l1_ratio=1.0, fit_intercept=True):
    """Relative duality gap of ``w`` for ``1/n sum s l(y, Xw + b) + alpha(rho|w|_1 +
    (1-rho)/2 |w|^2)`` with the optimal ``b``: numpy float64, centered columns."""
    X = X.toarray() if sps.issparse(X) else np.asarray(X)
    X, y, w = X.astype(np.float64), np.asarray(y, np.float64), np.asarray(w, np.float64)
    s = np.ones(len(y)) if sw is None else np.asarray(sw, np.float64)
    n = s.sum()
    if fit_intercept and loss in ("squared", "huber"):  # a free intercept absorbs any shift
        y = y - (s @ y) / n  # of y: the gap is the same, and 3e7 targets lose no digits in y - eta
    xm = (s @ X) / n if fit_intercept else np.zeros(X.shape[1])
    Xc = X - xm
    l, d1, d2, conj, floor = _loss_fns(loss, y, fit_intercept=fit_intercept)
    z = Xc @ w

    def intercept(z):
        if not fit_intercept:
            return 0.0
        if loss == "squared":
            return (s @ (y - z)) / n
        g = lambda c: s @ d1(z + c)  # noqa: E731
        lo, hi = -1.0, 1.0
        while g(lo) > 0:
            lo *= 2
        while g(hi) < 0:
            hi *= 2
        return optimize.brentq(g, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=500)

    eta = z + intercept(z)
    a1, a2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    primal = (s @ l(eta)) / n + a1 * np.abs(w).sum() + 0.5 * a2 * w @ w
    u = -d1(eta)
    v = Xc.T @ (s * u) / n - a2 * w
    kappa = min(1.0, a1 / max(np.abs(v).max(), 1e-300)) if a1 > 0 else 1.0
    th = kappa * u
    # dual: -1/n sum s l*(-theta) - a2/2 |w kappa|^2 (the elastic net's ridge part)
    dual = -(s @ conj(th)) / n - 0.5 * a2 * kappa * kappa * (w @ w)
    eta0 = np.full_like(y, intercept(np.zeros_like(y)))
    p0 = (s @ l(eta0)) / n - (s @ floor) / n
    return (primal - dual) / p0


def _status_is_true(res, X, y, alpha, loss="squared", sw=None, l1_ratio=1.0):
    if res.status != "converged":
        return None
    g = true_gap(X, y, res.coef.double().numpy(), alpha, loss, sw, l1_ratio)
    assert -ALLOW <= g <= TOL + ALLOW, (res.solver, res.status, float(res.gap), g)
    assert abs(g - float(res.gap)) <= 1e-7 + 1e-3 * abs(g), (float(res.gap), g)
    return g


def _problem(seed, n, p, loss, shift, dtype):
    rng = np.random.default_rng(seed)
    Xs = rng.standard_normal((n, p))
    X = Xs + shift * rng.uniform(0.5, 1.5, p)
    beta = np.zeros(p)
    beta[: max(1, p // 3)] = rng.standard_normal(max(1, p // 3))
    eta = Xs @ beta
    y = {"squared": eta + 0.5 * rng.standard_normal(n) + 3 * shift,
         "logistic": (eta + rng.standard_normal(n) > 0).astype(float),
         "poisson": rng.poisson(np.exp(0.5 * np.tanh(eta))).astype(float),
         "huber": eta + rng.standard_t(2, n)}[loss]
    if loss == "logistic" and len(np.unique(y)) < 2:
        y[0] = 1 - y[0]
    X = X.astype(dtype)
    y = y.astype(dtype) if loss in ("squared", "huber") else y
    return X, y


SOLVERS = {"squared": ["auto", "cd", "anderson_cd", "ws", "fista", "ista"],
           "logistic": ["auto", "prox_newton", "fista"], "poisson": ["auto", "prox_newton",
                                                                   "fista"],
           "huber": ["auto", "prox_newton", "fista"]}


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 10_000), loss=st.sampled_from(list(SOLVERS)),
       shift=st.sampled_from([0.0, 1e5, 1e7]), dtype=st.sampled_from([np.float32, np.float64]),
       frac=st.sampled_from([0.5, 0.1, 0.02]), sparse=st.booleans(), data=st.data())
def test_converged_means_certified_by_an_independent_gap(seed, loss, shift, dtype, frac, sparse,
                                                          data):
    n, p = data.draw(st.integers(8, 50)), data.draw(st.integers(2, 12))
    X, y = _problem(seed, n, p, loss, 0.0 if sparse else shift, dtype)
    if sparse:
        X = sps.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0).astype(dtype))
        if X.nnz == 0:
            return
    solver = data.draw(st.sampled_from(SOLVERS[loss]))
    if sparse and solver in ("cd", "anderson_cd"):
        solver = "fista"
    Xd = X.toarray() if sparse else X
    try:
        top = float(problem_alpha_max(make_datafit(
            None if loss == "squared" else loss, torch.as_tensor(Xd.astype(np.float64)),
            torch.as_tensor(np.asarray(y, np.float64))), L1(1.0)))
    except lt.InputError:
        return
    if not top > 0:
        return
    alpha = frac * top
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = lt.solve(X, y, alpha=alpha, solver=solver, tol=TOL, max_iter=3000,
                           loss=None if loss == "squared" else loss)
        except lt.InputError:  # a named solver may refuse (ws on a wide sparse X): auto never
            assert solver != "auto"
            return
    assert res.status in ("converged", "stalled", "max_iter", "diverged")
    # the data the solver saw: float32 values are exact in float64
    _status_is_true(res, Xd.astype(np.float64), np.asarray(y, np.float64), alpha, loss)
    if res.status != "converged":
        assert not res.converged


@pytest.mark.parametrize("solver", ["cd", "auto", "fista", "ws"])
def test_float32_with_large_means_is_solved_and_certified(solver):
    X, y = _problem(3, 200, 30, "squared", 1e4, np.float32)
    y = (y + 1e6).astype(np.float32)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    alpha = 0.1 * float(lt.alpha_max(Xt.double(), yt.double()))
    res = lt.solve(Xt, yt, alpha=alpha, solver=solver)
    assert res.coef.dtype == torch.float32
    g = _status_is_true(res, X.astype(np.float64), y.astype(np.float64), alpha)
    assert g is not None, (res.status, float(res.gap))
    # the intercept is the optimal one for the returned coefficients, to float32 rounding
    b = float(np.mean(y.astype(np.float64)) - X.astype(np.float64).mean(0)
              @ res.coef.double().numpy())
    assert abs(float(res.intercept) - b) <= 1e-6 * abs(b)


@pytest.mark.parametrize("loss", ["logistic", "poisson", "huber"])
def test_glm_on_shifted_columns_has_the_unshifted_answer(loss):
    X, y = _problem(5, 150, 8, loss, 0.0, np.float64)
    shift = 10 ** np.linspace(5, 7, X.shape[1])
    a = lt.solve(X, y, alpha=0.02, loss=loss, tol=1e-10)
    b = lt.solve(X + shift, y, alpha=0.02, loss=loss, tol=1e-10)
    assert a.status == b.status == "converged"
    np.testing.assert_allclose(b.coef.numpy(), a.coef.numpy(), atol=1e-6)
    assert float(b.intercept) == pytest.approx(float(a.intercept) - shift @ a.coef.numpy(),
                                               rel=1e-6, abs=1e-6)
    assert true_gap(X + shift, y, b.coef.numpy(), 0.02, loss) <= 1e-10 + ALLOW


def test_a_gap_negative_beyond_rounding_is_never_converged():
    from lasso_torch.certificates import Certificate, Final
    from lasso_torch.solvers.loop import certified_status

    one = torch.tensor
    bound = one([1e-14, 1e-14, 1e-14])
    fin = Final(Certificate(one([1.0] * 3), one([0.0] * 3), one([-1e-6, -1e-15, 1e-5]),
                            one([0.0] * 3)), one([0.0] * 3), "duality gap", bound)
    out = certified_status(np.array(["converged"] * 3, dtype=object), fin, 1e-6)
    assert list(out) == ["stalled", "converged", "stalled"]


@pytest.mark.parametrize("design", ["duplicated", "collinear", "constant", "rank1"])
def test_degenerate_designs_get_a_certified_answer_from_every_solver(design):
    rng = np.random.default_rng(7)
    n, p = 300, 6
    B = rng.standard_normal((n, p))
    X = {"duplicated": np.hstack([B, B, B[:, :2]]),
         "collinear": np.hstack([B, B[:, :3] @ rng.standard_normal((3, 4))]),
         "constant": np.hstack([B, np.full((n, 2), 3.0)]),
         "rank1": np.outer(B[:, 0], rng.standard_normal(5))}[design]
    y = B[:, 0] - 2 * B[:, 1] + 0.3 * rng.standard_normal(n)
    alpha = 0.1 * float(lt.alpha_max(torch.tensor(X), torch.tensor(y)))
    objectives = []
    for solver in ["auto", "ws", "cd", "anderson_cd", "fista"]:
        res = lt.solve(X, y, alpha=alpha, solver=solver, tol=1e-9)
        g = _status_is_true(res, X, y, alpha)
        assert g is not None, (solver, res.status)
        objectives.append(float(res.objective))
    # any split of a duplicated column's weight is a solution: the objectives agree
    assert max(objectives) - min(objectives) <= 1e-8 * max(objectives)


@pytest.mark.parametrize("loss", ["squared", "logistic", "poisson", "huber"])
@pytest.mark.parametrize("solver", ["auto", "fista"])
def test_integer_weights_are_repeated_rows_and_zero_removes(loss, solver):
    X, y = _problem(11, 60, 5, loss, 0.0, np.float64)
    sw = np.random.default_rng(1).integers(0, 4, len(y)).astype(float)
    kw = dict(alpha=0.02, solver=solver, tol=1e-12, max_iter=200_000,
              loss=None if loss == "squared" else loss)
    a = lt.solve(X, y, sample_weight=sw, **kw)
    keep = np.repeat(np.arange(len(y)), sw.astype(int))
    b = lt.solve(X[keep], y[keep], **kw)
    assert a.status == b.status == "converged"
    np.testing.assert_allclose(a.coef.numpy(), b.coef.numpy(), atol=2e-8)
    assert float(a.intercept) == pytest.approx(float(b.intercept), abs=2e-8)


def test_auto_runs_every_problem_it_is_given():
    rng = np.random.default_rng(0)
    n, p = 80, 6
    X = rng.standard_normal((n, p))
    ys = {"squared": X[:, 0] + rng.standard_normal(n), "huber": X[:, 0] + rng.standard_normal(n),
          "logistic": (X[:, 0] + rng.standard_normal(n) > 0).astype(float),
          "poisson": rng.poisson(np.exp(0.3 * X[:, 0])).astype(float)}
    pens = [{}, {"l1_ratio": 0.5}, {"penalty": "mcp"}, {"penalty": "scad"},
            {"weights": np.linspace(0, 2, p)}, {"positive": True}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for loss, yy in ys.items():
            for pen in pens:
                for Xv in (X, sps.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0)),
                           X.astype(np.float32)):
                    for sw in (None, rng.integers(0, 3, n).astype(float)):
                        res = lt.solve(Xv, yy, alpha=0.05, loss=loss, sample_weight=sw, **pen)
                        assert res.status in ("converged", "stalled", "max_iter"), (loss, pen)
                        if "penalty" in pen and loss != "squared":
                            assert res.certificate == "kkt" and res.solver == "fista"
                            assert res.status == "converged", (loss, pen, float(res.kkt))


@pytest.mark.parametrize("loss", ["logistic", "poisson", "huber"])
@pytest.mark.parametrize("solver", ["fista", "auto", "prox_newton"])
def test_sparse_glm_equals_dense(loss, solver):
    X, y = _problem(4, 120, 10, loss, 0.0, np.float64)
    X = np.where(np.abs(X) > 0.7, X, 0.0)
    kw = dict(alpha=0.02, loss=loss, solver=solver, tol=1e-13, max_iter=100_000)
    a = lt.solve(sps.csr_matrix(X), y, **kw)
    b = lt.solve(X, y, **kw)
    assert a.status == b.status == "converged"
    np.testing.assert_allclose(a.coef.numpy(), b.coef.numpy(), atol=1e-8)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("solver", ["auto", "cd", "fista"])
def test_half_precision_is_solved_in_float32_and_says_so(dtype, solver):
    X, y = _problem(2, 100, 5, "squared", 0.0, np.float64)
    Xh, yh = torch.tensor(X, dtype=dtype), torch.tensor(y / 10, dtype=dtype)
    res = lt.solve(Xh, yh, alpha=0.01, solver=solver)
    assert res.coef.dtype == torch.float32
    assert any("float32" in note for note in res.notes)
    _status_is_true(res, Xh.double().numpy(), yh.double().numpy(), 0.01)


@pytest.mark.parametrize("alpha", [torch.tensor(0.05), torch.tensor([0.05], dtype=torch.float64),
                                   np.float32(0.05), np.float64(0.05)])
def test_alpha_as_a_tensor_or_numpy_scalar(alpha):
    X, y = _problem(2, 50, 4, "squared", 0.0, np.float64)
    assert torch.equal(lt.solve(X, y, alpha=alpha).coef,
                       lt.solve(X, y, alpha=float(np.float32(alpha) if isinstance(
                           alpha, np.float32) else float(alpha))).coef)


def test_every_alpha_of_a_path_and_cv_fold_is_certified():
    X, y = _problem(9, 80, 20, "squared", 1e4, np.float32)
    res = lt.lasso_path(X, y, n_alphas=8, tol=1e-6)
    for k, a in enumerate(res.alphas.tolist()):
        if res.status[k] == "converged":
            g = true_gap(X.astype(np.float64), y.astype(np.float64),
                         res.coefs[:, k].double().numpy(), a)
            assert g <= TOL + ALLOW
    masks = np.ones((80, 2))
    masks[:40, 0] = masks[40:, 1] = 0
    cv = lt.lasso_path(X.astype(np.float64), y.astype(np.float64), n_alphas=5, masks=masks)
    for f in range(2):
        rows = masks[:, f] > 0
        for k, a in enumerate(cv.alphas.tolist()):
            g = true_gap(X[rows].astype(np.float64), y[rows].astype(np.float64),
                         cv.coefs[f, :, k].numpy(), a)
            assert cv.status[f, k] == "converged" and g <= TOL + ALLOW
            assert float(cv.gaps[f, k]) == pytest.approx(g, abs=1e-7)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 1000), l1_ratio=st.sampled_from([1.0, 0.5, 0.0]),
       weighted=st.booleans(), fit_intercept=st.booleans(), shift=st.sampled_from([0.0, 1e6]))
def test_small_numpy_path_equals_the_blocked_torch_path(seed, l1_ratio, weighted, fit_intercept,
                                                        shift):
    from lasso_torch import exact
    from lasso_torch.certificates import final_certificate
    from lasso_torch.datafits import Quadratic
    from lasso_torch.penalties import make_penalty

    rng = np.random.default_rng(seed)
    X = torch.tensor(rng.standard_normal((30, 7)) + shift)
    y = torch.tensor(rng.standard_normal(30))
    w = torch.tensor(rng.standard_normal(7) * (rng.random(7) > 0.4))
    s = torch.tensor(rng.uniform(0, 2, 30)) if weighted else None
    pen = make_penalty(0.1, l1_ratio)
    df = Quadratic(X, y, fit_intercept)
    small = final_certificate(X, y, w, pen, df, sample_weight=s, fit_intercept=fit_intercept)
    saved = exact.SMALL
    exact.SMALL = 0
    try:
        big = final_certificate(X, y, w, pen, df, sample_weight=s, fit_intercept=fit_intercept)
    finally:
        exact.SMALL = saved
    for a, b in zip((*small.cert, small.intercept), (*big.cert, big.intercept), strict=True):
        assert float(a) == pytest.approx(float(b), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("solver", ["auto", "fista"])
def test_sparse_float32_with_an_offset_column_is_widened_and_certified(solver):
    rng = np.random.default_rng(5)
    A = np.where(rng.random((200, 20)) < 0.3, rng.standard_normal((200, 20)), 0.0)
    A[:, 0] = 1e4 + rng.standard_normal(200)  # implicit centering cancels in float32
    A = A.astype(np.float32)
    y = (A[:, 0].astype(np.float64) + rng.standard_normal(200)).astype(np.float32)
    alpha = 0.1 * float(lt.alpha_max(torch.tensor(A, dtype=torch.float64),
                                     torch.tensor(y, dtype=torch.float64)))
    res = lt.solve(sps.csr_matrix(A), y, alpha=alpha, solver=solver, max_iter=2000)
    assert res.coef.dtype == torch.float32 and any("float64" in n for n in res.notes)
    assert _status_is_true(res, A.astype(np.float64), y.astype(np.float64), alpha) is not None


@pytest.mark.parametrize("loss", ["logistic", "poisson"])
def test_the_solvers_intercept_is_only_where_the_certificates_profiling_starts(loss):
    """The final certificate starts its intercept's Newton at the solver's intercept (one
    or two steps instead of seven): any start, good, bad or NaN, gives the same certificate."""
    from lasso_torch.certificates import final_certificate

    X, y = _problem(3, 80, 6, loss, 0.0, np.float64)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    res = lt.solve(Xt, yt, 0.02, loss=loss, tol=1e-10)
    df = make_datafit(loss, Xt, yt, True)
    outs = [final_certificate(Xt, yt, res.coef, L1(0.02), df, intercept_start=start)
            for start in (None, res.intercept.double(), torch.tensor(40.0),
                          torch.tensor(float("nan")))]
    for o in outs[1:]:
        assert abs(float(o.intercept) - float(outs[0].intercept)) <= 1e-12
        assert abs(float(o.cert.gap) - float(outs[0].cert.gap)) <= 1e-14
    assert abs(float(outs[0].intercept) - float(res.intercept)) <= 1e-9
    g = true_gap(X, y, res.coef.numpy(), 0.02, loss)
    assert abs(float(outs[0].cert.rel_gap) - g) <= 1e-9
