"""SIGTERM handled as Ctrl-C: what ``timeout``, job schedulers, ``kill`` and torchrun send.

Inside :func:`sigterm_as_interrupt` the first SIGTERM raises :class:`Terminated`, a
``KeyboardInterrupt``, in the main thread, so every place that keeps a partial run on
Ctrl-C (the solver loop's ``catch_interrupt``, the runners' ``except KeyboardInterrupt``)
keeps it on SIGTERM too, marked ``interrupted``. Further SIGTERMs are ignored while the
run is saved; the previous handler comes back when the block ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered as a KeyboardInterrupt (exit status 143 at the CLI)."""

    signal_name = "SIGTERM"
    exit_code = 128 + signal.SIGTERM


_STATE = {"terminated": False}


def _raise_terminated(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the save
    _STATE["terminated"] = True
    raise Terminated("terminated by SIGTERM")


def terminated() -> bool:
    """Whether a SIGTERM arrived inside the current :func:`sigterm_as_interrupt` block
    (the solver loop swallows the interrupt it raised; this remembers it)."""
    return _STATE["terminated"]


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn the first SIGTERM into :class:`Terminated` (main thread only; elsewhere a
    no-op, as Python delivers signals to the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _STATE["terminated"] = False
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def shield_sigterm() -> None:
    """Ignore SIGTERM from here on (while a run is saved), until the enclosing
    :func:`sigterm_as_interrupt` restores the previous handler."""
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) is _raise_terminated):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


__all__ = ["Terminated", "shield_sigterm", "sigterm_as_interrupt", "terminated"]
