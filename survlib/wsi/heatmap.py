"""Per-patch scores back in slide space: :func:`score_heatmap` paints them onto a thumbnail grid.

A computation (numpy, no matplotlib): the inverse of tiling, from level-0 patch coordinates to
thumbnail pixels. Drawing the result over the thumbnail is :func:`survlib.plots.plot_heatmap`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["score_heatmap"]


def score_heatmap(
    scores: np.ndarray,
    coords: np.ndarray,
    size_level0: int,
    shape: tuple[int, int],
    downsample: tuple[float, float],
) -> np.ndarray:
    """Paint per-patch scores onto a thumbnail-sized grid.

    Each patch covers ``[x, x+s) x [y, y+s)`` at level 0, i.e. thumbnail pixels
    ``[x/dx, (x+s)/dx) x [y/dy, (y+s)/dy)``; overlapping patches are averaged and pixels under
    no patch are NaN (shown transparent).

    Args:
        scores: ``float[N]`` (attention, risk, a class probability...).
        coords: ``int[N, 2]`` level-0 ``(x, y)``.
        size_level0: patch footprint at level 0.
        shape: ``(h, w)`` of the thumbnail.
        downsample: level-0 pixels per thumbnail pixel ``(x, y)``.

    Returns:
        ``float[h, w]``.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    coords = np.asarray(coords).reshape(-1, 2)
    if len(scores) != len(coords):
        raise ValueError(f"score_heatmap: {len(scores)} scores for {len(coords)} patches")
    h, w = shape
    total = np.zeros((h, w))
    count = np.zeros((h, w))
    dsx, dsy = downsample
    for s, (x, y) in zip(scores, coords, strict=True):
        x0, y0 = int(np.floor(x / dsx)), int(np.floor(y / dsy))
        x1 = max(x0 + 1, int(np.ceil((x + size_level0) / dsx)))
        y1 = max(y0 + 1, int(np.ceil((y + size_level0) / dsy)))
        total[y0:y1, x0:x1] += s
        count[y0:y1, x0:x1] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)
