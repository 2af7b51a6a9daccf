"""The experiment config: a pydantic v2 schema (unknown keys forbidden), YAML in and out.

A config names a data source, one objective and a list of solvers::

    name: why_sparsity
    data: {kind: synthetic, n: 200, p: 40, correlation: 0.6}   # | csv | npz | diabetes
    objective: {kind: lasso, alpha: {fraction: 0.1}}           # alpha: number | fraction | grid
    #   objective: {alpha: {num: 100}, cv: 5}   picks alpha from the grid by 5-fold CV
    solvers: [{kind: fista}, {kind: cd}]
    device: auto        # auto | cpu | cuda | cuda:N
    dtype: float64      # float32 | float64
    seed: 0
    output: runs        # the output root; a run goes to <output>/<stamp>-<name>/
    distributed: false  # true: rows sharded over torchrun's processes (lasso_torch.distributed)
    sweep: {objective.alpha: [0.1, 0.01]}   # optional: one run per point of the product

YAML 1.1 pitfalls, handled on purpose: ``1e-3`` loads as a *string* and is coerced to a
number; ``yes/no/on/off`` load as booleans and are rejected where a number or a string is
expected (quote them). Every problem raises :class:`lasso_torch.InputError` with one line
naming the file and the dotted key, with the closest valid key for an unknown one.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import InputError


# --- scalar types: no booleans where numbers are expected --------------------------------
def _not_bool(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("expected a number, got a boolean (YAML reads yes/no/on/off as "
                         "booleans; quote it or write a number)")
    return v


Number = Annotated[float, BeforeValidator(_not_bool)]
Integer = Annotated[int, BeforeValidator(_not_bool)]
PosInt = Annotated[int, BeforeValidator(_not_bool), Field(ge=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True)


# --- data ------------------------------------------------------------------------------
class SyntheticData(_Strict):
    """Correlated Gaussian design with a sparse truth (:func:`lasso_torch.data.make_synthetic`)."""

    kind: Literal["synthetic"] = "synthetic"
    n: PosInt = 200
    p: PosInt = 50
    correlation: Annotated[Number, Field(gt=-1.0, lt=1.0)] = 0.0
    density: Annotated[Number, Field(ge=0.0, le=1.0)] = 0.1
    snr: Annotated[float, Field(gt=0.0, allow_inf_nan=True), BeforeValidator(_not_bool)] = 3.0
    seed: Integer | None = None  # None: the top-level seed


class CsvData(_Strict):
    """A numeric CSV file with a header row; ``target`` names (or indexes) y's column.

    A relative ``path`` is read from the working directory (as ``output`` is written to it).
    """

    kind: Literal["csv"]
    path: str
    target: str | Integer
    delimiter: str = ","


class NpzData(_Strict):
    """An ``.npz`` file with arrays ``features`` and ``target`` (or a column index);
    a relative ``path`` is read from the working directory."""

    kind: Literal["npz"]
    path: str
    target: str | Integer = "y"
    features: str = "X"


class DiabetesData(_Strict):
    """The LARS paper's diabetes data (442 x 10), bundled."""

    kind: Literal["diabetes"]


DataConfig = Annotated[
    Union[SyntheticData, CsvData, NpzData, DiabetesData],  # noqa: UP007 (discriminated)
    Field(discriminator="kind"),
]


# --- objective -------------------------------------------------------------------------
class AlphaFraction(_Strict):
    """``alpha = fraction * alpha_max``."""

    fraction: Annotated[Number, Field(gt=0.0)]


class AlphaGrid(_Strict):
    """``num`` log-spaced values from ``max_fraction`` down to ``min_fraction`` of alpha_max."""

    num: Annotated[Integer, Field(ge=2, le=1000)] = 30
    min_fraction: Annotated[Number, Field(gt=0.0)] = 1e-3
    max_fraction: Annotated[Number, Field(gt=0.0)] = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> AlphaGrid:
        if not self.min_fraction < self.max_fraction:
            raise ValueError("min_fraction must be < max_fraction")
        return self


