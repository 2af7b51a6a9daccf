"""Regenerate the README's figures (docs/img/*.png) from the shipped configs.

    .venv/bin/python experiments/readme_figures.py [--runs runs/readme] [--out docs/img]

Runs ``configs/why_sparsity.yaml``, ``configs/ridge_vs_lasso_path.yaml`` and
``configs/two_features_geometry.yaml`` (a few seconds on a laptop CPU) into ``--runs``,
then draws four figures from the saved runs, exactly as ``lasso-torch plot`` does, at a
resolution that keeps each PNG under 200 KB. The runs are CPU float64 with fixed seeds,
so the figures are the same on every machine except for the wall-time axis, which is not
among them.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from matplotlib.figure import Figure

from lasso_torch import ConvergenceWarning
from lasso_torch.plots import source, style
from lasso_torch.runner import run_config

ROOT = Path(__file__).resolve().parent.parent
FIGURES = (  # (config, figure family, file name, dots per inch)
    ("why_sparsity", "trajectories", "trajectories.png", 70),
    ("why_sparsity", "sparsity", "sparsity.png", 80),
    ("ridge_vs_lasso_path", "paths", "paths.png", 84),
    ("two_features_geometry", "geometry", "geometry.png", 80),
)
FONT_SCALE = 1.25  # the PNGs are shown at about 900 px wide: larger text stays readable
MAX_BYTES = 200_000


def save_small(fig: Figure, path: Path, dpi: int) -> int:
    """Save a PNG with Pillow's optimizer; return its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=dpi, bbox_inches="tight", pil_kwargs={"optimize": True})
    return path.stat().st_size


def main(argv: list[str] | None = None) -> list[Path]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "readme",
                    help="output root for the runs (default: runs/readme)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img",
                    help="folder for the PNGs (default: docs/img)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)  # the subgradient never converges
    runs: dict[str, source.RunData] = {}
    written = []
    for config, kind, name, dpi in FIGURES:
        if config not in runs:
            run = run_config(ROOT / "configs" / f"{config}.yaml",
                             {"output": str(args.runs), "device": "cpu"})
            runs[config] = source.read_run(run.path)
        with style.font_scale(FONT_SCALE):
            fig = source.build(runs[config], kind)
        size = save_small(fig, args.out / name, dpi)
        print(f"{args.out / name}: {size / 1000:.0f} KB  ({kind} of {runs[config].path})")
        if size > MAX_BYTES:
            raise SystemExit(f"{name} is {size} bytes, over the README budget of {MAX_BYTES}")
        written.append(args.out / name)
    return written


if __name__ == "__main__":
    main()
