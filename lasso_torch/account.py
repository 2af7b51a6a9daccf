"""The per-coefficient account: how (and whether) each coefficient reached exact zero.

Pure numpy functions of a recorded trace: ``iterations`` ``(T,)`` (the iteration of each
record, increasing) and ``coef`` ``(T, p)`` (the coefficients at those records). Every
answer is in iterations (``iterations[t]``), JSON-friendly (ints, floats, ``None`` for
"never" / "undefined", lists), and uses exact comparisons: zero means ``== 0.0``.

Definitions (``sign`` is -1, 0 or +1):

* ``zero_at[j]``: the first recorded iteration from which ``coef[:, j]`` is ``0.0`` at
  every record to the end; ``None`` if it is not 0 at the last record.
* ``sign_changes[j]``: how many times the sign flips between ``+`` and ``-``, zeros in
  between skipped (``+, 0, -`` is one change; ``+, 0, +`` none).
* ``last_oscillation[j]``: ``max |coef[t, j]|`` from the record just before the last sign
  change to the end: the amplitude of the last swing across 0 (``None`` without a change).
* ``band``: ``lr * alpha``, the size of the swing across 0 that a (sub)gradient step on
  ``f + alpha |w|_1`` predicts for a coefficient whose solution is 0 (each step moves it
  by ``lr (grad_j + alpha sign(w_j))``, between 0 and ``2 lr alpha`` across zero).
* ``support_final_at``: the first recorded iteration from which the sign pattern (hence
  the support) equals the last record's at every record.
* against ``beta_true``: ``precision`` and ``recall`` of the last record's support
  (``None`` where undefined: nothing selected / nothing true), and
  ``true_support_at``: the first recorded iteration from which the support equals the
  true one at every record (``None`` if the last record's does not).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _check(iterations: np.ndarray, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    it = np.asarray(iterations)
    c = np.asarray(coef, dtype=float)
    if c.ndim == 1:
        c = c[:, None]
    if it.ndim != 1 or c.ndim != 2 or len(it) != len(c) or len(it) == 0:
        raise ValueError(f"need iterations (T,) and coef (T, p) with T >= 1; got shapes "
                         f"{it.shape} and {np.shape(coef)}")
    if len(it) > 1 and not (np.diff(it) > 0).all():
        raise ValueError("iterations must be strictly increasing")
    return it, c


def _settled_from(stable: np.ndarray) -> np.ndarray:
    """Per column, the first index from which ``stable`` is True to the end (T if never)."""
    T = stable.shape[0]
    unstable_rev = ~stable[::-1]
    any_unstable = unstable_rev.any(axis=0)
    last_unstable = T - 1 - np.argmax(unstable_rev, axis=0)
    return np.where(any_unstable, last_unstable + 1, 0)


def zero_at(iterations: np.ndarray, coef: np.ndarray) -> list[int | None]:
    """Per coefficient, the iteration from which it is exactly 0.0 to the end, or None."""
    it, c = _check(iterations, coef)
    idx = _settled_from(c == 0.0)
    return [int(it[i]) if i < len(it) else None for i in idx]


def _filled_signs(c: np.ndarray) -> np.ndarray:
    """``sign(c)`` with each 0 replaced by the last nonzero sign before it (0 if none)."""
    s = np.sign(c)
    T = len(s)
    rows = np.where(s != 0, np.arange(T)[:, None], -1)
    last = np.maximum.accumulate(rows, axis=0)
    filled = np.take_along_axis(s, np.clip(last, 0, None), axis=0)
    return np.where(last >= 0, filled, 0.0)


def sign_change_mask(coef: np.ndarray) -> np.ndarray:
    """``(T-1, p)``: True at ``t`` where the (zero-skipping) sign flips from ``t`` to ``t+1``."""
    s = _filled_signs(np.asarray(coef, dtype=float).reshape(len(coef), -1))
    return s[1:] * s[:-1] < 0


def sign_changes(coef: np.ndarray) -> list[int]:
    """Per coefficient, the number of flips between + and - (zeros skipped)."""
    return [int(k) for k in sign_change_mask(coef).sum(axis=0)]


def last_oscillation(coef: np.ndarray) -> list[float | None]:
    """Per coefficient, ``max |c|`` from just before its last sign change to the end."""
    c = np.asarray(coef, dtype=float).reshape(len(coef), -1)
    flips = sign_change_mask(c)
    out: list[float | None] = []
    for j in range(c.shape[1]):
        where = np.flatnonzero(flips[:, j])
        out.append(None if len(where) == 0 else float(np.abs(c[where[-1]:, j]).max()))
    return out


def support_final_at(iterations: np.ndarray, coef: np.ndarray) -> int | None:
    """The iteration from which the sign pattern equals the last record's, to the end;
    None when the last record is not finite (a diverged solver: NaN has no sign)."""
    it, c = _check(iterations, coef)
    if not np.isfinite(c[-1]).all():
        return None
    s = np.sign(c)
    same = (s == s[-1]).all(axis=1)
    return int(it[_settled_from(same[:, None])[0]])


def support_scores(coef: np.ndarray, beta_true: np.ndarray) -> dict[str, Any]:
    """Precision, recall and sizes of ``coef != 0`` against ``beta_true != 0``."""
    est, true = np.asarray(coef) != 0, np.asarray(beta_true) != 0
    if est.shape != true.shape:
        raise ValueError(f"beta_true has shape {true.shape}, the coefficients {est.shape}")
    hits = int((est & true).sum())
    return {
        "precision": hits / int(est.sum()) if est.any() else None,
        "recall": hits / int(true.sum()) if true.any() else None,
        "n_selected": int(est.sum()), "n_true": int(true.sum()), "n_true_selected": hits,
    }


def coefficient_account(iterations: np.ndarray, coef: np.ndarray, lr: float | None = None,
                        alpha: float | None = None,
                        beta_true: np.ndarray | None = None) -> dict[str, Any]:
    """The whole account of a trace (see the module docstring), JSON-friendly."""
    it, c = _check(iterations, coef)
    out: dict[str, Any] = {
        "zero_at": zero_at(it, c),
        "sign_changes": sign_changes(c),
        "last_oscillation": last_oscillation(c),
        "band": float(lr) * float(alpha) if lr is not None and alpha is not None else None,
        "n_zero": int((c[-1] == 0.0).sum()),
        "support_final_at": support_final_at(it, c),
    }
    if beta_true is not None:
        true = np.asarray(beta_true) != 0
        out.update(support_scores(c[-1], beta_true))
        same = ((c != 0) == true).all(axis=1)
        idx = _settled_from(same[:, None])[0]
        out["true_support_at"] = int(it[idx]) if idx < len(it) else None
    return out
