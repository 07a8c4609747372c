"""What a single-cell expression matrix holds, decided and transformed in one place.

One vocabulary for every single-cell function (``expression=``): ``"counts"`` (raw counts,
non-negative integers) or ``"log-normalized"`` (:math:`\\log(1 + s\\,x_{cg} / \\sum_{g'}
x_{cg'})`, scanpy's ``normalize_total`` + ``log1p``), plus ``"auto"`` where a caller wants
:func:`detect_expression` to decide. One detector (:func:`detect_expression`, built on
:func:`is_integer_valued`) and one log-normalisation (:func:`log_normalise`), used by the
cohort checks, :class:`~survlib.models.sc.CellReader` and the pseudobulk baseline alike.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

__all__ = [
    "EXPRESSIONS",
    "Expression",
    "check_expression",
    "detect_expression",
    "is_integer_valued",
    "log_normalise",
    "matrix_values",
]

Expression = Literal["counts", "log-normalized"]
#: The values of ``expression=`` (``"auto"`` too where a function says so).
EXPRESSIONS: tuple[str, ...] = ("counts", "log-normalized")


def check_expression(expression: Any, allow_auto: bool = False) -> str:
    """Return ``expression`` if it is ``"counts"`` or ``"log-normalized"`` (or ``"auto"`` with
    ``allow_auto``); raise ``ValueError`` naming the allowed values otherwise."""
    allowed = EXPRESSIONS + (("auto",) if allow_auto else ())
    if expression not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"expression must be one of {choices}, got {expression!r}")
    return str(expression)


def log_normalise(m: Any, target_sum: float = 1e4, dtype: Any = np.float32) -> sp.csr_matrix:
    r"""Per-cell log-normalisation of a block of cells (rows) x genes.

    .. math:: y_{cg} = \log\!\Big(1 + \frac{s\,x_{cg}}{\sum_{g'} x_{cg'}}\Big)

    with :math:`s` = ``target_sum`` (scanpy's ``normalize_total(target_sum=s)`` then ``log1p``);
    the library size is taken over all genes of the row, and an all-zero row stays zero.

    Args:
        m: the block: a scipy sparse matrix or a dense array (not modified).
        target_sum: counts per cell after normalisation.
        dtype: the arithmetic and output type (``float32`` for the model's cell reader,
            ``float64`` for the pseudobulk means).

    Returns:
        A new CSR matrix of ``dtype``.
    """
    m = sp.csr_matrix(m, dtype=dtype, copy=True)
    totals = np.asarray(m.sum(axis=1)).ravel()
    scale = np.where(totals > 0, target_sum / np.maximum(totals, 1e-12), 0.0)
    m.data *= np.repeat(scale, np.diff(m.indptr)).astype(dtype)
    np.log1p(m.data, out=m.data)
    return m


def matrix_values(adata: Any, layer: str | None = None, max_cells: int = 2000) -> np.ndarray:
    """The values stored for the first ``max_cells`` cells of ``X`` (or ``layers[layer]``):
    the non-zeros of a sparse matrix, every entry of a dense one (backed AnnData is fine)."""
    m = adata.X if layer is None else adata.layers[layer]
    n = min(adata.n_obs, max_cells)
    block = m[:n] if n < adata.n_obs or not (sp.issparse(m) or isinstance(m, np.ndarray)) else m
    if sp.issparse(block):
        return np.asarray(block.data)
    return np.asarray(block.toarray() if hasattr(block, "toarray") else block).ravel()


def is_integer_valued(values: np.ndarray) -> bool:
    """True when every value is a whole number (as raw counts are)."""
    values = np.asarray(values)
    return bool(np.all(values == np.round(values)))


def detect_expression(adata: Any, layer: str | None = None, max_cells: int = 2000) -> Expression:
    """``"counts"`` when the first ``max_cells`` cells hold non-negative whole numbers (and at
    least one stored value), else ``"log-normalized"``."""
    vals = matrix_values(adata, layer, max_cells)
    counts = bool(vals.size and np.all(vals >= 0) and is_integer_valued(vals))
    return "counts" if counts else "log-normalized"
