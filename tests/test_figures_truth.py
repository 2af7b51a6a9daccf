"""Figures that tell the truth (issue 25): each class of wrong or hidden content has a
test on the drawn artists (text, positions, data), on small arrays or tiny runs."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lasso_torch.cv import one_se_rule
from lasso_torch.experiment import run_config
from lasso_torch.experiment.record import identified_at, with_final
from lasso_torch.experiment.repeats import repeat_seeds
from lasso_torch.plots import convergence, cv, paths, source, style, trajectories
from lasso_torch.report import report_html

# ---------------------------------------------------------------- the solved objective


def test_objective_names_the_penalty_and_the_loss() -> None:
    assert source.objective_name({"kind": "mcp"}, {"objective": {"gamma": 3.0}}) \
        == "MCP (γ = 3)"
    assert source.objective_name({"kind": "lasso", "loss": "logistic"}) \
        == "logistic loss + Lasso (L1)"
    assert "l1_ratio = 0.5" in source.objective_name({"kind": "elasticnet", "l1_ratio": 0.5})


def _texts(fig) -> list[str]:
    out = [fig.get_suptitle()] + [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    for ax in fig.get_axes():
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        if ax.get_legend() is not None:
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    return out


def test_mcp_path_is_titled_mcp_and_drawn_beside_the_lasso() -> None:
    alphas = np.geomspace(1.0, 0.01, 12)
    W = np.outer(1 - alphas, [1.0, -0.5, 0.0])
    W[alphas > 0.6, 1] = 0.0
    fig = paths.path_figure(alphas, W, None, 1.0, objective="MCP (γ = 3)",
                            compare=("Lasso (L1), same α grid", 0.8 * W),
                            beta_true=np.array([1.0, -0.6, 0.0]))
    texts = " | ".join(_texts(fig))
    assert "MCP (γ = 3)" in fig.get_axes()[0].get_title()
    assert "Lasso (L1), same α grid" in texts and "Ridge" not in texts
    assert len(fig.get_axes()) == 1  # no ridge panel
    dashed = [ln for ln in fig.get_axes()[0].get_lines() if (ln.get_gid() or "")
              .startswith("compare/")]
    solid = {ln.get_gid().split("/")[1]: ln.get_color() for ln in fig.get_axes()[0].get_lines()
             if (ln.get_gid() or "").startswith("path/")}
    assert dashed and all(ln.get_linestyle() == "--" for ln in dashed)
    # one colour per feature in both paths
    assert all(ln.get_color() == solid[ln.get_gid().split("/")[1]] for ln in dashed)
    assert any("*" in t for t in texts.split(" | ")) or any(
        "x0*" in t.get_text() for t in fig.get_axes()[0].texts)


def test_palette_has_no_pale_dark_pairs() -> None:
    cols = paths.feature_colors(12)
    assert len(set(cols)) == 12
    assert "#aec7e8" not in cols  # tab20's pale blue beside its dark blue


# ---------------------------------------------------------------- step labels by rule


def test_scheduled_step_is_labelled_by_its_rule() -> None:
    info = {"kind": "sgd", "lr": 0.00091, "schedule": "inv_sqrt", "lr0": 0.05}
    text = style.solver_label("sgd-batch30", info)
    assert "0.05/√(k+1)" in text and "0.00091" not in text
    assert style.step_text({"lr": 0.3}) == "lr 0.3"
    base = source.base_step("auto", {"lr": 0.05 / np.sqrt(3001), "n_iter": 3000,
                                     "schedule": "inv_sqrt"})
    assert base == pytest.approx(0.05)


# ---------------------------------------------------------------- landings


def test_zero_at_the_last_record_only_is_not_a_landing() -> None:
    v = np.array([1.0, 0.5, 0.2, 0.0])
    assert trajectories.landing_index(v, min_hold=1) == 3
    assert trajectories.landing_index(v, min_hold=2) is None
    assert trajectories.landing_index(np.array([1.0, 0.0, 0.0]), min_hold=2) == 1


def test_landings_at_one_iteration_are_one_circle_with_a_count() -> None:
    it = np.arange(6)
    coef = np.zeros((6, 4))
    coef[:3] = [1.0, 0.5, -0.3, 2.0]  # three land together at k = 3, one stays nonzero
    coef[3:, 3] = 2.0
    fig = trajectories.trajectory_figure({"ista": {"iteration": it, "coef": coef}},
                                         {"ista": {"kind": "ista", "status": "converged"}},
                                         np.array([0.0, 0.0, 0.0, 1.0]))
    circles = [ln for ax in fig.get_axes() for ln in ax.get_lines()
               if ln.get_gid() == "landing/ista"]
    assert circles and all(list(ln.get_xdata()) == [3.0] for ln in circles)
    counts = [t.get_text() for ax in fig.get_axes() for t in ax.texts
              if (t.get_gid() or "").startswith("landcount/ista")]
    assert counts == ["3"]


# ---------------------------------------------------------------- support from the answer


def test_support_at_counts_the_final_iterate() -> None:
    it = np.array([0, 10, 20])
    c = np.array([[0.0, 0.0], [0.5, 0.1], [0.6, 0.05]])
    target = np.array([0.7, 0.0])
    assert identified_at(it, c, target) is None  # the records alone: never
    res = SimpleNamespace(coef=torch.tensor([0.7, 0.0], dtype=torch.float64), n_iter=23)
    it2, c2 = with_final(it, c, res, slice(None))
    assert list(it2) == [0, 10, 20, 23]
    assert identified_at(it2, c2, target) == 23


# ---------------------------------------------------------------- log axes floor


def test_exact_zero_gap_is_drawn_on_a_labelled_floor() -> None:
    it = np.array([0, 1, 2, 3])
    s = convergence.Series("cd", it, np.array([0.0, 1e-3, 2e-3, 3e-3]),
                           np.array([1.0, 1e-4, 0.0, -1e-17]), np.array([2.0, 1.5, 1.0, 1.0]),
                           1.0, "#333333")
    fig = convergence.convergence_figure([s], tol=1e-8)
    ax = fig.get_axes()[0]
    (floor,) = [ln for ln in ax.get_lines() if ln.get_gid() == "floor/cd"]
    assert list(floor.get_xdata()) == [2, 3]  # 0 and -1e-17 kept, not dropped
    y = float(floor.get_ydata()[0])
    assert y < 1e-8 and ax.get_ylim()[0] < y  # below the tolerance line, inside the axes
    assert any(convergence.FLOOR_LABEL in t.get_text() for t in ax.texts)


# ---------------------------------------------------------------- CV: 1 SE


def test_one_se_rule_and_the_cv_figure() -> None:
    rng = np.random.default_rng(0)
    alphas = np.geomspace(1.0, 1e-3, 30)
    curve = (np.log10(alphas) + 1.5) ** 2
    mse = curve[:, None] + 0.3 * rng.standard_normal((30, 5))
    i_min, i_1se, se = one_se_rule(alphas, mse)
    mean = mse.mean(1)
    assert alphas[i_1se] >= alphas[i_min]
    assert mean[i_1se] <= mean[i_min] + se[i_min]
    bigger = alphas > alphas[i_1se]
    assert np.all(mean[bigger] > mean[i_min] + se[i_min])
    assert se == pytest.approx(mse.std(1, ddof=1) / np.sqrt(5))
    fig = cv.cv_figure(alphas, mse, n_nonzero=np.arange(30)[::-1])
    ax = fig.get_axes()[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == "alpha_1se"]
    assert line.get_xdata()[0] == pytest.approx(alphas[i_1se])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("1 standard error" in t for t in labels) and not any("std across" in t
                                                                    for t in labels)
    assert ax.child_axes  # the nonzero counts on the top axis


# ---------------------------------------------------------------- repeats


def test_repeat_seeds_are_derived_and_distinct() -> None:
    seeds = repeat_seeds(7, 5)
    assert seeds[0] == 7 and len(set(seeds)) == 5 and seeds == repeat_seeds(7, 5)


@pytest.fixture(scope="module")
def repeated_run(tmp_path_factory):
    cfg = {"name": "rep", "output": str(tmp_path_factory.mktemp("runs")), "device": "cpu",
           "data": {"kind": "synthetic", "n": 60, "p": 8, "density": 0.3},
           "objective": {"alpha": {"fraction": 0.2}}, "repeats": 3, "seed": 1,
           "solvers": [{"kind": "prox_sgd", "label": "prox_sgd-b10", "batch_size": 10,
                        "schedule": "inv_sqrt", "lr": 0.1, "max_iter": 60, "record_every": 5},
                       {"kind": "fista", "max_iter": 200, "record_every": 5}]}
    with pytest.warns(Warning):
        return run_config(cfg)


def test_repeats_run_stochastic_solvers_only_and_record_seeds(repeated_run) -> None:
    m = repeated_run.metrics
    assert m["repeats"]["seeds"] == repeat_seeds(1, 3)
    rows = m["solvers"]["prox_sgd-b10"]["repeats"]
    assert [r["seed"] for r in rows] == repeat_seeds(1, 3)
    stats = m["solvers"]["prox_sgd-b10"]["repeat_stats"]["n_zeros"]
    assert stats["median"] == np.median([r["n_zeros"] for r in rows])
    assert "repeats" not in m["solvers"]["fista"]  # deterministic: once
    assert {"prox_sgd-b10.repeat1", "prox_sgd-b10.repeat2"} <= set(repeated_run.traces)
    assert "fista.repeat1" not in repeated_run.traces
    # different seeds draw different minibatches
    a = repeated_run.traces["prox_sgd-b10"]["objective"]
    b = repeated_run.traces["prox_sgd-b10.repeat1"]["objective"]
    assert not np.array_equal(a, b)


def test_repeats_are_drawn_as_median_with_band(repeated_run) -> None:
    run = source.read_run(repeated_run.path)
    for kind in ("sparsity", "convergence", "trajectories"):
        fig = source.build(run, kind)
        gids = {c.get_gid() for ax in fig.get_axes() for c in ax.collections}
        assert "band/prox_sgd-b10" in gids or any(
            (g or "").startswith("band/prox_sgd-b10") for g in gids), kind
        assert any("median of 3 repeats" in t for t in _texts(fig)), kind


def test_compare_draws_repeated_runs_with_bands(repeated_run, tmp_path) -> None:
    from lasso_torch import plots

    out = plots.plot_compare([repeated_run.path], tmp_path)
    assert out.exists()
    run = source.read_run(repeated_run.path)
    series = convergence.series_from_traces(run.traces, run.solvers)
    (rep,) = [s for s in series if s.gap_band is not None]
    assert "median of 3 repeats" in rep.label


def test_report_has_unique_ids_alt_text_and_coefficient_tables(repeated_run) -> None:
    text = report_html([repeated_run.path, repeated_run.path])
    import re

    ids = re.findall(r' id="([^"]+)"', text)
    assert len(ids) == len(set(ids)) and "run1-fig-sparsity" in ids
    assert text.index("run0-figures") < text.index("run0-solvers")  # figures first
    assert 'alt="figure"' not in text and "<figcaption><b>sparsity</b>" in text
    assert "median [IQR] of 3" in text and "relative duality gap" in text
    # the per-coefficient account is a table, one row per coefficient, not a cut JSON
    assert "<th>feature</th>" in text and '"zero_at"' not in text


# ---------------------------------------------------------------- feature names


def test_feature_names_come_from_the_data(tmp_path) -> None:
    from lasso_torch.experiment import load_config
    from lasso_torch.experiment.rows import column_names

    csv = tmp_path / "d.csv"
    csv.write_text("age,w,bmi,y\n1,1,2,3\n2,1,3,4\n3,2,1,1\n")
    cfg = load_config({"name": "c", "data": {"kind": "csv", "path": str(csv), "target": "y",
                                             "sample_weight": "w"}})
    assert column_names(cfg, 2) == ["age", "bmi"]
    dia = load_config({"name": "d", "data": {"kind": "diabetes"}})
    assert column_names(dia, 10)[:3] == ["age", "sex", "bmi"]
    assert column_names(load_config({"name": "s"}), 50) is None
    run = source.RunData(tmp_path, {"problem": {"feature_names": ["age", "bmi"]}})
    assert source.feature_names(run, 2) == ["age", "bmi"]
    assert source.feature_names(run, 3) == ["x0", "x1", "x2"]


def test_estimator_and_run_table_give_the_one_se_alpha(capsys) -> None:
    from lasso_torch.cli.tables import print_run
    from lasso_torch.sklearn import TorchLassoCV

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 6))
    y = X[:, 0] - 0.5 * X[:, 1] + 0.5 * rng.standard_normal(60)
    est = TorchLassoCV(cv=3, alphas=12).fit(X, y)
    i_min, i_1se, _ = one_se_rule(est.alphas_, est.mse_path_)
    assert est.alpha_1se_ == est.alphas_[i_1se] and est.alpha_1se_ >= est.alpha_
    run = SimpleNamespace(path=SimpleNamespace(name="r"), status="complete", metrics={
        "problem": {"kind": "lasso", "n": 60, "p": 6, "alpha": 0.1, "alpha_max": 1.0,
                    "cv": {"alpha": 0.1, "alpha_1se": 0.3}}, "solvers": {}})
    print_run(run)
    assert "alpha_1se 0.3" in capsys.readouterr().out


def test_a_penalty_without_duality_gap_shows_its_kkt_violation() -> None:
    from lasso_torch.cli.tables import SOLVER_HEADERS, certificate_cell, solver_rows

    assert certificate_cell({"gap": 1e-9, "certificate": "duality gap"}) == "1.00e-09"
    assert certificate_cell({"gap": 2e-10, "kkt": None, "certificate": "kkt"}) \
        == "KKT 2.00e-10"
    rows = solver_rows({"solvers": {"cd": {"status": "converged", "gap": 2e-10,
                                           "certificate": "kkt"}}})
    assert rows[0][SOLVER_HEADERS.index("rel gap | KKT")] == "KKT 2.00e-10"


def test_animation_frames_state_no_final_numbers() -> None:
    from lasso_torch.plots.animate import without_final_numbers

    it = np.arange(6)
    coef = np.zeros((6, 2))
    coef[:3] = [1.0, 0.5]
    fig = trajectories.trajectory_figure({"ista": {"iteration": it, "coef": coef}},
                                         {"ista": {"kind": "ista", "status": "converged"}},
                                         np.array([0.0, 0.0]))
    assert "exactly 0.0 at k = 5" in fig.get_axes()[0].get_title()
    without_final_numbers(fig)
    assert all("exactly 0.0" not in ax.get_title() for ax in fig.get_axes())


def test_many_series_put_the_legend_beside_and_name_coinciding_curves() -> None:
    it = np.arange(5)
    series = [convergence.Series(f"s{i}", it, it + 1.0, np.geomspace(1, 1e-3, 5),
                                 np.geomspace(2, 1, 5), 1.0) for i in range(10)]
    fig = convergence.convergence_figure(series)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "s1 (same curve as s0)" in labels
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    right = max(ax.get_window_extent().x1 for ax in fig.get_axes())
    assert fig.legends[0].get_window_extent().x0 >= right  # beside the panels


def test_repeat_data_draws_the_synthetic_data_again(tmp_path) -> None:
    from lasso_torch import InputError
    from lasso_torch.experiment import load_config

    cfg = {"name": "rd", "output": str(tmp_path), "device": "cpu", "repeats": 2,
           "repeat_data": True, "data": {"kind": "synthetic", "n": 40, "p": 5},
           "solvers": [{"kind": "fista", "max_iter": 100, "record_every": 10}]}
    run = run_config(cfg)
    rows = run.metrics["solvers"]["fista"]["repeats"]  # a deterministic solver repeats too
    assert [r["seed"] for r in rows] == repeat_seeds(0, 2)
    assert rows[0]["objective"] != rows[1]["objective"]  # another data set
    assert run.metrics["repeats"]["data"].startswith("synthetic data drawn again")
    with pytest.raises(InputError, match="repeat_data"):
        load_config({"name": "x", "repeats": 2, "repeat_data": True,
                     "data": {"kind": "diabetes"}})
