"""Tests of survlib.wsi.heatmap: per-patch scores land on their thumbnail pixels."""

from __future__ import annotations

import numpy as np

from survlib import wsi


def test_score_heatmap_places_scores_at_their_coordinates():
    heat = wsi.score_heatmap(
        [1.0, 3.0], np.array([[512, 0], [0, 512]]), 512, (64, 64), (32.0, 32.0)
    )
    assert np.all(heat[0:16, 16:32] == 1.0) and np.all(heat[16:32, 0:16] == 3.0)
    assert np.isnan(heat[0:16, 0:16]).all() and np.isnan(heat[40:, 40:]).all()
