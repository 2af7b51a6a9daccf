r"""Regularization paths: the solutions for a grid of ``K`` values of ``alpha``.

Two strategies, both public, both certified by the duality gap of every ``alpha``:

* :func:`warm_path` (``lasso_path(..., batched=False)``): a warm-started sequence,
  ``alpha_max`` downwards, each problem solved by :func:`lasso_torch.solve` starting from
  the previous solution.
* :func:`batched_path` (``lasso_path(..., batched=True)``): all ``K`` problems at once.
  The iterate ``W`` is ``p x K`` (one column per ``alpha``); one FISTA step is one pair of
  GEMMs (``X W`` and ``X^T R``), or one Gram GEMM when ``n >> p``. Every ``check_every``
  steps each column's duality gap is measured; converged columns are frozen (removed
  from the batch, so the GEMMs narrow as the path converges), and gap-safe screening
  (Fercoq, Gramfort & Salmon 2015) zeroes, per column, the features that are provably 0
  at that column's optimum; features screened in every live column are dropped from the
  data (the GEMMs get thinner too). Columns still open after ``handoff`` steps (small
  alphas, where first-order steps crawl) are finished by the working-set solver, each
  warm-started at the solution of the next larger alpha.

Sample masks (``masks``: an ``(n, F)`` 0/1 tensor) give ``F`` training subsets (e.g.
cross-validation folds) solved in the same batch: ``F * K`` columns. Each subset is its
own problem in the same convention: its ``n`` is its own number of rows and, with
``fit_intercept``, its intercept is profiled out over its own rows::

    P_f(w) = 1/(2 n_f) sum_{i: m_if = 1} (y_i - x_i^T w - b_f)^2
             + alpha (rho |w|_1 + (1-rho)/2 |w|^2)

Results then have a leading fold axis: ``coefs (F, p, K)``, ``gaps (F, K)``, ...
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .errors import InputError
from .prox import soft_threshold
from .solvers.loop import stall_floor


@dataclass
class PathResult:
    """Solutions along a grid of ``alpha`` (descending).

    Without masks: ``coefs (p, K)``, ``intercepts (K,)``, ``gaps (K,)`` (relative duality
    gaps ``gap / P(0)``), ``n_iters (K,)`` and ``converged (K,)``. With ``F`` masks every
    per-alpha field gets a leading fold axis: ``coefs (F, p, K)``, ``gaps (F, K)``, ...
    ``status`` per column is ``converged``, ``stalled`` (float precision reached) or
    ``max_iter``; ``time`` is the wall time in seconds.
    """

    alphas: Tensor
    coefs: Tensor
    intercepts: Tensor
    gaps: Tensor
    n_iters: Tensor
    converged: Tensor
    status: np.ndarray
    time: float
    strategy: str
    l1_ratio: float = 1.0

    @property
    def all_converged(self) -> bool:
        return bool(self.converged.all())


def alpha_grid(X: Tensor, y: Tensor, n_alphas: int = 100, eps: float = 1e-3,
               l1_ratio: float = 1.0, fit_intercept: bool = True) -> Tensor:
    """``n_alphas`` values log-spaced from ``alpha_max`` down to ``eps * alpha_max``."""
    if l1_ratio <= 0:
        raise InputError("an automatic alpha grid needs l1_ratio > 0; pass alphas= for ridge")
    yc = y - y.mean() if fit_intercept else y
    amax = (X.T @ yc).abs().amax() / (X.shape[0] * l1_ratio)  # X_c^T y_c = X^T y_c
    expo = torch.linspace(0.0, math.log10(eps), n_alphas, dtype=torch.float64)
    return (float(amax) * 10.0 ** expo).to(dtype=X.dtype, device=X.device)


# ---------------------------------------------------------------------------------------
# per-fold statistics
# ---------------------------------------------------------------------------------------
class _Folds:
    """Means, sizes, Gram blocks and Lipschitz constants of ``F`` row subsets."""

    def __init__(self, X: Tensor, y: Tensor, masks: Tensor | None, fit_intercept: bool,
                 use_gram: bool) -> None:
        n, p = X.shape
        self.X, self.y, self.fit_intercept = X, y, fit_intercept
        self.masked = masks is not None
        M = torch.ones(n, 1, dtype=X.dtype, device=X.device) if masks is None else masks
        self.M = M
        self.F = M.shape[1]
        self.n_f = M.sum(0)  # (F,)
        if fit_intercept:
            self.xbar = (M.T @ X) / self.n_f[:, None]  # (F, p)
            self.ybar = (M.T @ y) / self.n_f  # (F,)
        else:
            self.xbar = torch.zeros(self.F, p, dtype=X.dtype, device=X.device)
            self.ybar = torch.zeros(self.F, dtype=X.dtype, device=X.device)
        # centered y per fold, zero outside the fold: (n, F)
        self.Yc = M * (y[:, None] - self.ybar[None, :])
        self.p0 = (self.Yc * self.Yc).sum(0) / (2 * self.n_f)  # (F,)
        self.c = (X.T @ self.Yc).T / self.n_f[:, None]  # (F, p): X_c^T y_c / n_f
        self.use_gram = use_gram
        if use_gram:
            if masks is None:
                G = (X.T @ X)[None]
            else:
                G = torch.stack([(X * M[:, f, None]).T @ X for f in range(self.F)])
            sq = torch.diagonal(G, dim1=1, dim2=2)  # uncentered squared column norms
            G = G / self.n_f[:, None, None]
            if fit_intercept:
                G = G - self.xbar[:, :, None] * self.xbar[:, None, :]
            self.G = G  # (F, p, p)
        else:
            sq = M.T @ (X * X)
        # centered squared column norms per fold: (F, p)
        self.colsq = (sq - self.n_f[:, None] * self.xbar**2).clamp(min=0)
        self.lipschitz = self._lipschitz()

    def _lipschitz(self, n_iter: int = 100, rtol: float = 1e-6) -> Tensor:
        """Per-fold ``sigma_max(X_c,f)^2 / n_f`` by a batched power iteration: (F,)."""
        g = torch.Generator().manual_seed(0)
        p = self.X.shape[1]
        v = torch.randn(p, self.F, generator=g, dtype=torch.float64)
        v = v.to(dtype=self.X.dtype, device=self.X.device)
        v = v / torch.linalg.vector_norm(v, dim=0)
        lam = torch.zeros(self.F, dtype=self.X.dtype, device=self.X.device)
        for k in range(1, n_iter + 1):
            if self.use_gram:
                u = torch.einsum("fij,jf->if", self.G, v)
            else:
                xv = self.X @ v
                xv = xv - (self.M * xv).sum(0) / self.n_f if self.fit_intercept else xv
                u = self.X.T @ (self.M * xv) / self.n_f
            new = torch.linalg.vector_norm(u, dim=0)
            v = u / torch.where(new > 0, new, torch.ones_like(new))
            if k % 10 == 0 and bool(((new - lam).abs() <= rtol * new).all()):
                lam = new
                break
            lam = new
        return lam * (1 + 2 * rtol)


# ---------------------------------------------------------------------------------------
# the batched solver
# ---------------------------------------------------------------------------------------
class _Batch:
    """The live columns of the batched FISTA: iterates, momentum, alphas, folds, features."""

    def __init__(self, folds: _Folds, fold_of: Tensor, alphas: Tensor, l1_ratio: float) -> None:
        d = folds.X
        p = d.shape[1]
        C = fold_of.numel()
        self.folds = folds
        self.cols = torch.arange(C, device=d.device)  # global column ids of live columns
        self.fold_of = fold_of
        self.alpha = alphas
        self.l1_ratio = l1_ratio
        self.feat = torch.arange(p, device=d.device)  # live features
        self.Xa = d
        self.W = torch.zeros(p, C, dtype=d.dtype, device=d.device)
        self.V = self.W.clone()
        self.t = torch.ones(C, dtype=d.dtype, device=d.device)
        self.keep: Tensor | None = None  # (p_live, C) bool: not screened
        self._refresh()

    def _refresh(self) -> None:
        f = self.fold_of
        fo = self.folds
        self.step = 1.0 / fo.lipschitz[f]
        self.a1 = self.alpha * self.l1_ratio
        self.a2 = self.alpha * (1.0 - self.l1_ratio)
        self.n_c = fo.n_f[f]
        self.ybar_c = fo.ybar[f]
        self.Mc = fo.M[:, f] if fo.masked else None
        self.c_c = fo.c[f][:, self.feat].T  # (p_live, C)
        if fo.use_gram:
            self.groups = [(int(g), (f == g).nonzero().squeeze(1)) for g in f.unique()]
            self.Gf = fo.G[:, self.feat][:, :, self.feat]

    def keep_columns(self, live: Tensor) -> None:
        """Keep only the columns ``live`` (a bool mask over the current columns)."""
        self.cols, self.fold_of, self.alpha = self.cols[live], self.fold_of[live], self.alpha[live]
        self.W, self.V, self.t = self.W[:, live], self.V[:, live], self.t[live]
        if self.keep is not None:
            self.keep = self.keep[:, live]
        self._refresh()

    def keep_features(self, rows: Tensor) -> None:
        """Keep only the features ``rows`` (a bool mask over the current features)."""
        self.feat = self.feat[rows]
        self.Xa = self.folds.X[:, self.feat]
        self.W, self.V = self.W[rows], self.V[rows]
        if self.keep is not None:
            self.keep = self.keep[rows]
        self._refresh()

    # --- the smooth part ----------------------------------------------------------------
    def _at(self, name: str, cols: Tensor | None) -> Any:
        """A per-column attribute, restricted to the live columns ``cols`` (None: all)."""
        v = getattr(self, name)
        if cols is None or v is None:
            return v
        return v[:, cols] if name == "Mc" else v[cols]

    def residual(self, W: Tensor, cols: Tensor | None = None) -> Tensor:
        """Centered, masked residual ``(n, C)`` of the live columns (or of ``cols``)."""
        XW = self.Xa @ W
        y = self.folds.y[:, None]
        Mc = self._at("Mc", cols)
        if Mc is None:
            R = y - XW
            return R - R.mean(0) if self.folds.fit_intercept else R
        if self.folds.fit_intercept:
            b = self._at("ybar_c", cols) - (Mc * XW).sum(0) / self._at("n_c", cols)
            return Mc * (y - XW - b)
        return Mc * (y - XW)

    def gradient(self, W: Tensor) -> Tensor:
        if self.folds.use_gram:
            if len(self.groups) == 1:  # one data set (no folds): G W - c in one BLAS call
                return torch.addmm(self.c_c, self.Gf[self.groups[0][0]], W, beta=-1)
            out = torch.empty_like(W)
            for g, idx in self.groups:
                out[:, idx] = self.Gf[g] @ W[:, idx]
            return out - self.c_c
        return -(self.Xa.T @ self.residual(W)) / self.n_c

    # --- one FISTA step with per-column adaptive restart ---------------------------------
    def step_(self) -> None:
        Z = self.V - self.step * self.gradient(self.V)
        Wn = soft_threshold(Z, self.step * self.a1) if self.l1_ratio > 0 else Z
        if self.l1_ratio < 1:
            Wn = Wn / (1 + self.step * self.a2)
        if self.keep is not None:
            Wn = Wn * self.keep
        t_new = (1 + torch.sqrt(1 + 4 * self.t * self.t)) / 2
        beta = (self.t - 1) / t_new
        bad = ((self.V - Wn) * (Wn - self.W)).sum(0) > 0
        beta = torch.where(bad, torch.zeros_like(beta), beta)
        self.t = torch.where(bad, torch.ones_like(t_new), t_new)
        self.V = Wn + beta * (Wn - self.W)
        self.W = Wn

    # --- certificates ---------------------------------------------------------------------
    def certify(self, W: Tensor, exact: bool = False,
                cols: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """``(rel_gap, gap, g)`` per live column; ``g = X_c^T r / n - a2 w`` on ALL features.

        In the Gram form (float64, unless ``exact``) the sums come from ``G`` and ``c``:
        ``||r||^2/n = yy - 2 c^T w + w^T G w``, ``r^T y_c/n = yy - c^T w``,
        ``X_c^T r/n = c - G w`` (``yy = ||y_c||^2/n``), ``p x C`` work instead of ``n x p x C``;
        for ``tol < 1e-9`` columns are re-certified from their residual (``exact``) before
        they are frozen.
        ``cols`` (a mask over the live columns, with ``W`` those columns) certifies a subset.
        """
        fo = self.folds
        n = self._at("n_c", cols)
        a1, a2, fold_of = self._at("a1", cols), self._at("a2", cols), self._at("fold_of", cols)
        Wfull = W
        if self.feat.numel() != fo.X.shape[1]:
            Wfull = W.new_zeros(fo.X.shape[1], W.shape[1])
            Wfull[self.feat] = W
        if fo.use_gram and not exact and W.dtype == torch.float64 and cols is None:
            GW = torch.empty_like(Wfull)
            for grp, idx in self.groups:
                GW[:, idx] = fo.G[grp][:, self.feat] @ W[:, idx]
            c_full = fo.c[self.fold_of].T  # (p, C)
            yy = 2 * fo.p0[self.fold_of]
            cw = (c_full * Wfull).sum(0)
            r2n = yy - 2 * cw + (Wfull * GW).sum(0)
            ryn = yy - cw
            xtr_n = c_full - GW
        else:
            R = self.residual(W, cols)
            xtr_n = (fo.X.T @ R) / n  # every feature: the dual point must be feasible for all
            r2n = (R * R).sum(0) / n
            ryn = (R * fo.y[:, None]).sum(0) / n  # = R^T y_c: R is centered (0 off the fold)
        g = xtr_n - a2 * Wfull
        w2 = (W * W).sum(0)
        l1 = W.abs().sum(0)
        if self.l1_ratio > 0:
            dn = g.abs().amax(0)
            s = torch.where(dn > a1, a1 / dn, torch.ones_like(dn))
            gap = 0.5 * (1 + s * s) * (r2n + a2 * w2) + a1 * l1 - s * ryn
        else:
            gap = r2n + 0.5 * a2 * w2 - ryn + (xtr_n * xtr_n).sum(0) / (2 * a2)
        p0 = fo.p0[fold_of]
        rel = gap / torch.where(p0 > 0, p0, torch.ones_like(p0))
        return rel, gap, g

    def screen(self, gap: Tensor, g: Tensor) -> Tensor:
        """Gap-safe rule per column: ``(p, C)`` True where the feature is provably 0.

        The elastic net is a Lasso on augmented data (``X`` stacked on
        ``sqrt(n a2) I``); its dual point ``theta = s r / (n a1)`` and the safe sphere of
        radius ``sqrt(2 n gap) / (n a1)`` give: feature ``j`` is 0 at the optimum when
        ``s |g_j| / a1 + sqrt(2 n gap) / (n a1) * sqrt(||x_j||^2 + n a2) < 1``.
        """
        n = self.n_c
        dn = g.abs().amax(0)
        s = torch.where(dn > self.a1, self.a1 / dn, torch.ones_like(dn))
        colsq = self.folds.colsq[self.fold_of].T  # (p, C)
        radius = torch.sqrt(2 * n * gap.clamp(min=0)) / (n * self.a1)
        bound = s * g.abs() / self.a1 + radius * torch.sqrt(colsq + n * self.a2)
        return bound < 1 - 1e-12


def batched_path(
    X: Tensor,
    y: Tensor,
    alphas: Tensor,
    l1_ratio: float = 1.0,
    *,
    tol: float = 1e-6,
    max_iter: int = 20_000,
    fit_intercept: bool = True,
    masks: Tensor | None = None,
    check_every: int = 10,
    gram: bool | str = "auto",
    screening: bool = True,
    stall_patience: int = 20,
    max_time: float | None = None,
    finish: str | None = "ws",
    handoff: int = 50,
) -> PathResult:
    """Solve for every ``alpha`` (and every mask) at once: one ``p x (F K)`` FISTA iterate.

    See the module docstring. ``X (n, p)``, ``y (n,)`` are tensors of one float dtype and
    device; ``alphas (K,)``; ``masks (n, F)`` of 0/1 (None: all rows, one problem per
    alpha). A column stops when its relative gap is ``<= tol`` (``converged``), when it
    no longer improves near the dtype's precision (``stalled``), or at ``max_iter`` steps
    (or ``max_time`` seconds). Host syncs happen only every ``check_every`` steps.

    The columns still open after ``handoff`` batched steps (the small, ill-conditioned
    alphas, where first-order steps crawl) are finished one by one by the solver
    ``finish`` (default the working-set solver ``"ws"``), warm-started from their batched
    iterate; ``finish=None`` keeps every column in the batch until ``max_iter``.
    """
    t_start = time.perf_counter()
    n, p = X.shape
    if masks is not None:
        masks = torch.as_tensor(masks).to(dtype=X.dtype, device=X.device)
        if masks.dim() != 2 or masks.shape[0] != n:
            raise InputError(f"masks must have shape (n, F) = ({n}, F), got {tuple(masks.shape)}")
        if not bool(((masks == 0) | (masks == 1)).all()):
            raise InputError("masks must hold only 0 and 1")
        if bool((masks.sum(0) < 1).any()):
            raise InputError("every mask must select at least one row")
    F = 1 if masks is None else masks.shape[1]
    K = alphas.numel()
    if gram == "auto":
        n_min = n if masks is None else int(masks.sum(0).min())
        gram = n_min >= 4 * p and F * p * p <= 2**26
    folds = _Folds(X, y, masks, fit_intercept, bool(gram))
    fold_of = torch.arange(F, device=X.device).repeat_interleave(K)
    col_alpha = alphas.repeat(F)
    batch = _Batch(folds, fold_of, col_alpha, l1_ratio)
    C = F * K
    out_W = torch.zeros(p, C, dtype=X.dtype, device=X.device)
    out_rel = torch.full((C,), math.inf, dtype=X.dtype, device=X.device)
    n_iters = torch.zeros(C, dtype=torch.long)
    status = np.array(["max_iter"] * C, dtype=object)
    floor = stall_floor(X.dtype)
    best = torch.full((C,), math.inf, dtype=torch.float64)
    since = torch.zeros(C, dtype=torch.long)
    screen_on = screening and l1_ratio > 0
    k = 0
    while batch.cols.numel() > 0:
        batch.step_()
        k += 1
        timed_out = max_time is not None and time.perf_counter() - t_start > max_time
        if k % check_every and k < max_iter and not timed_out:
            continue
        rel, gap, g = batch.certify(batch.W)
        if folds.use_gram and tol < 1e-9 and bool((rel <= tol).any()):
            # the Gram-form gap cancels terms (error ~1e-15 P(0) in float64): below 1e-9
            # freeze only on the residual-form certificate
            sel = rel <= tol
            rel_ex = batch.certify(batch.W[:, sel], exact=True, cols=sel)[0]
            rel = rel.clone()
            rel[sel] = rel_ex
        relc = rel.double().cpu()
        cols = batch.cols.cpu()
        done = relc <= tol
        improved = relc < best[cols] * (1 - 1e-3)
        best[cols] = torch.where(improved, relc, best[cols])
        since[cols] = torch.where(improved, 0, since[cols] + 1)
        stalled = (~done) & (since[cols] >= stall_patience) & (best[cols] < floor)
        handing = finish is not None and k >= handoff
        final = done | stalled | torch.tensor(k >= max_iter or timed_out or handing)
        if bool(final.any()):
            fin = final.to(X.device)
            gc = cols[final]
            Wf = batch.W[:, fin]
            out_W[batch.feat[:, None], gc.to(X.device)[None, :]] = Wf
            out_rel[gc.to(X.device)] = rel[fin]
            n_iters[gc] = k
            for c, d_, s_ in zip(gc.tolist(), done[final].tolist(), stalled[final].tolist(),
                                 strict=True):
                status[c] = ("converged" if d_ else "stalled" if s_ else
                             "handoff" if handing else "max_iter")
            live = ~fin
            batch.keep_columns(live)
            gap, g = gap[live], g[:, live]
            if batch.cols.numel() == 0:
                break
        if screen_on:
            dead = batch.screen(gap, g)[batch.feat]  # (p_live, C)
            batch.keep = ~dead
            batch.W = batch.W * batch.keep
            batch.V = batch.V * batch.keep
            rows = batch.keep.any(1)
            if int(rows.sum()) <= 0.8 * batch.feat.numel():
                batch.keep_features(rows)
    for c in np.flatnonzero(status == "handoff").tolist():
        _finish_column(X, y, masks, c, K, alphas, l1_ratio, finish, tol, max_iter, fit_intercept,
                       out_W, out_rel, n_iters, status)
    coefs = out_W.T.reshape(F, K, p).transpose(1, 2)
    inter = _intercepts(folds, coefs)
    res = PathResult(
        alphas=alphas, coefs=coefs, intercepts=inter, gaps=out_rel.reshape(F, K),
        n_iters=n_iters.reshape(F, K),
        converged=torch.as_tensor(status == "converged").reshape(F, K),
        status=status.reshape(F, K), time=time.perf_counter() - t_start, strategy="batched",
        l1_ratio=l1_ratio,
    )
    return _squeeze(res) if masks is None else res


def _finish_column(X: Tensor, y: Tensor, masks: Tensor | None, c: int, K: int, alphas: Tensor,
                   l1_ratio: float, solver: str, tol: float, max_iter: int,
                   fit_intercept: bool, out_W: Tensor, out_rel: Tensor, n_iters: Tensor,
                   status: np.ndarray) -> None:
    """Solve column ``c`` (fold ``c // K``, alpha ``c % K``) alone, warm-started.

    The start is the solution of the next larger alpha (already final: columns are finished
    in descending alpha), as in the warm-started sequence; the first alpha of a fold
    starts from its own batched iterate.
    """
    from .solve import solve

    f, k = divmod(c, K)
    start = out_W[:, c - 1] if k > 0 else out_W[:, c]
    if masks is not None:
        m = masks[:, f].bool()
        X, y = X[m], y[m]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = solve(X, y, float(alphas[k]), l1_ratio, solver, tol=tol, max_iter=max_iter,
                  fit_intercept=fit_intercept, coef_init=start, warn=False)
    out_W[:, c], out_rel[c] = r.coef, r.gap
    n_iters[c] += r.n_iter
    status[c] = r.status


def _intercepts(folds: _Folds, coefs: Tensor) -> Tensor:
    """``b_f = ybar_f - xbar_f^T w`` for every fold and alpha: (F, K)."""
    return folds.ybar[:, None] - torch.einsum("fp,fpk->fk", folds.xbar, coefs)


def _squeeze(res: PathResult) -> PathResult:
    for name in ("coefs", "intercepts", "gaps", "n_iters", "converged", "status"):
        setattr(res, name, getattr(res, name)[0])
    return res


# ---------------------------------------------------------------------------------------
# the warm-started sequence
# ---------------------------------------------------------------------------------------
def warm_path(
    X: Tensor,
    y: Tensor,
    alphas: Tensor,
    l1_ratio: float = 1.0,
    *,
    tol: float = 1e-6,
    max_iter: int = 20_000,
    fit_intercept: bool = True,
    masks: Tensor | None = None,
    solver: str = "ws",
    **solve_kwargs: Any,
) -> PathResult:
    """Solve ``alphas`` in order, each warm-started at the previous solution.

    Each problem is one :func:`lasso_torch.solve` call with ``solver``; with ``masks`` the
    sequence runs once per mask on that mask's rows. Same result layout as
    :func:`batched_path`.
    """
    from .solve import solve

    t_start = time.perf_counter()
    n, p = X.shape
    Ms = [None] if masks is None else list(torch.as_tensor(masks).to(X.device).bool().T)
    K = alphas.numel()
    F = len(Ms)
    coefs = torch.zeros(F, p, K, dtype=X.dtype, device=X.device)
    inter = torch.zeros(F, K, dtype=X.dtype, device=X.device)
    gaps = torch.zeros(F, K, dtype=X.dtype, device=X.device)
    n_iters = torch.zeros(F, K, dtype=torch.long)
    status = np.empty((F, K), dtype=object)
    for f, m in enumerate(Ms):
        Xf, yf = (X, y) if m is None else (X[m], y[m])
        if solver == "ws" and not solve_kwargs:
            _ws_sequence(Xf, yf, alphas, l1_ratio, tol, max_iter, fit_intercept,
                         coefs[f], inter[f], gaps[f], n_iters[f], status[f])
            continue
        w = None
        for k in range(K):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = solve(Xf, yf, float(alphas[k]), l1_ratio, solver, tol=tol, max_iter=max_iter,
                          fit_intercept=fit_intercept, coef_init=w, warn=False, **solve_kwargs)
            w = r.coef
            coefs[f, :, k], inter[f, k], gaps[f, k] = r.coef, r.intercept, r.gap
            n_iters[f, k], status[f, k] = r.n_iter, r.status
    res = PathResult(
        alphas=alphas, coefs=coefs, intercepts=inter, gaps=gaps, n_iters=n_iters,
        converged=torch.as_tensor(status == "converged"), status=status,
        time=time.perf_counter() - t_start, strategy="warm", l1_ratio=l1_ratio,
    )
    return _squeeze(res) if masks is None else res


def _ws_sequence(X: Tensor, y: Tensor, alphas: Tensor, l1_ratio: float, tol: float,
                 max_iter: int, fit_intercept: bool, coefs: Tensor, inter: Tensor, gaps: Tensor,
                 n_iters: Tensor, status: np.ndarray) -> None:
    """The warm-started ``ws`` sequence on one data set, sharing the datafit and the Gram
    blocks between alphas (what ``lt.solve`` per alpha would recompute each time)."""
    from .datafits import Quadratic
    from .solvers import WorkingSet, run_loop

    df = Quadratic(X, y, fit_intercept=fit_intercept)
    if df.use_gram:  # n >> p: one X^T X for the whole path; every working set indexes it
        _ = df.gram
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    prev = None
    for k in range(alphas.numel()):
        a = float(alphas[k])
        eng = WorkingSet(df, a, l1_ratio, w, tol=tol)
        if prev is not None:
            eng.share_cache(prev)
        out = run_loop(eng, df, a, l1_ratio, max_iter=max_iter, tol=tol, check_every=1,
                       stall_patience=5)
        w, prev = eng.coef().clone(), eng
        coefs[:, k], inter[k], gaps[k] = w, df.intercept(w), out.cert.rel_gap
        n_iters[k], status[k] = out.n_iter, out.status


def lasso_path(
    X: Tensor | np.ndarray,
    y: Tensor | np.ndarray,
    alphas: Tensor | np.ndarray | list[float] | None = None,
    n_alphas: int = 100,
    eps: float = 1e-3,
    l1_ratio: float = 1.0,
    tol: float = 1e-6,
    batched: bool = True,
    fit_intercept: bool = True,
    *,
    masks: Tensor | np.ndarray | None = None,
    max_iter: int = 20_000,
    distributed: bool = False,
    **kwargs: Any,
) -> PathResult:
    """The regularization path of the Lasso (elastic net with ``l1_ratio < 1``).

    Args:
        X, y: data ``(n, p)``, ``(n,)`` (tensors or arrays); results follow ``X``'s
            device and dtype.
        alphas: the grid (sorted descending); default ``n_alphas`` values log-spaced from
            ``alpha_max`` (of all rows) down to ``eps * alpha_max``.
        l1_ratio: scikit-learn's ElasticNet convention (1: Lasso).
        tol: every alpha is solved to relative duality gap ``<= tol``.
        batched: all alphas in one ``p x K`` iterate (:func:`batched_path`), else the
            warm-started sequence (:func:`warm_path`).
        masks: ``(n, F)`` 0/1 row masks: ``F`` subsets (e.g. CV folds) solved together;
            results get a leading axis of size ``F``.
        distributed: ``X``, ``y`` are this rank's rows inside an initialized
            ``torch.distributed`` process group: the batched path with the rows sharded,
            :func:`lasso_torch.distributed.sharded_path` (no masks; the grid comes from the
            global ``alpha_max``); every rank gets the same result.
        kwargs: passed to :func:`batched_path` / :func:`warm_path`.

    Returns:
        :class:`PathResult` with ``alphas (K,)``, ``coefs (p, K)``, ``intercepts (K,)``,
        ``gaps (K,)`` (relative gaps), ``n_iters (K,)``, ``converged (K,)``.
    """
    from .checks import as_data

    if distributed:
        if masks is not None:
            raise InputError("masks are not supported with distributed=True")
        from .distributed import sharded_path

        return sharded_path(X, y, alphas, l1_ratio, n_alphas=n_alphas, eps=eps, tol=tol,
                            max_iter=max_iter, fit_intercept=fit_intercept, **kwargs)
    X, y = as_data(X, y)
    if not 0.0 <= l1_ratio <= 1.0:
        raise InputError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}")
    if alphas is None:
        if not (isinstance(n_alphas, int) and n_alphas >= 1):
            raise InputError(f"n_alphas must be an integer >= 1, got {n_alphas!r}")
        if not 0 < eps <= 1:
            raise InputError(f"eps must be in (0, 1], got {eps!r}")
        alphas = alpha_grid(X, y, n_alphas, eps, l1_ratio, fit_intercept)
    else:
        # float64 first: a Python list would otherwise become float32 (0.8 -> 0.800000012)
        alphas = torch.as_tensor(alphas, dtype=torch.float64).to(dtype=X.dtype, device=X.device)
        alphas = alphas.reshape(-1)
        if alphas.numel() == 0 or not bool((alphas > 0).all() & torch.isfinite(alphas).all()):
            raise InputError("alphas must be a non-empty list of finite numbers > 0")
        alphas = alphas.sort(descending=True).values
    if masks is not None:
        masks = torch.as_tensor(masks).to(dtype=X.dtype, device=X.device)
    fn = batched_path if batched else warm_path
    return fn(X, y, alphas, l1_ratio, tol=tol, max_iter=max_iter, fit_intercept=fit_intercept,
              masks=masks, **kwargs)
