"""The landscape figure (p = 2) and the animations: artists and GIF frames inspected."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.patches import Circle, Polygon
from PIL import Image

import lasso_torch as lt
from lasso_torch import plots
from lasso_torch.plots import animate, landscape, source

CONFIGS = Path(__file__).parent.parent / "configs"


@pytest.fixture(autouse=True)
def _low_dpi(monkeypatch) -> None:
    monkeypatch.setitem(plots.style.RC, "savefig.dpi", 40)
    monkeypatch.setitem(plots.style.RC, "savefig.bbox", None)


@pytest.fixture(scope="module")
def geo_run(tmp_path_factory) -> Path:
    """The shipped two-feature config, every solver's iterates recorded (subgradient cut
    to 120 iterations to keep the test fast)."""
    from lasso_torch.experiment import run_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lt.ConvergenceWarning)
        run = run_config(CONFIGS / "two_features_geometry.yaml",
                         {"output": str(tmp_path_factory.mktemp("runs")), "device": "cpu",
                          "solvers.0.max_iter": 120})
    return run.path


@pytest.fixture(scope="module")
def data(geo_run) -> source.RunData:
    return source.read_run(geo_run)


def _by_gid(fig, prefix: str) -> list:
    return [ln for ax in fig.get_axes() for ln in ax.get_lines()
            if str(ln.get_gid()).startswith(prefix)]


def test_config_records_every_solver(data) -> None:
    assert list(data.solvers) == ["subgradient", "ista", "fista", "cd", "adam", "sgd+momentum"]
    for lab in data.solvers:
        tr = data.traces[lab]
        assert tr["coef"].shape == (len(tr["iteration"]), 2)
        assert np.array_equal(tr["iteration"], np.arange(len(tr["iteration"])))


def test_landscape_iterates_zero_events_and_zoom(data) -> None:
    fig = source.build(data, "landscape")
    main, *strips = fig.get_axes()
    assert len(strips) == len(data.solvers)  # one small panel per optimizer
    ref = data.traces["reference"]["coef"]
    assert (ref == 0.0).sum() == 1
    null = int(np.flatnonzero(ref == 0.0)[0])
    for lab, strip in zip(data.solvers, strips, strict=True):
        lines = [ln for ln in _by_gid(fig, f"iterates/{lab}")]
        assert len(lines) == 1  # one polyline per solver: every recorded iterate
        coef = data.traces[lab]["coef"]
        # its strip: the null coordinate against k on a symmetric-log axis, band lr*alpha
        (w,) = [ln for ln in strip.get_lines() if ln.get_gid() == f"coef/{lab}"]
        np.testing.assert_array_equal(w.get_ydata(), coef[:, null])
        assert strip.get_yscale() == "symlog"
        info = data.solvers[lab]
        if info.get("lr") is not None:
            (band,) = [pt for pt in strip.patches if pt.get_gid() == f"bandlr/{lab}"]
            top = band.get_y() + band.get_height()  # axhspan(-lr alpha, lr alpha)
            assert top == pytest.approx(info["lr"] * data.problem["alpha"])
            assert band.get_y() == pytest.approx(-top)
        np.testing.assert_array_equal(lines[0].get_xdata(), coef[:, 0])
        np.testing.assert_array_equal(lines[0].get_ydata(), coef[:, 1])
        assert lines[0].get_marker() == "o"
    colors = {lab: _by_gid(fig, f"iterates/{lab}")[0].get_color() for lab in data.solvers}
    assert colors["subgradient"] == plots.style.solver_color("subgradient")
    assert len(set(colors.values())) == 6
    # ISTA and FISTA: a marker at the iterate where w_null became exactly 0.0 and stayed
    for lab in ("ista", "fista"):
        coef, it = data.traces[lab]["coef"], data.traces[lab]["iteration"]
        k = plots.landing_index(coef[:, null])
        (mark, strip_mark) = _by_gid(fig, f"zero/{lab}/")
        assert strip_mark.get_xdata()[0] == it[k] and strip_mark.get_ydata()[0] == 0.0
        assert mark.get_gid() == f"zero/{lab}/{int(it[k])}"
        assert [mark.get_xdata()[0], mark.get_ydata()[0]] == coef[k].tolist()
        assert coef[k, null] == 0.0 and coef[k - 1, null] != 0.0
        assert np.all(coef[k:, null] == 0.0)
    # subgradient, Adam, SGD + momentum: cross the axis many times, never exactly 0.0
    for lab in ("subgradient", "adam", "sgd+momentum"):
        w = data.traces[lab]["coef"][:, null]
        assert not _by_gid(fig, f"zero/{lab}") and np.all(w[1:] != 0.0)
        assert landscape.sign_changes(w) >= 5
    sub = data.traces["subgradient"]["coef"][:, null]
    assert landscape.sign_changes(sub) >= 5
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(t.startswith("subgradient") and "never 0.0" in t and
               f"{landscape.sign_changes(sub)}x" in t for t in texts)
    assert any(t.startswith("ista") and "= 0.0 from k =" in t for t in texts)
    # the balls: diamond and circle of the solution's L1 norm; the zoom frames w*
    t = float(np.abs(ref).sum())
    (diamond,) = [p for p in main.patches if isinstance(p, Polygon)]
    assert np.abs(diamond.get_xy()).sum(1).max() == pytest.approx(t)
    (circle,) = [p for p in main.patches if isinstance(p, Circle)]
    assert circle.get_radius() == pytest.approx(t)
    assert main.get_aspect() == 1.0
    assert "objective" in main.get_title() and "kinked" in main.get_title()
    # the contours are the full objective's (datafit + alpha |w|_1): kinked on the axes
    levels = [lev for cs in main.collections if hasattr(cs, "levels") for lev in cs.levels]
    pb = data.traces["problem"]
    f_star = landscape.objective_value(pb["gram"], pb["xty"], float(pb["yty"]), ref,
                                       data.problem["alpha"])
    assert min(levels) > f_star  # around the lasso solution, not around OLS


def test_landscape_only_for_two_recorded_coefficients(data) -> None:
    assert "landscape" in plots.FAMILIES
    traces = {"ista": {"iteration": np.arange(3), "coef": np.zeros((3, 5))}}
    pb = data.traces["problem"]
    with pytest.raises(ValueError, match="record_coef"):
        landscape.landscape_figure(pb["gram"], pb["xty"], 1.0, np.ones(2), np.ones(2), traces)


@pytest.mark.parametrize("kind", ["landscape", "trajectories"])
def test_gif_has_the_requested_frames(geo_run, kind, tmp_path) -> None:
    out = animate.animate_run(geo_run, kind, "gif", frames=6, duration=1.2, dpi=30,
                              out=tmp_path / f"{kind}.gif")
    with Image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == 6
        # the last frame is held (2 more frames' time): 1.5 s over 8 frame times
        assert im.info["duration"] == pytest.approx(187.5, abs=10)
        im.seek(5)
        assert im.info["duration"] == pytest.approx(3 * 187.5, abs=20)


def test_path_sweep_gif_and_bounds(tmp_path) -> None:
    from lasso_torch.experiment import run_config

    run = run_config(CONFIGS / "ridge_vs_lasso_path.yaml",
                     {"output": str(tmp_path), "device": "cpu", "objective.alpha.num": 8})
    out = animate.animate_run(run.path, "paths", frames=5, duration=1.0, dpi=30)
    assert out == run.path / "figures" / "paths.gif"
    with Image.open(out) as im:
        assert im.n_frames == 5
    with pytest.raises(lt.InputError, match="frames"):
        animate.animate_run(run.path, "paths", frames=1)
    with pytest.raises(lt.InputError, match="duration"):
        animate.animate_run(run.path, "paths", duration=0)
    with pytest.raises(lt.InputError, match="no animation"):
        animate.animate_run(run.path, "sparsity")
    with pytest.raises(lt.InputError, match="no data for the 'landscape'"):
        animate.animate_run(run.path, "landscape")


def test_mp4_without_ffmpeg_is_a_clear_error(geo_run, monkeypatch) -> None:
    monkeypatch.setattr(animate.animation.writers, "is_available", lambda name: False)
    with pytest.raises(lt.InputError, match="ffmpeg"):
        animate.animate_run(geo_run, "landscape", "mp4", frames=3)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=300), st.integers(1, 80))
def test_pick_frames_law(values, n) -> None:
    out = animate.pick_frames(np.asarray(values), n)
    u = np.unique(values)
    assert len(out) == min(n, len(u))
    assert np.all(np.diff(out) > 0) and set(out.tolist()) <= set(u.tolist())
    assert out[-1] == u[-1] and (len(out) == 1 or out[0] == u[0])
