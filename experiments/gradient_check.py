"""The gradient-check table of issue 24: implicit gradients of ``lt.solve`` against central
finite differences, per loss and input, at the problems of ``tests/test_implicit.py``
(float64, stable supports, each perturbed solution polished to rounding by Newton on its
support; the test asserts <= 1e-6 relative, this prints the measured errors).

Usage::

    OMP_NUM_THREADS=1 python experiments/gradient_check.py
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("t_implicit", ROOT / "tests" / "test_implicit.py")
T = importlib.util.module_from_spec(spec)
spec.loader.exec_module(T)
INPUTS = ("X", "y", "alpha", "l1_ratio", "sample_weight", "weights")


def errors(loss: str, fit_intercept: bool, full: bool) -> dict[str, float]:
    D = torch.float64
    X, y = T._problem(loss)
    n, p = X.shape
    inp = dict(X=X, y=y, alpha=torch.tensor(0.1 if loss == "squared" else 0.05, dtype=D),
               l1_ratio=torch.tensor(0.8 if full else 1.0, dtype=D),
               sample_weight=torch.linspace(0.5, 1.5, n, dtype=D) if full else None,
               weights=torch.linspace(0.5, 1.5, p, dtype=D) if full else None)
    names = [k for k, v in inp.items() if v is not None and not (
        (k == "y" and loss == "logistic") or (k == "l1_ratio" and not full))]
    g = torch.Generator().manual_seed(1)
    vc, vb = torch.randn(p, generator=g, dtype=D), 1.3
    c0, b0 = T._exact(inp, loss, fit_intercept)
    req = {k: (v.clone().requires_grad_() if k in names else v) for k, v in inp.items()}
    C, B = T.attach(c0, b0, **req, loss=loss, fit_intercept=fit_intercept)
    ((C * vc).sum() + vb * B).backward()
    out = {}
    for k in names:
        d = torch.randn(inp[k].shape, generator=g, dtype=D)
        vals = []
        for sgn in (1, -1):
            c, b = T._exact({**inp, k: inp[k] + sgn * 1e-5 * d}, loss, fit_intercept)
            vals.append(float((c * vc).sum() + vb * b))
        fd = (vals[0] - vals[1]) / 2e-5
        out[k] = abs(float((req[k].grad * d).sum()) - fd) / abs(fd)
    return out


def main() -> None:
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    print("| loss | intercept | weights | " + " | ".join(INPUTS) + " |")
    print("|---|---|---|" + "---|" * len(INPUTS))
    for loss, fi, full in T.CASES:
        e = errors(loss, fi, full)
        cells = [f"{e[k]:.1e}" if k in e else "–" for k in INPUTS]
        print(f"| {loss} | {'yes' if fi else 'no'} | {'yes' if full else 'no'} | "
              + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
