"""Losses beyond the squared one: Logistic, Huber, Poisson, Gamma, Tweedie, and a user's
loss by autograd.

Each is a datafit of the core's protocol (:mod:`lasso_torch.datafits`), built by name or
from a callable through :func:`lasso_torch.problem.make_datafit`.
"""

from .autograd import Autograd
from .base import GLMDatafit
from .deviance import DEVIANCE_LOSSES, Gamma, Tweedie
from .losses import LOSSES as _BASIC
from .losses import Huber, Logistic, Poisson

LOSSES = {**_BASIC, **DEVIANCE_LOSSES}

__all__ = ["LOSSES", "Autograd", "GLMDatafit", "Gamma", "Huber", "Logistic", "Poisson",
           "Tweedie"]
