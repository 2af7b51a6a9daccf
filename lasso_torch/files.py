"""Reading a file the user points at (a run file, a config, data): regular files only
(a FIFO never blocks a reader, a device never streams into memory, a link loop or a folder
is named as such) and of a bounded size; what is quoted of one in a message is bounded."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np

from .errors import InputError

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def kind_of(mode: int) -> str:
    """What a non-regular ``st_mode`` is, in words."""
    return next((w for test, w in _KINDS if test(mode)), "not a regular file")


def open_regular(path: Path, max_bytes: int | None = None) -> int:
    """A read-only descriptor of ``path`` if it is a regular file (symbolic links to one
    followed) of at most ``max_bytes``; otherwise an :class:`InputError` naming it and what
    it is. Opened with ``O_NONBLOCK`` and checked with ``fstat`` on the open descriptor, so
    a FIFO never blocks and a file swapped in between cannot slip through."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        if os.path.islink(path):
            raise InputError(f"{path}: a symbolic link to {os.readlink(path)}, which does "
                             "not exist") from None
        raise InputError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{path}: a folder where a file is expected") from None
    except OSError as e:  # ELOOP (a symbolic link loop), EACCES, ENXIO (a socket)...
        raise InputError(f"{path}: cannot be read ({e.strerror})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise InputError(f"{path}: {kind_of(st.st_mode)}, not a regular file: not read")
    if max_bytes is not None and st.st_size > max_bytes:
        os.close(fd)
        raise InputError(f"{path}: {st.st_size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} "
                         "MB a run file may hold: not read")
    return fd


def read_regular(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see :func:`open_regular`)."""
    fd = open_regular(path, max_bytes)
    with os.fdopen(fd, "rb") as f:
        data = f.read(max_bytes + 1 if max_bytes is not None else -1)
    if max_bytes is not None and len(data) > max_bytes:  # grew since fstat
        raise InputError(f"{path}: over the {max_bytes / 1e6:.0f} MB a run file may hold: "
                         "not read")
    return data


def existing_file(path: str | Path) -> Path:
    """``path`` if it is a regular data file: a FIFO, a device, a folder or a file the
    kernel generates (``/proc/self/environ``: size 0 with contents) is refused, never
    read and never quoted."""
    path = Path(path)
    if not os.path.lexists(path):
        raise InputError(f"data file not found: {path}")
    fd = open_regular(path)
    try:
        virtual = os.fstat(fd).st_size == 0 and os.read(fd, 1) != b""
    finally:
        os.close(fd)
    if virtual:
        raise InputError(f"{path}: a file the kernel generates (size 0 with contents, as "
                         "under /proc), not a data file: not read")
    return path


def read_npy(path: str | Path, what: str) -> np.ndarray:
    """The numbers of a ``.npy`` file (a regular data file, no pickles) as float64; any
    problem is one :class:`InputError` starting with ``what``."""
    try:
        a = np.load(existing_file(path), allow_pickle=False)
        if a.dtype.kind not in "biuf":
            raise InputError(f"{path}: dtype {a.dtype}, expected real numbers")
        return a.astype(np.float64)
    except InputError as e:
        raise InputError(f"{what}: {e}") from None
    except (OSError, ValueError, EOFError) as e:
        text = "".join(c if c.isprintable() else "?" for c in " ".join(str(e).split()))
        raise InputError(f"{what}: cannot read {path} as a .npy array ({text[:120]})") from None


__all__ = ["existing_file", "kind_of", "open_regular", "read_npy", "read_regular"]
