"""Figures and tables the chapters share: KM curves with log-rank p, metric curves, result tables,
slide heat maps and patch galleries.

Plotting functions take an optional ``ax`` and return it, so a notebook can lay several out on one
figure; they never call ``plt.show()``.

Modules (import the names from here, ``from survlib.plots import plot_km``):

- :mod:`survlib.plots.curves`    :func:`plot_km`, :func:`plot_metric_over_time`, :data:`PALETTE`
- :mod:`survlib.plots.tables`    :func:`results_table`
- :mod:`survlib.plots.heatmaps`  :func:`plot_heatmap`, :func:`plot_top_patches` (slides; the
  scores are put on the thumbnail by :func:`survlib.wsi.score_heatmap`)
"""

from survlib.plots.curves import PALETTE, plot_km, plot_metric_over_time
from survlib.plots.heatmaps import plot_heatmap, plot_top_patches
from survlib.plots.tables import results_table

__all__ = [
    "PALETTE",
    "plot_heatmap",
    "plot_km",
    "plot_metric_over_time",
    "plot_top_patches",
    "results_table",
]