PositiveAlpha = Annotated[Number, Field(gt=0.0)]


class WeightsFile(_Strict):
    """Per-feature penalty factors read from a ``.npy`` file (one number per feature)."""

    file: str


class ObjectiveConfig(_Strict):
    """Lasso (l1_ratio 1), ridge (0) or elastic net; alpha absolute, a fraction, or a grid.

    ``alpha``: a number; ``{fraction: f}`` (of alpha_max); a list of numbers or
    ``{num, min_fraction, max_fraction}``: a grid, which makes the run a regularization
    path. alpha_max is the lasso's ``||X_c^T y_c||_inf / n`` divided by ``l1_ratio``
    (for ridge, the lasso's).

    ``loss`` (``squared``, ``logistic``, ``huber`` with ``delta``, ``poisson``), ``kind``
    ``mcp``/``scad`` (with ``gamma``), ``weights`` (a list, or ``{file: w.npy}``: per-feature
    penalty factors, 0 = unpenalized) and ``positive``: the problem of
    :mod:`lasso_torch.problem`.

    ``cv: K`` with a grid: alpha is chosen from the grid by K-fold cross-validation (the
    minimizer of the mean held-out MSE; all folds x all alphas in one batched path,
    :func:`lasso_torch.cv.cross_validate`, folds shuffled by ``seed``, each solve to
    relative gap 1e-6); the run then solves at that one alpha (not a path).
    """

    kind: Literal["lasso", "ridge", "elasticnet", "mcp", "scad"] = "lasso"
    alpha: PositiveAlpha | AlphaFraction | AlphaGrid | Annotated[
        list[PositiveAlpha], Field(min_length=1)
    ] = Field(default_factory=lambda: AlphaFraction(fraction=0.1))
    l1_ratio: Annotated[Number, Field(ge=0.0, le=1.0)] | None = None
    fit_intercept: bool = True
    standardize: bool = True
    cv: Annotated[Integer, Field(ge=2, le=100)] | None = None
    loss: Literal["squared", "logistic", "huber", "poisson"] = "squared"
    delta: Annotated[Number, Field(gt=0.0)] | None = None
    gamma: Annotated[Number, Field(gt=0.0)] | None = None
    weights: Annotated[list[Annotated[Number, Field(ge=0.0)]], Field(min_length=1)] | \
        WeightsFile | None = None
    positive: bool = False

    def problem_options(self) -> dict[str, Any]:
        """The keyword options of ``lt.solve`` / ``lt.lasso_path`` for this objective
        (``loss``, ``penalty``, ``gamma``, ``delta``, ``weights``, ``positive``)."""
        weights = self.weights
        if isinstance(weights, WeightsFile):
            import numpy as np

            try:
                weights = np.load(weights.file).astype(float).ravel().tolist()
            except (OSError, ValueError) as e:
                raise InputError(f"objective.weights: cannot read {weights.file}: {e}") from None
        return {"loss": None if self.loss == "squared" else self.loss,
                "penalty": self.kind if self.kind in ("mcp", "scad") else None,
                "gamma": self.gamma, "delta": self.delta, "weights": weights,
                "positive": self.positive}

    @model_validator(mode="after")
    def _options_fit_the_kind(self) -> ObjectiveConfig:
        if self.gamma is not None and self.kind not in ("mcp", "scad"):
            raise ValueError("gamma is an option of kind mcp or scad")
        if self.delta is not None and self.loss != "huber":
            raise ValueError("delta is an option of loss huber")
        if self.positive and self.kind in ("mcp", "scad"):
            raise ValueError(f"positive is not available with kind {self.kind}")
        return self

    @model_validator(mode="after")
    def _cv_needs_a_grid(self) -> ObjectiveConfig:
        if self.cv is not None and not isinstance(self.alpha, (list, AlphaGrid)):
            raise ValueError("cv chooses alpha from a grid: give alpha as a list or as "
                             "{num, min_fraction, max_fraction}")
        return self

    @model_validator(mode="after")
    def _ratio(self) -> ObjectiveConfig:
        fixed = {"lasso": 1.0, "ridge": 0.0, "mcp": 1.0, "scad": 1.0}.get(self.kind)
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
class SolverConfig(_Strict):
    """One solver run (see :func:`lasso_torch.solve` for the options)."""

    kind: str  # a name of the solver registry (lasso_torch.solvers.REGISTRY)
    label: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.+-]+$")] | None = None
    lr: Literal["auto"] | Annotated[Number, Field(gt=0.0)] = Field(
        "auto", validation_alias=AliasChoices("lr", "step"))  # ``step:`` is accepted too
    restart: bool = True
    backtracking: bool = False
    schedule: Literal["constant", "inv_sqrt"] = "constant"
    max_iter: PosInt = 1000
    tol: Annotated[Number, Field(ge=0.0)] = 1e-8
    check_every: PosInt | None = None
    record_every: Annotated[Integer, Field(ge=0)] = 10
    record_coef: Literal["auto", "all", "none"] | list[Annotated[Integer, Field(ge=0)]] = "auto"
    options: dict[str, Any] = Field(default_factory=dict)  # the solver's own options

    @field_validator("kind")
    @classmethod
    def _registered(cls, kind: str) -> str:
        from .solvers import get_solver

        try:
            return get_solver(kind).name
        except InputError as e:
            raise ValueError(str(e)) from None


