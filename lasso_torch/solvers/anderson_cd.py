r"""Working-set coordinate descent with Anderson extrapolation (skglm's and celer's scheme).

Each ``step()`` is one outer iteration:

1. the KKT violation ``dist(-grad_j, alpha d pen(w_j))`` of every feature, from the
   ``X_c^T r`` of the certificate the loop just computed (one pass over the data);
2. the working set ``W``: the support plus the worst violators, of size
   ``max(ws_min, 2 |support|)`` (so it at least doubles while the support grows);
3. the restricted problem solved by compiled CD epochs with Anderson extrapolation
   (:mod:`lasso_torch.solvers.anderson`, one numba call) to a duality gap of
   ``inner_ratio`` times the current one, or straight to ``0.3 tol P(0)`` when every
   violator is in ``W`` (the restricted problem is then likely the whole one).

The form follows the datafit: Gram (``G = X_c^T X_c / n`` from :attr:`Quadratic.gram`,
``q = c - G w`` over all features kept up to date by the epochs, so scoring costs
nothing) when it holds or wants the Gram matrix (``n >= 4p``), else the residual on a
centered Fortran-ordered copy of ``X``. Everything runs on the host in the data's dtype;
``coef()`` is on the data's device.

The engine certifies itself (:meth:`AndersonCD.certificate`) with the compiled certificate
(:func:`~lasso_torch.solvers.kernels.enet_certificate`) from a residual (or ``q``)
recomputed from scratch; in Gram form from the Gram sums when the data is float64 and
``tol >= 1e-9`` (cancellation ~1e-15 P(0)), else by the project's
:func:`~lasso_torch.certificates.certify`.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor

from ..certificates import Certificate, certify
from ..datafits import Quadratic
from ..linalg import mm
from ..penalties import ElasticNet
from .anderson import inner_gram, inner_residual
from .cd_path import gram_path
from .coordinate import as_certificate, host_arrays
from .engine import Engine
from .kernels import col_norms, enet_certificate, gram_q, kkt_scores, residual, select_ws
from .loop import stall_floor
from .registry import SolverSpec, register


class AndersonCD(Engine):
    """Working-set CD with Anderson extrapolation; ``step()`` is one outer iteration."""

    def __init__(self, datafit: Quadratic, penalty: ElasticNet, w0: Tensor, *,
                 tol: float = 1e-6, ws_min: int = 100, inner_ratio: float = 0.3, K: int = 5,
                 max_epochs: int = 50_000, check: int = 5, gram: bool | None = None,
                 **_: object) -> None:
        self.datafit, self.penalty = datafit, penalty
        self.alpha, self.l1_ratio = float(penalty.alpha), float(penalty.l1_ratio)
        self.a1, self.a2 = self.alpha * self.l1_ratio, self.alpha * (1.0 - self.l1_ratio)
        self.tol, self.ws_min, self.inner_ratio = tol, ws_min, inner_ratio
        self.K, self.max_epochs, self.check = K, max_epochs, check
        self.device, self.dtype = w0.device, w0.dtype
        self.use_gram = (datafit.use_gram or "gram" in datafit.__dict__) if gram is None \
            else gram
        self.n, self.p = datafit.n, datafit.p
        self.w = w0.detach().cpu().numpy().copy()
        if self.use_gram:
            self.G = np.ascontiguousarray(datafit.gram.detach().cpu().numpy())
            self.c = np.ascontiguousarray(datafit.Xty.detach().cpu().numpy())
            self.q = np.empty_like(self.c)
            gram_q(self.G, self.c, self.w, self.q)
        else:
            self.Xc, self.yc = host_arrays(datafit)
            self.norms = col_norms(self.Xc)
            self.r = np.empty_like(self.yc)
            residual(self.Xc, self.yc, self.w, self.r)
        self.yy = 2.0 * float(datafit.p0)  # ||y_c||^2 / n
        self.all_idx = np.arange(self.p, dtype=np.int64)
        self.gram_sums = self.w.dtype == np.float64 and tol >= 1e-9
        self.epochs = 0  # CD epochs run so far (all inner solves)
        self._inner_gap = 0.0  # the gap the last inner solve reached
        self._coef: Tensor | None = None
        self._at: tuple[np.ndarray, Certificate] | None = None  # (X_c^T r / n, cert)

    def coef(self) -> Tensor:
        if self._coef is None:
            self._coef = torch.from_numpy(self.w.copy()).to(device=self.device,
                                                            dtype=self.dtype)
        return self._coef

    # --- the certificate, shared with the next step ----------------------------------------
    def _certificate(self) -> tuple[np.ndarray, Certificate]:
        """``X_c^T r / n`` and the certificate at the current ``w``, computed once."""
        if self._at is not None:
            return self._at
        n, a1, a2, w = self.n, self.a1, self.a2, self.w
        if self.use_gram:
            gram_q(self.G, self.c, w, self.q)  # fresh: no drift from the epochs' updates
            g = self.q
            if self.gram_sums:
                cw = float(self.c @ w)
                out = enet_certificate(self.yy - cw - float(w @ g), self.yy - cw, g, w,
                                       self.all_idx, 1, a1, a2)
                cert = as_certificate(*out, 0.5 * self.yy, self.coef())
            else:
                cert = certify(self.datafit, self.coef(), self.penalty)
        else:
            residual(self.Xc, self.yc, w, self.r)  # fresh
            xtr = mm(self.Xc.T, self.r)
            out = enet_certificate(float(self.r @ self.r), float(self.r @ self.yc), xtr, w,
                                   self.all_idx, n, a1, a2)
            cert = as_certificate(*out, 0.5 * self.yy, self.coef())
            g = xtr / n
        self._at = (g, cert)
        return self._at

    def certificate(self) -> Certificate:
        """The loop's certificate, sharing its ``X_c^T r`` with the next :meth:`step`."""
        return self._certificate()[1]

    # --- one outer iteration ----------------------------------------------------------------
    def step(self) -> None:
        g, cert = self._certificate()
        final = 0.3 * self.tol * 0.5 * self.yy
        floor = stall_floor(self.dtype) * 0.5 * self.yy
        if self.a1 == 0:  # ridge: no sparsity to exploit
            ws, left = self.all_idx, 0
        else:
            score = np.empty(self.p)
            kkt_scores(g, self.w, self.a1, self.a2, score)
            ws, left = select_ws(score, self.w, self.ws_min)
        gap = float(cert.gap)
        # the restricted problem is the whole one, or the last one was (its gap is the
        # full gap, and no violator is left out): finish at once, not ``inner_ratio`` at a time
        whole = ws.shape[0] == self.p or (left == 0 and gap <= 2.0 * self._inner_gap)
        target = final if whole else max(self.inner_ratio * gap, final)
        args = (ws, self.a1, self.a2, target, self.max_epochs, self.K)
        if self.use_gram:
            ep, self._inner_gap = inner_gram(self.G, self.c, self.yy, self.w, self.q, *args,
                                             20, floor)
        else:
            ep, self._inner_gap = inner_residual(self.Xc, self.yc, self.w, self.r, self.norms,
                                                 *args, self.check, 20, floor)
        self.epochs += ep
        self._coef, self._at = None, None


register(SolverSpec(
    "anderson_cd", AndersonCD,
    "working-set coordinate descent with Anderson extrapolation, compiled (skglm's scheme)",
    options={"ws_min": 100, "inner_ratio": 0.3, "K": 5}, check_every=1, stall_patience=5,
    iteration="outer iteration",
    path=functools.partial(gram_path, max_epochs=50_000)))
