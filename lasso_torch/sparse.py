"""Sparse designs: the few operations the datafit needs, on torch sparse CSR/CSC tensors.

A sparse ``X`` is never densified: products (``X w``, ``X^T u``, ``X W``) are torch's sparse
kernels (CPU and CUDA), column sums are ``X^T 1``, row scaling multiplies the stored values,
the Gram matrix ``X^T S X`` is a sparse-sparse product (dense only at the end: ``p x p``).
Centering stays implicit (see :mod:`lasso_torch.datafits`). Dense tensors pass through
the same functions unchanged, so callers need not branch.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from torch import Tensor

SPARSE_LAYOUTS = (torch.sparse_csr, torch.sparse_csc, torch.sparse_coo)


def is_sparse(X: Any) -> bool:
    """Whether ``X`` is a torch sparse tensor (CSR, CSC or COO)."""
    return isinstance(X, Tensor) and X.layout in SPARSE_LAYOUTS


def as_csr(X: Tensor) -> Tensor:
    """A sparse ``X`` in CSR layout (row slices and ``X w`` are cheap there)."""
    return X if X.layout == torch.sparse_csr else X.to_sparse_csr()


def from_scipy(A: Any, dtype: torch.dtype, device: torch.device | str) -> Tensor:
    """A scipy.sparse matrix/array as a torch sparse CSR tensor (scipy's index dtype, int32
    or int64: torch takes both, and an int32 copy would cost a pass)."""
    A = A.tocsr()
    A.sort_indices()
    idx = np.result_type(A.indptr, A.indices)
    with warnings.catch_warnings():  # torch's "beta state" notice
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(A.indptr.astype(idx)),
            torch.from_numpy(A.indices.astype(idx)),
            torch.from_numpy(A.data).to(dtype), size=A.shape, check_invariants=True).to(device)


def _coo(X: Tensor) -> Tensor:
    return (X if X.layout == torch.sparse_coo else X.to_sparse_coo()).coalesce()


def _csr(indices: Tensor, values: Tensor, shape: Any) -> Tensor:
    """A CSR tensor from COO indices (as built here: valid, no invariant check)."""
    coo = torch.sparse_coo_tensor(indices, values, shape, check_invariants=False)
    return coo.to_sparse_csr()


def transpose(X: Tensor) -> Tensor:
    """``X^T`` for products ``X^T u``: a CSR copy for a sparse ``X`` (torch's CSC product,
    what ``X.mT`` gives, is ~400x slower on the CPU), a view for a dense one. On the CPU a
    CSR ``X`` is transposed by scipy's CSR -> CSC conversion (measured on 20000 x 50000 with
    7e5 entries: 16 ms, against 120 ms for torch's ``X.mT.to_sparse_csr()``); its arrays are
    the CSC form of ``X`` the compiled sparse kernels read (:func:`csc_arrays`)."""
    if not is_sparse(X):
        return X.mT
    if X.device.type == "cpu" and X.layout == torch.sparse_csr:
        from scipy import sparse as scipy_sparse

        A = scipy_sparse.csr_matrix(
            (X.values().numpy(), X.col_indices().numpy(), X.crow_indices().numpy()),
            shape=tuple(X.shape)).tocsc()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            idx = np.result_type(A.indptr, A.indices)  # int32 kept: no copy (torch takes it)
            return torch.sparse_csr_tensor(
                torch.from_numpy(A.indptr.astype(idx, copy=False)),
                torch.from_numpy(A.indices.astype(idx, copy=False)),
                torch.from_numpy(A.data), size=(X.shape[1], X.shape[0]))
    return X.mT.to_sparse_csr()


def csc_arrays(XT: Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, data)`` of ``X`` in CSC form, read (no copy) from ``XT``, the CSR
    tensor of ``X^T`` (:func:`transpose`) on the CPU."""
    return (XT.crow_indices().numpy(), XT.col_indices().numpy(), XT.values().numpy())


def col_sums(X: Tensor, v: Tensor | None = None, XT: Tensor | None = None) -> Tensor:
    """``X^T v`` (``v`` = ones by default): column sums without densifying (``XT``: the
    transpose already made)."""
    if v is None and not is_sparse(X):
        return X.sum(0)
    if v is None:
        v = torch.ones(X.shape[0], dtype=X.dtype, device=X.device)
    return (transpose(X) if XT is None else XT) @ v


def square(X: Tensor) -> Tensor:
    """``X * X`` elementwise (the same sparsity pattern)."""
    if not is_sparse(X):
        return X * X
    C = _coo(X)
    return _csr(C.indices(), C.values() ** 2, C.shape)


def scale_rows(X: Tensor, s: Tensor) -> Tensor:
    """``diag(s) X`` for ``s (n,)``."""
    if not is_sparse(X):
        return s[:, None] * X
    C = _coo(X)
    vals = C.values() * s[C.indices()[0]]
    return _csr(C.indices(), vals, C.shape)


CENTER_BLOCK = 1 << 22  # entries of X centered at a time by gram(center=...)


def gram(X: Tensor, s: Tensor | None = None, center: Tensor | None = None) -> Tensor:
    """``X^T diag(s) X`` (dense ``p x p``; a sparse-sparse product for a sparse ``X``).

    ``center`` (``(p,)``, dense ``X`` only): the Gram matrix of ``X - center``, centered one
    block of rows at a time before the product. ``X^T X - n xbar xbar^T`` cancels to noise
    when the column means dwarf the spread (``1e7`` offsets: every digit lost)."""
    if center is not None and not is_sparse(X):
        rows = max(1, CENTER_BLOCK // max(X.shape[1], 1))
        G = X.new_zeros(X.shape[1], X.shape[1])
        for i in range(0, X.shape[0], rows):
            B = X[i:i + rows] - center
            G.addmm_(B.mT, B if s is None else s[i:i + rows, None] * B)
        return G
    right = X if s is None else scale_rows(X, s)
    if not is_sparse(X):
        return X.mT @ right
    G = torch.sparse.mm(_coo(X).t().coalesce(), _coo(right))
    return G.to_dense()


def select(X: Tensor, idx: Tensor, dim: int) -> Tensor:
    """``X`` restricted to the rows (``dim=0``) or columns (``dim=1``) ``idx`` (sorted or
    not), renumbered in ``idx``'s order."""
    if not is_sparse(X):
        return X.index_select(dim, idx)
    C = _coo(X)
    ind = C.indices()
    pos = torch.full((X.shape[dim],), -1, dtype=torch.long, device=idx.device)
    pos[idx] = torch.arange(idx.numel(), device=idx.device)
    new = pos[ind[dim]]
    keep = new >= 0
    ind = ind[:, keep].clone()
    ind[dim] = new[keep]
    shape = list(X.shape)
    shape[dim] = idx.numel()
    out = torch.sparse_coo_tensor(ind, C.values()[keep], shape, check_invariants=False).coalesce()
    return out.to_sparse_csr()


def matmul_sub(y: Tensor, X: Tensor, w: Tensor) -> Tensor:
    """``y - X w`` (one BLAS call for a dense ``X``: ``addmv`` / ``addmm``)."""
    if is_sparse(X):
        return y - X @ w
    return torch.addmm(y, X, w, alpha=-1) if w.dim() == 2 else torch.addmv(y, X, w, alpha=-1)