# --- the whole config ------------------------------------------------------------------
class Config(_Strict):
    """A validated experiment config; ``model_dump(mode="json")`` is what a run stores."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.+=-]+$", max_length=120)]
    data: DataConfig = Field(default_factory=SyntheticData)
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)
    solvers: Annotated[list[SolverConfig], Field(min_length=1)] = Field(
        default_factory=lambda: [SolverConfig(kind="cd")]
    )
    device: Annotated[str, Field(pattern=r"^(auto|cpu|cuda(:\d+)?)$")] = "auto"
    dtype: Literal["float32", "float64"] = "float64"
    seed: Annotated[Integer, Field(ge=0)] = 0
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
    def _cv_is_not_distributed(self) -> Config:
        if self.distributed and self.objective.cv is not None:
            raise ValueError("objective.cv (cross-validated alpha) does not run distributed; "
                             "set distributed: false")
        return self

    def dump(self) -> dict[str, Any]:
        """The config as plain JSON/YAML data, defaults filled in."""
        return self.model_dump(mode="json")

    def hash(self) -> str:
        """A digest of what determines the results (everything but ``output`` and ``sweep``)."""
        d = self.dump()
        d.pop("output"), d.pop("sweep")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


# --- errors: one line, the dotted key, the closest valid key -----------------------------
def _unwrap(tp: Any) -> list[Any]:
    """The model classes / list types inside an annotation (through Annotated, Union)."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return [t for a in typing.get_args(tp) for t in _unwrap(a)]
    return [tp]


_MODELS = ("SyntheticData", "CsvData", "NpzData", "DiabetesData", "AlphaFraction", "AlphaGrid",
           "ObjectiveConfig", "SolverConfig", "Config")
_DATA_TAGS = ("synthetic", "csv", "npz", "diabetes")


def _is_branch(step: Any) -> bool:
    """A union alternative's name in an error location (not a key the user wrote)."""
    return isinstance(step, str) and ("[" in step or step in _MODELS or step in (
        "float", "int", "str", "bool", "list", "constrained-str", "literal['auto']"))


