r"""Means over each cell's :math:`k` nearest neighbours in a low-dimensional embedding
(:func:`knn_mean`), exact or approximate, and the neighbour tables behind them
(:func:`knn_indices`).

The smoothing of scSurvival's risk-cell rule averages a per-cell score over each cell's
:math:`k` nearest neighbours (Euclidean, the cell itself included) in the 32-d ZIG-VAE
embedding: :math:`\tilde v_i = \frac1k \sum_{j \in N_k(i)} v_j`.

- ``method="exact"``: scikit-learn's :class:`~sklearn.neighbors.NearestNeighbors` over all
  cells.  Its cost grows with the square of the number of cells (on a 2-core CPU about half
  a minute at 10^5 cells, an hour at 10^6).
- ``method="approximate"``: a partitioned search in torch (:func:`_tree_leaves`,
  :func:`_search_leaves`).  The cells are split recursively at the median of their principal
  axis into :math:`2^D` balanced leaves of at most ``leaf_size`` cells (a PCA tree); each
  leaf's cells are compared, by one batched matrix product, with the cells of the
  ``n_probe`` leaves whose centroids are nearest to their leaf's centroid (itself
  included), and keep their :math:`k` nearest.  The work per cell is fixed
  (``n_probe x leaf_size`` distances), so the cost grows linearly with the cells (the tree
  adds a logarithmic factor: one median split per level).  A cell's
  true neighbours outside the probed leaves are missed (they are replaced by the next
  nearest cells among the probed ones).  On simulated clustered 32-d embeddings the defaults
  (``leaf_size=64``, ``n_probe=24``) found 88 % of the true neighbours at 10^5 cells and 72 %
  at 10^6, and the means correlated at 0.996-0.997 with the exact ones, against 0.990 for
  the earlier exact search among 50 000 random reference cells
  (``benchmarks/bench_neighbours.py``; tested at 2 x 10^4 cells in
  ``tests/explain/test_neighbours.py``: recall >= 0.9, correlation >= 0.99).
- ``method="auto"`` (default): exact up to :data:`EXACT_MAX_CELLS` cells, approximate beyond.

Both are deterministic: the approximate search has no random step (same input, same torch
thread count, same result).  pynndescent (installed with umap-learn) was measured as the
library alternative: its graph is nearly exact, but at 10^5 cells on a 2-core CPU building it
took longer than the whole approximate search, plus about 40 s of numba compilation per
process, and its build grows faster than linearly with the cells.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Literal

import numpy as np
import torch
from torch import Tensor

__all__ = ["EXACT_MAX_CELLS", "knn_indices", "knn_mean"]

#: ``method="auto"`` searches exactly up to this many cells, approximately beyond.
EXACT_MAX_CELLS = 20_000

Method = Literal["auto", "exact", "approximate"]


def _check_inputs(
    embedding: np.ndarray, values: np.ndarray | None, k: int, method: str
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Validated ``(embedding float32 [n, d], values float64 [n] or None, k)``."""
    if method not in ("auto", "exact", "approximate"):
        raise ValueError(f"method must be 'auto', 'exact' or 'approximate', got {method!r}")
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    x = np.asarray(embedding, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"embedding must be a non-empty 2-d array (cells x dims), got {x.shape}")
    if not np.isfinite(x).all():
        bad = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
        raise ValueError(f"embedding holds NaN or infinite values (first in row {bad})")
    v = None
    if values is not None:
        v = np.asarray(values, dtype=np.float64)
        if v.shape != (x.shape[0],):
            raise ValueError(
                f"values must have one entry per embedding row ({x.shape[0]}), got shape {v.shape}"
            )
        if not np.isfinite(v).all():
            bad = int(np.flatnonzero(~np.isfinite(v))[0])
            raise ValueError(f"values hold NaN or infinite values (first at {bad})")
    return x, v, int(min(int(k), x.shape[0]))


def _use_exact(n: int, method: str) -> bool:
    return method == "exact" or (method == "auto" and n <= EXACT_MAX_CELLS)


