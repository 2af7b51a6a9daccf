"""Figures: content checks (panels, lines, labels, the quantities drawn), on small runs.

Run folders are written here with the run store's writer from ``lt.solve`` traces (so
these tests do not depend on the runner); tests at the end run the shipped configs.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Polygon, Rectangle

import lasso_torch as lt
from lasso_torch import plots
from lasso_torch.plots import geometry, paths, source, thresholding, trajectories
from lasso_torch.runs import RunWriter, unflatten

# ---------------------------------------------------------------------- run builders


def _data(n: int, p: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X = (X - X.mean(0)) / X.std(0)
    beta = np.zeros(p)
    beta[: min(4, p)] = [2.0, -1.5, 1.0, 0.5][: min(4, p)]
    return X, X @ beta + 0.5 * rng.standard_normal(n) + 1.0


def _moments(X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    n = len(y)
    Xc, yc = X - X.mean(0), y - y.mean()
    return {"problem/gram": Xc.T @ Xc / n, "problem/xty": Xc.T @ yc / n,
            "problem/yty": np.asarray(yc @ yc / n), "problem/n": np.asarray(n)}


def _write(folder: Path, metrics: dict, arrays: dict[str, np.ndarray]) -> Path:
    """Write through the run store's own writer: ``folder.parent/<stamp>-<folder.name>``."""
    writer = RunWriter(folder.parent, folder.name, {"name": folder.name})
    return writer.finish({"status": "complete"}, metrics, unflatten(arrays))


def solver_run(folder: Path, n: int = 60, p: int = 12, frac: float = 0.15) -> Path:
    """Four solvers with full traces, a reference and the Gram moments."""
    X, y = _data(n, p, 0)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    amax = float(lt.alpha_max(Xt, yt))
    alpha = frac * amax
    ref = lt.solve(Xt, yt, alpha, solver="cd", tol=1e-14, warn=False)
    metrics = {"problem": {"n": n, "p": p, "alpha": alpha, "alpha_max": amax, "l1_ratio": 1.0,
                           "kind": "lasso"},
               "solvers": {},
               "reference": {"alpha": alpha, "objective": float(ref.objective),
                             "n_zeros": ref.n_zeros,
                             "nnz": p - ref.n_zeros}}
    arrays = {"reference/coef": ref.coef.numpy(), **_moments(X, y)}
    runs = {"subgradient": dict(lr=0.05, max_iter=400), "ista": dict(max_iter=400),
            "fista": dict(max_iter=400), "cd": dict(max_iter=60)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lt.ConvergenceWarning)
        for label, kw in runs.items():
            r = lt.solve(Xt, yt, alpha, solver=label, tol=1e-13, record_every=1, **kw)
            metrics["solvers"][label] = {
                "kind": label, "lr": r.lr, "n_iter": r.n_iter, "time": r.time,
                "objective": float(r.objective), "gap": float(r.gap), "kkt": float(r.kkt),
                "n_zeros": r.n_zeros, "nnz": p - r.n_zeros, "converged": r.converged,
                "status": r.status}
            arrays.update({f"{label}/{k}": v for k, v in r.trace.items()})
    return _write(folder, metrics, arrays)


def path_run(folder: Path, n: int = 60, p: int = 12) -> Path:
    """A path run as the runner writes one: lasso and ridge on one grid, no solver traces."""
    X, y = _data(n, p, 0)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    amax = float(lt.alpha_max(Xt, yt))
    alphas = amax * np.logspace(0, -2.5, 20)
    ref = lt.solve(Xt, yt, alphas[-1], solver="cd", tol=1e-13)
    metrics = {"problem": {"n": n, "p": p, "alpha": None, "alphas": alphas.tolist(),
                           "alpha_max": amax, "l1_ratio": 1.0, "kind": "lasso"},
               "solvers": {"cd": {"kind": "cd", "lr": None}},
               "reference": {"alpha": alphas[-1], "objective": float(ref.objective),
                             "n_zeros": ref.n_zeros, "nnz": p - ref.n_zeros}}
    arrays = {"reference/coef": ref.coef.numpy(), **_moments(X, y)}
    arrays["path/alphas"] = alphas
    arrays["path/coefs"] = np.stack(
        [lt.solve(Xt, yt, a, solver="cd", tol=1e-13).coef.numpy() for a in alphas])
    arrays["path/ridge_coefs"] = np.stack(
        [lt.solve(Xt, yt, a, l1_ratio=0.0, solver="cd", tol=1e-13).coef.numpy()
         for a in alphas])
    arrays["path/gaps"] = np.zeros(len(alphas))
    arrays["path/alpha_max"] = np.asarray(amax)
    return _write(folder, metrics, arrays)


def two_feature_run(folder: Path) -> Path:
    """The geometry data of a correlated two-feature problem, lasso on a corner."""
    rng = np.random.default_rng(3)
    n = 100
    Z = rng.standard_normal((n, 2))
    X = np.c_[Z[:, 0], 0.6 * Z[:, 0] + 0.8 * Z[:, 1]]
    y = X @ np.array([2.0, 0.7]) + 0.8 * rng.standard_normal(n)
    mom = _moments(X, y)
    G, c = mom["problem/gram"], mom["problem/xty"]
    amax = float(np.abs(c).max())
    alpha = 0.5 * amax
    lasso = lt.solve(torch.tensor(X), torch.tensor(y), alpha, solver="cd", tol=1e-15).coef
    t = float(lasso.abs().sum())
    lo, hi = 0.0, 1e6  # the ridge penalty whose solution has ||w||_2 = t (bisection)
    for _ in range(200):
        lam = (lo + hi) / 2
        w = np.linalg.solve(G + lam * np.eye(2), c)
        lo, hi = (lam, hi) if np.linalg.norm(w) > t else (lo, lam)
    metrics = {"problem": {"n": n, "p": 2, "alpha": alpha, "alpha_max": amax, "l1_ratio": 1.0,
                           "kind": "lasso"},
               "solvers": {}, "reference": {"objective": 0.0, "n_zeros": 1, "nnz": 1}}
    arrays = {**mom, "reference/coef": lasso.numpy(), "geometry/ols": np.linalg.solve(G, c),
              "geometry/lasso": lasso.numpy(), "geometry/ridge": w,
              "geometry/t": np.asarray(t)}
    return _write(folder, metrics, arrays)


