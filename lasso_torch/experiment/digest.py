"""The content of a config's input files, for its hash: a sweep point is "done already"
only if its data are the same bytes, not merely the same path."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..files import open_regular


def input_files(d: dict[str, Any]) -> list[str]:
    """The files a dumped config reads its inputs from."""
    data, obj = d.get("data") or {}, d.get("objective") or {}
    nodes = ((data, "path"), (data.get("sample_weight"), "file"), (obj.get("weights"), "file"))
    return [n[k] for n, k in nodes if isinstance(n, dict) and isinstance(n.get(k), str)]


_DIGESTS: dict[tuple[str, int, int, int], str] = {}


def file_digest(path: str) -> str:
    """sha256 of a file's content (cached by path, inode, size and mtime); ``"missing"``
    or ``"unreadable"`` when it cannot be read (loading it then says why)."""
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    key = (path, st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        try:
            with os.fdopen(open_regular(Path(path)), "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        except (InputError, OSError):
            return "unreadable"
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


__all__ = ["file_digest", "input_files"]
