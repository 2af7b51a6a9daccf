r"""Coordinate descent and working sets on a sparse ``X`` (CSC), never densified.

The engine of ``cd``, ``anderson_cd`` and ``ws`` when the datafit's ``X`` is a torch sparse
tensor (CSR or CSC, scipy.sparse converted by ``as_data``): the compiled kernels of
:mod:`lasso_torch.solvers.csc_kernels` on the CSC arrays of ``X``, which are the arrays of
the datafit's ``X^T`` (a CSR tensor made once per datafit: no copy per engine, per alpha of a
path or per check). The intercept is the implicit centering of those kernels, row weights
(``sample_weight``) are read natively, and the penalty is any per-feature elastic net within
bounds (``weights``, ``positive``, ``bounds``); MCP and SCAD on a sparse ``X`` run with
``fista``.

* ``cd`` (``working_sets=False``): one ``step()`` is one epoch over every coordinate,
  cyclic or random (scikit-learn's semantics, seeded), as the dense reference.
* ``anderson_cd`` and ``ws``: one ``step()`` is one outer iteration of skglm's / celer's
  scheme, as :class:`~lasso_torch.solvers.anderson_cd.AndersonCD`: score the features by
  their KKT violation from the certificate's ``X_c^T S r``, keep the support and the worst
  violators (at least doubling), solve the restricted problem by CD epochs over the
  working set's columns with Anderson extrapolation to a fraction of the gap (its stopping
  value is the restricted duality gap for the plain elastic net, the KKT violation for the
  others; no extrapolation within finite bounds, where it could leave the box). The
  subproblem never forms a Gram matrix. For the plain elastic net, gap-safe screening
  (Fercoq, Gramfort & Salmon 2015; the sphere test on the elastic net as a Lasso on
  augmented data) removes features from every later pass: they are neither scored nor in a
  working set, and the certificate reads their columns only when its gap over the others
  is within ``tol`` (so the gap it reports is always the whole problem's).

The certificate (:meth:`SparseCD.certificate`) is recomputed from a fresh residual; for the
plain elastic net by the compiled :func:`~lasso_torch.solvers.kernels.enet_certificate`,
otherwise by :func:`~lasso_torch.certificates.certificate_from_sums` from the kernels' sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..certificates import Certificate, certificate_from_sums
from ..datafits import Quadratic
from ..errors import InputError
from ..penalties import is_plain
from ..sparse import csc_arrays, transpose
from . import csc_kernels as ck
from .coordinate import as_certificate, cached_on
from .engine import Engine
from .kernels import enet_certificate, kkt_scores
from .loop import stall_floor


@dataclass
class CSC:
    """The host state of one datafit: ``X``'s CSC arrays, row weights (empty: none), the
    column sums, means and centered norms, ``y_c``, ``n = sum s`` and the centering flag."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    s: np.ndarray
    xbar: np.ndarray
    colsum: np.ndarray
    norms: np.ndarray
    yc: np.ndarray
    nw: float
    center: bool

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.indptr, self.indices, self.data, self.s


def csc_of(X: Tensor, XT: Tensor | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The CSC arrays of a sparse ``X`` on the host, from its transpose's CSR (made here
    when ``XT`` is not given)."""
    XT = transpose(X.cpu()) if XT is None else XT.cpu()
    if XT.layout != torch.sparse_csr:
        XT = XT.to_sparse_csr()
    return csc_arrays(XT)


def host(datafit: Quadratic) -> CSC:
    """The :class:`CSC` state of a sparse quadratic datafit, made once per datafit."""
    def make() -> CSC:
        indptr, indices, data = csc_of(datafit.X, datafit.XT)
        s = np.empty(0, data.dtype) if datafit.s is None else datafit.s.cpu().numpy()
        return stats(indptr, indices, data, s, datafit.yc.detach().cpu().numpy(),
                     float(datafit.n), datafit.fit_intercept)
    return cached_on(datafit, "csc", make)


def stats(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, s: np.ndarray,
          yc: np.ndarray, nw: float, center: bool, idx: np.ndarray | None = None) -> CSC:
    """A :class:`CSC` with the column statistics of the columns ``idx`` (all by default)."""
    p = indptr.shape[0] - 1
    z = [np.zeros(p, dtype=data.dtype) for _ in range(3)]
    idx = np.arange(p, dtype=np.int64) if idx is None else idx
    ck.col_stats(indptr, indices, data, s, nw, center, idx, z[0], z[1], z[2])
    return CSC(indptr, indices, data, s, z[0], z[1], z[2], np.ascontiguousarray(yc), nw, center)


def penalty_arrays(penalty: Any, p: int, nw: float, dtype: np.dtype
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(l1, l2, lo, hi)`` per feature in ``n``-scaled units (see the kernels' module)."""
    if is_plain(penalty):
        a1, a2 = float(penalty.l1), float(penalty.l2)
        inf = np.full(p, np.inf, dtype=dtype)
        return (np.full(p, nw * a1, dtype=dtype), np.full(p, nw * a2, dtype=dtype), -inf, inf)
    if not hasattr(penalty, "_bounds"):
        raise InputError(f"penalty {type(penalty).__name__} on a sparse X: use solver='fista'")
    like = torch.zeros(p, dtype=torch.float64)
    a1, a2 = penalty._a(like)
    lo, hi = penalty._bounds(like)
    return tuple(np.ascontiguousarray(v.double().numpy() * k, dtype=dtype)
                 for v, k in ((a1, nw), (a2, nw), (lo, 1.0), (hi, 1.0)))