@pytest.fixture(autouse=True)
def _low_dpi(monkeypatch) -> None:
    """Files at 50 dpi: the tests check content, and rendering is most of their time."""
    monkeypatch.setitem(plots.style.RC, "savefig.dpi", 50)
    monkeypatch.setitem(plots.style.RC, "savefig.bbox", None)  # one draw, not two


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return solver_run(tmp_path_factory.mktemp("runs") / "demo")


@pytest.fixture(scope="module")
def geo_dir(tmp_path_factory) -> Path:
    return two_feature_run(tmp_path_factory.mktemp("runs") / "two")


@pytest.fixture(scope="module")
def run(run_dir) -> source.RunData:
    return source.read_run(run_dir)


@pytest.fixture(scope="module")
def path_dir(tmp_path_factory) -> Path:
    return path_run(tmp_path_factory.mktemp("runs") / "path")


@pytest.fixture(scope="module")
def prun(path_dir) -> source.RunData:
    return source.read_run(path_dir)


def _data_lines(ax) -> list:
    """Lines carrying data (not the reference lines axhline/axvline draw)."""
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]


# ---------------------------------------------------------------------- the families


def test_backend_is_agg() -> None:
    assert matplotlib.get_backend().lower() == "agg"


def test_trajectories_one_column_per_solver_and_landings(run) -> None:
    fig = source.build(run, "trajectories")
    assert isinstance(fig, Figure)
    axes = np.array(fig.get_axes()).reshape(2, 4)
    assert [ax.get_title().split(",")[0].split("\n")[0] for ax in axes[0]] == [
        "subgradient", "ista", "fista", "cd"]
    p = run.problem["p"]
    null = run.traces["reference"]["coef"] == 0.0
    for top, zoom in axes.T:
        assert top.get_xscale() == "symlog" and "iteration" in zoom.get_xlabel()
        curves = [ln for ln in top.get_lines() if ln.get_marker() in ("None", "")
                  and len(ln.get_xdata()) > 2]
        assert len(curves) == p  # every coefficient on top
        curves = [ln for ln in zoom.get_lines() if ln.get_marker() in ("None", "")
                  and len(ln.get_xdata()) > 2]
        assert len(curves) == null.sum()  # the zoom: only those 0 in the solution
    assert axes[0, 0].get_ylabel() == "coefficient $w_j$"
    assert f"the {null.sum()} $w_j$ that are 0" in axes[1, 0].get_ylabel()
    # shared axes: the panels of a row sit side by side on one scale
    assert axes[0, 0].get_shared_y_axes().joined(axes[0, 0], axes[0, 3])
    assert axes[1, 0].get_shared_y_axes().joined(axes[1, 0], axes[1, 3])
    # the zoom is scaled to the subgradient's chatter, which never reaches 0.0
    sub_coef = run.traces["subgradient"]["coef"]
    lo, hi = axes[1, 0].get_ylim()
    assert hi == pytest.approx(1.3 * np.abs(sub_coef[len(sub_coef) // 2:, null]).max())
    assert lo == -hi
    assert np.all(sub_coef[-1] != 0.0)
    # subgradient: no coefficient is exactly 0.0 at the end, and no landing marker
    sub, ista = axes[:, 0], axes[:, 1]
    assert "0/12 exactly 0.0" in sub[0].get_title()
    assert not [ln for ax in sub for ln in ax.get_lines() if ln.get_marker() == "o"]
    # ISTA: the landing markers sit on 0 at the iterations where a coefficient became 0
    coef = run.traces["ista"]["coef"]
    expect = sorted(int(run.traces["ista"]["iteration"][k]) for j in range(coef.shape[1])
                    if (k := trajectories.landing_index(coef[:, j])) is not None)
    assert expect and np.all(coef[max(expect):, (coef[-1] == 0.0)] == 0.0)
    for ax in ista:  # one circle per landing iteration (a count beside it when several)
        (marks,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
        assert sorted(marks.get_xdata().tolist()) == sorted(set(expect))
        assert np.all(marks.get_ydata() == 0.0)
    assert "8/12 exactly 0.0" in ista[0].get_title()


def test_landing_index() -> None:
    assert trajectories.landing_index(np.array([0.0, 1.0, 0.5, 0.0, 0.0])) == 3
    assert trajectories.landing_index(np.array([0.0, 1.0, 0.0, 0.2])) is None
    assert trajectories.landing_index(np.zeros(4)) is None


def test_trajectories_without_reference_has_one_row(run) -> None:
    traces = {k: run.traces[k] for k in ("cd", "subgradient")}  # the longest one last
    fig = trajectories.trajectory_figure(traces)
    assert len(fig.get_axes()) == 2
    last = int(run.traces["subgradient"]["iteration"][-1])
    assert all(ax.get_xlim()[1] >= last for ax in fig.get_axes())
    with pytest.raises(ValueError, match="record_coef"):
        trajectories.trajectory_figure({"ista": {"iteration": np.arange(3)}})


def test_convergence_four_panels_log_axes(run) -> None:
    fig = source.build(run, "convergence")
    axes = fig.get_axes()
    assert len(axes) == 4
    for ax in axes:
        assert ax.get_yscale() == "log"
        assert len([ln for ln in _data_lines(ax)
                    if not (ln.get_gid() or "").startswith("floor")]) == 4
    assert "gap / P(0)" in axes[0].get_ylabel()
    assert "P^*" in axes[2].get_ylabel()
    assert "time" in axes[3].get_xlabel()
    last = max(int(run.traces[lab]["iteration"][-1]) for lab in run.solvers)
    assert axes[0].get_xlim()[0] == 0 and axes[0].get_xlim()[1] >= last
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0].startswith("subgradient") and "lr 0.05" in labels[0]
    assert labels[3] == "cd"
    # the plotted gap is the recorded one
    ln = _data_lines(axes[0])[2]
    np.testing.assert_array_equal(ln.get_ydata(), run.traces["fista"]["gap"])
    # suboptimality: objective - reference objective, NaN where <= 0
    sub = _data_lines(axes[2])[1].get_ydata()
    want = run.traces["ista"]["objective"] - run.metrics["reference"]["objective"]
    np.testing.assert_allclose(sub[want > 0], want[want > 0])
    assert np.all(np.isnan(sub[want <= 0]))


def test_sparsity_counts_and_reference_line(run) -> None:
    fig = source.build(run, "sparsity")
    (ax,) = fig.get_axes()
    ref = run.metrics["reference"]["n_zeros"]
    hlines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2]
    assert [ln.get_ydata()[0] for ln in hlines] == [ref]
    steps = [ln for ln in ax.get_lines() if str(ln.get_gid()).startswith("records/")]
    assert len(steps) == 4
    np.testing.assert_array_equal(steps[1].get_ydata(), run.traces["ista"]["n_zeros"])
    assert steps[1].get_ydata()[-1] == ref  # ISTA reaches the solution's zero count
    assert steps[0].get_ydata()[-1] == 0  # subgradient never does
    assert "== 0.0" in ax.get_ylabel()


def test_paths_first_feature_enters_at_alpha_max(prun) -> None:
    fig = source.build(prun, "paths")
    lasso_ax, ridge_ax = fig.get_axes()
    p = prun.problem["p"]
    assert len([ln for ln in lasso_ax.get_lines() if len(ln.get_xdata()) == 20]) == p
    assert len([ln for ln in ridge_ax.get_lines() if len(ln.get_xdata()) == 20]) == p
    assert lasso_ax.get_xscale() == "log" and "α" in lasso_ax.get_xlabel()
    assert "scikit-learn" in lasso_ax.get_xlabel()
    amax = prun.problem["alpha_max"]
    assert any(ln.get_xdata()[0] == amax for ln in lasso_ax.get_lines()
               if len(ln.get_xdata()) == 2)  # alpha_max marked
    (marks,) = [ln for ln in lasso_ax.get_lines() if ln.get_marker() == "o"]
    xs = np.asarray(marks.get_xdata())
    first = int(np.argmax(np.abs(prun.traces["problem"]["xty"])))
    assert np.max(xs) == pytest.approx(amax, rel=1e-8)
    # the marker at alpha_max is numbered as the last to leave, and the curve is labelled
    texts = {t.get_text() for t in lasso_ax.texts}
    n_in = len(xs)
    assert str(n_in) in texts and f"x{first} ({n_in})" in texts
    entries = paths.entry_alphas(np.asarray(sorted(prun.traces["path"]["alphas"])[::-1]),
                                 prun.traces["path"]["coefs"], amax)
    assert entries[first] == pytest.approx(amax, rel=1e-8)


def test_ridge_path_has_one_panel_and_no_entries(prun) -> None:
    path = prun.traces["path"]
    fig = paths.path_figure(path["alphas"], path["ridge_coefs"], path["ridge_coefs"],
                            float(path["alpha_max"]), l1_ratio=0.0)
    (ax,) = fig.get_axes()
    assert not [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert ax.get_title().startswith("Ridge")


def test_geometry_only_for_lasso_runs(geo_dir) -> None:
    run = source.read_run(geo_dir)
    run.metrics["problem"]["l1_ratio"] = 0.5  # the stored point is then not a lasso solution
    assert source.build(run, "geometry") is None


def test_entry_alpha_extrapolation_is_exact_on_a_linear_path() -> None:
    """A fine grid: the first feature alone in the first steps, extrapolated to alpha_max."""
    X, y = _data(50, 5, 1)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    amax = float(lt.alpha_max(Xt, yt))
    alphas = amax * np.linspace(1.0, 0.995, 4)
    W = np.stack([lt.solve(Xt, yt, a, solver="cd", tol=1e-16, warn=False).coef.numpy()
                  for a in alphas])
    j = int(np.argmax(np.abs(X.T @ (y - y.mean()))))
    assert (W[1:] != 0).sum(1).tolist() == [1, 1, 1]
    assert paths.entry_alpha(alphas, W[:, j]) == pytest.approx(amax, rel=1e-8)
    # a feature that never enters, one nonzero at the top of the grid
    assert paths.entry_alpha(alphas, np.zeros(4)) is None
    assert paths.entry_alpha(alphas, np.ones(4)) == alphas[0]


def test_geometry_lasso_point_on_a_corner(geo_dir) -> None:
    run = source.read_run(geo_dir)
    fig = source.build(run, "geometry")
    lax, rax = fig.get_axes()  # one panel per ball, as ESL's Fig. 3.11
    (lasso,) = [ln for ln in lax.get_lines() if ln.get_label().startswith("lasso")]
    (ridge,) = [ln for ln in rax.get_lines() if ln.get_label().startswith("ridge")]
    assert "corner" in lax.get_title() and "smooth" in rax.get_title()
    assert lax.get_xlim() == rax.get_xlim() and lax.get_ylim() == rax.get_ylim()
    w = np.array([lasso.get_xdata()[0], lasso.get_ydata()[0]])
    assert np.any(w == 0.0) and np.any(w != 0.0)  # exactly one coordinate exactly 0
    t = float(run.traces["geometry"]["t"])
    assert np.abs(w).sum() == pytest.approx(t, rel=1e-12)  # on the diamond's corner
    v = np.array([ridge.get_xdata()[0], ridge.get_ydata()[0]])
    assert np.all(v != 0.0)  # ridge: on the smooth edge, no zero
    (diamond,) = [pt for pt in lax.patches if isinstance(pt, Polygon)]
    assert np.abs(diamond.get_xy()).sum(1).max() == pytest.approx(t)
    (circle,) = [pt for pt in rax.patches if isinstance(pt, Circle)]
    assert circle.get_radius() == pytest.approx(np.linalg.norm(v))
    assert circle.get_radius() == pytest.approx(t, rel=1e-9)  # same budget
    assert "L2 ball $\\|w\\|_2 \\leq t$" in circle.get_label()
    assert lax.get_aspect() == 1.0 and rax.get_aspect() == 1.0
    for ax in (lax, rax):
        assert len(ax.collections) >= 2  # the RSS contours plus the touching one


def test_geometry_contours_touch_at_the_solutions(geo_dir) -> None:
    run = source.read_run(geo_dir)
    pb, geo = run.traces["problem"], run.traces["geometry"]
    f = [geometry.datafit_value(pb["gram"], pb["xty"], float(pb["yty"]), geo[k])
         for k in ("ols", "lasso", "ridge")]
    assert f[0] < f[1] and f[0] < f[2]  # OLS is the centre of the ellipses


def test_thresholding_zero_zone_is_2_lambda(run) -> None:
    lam = 0.37
    fig = thresholding.thresholding_figure(lam)
    (ax,) = fig.get_axes()
    (zone,) = [pt for pt in ax.patches if isinstance(pt, (Polygon, Rectangle))]
    if isinstance(zone, Rectangle):  # axvspan's patch (matplotlib >= 3.9)
        x0, width = zone.get_x(), zone.get_width()
    else:
        xs = zone.get_xy()[:, 0]
        x0, width = xs.min(), xs.max() - xs.min()
    assert width == pytest.approx(2 * lam, rel=1e-14)
    assert x0 == -lam
    assert "2λ" in zone.get_label()
    lines = {ln.get_label().split(":")[0]: ln for ln in ax.get_lines()
             if len(ln.get_xdata()) > 2}
    assert set(lines) == {"no penalty", "ridge", "lasso", "hard (best subset)", "firm (MCP, γ = 3)"}
    z, s = lines["lasso"].get_xdata(), lines["lasso"].get_ydata()
    assert np.all(s[np.abs(z) <= lam] == 0.0) and np.all(s[np.abs(z) > lam] != 0.0)
    r = lines["ridge"].get_ydata()
    np.testing.assert_allclose(r, z / (1 + lam))
    assert "z" in ax.get_xlabel()


def test_thresholding_points_of_a_solution_lie_on_the_curve(run) -> None:
    fig = source.build(run, "thresholding")
    (ax,) = fig.get_axes()
    pts = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert len(pts) == 2
    lam = run.problem["alpha"]
    for ln in pts:
        z, w = np.asarray(ln.get_xdata()), np.asarray(ln.get_ydata())
        np.testing.assert_allclose(w, thresholding.soft_threshold(z, lam), atol=1e-12)
    zeros = pts[1]
    assert len(zeros.get_xdata()) == run.metrics["reference"]["n_zeros"]
    assert np.all(np.abs(zeros.get_xdata()) <= lam)


def test_thresholding_of_a_path_run_uses_a_half_sparse_grid_point(prun) -> None:
    fig = source.build(prun, "thresholding")
    (ax,) = fig.get_axes()
    nonzero, zero = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    coefs, alphas = prun.traces["path"]["coefs"], prun.traces["path"]["alphas"]
    k = int(np.argmin(np.abs((coefs == 0).sum(1) - 6)))
    assert len(zero.get_xdata()) == (coefs[k] == 0).sum()
    assert 3 <= len(zero.get_xdata()) <= 9 and len(nonzero.get_xdata()) >= 3
    z = np.asarray(nonzero.get_xdata())
    np.testing.assert_allclose(nonzero.get_ydata(), thresholding.soft_threshold(z, alphas[k]),
                               atol=1e-9)
    # the alpha drawn is explained: which grid point, and why that one
    assert f"α = {alphas[k]:.3g}" in ax.get_title()
    assert f"{(coefs[k] == 0).sum()} of 12 coefficients at 0.0" in ax.get_title()


def test_partial_residual_points_elastic_net() -> None:
    X, y = _data(40, 6, 2)
    Xt, yt = torch.tensor(X * np.arange(1, 7)), torch.tensor(y)  # unequal feature norms
    alpha, rho = 0.2, 0.6
    w = lt.solve(Xt, yt, alpha, l1_ratio=rho, solver="cd", tol=1e-15).coef.numpy()
    mom = _moments(Xt.numpy(), y)
    z, v = thresholding.partial_residual_points(mom["problem/gram"], mom["problem/xty"], w,
                                                alpha, rho)
    np.testing.assert_allclose(v, thresholding.soft_threshold(z, alpha * rho), atol=1e-12)


# ---------------------------------------------------------------------- the files


def test_plot_run_writes_every_family_it_has_data_for(run_dir, geo_dir, path_dir) -> None:
    written = plots.plot_run(run_dir)
    assert [p.stem for p in written] == ["trajectories", "convergence", "sparsity",
                                         "thresholding"]
    assert all(p.parent == run_dir / "figures" and p.stat().st_size > 2000 for p in written)
    assert [p.name for p in plots.plot_run(geo_dir)] == ["geometry.png", "thresholding.png"]
    assert [p.name for p in plots.plot_run(path_dir)] == ["paths.png", "thresholding.png"]


def test_plot_run_kinds_and_svg(run_dir) -> None:
    (out,) = plots.plot_run(run_dir, kinds=["sparsity"], fmt="svg")
    assert out.name == "sparsity.svg" and out.read_text().lstrip().startswith("<?xml")
    with pytest.raises(lt.InputError, match="unknown figure kind"):
        plots.plot_run(run_dir, kinds=["spars"])
    with pytest.raises(lt.InputError, match="no data for the 'geometry'"):
        plots.plot_run(run_dir, kinds=["geometry"])
    with pytest.raises(lt.InputError, match="format"):
        plots.plot_run(run_dir, fmt="jpeg")


def test_plot_compare_overlays_runs(run_dir, tmp_path) -> None:
    out = plots.plot_compare([run_dir, run_dir], tmp_path / "cmp")
    assert out == tmp_path / "cmp" / "compare_convergence.png" and out.is_file()
    with pytest.raises(lt.InputError):
        plots.plot_compare([], tmp_path)


def test_compare_figure_line_styles(run) -> None:
    a = plots.series_from_traces(run.traces, run.solvers, prefix="a: ")
    b = [s._replace(linestyle="--") for s in
         plots.series_from_traces(run.traces, run.solvers, prefix="b: ")]
    fig = plots.convergence_figure(a + b)
    ax = fig.get_axes()[0]
    lines = _data_lines(ax)
    assert len(lines) == 8
    assert {ln.get_linestyle() for ln in lines} == {"-", "--"}
    assert lines[0].get_color() == lines[4].get_color()  # colour = solver across runs


def test_not_a_run_folder(tmp_path) -> None:
    with pytest.raises(lt.InputError, match="not a run folder"):
        plots.plot_run(tmp_path)


def test_convergence_survives_a_diverged_solver(run) -> None:
    """A diverged trace ends in inf/NaN: nothing raises, non-finite points are not drawn."""
    traces = {lab: dict(run.traces[lab]) for lab in ("ista", "subgradient")}
    obj = traces["subgradient"]["objective"].copy()
    obj[-3:] = [1e300, np.inf, np.nan]
    traces["subgradient"]["objective"] = obj
    traces["subgradient"]["gap"] = np.where(np.isfinite(obj), traces["subgradient"]["gap"],
                                            np.nan)
    solvers = {"ista": {"kind": "ista", "lr": 0.5}, "subgradient": {"kind": "subgradient",
                                                                    "lr": 1e3}}
    series = plots.series_from_traces(traces, solvers)
    assert series[0].p_star == pytest.approx(np.nanmin(traces["ista"]["objective"]))
    fig = plots.convergence_figure(series)
    y = _data_lines(fig.get_axes()[2])[1].get_ydata()
    assert np.isnan(y[-1]) and np.isnan(y[-2]) and y[-3] > 1e299


# ---------------------------------------------------------------------- shipped configs


def _shipped(name: str, tmp_path: Path, **overrides):
    from lasso_torch.experiment import run_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lt.ConvergenceWarning)
        return run_config(Path(__file__).parent.parent / "configs" / f"{name}.yaml",
                          {"output": str(tmp_path), "device": "cpu", **overrides})


def test_why_sparsity_config_end_to_end(tmp_path) -> None:
    run = _shipped("why_sparsity", tmp_path, **{
        "data.n": 80, "data.p": 12, "solvers.0.max_iter": 300, "solvers.1.max_iter": 300,
        "solvers.2.max_iter": 300})
    written = plots.plot_run(run.path)
    assert [p.stem for p in written] == ["trajectories", "convergence", "sparsity",
                                         "thresholding"]
    data = source.read_run(run.path)
    ref_zeros = data.metrics["reference"]["n_zeros"]
    assert ref_zeros > 0
    fig = source.build(data, "trajectories")
    axes = np.array(fig.get_axes()).reshape(2, 4)
    assert axes[0, 0].get_title().startswith("subgradient")
    assert "0/12 exactly 0.0" in axes[0, 0].get_title()
    for col in (1, 2, 3):  # ista, fista, cd reach the solution's zeros
        assert f"{ref_zeros}/12 exactly 0.0" in axes[0, col].get_title()
    (ax,) = source.build(data, "sparsity").get_axes()
    assert [ln.get_ydata()[0] for ln in ax.get_lines() if len(ln.get_xdata()) == 2] == [
        ref_zeros]


def test_geometry_config_end_to_end(tmp_path) -> None:
    run = _shipped("two_features_geometry", tmp_path)
    assert [p.stem for p in plots.plot_run(run.path, kinds=["geometry"])] == ["geometry"]
    lax, rax = source.build(source.read_run(run.path), "geometry").get_axes()
    (lasso,) = [ln for ln in lax.get_lines() if ln.get_label().startswith("lasso")]
    w = np.array([lasso.get_xdata()[0], lasso.get_ydata()[0]])
    assert (w == 0.0).sum() == 1  # on a corner: one coordinate exactly 0
    # the textbook picture: OLS well inside the first quadrant, not near an axis
    ols = run.traces["geometry"]["ols"]
    assert np.all(ols > 0) and ols.min() > 0.35 * ols.max()
    t = float(run.traces["geometry"]["t"])
    (circle,) = [pt for pt in rax.patches if isinstance(pt, Circle)]
    assert circle.get_radius() == pytest.approx(t, rel=1e-8)  # ridge on the same budget
    (ridge,) = [ln for ln in rax.get_lines() if ln.get_label().startswith("ridge")]
    assert ridge.get_xdata()[0] != 0.0 and ridge.get_ydata()[0] != 0.0


def test_path_config_end_to_end(tmp_path) -> None:
    run = _shipped("ridge_vs_lasso_path", tmp_path, **{"objective.alpha.num": 25})
    assert [p.stem for p in plots.plot_run(run.path)] == ["paths", "thresholding"]
    data = source.read_run(run.path)
    lasso_ax, ridge_ax = source.build(data, "paths").get_axes()
    amax = float(run.traces["path"]["alpha_max"])
    (marks,) = [ln for ln in lasso_ax.get_lines() if ln.get_marker() == "o"]
    assert np.max(marks.get_xdata()) == pytest.approx(amax, rel=1e-8)
    first = int(np.argmax(np.abs(run.traces["problem"]["xty"])))
    alphas = np.sort(run.traces["path"]["alphas"])[::-1]
    entries = paths.entry_alphas(alphas, run.traces["path"]["coefs"], amax)
    assert entries[first] == pytest.approx(amax, rel=1e-8)
    assert max(e for e in entries if e is not None) == entries[first]
    # ridge is never exactly 0 on the grid; lasso is all-zero at alpha_max
    assert np.all(run.traces["path"]["ridge_coefs"] != 0.0)
    top = int(np.argmax(run.traces["path"]["alphas"]))
    assert np.all(run.traces["path"]["coefs"][top] == 0.0)


# ---------------------------------------------------------------------- laws (hypothesis)

_finite = st.floats(-1e3, 1e3, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(_finite, min_size=1, max_size=15), st.floats(1e-3, 10.0))
def test_label_spread_keeps_order_and_gap(values, gap) -> None:
    v = np.asarray(values)
    out = paths._spread(v, gap)
    assert np.all(np.diff(np.sort(out)) >= gap * (1 - 1e-9) - 1e-9)
    less = v[:, None] < v[None, :]
    assert np.all((out[:, None] < out[None, :])[less])  # the order of the values is kept
    # never further than needed: a label moves by at most (n - 1) gaps
    assert np.all(np.abs(out - v) <= gap * len(v) + 1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.05, 0.95), st.floats(-5.0, 5.0).filter(lambda s: abs(s) > 1e-3),
       st.integers(6, 40))
def test_entry_alpha_of_a_linear_path_is_its_kink(frac, slope, K) -> None:
    """w(alpha) = slope * (alpha0 - alpha) below alpha0 and 0 above: entry at alpha0."""
    alphas = np.linspace(1.0, 0.01, K)
    alpha0 = alphas[0] - frac * (alphas[0] - alphas[-3])  # two nonzero points at least
    coef = np.where(alphas < alpha0, slope * (alpha0 - alphas), 0.0)
    assert paths.entry_alpha(alphas, coef) == pytest.approx(alpha0, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(_finite, min_size=1, max_size=20), st.floats(0.0, 100.0))
def test_soft_threshold_zero_zone_is_exact(values, lam) -> None:
    z = np.asarray(values)
    s = thresholding.soft_threshold(z, lam)
    assert np.all(s[np.abs(z) <= lam] == 0.0)
    np.testing.assert_allclose(s[np.abs(z) > lam],
                               np.sign(z[np.abs(z) > lam]) * (np.abs(z[np.abs(z) > lam]) - lam))


# ---------------------------------------------------------------------- defects a learner trips on


def test_sparsity_draws_records_only() -> None:
    """A count is never held past a record: nothing at 40 between k = 0 and the next
    record at k = 5; steps only between records one iteration apart."""
    from lasso_torch.plots import sparsity

    it = np.array([0, 5, 10, 11, 12])
    nz = np.array([40, 0, 0, 3, 3])
    fig = sparsity.sparsity_figure({"sub": {"iteration": it, "n_zeros": nz}},
                                   {"sub": {"kind": "subgradient"}}, n_features=40)
    (ax,) = fig.get_axes()
    (rec,) = [ln for ln in ax.get_lines() if ln.get_gid() == "records/sub"]
    np.testing.assert_array_equal(rec.get_xdata(), it)
    np.testing.assert_array_equal(rec.get_ydata(), nz)
    assert rec.get_linestyle() in ("None", "none", "")
    (step,) = [ln for ln in ax.get_lines() if ln.get_gid() == "steps/sub"]
    x, y = np.asarray(step.get_xdata(), float), np.asarray(step.get_ydata(), float)
    drawn = np.isfinite(x) & np.isfinite(y)
    assert not np.any((x > 0) & (x < 5) & drawn)  # no point before the next record
    assert np.all(y[drawn & (x > 0)] != 40)  # the initial 40 zeros are not carried on
    # every finite vertex is at a recorded iteration, holding that record's or the
    # previous record's count, and horizontal runs only span one iteration
    for xv, yv in zip(x[drawn], y[drawn], strict=True):
        i = int(np.flatnonzero(it == xv)[0])
        assert yv in (nz[i], nz[max(i - 1, 0)])
    assert any(t.get_text().startswith("sub") for t in fig.legends[0].get_texts())


def test_trajectories_count_among_recorded_and_the_run(run) -> None:
    tr = run.traces["ista"]
    sub = {"ista": {"iteration": tr["iteration"], "coef": tr["coef"][:, :3],
                    "coef_index": np.arange(3)}}
    fig = trajectories.trajectory_figure(sub, {"ista": {"kind": "ista"}},
                                         run.traces["reference"]["coef"], n_features=12,
                                         final_zeros={"ista": 8})
    title = fig.get_axes()[0].get_title()
    zeros = int((tr["coef"][-1, :3] == 0.0).sum())
    assert f"{zeros} of the 3 recorded exactly 0.0" in title and "run: 8/12" in title
    # p = 2: no zoom row
    two = {"ista": {"iteration": tr["iteration"], "coef": tr["coef"][:, [0, 5]]}}
    ref = run.traces["reference"]["coef"][[0, 5]]
    assert (ref == 0.0).any()
    fig = trajectories.trajectory_figure(two, None, ref)
    assert len(fig.get_axes()) == 1
    n = int((two["ista"]["coef"][-1] == 0.0).sum())
    assert f"{n}/2 exactly 0.0" in fig.get_axes()[0].get_title()


def test_thresholding_zooms_on_wide_data_and_says_why_points_are_missing(run) -> None:
    lam = 0.9
    z = np.array([-27.0, -10.0, -0.5, -0.2, 1.3, 15.0, 26.0])
    pts = (z, thresholding.soft_threshold(z, lam))
    fig = thresholding.thresholding_figure(lam, points=pts)
    ax, zoom = fig.get_axes()
    assert zoom.get_xlim() == pytest.approx((-3 * lam, 3 * lam))
    zeros = [ln for ln in zoom.get_lines() if ln.get_marker() == "o"][1]
    assert len(zeros.get_xdata()) == 2  # both zeros visible in the zoom
    # p = 200 without Gram moments: a note, not a silent absence
    data = source.RunData(run.path, {"problem": {"p": 200, "alpha": 0.1, "l1_ratio": 1.0},
                                     "solvers": {}, "reference": {"alpha": 0.1}},
                          {"reference": {"coef": np.zeros(200)}})
    fig = source.build(data, "thresholding")
    # the note is a legend line (laid out with the axes, never over the x label)
    (note,) = [t for t in fig.get_axes()[0].get_legend().get_texts() if t.get_gid() == "note"]
    assert "200 points are not drawn" in note.get_text() and "gram" in note.get_text().lower()


def test_paths_order_numbers_apart_and_names_tied_to_curves(prun) -> None:
    fig = source.build(prun, "paths")
    lasso_ax = fig.get_axes()[0]
    orders = [t for t in lasso_ax.texts if str(t.get_gid()).startswith("order/")]
    assert len(orders) >= 8
    (marks,) = [ln for ln in lasso_ax.get_lines() if ln.get_marker() == "o"]
    lx0, lx1 = np.log10(lasso_ax.get_xlim())
    xs = np.sort(np.log10([t.get_position()[0] for t in orders]))
    assert np.all(np.diff(xs) >= paths.ORDER_GAP * (lx1 - lx0) * (1 - 1e-9))
    assert {t.xy[0] for t in orders} <= set(np.asarray(marks.get_xdata()).tolist())
    assert all(t.arrow_patch is not None and t.xy[1] == 0.0 for t in orders)
    # names: a leader line from each name to its own curve's end, in the curve's colour
    alphas = np.sort(prun.traces["path"]["alphas"])
    W = prun.traces["path"]["coefs"][np.argsort(prun.traces["path"]["alphas"])]
    names = [t for t in lasso_ax.texts if str(t.get_gid()).startswith("name/")]
    assert names
    for t in names:
        j = int(t.get_gid().split("/")[1])
        assert t.get_text().startswith(f"x{j}") and t.arrow_patch is not None
        assert t.xy == pytest.approx((alphas[0], W[0, j]))
        (curve,) = [ln for ln in lasso_ax.get_lines() if len(ln.get_xdata()) == len(alphas)
                    and ln.get_ydata()[-1] == W[0, j] and ln.get_color() == t.get_color()]


def _overlaps(labels) -> bool:
    boxes = [t.get_window_extent() for t in labels if t.get_visible() and t.get_text()]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_convergence_short_run_time_labels_few_records_and_tol() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    it = np.arange(30)
    long = plots.Series("ista", it, 1e-4 + 2e-4 * it / 29, np.logspace(0, -9, 30),
                        1.0 + np.logspace(0, -9, 30), 1.0, "#1f77b4")
    short = plots.Series("cd", np.array([0, 1]), np.array([0.0, 1.5e-4]),
                         np.array([1.0, 1e-12]), np.array([2.0, 1.0 + 1e-3]), 1.0, "#4d4d4d")
    fig = plots.convergence_figure([long, short], tol={"ista": 1e-8, "cd": 1e-10})
    FigureCanvasAgg(fig).draw()
    axes = fig.get_axes()
    for ax in axes[2:4:1] + axes[1:2]:
        labels = ax.get_xticklabels(minor=False) + ax.get_xticklabels(minor=True)
        assert not _overlaps(labels)
    assert [t.get_text() for t in axes[3].get_xticklabels() if t.get_text()]
    # the solver with two records: markers, in the time panels too, and said so
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "cd (2 records: markers)" in texts
    for ax in axes:
        (cd,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("cd")]
        assert cd.get_marker() == "o"
    # the tolerances: one dotted line per value on both gap panels
    for ax in axes[:2]:
        tols = sorted(ln.get_ydata()[0] for ln in ax.get_lines() if ln.get_linestyle() == ":")
        assert tols == [1e-10, 1e-8]
    assert any("tol = 1e-08 (ista)" == t for t in texts)


def test_convergence_of_a_run_marks_its_configured_tol(run) -> None:
    run = source.RunData(run.path, run.metrics, run.traces, run.meta,
                         {"solvers": [{"tol": 1e-13}] * 4})
    fig = source.build(run, "convergence")
    tols = [ln.get_ydata()[0] for ln in fig.get_axes()[0].get_lines()
            if ln.get_linestyle() == ":"]
    assert tols == [1e-13]


def test_compare_names_runs_one_way_shows_alpha_n_and_never_overwrites(
        run_dir, path_dir, tmp_path) -> None:
    other = solver_run(tmp_path / "src" / "other", frac=0.3)
    out = plots.plot_compare([run_dir, other], tmp_path / "cmp")
    again = plots.plot_compare([run_dir, other], tmp_path / "cmp")
    assert out.name == "compare_convergence.png"
    assert again.name == "compare_convergence-2.png" and out.is_file()
    data = [source.read_run(d) for d in (run_dir, other)]
    names = [r.name for r in data]
    assert names == ["demo", "other"]
    assert plots.run_legend_name(data[0], names)[0] == "demo"
    entry = plots.run_legend_name(data[0], names)[1]
    assert "n = 60" in entry and f"α = {data[0].problem['alpha']:.3g}" in entry
    same = plots.run_legend_name(data[0], ["demo", "demo"])[0]
    assert same == data[0].path.name  # repeated names: folder names for every run
    with pytest.warns(UserWarning, match="path"):
        fig_path = plots.plot_compare([run_dir, path_dir], tmp_path / "cmp2")
    assert fig_path.is_file()


def test_compare_figure_texts(run_dir, path_dir, tmp_path, monkeypatch) -> None:
    captured = {}
    real = plots.style.save

    def spy(fig, path, fmt="png", dpi=None):
        captured["fig"] = fig
        return real(fig, path, fmt, dpi)

    monkeypatch.setattr(plots.style, "save", spy)
    with pytest.warns(UserWarning):
        plots.plot_compare([run_dir, path_dir], tmp_path)
    fig = captured["fig"]
    (note,) = [t for t in fig.texts if t.get_gid() == "missing"]
    assert "path (n = 60, a path)" in note.get_text()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert all(lab.startswith("demo: ") for lab in labels if not lab.startswith("tol"))
    assert "demo (n = 60, α =" in fig._suptitle.get_text()


def test_geometry_box_holds_every_ellipse(geo_dir) -> None:
    run = source.read_run(geo_dir)
    axes = source.build(run, "geometry").get_axes()
    pb, geo = run.traces["problem"], run.traces["geometry"]
    f_ols = float(geometry.datafit_value(pb["gram"], pb["xty"], float(pb["yty"]), geo["ols"]))
    levels = [lev for ax in axes for cs in ax.collections if hasattr(cs, "levels")
              for lev in cs.levels]
    assert len(levels) >= 4
    ax = axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for lev in levels:
        reach = geometry.ellipse_extent(pb["gram"], lev - f_ols)
        assert x0 <= geo["ols"][0] - reach[0] and geo["ols"][0] + reach[0] <= x1
        assert y0 <= geo["ols"][1] - reach[1] and geo["ols"][1] + reach[1] <= y1


def test_readme_images_are_sharp_and_small() -> None:
    from PIL import Image

    root = Path(__file__).parent.parent
    images = sorted((root / "docs" / "img").glob("*.png"))
    assert {p.name for p in images} >= {"trajectories.png", "sparsity.png", "paths.png",
                                        "geometry.png", "landscape.png"}
    for p in images:
        with Image.open(p) as im:
            assert im.info["dpi"][0] >= 149.5, p.name
            assert p.stat().st_size <= 300_000, p.name
    gif = root / "docs" / "img" / "landscape.gif"
    with Image.open(gif) as im:
        assert im.n_frames >= 10
    assert gif.stat().st_size <= 1_000_000


def test_many_solvers_wrap_into_bands_with_their_own_colours():
    """Fourteen solvers (why_not_adam): panels in bands of at most five columns, unused ones
    hidden; the sparsity legend beside the axes; every label its own colour."""
    from lasso_torch.plots.sparsity import sparsity_figure
    from lasso_torch.plots.style import assign_colors
    from lasso_torch.plots.trajectories import PER_ROW, trajectory_figure

    rng = np.random.default_rng(0)
    kinds = ["sgd", "sgd", "adam", "adam", "prox_sgd", "prox_sgd", "fista"]
    labels = [f"{k}-{i}" for i, k in enumerate(kinds)]
    it = np.arange(0, 50, 10)
    traces = {lab: {"iteration": it, "coef": rng.standard_normal((5, 4)),
                    "n_zeros": np.arange(5)} for lab in labels}
    solvers = {lab: {"kind": k} for lab, k in zip(labels, kinds, strict=True)}
    fig = trajectory_figure(traces, solvers, reference=np.array([1.0, 0.0, 0.0, 2.0]))
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2 * len(labels)
    assert max(ax.get_subplotspec().colspan.start for ax in visible) < PER_ROW
    colors = assign_colors(solvers)
    assert len(set(colors.values())) == len(labels)
    sfig = sparsity_figure(traces, solvers, n_features=4)
    ax = sfig.axes[0]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(sfig).draw()  # the constrained layout, as saved
    leg = sfig.legends[0].get_window_extent()
    assert leg.y1 <= ax.get_window_extent().y0  # under the axes, not over the data
