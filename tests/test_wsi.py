"""Tests of survlib.wsi and the synthetic slide writer (survlib.data.slides).

Known answers come from slides whose truth we wrote ourselves: the planted region layout
(tissue mask IoU), and "coordinate slides" whose every 20x patch footprint is painted one
colour that encodes its grid position (tiling reads the right place at the right scale).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import h5py
import numpy as np
import openslide
import pytest
import tifffile
from scipy import ndimage

from survlib import wsi
from survlib.data.slides import (
    REGION_NAMES,
    read_label_mask,
    write_pyramid_tiff,
    write_synthetic_slide,
)

SLIDE_SIZE = 2048


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory):
    """One small synthetic slide (40x, 0.25 um/px, levels 1/4/16) shared by the tests."""
    path = tmp_path_factory.mktemp("slides") / "synthetic.tif"
    return write_synthetic_slide(path, seed=3, width=SLIDE_SIZE, height=SLIDE_SIZE)


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


# ----------------------------------------------------------------------------- synthetic slides


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
        tmp_path / "again.tif", seed=3, width=SLIDE_SIZE, height=SLIDE_SIZE
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


# ----------------------------------------------------------------------------- opening


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


# ----------------------------------------------------------------------------- tissue mask


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


# ----------------------------------------------------------------------------- tiling


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
            for image, (x, y) in zip(batch.images, batch.coords):
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


# ----------------------------------------------------------------------------- encoders, files


@pytest.fixture(scope="module")
def small_features(synthetic):
    with wsi.Slide(synthetic.path) as slide:
        mask = wsi.tissue_mask(slide, downsample=16)
        grid = wsi.tile_grid(slide, magnification=20, patch_size=128, mask=mask)
        grid = wsi.TileGrid(
            **{
                **grid.__dict__,
                "coords": grid.coords[:12],
                "tissue_fraction": grid.tissue_fraction[:12],
            }
        )
        feats = wsi.extract_features(
            slide, grid, wsi.HandcraftedEncoder(), progress=False, patient_id="P1"
        )
    return grid, feats


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


@pytest.mark.skipif(importlib.util.find_spec("timm") is not None, reason="timm is installed here")
def test_foundation_encoder_without_timm_says_how_to_get_it():
    with pytest.raises(wsi.EncoderUnavailableError, match="pip install timm"):
        wsi.get_encoder("uni")
    with pytest.raises(ValueError, match="unknown encoder"):
        wsi.get_encoder("resnet")


# ----------------------------------------------------------------------------- heat maps


def test_score_heatmap_places_scores_at_their_coordinates():
    heat = wsi.score_heatmap(
        [1.0, 3.0], np.array([[512, 0], [0, 512]]), 512, (64, 64), (32.0, 32.0)
    )
    assert np.all(heat[0:16, 16:32] == 1.0) and np.all(heat[16:32, 0:16] == 3.0)
    assert np.isnan(heat[0:16, 0:16]).all() and np.isnan(heat[40:, 40:]).all()


def test_heatmap_and_gallery_plots(synthetic, small_features):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid, feats = small_features
    scores = feats.features[:, 0]
    with wsi.Slide(synthetic.path) as slide:
        thumb, ds = slide.thumbnail(32)
        heat = wsi.score_heatmap(scores, grid.coords, grid.size_level0, thumb.shape[:2], ds)
        ax = wsi.plot_heatmap(thumb, heat, title="synthetic")
        fig = wsi.plot_top_patches(slide, grid, scores, k=4, ncols=4)
    assert len([a for a in fig.axes if a.images]) == 4
    plt.close("all")
    del ax
