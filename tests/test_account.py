"""The per-coefficient account on constructed traces whose answers are known."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lasso_torch import account


def trace():
    """Five coefficients over records at iterations 0, 10, ..., 70."""
    it = np.arange(8) * 10
    c = np.zeros((8, 5))
    c[:, 0] = [1.0, 0.5, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0]          # zeroed at iteration 30, stays
    c[:, 1] = [0.3, -0.2, 0.1, -0.1, 0.05, -0.05, 0.02, -0.02]  # 7 sign flips, never 0
    c[:, 2] = [0.0, 0.0, 0.1, 0.0, -0.1, 0.0, 0.0, 0.0]         # + 0 -: one flip; 0 from 50
    c[:, 3] = [2.0, 2.0, 1.9, 1.9, 1.9, 1.9, 1.9, 1.9]          # stays positive
    c[:, 4] = [0.0] * 8                                          # 0 from the start
    return it, c


def test_a_constructed_trace():
    it, c = trace()
    acc = account.coefficient_account(it, c, lr=0.1, alpha=0.5,
                                      beta_true=np.array([1.0, 0.0, 0.0, 3.0, 0.0]))
    assert acc["zero_at"] == [30, None, 50, None, 0]
    assert acc["sign_changes"] == [0, 7, 1, 0, 0]
    assert acc["last_oscillation"] == [None, 0.02, 0.1, None, None]
    assert acc["band"] == pytest.approx(0.05)
    assert acc["n_zero"] == 3
    assert acc["support_final_at"] == 70  # coef 1 flips at every record
    # without it: coef 0 is 0 from 30, coef 2 from 50, the others never change sign
    assert account.support_final_at(it, c[:, [0, 2, 3, 4]]) == 50
    # selected {1, 3}, true {0, 3}
    assert acc["precision"] == 0.5 and acc["recall"] == 0.5
    assert acc["n_selected"] == 2 and acc["n_true_selected"] == 1
    assert acc["true_support_at"] is None  # coef 1 is never 0, coef 0 ends at 0
    json.dumps(acc)  # JSON-friendly


def test_true_support_identified_and_undefined_scores():
    it = np.array([1, 2, 5, 9])
    c = np.array([[0.5, 0.1], [0.4, 0.0], [0.3, 0.01], [0.3, 0.0]])
    acc = account.coefficient_account(it, c, beta_true=np.array([1.0, 0.0]))
    assert acc["true_support_at"] == 9 and acc["precision"] == 1.0 and acc["recall"] == 1.0
    assert acc["zero_at"] == [None, 9] and acc["band"] is None
    none = account.coefficient_account(it, np.zeros((4, 2)), beta_true=np.zeros(2))
    assert none["precision"] is None and none["recall"] is None
    assert none["true_support_at"] == 1 and none["support_final_at"] == 1


def test_an_oscillation_in_the_lr_alpha_band():
    """Subgradient descent on 1/2 (w - 0.01)^2 + alpha |w| from w = 1 at lr = 0.1: the
    solution is 0 and the iterate ends up swinging across 0 within 2 lr alpha, forever."""
    lr, alpha, w, ws = 0.1, 0.5, 1.0, []
    for _ in range(200):
        w = w - lr * ((w - 0.01) + alpha * np.sign(w))
        ws.append(w)
    acc = account.coefficient_account(np.arange(1, 201), np.array(ws)[:, None], lr, alpha)
    assert acc["zero_at"] == [None] and acc["sign_changes"][0] > 50
    assert 0 < acc["last_oscillation"][0] <= 2 * acc["band"]


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="shapes"):
        account.coefficient_account(np.arange(3), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="increasing"):
        account.coefficient_account(np.array([0, 2, 1]), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="beta_true"):
        account.coefficient_account(np.arange(3), np.zeros((3, 2)), beta_true=np.zeros(3))


@given(st.lists(st.sampled_from([-2.0, -1.0, 0.0, 1.0, 3.0]), min_size=1, max_size=30))
def test_laws_against_a_plain_loop(values):
    """sign_changes and zero_at equal a direct loop over the sequence, for any sequence."""
    c = np.array(values)[:, None]
    it = np.arange(len(values)) * 3
    flips, last = 0, 0.0
    for v in values:
        s = np.sign(v)
        if s != 0:
            flips += int(last != 0 and s != last)
            last = s
    k = len(values)
    while k > 0 and values[k - 1] == 0.0:
        k -= 1
    acc = account.coefficient_account(it, c)
    assert acc["sign_changes"] == [flips]
    assert acc["zero_at"] == [None if k == len(values) else int(it[k])]
    assert acc["support_final_at"] <= it[-1]
