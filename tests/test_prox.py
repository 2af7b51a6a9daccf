"""Laws of soft-thresholding and the elastic-net prox, for all inputs (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lasso_torch.prox import enet_prox, soft_threshold

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
thresholds = st.floats(0, 1e3, allow_nan=False)
vectors = arrays(np.float64, st.integers(1, 40), elements=finite)
SETTINGS = settings(max_examples=200, deadline=None)


@SETTINGS
@given(vectors, thresholds)
def test_odd(z, t):
    z = torch.from_numpy(z)
    assert torch.equal(soft_threshold(-z, t), -soft_threshold(z, t))


@SETTINGS
@given(vectors, vectors, thresholds)
def test_non_expansive(a, b, t):
    m = min(len(a), len(b))
    a, b = torch.from_numpy(a[:m]), torch.from_numpy(b[:m])
    lhs = (soft_threshold(a, t) - soft_threshold(b, t)).abs()
    # exact in real arithmetic; in floats each of z -/+ t is rounded once (one ulp each)
    ulp = 2 * torch.finfo(a.dtype).eps * torch.maximum(a.abs(), b.abs())
    assert bool((lhs <= (a - b).abs() + ulp).all())


@SETTINGS
@given(vectors, thresholds)
def test_exactly_zero_on_the_zero_zone_and_only_there(z, t):
    z = torch.from_numpy(z)
    s = soft_threshold(z, t)
    np.testing.assert_array_equal((s == 0.0).numpy(), (z.abs() <= t).numpy())
    assert not bool(torch.signbit(s[s == 0]).any())  # +0.0, never -0.0


@SETTINGS
@given(vectors, thresholds)
def test_prox_optimality(z, t):
    """z - S(z, t) lies in t * d|.|(S(z, t)): equals t*sign(S) off zero, in [-t, t] at zero."""
    z = torch.from_numpy(z)
    s = soft_threshold(z, t)
    d = z - s
    on = s != 0
    ulp = 4 * torch.finfo(z.dtype).eps * z.abs()
    assert bool(((d[on] - t * torch.sign(s[on])).abs() <= ulp[on]).all())
    assert bool((d[~on].abs() <= t).all())


@SETTINGS
@given(vectors, st.floats(0.01, 10), st.floats(0.01, 10), st.floats(0, 1))
def test_enet_prox_minimizes_its_objective(z, step, alpha, l1_ratio):
    """No perturbation of the prox point lowers |w - z|^2/(2 step) + penalty(w)."""
    z = torch.from_numpy(z)
    w = enet_prox(z, step, alpha, l1_ratio)

    def obj(v):
        pen = alpha * (l1_ratio * v.abs() + (1 - l1_ratio) / 2 * v * v)
        return (v - z) ** 2 / (2 * step) + pen

    base = obj(w)
    for h in (1e-3, -1e-3):
        assert bool((obj(w + h) >= base - 1e-9 * (1 + base.abs())).all())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_any_float_dtype_any_shape_and_broadcast_threshold(dtype):
    z = torch.linspace(-3, 3, 24, dtype=dtype).reshape(2, 3, 4)
    t = torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=dtype)  # broadcasts over the last axis
    s = soft_threshold(z, t)
    assert s.dtype == dtype and s.shape == z.shape
    expected = torch.sign(z) * torch.clamp(z.abs() - t, min=0)
    torch.testing.assert_close(s, expected)
    assert bool((s[..., 3] == 0).all())  # |z| <= 3 < 4


def test_elastic_net_prox_special_cases():
    z = torch.tensor([-3.0, -0.5, 0.0, 0.5, 3.0], dtype=torch.float64)
    torch.testing.assert_close(enet_prox(z, 1.0, 1.0, 1.0), soft_threshold(z, 1.0))
    torch.testing.assert_close(enet_prox(z, 1.0, 1.0, 0.0), z / 2)  # ridge shrinkage
    torch.testing.assert_close(enet_prox(z, 0.5, 2.0, 0.5), soft_threshold(z, 0.5) / 1.5)
