"""Tests of survlib.wsi.bags: one patient's slides become one bag; mixtures are refused."""

from __future__ import annotations

import numpy as np
import pytest

from survlib import wsi


def test_patient_bag_concatenates_slides_and_refuses_mixtures(small_features):
    _, feats = small_features
    other = wsi.SlideFeatures(
        **{
            **feats.__dict__,
            "slide_id": "second",
            "features": feats.features[:5],
            "coords": feats.coords[:5],
        }
    )
    bag = wsi.patient_bag([feats, other])
    assert bag.patient_id == "P1" and len(bag) == 17 and bag.slide_ids == ("synthetic", "second")
    np.testing.assert_array_equal(bag.slide_index, [0] * 12 + [1] * 5)
    assert len(wsi.patient_bag([feats, other], max_patches=10, seed=0)) == 10
    mixed = wsi.SlideFeatures(**{**other.__dict__, "magnification": 40.0})
    with pytest.raises(ValueError, match="magnification"):
        wsi.patient_bag([feats, mixed])
