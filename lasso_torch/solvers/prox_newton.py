r"""Proximal Newton with working sets for the smooth convex losses (skglm's ``ProxNewton``).

For ``f(w) = 1/n sum_i s_i l(eta_i)`` (:mod:`lasso_torch.glm`) one ``step()`` is one outer
iteration:

1. the full gradient scores every feature by its KKT violation; the working set ``W`` is the
   support plus the worst violators (at least doubling, ``ws_min`` at first);
2. the quadratic model of ``f`` at ``w`` restricted to ``W`` is a *weighted least squares*:
   with ``h = s l''(eta)`` (floored at ``1e-3 max h``: Huber's ``l'' = 0`` rows keep
   their gradient in the model) and the IRLS response ``y~ = X_W w_W + s u / h`` (``u = -l'``),
   ``f(w + d) ~ const + 1/(2 n) sum_i h_i (y~_i - x_i,W^T w'_W - b')^2``; that is a
   :class:`~lasso_torch.datafits.Quadratic` on rows scaled by ``sqrt(h)`` (centered by the
   ``h``-weighted means: the model's intercept), and the penalty scaled by ``n / sum h``. It
   is solved by the squared loss's own ``ws`` solver (Gram-form active set for the elastic
   net; :mod:`~lasso_torch.solvers.penalty_cd` for the weighted, bounded and MCP penalties)
   to a relative gap a tenth of the outer one;
3. a backtracking (Armijo) line search along ``d = w' - w`` on the true objective
   (``P(w + t d) <= P(w) + 1e-4 t (grad^T d + Omega(w + d) - Omega(w))``); when it finds no
   decrease the next working set is twice as large and its subproblem ten times tighter.

Newton's quadratic convergence near the solution makes it the fast solver for the logistic
loss; its iterates are exactly sparse (the subproblem's are).

**Compiled** (``inner="compiled"``, the default): for the built-in losses (logistic,
Poisson, Huber, Gamma, Tweedie) on a dense CPU ``X`` with the elastic net (weighted,
bounded, ``positive``) or a group penalty, the whole outer iteration runs in one numba
call (:func:`~lasso_torch.solvers.pn_kernels.pn_iteration`,
:func:`~lasso_torch.solvers.group_kernels.pn_group_iteration`): the subproblem by
coordinate descent over the working set and the intercept (Gram-free: the Gram form
measured slower, :data:`~lasso_torch.solvers.prox_newton_host.GRAM_RATIO`, except past
``max(10, |W| + 1)`` epochs, an ill-conditioned model, where it goes on in Gram form), to
``inner_ratio`` (0.1; skglm's 0.3 took more outer iterations) times the current KKT
violation, then the line search on the true objective (the intercept joined to the step;
the certificate profiles it again). One pass over ``X`` an outer iteration: the running
certificate's gradient ``X^T g`` (at the profiled intercept) is the step's KKT scores.
The warm path (``SolverSpec.path``,
:func:`~lasso_torch.solvers.prox_newton_host.pn_path`) carries one host state along the
grid and sets features aside by the sequential strong rule, the full gap and the KKT
conditions of the set-aside features checking each alpha
(:mod:`~lasso_torch.solvers.glm_screening`). Everything else (MCP/SCAD, a sparse or GPU ``X``, the
squared loss, ``inner=`` a registered solver) runs the steps above in tensor code.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..certificates import Certificate, certify
from ..datafits import Quadratic
from ..errors import InputError
from ..sparse import is_sparse
from .engine import Engine
from .loop import run_loop
from .prox_newton_host import Host, compiled_applies, pn_path
from .registry import SolverSpec, get_solver, register
from .sparse_newton import sparse_direction


def irls_rows(X: Tensor, ys: Tensor, h: Tensor, fit_intercept: bool) -> tuple[Tensor, Tensor]:
    """Rows scaled by ``sqrt(h')`` and centered by ``h``-weighted means (``h' = h n / sum h``):
    least squares on them without intercept is the weighted problem with its intercept."""
    h = h * (h.numel() / h.sum())
    if fit_intercept:
        X = X - (h @ X) / h.sum()
        ys = ys - (h @ ys) / h.sum()
    r = h.sqrt()
    return X * r[:, None], ys * r


def _model(df: Any, w: Tensor) -> tuple[Tensor, Tensor]:
    """``(u, h)``: the generalized residual ``-l'(eta)`` and the Newton row weights."""
    if isinstance(df, Quadratic):  # one Newton step is the exact solve
        return df.residual(w), torch.ones_like(df.y) if df.s is None else df.s
    eta, h = df.row_hessian(w)
    # a floor on the curvature: a row with l'' = 0 but l' != 0 (Huber beyond delta) must
    # still bring its gradient into the model (any positive curvature gives a descent step)
    base = torch.ones_like(h) if df.s is None else df.s
    h = torch.maximum(h, 1e-3 * float((h / torch.where(base > 0, base, 1.0)).max()) * base)
    return -df.deriv(eta), h


