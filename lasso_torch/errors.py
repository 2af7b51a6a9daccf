"""The one exception type for user mistakes (bad data, bad options, bad config).

The CLI prints its message on one line and exits with status 2, without a traceback.
"""


class InputError(ValueError):
    """A user-facing input problem; the message names the key, file or value at fault."""


class ConvergenceWarning(UserWarning):
    """A solver stopped before reaching ``tol`` (max_iter, divergence or a stall)."""
