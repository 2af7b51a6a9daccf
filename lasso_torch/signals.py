"""Stop signals handled as Ctrl-C: SIGTERM (what ``timeout``, job schedulers, ``kill`` and
torchrun send), SIGHUP (the terminal closed, an ssh session dropped) and SIGQUIT (Ctrl-\\).

Inside :func:`sigterm_as_interrupt` the first of them raises :class:`Terminated`, a
``KeyboardInterrupt``, in the main thread, so every place that keeps a partial run on
Ctrl-C (the solver loop's ``catch_interrupt``, the runners' ``except KeyboardInterrupt``)
keeps it on these signals too, marked ``interrupted`` with ``interrupted_by`` the signal's
name. Further stop signals are ignored while the run is saved; the previous handlers come
back when the block ends. The exit status is ``128 + the signal number`` (143 for SIGTERM,
129 SIGHUP, 131 SIGQUIT). SIGKILL cannot be caught: its temporary folder is a leftover
that ``lasso-torch clean`` removes.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGQUIT")
                     if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """A stop signal (SIGTERM, SIGHUP, SIGQUIT), delivered as a KeyboardInterrupt; the
    CLI exits with :attr:`exit_code`."""

    signal_name = "SIGTERM"
    exit_code = 128 + signal.SIGTERM

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + int(signum)
        super().__init__(f"terminated by {self.signal_name}")


_STATE: dict[str, Any] = {"terminated": None}


def _raise_terminated(signum: int, frame: Any) -> None:
    for s in STOP_SIGNALS:  # a second one must not cut the save
        signal.signal(s, signal.SIG_IGN)
    _STATE["terminated"] = signal.Signals(signum).name
    raise Terminated(signum)


def terminated() -> bool:
    """Whether a stop signal arrived inside the current :func:`sigterm_as_interrupt`
    block (the solver loop swallows the interrupt it raised; this remembers it)."""
    return _STATE["terminated"] is not None


def stop_signal() -> str | None:
    """The name of the stop signal that arrived (``"SIGHUP"``...), None if none did."""
    return _STATE["terminated"]


def exit_code(name: str | None) -> int:
    """The exit status for a run stopped by signal ``name`` (130 for Ctrl-C / None)."""
    try:
        return 128 + int(signal.Signals[name]) if name else 130
    except KeyError:
        return 130


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn the first stop signal into :class:`Terminated` (main thread only; elsewhere a
    no-op, as Python delivers signals to the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _STATE["terminated"] = None
    old = {s: signal.signal(s, _raise_terminated) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def shield_sigterm() -> None:
    """Ignore the stop signals from here on (while a run is saved), until the enclosing
    :func:`sigterm_as_interrupt` restores the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return
    for s in STOP_SIGNALS:
        if signal.getsignal(s) is _raise_terminated:
            signal.signal(s, signal.SIG_IGN)


__all__ = ["STOP_SIGNALS", "Terminated", "exit_code", "shield_sigterm", "sigterm_as_interrupt",
           "stop_signal", "terminated"]