def knn_mean(
    embedding: np.ndarray,
    values: np.ndarray,
    k: int = 30,
    method: Method = "auto",
    leaf_size: int = 64,
    n_probe: int = 24,
    chunk: int = 50_000,
) -> np.ndarray:
    r"""Mean of ``values`` over each cell's ``k`` nearest neighbours in ``embedding``
    (Euclidean, the cell itself included): :math:`\tilde v_i = \frac1k\sum_{j\in N_k(i)} v_j`.

    Args:
        embedding: ``[n_cells, n_dims]`` coordinates (float32 is used).
        values: ``[n_cells]`` values to average.
        k: neighbours per cell (at most ``n_cells`` are used).
        method: ``"exact"`` (scikit-learn), ``"approximate"`` (the partitioned search of the
            module docstring) or ``"auto"``: exact up to :data:`EXACT_MAX_CELLS` cells.
        leaf_size, n_probe: the approximate search's leaves (at most ``leaf_size`` cells) and
            how many leaves each leaf's cells are compared with (more: slower, closer to
            exact).
        chunk: query cells per block of the exact search.

    Returns:
        float64 ``[n_cells]``.

    Raises:
        ValueError: ``k < 1``, ``values`` not of one entry per row, NaN or infinity in either
            input, an unknown ``method``, ``leaf_size < 2``, ``n_probe < 1`` or ``chunk < 1``.

    Example:
        >>> import numpy as np
        >>> x = np.array([[0.0], [0.1], [5.0], [5.1]])
        >>> knn_mean(x, np.array([1.0, 3.0, 10.0, 20.0]), k=2)
        array([ 2.,  2., 15., 15.])
    """
    x, v, k = _check_inputs(embedding, values, k, method)
    assert v is not None
    out = np.empty(x.shape[0], dtype=np.float64)
    for rows, neighbours in _neighbour_blocks(x, k, method, leaf_size, n_probe, chunk):
        out[rows] = v[neighbours].mean(axis=1)
    return out


def knn_indices(
    embedding: np.ndarray,
    k: int = 30,
    method: Method = "auto",
    leaf_size: int = 64,
    n_probe: int = 24,
    chunk: int = 50_000,
) -> np.ndarray:
    """Each cell's ``k`` nearest neighbours (row positions, the cell itself included) as an
    int64 ``[n_cells, k]`` table; the arguments are those of :func:`knn_mean`.  The exact
    table is in order of distance; the approximate one in no particular order."""
    x, _, k = _check_inputs(embedding, None, k, method)
    out = np.empty((x.shape[0], k), dtype=np.int64)
    for rows, neighbours in _neighbour_blocks(x, k, method, leaf_size, n_probe, chunk):
        out[rows] = neighbours
    return out


