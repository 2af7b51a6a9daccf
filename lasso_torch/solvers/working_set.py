r"""Working-set solver: solve small subproblems in Gram form, grow the set where KKT fails.

The Lasso solution is sparse, so most features never matter. Each outer iteration
(one ``step()``, the pattern of skglm and celer):

1. one full pass ``g = X_c^T r / n`` scores every feature by its KKT violation
   ``dist(-grad_j, alpha d|w_j|)``;
2. the working set ``W`` is the current support plus the worst violators, of size
   ``max(ws_min, 2 |support|)`` (so it at least doubles while the support grows);
3. the subproblem restricted to ``W`` (``G = X_W^T X_W / n``, ``c = X_W^T y / n``, both
   ``|W| x |W|`` small, centered by a rank-one correction) is solved on the host by
   :class:`~lasso_torch.solvers.subproblem.GramSubproblem` (an active-set method that is
   exact once the support is found, FISTA otherwise) to a duality gap of ``inner_ratio``
   times the current full gap.

With ``p <= ws_min`` features (and for ridge) the working set is the whole problem from
the first step, solved to ``tol`` at once.

The engine certifies itself (:meth:`WorkingSet.certificate`, what the loop calls at each
check), so the ``X^T r`` of that certificate is the one the next outer iteration scores
with: one pass over ``X`` per outer iteration, not two. The certificate is in residual
form, except where the datafit already holds the full Gram matrix, the data is float64 and
``tol >= 1e-9``: then it comes from Gram sums (see :meth:`WorkingSet._residual`), whose
cancellation (~1e-15 P(0)) is far below such a tolerance.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..certificates import Certificate, certificate_from, certificate_from_sums
from ..datafits import Quadratic
from ..penalties import ElasticNet
from .engine import Engine
from .registry import SolverSpec, register
from .subproblem import GramSubproblem


class WorkingSet(Engine):
    """Working-set outer loop; each subproblem is a :class:`GramSubproblem` on the host."""

    def __init__(self, datafit: Quadratic, penalty: ElasticNet, w0: Tensor, *,
                 tol: float = 1e-6, ws_min: int = 100, inner_ratio: float = 0.3,
                 max_inner: int = 20_000, inner_check: int = 10, **_: object) -> None:
        self.datafit = datafit
        self.alpha, self.l1_ratio = float(penalty.alpha), penalty.l1_ratio
        self.a1, self.a2 = penalty.l1, penalty.l2
        self.penalty = penalty
        self.w = w0.detach().clone()
        self.tol, self.ws_min, self.inner_ratio = tol, ws_min, inner_ratio
        self.max_inner, self.inner_check = max_inner, inner_check
        self.p0 = float(datafit.p0)
        self.yy = 2 * self.p0
        # G_AA has rank <= n (n - 1 once centered): never more active features (a2 == 0)
        self.nmax = datafit.n - int(datafit.fit_intercept)
        self._cache: GramCache | None = None
        self._inverse: tuple[np.ndarray, np.ndarray, float] | None = None  # see _known_inverse
        self._at: tuple[Tensor, Tensor, Certificate] | None = None
        self.gram_sums = datafit.X.dtype == torch.float64 and tol >= 1e-9

    def coef(self) -> Tensor:
        return self.w

    def warm_from(self, other: Engine) -> None:
        """Reuse ``other``'s Gram entries (same datafit, e.g. the previous alpha of a
        path): only the features new to the working set cost a product."""
        if isinstance(other, WorkingSet) and other.datafit is self.datafit:
            self._cache, self._inverse = other._cache, other._inverse

    def _residual(self) -> tuple[Tensor, Certificate]:
        """``X_c^T r`` and the certificate at the current ``w``, computed once.

        When the datafit holds the full Gram matrix (a path in Gram form, or few features)
        and the data is float64 with ``tol >= 1e-9``, the sums come from it, with no pass
        over ``X``: ``||r||^2 = n (yy - 2 c^T w + w^T G w)``, ``r^T y_c = n (yy - c^T w)``,
        ``X_c^T r = n (c - G w)``. Their cancellation costs about 1e-15 P(0) of gap, far
        below such a ``tol``; smaller tolerances use the residual.
        """
        if self._at is None or self._at[0] is not self.w:
            df, w = self.datafit, self.w
            if self.gram_sums and "gram" in df.__dict__ and df.s is None:
                r2, ry, Xtr = df.gram_sums(w)
                cert = certificate_from_sums(df, w, r2, ry, Xtr, self.penalty)
            else:
                if self._at is None and not bool(w.any()):  # a cold start: no pass over X
                    r, Xtr = df.yc, df.Xty * df.n
                else:
                    r, Xtr = df.residual_xtr(w)
                cert = certificate_from(df, w, r, Xtr, self.penalty)
            self._at = (w, Xtr, cert)
        return self._at[1:]

    def certificate(self) -> Certificate:
        """The loop's certificate, sharing its residual with the next :meth:`step`."""
        return self._residual()[1]

    # --- one outer iteration ------------------------------------------------------------
    def step(self) -> None:
        df = self.datafit
        if self.a1 == 0 or df.p <= self.ws_min:
            # ridge, or few features: the subproblem is the whole problem, solved to the
            # tolerance at once (no scoring, so no certificate needed before it)
            ws = torch.arange(df.p, device=self.w.device)
            target = 0.3 * self.tol * self.p0
        else:
            Xtr, cert = self._residual()
            score = self.penalty.subdiff_distance(self.w, Xtr.mul(-1.0 / df.n))
            support = self.w != 0
            n_supp = int(support.sum())
            n_viol = int(((score > 0) & ~support).sum())
            # the support plus the violators, at most doubling (skglm's 2 |support|)
            size = min(df.p, n_supp + max(min(n_viol, max(n_supp, self.ws_min)), 1))
            score = torch.where(support, torch.full_like(score, float("inf")), score)
            ws = torch.topk(score, size, sorted=False).indices.sort().values
            target = max(self.inner_ratio * float(cert.gap), 0.3 * self.tol * self.p0)
        G, c = self._gram(ws)
        # float64 on the host whatever the data's dtype (see the subproblem's docstring);
        # the certificate stays in the data's dtype
        host = torch.float64
        ws_host = ws.cpu().numpy()
        sp = GramSubproblem(
            G.to("cpu", host).numpy(), c.to("cpu", host).numpy(), self.yy, self.alpha,
            self.l1_ratio,
            self.nmax, max_inner=self.max_inner, inner_check=self.inner_check,
            start_inverse=self._known_inverse(ws_host),
        )
        sub = sp.solve(self.w[ws].to("cpu", host).numpy(), target)
        self._inverse = None
        if sp.final_inverse is not None:
            A, inv = sp.final_inverse
            if np.array_equal(np.sort(A), np.flatnonzero(sub)):  # it is the answer's support
                self._inverse = (ws_host[A], inv, self.a2)
        self.w = self.w.clone()
        self.w[ws] = torch.from_numpy(sub).to(self.w)

    def _known_inverse(self, ws_host: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The last subproblem's final ``(G_AA + a2 I)^{-1}``, with ``A`` (global features)
        mapped to positions in the working set ``ws_host``, when all of ``A`` is in it: the
        next active set starts from it instead of refactoring (same Gram entries, same a2)."""
        if self._inverse is None or self._inverse[2] != self.a2:
            return None
        A, inv, _ = self._inverse
        pos = np.searchsorted(ws_host, A)
        if pos.size and (pos.max() >= ws_host.size or not np.array_equal(ws_host[pos], A)):
            return None
        return pos, inv

    def _gram(self, ws: Tensor) -> tuple[Tensor, Tensor]:
        """``G = X_c,W^T X_c,W / n`` and ``c = X_c,W^T y_c / n`` for the working set."""
        df = self.datafit
        # computed already (a path in Gram form), or cheap: at most ws_min^2 entries
        if "gram" in df.__dict__ or df.p <= self.ws_min:
            if ws.numel() == df.p:  # ws is sorted: all of it
                return df.gram, df.Xty
            return df.gram[ws][:, ws], df.Xty[ws]
        if self._cache is None:
            self._cache = GramCache(df)
        return self._cache.block(ws), df.Xty[ws]


class GramCache:
    """Centered Gram entries among the features seen so far, never the full ``p x p``.

    Each feature's column is gathered from ``X`` once (kept in contiguous blocks) and its
    entries against every seen feature are computed once: a working set growing from
    ``W`` to ``W'`` costs ``n |new| |seen|`` multiply-adds and one gather of the new
    columns; a smaller one, or the next alpha of a path, costs an index. The gathered
    columns are centered before the products (no ``xbar xbar^T`` correction to cancel).
    """

    def __init__(self, datafit: Quadratic, max_blocks: int = 8) -> None:
        self.df, self.max_blocks = datafit, max_blocks
        X = datafit.X
        self.pos = torch.full((X.shape[1],), -1, dtype=torch.long, device=X.device)
        self.seen = torch.zeros(0, dtype=torch.long, device=X.device)
        self.blocks: list[Tensor] = []  # gathered columns of X as rows, (k, n) each
        self.G = X.new_zeros(0, 0)

    def block(self, ws: Tensor) -> Tensor:
        """``G[ws][:, ws]``, computing the entries of features not seen before."""
        new = ws[self.pos[ws] < 0]
        if new.numel():
            df = self.df
            # gathered once, as rows (k, n): products of contiguous rows (A B^T) run 1.3-2.5x
            # faster than A^T B on the (n, k) gather (measured at n = 20000)
            Rn = df.X.T[new]
            if df.fit_intercept:  # centered before the products (see Quadratic.gram)
                Rn = Rn - df.x_mean[new][:, None]
            if len(self.blocks) >= self.max_blocks:  # few large products, not many small
                self.blocks = [torch.cat(self.blocks, dim=0)]
            cross = torch.cat([Rn @ B.T for B in self.blocks] + [Rn @ Rn.T], dim=1) / df.n
            seen = torch.cat([self.seen, new])
            s, k = self.seen.numel(), new.numel()
            G = self.G.new_empty(s + k, s + k)
            G[:s, :s] = self.G
            G[s:] = cross
            G[:s, s:] = cross[:, :s].T
            self.G, self.seen = G, seen
            self.pos[new] = torch.arange(s, s + k, device=new.device)
            self.blocks.append(Rn)
        i = self.pos[ws]
        return self.G[i[:, None], i]


register(SolverSpec(
    "ws", WorkingSet,
    "working sets grown by KKT violation, each solved exactly in Gram form (the fastest)",
    options={"ws_min": 100}, check_every=1, stall_patience=5,
    iteration="outer iteration"))