def _valid_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at the mapping that holds ``loc[-1]`` (walks the schema; a union
    contributes the keys of all its alternatives)."""
    candidates: list[Any] = [Config]
    for step in loc[:-1]:
        models = [t for t in candidates if isinstance(t, type) and issubclass(t, BaseModel)]
        if _is_branch(step):
            continue
        if step in _DATA_TAGS and len(models) > 1:  # a discriminated union's tag
            candidates = [m for m in models
                          if step in typing.get_args(m.model_fields["kind"].annotation)]
            continue
        nxt: list[Any] = []
        for tp in candidates:
            if tp in models and step in tp.model_fields:
                nxt += _unwrap(tp.model_fields[step].annotation)
            elif typing.get_origin(tp) is list and isinstance(step, int):
                nxt += _unwrap(typing.get_args(tp)[0])
        candidates = nxt
    keys: list[str] = []
    for t in candidates:
        if isinstance(t, type) and issubclass(t, BaseModel):
            keys += [k for k in t.model_fields if k not in keys]
    return keys


def _dotted(loc: tuple[Any, ...]) -> str:
    """``('data', 'synthetic', 'n')`` -> ``data.n`` (drops union tags and branch names)."""
    parts: list[str] = []
    for step in loc:
        if _is_branch(step) or (parts == ["data"] and step in _DATA_TAGS):
            continue
        parts.append(str(step))
    return ".".join(parts)


def _describe(err: dict[str, Any]) -> str:
    loc = err["loc"]
    key = _dotted(loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        valid = _valid_keys(loc)
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{key}: unknown key{hint}; valid keys here: {', '.join(valid)}"
    if err["type"] == "missing":
        return f"{key}: required key is missing"
    value = err.get("input")
    msg = err["msg"].removeprefix("Value error, ")
    if isinstance(value, dict) and err["type"] == "value_error":
        return f"{key}: {msg}"  # a rule over several keys: the message names them
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    hint = ""
    if isinstance(value, bool) and "boolean" not in msg:
        hint = " (YAML reads yes/no/on/off as booleans; quote it)"
    return f"{key}: {msg}, got {shown}{hint}"


def _best_error(e: ValidationError) -> str:
    """One line for a validation error. A union reports one error per alternative: prefer
    the alternative with the fewest errors, then a specific error over a type mismatch."""
    errors = e.errors()
    generic = ("float_type", "int_type", "list_type", "model_type", "dict_type",
               "literal_error", "model_attributes_type", "int_parsing", "float_parsing")

    def branch(d: dict[str, Any]) -> tuple[Any, ...]:
        for i, step in enumerate(d["loc"]):
            if _is_branch(step):
                return d["loc"][: i + 1]
        return ()

    size: dict[tuple[Any, ...], int] = {}
    for d in errors:
        size[branch(d)] = size.get(branch(d), 0) + 1
    extra = {branch(d) for d in errors if d["type"] == "extra_forbidden"}
    errors.sort(key=lambda d: (d["type"] in generic, size[branch(d)], branch(d) in extra,
                               d["type"] != "extra_forbidden", -len(d["loc"])))
    first = _describe(errors[0])
    same = [d for d in errors if branch(d) == branch(errors[0])]
    more = f" (+{len(same) - 1} more)" if len(same) > 1 else ""
    return first + more


def validate(raw: dict[str, Any], source: str = "config") -> Config:
    """Validate a config mapping; problems raise :class:`InputError` naming the key."""
    if not isinstance(raw, dict):
        raise InputError(f"{source}: a config must be a mapping of keys, got "
                         f"{type(raw).__name__}")
    try:
        return Config.model_validate(raw)
    except ValidationError as e:
        raise InputError(f"{source}: {_best_error(e)}") from None


# --- loading, overrides, sweeps ----------------------------------------------------------
def read_yaml(path: str | Path) -> dict[str, Any]:
    """``yaml.safe_load`` a config file; a missing file or bad YAML is an :class:`InputError`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"{path}: malformed YAML{where}: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise InputError(f"{path}: malformed YAML: {e}") from None
    if raw is None:
        raise InputError(f"{path}: the config is empty")
    return raw


