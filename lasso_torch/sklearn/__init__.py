"""scikit-learn estimators backed by ``lasso_torch`` solvers (needs scikit-learn).

``import lasso_torch`` never imports scikit-learn; ``import lasso_torch.sklearn`` does.

* :class:`TorchLasso`, :class:`TorchElasticNet`, :class:`TorchRidge`: one fit with
  :func:`lasso_torch.solve` (any registered solver, on any device and dtype).
* :class:`TorchLassoCV`, :class:`TorchElasticNetCV`: the ``alpha`` (and ``l1_ratio``)
  chosen by K-fold cross-validation, all folds x all alphas in one ``lasso_path`` call.
* :class:`TorchLogisticRegression` (binary or multinomial; its ``CV``: deviance),
  :class:`TorchPoissonRegressor`, :class:`TorchGammaRegressor`, :class:`TorchTweedieRegressor`,
  :class:`TorchHuberRegressor`: the GLM losses, warnings scikit-learn's
  ``ConvergenceWarning``.

All of them take scikit-learn's ElasticNet scaling of the objective
(``1/(2n)||y - Xw - b||^2 + alpha (l1_ratio |w|_1 + (1-l1_ratio)/2 |w|^2)``), so
``TorchLasso(alpha=a)`` matches ``sklearn.linear_model.Lasso(alpha=a)``; note that
``TorchRidge(alpha=a)`` matches ``sklearn.linear_model.Ridge(alpha=n_samples * a)``.
"""

from .cv import TorchElasticNetCV, TorchLassoCV
from .estimators import TorchElasticNet, TorchLasso, TorchRidge
from .glm import (
    TorchGammaRegressor,
    TorchHuberRegressor,
    TorchPoissonRegressor,
    TorchTweedieRegressor,
)
from .logistic import TorchLogisticRegression
from .logistic_cv import TorchLogisticRegressionCV

__all__ = ["TorchElasticNet", "TorchElasticNetCV", "TorchGammaRegressor",
           "TorchHuberRegressor", "TorchLasso", "TorchLassoCV", "TorchLogisticRegression",
           "TorchLogisticRegressionCV", "TorchPoissonRegressor", "TorchRidge",
           "TorchTweedieRegressor"]
