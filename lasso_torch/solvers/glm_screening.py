r"""Sequential strong rules for the compiled prox-Newton path (Tibshirani et al. 2012), for
every GLM loss, made exact by a KKT check.

Along a decreasing grid, feature ``j`` is set aside at ``alpha_k`` when it is 0 at the
previous solution and

    |grad_j f(w(alpha_{k-1}))| < 2 a1_k - a1_{k-1}      (a1 = alpha * l1_ratio),

the rule's bet being that ``grad_j f`` moves by at most ``a1_{k-1} - a1_k`` between the two
alphas (it holds when ``grad f`` along the path is 1-Lipschitz in ``a1``; it can fail, e.g.
for a feature strongly correlated with ones entering late). The outer iterations then run
on the kept features only (their gradient: one pass over those columns), to the duality gap
of the problem restricted to them. When that gap is within ``tol``, one pass over the set
aside features computes their gradient: the **full** gap is then formed over every feature
(the restricted problem's dual point, scaled into the full dual ball). Within ``tol``: done,
certified for the whole problem. Otherwise the features whose KKT condition fails
(``|grad_j| > a1``) join the kept ones and the iterations go on. So the rule only ever saves
passes: the answer's certificate is the full problem's, and the path's final certificate
(:func:`lasso_torch.certificates.final_certificate`) recomputes it from the answer anyway.

No gap-safe sphere here: the Poisson, Gamma and Tweedie datafits are not globally smooth
(no safe radius), and for the logistic loss the strong set was already within a few
features of the support on the measured grids (``experiments/bench_glm_path.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def strong_set(grad: np.ndarray, w: np.ndarray, a1: float, a1_prev: float | None
               ) -> np.ndarray:
    """The features kept at ``a1`` (sorted indices): the support of ``w`` and those whose
    gradient at the previous solution is at least ``2 a1 - a1_prev``; every feature at the
    first alpha (``a1_prev`` None) or where the grid goes up."""
    if a1_prev is None or a1 > a1_prev:
        return np.arange(w.shape[0])
    return np.flatnonzero((np.abs(grad) >= 2 * a1 - a1_prev) | (w != 0))


def screened_solve(host: Any, cand: np.ndarray, tol: float, max_iter: int, ws_min: int,
                   inner_ratio: float, max_inner: int, settled: bool = True
                   ) -> tuple[float, int, str]:
    """One alpha's outer iterations on ``host`` (a
    :class:`~lasso_torch.solvers.prox_newton_host.Host` holding the alpha's penalty) from
    the kept features ``cand``, checked by the full gap (module docstring). ``settled``
    False: the start is known not to solve this alpha (a nonzero ``w`` of another alpha),
    so the first step goes without forming its gap (one pass over the rows saved).

    Returns ``(relative gap over every feature, outer iterations, status)``; the host's
    gradient then holds every feature's at the answer (the next alpha's strong rule)."""
    p = host.X.shape[1]
    size, ratio = ws_min, inner_ratio
    a1 = float(host.a1[0])
    it = 0
    while True:
        _, gap, _ = host.scores(cand, gap=settled or it > 0 or max_iter == 0)
        if gap / host.p0 <= tol or it == max_iter:
            if cand.shape[0] < p:  # the set-aside features' gradient: the full gap
                out = np.ones(p, dtype=bool)
                out[cand] = False
                rest = np.flatnonzero(out)
                _, gap, _ = host.full_gap(rest)
                late = rest[np.abs(host.grad[rest]) > a1]  # KKT violated: the rule failed
                if late.size:
                    cand = np.union1d(cand, late)
            if gap / host.p0 <= tol:
                return gap / host.p0, it, "converged"
            if it == max_iter:
                return gap / host.p0, it, "max_iter"
        if host.step(size, ratio, max_inner, cand) == 0.0:
            size, ratio = min(2 * size, p), ratio * 0.1
        it += 1


def secant(w2: np.ndarray, w1: np.ndarray, alphas: list[float]) -> np.ndarray:
    """The next alpha's starting point from the last two solutions ``w2``, ``w1`` at
    ``alphas[0] > alphas[1]``: their secant in ``log alpha`` extended to ``alphas[2]`` on
    the support of ``w1`` (a coefficient the secant takes across 0 starts at 0; the
    features entering start at 0). Along a smooth stretch of the path the warm start's
    error drops from the step's order to its square's."""
    if not alphas[0] > alphas[1] > alphas[2] > 0:  # no secant: w1 itself
        return w1
    t = np.log(alphas[1] / alphas[2]) / np.log(alphas[0] / alphas[1])
    w = w1 + t * (w1 - w2)
    return np.where(w * w1 > 0, w, 0.0)
