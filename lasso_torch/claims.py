"""Who owns what in an output root: temporary run folders and sweep points.

* A run is written into a hidden ``<root>/.tmp-...`` folder that holds an ``owner.json``
  (process id, host, the process's start time) until it is renamed into place. A folder
  whose process is gone (SIGKILL, a power loss) is a *leftover*: :func:`leftovers` finds
  them, :func:`remove_leftovers` (``lasso-torch clean``) deletes those whose owner is
  provably gone, never one of a live process or of another host.
* A sweep point is *claimed* before it runs (:func:`claim`): an exclusive ``flock`` on
  ``<root>/.locks/<config hash>.lock``. Two copies of one sweep started together therefore
  run each point once; the kernel drops the lock when its process dies, so a killed sweep
  leaves no stale claim behind.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError
from .files import read_regular

try:
    import fcntl
except ImportError:  # pragma: no cover (not POSIX: claims always succeed)
    fcntl = None  # type: ignore[assignment]

OWNER = "owner.json"
TMP_PREFIX = ".tmp-"
LOCKS = ".locks"
YOUNG_S = 60.0  # a temporary folder without an owner record this young may be starting


def _start_time(pid: int) -> str | None:
    """The kernel's start time of process ``pid`` (Linux; None elsewhere or if gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]  # field 22 of proc(5)


def owner_record() -> dict[str, Any]:
    """This process: what :func:`process_alive` needs to recognize it later."""
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "start": _start_time(pid)}


def process_alive(owner: dict[str, Any]) -> bool | None:
    """True / False for a process of this host (pid reuse detected by start time),
    None when it cannot be told (another host, no record)."""
    pid = owner.get("pid")
    if not isinstance(pid, int) or owner.get("host") != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    start = owner.get("start")
    return start is None or _start_time(pid) in (None, start)


@dataclass
class Leftover:
    """A hidden temporary run folder: ``alive`` True (a run in progress), False (its
    process is gone: safe to remove) or None (cannot tell: another host)."""

    path: Path
    owner: dict[str, Any]
    alive: bool | None

    def describe(self) -> str:
        pid, host = self.owner.get("pid", "?"), self.owner.get("host", "?")
        if self.alive:
            return f"{self.path.name}: a run in progress (process {pid})"
        if self.alive is None:
            return f"{self.path.name}: written by process {pid} on host {host}; cannot tell " \
                   "from here whether it still runs"
        why = f"process {pid} is gone" if self.owner else "no owner record (an older run)"
        return f"{self.path.name}: left by a run that was killed ({why})"


def write_owner(tmp: Path) -> None:
    (tmp / OWNER).write_text(json.dumps(owner_record()) + "\n")


def leftovers(root: str | Path) -> list[Leftover]:
    """The hidden temporary run folders under ``root``, oldest first."""
    root = Path(root).expanduser()
    if not root.is_dir():
        return []
    out = []
    for p in sorted(root.glob(TMP_PREFIX + "*")):
        if not p.is_dir():
            continue
        try:
            owner = json.loads(read_regular(p / OWNER, 1 << 16))  # never a FIFO or device
            owner = owner if isinstance(owner, dict) else {}
        except (InputError, OSError, ValueError):
            owner = {}
        if owner:
            alive = process_alive(owner)
        else:  # no record: being created right now, or written before owners existed
            try:
                alive = True if time.time() - p.stat().st_mtime < YOUNG_S else False
            except OSError:
                continue
        out.append(Leftover(p, owner, alive))
    return out


def remove_leftovers(root: str | Path) -> tuple[list[Leftover], list[Leftover]]:
    """Delete the leftovers whose process is gone; returns (removed, kept)."""
    removed, kept = [], []
    for left in leftovers(root):
        if left.alive is False:
            shutil.rmtree(left.path, ignore_errors=True)
            removed.append(left)
        else:
            kept.append(left)
    return removed, kept


@contextmanager
def claim(root: str | Path, key: str) -> Iterator[bool]:
    """Claim ``key`` (a sweep point's config hash) under ``root`` for this process.

    Yields True when this process holds the claim (until the block ends), False when
    another live process holds it. The lock file stays (a hidden, empty file); the lock
    itself dies with its process.
    """
    if fcntl is None:  # pragma: no cover
        yield True
        return
    folder = Path(root).expanduser() / LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps(owner_record()) + "\n").encode())
        yield True
    finally:
        os.close(fd)  # releases the lock


__all__ = ["Leftover", "claim", "leftovers", "owner_record", "process_alive",
           "remove_leftovers", "write_owner"]
