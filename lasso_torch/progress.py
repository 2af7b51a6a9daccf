"""What a run is doing, for every phase that can take more than a second: the reference
solve, cross-validation, path runs and the solvers.

On a terminal (stderr a TTY) a phase is a tqdm bar (a position and a rate when its length
is known, the elapsed time otherwise); elsewhere (a log file, a pipe, CI) it is a line
when it starts, a line every ``every_s`` seconds while it lasts, and a line with its
duration when it took more than a second.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


class Phase:
    """One phase: ``update(k)`` moves it to position ``k``; as a solve callback,
    ``phase(k, coef, certificate)`` also shows the relative gap. Use as a context manager
    (or call :meth:`close`). ``announce=False``: no start line (the caller printed one)."""

    def __init__(self, what: str, total: int | None = None, *, log: Log = _quiet,
                 unit: str = "it", every_s: float = 10.0, tty: bool | None = None,
                 announce: bool = True):
        self.what, self.total, self.log, self.every_s = what, total, log, every_s
        self.t0 = self.last = time.perf_counter()
        self.k, self.info = 0, ""
        self.bar: Any = None
        self._stop = threading.Event()
        if sys.stderr.isatty() if tty is None else tty:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=what, unit=unit, leave=False)
            if total is None:  # nothing will call update: refresh the elapsed time
                threading.Thread(target=self._tick, daemon=True).start()
        elif announce:
            self.log(f"{what} ..." if total is None else f"{what}: up to {total} {unit}")

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self.bar.refresh()

    def update(self, k: int, info: str = "") -> None:
        self.k, self.info = k, info
        if self.bar is not None:
            self.bar.update(k - self.bar.n)
            if info:
                self.bar.set_postfix_str(info, refresh=False)
            return
        now = time.perf_counter()
        if now - self.last >= self.every_s:
            self.last = now
            of = f"/{self.total}" if self.total else ""
            self.log(f"{self.what}: {k}{of}{', ' + info if info else ''} "
                     f"({now - self.t0:.0f} s)")

    def __call__(self, k: int, coef: Any, cert: Any) -> None:
        due = self.bar is not None or time.perf_counter() - self.last >= self.every_s
        self.update(k, f"gap {float(cert.rel_gap):.2e}" if due else "")

    def close(self, result: str = "") -> None:
        self._stop.set()
        if self.bar is not None:
            self.bar.close()
            self.bar = None
            return
        elapsed = time.perf_counter() - self.t0
        if elapsed >= 1.0 or result:
            self.log(f"{self.what}: {result + ', ' if result else ''}{elapsed:.1f} s")
        self.t0 = self.last = float("inf")  # closed: no more lines

    def __enter__(self) -> Phase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Phase"]
