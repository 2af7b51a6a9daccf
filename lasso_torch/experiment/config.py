"""The experiment config: a pydantic v2 schema (unknown keys forbidden), YAML in and out.

A config names a data source, one objective and a list of solvers::

    name: why_sparsity
    data: {kind: synthetic, n: 200, p: 40, correlation: 0.6}   # | csv | npz | diabetes | libsvm
    objective: {kind: lasso, alpha: {fraction: 0.1}}           # alpha: number | fraction | grid
    #   objective: {alpha: {num: 100}, cv: 5}   picks alpha from the grid by 5-fold CV
    solvers: [{kind: fista}, {kind: cd}, {kind: adam, lr: 0.01, batch_size: 32}]
    device: auto        # auto | cpu | cuda | cuda:N
    dtype: float64      # float32 | float64
    seed: 0             # also the minibatch order of the stochastic solvers
    repeats: 1          # N: each solver with a batch_size runs N times (seeds derived, recorded)
    output: runs        # the output root; a run goes to <output>/<stamp>-<name>/
    distributed: false  # true: rows sharded over torchrun's processes (lasso_torch.distributed)
    sweep: {objective.alpha: [0.1, 0.01]}   # optional: one run per point of the product

YAML 1.1 pitfalls, handled on purpose: ``1e-3`` loads as a *string* and is coerced to a
number; ``yes/no/on/off`` load as booleans and are rejected where a number or a string is
expected (quote them). Reading a file, overrides and sweeps: :mod:`.load`; the one-line
messages of a config that does not validate: :mod:`.errors`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    field_validator,
    model_validator,
)

from ..errors import InputError
from .schema import (  # noqa: F401  (the data kinds, re-exported: the schema's parts)
    CsvData,
    DataConfig,
    DiabetesData,
    Integer,
    LibsvmData,
    NpzData,
    Number,
    PosInt,
    SampleWeightFile,
    SparseSyntheticData,
    Strict,
    SyntheticData,
    not_bool,
)


# --- objective -------------------------------------------------------------------------
class AlphaFraction(Strict):
    """``alpha = fraction * alpha_max``."""

    fraction: Annotated[Number, Field(gt=0.0)]


class AlphaGrid(Strict):
    """``num`` log-spaced values from ``max_fraction`` down to ``min_fraction`` of alpha_max."""

    num: Annotated[Integer, Field(ge=2, le=1000)] = 30
    min_fraction: Annotated[Number, Field(gt=0.0)] = 1e-3
    max_fraction: Annotated[Number, Field(gt=0.0)] = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> AlphaGrid:
        if not self.min_fraction < self.max_fraction:
            raise ValueError("min_fraction must be < max_fraction")
        return self


class AlphaTune(Strict):
    """Alpha by :func:`lasso_torch.tune` (per feature: solved at max alpha_j, weights
    alpha_j / max; criterion holdout: a seeded val_fraction of the rows)."""

    tune: Literal["hypergradient"]
    criterion: Literal["holdout", "cv"] = "holdout"
    per_feature: bool = False
    folds: Annotated[Integer, Field(ge=2, le=100)] = 5
    val_fraction: Annotated[Number, Field(gt=0.0, lt=1.0)] = 0.25
    max_iter: Annotated[Integer, Field(ge=1, le=10_000)] = 50
    start_fraction: Annotated[Number, Field(gt=0.0)] = 0.1


PositiveAlpha = Annotated[Number, Field(gt=0.0)]


class WeightsFile(Strict):
    """Per-feature penalty factors read from a ``.npy`` file (one number per feature)."""

    file: str


class ObjectiveConfig(Strict):
    """Lasso (l1_ratio 1), ridge (0) or elastic net; alpha absolute, a fraction, or a grid.

    ``alpha``: a number; ``{fraction: f}`` (of alpha_max); a list of numbers or
    ``{num, min_fraction, max_fraction}``: a grid, which makes the run a regularization
    path. alpha_max is the lasso's ``||X_c^T y_c||_inf / n`` divided by ``l1_ratio``
    (for ridge, the lasso's).

    ``cv: K`` with a grid: alpha is chosen from the grid by K-fold cross-validation (the
    minimizer of the mean held-out MSE; all folds x all alphas in one batched path,
    :func:`lasso_torch.cv.cross_validate`, folds shuffled by ``seed``, each solve to
    relative gap 1e-6); the run then solves at that one alpha (not a path).
    """

    kind: Literal["lasso", "ridge", "elasticnet", "mcp", "scad", "group", "sparse_group"] = \
        "lasso"
    alpha: PositiveAlpha | AlphaFraction | AlphaGrid | AlphaTune | Annotated[
        list[PositiveAlpha], Field(min_length=1)
    ] = Field(default_factory=lambda: AlphaFraction(fraction=0.1))
    l1_ratio: Annotated[Number, Field(ge=0.0, le=1.0)] | None = None
    fit_intercept: bool = True
    standardize: bool = True
    cv: Annotated[Integer, Field(ge=2, le=100)] | None = None
    loss: Literal["squared", "logistic", "huber", "poisson", "gamma", "tweedie"] = "squared"
    delta: Annotated[Number, Field(gt=0.0)] | None = None
    power: Annotated[Number, Field(gt=1.0, lt=2.0)] | None = None
    gamma: Annotated[Number, Field(gt=0.0)] | None = None
    weights: Annotated[list[Annotated[Number, Field(ge=0.0)]], Field(min_length=1)] | \
        WeightsFile | None = None
    positive: bool = False
    groups: Annotated[Integer, Field(ge=1)] | Annotated[
        list[Annotated[list[Annotated[Integer, Field(ge=0)]], Field(min_length=1)]],
        Field(min_length=1)] | None = None

    def problem_options(self) -> dict[str, Any]:
        """The keyword options of ``lt.solve`` / ``lt.lasso_path`` for this objective
        (``loss``, ``penalty``, ``gamma``, ``delta``, ``weights``, ``positive``)."""
        weights = self.weights
        if isinstance(weights, WeightsFile):
            from ..files import read_npy

            weights = read_npy(weights.file, "objective.weights").ravel().tolist()
        loss = None if self.loss == "squared" else self.loss
        if self.loss == "tweedie" and self.power is not None:
            loss = f"tweedie({float(self.power)!r})"
        return {"loss": loss,
                "penalty": self.kind if self.kind in ("mcp", "scad", "group",
                                                      "sparse_group") else None,
                "groups": self.groups,
                "gamma": self.gamma, "delta": self.delta, "weights": weights,
                "positive": self.positive}

    @property
    def plain(self) -> bool:
        """The squared-loss lasso / ridge / elastic net (no loss, weights, bounds, mcp)."""
        return not any(v not in (None, False) for v in self.problem_options().values())

    @model_validator(mode="after")
    def _options_fit_the_kind(self) -> ObjectiveConfig:
        if self.gamma is not None and self.kind not in ("mcp", "scad"):
            raise ValueError("gamma is an option of kind mcp or scad")
        if self.delta is not None and self.loss != "huber":
            raise ValueError("delta is an option of loss huber")
        if self.power is not None and self.loss != "tweedie":
            raise ValueError("power is an option of loss tweedie")
        if (self.groups is None) == (self.kind in ("group", "sparse_group")):
            raise ValueError("groups goes with kind group or sparse_group (and they need it)")
        if self.positive and self.kind in ("mcp", "scad"):
            raise ValueError(f"positive is not available with kind {self.kind}")
        if isinstance(self.alpha, AlphaTune) and (
                self.loss != "squared" or self.kind not in ("lasso", "elasticnet")
                or self.cv is not None or self.weights is not None or self.positive):
            raise ValueError("alpha: {tune: hypergradient} tunes the squared-loss lasso or "
                             "elastic net, with no cv, weights or positive (criterion: cv)")
        return self

    @model_validator(mode="after")
    def _cv_needs_a_grid(self) -> ObjectiveConfig:
        if self.cv is not None and not isinstance(self.alpha, (list, AlphaGrid)):
            raise ValueError("cv chooses alpha from a grid: give alpha as a list or as "
                             "{num, min_fraction, max_fraction}")
        return self

    @model_validator(mode="after")
    def _ratio(self) -> ObjectiveConfig:
        fixed = {"lasso": 1.0, "ridge": 0.0, "mcp": 1.0, "scad": 1.0, "group": 0.0}.get(self.kind)
        if fixed is not None:
            if self.l1_ratio is not None and self.l1_ratio != fixed:
                raise ValueError(f"l1_ratio of a {self.kind} is {fixed:g}, got {self.l1_ratio}; "
                                 "use kind: elasticnet")
            self.l1_ratio = fixed
        elif self.l1_ratio is None:
            self.l1_ratio = 0.5
        return self

    @property
    def is_path(self) -> bool:
        return self.cv is None and isinstance(self.alpha, (list, AlphaGrid))


# --- solvers ---------------------------------------------------------------------------
RESERVED_LABELS = ("reference", "problem", "path", "geometry")  # traces.npz's own groups
SHARED_OPTIONS = {"restart", "backtracking", "schedule"}  # lt.solve takes them for any solver


class SolverConfig(Strict):
    """One solver run (see :func:`lasso_torch.solve` for the options).

    ``kind``: any solver of the registry (``fista``, ``cd``, ``ws``, ``prox_adam``, ...), a
    ``torch.optim`` optimizer by short name (``sgd``, ``adam``, ``adamw``, ...) or full
    name (``torch.optim.NAdam``), or a user's ``package.module:Class``; ``options``: the
    solver's own keyword arguments (an optimizer's ``momentum``, ``betas``, ...), checked
    against its spec; ``batch_size``: minibatch rows per step, for the solvers that take
    minibatches (the order is shuffled every epoch with the config's ``seed``).
    """

    kind: str  # a name of the solver registry (lasso_torch.solvers.REGISTRY)
    label: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.+-]+$")] | None = None
    lr: Literal["auto"] | Annotated[Number, Field(gt=0.0)] = Field(
        "auto", validation_alias=AliasChoices("lr", "step"))  # ``step:`` is accepted too
    restart: bool = True
    backtracking: bool = False
    schedule: Literal["constant", "inv_sqrt", "inv"] = "constant"
    batch_size: PosInt | None = None  # minibatch rows per step (None: the full batch)
    max_iter: PosInt = 1000
    tol: Annotated[Number, Field(ge=0.0)] = 1e-8
    check_every: PosInt | None = None
    record_every: Annotated[Integer, Field(ge=0)] = 10
    record_coef: Literal["auto", "all", "none"] | list[Annotated[Integer, Field(ge=0)]] = "auto"
    options: dict[str, Any] = Field(default_factory=dict)  # the solver's own options

    @field_validator("label")
    @classmethod
    def _not_reserved(cls, label: str | None) -> str | None:
        """A label names the solver's arrays in traces.npz (``<label>/<field>``): the
        groups a run writes itself are not labels."""
        if label is not None and (label in RESERVED_LABELS or label.endswith(".account")):
            raise ValueError(f"{label!r} is reserved (traces.npz holds its own "
                             f"{', '.join(RESERVED_LABELS)} and <label>.account arrays); "
                             "choose another label")
        return label

    @field_validator("kind")
    @classmethod
    def _registered(cls, kind: str) -> str:
        from ..solvers import get_solver

        try:
            return get_solver(kind).name
        except InputError as e:
            raise ValueError(str(e)) from None

    @model_validator(mode="after")
    def _known_options(self) -> SolverConfig:
        """Every option (and ``batch_size``) is one the solver takes: checked here, before
        a run folder is started."""
        from ..solvers import get_solver

        spec = get_solver(self.kind)
        unknown = sorted(set(self.options) - set(spec.options) - SHARED_OPTIONS)
        if unknown:
            raise ValueError(f"solver {self.kind!r} has no option {unknown[0]!r}; its options: "
                             f"{', '.join(spec.options) or 'none'}")
        if self.batch_size is not None and "batch_size" not in spec.options:
            raise ValueError(f"solver {self.kind!r} takes no batch_size (it steps on all rows)")
        return self


# --- the whole config ------------------------------------------------------------------
class Config(Strict):
    """A validated experiment config; ``model_dump(mode="json")`` is what a run stores."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.+=-]+$", max_length=120)]
    data: DataConfig = Field(default_factory=SyntheticData)
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)
    solvers: Annotated[list[SolverConfig], Field(min_length=1)] = Field(
        default_factory=lambda: [SolverConfig(kind="auto")]
    )
    device: Annotated[str, Field(pattern=r"^(auto|cpu|cuda(:\d+)?)$")] = "auto"
    dtype: Literal["float32", "float64"] = "float64"
    seed: Annotated[Integer, Field(ge=0)] = 0
    # every solver with a batch_size runs this many times, seeds derived from seed
    # (lasso_torch.experiment.repeats); deterministic solvers run once
    repeats: Annotated[PosInt, Field(le=1000)] = 1
    repeat_data: bool = False  # repeats also draw the synthetic data again (every solver)
    output: str = "runs"
    distributed: bool = False  # each process solves on its rows; rank 0 writes the run
    sweep: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _data_kind_default(cls, raw: Any) -> Any:
        """``data`` without ``kind`` is synthetic (so ``--set data.n=500`` works alone)."""
        if isinstance(raw, dict) and isinstance(raw.get("data"), dict) and "kind" not in raw[
                "data"]:
            raw = {**raw, "data": {"kind": "synthetic", **raw["data"]}}
        return raw

    @field_validator("sweep")
    @classmethod
    def _sweep_keys(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key in v:
            if key.split(".")[0] in ("sweep", "name", "output"):
                raise ValueError(f"cannot sweep over {key!r}")
        return v

    @model_validator(mode="after")
    def _path_has_one_solver(self) -> Config:
        if self.objective.is_path and len(self.solvers) != 1:
            raise ValueError("objective.alpha is a grid (a path run): list exactly one solver, "
                             "it computes the path")
        return self

    @model_validator(mode="after")
    def _weights_are_not_distributed(self) -> Config:
        if self.distributed and self.data.sample_weight is not None:
            raise ValueError("data.sample_weight does not run with distributed: true (the "
                             "sharded rows are unweighted); set distributed: false")
        return self

    @model_validator(mode="after")
    def _repeat_data_is_synthetic(self) -> Config:
        if self.repeat_data and not isinstance(self.data, SyntheticData):
            raise ValueError("repeat_data draws synthetic data again; data.kind is "
                             f"{self.data.kind!r} (use repeats alone for minibatch seeds)")
        return self

    @model_validator(mode="after")
    def _cv_is_not_distributed(self) -> Config:
        if self.distributed and self.objective.cv is not None:
            raise ValueError("objective.cv (cross-validated alpha) does not run distributed; "
                             "set distributed: false")
        return self

    def dump(self) -> dict[str, Any]:
        """The config as plain JSON/YAML data, defaults filled in."""
        return self.model_dump(mode="json")

    def hash(self) -> str:
        """A digest of what determines the results: everything but ``output`` and
        ``sweep``, and the *content* of every input file (``data.path``,
        ``data.sample_weight.file``, ``objective.weights.file``), so a sweep point whose
        data file changed is not "done already"."""
        d = self.dump()
        d.pop("output"), d.pop("sweep")
        from .digest import file_digest, input_files

        files = input_files(d)
        if files:  # (none: the digest of earlier versions, so their sweeps still resume)
            d["input_digests"] = {f: file_digest(f) for f in files}
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def resolve_alphas(objective: ObjectiveConfig, alpha_max: float) -> list[float]:
    """The alpha value(s) of the objective, given alpha_max (decreasing for a grid)."""
    a = objective.alpha
    if isinstance(a, AlphaFraction):
        return [a.fraction * alpha_max]
    if isinstance(a, AlphaTune):  # the start; setup replaces it by the tuned alpha
        return [a.start_fraction * alpha_max]
    if isinstance(a, AlphaGrid):  # the package's one grid, from max_fraction * alpha_max
        from ..path import grid

        top = a.max_fraction * alpha_max
        return grid(top, a.num, a.min_fraction / a.max_fraction).tolist()
    if isinstance(a, list):
        return sorted((float(v) for v in a), reverse=True)
    return [float(a)]


__all__ = [
    "AlphaFraction", "AlphaGrid", "AlphaTune", "Config", "CsvData", "DataConfig", "DiabetesData",
    "NpzData", "ObjectiveConfig", "SampleWeightFile", "SolverConfig", "SyntheticData",
    "resolve_alphas",
]
