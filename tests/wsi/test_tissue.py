"""Tests of survlib.wsi.tissue against the planted region layout of a synthetic slide."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from survlib import wsi
from survlib.data.slides import REGION_NAMES


def test_tissue_mask_matches_planted_truth(synthetic):
    with wsi.Slide(synthetic.path) as slide:
        mask = wsi.tissue_mask(slide, downsample=16)
    truth = synthetic.truth.resample(mask.mask.shape, mask.downsample)
    assert wsi.mask_iou(mask.mask, np.isin(truth, (1, 2, 3, 4))) >= 0.9
    # Away from their edges (a mixed pixel can go either way), pen marks and glass are not tissue.
    pen_core = ndimage.binary_erosion(truth == REGION_NAMES.index("pen"))
    glass_core = ndimage.binary_erosion(truth == 0)
    assert pen_core.sum() > 20 and mask.mask[pen_core].mean() < 0.01
    assert mask.mask[glass_core].mean() < 0.01
