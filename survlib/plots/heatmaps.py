"""Slide figures: a heat map of per-patch scores over the thumbnail (:func:`plot_heatmap`) and a
gallery of the highest-scoring patches (:func:`plot_top_patches`).

The scores are put in slide space by :func:`survlib.wsi.score_heatmap` (a computation, in
:mod:`survlib.wsi`); these functions only draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from survlib.wsi import Slide, TileGrid, read_patch

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_heatmap", "plot_top_patches"]


def plot_heatmap(
    thumbnail: np.ndarray,
    heat: np.ndarray,
    *,
    ax: Axes | None = None,
    alpha: float = 0.5,
    cmap: str = "coolwarm",
    title: str | None = None,
    label: str = "score",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Axes:
    """Show ``heat`` (from :func:`survlib.wsi.score_heatmap`) over the thumbnail, red = high,
    blue = low.

    ``vmin``/``vmax`` fix the colour scale (default: the range of the scores).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(thumbnail)
    image = ax.imshow(
        np.ma.masked_invalid(heat),
        cmap=cmap,
        alpha=alpha,
        interpolation="nearest",
        vmin=vmin,
        vmax=vmax,
    )
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=label)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_top_patches(
    slide: Slide,
    grid: TileGrid,
    scores: np.ndarray,
    *,
    k: int = 8,
    ncols: int = 4,
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """A gallery of the ``k`` highest-scoring patches, read at the grid's magnification.

    Args:
        slide, grid: where the patches are.
        scores: ``float[N]`` aligned with ``grid.coords``.
        k: number of patches.
        ncols: gallery columns.
        labels: optional text per patch (``len == N``) shown under the score.
        title: figure title.
    """
    import matplotlib.pyplot as plt

    scores = np.asarray(scores, dtype=np.float64).ravel()
    if len(scores) != len(grid):
        raise ValueError(f"plot_top_patches: {len(scores)} scores for {len(grid)} patches")
    k = min(k, len(scores))
    order = np.argsort(-scores, kind="stable")[:k]
    nrows = max(1, math.ceil(k / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.2 * ncols, 2.4 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, i in zip(axes.ravel(), order, strict=False):
        x, y = grid.coords[i]
        ax.imshow(read_patch(slide, grid, x, y))
        text = f"{scores[i]:.2f}"
        if labels is not None:
            text += f"  {labels[i]}"
        ax.set_title(text, fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