def _neighbour_blocks(
    x: np.ndarray, k: int, method: str, leaf_size: int, n_probe: int, chunk: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(rows, neighbours [len(rows), k])`` blocks covering every cell once."""
    if int(leaf_size) < 2:
        raise ValueError(f"leaf_size must be >= 2, got {leaf_size}")
    if int(n_probe) < 1:
        raise ValueError(f"n_probe must be >= 1, got {n_probe}")
    if int(chunk) < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    if _use_exact(x.shape[0], method):
        from sklearn.neighbors import NearestNeighbors

        nn = NearestNeighbors(n_neighbors=k).fit(x)
        for start in range(0, x.shape[0], int(chunk)):
            rows = np.arange(start, min(start + int(chunk), x.shape[0]))
            yield rows, nn.kneighbors(x[rows], return_distance=False)
        return
    centred = torch.from_numpy(x - x.mean(axis=0, dtype=np.float64).astype(np.float32))
    leaves = _tree_leaves(centred, int(leaf_size))
    yield from _search_leaves(leaves, k, int(n_probe))


class _Leaves:
    """The leaves of a balanced PCA tree, padded to equal size.

    Attributes:
        points: ``[n_leaves, size, d]`` coordinates (padding rows copy real cells).
        ids: ``[n_leaves, size]`` row of each point in the input, -1 for padding.
        sq_norms: ``[n_leaves, size]`` squared norms, infinite for padding (never a neighbour).
        centroids: ``[n_leaves, d]`` mean of each leaf's real cells.
    """

    def __init__(self, points: Tensor, ids: Tensor) -> None:
        self.points, self.ids = points, ids
        real = ids >= 0
        self.sq_norms = (points * points).sum(-1).masked_fill(~real, float("inf"))
        weight = real.unsqueeze(-1).to(points.dtype)
        self.centroids = (points * weight).sum(1) / weight.sum(1).clamp_min(1.0)


#: Cells per group from which the tree estimates a group's principal axis.
_AXIS_SAMPLE = 256


def _principal_axes(points: Tensor, n_iter: int = 12) -> Tensor:
    """``[groups, d]``: the principal axis of each group of ``points [groups, m, d]``, by power
    iteration on the covariance of an evenly strided sample of :data:`_AXIS_SAMPLE` of its
    cells, started from the coordinate axis of largest variance."""
    sample = points[:, :: max(1, points.shape[1] // _AXIS_SAMPLE)]
    centred = sample - sample.mean(1, keepdim=True)
    cov = torch.bmm(centred.transpose(1, 2), centred)  # [groups, d, d]
    diag = torch.diagonal(cov, dim1=1, dim2=2)
    axis = torch.nn.functional.one_hot(diag.argmax(1), cov.shape[-1]).to(cov.dtype)
    for _ in range(n_iter):
        axis = torch.bmm(cov, axis.unsqueeze(-1)).squeeze(-1)
        axis = axis / axis.norm(dim=1, keepdim=True).clamp_min(1e-30)
    return axis


def _tree_leaves(x: Tensor, leaf_size: int) -> _Leaves:
    """Split the cells recursively at the median of their principal axis into :math:`2^D`
    leaves of equal size (at most ``leaf_size``, :math:`D` the smallest depth that allows it).

    The cells are padded to :math:`2^D \\times` size with copies of evenly spaced cells (fewer
    than :math:`2^D`, marked -1 in ``ids``) so that every level is one batched operation: the
    groups' principal axes (:func:`_principal_axes`), the projections on them (``bmm``), a
    median split by a stable ``argsort`` of the projections, and one row gather.
    """
    n, d = x.shape
    depth = max(0, math.ceil(math.log2(n / leaf_size)))
    n_leaves = 1 << depth
    size = math.ceil(n / n_leaves)
    n_pad = size * n_leaves - n
    copies = torch.linspace(0, n - 1, n_pad).round().long() if n_pad else torch.zeros(0).long()
    points = torch.cat([x, x[copies]])
    ids = torch.cat([torch.arange(n), torch.full((n_pad,), -1, dtype=torch.long)])
    for level in range(depth):
        groups = 1 << level
        p = points.view(groups, -1, d)
        proj = torch.bmm(p, _principal_axes(p).unsqueeze(-1)).squeeze(-1)  # [groups, m]
        order = torch.argsort(proj, dim=1, stable=True)
        order += torch.arange(0, points.shape[0], p.shape[1]).unsqueeze(1)
        flat = order.reshape(-1)
        points, ids = points.index_select(0, flat), ids.index_select(0, flat)
    return _Leaves(points.view(n_leaves, size, d), ids.view(n_leaves, size))


#: Up to this many leaves, the leaves' probe lists come from an exact search of the centroids.
_EXACT_PROBE_LEAVES = 4096


def _probe_lists(centroids: Tensor, n_probe: int, chunk: int = 1024) -> Tensor:
    """``[n_leaves, n_probe]``: the leaves with the centroids nearest to each leaf's (itself
    first): exact up to :data:`_EXACT_PROBE_LEAVES` leaves, beyond by the approximate search
    itself on the centroids."""
    n = centroids.shape[0]
    out = torch.empty(n, n_probe, dtype=torch.long)
    if n > _EXACT_PROBE_LEAVES:
        tree = _tree_leaves(centroids, 64)
        for rows, found in _search_leaves(tree, n_probe, 24):
            out[torch.from_numpy(rows)] = torch.from_numpy(found)
        return out
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        dist = torch.cdist(centroids[start:stop], centroids)
        dist[torch.arange(stop - start), torch.arange(start, stop)] = -1.0
        out[start:stop] = torch.topk(dist, n_probe, dim=1, largest=False, sorted=True).indices
    return out


def _search_leaves(
    leaves: _Leaves, k: int, n_probe: int, block_entries: int = 1 << 22
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """For each leaf, its cells' ``k`` nearest among the cells of its probe list
    (:func:`_probe_lists`): blocks of leaves, one ``baddbmm`` of squared distances each (up to
    the queries' own squared norms, which do not change their order), then ``topk``.

    ``n_probe`` is raised when needed so that every cell has at least ``k`` real candidates,
    and capped at the number of leaves (one leaf: the exact search)."""
    n_leaves, size, d = leaves.points.shape
    n_probe = min(n_leaves, max(n_probe, math.ceil(k / max(size - 1, 1)) + 1))
    probe = _probe_lists(leaves.centroids, n_probe)
    width = n_probe * size
    per_block = max(1, block_entries // (size * width))
    for start in range(0, n_leaves, per_block):
        block = torch.arange(start, min(start + per_block, n_leaves))
        chosen = probe[block]
        cand = leaves.points[chosen].reshape(block.numel(), width, d)
        cand_ids = leaves.ids[chosen].reshape(block.numel(), width)
        sq = leaves.sq_norms[chosen].reshape(block.numel(), 1, width)
        dist = torch.baddbmm(sq, leaves.points[block], cand.transpose(1, 2), alpha=-2.0)
        nearest = torch.topk(dist, k, dim=2, largest=False, sorted=False).indices
        found = torch.gather(cand_ids.unsqueeze(1).expand(-1, size, -1), 2, nearest)
        rows = leaves.ids[block]
        real = rows >= 0
        yield rows[real].numpy(), found[real].numpy()
