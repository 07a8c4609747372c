"""Tests of survlib.wsi.encoders: the handcrafted encoder is deterministic and tells tumour from
stroma on a synthetic slide; a foundation encoder that cannot load says how to get it."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from survlib import wsi


def test_handcrafted_encoder_is_deterministic_and_documented(synthetic, small_features):
    grid, feats = small_features
    enc = wsi.HandcraftedEncoder()
    assert isinstance(enc, wsi.PatchEncoder)
    assert feats.features.shape == (12, enc.dim) and len(enc.feature_names) == enc.dim
    assert np.isfinite(feats.features).all()
    with wsi.Slide(synthetic.path) as slide:
        image = wsi.read_patch(slide, grid, *grid.coords[0])
    np.testing.assert_array_equal(enc.encode_patch(image), feats.features[0])


def test_handcrafted_features_tell_tumour_from_stroma(synthetic):
    """Tumour patches are richer in haematoxylin; stroma patches are more oriented (fibres)."""
    with wsi.Slide(synthetic.path) as slide:
        grid = wsi.tile_grid(slide, magnification=20, patch_size=128)
        labels, purity = synthetic.truth.majority(grid.coords, grid.size_level0)
        enc = wsi.HandcraftedEncoder()
        pick = {}
        for region in (1, 2):
            idx = np.flatnonzero((labels == region) & (purity > 0.9))[:3]
            pick[region] = np.stack(
                [enc.encode_patch(wsi.read_patch(slide, grid, *grid.coords[i])) for i in idx]
            )
    names = enc.feature_names
    h = names.index("nuclear_fraction")
    coh = names.index("orientation_coherence")
    assert pick[1][:, h].min() > pick[2][:, h].max()
    assert pick[2][:, coh].min() > pick[1][:, coh].max()


@pytest.mark.skipif(importlib.util.find_spec("timm") is not None, reason="timm is installed here")
def test_foundation_encoder_without_timm_says_how_to_get_it():
    with pytest.raises(wsi.EncoderUnavailableError, match="pip install timm"):
        wsi.get_encoder("uni")
    with pytest.raises(ValueError, match="unknown encoder"):
        wsi.get_encoder("resnet")
