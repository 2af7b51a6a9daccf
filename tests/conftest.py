"""Shared fixtures: the reference problems (numpy, built here, independent of the package)
and the device list (CUDA cases skip cleanly without CUDA)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):  # `make test` runs two workers on two cores: one
    torch.set_num_threads(1)  # intra-op thread each, never four spinning on two

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
DEVICES = ["cpu", pytest.param("cuda", marks=CUDA)]


@pytest.fixture(scope="module")
def one_torch_thread():
    """For modules of tiny problems (``pytestmark = pytest.mark.usefixtures(...)``): one
    intra-op thread avoids OpenMP spin-waiting on a shared, loaded machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@dataclass
class Problem:
    name: str
    X: np.ndarray
    y: np.ndarray

    def alpha_max(self) -> float:
        Xc, yc = self.X - self.X.mean(0), self.y - self.y.mean()
        return float(np.abs(Xc.T @ yc).max() / len(yc))

    def tensors(self, device: str = "cpu", dtype: torch.dtype = torch.float64):
        return (torch.tensor(self.X, dtype=dtype, device=device),
                torch.tensor(self.y, dtype=dtype, device=device))


def toeplitz_design(n: int, p: int, rho: float, rng: np.random.Generator) -> np.ndarray:
    """Rows ~ N(0, Σ) with Σ_ij = rho^|i-j| (an AR(1) recursion over the columns)."""
    Z = rng.standard_normal((n, p))
    X = np.empty_like(Z)
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    return X


def sparse_response(X: np.ndarray, k: int, snr: float, rng: np.random.Generator) -> np.ndarray:
    beta = np.zeros(X.shape[1])
    signs = rng.choice([-1.0, 1.0], k)
    beta[rng.choice(X.shape[1], k, replace=False)] = signs * rng.uniform(1, 2, k)
    signal = X @ beta
    return signal + rng.standard_normal(len(signal)) * signal.std() / np.sqrt(snr) + 3.0


def _make(name: str) -> Problem:
    rng = np.random.default_rng({"wide": 0, "tall": 1}.get(name, 2))
    if name == "wide":  # correlated p > n
        X = toeplitz_design(100, 300, 0.6, rng)
        return Problem(name, X, sparse_response(X, 10, 3.0, rng))
    if name == "tall":
        X = toeplitz_design(2000, 50, 0.5, rng)
        return Problem(name, X, sparse_response(X, 8, 3.0, rng))
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return Problem("diabetes", X, y)


_CACHE: dict[str, Problem] = {}


def problem(name: str) -> Problem:
    if name not in _CACHE:
        _CACHE[name] = _make(name)
    return _CACHE[name]


@pytest.fixture(params=["wide", "tall", "diabetes"])
def any_problem(request) -> Problem:
    return problem(request.param)


_SK: dict[tuple, np.ndarray] = {}


def sklearn_coef(prob: Problem, alpha: float, l1_ratio: float) -> np.ndarray:
    """scikit-learn's solution at tol=1e-12 (cached per problem, alpha and l1_ratio)."""
    key = (prob.name, alpha, l1_ratio)
    if key not in _SK:
        from sklearn.linear_model import ElasticNet, Lasso

        kw = dict(alpha=alpha, tol=1e-12, max_iter=1_000_000)
        est = Lasso(**kw) if l1_ratio == 1.0 else ElasticNet(l1_ratio=l1_ratio, **kw)
        _SK[key] = est.fit(prob.X, prob.y).coef_
    return _SK[key]