class ProxNewton(Engine):
    """Proximal Newton outer loop; the subproblems are weighted least squares."""

    def __init__(self, datafit: Any, penalty: Any, w0: Tensor, *, tol: float = 1e-6,
                 ws_min: int = 10, inner: str = "compiled", max_inner: int = 5_000,
                 inner_ratio: float = 0.1, **_: Any) -> None:
        if not (hasattr(datafit, "row_hessian") or isinstance(datafit, Quadratic)):
            raise InputError("prox_newton needs a loss with a Hessian: squared, logistic, "
                             "huber, poisson")
        if not hasattr(penalty, "scale"):
            raise InputError(f"prox_newton needs a penalty closed under scaling, got {penalty!r}")
        if w0.dim() != 1:
            raise InputError("prox_newton solves one problem at a time")
        self.datafit, self.penalty = datafit, penalty
        self.w = w0.detach().clone()
        self.tol, self.ws_min, self.inner, self.max_inner = tol, ws_min, inner, max_inner
        self._cert: tuple[Tensor, Certificate] | None = None
        self.tighten = 1.0  # the subproblems' tolerance factor (lowered after a failed step)
        self.inner_ratio = inner_ratio
        self.host = Host(datafit, penalty, self.w) if inner == "compiled" and compiled_applies(
            datafit, penalty, self.w) else None
        if self.host is None and inner == "compiled":
            self.inner = "ws"

    def coef(self) -> Tensor:
        return self.w

    @property
    def intercept_hint(self) -> Tensor | None:
        """The compiled host's profiled intercept (original columns), where the final
        certificate's own profiling starts (:func:`lasso_torch.certificates.final_certificate`);
        None without the host."""
        if self.host is None or not self.host.intercept:
            return None
        return torch.tensor(self.host.intercept_of_w(), dtype=torch.float64)

    def certificate(self) -> Certificate:
        if self._cert is None or self._cert[0] is not self.w:
            cert = None if self.host is None else self.host.certificate(self.w)
            self._cert = (self.w, cert if cert is not None else certify(
                self.datafit, self.w, self.penalty))
        return self._cert[1]

    def _working_set(self, grad: Tensor) -> Tensor:
        score = self.penalty.subdiff_distance(self.w, grad)
        support = self.w != 0
        p = self.w.numel()
        size = min(p, max(self.ws_min, 2 * int(support.sum())))
        score = torch.where(support, torch.full_like(score, float("inf")), score)
        return torch.topk(score, size, sorted=False).indices.sort().values

    def step(self) -> None:
        if self.host is not None:
            return self._compiled_step()
        df, pen, w = self.datafit, self.penalty, self.w
        cert = self.certificate()
        u, h = _model(df, w)
        if is_sparse(df.X):  # the subproblem on X's CSC columns, never densified (issue 27)
            return self._accept(w, *sparse_direction(self, cert, u, h))
        rmat = df.rmat if hasattr(df, "rmat") else df.rmatvec  # X_c^T v
        grad = -rmat(u if df.s is None else df.s * u) / df.n
        ws = self._working_set(grad)
        Xw = df.X[:, ws]
        live = h > torch.finfo(h.dtype).tiny
        if not bool(live.any()):
            return
        # the working response: its weighted residual h (ys - X w) is the gradient's s u
        su = u if df.s is None else df.s * u
        ys = Xw @ w[ws] + torch.where(live, su / torch.where(live, h, 1.0), 0.0)
        sub = Quadratic(*irls_rows(Xw, ys, h, df.fit_intercept), fit_intercept=False)
        sub_pen = pen.features(ws).scale(float(df.n / h.sum()))
        # the subproblem's relative gap is relative to its own P(0) (large: its response
        # holds X_W w_W): its target is a tenth of the outer gap, in absolute terms
        target = max(0.1 * self.tol * float(df.p0), 0.1 * float(cert.gap)) * self.tighten
        inner_tol = max(1e-15, min(1e-3, target / max(float(sub.p0), 1e-300)))
        spec = get_solver(self.inner)
        eng = spec.build(sub, sub_pen, w[ws].clone(), **{**spec.options, "tol": inner_tol})
        res = run_loop(eng, max_iter=self.max_inner, tol=inner_tol,
                       check_every=spec.check_every, stall_patience=spec.stall_patience)
        d = torch.zeros_like(w)
        d[ws] = res.coef.to(w) - w[ws]
        self._accept(w, d, grad)

    def _accept(self, w: Tensor, d: Tensor, grad: Tensor) -> None:
        """The line search along ``d``; no decrease: larger, more precise subproblems."""
        self.w = self._line_search(w, d, grad)
        if self.w is w:  # no decrease: a larger working set, a more precise subproblem
            self.ws_min, self.tighten = min(2 * self.ws_min, w.numel()), self.tighten * 0.1

    def _compiled_step(self) -> None:
        h = self.host
        ratio = self.inner_ratio * self.tighten
        t = h.step(self.ws_min, ratio, self.max_inner)
        if t == 0.0:  # no decrease: a larger working set, a more precise subproblem
            self.ws_min, self.tighten = min(2 * self.ws_min, self.w.numel()), self.tighten * 0.1
            return
        self.w = torch.from_numpy(h.w.copy()).to(self.w)

    def _line_search(self, w: Tensor, d: Tensor, grad: Tensor) -> Tensor:
        df, pen = self.datafit, self.penalty
        pw = float(pen.value(w))
        P0 = float(df.value(w)) + pw
        delta = float(grad @ d) + float(pen.value(w + d)) - pw
        if not bool(d.any()):
            return w
        if abs(delta) <= 1e-13 * max(1.0, abs(P0)):  # below what P's rounding can measure:
            return w + d  # the full Newton step (near the solution, where it is right)
        if not delta < 0:  # the subproblem did not decrease its model: no step
            return w
        t = 1.0
        for _ in range(30):
            cand = w + t * d
            if float(df.value(cand)) + float(pen.value(cand)) <= P0 + 1e-4 * t * min(delta, 0.0):
                return cand
            t /= 2
        return w


register(SolverSpec(
    "prox_newton", ProxNewton,
    "proximal Newton with working sets; weighted least-squares subproblems solved by "
    "compiled CD (the fast solver of the logistic, Huber, Poisson, Gamma, Tweedie losses; "
    "on a sparse X, CD on its CSC columns)",
    options={"ws_min": 10, "inner": "compiled", "inner_ratio": 0.1}, check_every=1,
    stall_patience=5, weights=True, path=pn_path,
    iteration="outer iteration", sparse=True))
