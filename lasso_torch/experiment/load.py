"""Configs in: a YAML file or a mapping, dotted overrides (``--set data.n=500``), sweeps.

Every problem is an :class:`lasso_torch.InputError` with one line naming the file (or the
``--set`` that caused it) and the dotted key; the schema is :mod:`.config`, the messages
:mod:`.errors`.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, excerpt
from ..files import kind_of, read_regular
from .config import Config
from .errors import validate

MAX_CONFIG_BYTES = 1 << 20  # a config file, at most
MAX_EXPANDED = 200_000  # nodes plus scalar characters of a config once aliases are expanded


class _Duplicate(yaml.YAMLError):
    pass


class _StrictLoader(yaml.SafeLoader):
    """``safe_load`` that refuses a key written twice in one mapping (YAML would keep the
    last silently); keys brought in by a ``<<`` merge may still be overridden."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    if key in seen:
                        raise _Duplicate(f"key {excerpt(key)} written twice (lines "
                                         f"{seen[key]} and {line}); keep one")
                    seen[key] = line
                except TypeError:
                    continue  # an unhashable key: the mapping constructor says so
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, memo: dict[int, int], active: set[int]) -> int:
    """Nodes plus scalar characters of ``node`` with every alias expanded (counted through
    a memo, so a billion-laughs document is measured without being built)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise yaml.YAMLError("a recursive alias (a node that contains itself)")
    active.add(key)
    if isinstance(node, yaml.ScalarNode):
        size = 1 + len(node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(v, memo, active) for v in node.value)
    else:
        size = 1 + sum(_expanded_size(k, memo, active) + _expanded_size(v, memo, active)
                       for k, v in node.value)
    active.discard(key)
    memo[key] = size = min(size, 10 * MAX_EXPANDED)
    return size


def strict_yaml(text: str) -> Any:
    """``yaml.safe_load`` with duplicate keys refused and the size once aliases are
    expanded capped at :data:`MAX_EXPANDED` (a :class:`yaml.YAMLError` otherwise)."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, {}, set())
        if size > MAX_EXPANDED:
            raise yaml.YAMLError(f"the config expands to over {MAX_EXPANDED:,} nodes and "
                                 "characters once its aliases (*name) are expanded; write "
                                 "it out, or use fewer nested aliases")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a config file (a regular file of at most 1 MB: never a FIFO or a device) with
    :func:`strict_yaml`; any problem is an :class:`InputError` naming the file."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise InputError(f"{path} is a folder; give the config file (a .yaml file) itself")
    if not os.path.lexists(path):
        raise InputError(f"config file not found: {path}")
    data = read_regular(path, MAX_CONFIG_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = e.object[: e.start].count(b"\n") + 1
        raise InputError(f"{path}: not UTF-8 text (byte {e.object[e.start]:#04x} on line "
                         f"{line}); save the config as UTF-8") from None
    try:
        raw = strict_yaml(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"{path}: malformed YAML{where}: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise InputError(f"{path}: {' '.join(str(e).split())}") from None
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
        value = strict_yaml(text) if text.strip() else None
    except yaml.YAMLError as e:
        why = "" if isinstance(e, yaml.MarkedYAMLError) else f" ({' '.join(str(e).split())})"
        raise InputError(f"--set {key}: cannot read the value {excerpt(text, 60)}{why}"
                         ) from None
    return key.strip(), value


def _override_items(overrides: dict[str, Any] | list[str] | None
                    ) -> tuple[dict[str, Any], dict[str, str]]:
    """The overrides as ``{key: value}`` and ``{key: how to name it in a message}``."""
    if not overrides:
        return {}, {}
    if isinstance(overrides, list):
        items = dict(parse_override(s) for s in overrides)
        shown = {parse_override(s)[0]: f"--set {s}" for s in overrides}
    else:
        items = dict(overrides)
        shown = {k: f"override {k}={v!r}" for k, v in items.items()}
    return items, shown


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any] | list[str] | None) -> dict:
    """A copy of ``raw`` with dotted overrides (a mapping or ``key=value`` strings) applied."""
    out = copy.deepcopy(raw)
    for key, value in _override_items(overrides)[0].items():
        set_dotted(out, key, value)
    return out


def _resolve_data_path(raw: Any, base: Path, label: str, note: str) -> None:
    """Make a relative ``data.path`` (and ``data.sample_weight.file``) absolute against
    ``base`` (``~`` expanded) in place; a file that is not there is an error naming both the
    written and the resolved path."""
    data = raw.get("data") if isinstance(raw, dict) else None
    if not isinstance(data, dict):
        return
    weights = data.get("sample_weight")
    for key, node, field in (("data.path", data, "path"),
                             ("data.sample_weight.file", weights, "file")):
        if not isinstance(node, dict) or not isinstance(node.get(field), str):
            continue
        written = node[field]
        path = Path(written).expanduser()
        if not path.is_absolute():
            path = Path(os.path.abspath(base / path))
        node[field] = str(path)
        if not path.is_file():
            why = "not found"
            if os.path.lexists(path):
                try:
                    why = f"is {kind_of(os.stat(path).st_mode)}, not a regular file"
                except OSError as e:  # a link loop, a dangling link
                    why = f"cannot be read ({e.strerror})"
            raise InputError(f"{label}: {key} {written!r}: data file {why}: {path}"
                             + (f" ({note})" if path != Path(written) else ""))


def load_config(
    source: str | Path | dict[str, Any],
    overrides: dict[str, Any] | list[str] | None = None,
) -> Config:
    """Read (a path) or take (a mapping), apply ``overrides``, validate.

    A file without ``name`` is named after the file. A relative ``data.path`` of a file is
    read from the file's folder; one given by an override (or in a mapping), from the
    working directory. Errors name the file, or the ``--set`` that caused them.
    """
    items, shown = _override_items(overrides)
    if isinstance(source, dict):
        raw, label = copy.deepcopy(source), "config"
    else:
        raw, label = read_yaml(source), str(source)
        if isinstance(raw, dict) and "name" not in raw:
            raw = {"name": Path(source).stem, **raw}
        folder = Path(source).expanduser().parent
        _resolve_data_path(raw, folder, label, f"relative to the config's folder {folder}")
    raw = apply_overrides(raw, items)
    who = (shown.get("data.path") or shown.get("data.sample_weight.file")
           or shown.get("data.sample_weight") or shown.get("data") or label)
    _resolve_data_path(raw, Path.cwd(), who, "relative to the current folder")
    return validate(raw, label, shown)


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
        out.append((pt, validate(raw, f"sweep point {excerpt(pt, 120)}")))
    return out


def _short(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, dict):
        text = "_".join(_short(v) for v in value.values())
    else:
        text = str(value)
    return "".join(c if c.isalnum() or c in "._+-" else "_" for c in text)


__all__ = ["apply_overrides", "load_config", "parse_override", "read_yaml", "set_dotted",
           "sweep_points"]
