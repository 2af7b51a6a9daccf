"""The one exception type for user mistakes (bad data, bad options, bad config).

The CLI prints its message on one line and exits with status 2, without a traceback.
"""


class InputError(ValueError):
    """A user-facing input problem; the message names the key, file or value at fault."""


class ConvergenceWarning(UserWarning):
    """A solver stopped before reaching ``tol`` (max_iter, divergence or a stall)."""


def excerpt(value: object, limit: int = 40) -> str:
    """A bounded, printable excerpt of ``value`` to quote in a message (its ``repr`` for a
    string, each non-printable character shown as ``?``, cut at ``limit`` characters):
    an error never echoes a file's contents."""
    text = "".join(c if c.isprintable() else "?" for c in repr(value))
    return text if len(text) <= limit else text[:limit - 3] + "..."