def select(score: np.ndarray, w: np.ndarray, ws_min: int) -> tuple[np.ndarray, int]:
    """:func:`~lasso_torch.solvers.kernels.select_ws` by a partial sort (``O(p)``, not the
    full sort's ``O(p log p)``: 20 ms of a 50000-feature solve): the support, then the
    highest scores, ``max(ws_min, 2 |support|)`` features in all (sorted), and how many
    violators were left out."""
    supp = w != 0
    n_supp = int(supp.sum())
    n_viol = int(((score > 0) & ~supp).sum())
    size = min(w.shape[0], max(ws_min, 2 * n_supp))
    key = np.where(supp, -np.inf, -score)
    ws = np.argpartition(key, size - 1)[:size] if size < w.shape[0] else np.arange(size)
    return np.sort(ws), max(n_supp + n_viol - size, 0)


class SparseCD(Engine):
    """CD epochs (``working_sets=False``) or working-set Anderson CD on a sparse ``X``."""

    def __init__(self, datafit: Quadratic, penalty: Any, w0: Tensor, *,
                 working_sets: bool = True, selection: str = "cyclic", seed: int | None = 0,
                 tol: float = 1e-6, ws_min: int = 100, inner_ratio: float = 0.3, K: int = 5,
                 max_epochs: int = 50_000, check: int = 5, screening: bool = True,
                 **_: object) -> None:
        if selection not in ("cyclic", "random"):
            raise InputError(f"selection must be 'cyclic' or 'random', got {selection!r}")
        self.datafit, self.h = datafit, host(datafit)
        self.device, self.dtype = w0.device, w0.dtype
        self.p = datafit.p
        self.w = w0.detach().cpu().numpy().astype(self.h.data.dtype, copy=True)
        self.working_sets, self.tol, self.ws_min = working_sets, tol, ws_min
        self.inner_ratio, self.K, self.max_epochs, self.check = inner_ratio, K, max_epochs, check
        self.screening = screening
        self.rng = np.random.default_rng(seed) if selection == "random" else None
        self.all_idx = np.arange(self.p, dtype=np.int64)
        self.p0 = float(datafit.p0)
        self.rr = np.empty(self.h.yc.shape[0] + 1, dtype=self.h.data.dtype)
        ck.residual(*self.h.arrays[:3], self.h.s, self.h.yc, self.w, self.rr)
        self.epochs = 0
        self.set_penalty(penalty)

    def set_penalty(self, penalty: Any) -> None:
        """A new penalty (the next alpha of a path): the screening starts over."""
        self.penalty = penalty
        self.plain = is_plain(penalty)
        self.a1 = float(penalty.l1) if self.plain else 0.0
        self.a2 = float(penalty.l2) if self.plain else 0.0
        self.l1, self.l2, self.lo, self.hi = penalty_arrays(penalty, self.p, self.h.nw,
                                                            self.h.data.dtype)
        self.boxed = bool(np.isfinite(self.lo).any() or np.isfinite(self.hi).any())
        self.keep = self.all_idx  # features not screened
        self._at: tuple[np.ndarray, Certificate] | None = None
        self._coef: Tensor | None = None
        self._inner = 0.0
        # the last certificate's sums stay valid while w does not move (a path's next
        # alpha starts where the last one stopped: no second pass over X for it)
        self._sums = getattr(self, "_last", None)

    def _xtr_sums(self) -> tuple[np.ndarray, float, float]:
        """``X_c^T S r`` over the features not screened (at least), ``sum s r^2`` and
        ``sum s r y_c`` at ``w``; from the sums kept across :meth:`set_penalty` when ``w``
        has not moved (only the columns they missed are read)."""
        h = self.h
        if self._sums is not None:
            g, r2, ry, done = self._sums
            missing = self.keep[~done[self.keep]]
            if missing.size:
                ck.xtr(*h.arrays, h.xbar, self.rr, missing, g)
                done[missing] = True
            return g, r2, ry
        ck.residual(*h.arrays[:3], h.s, h.yc, self.w, self.rr)  # fresh: no drift
        g = np.zeros(self.p, dtype=self.rr.dtype)
        ck.xtr(*h.arrays, h.xbar, self.rr, self.keep, g)
        r2, ry = ck.sums(h.s, self.rr, h.yc, h.nw, h.center)
        done = np.zeros(self.p, dtype=bool)
        done[self.keep] = True
        self._sums = (g, r2, ry, done)
        return g, r2, ry

    def coef(self) -> Tensor:
        if self._coef is None:
            self._coef = torch.from_numpy(self.w.copy()).to(device=self.device,
                                                            dtype=self.dtype)
        return self._coef

    # --- the certificate ------------------------------------------------------------------
    def _certificate(self) -> tuple[np.ndarray, Certificate]:
        """``X_c^T S r`` (over the features not screened) and the certificate, once per
        iterate."""
        if self._at is not None:
            return self._at
        h, w = self.h, self.w
        g, r2, ry = self._xtr_sums()
        if self.plain:
            out = enet_certificate(r2, ry, g, w, self.keep, h.nw, self.a1, self.a2)
            if self.keep.shape[0] < self.p and out[1] <= self.tol * self.p0:
                done = self._sums[3]  # the whole problem's: the columns not read yet
                ck.xtr(*h.arrays, h.xbar, self.rr, np.flatnonzero(~done), g)
                done[:] = True
                out = enet_certificate(r2, ry, g, w, self.all_idx, h.nw, self.a1, self.a2)
            cert = as_certificate(*out, self.p0, self.coef())
        else:
            t = torch.tensor([r2, ry], dtype=torch.float64)
            cert = certificate_from_sums(self.datafit, self.coef().double().cpu(), t[0], t[1],
                                         torch.from_numpy(g).double(), self.penalty)
            cert = Certificate(*(c.to(device=self.device, dtype=self.dtype) for c in cert))
        self._at, self._last = (g, cert), self._sums
        return self._at

    def certificate(self) -> Certificate:
        return self._certificate()[1]

    # --- one iteration --------------------------------------------------------------------
    def step(self) -> None:
        h = self.h
        if not self.working_sets:
            order = self.all_idx if self.rng is None else self.rng.integers(0, self.p, self.p)
            ck.epoch(*h.arrays, h.xbar, h.colsum, self.rr, self.w, h.norms, self.l1, self.l2,
                     self.lo, self.hi, order)
            self.epochs += 1
            self._at = self._coef = self._sums = self._last = None
            return
        g, cert = self._certificate()
        gap = float(cert.gap)
        if self.plain and self.a1 > 0 and self.screening:
            self._screen(g, gap)
        ws, left = self._working_set(g)
        gap_mode = self.plain
        if gap_mode:
            final = 0.3 * self.tol * self.p0
            whole = ws.shape[0] == self.keep.shape[0] or (left == 0 and gap <= 2 * self._inner)
            target = final if whole else max(self.inner_ratio * gap, final)
            floor = stall_floor(self.dtype) * self.p0
        else:  # the KKT violation, n-scaled
            target = self.inner_ratio * h.nw * float(cert.kkt)
            floor = stall_floor(self.dtype) * h.nw * max(float(np.abs(g).max()), 1e-300)
        K = 0 if self.boxed else self.K
        ep, self._inner = ck.inner(*h.arrays, h.xbar, h.colsum, h.yc, self.rr, self.w,
                                   h.norms, self.l1, self.l2, self.lo, self.hi, ws, h.nw,
                                   h.center, self.a1, self.a2, gap_mode, target,
                                   self.max_epochs, K, self.check if gap_mode else 1, 20, floor)
        self.epochs += ep
        self._at = self._coef = self._sums = self._last = None

    def _working_set(self, g: np.ndarray) -> tuple[np.ndarray, int]:
        """The working set among the features not screened, and how many violators it
        left out."""
        keep = self.keep
        if self.plain and self.a1 == 0:  # ridge: no sparsity to exploit
            return keep, 0
        gk, wk = g[keep] / self.h.nw, self.w[keep]
        score = np.empty(keep.shape[0])
        if self.plain:
            kkt_scores(gk, wk, self.a1, self.a2, score)
        else:
            wt = torch.from_numpy(wk).double()
            score = self.penalty.features(torch.from_numpy(keep)).subdiff_distance(
                wt, torch.from_numpy(-gk).double()).numpy()
            score = np.where(score > 0, score, -1.0 + np.abs(gk) / max(np.abs(gk).max(), 1e-300))
        ws, left = select(score, wk, self.ws_min)
        return keep[ws], left

    def _screen(self, g: np.ndarray, gap: float) -> None:
        """Gap-safe sphere test on the features at zero: a feature with
        ``kappa |g_j - n a2 w_j| + sqrt(2 n gap (||x_c,j||^2 + n a2)) < n a1`` is zero at the
        optimum (``kappa`` the certificate's dual scaling)."""
        h, keep = self.h, self.keep
        nw, a1, a2 = h.nw, self.a1, self.a2
        v = np.abs(g[keep] - nw * a2 * self.w[keep])
        top = float(v.max()) if v.size else 0.0
        kappa = min(1.0, nw * a1 / top) if top > 0 else 1.0
        radius = np.sqrt(2.0 * nw * max(gap, 0.0) * (h.norms[keep] + nw * a2))
        out = (kappa * v + radius < nw * a1) & (self.w[keep] == 0)
        if out.any():
            self.keep = keep[~out]
