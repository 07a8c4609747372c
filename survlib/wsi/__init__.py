"""Whole-slide images: open a slide, find the tissue, tile it, encode patches, store bags.

The pipeline every pathology chapter uses (SurvPGC and AMKD both follow CLAM: 256 x 256
patches at 20x, encoded by a frozen patch encoder)::

    slide = Slide("case.svs")                         # OpenSlide, with clear errors
    mask = tissue_mask(slide)                         # saturation + Otsu, pen marks removed
    grid = tile_grid(slide, magnification=20, patch_size=256, mask=mask)
    feats = extract_features(slide, grid, HandcraftedEncoder())
    write_features("case.h5", feats)                  # features + coords + metadata
    bag = patient_bag([read_features(p) for p in paths_of_one_patient])

Coordinates are always level-0 pixels ``(x, y)`` of a patch's top-left corner, whatever level
the pixels were read from; ``grid.size_level0`` is the patch's footprint at level 0.

Modules (import the names from here, ``from survlib.wsi import tile_grid``):

- :mod:`survlib.wsi.slide`         :class:`Slide`, :class:`SlideError`
- :mod:`survlib.wsi.tissue`        :func:`tissue_mask`, :class:`TissueMask`, :func:`mask_iou`
- :mod:`survlib.wsi.tiling`        :func:`best_level` (choosing the pyramid level: read its
  docstring), :func:`tile_grid`, :class:`TileGrid`, :func:`read_patch`, :func:`iter_patches`
- :mod:`survlib.wsi.encoders`      :class:`PatchEncoder`, :class:`HandcraftedEncoder`,
  :class:`FoundationEncoder` (UNI, CONCH), :class:`PrecomputedEncoder`, :func:`get_encoder`
- :mod:`survlib.wsi.features`      :class:`SlideFeatures`, :func:`extract_features`, the HDF5
  feature files (:func:`write_features`, :func:`read_features`)
- :mod:`survlib.wsi.batch_encode`  :func:`encode_slides` (many slides, on an executor, resumable)
- :mod:`survlib.wsi.bags`          :func:`patient_bag` (several slides per patient: the policy)
- :mod:`survlib.wsi.heatmap`       :func:`score_heatmap` (per-patch scores onto a thumbnail grid)

The figures drawn from these (heat maps, patch galleries) are in :mod:`survlib.plots`, one layer
up: this package never imports plotting code.
"""

from survlib.wsi.bags import PatientBag, patient_bag
from survlib.wsi.batch_encode import SLIDE_SUFFIXES, encode_slides, extract_features
from survlib.wsi.encoders import (
    EncoderUnavailableError,
    FoundationEncoder,
    HandcraftedEncoder,
    PatchEncoder,
    PrecomputedEncoder,
    get_encoder,
)
from survlib.wsi.features import (
    FEATURE_FORMAT,
    FEATURE_FORMAT_VERSION,
    FeatureFileError,
    SlideFeatures,
    read_features,
    write_features,
)
from survlib.wsi.heatmap import score_heatmap
from survlib.wsi.slide import Slide, SlideError
from survlib.wsi.tiling import (
    DOWNSAMPLE_RTOL,
    PatchBatch,
    TileGrid,
    best_level,
    iter_patches,
    read_patch,
    tile_grid,
)
from survlib.wsi.tissue import TissueMask, mask_iou, tissue_mask

__all__ = [
    "DOWNSAMPLE_RTOL",
    "FEATURE_FORMAT",
    "FEATURE_FORMAT_VERSION",
    "SLIDE_SUFFIXES",
    "EncoderUnavailableError",
    "FeatureFileError",
    "FoundationEncoder",
    "HandcraftedEncoder",
    "PatchBatch",
    "PatchEncoder",
    "PatientBag",
    "PrecomputedEncoder",
    "Slide",
    "SlideError",
    "SlideFeatures",
    "TileGrid",
    "TissueMask",
    "best_level",
    "encode_slides",
    "extract_features",
    "get_encoder",
    "iter_patches",
    "mask_iou",
    "patient_bag",
    "read_features",
    "read_patch",
    "score_heatmap",
    "tile_grid",
    "tissue_mask",
    "write_features",
]
