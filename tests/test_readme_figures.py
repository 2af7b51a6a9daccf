"""The README's images match what `make figures` (experiments/readme_figures.py) draws:
docs/img/figures.json holds, per image, its config's hash and a hash of the figure's drawn
data (never pixels); a changed config or a changed drawing makes this fail until the
images are rebuilt."""

from __future__ import annotations

import importlib.util
import json
import re
import warnings
from pathlib import Path

from lasso_torch import ConvergenceWarning
from lasso_torch.experiment import run_config
from lasso_torch.plots import source, style

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("readme_figures",
                                              ROOT / "experiments" / "readme_figures.py")
rf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rf)
MANIFEST = json.loads((ROOT / "docs" / "img" / "figures.json").read_text())


def test_every_readme_image_of_the_command_is_in_the_manifest_within_budget() -> None:
    shown = set(re.findall(r"docs/img/([\w.-]+)", (ROOT / "README.md").read_text()))
    made = {name for _, _, name in rf.FIGURES} | {rf.ANIMATION[2]}
    assert made <= shown and made == set(MANIFEST)
    for name in made:
        limit = rf.MAX_GIF_BYTES if name.endswith(".gif") else rf.MAX_BYTES
        assert (ROOT / "docs" / "img" / name).stat().st_size <= limit, name


def test_the_images_configs_did_not_change() -> None:
    for name, entry in MANIFEST.items():
        assert rf.config_hash(entry["config"]) == entry["config_hash"], (
            f"configs/{entry['config']}.yaml changed: run `make figures` ({name})")


def test_the_paths_image_matches_what_its_command_draws(tmp_path) -> None:
    entry = MANIFEST["paths.png"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        run = run_config(ROOT / "configs" / f"{entry['config']}.yaml",
                         {"output": str(tmp_path), "device": "cpu"})
    with style.font_scale(rf.FONT_SCALE):
        fig = source.build(source.read_run(run.path), entry["kind"])
    assert rf.drawn_hash(fig) == entry["drawn"], "paths.png is stale: run `make figures`"
