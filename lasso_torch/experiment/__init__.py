"""Experiments: a YAML config -> one run code path (local or row-sharded) -> a run folder.

* :mod:`.config`: the schema (pydantic v2, unknown keys forbidden);
* :mod:`.errors`: a config that does not validate, in one line naming the key;
* :mod:`.load`: YAML files, ``--set`` overrides, sweeps;
* :mod:`.backend`: where the rows live (this process, or sharded under torch.distributed);
* :mod:`.run`: config -> solves -> run folder, the same code for both backends;
* :mod:`.record`: what a run records (summaries, the per-coefficient account, path metrics).

The schema and the loaders are imported here (no torch); :func:`run_config` and
:func:`run_single` on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .config import (
    AlphaFraction,
    AlphaGrid,
    Config,
    CsvData,
    DiabetesData,
    NpzData,
    ObjectiveConfig,
    SolverConfig,
    SyntheticData,
    resolve_alphas,
)
from .errors import validate
from .load import (
    apply_overrides,
    load_config,
    parse_override,
    read_yaml,
    set_dotted,
    sweep_points,
)

_LAZY = {"run_config": "run", "run_single": "run", "run_sweep": "run"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'lasso_torch.experiment' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)


__all__ = [
    "AlphaFraction", "AlphaGrid", "Config", "CsvData", "DiabetesData", "NpzData",
    "ObjectiveConfig", "SolverConfig", "SyntheticData", "apply_overrides", "load_config",
    "parse_override", "read_yaml", "resolve_alphas", "run_config", "run_single", "run_sweep",
    "set_dotted", "sweep_points", "validate",
]
