"""A config that does not validate: one line naming the dotted key, the value and where it
came from (the file, or the ``--set`` that wrote it), with the closest valid key for an
unknown one.

pydantic's error locations mix the keys the user wrote with the names of the union
alternatives it tried (``AlphaFraction``, ``float``, ``list[...]``, a discriminated union's
tag such as ``synthetic``). :func:`classify` tells them apart by walking the schema from
:class:`~.config.Config`: a step is a key when a model at that point has such a field (or a
list holds an item at that index, or a mapping that key); at a union, any other step is the
alternative pydantic names. Nothing here lists the models or the tags by hand: a model
added to the schema is understood as it is.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Annotated, Any, Union

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from ..errors import InputError
from .config import Config

Step = str | int
MAX_ERROR = 500  # characters of a config error, at most


def _unwrap(tp: Any) -> list[Any]:
    """The types inside an annotation (through Annotated and unions)."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return [t for a in typing.get_args(tp) for t in _unwrap(a)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _tags(model: type[BaseModel]) -> tuple[Any, ...]:
    """The literal values of a model's ``kind`` field (a discriminated union's tags)."""
    field = model.model_fields.get("kind")
    return () if field is None else typing.get_args(field.annotation)


def _field(model: type[BaseModel], step: Step) -> FieldInfo | None:
    """The field of ``model`` that ``step`` names, by its name or one of its aliases."""
    for name, f in model.model_fields.items():
        aliases = getattr(f.validation_alias, "choices", [f.validation_alias, f.alias])
        if step == name or step in aliases:
            return f
    return None


def _descend(candidates: list[Any], step: Step) -> list[Any] | None:
    """The types at ``step`` under ``candidates``, or None when ``step`` is no key there."""
    models = [t for t in candidates if _is_model(t)]
    fields = [f for m in models if (f := _field(m, step)) is not None]
    if fields:
        return [u for f in fields for u in _unwrap(f.annotation)]
    lists = [t for t in candidates if typing.get_origin(t) is list]
    if isinstance(step, int) and lists:
        return [u for t in lists for u in _unwrap(typing.get_args(t)[0])]
    maps = [t for t in candidates if typing.get_origin(t) is dict]
    if maps and len(candidates) == 1:
        return [u for t in maps for u in _unwrap(typing.get_args(t)[1])]
    return None


def classify(loc: tuple[Step, ...]) -> tuple[list[tuple[Step, bool]], list[Any]]:
    """Each step of an error location with True where it is a union alternative pydantic
    added (not a key the user wrote), and the types allowed after the last step."""
    candidates: list[Any] = [Config]
    out: list[tuple[Step, bool]] = []
    for step in loc:
        below = _descend(candidates, step)
        if below is not None:
            out.append((step, False))
            candidates = below
        elif len(candidates) > 1 and not (out and out[-1][1]):  # a union: the alternative
            models = [m for m in candidates if _is_model(m)]
            tagged = [m for m in models if step in _tags(m)]
            out.append((step, True))
            candidates = tagged or candidates  # an untagged union: keys of every alternative
        else:  # a key the schema does not have (an unknown key)
            out.append((step, False))
            candidates = []
    return out, candidates


def dotted(loc: tuple[Step, ...]) -> str:
    """``('data', 'synthetic', 'n')`` -> ``data.n`` (union alternatives dropped)."""
    return ".".join(str(step) for step, branch in classify(loc)[0] if not branch)


def _branch(loc: tuple[Step, ...]) -> tuple[Step, ...]:
    """The location up to its first union alternative (``()`` without one)."""
    for i, (_, branch) in enumerate(classify(loc)[0]):
        if branch:
            return loc[: i + 1]
    return ()


def valid_keys(loc: tuple[Step, ...]) -> list[str]:
    """The keys allowed in the mapping that holds ``loc[-1]`` (a union contributes the
    keys of all its alternatives)."""
    keys: list[str] = []
    for t in classify(loc[:-1])[1]:
        if _is_model(t):
            keys += [k for k in t.model_fields if k not in keys]
    return keys


def describe(err: dict[str, Any]) -> str:
    """One pydantic error as ``key: what is wrong, got value``."""
    loc = err["loc"]
    key = dotted(loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        valid = valid_keys(loc)
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


GENERIC = ("float_type", "int_type", "list_type", "model_type", "dict_type", "literal_error",
           "model_attributes_type", "int_parsing", "float_parsing")


def best_error(e: ValidationError) -> tuple[str, str]:
    """One line for a validation error and the dotted key it names. A union reports one
    error per alternative: prefer the alternative with the fewest errors, then a specific
    error over a type mismatch."""
    errors = e.errors()
    size: dict[tuple[Step, ...], int] = {}
    for d in errors:
        size[_branch(d["loc"])] = size.get(_branch(d["loc"]), 0) + 1
    extra = {_branch(d["loc"]) for d in errors if d["type"] == "extra_forbidden"}
    errors.sort(key=lambda d: (d["type"] in GENERIC, size[_branch(d["loc"])],
                               _branch(d["loc"]) in extra, d["type"] != "extra_forbidden",
                               -len(d["loc"])))
    first = describe(errors[0])
    same = [d for d in errors if _branch(d["loc"]) == _branch(errors[0]["loc"])]
    more = f" (+{len(same) - 1} more)" if len(same) > 1 else ""
    return dotted(errors[0]["loc"]), first + more


def _blamed(key: str, source: str, overrides: dict[str, str]) -> str:
    """Who to name for a bad ``key``: the override that set it (or a key around or inside
    it), else the file."""
    for okey, shown in overrides.items():
        if key == okey or key.startswith(okey + ".") or (key and okey.startswith(key + ".")):
            return shown
    return source


def validate(raw: dict[str, Any], source: str = "config",
             overrides: dict[str, str] | None = None) -> Config:
    """Validate a config mapping; problems raise :class:`InputError` naming the key and
    where it came from (``source``, or the entry of ``overrides``, ``{dotted key: how it
    was written}``, that set it)."""
    if not isinstance(raw, dict):
        raise InputError(f"{source}: a config must be a mapping of keys, got "
                         f"{type(raw).__name__}")
    try:
        return Config.model_validate(raw)
    except ValidationError as e:
        key, message = best_error(e)
        text = f"{_blamed(key, source, overrides or {})}: {message}"
        if len(text) > MAX_ERROR:  # a value expanded from aliases, a sweep's whole list
            text = f"{text[:MAX_ERROR - 40]}... ({len(text):,} characters in all)"
        raise InputError(text) from None


__all__ = ["best_error", "classify", "describe", "dotted", "valid_keys", "validate"]
