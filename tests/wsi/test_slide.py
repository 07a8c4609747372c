"""Tests of survlib.wsi.slide: missing, corrupt and truncated slides raise clear errors; the base
magnification comes from the file's metadata or the caller."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from survlib import wsi


def test_missing_corrupt_and_unsupported_slides_raise_clear_errors(synthetic, tmp_path):
    missing = tmp_path / "nope.svs"
    with pytest.raises(wsi.SlideError, match="not found") as info:
        wsi.Slide(missing)
    assert info.value.path == missing and str(missing) in str(info.value)

    garbage = tmp_path / "garbage.svs"
    garbage.write_bytes(b"this is not a slide" * 100)
    with pytest.raises(wsi.SlideError, match="garbage.svs"):
        wsi.Slide(garbage)

    truncated = tmp_path / "truncated.tif"
    data = synthetic.path.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(wsi.SlideError, match="truncated.tif"):
        wsi.Slide(truncated)


def test_truncated_near_the_end_is_caught_when_opening(synthetic, tmp_path):
    truncated = tmp_path / "cut.tif"
    data = synthetic.path.read_bytes()
    truncated.write_bytes(data[: int(len(data) * 0.95)])
    with pytest.raises(wsi.SlideError, match="cut.tif"):
        wsi.Slide(truncated)


def test_base_magnification_from_mpp_or_given(tmp_path):
    image = np.full((512, 512, 3), 200, np.uint8)
    with_mpp = tmp_path / "generic_mpp.tif"  # generic tiled TIFF: no objective power
    tifffile.imwrite(
        with_mpp,
        image,
        tile=(256, 256),
        metadata=None,
        resolution=(2e4, 2e4),
        resolutionunit="CENTIMETER",
    )
    with wsi.Slide(with_mpp) as slide:
        assert slide.objective_power is None and slide.mpp == pytest.approx(0.5)
        assert slide.base_magnification == pytest.approx(20.0)  # 10 / mpp
    bare = tmp_path / "generic_bare.tif"
    tifffile.imwrite(bare, image, tile=(256, 256), metadata=None)
    with wsi.Slide(bare) as slide:
        with pytest.raises(wsi.SlideError, match="base_magnification"):
            wsi.tile_grid(slide, magnification=20)
    with wsi.Slide(bare, base_magnification=40) as slide:
        assert len(wsi.tile_grid(slide, magnification=20, patch_size=128)) == 4


def test_slide_metadata(synthetic):
    with wsi.Slide(synthetic.path) as slide:
        assert slide.vendor == "aperio"
        assert slide.base_magnification == 40
        assert slide.mpp == pytest.approx(0.25)
        assert slide.slide_id == "synthetic"
        thumb, ds = slide.thumbnail(16)
        assert thumb.shape == (128, 128, 3) and ds == (16.0, 16.0)
