"""Tests of the synthetic slide writer (survlib.data.slides): an Aperio slide OpenSlide reads,
deterministic given its seed, with every planted region and its saved label mask."""

from __future__ import annotations

import numpy as np
import openslide
import pytest

from survlib.data.slides import REGION_NAMES, read_label_mask, write_synthetic_slide


def test_synthetic_slide_is_an_aperio_slide_openslide_reads(synthetic):
    osr = openslide.OpenSlide(str(synthetic.path))
    try:
        assert osr.properties["openslide.vendor"] == "aperio"
        assert float(osr.properties["openslide.objective-power"]) == 40
        assert float(osr.properties["openslide.mpp-x"]) == pytest.approx(0.25)
        assert float(osr.properties["openslide.mpp-y"]) == pytest.approx(0.25)
        assert osr.level_count == 3
        assert osr.level_downsamples == pytest.approx((1.0, 4.0, 16.0))
        assert osr.level_dimensions == ((2048, 2048), (512, 512), (128, 128))
        assert "simulated" in osr.properties["aperio.Title"]
    finally:
        osr.close()
    assert synthetic.path.stat().st_size < 2_000_000  # a few MB at most


def test_synthetic_slide_is_deterministic_and_has_every_region(synthetic, tmp_path):
    again = write_synthetic_slide(
        tmp_path / "again.tif",
        seed=3,
        width=synthetic.dimensions[0],
        height=synthetic.dimensions[1],
    )
    np.testing.assert_array_equal(again.truth.labels, synthetic.truth.labels)
    a, b = openslide.OpenSlide(str(synthetic.path)), openslide.OpenSlide(str(again.path))
    try:
        np.testing.assert_array_equal(
            np.asarray(a.read_region((600, 700), 0, (300, 300))),
            np.asarray(b.read_region((600, 700), 0, (300, 300))),
        )
    finally:
        a.close()
        b.close()
    present = set(np.unique(synthetic.truth.labels))
    assert present == set(range(len(REGION_NAMES)))  # background, 4 tissues, pen
    saved = read_label_mask(synthetic.labels_path)
    np.testing.assert_array_equal(saved.labels, synthetic.truth.labels)
    assert saved.downsample == synthetic.truth.downsample and saved.names == REGION_NAMES


def test_synthetic_slide_seed_changes_layout(tmp_path):
    a = write_synthetic_slide(tmp_path / "a.tif", seed=0, width=512, height=512)
    b = write_synthetic_slide(tmp_path / "b.tif", seed=1, width=512, height=512)
    assert not np.array_equal(a.truth.labels, b.truth.labels)


def test_synthetic_slide_rejects_bad_sizes(tmp_path):
    with pytest.raises(ValueError, match="multiples"):
        write_synthetic_slide(tmp_path / "x.tif", width=1000, height=1024)
