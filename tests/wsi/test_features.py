"""Tests of survlib.wsi.features: the HDF5 feature file round trip, and CLAM-style files (metadata
given by the caller, then used as a precomputed encoder)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from survlib import wsi


def test_feature_file_round_trip(tmp_path, small_features):
    _, feats = small_features
    path = wsi.write_features(tmp_path / "slide.h5", feats)
    back = wsi.read_features(path)
    np.testing.assert_array_equal(back.features, feats.features)
    np.testing.assert_array_equal(back.coords, feats.coords)
    for key in (
        "slide_id",
        "patient_id",
        "encoder",
        "encoder_version",
        "magnification",
        "base_magnification",
        "patch_size",
        "level",
        "size_level0",
        "mpp",
        "feature_names",
    ):
        assert getattr(back, key) == getattr(feats, key), key
    assert (
        back.encoder == "handcrafted-hed" and back.magnification == 20 and back.size_level0 == 256
    )
    with h5py.File(path) as h5:  # CLAM readers find what they expect
        assert h5["coords"].attrs["patch_level"] == 0 and h5["coords"].attrs["patch_size"] == 256


def test_clam_style_file_needs_metadata_then_works_as_precomputed_encoder(
    tmp_path, synthetic, small_features
):
    grid, feats = small_features
    path = tmp_path / "clam.h5"
    with h5py.File(path, "w") as h5:
        h5["features"] = feats.features
        h5["coords"] = feats.coords
        h5["coords"].attrs["patch_level"] = 0
        h5["coords"].attrs["patch_size"] = 256
    with pytest.raises(wsi.FeatureFileError, match="encoder"):
        wsi.read_features(path)
    pre = wsi.read_features(
        path, encoder="uni", encoder_version="v1", magnification=20.0, patch_size=128
    )
    assert pre.size_level0 == 256 and pre.slide_id == "clam"
    enc = wsi.PrecomputedEncoder(pre)
    with wsi.Slide(synthetic.path) as slide:
        again = wsi.extract_features(slide, grid, enc, progress=False)
        np.testing.assert_array_equal(again.features, feats.features)
        more = wsi.tile_grid(slide, magnification=20, patch_size=128)
        with pytest.raises(wsi.FeatureFileError, match="no patch"):
            wsi.extract_features(slide, more, enc, progress=False)
    with pytest.raises(wsi.FeatureFileError, match="not found"):
        wsi.read_features(tmp_path / "none.h5")
