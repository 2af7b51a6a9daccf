"""Param groups from penalties by parameter name, so biases and other layers need no
hand-written groups::

    groups = lt.optim.param_groups(model, {"0.weight": lt.penalties.GroupL1(0.1)})
    opt = lt.optim.ProxAdam(groups, lr=1e-3)      # "0.weight" penalized, the rest plain Adam
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from torch import nn

from ._base import check_penalty


def param_groups(module: nn.Module, penalties: dict[str, Any],
                 default: Any = None) -> list[dict[str, Any]]:
    """One param group per key of ``penalties`` (in order), then one for the rest.

    A key is a parameter name of ``module.named_parameters()`` or an ``fnmatch`` pattern
    (``"*.weight"``); a parameter goes to the first key that names it. The parameters no
    key names get ``default`` (``None``: unpenalized). Only parameters that require grad
    are placed. A key that names no parameter is an error naming the key.
    """
    named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    taken: set[str] = set()
    groups: list[dict[str, Any]] = []
    for key, penalty in penalties.items():
        check_penalty(penalty, f"penalty for {key!r}")
        hits = [(n, p) for n, p in named if n not in taken and (n == key or fnmatchcase(n, key))]
        if not hits:
            names = ", ".join(n for n, _ in named) or "(none)"
            raise ValueError(f"param_groups: {key!r} names no parameter left; the parameters "
                             f"are: {names}")
        taken.update(n for n, _ in hits)
        groups.append({"params": [p for _, p in hits], "penalty": penalty})
    rest = [p for n, p in named if n not in taken]
    if rest:
        check_penalty(default, "default penalty")
        groups.append({"params": rest, "penalty": default})
    return groups
