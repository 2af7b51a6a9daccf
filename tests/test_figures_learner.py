"""A learner's check of every shipped config (shrunk: fewer rows, iterations, alphas):
every figure's titles name the solved objective, its legends and titles name every
solver drawn, and no title, label, legend or note is drawn outside the figure."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg

from lasso_torch.experiment import run_config
from lasso_torch.plots import FAMILIES, source

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))


def _small(name: str, out: Path) -> dict:
    cfg = yaml.safe_load((ROOT / "configs" / f"{name}.yaml").read_text())
    cfg.update(output=str(out), device="cpu", distributed=False)
    cfg.pop("repeats", None)
    cfg["repeats"] = 2 if any("batch_size" in s for s in cfg["solvers"]) else 1
    if cfg["data"].get("kind") == "synthetic":
        cfg["data"]["n"] = min(cfg["data"].get("n", 200), 120)
    alpha = cfg["objective"].get("alpha")
    if isinstance(alpha, dict) and "num" in alpha:
        alpha["num"] = 8
    for s in cfg["solvers"]:
        s["max_iter"] = min(s.get("max_iter", 1000), 60)
        s["record_every"] = min(s.get("record_every", 10) or 0, 5)
    return cfg


def _texts(fig) -> str:
    out = [fig.get_suptitle()] + [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    for ax in fig.get_axes():
        out += [ax.get_title()] + [t.get_text() for t in ax.texts]
        if ax.get_legend() is not None:
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    return " | ".join(out)


@pytest.mark.parametrize("name", CONFIGS)
def test_every_figure_names_its_objective_and_solvers_inside_the_figure(name, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = run_config(_small(name, tmp_path))
    data = source.read_run(run.path)
    objective = source.run_objective(data)
    for kind in FAMILIES:
        fig = source.build(data, kind)
        if fig is None:
            continue
        text = _texts(fig)
        assert objective in text, (name, kind, objective)
        if kind in ("trajectories", "convergence", "sparsity", "landscape"):
            for label in data.solvers:
                assert label in text, (name, kind, label)
        fig.set_dpi(30)  # the layout is the same at any dpi; a small canvas draws fast
        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)
        box = fig.bbox
        artists = [*fig.legends, *fig.texts]
        for ax in fig.get_axes():
            artists += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
            if ax.get_legend() is not None:
                artists.append(ax.get_legend())
        for a in artists:
            if not a.get_visible() or (hasattr(a, "get_text") and not a.get_text()):
                continue
            ext = a.get_window_extent(renderer)
            assert box.x0 - 2 <= ext.x0 and ext.x1 <= box.x1 + 2, (name, kind, a)
            assert box.y0 - 2 <= ext.y0 and ext.y1 <= box.y1 + 2, (name, kind, a)
