"""Regenerate the README's figures (docs/img/*.png) from the shipped configs.

    make figures      (= .venv/bin/python experiments/readme_figures.py)
    .venv/bin/python experiments/readme_figures.py [--runs runs/readme] [--out docs/img]

Besides the images it writes ``docs/img/figures.json``: for each image its config, the
config's hash and a hash of the figure's *drawn data* (every line's and collection's
coordinates rounded to 7 significant digits, every text; :func:`drawn_hash`), so that
``tests/test_readme_figures.py`` fails when an image no longer matches what this command
draws from its config (a test compares data, never pixels).

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
import hashlib
import io
import json
import warnings
from pathlib import Path

import numpy as np
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
ANIMATION = ("two_features_geometry", "landscape", "landscape.gif", 24, 7.5, 64)
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


def drawn_data(fig: Figure) -> list:
    """What a figure draws, as plain data: per axes, every line's (x, y), every
    collection's offsets and paths, every text (titles, labels, legend entries)."""
    def r(v: np.ndarray) -> list:
        a = np.asarray(v, dtype=np.float64).ravel()
        return [float(f"{x:.7g}") if np.isfinite(x) else str(x) for x in a]

    out: list = []
    for ax in fig.get_axes():
        out.append([ax.get_title(), ax.get_xlabel(), ax.get_ylabel()])
        out += [[ln.get_gid(), r(ln.get_xdata()), r(ln.get_ydata())] for ln in ax.get_lines()]
        out += [r(c.get_offsets()) for c in ax.collections]
        out += [t.get_text() for t in ax.texts]
        leg = ax.get_legend()
        if leg is not None:
            out += [t.get_text() for t in leg.get_texts()]
    for leg in fig.legends:
        out += [t.get_text() for t in leg.get_texts()]
    out.append(fig.get_suptitle() if hasattr(fig, "get_suptitle") else "")
    return out


def drawn_hash(fig: Figure) -> str:
    """sha256 of :func:`drawn_data` (16 hex digits)."""
    return hashlib.sha256(json.dumps(drawn_data(fig)).encode()).hexdigest()[:16]


def config_hash(config: str) -> str:
    """The hash of a shipped config as the run store records it."""
    from lasso_torch.experiment import load_config

    return load_config(ROOT / "configs" / f"{config}.yaml").hash()


def main(argv: list[str] | None = None) -> list[Path]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "readme",
                    help="output root for the runs (default: runs/readme)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img",
                    help="folder for the PNGs (default: docs/img)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)  # the subgradient never converges
    runs: dict[str, source.RunData] = {}
    written, manifest = [], {}
    for config, kind, name in FIGURES:
        if config not in runs:
            run = run_config(ROOT / "configs" / f"{config}.yaml",
                             {"output": str(args.runs), "device": "cpu"})
            runs[config] = source.read_run(run.path)
        with style.font_scale(FONT_SCALE):
            fig = source.build(runs[config], kind)
        manifest[name] = {"config": config, "kind": kind, "config_hash": config_hash(config),
                          "drawn": drawn_hash(fig)}
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
    manifest[name] = {**manifest[f"{kind}.png"], "frames": frames}
    if size > MAX_GIF_BYTES:
        raise SystemExit(f"{name} is {size} bytes, over the README budget of {MAX_GIF_BYTES}")
    (args.out / "figures.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return [*written, gif]


if __name__ == "__main__":
    main()
