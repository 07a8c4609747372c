"""Tests of survlib.plots.heatmaps: the heat map and the top-patch gallery draw."""

from __future__ import annotations

from survlib import plots, wsi


def test_heatmap_and_gallery_plots(synthetic, small_features):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid, feats = small_features
    scores = feats.features[:, 0]
    with wsi.Slide(synthetic.path) as slide:
        thumb, ds = slide.thumbnail(32)
        heat = wsi.score_heatmap(scores, grid.coords, grid.size_level0, thumb.shape[:2], ds)
        ax = plots.plot_heatmap(thumb, heat, title="synthetic")
        fig = plots.plot_top_patches(slide, grid, scores, k=4, ncols=4)
    assert len([a for a in fig.axes if a.images]) == 4
    plt.close("all")
    del ax
