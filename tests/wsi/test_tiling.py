"""Tests of survlib.wsi.tiling: the pyramid level, and "coordinate slides" whose every 20x patch
footprint is painted one colour that encodes its grid position (tiling reads the right place at
the right scale)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from survlib import wsi
from survlib.data.slides import write_pyramid_tiff


def _coordinate_slide(
    path: Path, width: int, height: int, block: int, downsamples: tuple[int, ...]
) -> Path:
    """A slide whose level-0 ``block``-px squares each have a colour encoding (column, row)."""
    ys, xs = np.mgrid[0:height, 0:width]
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = 10 + 7 * (xs // block)
    image[..., 1] = 10 + 7 * (ys // block)
    image[..., 2] = 200
    levels = [image]
    for d in downsamples[1:]:
        h, w = height // d, width // d
        levels.append(
            image[: h * d, : w * d]
            .reshape(h, d, w, d, 3)
            .mean(axis=(1, 3))
            .round()
            .astype(np.uint8)
        )
    return write_pyramid_tiff(path, levels, mpp=0.25, objective_power=40)


def test_best_level_picks_the_coarsest_level_not_coarser_than_needed():
    assert wsi.best_level((1.0, 4.0, 16.0), 2.0) == 0  # 20x from 40x: no 2x level, read level 0
    assert wsi.best_level((1.0, 2.0, 8.0), 2.0) == 1
    assert wsi.best_level((1.0, 4.0, 16.0), 4.0) == 1  # 10x
    assert wsi.best_level((1.0, 4.0, 16.0), 8.0) == 1  # 5x: level 1, then downsample by 2
    assert wsi.best_level((1.0, 4.000244, 16.000977), 4.0) == 1  # rounded level sizes
    assert wsi.best_level((1.0, 4.0, 16.0), 1.0) == 0
    with pytest.raises(ValueError):
        wsi.best_level((1.0, 4.0), 0.5)


@pytest.mark.parametrize(
    "downsamples, level, read_size", [((1, 4, 16), 0, 512), ((1, 2, 8), 1, 256)]
)
def test_20x_patches_from_a_40x_slide_count_and_coordinates(
    tmp_path, downsamples, level, read_size
):
    width, height = 2560 + 100, 1536 + 300  # not multiples of the 512-px footprint
    path = _coordinate_slide(tmp_path / "coords.tif", width, height, 512, downsamples)
    with wsi.Slide(path) as slide:
        grid = wsi.tile_grid(slide, magnification=20, patch_size=256)
        assert (grid.level, grid.read_size, grid.size_level0) == (level, read_size, 512)
        assert len(grid) == (width // 512) * (height // 512) == 15
        expected = np.array([(x, y) for y in range(0, 1536, 512) for x in range(0, 2560, 512)])
        np.testing.assert_array_equal(grid.coords, expected)
        for batch in wsi.iter_patches(slide, grid, batch_size=4, progress=False):
            assert batch.images.shape[1:] == (256, 256, 3)
            for image, (x, y) in zip(batch.images, batch.coords, strict=True):
                # Round trip: the patch's colour names the level-0 block it was read from.
                assert np.all(image[..., 0] == 10 + 7 * (x // 512))
                assert np.all(image[..., 1] == 10 + 7 * (y // 512))


def test_patch_equals_downsampled_level0_region(synthetic):
    with wsi.Slide(synthetic.path) as slide:
        grid = wsi.tile_grid(slide, magnification=20, patch_size=128)
        x, y = grid.coords[len(grid) // 2]
        patch = wsi.read_patch(slide, grid, x, y)
        region = slide.read_region((int(x), int(y)), 0, (256, 256)).astype(np.float64)
        expected = region.reshape(128, 2, 128, 2, 3).mean(axis=(1, 3))
        assert np.abs(patch - expected).max() <= 1.0
        # 10x from the 4x level: read 128 px at level 1 (downsample 4), no resize
        grid10 = wsi.tile_grid(slide, magnification=10, patch_size=128)
        assert (grid10.level, grid10.read_size, grid10.size_level0) == (1, 128, 512)
        with pytest.raises(wsi.SlideError, match="upsamples"):
            wsi.tile_grid(slide, magnification=80, patch_size=128)


def test_tissue_filter_keeps_tissue_patches(synthetic):
    with wsi.Slide(synthetic.path) as slide:
        mask = wsi.tissue_mask(slide, downsample=16)
        grid = wsi.tile_grid(slide, magnification=20, patch_size=128, mask=mask, min_tissue=0.5)
    labels, purity = synthetic.truth.majority(grid.coords, grid.size_level0)
    assert 20 < len(grid) < 64
    assert np.isin(labels, (1, 2, 3, 4)).mean() > 0.9
    assert np.all(grid.tissue_fraction >= 0.5)
