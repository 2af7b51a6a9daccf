"""Any torch.optim optimizer, and the proximal/truncated optimizers, as ``lt.solve`` solvers.

The registry resolves short names, ``torch.optim.Name`` and ``module:Class``; the loop
certifies every one of them on the full data; minibatches are seeded and recorded in both
units (steps and epochs).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import lasso_torch as lt
from lasso_torch.solvers import get_solver

sys.path.insert(0, str(Path(__file__).parent))  # user_optim.py


def _data(n=80, p=12, seed=0):
    X, y, _ = lt.make_synthetic(n, p, correlation=0.3, density=0.3, snr=5.0, seed=seed)
    return X, y


def _quiet(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = _data()
        a = 0.2 * float(lt.alpha_max(X, y))
        return X, y, a, lt.solve(X, y, a, warn=False, **kw)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "torch.optim.NAdam"])
def test_autograd_optimizers_never_reach_an_exact_zero(name):
    X, y, a, res = _quiet(solver=name, lr=0.01, max_iter=1500, record_every=10,
                          options={"momentum": 0.9} if name == "sgd" else {})
    ref = lt.solve(X, y, a, solver="cd", tol=1e-12)
    null = ref.coef == 0
    assert bool(null.any())
    assert int((res.coef[null] == 0).sum()) == 0  # never exactly 0.0 where the lasso is 0
    assert res.status == "max_iter"  # and it never claims convergence
    assert "epoch" in res.trace


def test_prox_sgd_full_batch_is_ista_step_for_step():
    X, y, a, ista = _quiet(solver="ista", tol=0, max_iter=200, record_every=1)
    *_, prox = _quiet(solver="prox_sgd", tol=0, max_iter=200, record_every=1)
    np.testing.assert_array_equal(prox.trace["coef"], ista.trace["coef"])


@pytest.mark.parametrize("name", ["prox_sgd", "prox_adam"])
def test_proximal_optimizers_reach_the_certified_lasso(name):
    kw = {"lr": 0.05} if name == "prox_adam" else {}
    X, y, a, res = _quiet(solver=name, tol=1e-8, max_iter=20_000, **kw)
    ref = lt.solve(X, y, a, solver="cd", tol=1e-12)
    assert res.converged and float(res.gap) <= 1e-8
    assert torch.equal(res.coef == 0, ref.coef == 0)


def test_minibatches_are_seeded_and_recorded_in_epochs():
    kw = dict(solver="prox_sgd", batch_size=20, schedule="inv_sqrt", max_iter=40,
              record_every=8, tol=0)
    *_, one = _quiet(seed=3, **kw)
    *_, two = _quiet(seed=3, **kw)
    *_, other = _quiet(seed=4, **kw)
    np.testing.assert_array_equal(one.coef, two.coef)
    assert not torch.equal(one.coef, other.coef)
    np.testing.assert_allclose(one.trace["epoch"], one.trace["iteration"] * 20 / 80)


def test_truncated_sgd_gives_exact_zeros():
    *_, res = _quiet(solver="truncated_sgd", max_iter=500)
    assert res.n_zeros > 0


def test_a_user_optimizer_by_import_path():
    *_, res = _quiet(solver="user_optim:SignSGD", lr=1e-3, max_iter=50,
                     options={"beta": 0.5})
    assert res.solver == "user_optim:SignSGD" and res.n_iter == 50
    assert get_solver("user_optim:SignSGD").family == "optimizer"


@pytest.mark.parametrize("name, match", [
    ("nomodule_xyz:Opt", "cannot import"),
    ("user_optim:Missing", "cannot import"),
    ("user_optim:NotAnOptimizer", "not a torch.optim.Optimizer"),
    ("torch.optim.Nope", "cannot import"),
    ("adamm", "did you mean 'adam'"),
])
def test_bad_solver_names_are_one_clear_error(name, match):
    with pytest.raises(lt.InputError, match=match):
        get_solver(name)


def test_an_unknown_option_is_named():
    X, y = _data()
    with pytest.raises(lt.InputError, match="no option 'betaz'"):
        lt.solve(X, y, 0.1, solver="adam", options={"betaz": 0.5})


def test_adamw_weight_decay_is_noted_as_an_l2_term():
    X, y = _data()
    from lasso_torch.datafits import Quadratic
    from lasso_torch.penalties import L1

    eng = get_solver("adamw").build(Quadratic(X, y), L1(0.1), torch.zeros(12, dtype=X.dtype),
                                    lr=0.01, weight_decay=0.1)
    assert "L2" in eng.notes[0]
