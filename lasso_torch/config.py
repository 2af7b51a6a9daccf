"""The config's public names, where they were: the schema, its messages and the loaders
now live in :mod:`lasso_torch.experiment` (``config``, ``errors``, ``load``)."""

from .experiment.config import (  # noqa: F401
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
from .experiment.errors import validate  # noqa: F401
from .experiment.load import (  # noqa: F401
    apply_overrides,
    load_config,
    parse_override,
    read_yaml,
    set_dotted,
    sweep_points,
)
