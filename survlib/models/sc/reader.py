"""Reading cells from an AnnData for scSurvival: :class:`CellReader` (log-normalised rows of an
in-memory or *backed* AnnData, so training streams minibatches and memory does not grow with the
number of cells), :func:`csr_to_dense_tensor`, and the one streaming pass of input checks and
per-gene statistics done before training (:func:`_raw_matrix_checks`)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from survlib.data.sc import Expression, check_expression, is_integer_valued, log_normalise

__all__ = ["CellReader", "csr_to_dense_tensor"]


class CellReader:
    """Reads log-normalised expression rows from an AnnData, in memory or backed on disk.

    ``read(idx)`` returns a dense ``float32`` tensor for the requested cells (the rows are
    fetched in sorted order, which is what an HDF5-backed CSR matrix reads fastest, and put
    back in the requested order).  Raw counts are normalised per cell to ``target_sum`` and
    ``log1p``-transformed; the library size is taken over all genes of the row.

    Args:
        adata: the AnnData (``backed="r"`` is fine).
        layer: a layer name, or None for ``X`` (backed objects only support ``X``).
        expression: ``"counts"`` (raw counts, normalised here) or ``"log-normalized"``.
        target_sum: counts per cell after normalisation.
    """

    def __init__(
        self,
        adata: Any,
        layer: str | None = None,
        expression: Expression = "counts",
        target_sum: float = 1e4,
        gene_order: np.ndarray | None = None,
    ) -> None:
        check_expression(expression)
        self.backed = bool(getattr(adata, "isbacked", False))
        if layer is not None:
            if self.backed:
                raise ValueError("a backed AnnData can only be read from X; pass layer=None")
            if layer not in adata.layers:
                raise KeyError(f"layer {layer!r} not in adata.layers {list(adata.layers)}")
            self._matrix = adata.layers[layer]
        else:
            self._matrix = adata.X
        self.expression = expression
        self.target_sum = float(target_sum)
        self.n_cells, self.n_genes = int(adata.n_obs), int(adata.n_vars)
        self.gene_order = gene_order

    def _raw(self, idx: np.ndarray | slice) -> sp.csr_matrix:
        m = self._matrix[idx]
        if sp.issparse(m):
            return sp.csr_matrix(m, dtype=np.float32)
        return sp.csr_matrix(np.asarray(m, dtype=np.float32))

    def _normalise(self, m: sp.csr_matrix) -> sp.csr_matrix:
        """Raw rows -> log-normalised rows (:func:`survlib.data.sc.log_normalise`, float32);
        log-normalised input is returned as it is."""
        if self.expression == "log-normalized":
            return m
        return log_normalise(m, self.target_sum, dtype=np.float32)

    def _finish(self, m: sp.csr_matrix) -> sp.csr_matrix:
        """Normalise and put the genes in the model's order."""
        m = self._normalise(m)
        return m if self.gene_order is None else m[:, self.gene_order]

    def read_csr(self, idx: np.ndarray) -> sp.csr_matrix:
        """Log-normalised rows ``idx`` as a CSR matrix (in the requested order)."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size == 0:
            return sp.csr_matrix((0, self.n_genes), dtype=np.float32)
        order = np.argsort(idx, kind="stable")
        sorted_idx = idx[order]
        uniq, inverse = np.unique(sorted_idx, return_inverse=True)
        m = self._finish(self._raw(uniq))
        back = np.empty_like(order)
        back[order] = np.arange(order.size)
        return m[inverse[back]]

    def read(self, idx: np.ndarray, device: torch.device | str = "cpu") -> Tensor:
        """Log-normalised rows ``idx`` as a dense ``[len(idx), n_genes]`` float32 tensor."""
        m = self.read_csr(idx)
        return csr_to_dense_tensor(m, device)

    def read_slice(self, start: int, stop: int) -> sp.csr_matrix:
        """Log-normalised contiguous rows ``start:stop`` (fast on backed files)."""
        return self._finish(self._raw(slice(start, stop)))  # type: ignore[arg-type]

    def iter_slices(self, chunk_size: int) -> Iterator[tuple[int, int, sp.csr_matrix]]:
        """Contiguous ``(start, stop, rows)`` chunks over all cells, in file order."""
        for start in range(0, self.n_cells, chunk_size):
            stop = min(start + chunk_size, self.n_cells)
            yield start, stop, self.read_slice(start, stop)


def csr_to_dense_tensor(m: sp.csr_matrix, device: torch.device | str = "cpu") -> Tensor:
    """A CSR matrix as a dense float32 tensor on ``device`` (densified on the device)."""
    m = sp.csr_matrix(m, dtype=np.float32)
    if m.nnz == 0:
        return torch.zeros(m.shape, dtype=torch.float32, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        t = torch.sparse_csr_tensor(
            torch.from_numpy(m.indptr.astype(np.int64)),
            torch.from_numpy(m.indices.astype(np.int64)),
            torch.from_numpy(m.data),
            size=m.shape,
            check_invariants=False,
        )
        return t.to(device).to_dense()


def _raw_matrix_checks(
    reader: CellReader, chunk_size: int = 8192
) -> dict[str, np.ndarray | float | bool]:
    """One streaming pass over the matrix: bad values, and per-gene statistics.

    Returns per-gene mean and standard deviation of the log-normalised expression, the
    variance of its non-zero values (to initialise the ZIG-VAE's per-gene variances) and
    whether the raw values look like counts.  Raises ``ValueError`` naming the first
    negative / non-finite entry or empty cell.
    """
    g = reader.n_genes
    s1, s2 = np.zeros(g), np.zeros(g)
    nz_n, nz_s1, nz_s2 = np.zeros(g), np.zeros(g), np.zeros(g)
    integer_like = True
    for start in range(0, reader.n_cells, chunk_size):
        stop = min(start + chunk_size, reader.n_cells)
        raw = reader._raw(slice(start, stop))  # type: ignore[arg-type]
        data = raw.data
        if data.size and not np.isfinite(data).all():
            row = start + int(
                np.searchsorted(raw.indptr, np.flatnonzero(~np.isfinite(data))[0], "right") - 1
            )
            raise ValueError(
                f"expression matrix has NaN or infinite values (first in cell row {row})"
            )
        if data.size and data.min() < 0:
            row = start + int(np.searchsorted(raw.indptr, int(np.argmin(data)), "right") - 1)
            raise ValueError(
                f"expression matrix has negative values (first in cell row {row}); expected raw "
                "counts (or non-negative log-normalised values)"
            )
        if integer_like and data.size and not is_integer_valued(data[:10000]):
            integer_like = False
        totals = np.asarray(raw.sum(axis=1)).ravel()
        if (totals <= 0).any():
            row = start + int(np.flatnonzero(totals <= 0)[0])
            raise ValueError(
                f"cell row {row} has no counts (all-zero expression); filter empty cells first"
            )
        m = reader._normalise(raw)
        s1 += np.asarray(m.sum(axis=0)).ravel()
        s2 += np.asarray(m.multiply(m).sum(axis=0)).ravel()
        nz_n += np.bincount(m.indices, minlength=g)
        nz_s1 += np.bincount(m.indices, weights=m.data, minlength=g)
        nz_s2 += np.bincount(m.indices, weights=m.data.astype(np.float64) ** 2, minlength=g)
    n = reader.n_cells
    mean = s1 / n
    sd = np.sqrt(np.maximum(s2 / n - mean**2, 0.0))
    nz_mean = nz_s1 / np.maximum(nz_n, 1)
    nz_var = np.maximum(nz_s2 / np.maximum(nz_n, 1) - nz_mean**2, 0.0)
    return {"mean": mean, "sd": sd, "nonzero_var": nz_var, "integer_like": integer_like}