def set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    """``raw[a][b][0][c] = value`` for ``key = "a.b.0.c"`` (list items by index)."""
    parts = key.split(".")
    node: Any = raw
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise InputError(f"{where}: no list item {part!r} (the list has {len(node)})")
            idx: Any = int(part)
        elif isinstance(node, dict):
            idx = part
        else:
            raise InputError(f"{where}: {'.'.join(parts[:i])} is not a mapping or a list")
        if last:
            node[idx] = value
        else:
            if isinstance(node, dict) and (idx not in node or node[idx] is None):
                node[idx] = {}
            node = node[idx]


def parse_override(item: str) -> tuple[str, Any]:
    """``"data.n=5000"`` -> ``("data.n", 5000)`` (the value is read as YAML)."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise InputError(f"--set expects key=value, got {item!r}")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        raise InputError(f"--set {key}: cannot read the value {text!r}") from None
    return key.strip(), value


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any] | list[str] | None) -> dict:
    """A copy of ``raw`` with dotted overrides (a mapping or ``key=value`` strings) applied."""
    out = copy.deepcopy(raw)
    if not overrides:
        return out
    items = dict(parse_override(s) for s in overrides) if isinstance(overrides, list) else overrides
    for key, value in items.items():
        set_dotted(out, key, value)
    return out


def load_config(
    source: str | Path | dict[str, Any],
    overrides: dict[str, Any] | list[str] | None = None,
) -> Config:
    """Read (a path) or take (a mapping), apply ``overrides``, validate.

    A file without ``name`` is named after the file.
    """
    if isinstance(source, dict):
        raw, label = source, "config"
    else:
        raw, label = read_yaml(source), str(source)
        if isinstance(raw, dict) and "name" not in raw:
            raw = {"name": Path(source).stem, **raw}
    return validate(apply_overrides(raw, overrides), label)


def sweep_points(config: Config) -> list[tuple[dict[str, Any], Config]]:
    """One ``(assignment, config)`` per point of the sweep's product, in order.

    Each point's config has an empty ``sweep`` and the name ``<name>-<key>=<value>...``.
    """
    keys = list(config.sweep)
    base = config.dump()
    base["sweep"] = {}
    points: list[dict[str, Any]] = [{}]
    for key in keys:
        points = [{**pt, key: v} for pt in points for v in config.sweep[key]]
    out = []
    for pt in points:
        raw = apply_overrides(base, pt)
        suffix = "-".join(f"{k.split('.')[-1]}={_short(v)}" for k, v in pt.items())
        raw["name"] = f"{config.name}-{suffix}"[:120] if suffix else config.name
        out.append((pt, validate(raw, f"sweep point {pt}")))
    return out


def _short(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, dict):
        text = "_".join(_short(v) for v in value.values())
    else:
        text = str(value)
    return "".join(c if c.isalnum() or c in "._+-" else "_" for c in text)


def resolve_alphas(objective: ObjectiveConfig, alpha_max: float) -> list[float]:
    """The alpha value(s) of the objective, given alpha_max (decreasing for a grid)."""
    a = objective.alpha
    if isinstance(a, AlphaFraction):
        return [a.fraction * alpha_max]
    if isinstance(a, AlphaGrid):  # the package's one grid, from max_fraction * alpha_max
        from .path import grid

        top = a.max_fraction * alpha_max
        return grid(top, a.num, a.min_fraction / a.max_fraction).tolist()
    if isinstance(a, list):
        return sorted((float(v) for v in a), reverse=True)
    return [float(a)]


__all__ = [
    "AlphaFraction", "AlphaGrid", "Config", "CsvData", "DiabetesData", "NpzData",
    "ObjectiveConfig", "SolverConfig", "SyntheticData", "apply_overrides", "load_config",
    "parse_override", "read_yaml", "resolve_alphas", "set_dotted", "sweep_points", "validate",
]
