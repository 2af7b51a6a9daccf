"""``lasso-torch``: run configs, list and compare runs, draw their figures (typer).

    lasso-torch run configs/why_sparsity.yaml [--set data.n=5000 --set device=cuda]
    lasso-torch list [--output runs]
    lasso-torch compare runs/A runs/B [--plot]
    lasso-torch plot runs/A [--kind convergence --format svg]
    lasso-torch plot runs/A --kind landscape --format gif [--frames 40 --duration 6]
    lasso-torch report runs/A [runs/B ...]
    lasso-torch clean [--output runs]
    lasso-torch --version

User errors (a bad key, value, file or YAML, a damaged run folder) print one line on
stderr naming the key, file or value, and exit with status 2, without a traceback.
Ctrl-C during ``run`` keeps the partial run (``status: interrupted``) and exits with 130;
SIGTERM, SIGHUP and SIGQUIT do the same and exit with 128 + the signal (143, 129, 131).
Torch is imported only by the commands that solve or draw, so ``--help``, ``--version``
and ``list`` answer at once. Also runnable as ``python -m lasso_torch.cli``.

The app and its shared error handling: :mod:`.common`; the commands: :mod:`.commands`;
the tables they print: :mod:`.tables`.
"""

from __future__ import annotations

from . import commands  # noqa: F401 (registers the commands on the app)
from .common import app
from .tables import config_differences, format_table, solver_rows


def main() -> None:
    app(prog_name="lasso-torch")


__all__ = ["app", "config_differences", "format_table", "main", "solver_rows"]
