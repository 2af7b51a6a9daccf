"""Regenerate the README's figures (docs/img/*.png) from the shipped configs.

    .venv/bin/python experiments/readme_figures.py [--runs runs/readme] [--out docs/img]

Runs ``configs/why_sparsity.yaml``, ``configs/ridge_vs_lasso_path.yaml`` and
``configs/two_features_geometry.yaml`` (a few seconds on a laptop CPU) into ``--runs``,
then draws five figures from the saved runs, exactly as ``lasso-torch plot`` does, at
150 dpi (legible legends) as 256-colour PNGs (small files, under 300 KB each), and one
animation, ``landscape.gif`` (the iterates advancing, under 1 MB), exactly as
``lasso-torch plot RUN --kind landscape --format gif`` does. The runs are CPU float64
with fixed seeds, so the figures are the same on every machine except for the wall-time
axis, which is not among them.
"""

from __future__ import annotations

import argparse
import io
import warnings
from pathlib import Path

from matplotlib.figure import Figure

from lasso_torch import ConvergenceWarning
from lasso_torch.experiment import run_config
from lasso_torch.plots import animate, source, style

ROOT = Path(__file__).resolve().parent.parent
DPI = 150
FIGURES = (  # (config, figure family, file name)
    ("why_sparsity", "trajectories", "trajectories.png"),
    ("why_sparsity", "sparsity", "sparsity.png"),
    ("ridge_vs_lasso_path", "paths", "paths.png"),
    ("two_features_geometry", "geometry", "geometry.png"),
    ("two_features_geometry", "landscape", "landscape.png"),
)
ANIMATION = ("two_features_geometry", "landscape", "landscape.gif", 30, 7.5, 80)
FONT_SCALE = 1.15  # the PNGs are shown at about 900 px wide: larger text stays readable
MAX_BYTES = 300_000
MAX_GIF_BYTES = 1_000_000


def save_small(fig: Figure, path: Path, dpi: int = DPI) -> int:
    """Save a PNG at ``dpi`` (kept in the file), reduced to an adaptive 256-colour palette
    (flat-colour line art loses nothing visible); return its size in bytes."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    with Image.open(buf) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        small.save(path, format="PNG", optimize=True, dpi=(dpi, dpi))
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
    for config, kind, name in FIGURES:
        if config not in runs:
            run = run_config(ROOT / "configs" / f"{config}.yaml",
                             {"output": str(args.runs), "device": "cpu"})
            runs[config] = source.read_run(run.path)
        with style.font_scale(FONT_SCALE):
            fig = source.build(runs[config], kind)
        size = save_small(fig, args.out / name)
        print(f"{args.out / name}: {size / 1000:.0f} KB  ({kind} of {runs[config].path})")
        if size > MAX_BYTES:
            raise SystemExit(f"{name} is {size} bytes, over the README budget of {MAX_BYTES}")
        written.append(args.out / name)
    config, kind, name, frames, seconds, dpi = ANIMATION
    gif = animate.animate_run(runs[config].path, kind, "gif", frames=frames, duration=seconds,
                              dpi=dpi, out=args.out / name)
    size = gif.stat().st_size
    print(f"{gif}: {size / 1000:.0f} KB, {frames} frames ({kind} of {runs[config].path})")
    if size > MAX_GIF_BYTES:
        raise SystemExit(f"{name} is {size} bytes, over the README budget of {MAX_GIF_BYTES}")
    return [*written, gif]


if __name__ == "__main__":
    main()
