"""Lasso, Ridge and ElasticNet as ``nn.Module``: a quadratic datafit plus a penalty.

The module holds ``coef`` (a ``Parameter``, the only one) and an ``intercept`` buffer.
With ``fit_intercept`` the intercept is profiled out rather than learned:
``smooth_loss`` is ``1/(2n) ||r - mean(r)||^2`` with ``r = y - X coef`` (the exact
minimum over the intercept), and the intercept buffer is set to ``mean(r)``. So the
penalty's prox only ever touches ``coef``, as the objective requires.

The smooth part (``smooth_loss``, for autograd and a proximal optimizer) is kept apart
from the penalty (``penalty``, with ``value`` and ``prox``); ``loss`` is their sum, the
full non-smooth objective that plain (sub)gradient descent differentiates.

**dtype and device follow the data.** Built without ``dtype``/``device``, the module
takes those of the first ``X`` it sees (``forward``/``smooth_loss``/``loss``), converting
its parameter in place (the same ``Parameter`` object, so an optimizer built before that
call keeps working); data of another dtype/device afterwards is an error that says so.

**The intercept buffer is written only while training**: ``smooth_loss`` with gradients
enabled profiles the intercept out and stores it. Under ``torch.no_grad()`` (validation,
held-out error) it is the loss of the model as it stands, ``1/(2n)||y - X coef - b||^2``
with the stored ``b``, and the buffer is left alone (``update_intercept=True`` forces the
training behaviour).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .penalties import L1, L2
from .penalties import ElasticNet as ElasticNetPenalty


class PenalizedLinear(nn.Module):
    """``P(w) = 1/(2n)||y - Xw - b||^2 + penalty(w)`` with ``b`` profiled out (or 0)."""

    def __init__(
        self,
        n_features: int,
        penalty: ElasticNetPenalty,
        fit_intercept: bool = True,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.penalty = penalty
        self.fit_intercept = fit_intercept
        self.coef = nn.Parameter(torch.zeros(n_features, dtype=dtype, device=device))
        self.register_buffer("intercept", torch.zeros((), dtype=dtype, device=device))
        self._follow = (dtype is None, device is None)  # still free to follow the data

    def _adopt(self, X: Tensor) -> None:
        """Take ``X``'s dtype/device where the constructor left them open (first call)."""
        c = self.coef
        dtype = X.dtype if self._follow[0] else c.dtype
        device = X.device if self._follow[1] else c.device
        if (c.dtype, c.device) != (dtype, device) and c.grad is None:
            with torch.no_grad():
                c.data = c.data.to(dtype=dtype, device=device)
                self.intercept = self.intercept.to(dtype=dtype, device=device)
        self._follow = (False, False)
        if (c.dtype, c.device) != (X.dtype, X.device):
            raise ValueError(f"the data is {X.dtype} on {X.device} but {type(self).__name__} "
                             f"is {c.dtype} on {c.device}: build it with dtype=X.dtype, "
                             "device=X.device, or convert the data")

    @property
    def alpha(self) -> float:
        return self.penalty.alpha

    @property
    def l1_ratio(self) -> float:
        return self.penalty.l1_ratio

    def forward(self, X: Tensor) -> Tensor:
        """Predictions ``X coef + intercept``."""
        self._adopt(X)
        return X @ self.coef + self.intercept

    def smooth_loss(self, X: Tensor, y: Tensor, update_intercept: bool | None = None) -> Tensor:
        """``1/(2n) ||r||^2``; ``r`` the centered residual, ``intercept`` set to its mean.

        ``update_intercept`` (default: whether gradients are enabled) False: ``r`` is
        ``y - X coef - intercept`` with the stored intercept, which is left unchanged.
        """
        self._adopt(X)
        if update_intercept is None:
            update_intercept = torch.is_grad_enabled()
        r = y - X @ self.coef
        if self.fit_intercept and update_intercept:
            mean = r.mean()
            self.intercept.copy_(mean.detach())
            r = r - mean
        elif self.fit_intercept:
            r = r - self.intercept
        return (r * r).sum() / (2 * X.shape[0])

    def penalty_value(self) -> Tensor:
        return self.penalty.value(self.coef)

    def loss(self, X: Tensor, y: Tensor) -> Tensor:
        """The full objective ``smooth_loss + penalty`` (non-smooth for l1_ratio > 0)."""
        return self.smooth_loss(X, y) + self.penalty_value()

    def extra_repr(self) -> str:
        return (f"n_features={self.coef.numel()}, penalty={self.penalty}, "
                f"fit_intercept={self.fit_intercept}")


class Lasso(PenalizedLinear):
    """``1/(2n)||y - Xw - b||^2 + alpha ||w||_1``."""

    def __init__(self, n_features: int, alpha: float, fit_intercept: bool = True,
                 dtype: torch.dtype | None = None, device: torch.device | str | None = None):
        super().__init__(n_features, L1(alpha), fit_intercept, dtype, device)


class Ridge(PenalizedLinear):
    """``1/(2n)||y - Xw - b||^2 + alpha/2 ||w||^2`` (scikit-learn's ElasticNet scaling)."""

    def __init__(self, n_features: int, alpha: float, fit_intercept: bool = True,
                 dtype: torch.dtype | None = None, device: torch.device | str | None = None):
        super().__init__(n_features, L2(alpha), fit_intercept, dtype, device)


class ElasticNet(PenalizedLinear):
    """``1/(2n)||y - Xw - b||^2 + alpha (l1_ratio ||w||_1 + (1-l1_ratio)/2 ||w||^2)``."""

    def __init__(self, n_features: int, alpha: float, l1_ratio: float = 0.5,
                 fit_intercept: bool = True, dtype: torch.dtype | None = None,
                 device: torch.device | str | None = None):
        penalty = ElasticNetPenalty(alpha, l1_ratio)
        super().__init__(n_features, penalty, fit_intercept, dtype, device)
