"""Losses beyond the squared one: Logistic, Huber, Poisson, and a user's loss by autograd.

Each is a datafit of the core's protocol (:mod:`lasso_torch.datafits`), built by name or
from a callable through :func:`lasso_torch.problem.make_datafit`.
"""

from .autograd import Autograd
from .base import GLMDatafit
from .losses import LOSSES, Huber, Logistic, Poisson

__all__ = ["LOSSES", "Autograd", "GLMDatafit", "Huber", "Logistic", "Poisson"]
