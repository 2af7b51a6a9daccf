"""The config schema's scalar types (no booleans where numbers are expected) and its data
kinds (``data:``): one pydantic model per kind, discriminated by ``kind``
(:mod:`.config` holds the rest of the schema)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


# --- scalar types: no booleans where numbers are expected --------------------------------
def not_bool(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("expected a number, got a boolean (YAML reads yes/no/on/off as "
                         "booleans; quote it or write a number)")
    return v


INT64 = 2**63 - 1  # integers go to torch and numpy as int64 (a seed, a size, an index)

Number = Annotated[float, BeforeValidator(not_bool)]
Integer = Annotated[int, BeforeValidator(not_bool), Field(ge=-INT64, le=INT64)]
PosInt = Annotated[int, BeforeValidator(not_bool), Field(ge=1, le=INT64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True)


# --- data ------------------------------------------------------------------------------
class SampleWeightFile(Strict):
    """``data.sample_weight: {file: w.npy}``: one weight per row (of any data kind), from a
    ``.npy`` array or a text file of one number per line (``.csv``, ``.txt``); a relative
    ``file`` is read as ``data.path``."""

    file: str


class SyntheticData(Strict):
    """Correlated Gaussian design with a sparse truth (:func:`lasso_torch.data.make_synthetic`)."""

    kind: Literal["synthetic"] = "synthetic"
    n: PosInt = 200
    p: PosInt = 50
    correlation: Annotated[Number, Field(gt=-1.0, lt=1.0)] = 0.0
    density: Annotated[Number, Field(ge=0.0, le=1.0)] = 0.1
    snr: Annotated[float, Field(gt=0.0, allow_inf_nan=True), BeforeValidator(not_bool)] = 3.0
    seed: Annotated[Integer, Field(ge=0)] | None = None  # None: the top-level seed
    sample_weight: SampleWeightFile | None = None


class CsvData(Strict):
    """A numeric CSV file with a header row; ``target`` names (or indexes) y's column.

    A relative ``path`` is read from the config file's folder (from the working directory
    when it comes from ``--set``); the loaded config holds the absolute path.
    ``sample_weight``: the name (or index) of a column of row weights (not a feature), or
    ``{file: ...}``.
    """

    kind: Literal["csv"]
    path: str
    target: str | Integer
    delimiter: str = ","
    sample_weight: str | Integer | SampleWeightFile | None = None


class NpzData(Strict):
    """An ``.npz`` file with arrays ``features`` and ``target`` (or a column index);
    a relative ``path`` is read as :class:`CsvData`'s."""

    kind: Literal["npz"]
    path: str
    target: str | Integer = "y"
    features: str = "X"
    sample_weight: str | SampleWeightFile | None = None  # an array of the file, or a file


class DiabetesData(Strict):
    """The LARS paper's diabetes data (442 x 10), bundled."""

    kind: Literal["diabetes"]
    sample_weight: SampleWeightFile | None = None


class LibsvmData(Strict):
    """A libsvm / svmlight file, ``X`` kept sparse; ``path`` read as :class:`CsvData`'s."""
    kind: Literal["libsvm", "svmlight"]  # lasso_torch.data_sparse.load_svmlight
    path: str
    n_features: PosInt | None = None
    sample_weight: SampleWeightFile | None = None


class SparseSyntheticData(Strict):
    """A text-like sparse design (:func:`lasso_torch.data_sparse.make_sparse_synthetic`)."""
    kind: Literal["sparse_synthetic"]
    n: PosInt = 20_000
    p: PosInt = 50_000
    density: Annotated[Number, Field(gt=0.0, le=1.0)] = 0.001
    power: Annotated[Number, Field(ge=0.0)] = 1.1
    informative: PosInt = 100
    snr: Annotated[Number, Field(gt=0.0)] = 3.0
    seed: Annotated[Integer, Field(ge=0)] | None = None  # None: the top-level seed
    sample_weight: SampleWeightFile | None = None


DataConfig = Annotated[
    Union[SyntheticData, CsvData, NpzData, DiabetesData, LibsvmData,  # noqa: UP007
          SparseSyntheticData],
    Field(discriminator="kind"),
]
