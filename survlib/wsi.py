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

Choosing the level (the recurring tiling bug). A 256-px patch at 20x on a 40x scan covers
512 x 512 level-0 pixels. The right read is: take the coarsest pyramid level whose downsample
does not exceed the needed one (``40 / 20 = 2``), read ``256 * 2 / level_downsample`` pixels
there and resize to 256. Reading 256 pixels at level 0 (a 40x patch, a quarter of the tissue),
or saving coordinates in the read level's pixels instead of level 0, are the mistakes this
module's tests guard against. Comparing downsamples uses a relative tolerance, because
OpenSlide reports e.g. 4.000244 for a level whose size was rounded.

Patient-level bags (several slides per patient). A patient's bag is the concatenation of the
patches of all of that patient's slides, as in CLAM/PORPOISE/MCAT-style survival pipelines:
slides must share encoder, encoder version, magnification and patch size (otherwise the
features are not comparable and :func:`patient_bag` refuses), each patch remembers its slide
(``slide_index``), and no slide is dropped or averaged away. A cap on the number of patches,
when asked for, samples uniformly across the whole bag with a seed.
"""

from __future__ import annotations

import importlib.util
import io
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from tqdm.auto import tqdm

from survlib._core.io import atomic_write

if TYPE_CHECKING:  # pragma: no cover - typing only
    import openslide
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
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
    "plot_heatmap",
    "plot_top_patches",
    "read_features",
    "read_patch",
    "score_heatmap",
    "tile_grid",
    "tissue_mask",
    "write_features",
]

#: Relative tolerance when comparing pyramid downsamples (OpenSlide's are rounded ratios).
DOWNSAMPLE_RTOL = 1e-3


# ============================================================================ opening slides


class SlideError(Exception):
    """A slide is missing, unreadable, corrupt, unsupported or lacks needed metadata.

    Attributes:
        path: the slide's path.
        reason: what is wrong, in words.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class Slide:
    """An open whole-slide image (OpenSlide) with the geometry tiling needs.

    Args:
        path: the slide file (any format OpenSlide reads: Aperio ``.svs``/``.tif``, generic
            tiled TIFF, NDPI, MRXS, ...).
        base_magnification: the magnification of level 0, when the file does not say
            (no ``openslide.objective-power`` and no ``openslide.mpp-x``).
        slide_id: identifier stored in feature files (default: the file name without suffix).

    Raises:
        SlideError: the file is missing, not a slide OpenSlide supports, or corrupt.

    Use as a context manager (``with Slide(p) as s: ...``) or call :meth:`close`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        base_magnification: float | None = None,
        slide_id: str | None = None,
    ) -> None:
        import openslide

        self.path = Path(path)
        self.slide_id = slide_id if slide_id is not None else self.path.stem
        if not self.path.exists():
            raise SlideError(self.path, "file not found")
        if not self.path.is_file():
            raise SlideError(self.path, "not a regular file")
        try:
            self._osr: openslide.OpenSlide = openslide.OpenSlide(str(self.path))
        except openslide.OpenSlideUnsupportedFormatError as exc:
            raise SlideError(self.path, _unsupported_reason(self.path, exc)) from exc
        except (openslide.OpenSlideError, OSError) as exc:
            raise SlideError(self.path, f"corrupt or unreadable slide ({exc})") from exc
        # A truncated file opens (its directory comes first) but fails when its missing tiles
        # are read. Pyramid writers store the coarsest level last, so read the last pixel of
        # the last level: one tile, cheap even for a gigapixel slide.
        try:
            last = self._osr.level_count - 1
            w, h = self._osr.level_dimensions[last]
            ds = self._osr.level_downsamples[last]
            corner = (int((w - 1) * ds), int((h - 1) * ds))
            self._osr.read_region(corner, last, (1, 1))
        except openslide.OpenSlideError as exc:
            self._osr.close()
            raise SlideError(self.path, f"corrupt slide: cannot read its pixels ({exc})") from exc
        if base_magnification is not None:
            from survlib._core.validation import check_finite_number

            try:
                base_magnification = check_finite_number(
                    base_magnification, "base_magnification", low=0.0, low_open=True
                )
            except ValueError:
                self._osr.close()
                raise
        self._base_magnification = base_magnification

    # -- context manager
    def __enter__(self) -> Slide:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the OpenSlide handle."""
        self._osr.close()

    def __repr__(self) -> str:
        return (
            f"Slide({self.slide_id!r}, {self.dimensions[0]}x{self.dimensions[1]}, "
            f"levels={self.level_count}, magnification={self._describe_mag()})"
        )

    def _describe_mag(self) -> str:
        try:
            return f"{self.base_magnification:g}x"
        except SlideError:
            return "unknown"

    # -- geometry and metadata
    @property
    def dimensions(self) -> tuple[int, int]:
        """Level-0 ``(width, height)`` in pixels."""
        return self._osr.dimensions

    @property
    def level_count(self) -> int:
        return self._osr.level_count

    @property
    def level_dimensions(self) -> tuple[tuple[int, int], ...]:
        return self._osr.level_dimensions

    @property
    def level_downsamples(self) -> tuple[float, ...]:
        return self._osr.level_downsamples

    @property
    def properties(self) -> dict[str, str]:
        """All OpenSlide properties (vendor metadata included)."""
        return dict(self._osr.properties)

    @property
    def vendor(self) -> str | None:
        return self._osr.properties.get("openslide.vendor")

    @property
    def mpp(self) -> float | None:
        """Microns per level-0 pixel (x), or None when the file does not say."""
        value = self._osr.properties.get("openslide.mpp-x")
        return float(value) if value else None

    @property
    def objective_power(self) -> float | None:
        value = self._osr.properties.get("openslide.objective-power")
        return float(value) if value else None

    @property
    def base_magnification(self) -> float:
        """Magnification of level 0: the override, else the objective power, else ``10 / mpp``.

        The ``10 / mpp`` rule is the usual convention (0.25 um/px ~ 40x, 0.5 um/px ~ 20x).
        """
        if self._base_magnification is not None:
            return float(self._base_magnification)
        if self.objective_power:
            return self.objective_power
        if self.mpp:
            return 10.0 / self.mpp
        raise SlideError(
            self.path,
            "the file records neither objective power nor microns per pixel; "
            "pass Slide(path, base_magnification=40) (or the scanner's value)",
        )

    # -- pixels
    def read_region(
        self, location: tuple[int, int], level: int, size: tuple[int, int]
    ) -> np.ndarray:
        """Read ``size = (w, h)`` pixels of ``level`` whose top-left is level-0 ``location``.

        Returns:
            ``uint8[h, w, 3]`` RGB; transparent pixels (outside scanned areas) become white.
        """
        try:
            rgba = np.asarray(self._osr.read_region(location, level, size))
        except Exception as exc:  # openslide raises OpenSlideError; PIL may raise too
            raise SlideError(
                self.path, f"cannot read {size} pixels at {location}, level {level} ({exc})"
            ) from exc
        return _rgba_on_white(rgba)

    def thumbnail(self, downsample: float = 32.0) -> tuple[np.ndarray, tuple[float, float]]:
        """A small RGB picture of the whole slide.

        Args:
            downsample: requested level-0 pixels per thumbnail pixel.

        Returns:
            ``(image uint8[h, w, 3], (downsample_x, downsample_y))`` where the downsamples are
            the exact level-0/thumbnail size ratios (they differ slightly from the request).
        """
        w0, h0 = self.dimensions
        size = (max(1, round(w0 / downsample)), max(1, round(h0 / downsample)))
        try:
            image = self._osr.get_thumbnail(size).convert("RGBA")
        except Exception as exc:
            raise SlideError(self.path, f"cannot read a thumbnail ({exc})") from exc
        rgb = _rgba_on_white(np.asarray(image))
        return rgb, (w0 / rgb.shape[1], h0 / rgb.shape[0])


def _rgba_on_white(rgba: np.ndarray) -> np.ndarray:
    """Composite RGBA (straight alpha) on white and return RGB uint8."""
    if rgba.shape[-1] == 3:
        return np.ascontiguousarray(rgba, dtype=np.uint8)
    alpha = rgba[..., 3:4]
    if np.all(alpha == 255):
        return np.ascontiguousarray(rgba[..., :3])
    a = alpha.astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.rint(rgb).astype(np.uint8)


# ============================================================================ tissue mask


@dataclass(frozen=True)
class TissueMask:
    """Tissue found on a thumbnail.

    Attributes:
        mask: ``bool[h, w]`` tissue pixels of the thumbnail.
        pen: ``bool[h, w]`` pixels rejected as marker pen.
        thumbnail: the ``uint8[h, w, 3]`` thumbnail it was computed from.
        downsample: level-0 pixels per mask pixel, ``(x, y)``.
        threshold: the saturation threshold used (Otsu's, unless one was given).
    """

    mask: np.ndarray
    pen: np.ndarray
    thumbnail: np.ndarray
    downsample: tuple[float, float]
    threshold: float

    def fraction(self, x: int, y: int, size: int) -> float:
        """Tissue fraction of the level-0 square ``[x, x+size) x [y, y+size)``."""
        return float(_window_fractions(self, np.array([[x, y]]), size)[0])


def tissue_mask(
    slide: Slide,
    *,
    downsample: float = 32.0,
    threshold: float | None = None,
    min_saturation: float = 0.05,
    pen_hue: tuple[float, float] = (0.17, 0.64),
    median_size: int = 5,
    min_object_um2: float = 2_000.0,
    max_hole_um2: float = 1_000.0,
) -> TissueMask:
    """Find tissue on a thumbnail: saturation + Otsu, with pen marks and specks removed.

    H&E tissue is coloured (saturated) and glass is grey-white, so the HSV saturation of a
    thumbnail separates them (CLAM's default segmentation). Steps:

    1. thumbnail at ``downsample``; HSV; median filter of the saturation (``median_size``);
    2. pen marks: pixels more saturated than ``min_saturation`` whose hue lies in ``pen_hue``
       (green to blue; H&E hues are pink to purple, ~0.67-1.0 and ~0-0.05);
    3. threshold :math:`t` = Otsu's threshold of the saturation of the non-pen pixels (or
       ``threshold``), never below ``min_saturation``; tissue = saturation > t and not pen;
    4. tissue pieces smaller than ``min_object_um2`` are removed and enclosed holes smaller
       than ``max_hole_um2`` filled (areas in square microns when the slide
       records its mpp, else at an assumed 0.25 um/px).

    Args:
        slide: an open :class:`Slide`.
        downsample: level-0 pixels per thumbnail pixel.
        threshold: a fixed saturation threshold in [0, 1] instead of Otsu's.
        min_saturation: floor of the threshold (an all-glass slide yields no tissue).
        pen_hue: hue interval (in [0, 1)) treated as marker ink when saturated.
        median_size: median filter size (thumbnail pixels) applied to the saturation.
        min_object_um2: smallest tissue piece kept.
        max_hole_um2: largest hole filled.

    Returns:
        A :class:`TissueMask`.
    """
    from scipy import ndimage
    from skimage.color import rgb2hsv
    from skimage.filters import threshold_otsu

    from survlib._core.validation import check_finite_number

    if threshold is not None:
        check_finite_number(threshold, "tissue_mask: threshold (a saturation)", low=0.0, high=1.0)
    check_finite_number(min_saturation, "tissue_mask: min_saturation", low=0.0, high=1.0)
    check_finite_number(downsample, "tissue_mask: downsample", low=1.0)
    thumb, ds = slide.thumbnail(downsample)
    hsv = rgb2hsv(thumb)
    hue = hsv[..., 0]
    sat = ndimage.median_filter(hsv[..., 1], size=median_size) if median_size > 1 else hsv[..., 1]

    # Any visibly coloured pixel with an ink hue is pen, including the pale rim where ink
    # and glass mix on the thumbnail.
    pen = (hue >= pen_hue[0]) & (hue < pen_hue[1]) & (hsv[..., 1] > min_saturation)
    rest = sat[~pen]
    if threshold is None:
        threshold = float(threshold_otsu(rest)) if rest.size and np.ptp(rest) > 0 else 1.0
    threshold = max(float(threshold), min_saturation)

    mask = (sat > threshold) & ~pen
    um_per_px = (slide.mpp or 0.25) * math.sqrt(ds[0] * ds[1])
    min_px = max(1, int(round(min_object_um2 / um_per_px**2)))
    hole_px = max(1, int(round(max_hole_um2 / um_per_px**2)))
    mask = _drop_small_components(mask, min_px)
    mask = ~_drop_small_components(~mask, hole_px, keep_border=True) & ~pen
    return TissueMask(mask=mask, pen=pen, thumbnail=thumb, downsample=ds, threshold=threshold)


def _drop_small_components(mask: np.ndarray, min_px: int, keep_border: bool = False) -> np.ndarray:
    """Remove 8-connected components smaller than ``min_px`` pixels.

    With ``keep_border``, components touching the image border are always kept (used on the
    background to fill only enclosed holes).
    """
    from scipy import ndimage

    lab, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return mask.copy()
    sizes = np.bincount(lab.ravel())
    keep = sizes >= min_px
    if keep_border:
        border = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
        keep[border] = True
    keep[0] = False
    return keep[lab]


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two same-shape boolean masks, :math:`|A\\cap B|/|A\\cup B|`."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.shape != b.shape:
        raise ValueError(f"mask_iou: shapes differ, {a.shape} vs {b.shape}")
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


# ============================================================================ tiling


def best_level(
    level_downsamples: Sequence[float], downsample: float, rtol: float = DOWNSAMPLE_RTOL
) -> int:
    """The coarsest pyramid level whose downsample does not exceed ``downsample``.

    That level has at least the requested resolution, and is the cheapest to read from: a
    level with a larger downsample would have to be upsampled (blurred). Downsamples within
    ``rtol`` of the request count as equal (OpenSlide reports 4.000244 for a 4x level whose
    size was rounded).

    Example: levels ``(1, 4, 16)``, 20x from a 40x scan (downsample 2) -> level 0;
    10x (downsample 4) -> level 1; 5x (downsample 8) -> level 1.
    """
    if downsample < 1 - rtol:
        raise ValueError(
            f"downsample {downsample} < 1: the slide has no resolution finer than level 0"
        )
    ok = [i for i, d in enumerate(level_downsamples) if d <= downsample * (1 + rtol)]
    return max(ok, key=lambda i: level_downsamples[i])


@dataclass(frozen=True)
class TileGrid:
    """Where the patches of a slide are and how to read them.

    Attributes:
        coords: ``int64[N, 2]`` level-0 ``(x, y)`` of each patch's top-left corner.
        magnification: the magnification patches are delivered at (e.g. 20).
        base_magnification: the magnification of level 0 (e.g. 40).
        patch_size: patch side in pixels at ``magnification`` (what the encoder sees).
        level: pyramid level the pixels are read from.
        level_downsample: that level's downsample.
        read_size: pixels read at ``level`` (then resized to ``patch_size``).
        size_level0: the patch footprint in level-0 pixels
            (``patch_size * base_magnification / magnification``).
        step_level0: distance between neighbouring patches at level 0.
        tissue_fraction: ``float[N]`` tissue share of each patch (1 when no mask was used).
        slide_id: the slide's identifier.
    """

    coords: np.ndarray
    magnification: float
    base_magnification: float
    patch_size: int
    level: int
    level_downsample: float
    read_size: int
    size_level0: int
    step_level0: int
    tissue_fraction: np.ndarray
    slide_id: str

    def __len__(self) -> int:
        return int(len(self.coords))

    @property
    def target_downsample(self) -> float:
        """Level-0 pixels per patch pixel (``base_magnification / magnification``)."""
        return self.base_magnification / self.magnification


def _window_fractions(mask: TissueMask, coords: np.ndarray, size: int) -> np.ndarray:
    """Fraction of mask pixels inside each level-0 square (a summed-area table lookup)."""
    m = mask.mask.astype(np.float64)
    h, w = m.shape
    sat = np.zeros((h + 1, w + 1))
    sat[1:, 1:] = m.cumsum(0).cumsum(1)
    dsx, dsy = mask.downsample
    x0 = np.clip(np.floor(coords[:, 0] / dsx).astype(int), 0, w)
    y0 = np.clip(np.floor(coords[:, 1] / dsy).astype(int), 0, h)
    x1 = np.clip(np.ceil((coords[:, 0] + size) / dsx).astype(int), 0, w)
    y1 = np.clip(np.ceil((coords[:, 1] + size) / dsy).astype(int), 0, h)
    area = np.maximum((x1 - x0) * (y1 - y0), 1)
    total = sat[y1, x1] - sat[y0, x1] - sat[y1, x0] + sat[y0, x0]
    return total / area


def tile_grid(
    slide: Slide,
    magnification: float = 20.0,
    patch_size: int = 256,
    *,
    mask: TissueMask | None = None,
    min_tissue: float = 0.5,
    overlap: float = 0.0,
) -> TileGrid:
    """Lay a grid of ``patch_size`` patches at ``magnification`` over the slide.

    The footprint of a patch at level 0 is :math:`s_0 = p \\cdot M_0 / M` (``p`` the patch size,
    ``M_0`` the base magnification, ``M`` the requested one); patches start at multiples of
    the step :math:`s_0 (1 - \\text{overlap})` and must fit inside level 0. The pixels are read
    from :func:`best_level` ``L`` as a square of :math:`p \\cdot (M_0/M) / d_L` pixels (``d_L`` the
    level's downsample) and resized to ``p``.

    Args:
        slide: an open :class:`Slide`.
        magnification: requested magnification (e.g. 20 for 20x); at most the base one.
        patch_size: patch side at that magnification.
        mask: keep only patches with at least ``min_tissue`` tissue (None keeps all).
        min_tissue: minimum tissue fraction of a kept patch.
        overlap: fraction of a patch shared with its neighbour (0 = non-overlapping).

    Returns:
        A :class:`TileGrid`; its ``coords`` are level-0 pixels, row-major (y, then x).

    Raises:
        SlideError: the slide's base magnification is unknown, or lower than requested.
    """
    from survlib._core.validation import check_finite_number

    magnification = check_finite_number(
        magnification, "tile_grid: magnification", low=0.0, low_open=True
    )
    if isinstance(patch_size, bool) or not isinstance(patch_size, int | np.integer):
        raise ValueError(f"tile_grid: patch_size must be a whole number of pixels, got {patch_size!r}")
    if patch_size < 1:
        raise ValueError(f"patch_size must be positive, got {patch_size}")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    check_finite_number(min_tissue, "tile_grid: min_tissue", low=0.0, high=1.0)
    base = slide.base_magnification
    target_ds = base / float(magnification)
    if target_ds < 1 - DOWNSAMPLE_RTOL:
        raise SlideError(
            slide.path,
            f"cannot tile at {magnification:g}x: level 0 is {base:g}x (survlib never upsamples)",
        )
    level = best_level(slide.level_downsamples, target_ds)
    level_ds = slide.level_downsamples[level]
    read_size = max(1, int(round(patch_size * target_ds / level_ds)))
    size0 = int(round(patch_size * target_ds))
    step0 = max(1, int(round(size0 * (1.0 - overlap))))
    w0, h0 = slide.dimensions
    xs = np.arange(0, w0 - size0 + 1, step0, dtype=np.int64)
    ys = np.arange(0, h0 - size0 + 1, step0, dtype=np.int64)
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    coords = np.stack([gx.ravel(), gy.ravel()], axis=1)
    if mask is not None:
        frac = _window_fractions(mask, coords, size0)
        keep = frac >= min_tissue
        coords, frac = coords[keep], frac[keep]
    else:
        frac = np.ones(len(coords))
    if len(coords) == 0:
        side = f"{w0}x{h0}"
        why = (
            f"the patch footprint ({size0} level-0 pixels) is larger than the slide ({side})"
            if size0 > min(w0, h0)
            else f"no patch has a tissue fraction >= min_tissue={min_tissue:g} (blank slide, "
            "or a threshold too strict)"
        )
        raise SlideError(
            slide.path,
            f"0 patches at {magnification:g}x with patch_size={patch_size}: {why}; "
            "an empty bag cannot be encoded",
        )
    return TileGrid(
        coords=coords,
        magnification=float(magnification),
        base_magnification=float(base),
        patch_size=int(patch_size),
        level=int(level),
        level_downsample=float(level_ds),
        read_size=read_size,
        size_level0=size0,
        step_level0=step0,
        tissue_fraction=frac.astype(np.float64),
        slide_id=slide.slide_id,
    )


def read_patch(slide: Slide, grid: TileGrid, x: int, y: int) -> np.ndarray:
    """Read the patch whose level-0 top-left is ``(x, y)`` as ``uint8[p, p, 3]``.

    Reads ``grid.read_size`` pixels at ``grid.level`` and resizes them to ``grid.patch_size``
    with area averaging (PIL's box filter, the way pyramid levels are made).
    """
    from PIL import Image

    pixels = slide.read_region((int(x), int(y)), grid.level, (grid.read_size, grid.read_size))
    if grid.read_size != grid.patch_size:
        image = Image.fromarray(pixels).resize(
            (grid.patch_size, grid.patch_size), Image.Resampling.BOX
        )
        pixels = np.asarray(image)
    return pixels


@dataclass(frozen=True)
class PatchBatch:
    """A batch of patches: pixels (None for encoders that do not need them) and coordinates.

    Attributes:
        images: ``uint8[B, p, p, 3]`` or None.
        coords: ``int64[B, 2]`` level-0 ``(x, y)``.
        index: positions of these patches in the grid.
    """

    images: np.ndarray | None
    coords: np.ndarray
    index: np.ndarray


def iter_patches(
    slide: Slide,
    grid: TileGrid,
    *,
    batch_size: int = 32,
    read_pixels: bool = True,
    progress: bool = True,
) -> Iterator[PatchBatch]:
    """Yield the grid's patches in batches, with a progress bar.

    Args:
        slide: the slide the grid was made for.
        grid: from :func:`tile_grid`.
        batch_size: patches per batch.
        read_pixels: False yields coordinates only (for precomputed features).
        progress: show a tqdm progress bar (patches).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = len(grid)
    with tqdm(total=n, desc=f"patches {grid.slide_id}", unit="patch", disable=not progress) as bar:
        for start in range(0, n, batch_size):
            index = np.arange(start, min(n, start + batch_size))
            coords = grid.coords[index]
            images = (
                np.stack([read_patch(slide, grid, x, y) for x, y in coords])
                if read_pixels
                else None
            )
            bar.update(len(index))
            yield PatchBatch(images=images, coords=coords, index=index)


# ============================================================================ encoders


class EncoderUnavailableError(RuntimeError):
    """An optional patch encoder cannot run here (package or weights missing); says how to fix."""


@runtime_checkable
class PatchEncoder(Protocol):
    """What every patch encoder provides.

    Attributes:
        name: short identifier stored in feature files (``"handcrafted-hed"``, ``"uni"``).
        version: version of the encoder (weights or feature definition).
        dim: feature dimension.
        needs_pixels: whether :meth:`encode` reads ``batch.images`` (False: coordinates only).
    """

    name: str
    version: str
    dim: int
    needs_pixels: bool

    def encode(self, batch: PatchBatch) -> np.ndarray:
        """Return ``float32[B, dim]`` features of the batch's patches."""
        ...


class HandcraftedEncoder:
    """The offline default: documented colour, stain and texture statistics of a patch.

    Deterministic, CPU-only and fast; no learned weights. Per patch (``float32[46]``):

    - colour (8): mean and s.d. of R, G, B (0-1); mean HSV saturation and value;
    - stain (11): colour deconvolution into haematoxylin (H), eosin (E) and residual (D) with
      :func:`skimage.color.rgb2hed` (Ruifrok & Johnston vectors; values are optical density /
      ln(10^6), ~1/6 of OD); mean, s.d., 10th/50th/90th percentiles of H and of E; mean D;
    - nuclei (4): haematoxylin-rich pixels (H > ``nuclear_threshold``, about OD 0.5):
      their fraction; the number of connected blobs (>= 4 px) per 10,000 px; mean blob area
      (px); coefficient of variation of blob area;
    - co-occurrence (8): grey-level co-occurrence matrix (32 grey levels) at distances 1 and
      4 px, averaged over 0 and 90 degrees: contrast, homogeneity, energy, correlation;
    - orientation (2): structure-tensor coherence
      :math:`\\sum(\\lambda_1-\\lambda_2)/\\sum(\\lambda_1+\\lambda_2)`
      (fibres align: high) and mean gradient energy :math:`\\overline{\\lambda_1+\\lambda_2}`;
    - scale (3): mean absolute difference of Gaussians of the grey image at sigma 1-2, 2-4, 4-8 px;
    - local binary patterns (10): histogram of uniform LBP codes (8 neighbours, radius 1).

    These separate the tissue textures of the synthetic slides and are a reasonable honest
    baseline on real H&E; they are no substitute for a pathology foundation model (UNI,
    CONCH), which :class:`FoundationEncoder` loads where the weights are available.
    """

    name = "handcrafted-hed"
    version = "1"
    needs_pixels = True

    def __init__(self, nuclear_threshold: float = 0.08) -> None:
        self.nuclear_threshold = float(nuclear_threshold)
        self.feature_names: tuple[str, ...] = self._names()
        self.dim = len(self.feature_names)

    @staticmethod
    def _names() -> tuple[str, ...]:
        names = [f"rgb_mean_{c}" for c in "rgb"] + [f"rgb_sd_{c}" for c in "rgb"]
        names += ["saturation_mean", "value_mean"]
        for stain in ("h", "e"):
            names += [
                f"{stain}_mean",
                f"{stain}_sd",
                f"{stain}_p10",
                f"{stain}_p50",
                f"{stain}_p90",
            ]
        names += ["d_mean"]
        names += ["nuclear_fraction", "nuclei_per_10k_px", "nucleus_area_mean", "nucleus_area_cv"]
        for d in (1, 4):
            names += [
                f"glcm_{p}_d{d}" for p in ("contrast", "homogeneity", "energy", "correlation")
            ]
        names += ["orientation_coherence", "gradient_energy"]
        names += ["dog_1_2", "dog_2_4", "dog_4_8"]
        names += [f"lbp_{i}" for i in range(10)]
        return tuple(names)

    def __repr__(self) -> str:
        return f"HandcraftedEncoder(nuclear_threshold={self.nuclear_threshold})"

    def encode(self, batch: PatchBatch) -> np.ndarray:
        if batch.images is None:
            raise ValueError("HandcraftedEncoder needs pixels (iter_patches(read_pixels=True))")
        return np.stack([self.encode_patch(im) for im in batch.images]).astype(np.float32)

    def encode_patch(self, image: np.ndarray) -> np.ndarray:
        """Features of one ``uint8[h, w, 3]`` RGB patch (see the class docstring)."""
        from scipy import ndimage
        from skimage.color import rgb2gray, rgb2hed
        from skimage.feature import (
            graycomatrix,
            graycoprops,
            local_binary_pattern,
            structure_tensor,
        )

        rgb = image.astype(np.float64) / 255.0
        feats: list[float] = []
        feats += list(rgb.reshape(-1, 3).mean(0)) + list(rgb.reshape(-1, 3).std(0))
        # HSV saturation (max - min) / max and value max, without a full HSV conversion
        high, low = rgb.max(axis=2), rgb.min(axis=2)
        saturation = np.divide(high - low, high, out=np.zeros_like(high), where=high > 0)
        feats += [saturation.mean(), high.mean()]

        hed = rgb2hed(image)
        for ch in (0, 1):
            v = hed[..., ch].ravel()
            p10, p50, p90 = np.percentile(v, [10, 50, 90])
            feats += [v.mean(), v.std(), p10, p50, p90]
        feats += [hed[..., 2].mean()]

        nuclei = hed[..., 0] > self.nuclear_threshold
        lab, n = ndimage.label(nuclei)
        areas = np.bincount(lab.ravel())[1:] if n else np.zeros(0)
        areas = areas[areas >= 4]
        n_px = nuclei.size
        feats += [
            nuclei.mean(),
            1e4 * len(areas) / n_px,
            areas.mean() if len(areas) else 0.0,
            areas.std() / areas.mean() if len(areas) else 0.0,
        ]

        gray = rgb2gray(image)
        levels = 32
        quant = np.minimum((gray * levels).astype(np.uint8), levels - 1)
        glcm = graycomatrix(
            quant,
            distances=[1, 4],
            angles=[0, np.pi / 2],
            levels=levels,
            symmetric=True,
            normed=True,
        )
        for di in range(2):
            for prop in ("contrast", "homogeneity", "energy", "correlation"):
                value = graycoprops(glcm, prop)[di].mean()
                feats.append(0.0 if not np.isfinite(value) else value)

        arr, arc, acc = structure_tensor(gray, sigma=2.0, order="rc")
        trace = arr + acc
        gap = np.sqrt((arr - acc) ** 2 + 4 * arc**2)  # lambda1 - lambda2
        feats += [gap.sum() / (trace.sum() + 1e-12), trace.mean()]

        blurs = [ndimage.gaussian_filter(gray, s, truncate=3.0) for s in (1, 2, 4, 8)]
        feats += [np.abs(blurs[i] - blurs[i + 1]).mean() for i in range(3)]

        lbp = local_binary_pattern((gray * 255).astype(np.uint8), P=8, R=1, method="uniform")
        feats += list(np.bincount(lbp.astype(int).ravel(), minlength=10)[:10] / lbp.size)
        return np.asarray(feats, dtype=np.float32)


#: How to get each optional foundation model (shown when it cannot be loaded).
_FOUNDATION_HELP = {
    "uni": (
        "UNI (ViT-L/16, 1024-d; Chen et al. 2024) needs `pip install timm huggingface_hub` and "
        "the gated weights: request access at https://huggingface.co/MahmoodLab/UNI, then "
        "`huggingface-cli login` (or set HF_TOKEN), or pass weights='path/to/pytorch_model.bin'."
    ),
    "conch": (
        "CONCH (ViT-B/16, 512-d; Lu et al. 2024) needs its package "
        "(`pip install git+https://github.com/Mahmoodlab/CONCH.git`, which brings open_clip and "
        "timm) and the gated weights: request access at https://huggingface.co/MahmoodLab/CONCH, "
        "then `huggingface-cli login`, or pass weights='path/to/pytorch_model.bin'."
    ),
}


#: Python packages each foundation model needs.
_FOUNDATION_PACKAGES = {"uni": ("timm", "huggingface_hub"), "conch": ("conch", "timm")}


class FoundationEncoder:
    """UNI or CONCH image embeddings, for users who have the weights (optional).

    The packages are not installed by default and the weights are gated on Hugging Face;
    constructing this encoder without them raises :class:`EncoderUnavailableError` with the
    install and access steps. Patches are resized to 224 x 224 and normalised with the
    ImageNet mean and s.d. (UNI's preprocessing; CONCH uses its own ``preprocess``), and the
    frozen model's embedding is returned (UNI: the class token, 1024-d; CONCH:
    ``encode_image(proj_contrastive=False, normalize=False)``, 512-d).

    Args:
        model: ``"uni"`` or ``"conch"``.
        weights: a local checkpoint instead of the Hugging Face download.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
    """

    needs_pixels = True

    def __init__(
        self,
        model: str = "uni",
        *,
        weights: str | os.PathLike[str] | None = None,
        device: str = "auto",
    ) -> None:
        model = model.lower()
        if model not in _FOUNDATION_HELP:
            raise ValueError(
                f"unknown foundation model {model!r}; choose from {sorted(_FOUNDATION_HELP)}"
            )
        help_text = _FOUNDATION_HELP[model]
        missing = [m for m in _FOUNDATION_PACKAGES[model] if importlib.util.find_spec(m) is None]
        if missing:
            raise EncoderUnavailableError(f"{help_text} (not installed: {', '.join(missing)})")
        import torch

        from survlib._core.device import pick_device

        self.name = model
        self.device = pick_device(device)
        try:
            if model == "uni":
                self._model, self.dim, self._preprocess = _load_uni(weights)
            else:
                self._model, self.dim, self._preprocess = _load_conch(weights)
        except EncoderUnavailableError:
            raise
        except ImportError as exc:
            raise EncoderUnavailableError(f"{help_text} (import failed: {exc})") from exc
        except Exception as exc:  # gated repo, no token, offline, bad checkpoint
            raise EncoderUnavailableError(f"{help_text} (loading failed: {exc})") from exc
        self.version = str(weights) if weights is not None else f"hf-hub:MahmoodLab/{model}"
        self._model.eval().to(self.device)
        self._torch = torch

    def __repr__(self) -> str:
        return f"FoundationEncoder({self.name!r}, dim={self.dim}, device={self.device})"

    def encode(self, batch: PatchBatch) -> np.ndarray:
        if batch.images is None:
            raise ValueError(f"{self.name} needs pixels (iter_patches(read_pixels=True))")
        torch = self._torch
        x = self._preprocess(batch.images).to(self.device)
        with torch.inference_mode():
            if self.name == "conch":
                out = self._model.encode_image(x, proj_contrastive=False, normalize=False)
            else:
                out = self._model(x)
        return out.float().cpu().numpy().astype(np.float32)


def _imagenet_preprocess(size: int = 224) -> Any:
    """uint8[B, h, w, 3] -> float tensor [B, 3, size, size], ImageNet-normalised."""
    import torch
    import torch.nn.functional as F

    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def run(images: np.ndarray) -> Any:
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
        if x.shape[-1] != size or x.shape[-2] != size:
            x = F.interpolate(
                x, size=(size, size), mode="bilinear", antialias=True, align_corners=False
            )
        return (x - mean) / std

    return run


def _load_uni(weights: str | os.PathLike[str] | None) -> tuple[Any, int, Any]:
    import timm
    import torch

    if weights is None:
        model = timm.create_model(
            "hf-hub:MahmoodLab/uni", pretrained=True, init_values=1e-5, dynamic_img_size=True
        )
    else:
        model = timm.create_model(
            "vit_large_patch16_224",
            img_size=224,
            patch_size=16,
            init_values=1e-5,
            num_classes=0,
            dynamic_img_size=True,
            pretrained=False,
        )
        model.load_state_dict(
            torch.load(weights, map_location="cpu", weights_only=True), strict=True
        )
    return model, 1024, _imagenet_preprocess(224)


def _load_conch(weights: str | os.PathLike[str] | None) -> tuple[Any, int, Any]:
    import torch
    from conch.open_clip_custom import create_model_from_pretrained
    from PIL import Image

    source = str(weights) if weights is not None else "hf_hub:MahmoodLab/conch"
    model, preprocess = create_model_from_pretrained("conch_ViT-B-16", source)

    def run(images: np.ndarray) -> Any:
        return torch.stack([preprocess(Image.fromarray(im)) for im in images])

    return model, 512, run


class PrecomputedEncoder:
    """Features computed elsewhere (a survlib or CLAM-style h5 file), looked up by coordinates.

    Behaves like any encoder in :func:`extract_features`, but needs no pixels: each patch's
    level-0 coordinates must appear in the file (a missing one is an error naming it).

    Args:
        features: a :class:`SlideFeatures` (e.g. from :func:`read_features`).
    """

    needs_pixels = False

    def __init__(self, features: SlideFeatures) -> None:
        self.features = features
        self.name = features.encoder
        self.version = features.encoder_version
        self.dim = int(features.features.shape[1])
        self._row = {(int(x), int(y)): i for i, (x, y) in enumerate(features.coords)}

    def __repr__(self) -> str:
        return f"PrecomputedEncoder({self.name!r}, n={len(self._row)}, dim={self.dim})"

    def encode(self, batch: PatchBatch) -> np.ndarray:
        try:
            rows = [self._row[(int(x), int(y))] for x, y in batch.coords]
        except KeyError as exc:
            raise FeatureFileError(
                f"precomputed features of slide {self.features.slide_id!r} have no patch at "
                f"level-0 (x, y) = {exc.args[0]}; were they made with the same magnification, "
                "patch size and tissue mask?"
            ) from None
        return self.features.features[rows].astype(np.float32)


def get_encoder(name: str = "handcrafted", **kwargs: Any) -> PatchEncoder:
    """An encoder by name: ``"handcrafted"`` (default), ``"uni"``, ``"conch"`` or ``"precomputed"``.

    ``kwargs`` go to the encoder (``weights=``, ``device=`` for UNI/CONCH; ``path=`` for
    precomputed features, read with :func:`read_features`).
    """
    key = name.lower()
    if key in ("handcrafted", "handcrafted-hed"):
        return HandcraftedEncoder(**kwargs)
    if key in _FOUNDATION_HELP:
        return FoundationEncoder(key, **kwargs)
    if key == "precomputed":
        if "path" not in kwargs:
            raise ValueError("get_encoder('precomputed', path=...) needs the feature file")
        path = kwargs.pop("path")
        return PrecomputedEncoder(read_features(path, **kwargs))
    raise ValueError(f"unknown encoder {name!r}; choose handcrafted, uni, conch or precomputed")


# ============================================================================ feature files


class FeatureFileError(ValueError):
    """A feature file is missing, malformed, or lacks metadata survlib needs."""


FEATURE_FORMAT = "survlib-features"
FEATURE_FORMAT_VERSION = 1


@dataclass
class SlideFeatures:
    """One slide's bag of patch features, with everything needed to trust and map them back.

    Attributes:
        features: ``float32[N, D]``.
        coords: ``int64[N, 2]`` level-0 ``(x, y)`` of each patch's top-left corner.
        slide_id: the slide's identifier.
        encoder, encoder_version: which encoder made the features.
        magnification: magnification of the patches (e.g. 20).
        patch_size: patch side in pixels at that magnification.
        level: pyramid level the pixels were read from.
        size_level0: patch footprint in level-0 pixels.
        base_magnification: magnification of level 0 (NaN if unknown).
        mpp: microns per level-0 pixel (NaN if unknown).
        patient_id: the patient (empty if unknown).
        feature_names: names of the D features, when the encoder has them.
        extra: further string/number attributes to keep.
    """

    features: np.ndarray
    coords: np.ndarray
    slide_id: str
    encoder: str
    encoder_version: str
    magnification: float
    patch_size: int
    level: int
    size_level0: int
    base_magnification: float = float("nan")
    mpp: float = float("nan")
    patient_id: str = ""
    feature_names: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.features = np.asarray(self.features, dtype=np.float32)
        coords = np.asarray(self.coords)
        if coords.size == 0 and coords.ndim == 1:
            coords = coords.reshape(0, 2)
        if coords.ndim != 2 or coords.shape[1] != 2:
            raise FeatureFileError(
                f"slide {self.slide_id!r}: coords must have shape [N, 2] (level-0 x, y), got "
                f"{coords.shape}"
            )
        if coords.size and not np.isfinite(coords.astype(np.float64)).all():
            raise FeatureFileError(f"slide {self.slide_id!r}: coords has NaN or infinite values")
        self.coords = coords.astype(np.int64)
        if self.features.ndim == 2 and len(self.features) == 0:
            raise FeatureFileError(
                f"slide {self.slide_id!r}: 0 patches (features shape {self.features.shape}); "
                "an empty bag carries no information (check the tissue mask and min_tissue)"
            )
        if self.features.ndim == 2 and not np.isfinite(self.features).all():
            rows = np.flatnonzero(~np.isfinite(self.features).all(axis=1))
            raise FeatureFileError(
                f"slide {self.slide_id!r}: features have NaN or infinite values in "
                f"{rows.size} patch(es) (rows {rows[:5].tolist()})"
            )
        if self.features.ndim != 2 or len(self.features) != len(self.coords):
            raise FeatureFileError(
                f"slide {self.slide_id!r}: features {self.features.shape} and coords "
                f"{self.coords.shape} do not describe the same patches"
            )
        if self.feature_names is not None:
            self.feature_names = tuple(self.feature_names)
            if len(self.feature_names) != self.features.shape[1]:
                raise FeatureFileError(
                    f"slide {self.slide_id!r}: {len(self.feature_names)} feature names for "
                    f"{self.features.shape[1]} features"
                )

    def __len__(self) -> int:
        return int(len(self.features))


def extract_features(
    slide: Slide,
    grid: TileGrid,
    encoder: PatchEncoder,
    *,
    batch_size: int = 32,
    patient_id: str = "",
    progress: bool = True,
) -> SlideFeatures:
    """Encode every patch of ``grid`` with ``encoder`` (reading pixels only if it needs them)."""
    chunks = [
        encoder.encode(batch)
        for batch in iter_patches(
            slide, grid, batch_size=batch_size, read_pixels=encoder.needs_pixels, progress=progress
        )
    ]
    dim = int(encoder.dim)
    features = np.concatenate(chunks) if chunks else np.zeros((0, dim), np.float32)
    return SlideFeatures(
        features=features,
        coords=grid.coords.copy(),
        slide_id=grid.slide_id,
        encoder=encoder.name,
        encoder_version=str(encoder.version),
        magnification=grid.magnification,
        patch_size=grid.patch_size,
        level=grid.level,
        size_level0=grid.size_level0,
        base_magnification=grid.base_magnification,
        mpp=slide.mpp if slide.mpp is not None else float("nan"),
        patient_id=patient_id,
        feature_names=getattr(encoder, "feature_names", None),
    )


_REQUIRED_ATTRS = (
    "slide_id",
    "encoder",
    "encoder_version",
    "magnification",
    "patch_size",
    "level",
    "size_level0",
)


def write_features(path: str | os.PathLike[str], feats: SlideFeatures) -> Path:
    """Write a :class:`SlideFeatures` to an HDF5 file, atomically.

    Layout: datasets ``features`` (float32[N, D]) and ``coords`` (int64[N, 2], level-0 x, y;
    with CLAM's ``patch_level = 0``/``patch_size = size_level0`` attributes too), optional
    ``feature_names``;
    root attributes ``format = "survlib-features"``, ``format_version``, ``slide_id``,
    ``patient_id``, ``encoder``, ``encoder_version``, ``magnification``, ``base_magnification``,
    ``patch_size``, ``size_level0``, ``level``, ``mpp``, ``survlib_version`` and any ``extra``.
    """
    import h5py

    from survlib import __version__

    path = Path(path)
    buffer = io.BytesIO()  # h5py needs a readable file; build in memory, then write atomically
    with h5py.File(buffer, "w") as h5:
        h5.create_dataset("features", data=feats.features, compression="gzip", compression_opts=4)
        coords = h5.create_dataset("coords", data=feats.coords)
        # CLAM's convention: a patch is patch_size pixels of level patch_level; stated at level
        # 0 here, so readers that only know CLAM's attributes get the right footprint.
        coords.attrs["patch_level"] = 0
        coords.attrs["patch_size"] = feats.size_level0
        coords.attrs["units"] = "level-0 pixels (x, y) of the top-left corner"
        if feats.feature_names is not None:
            h5.create_dataset(
                "feature_names",
                data=np.array(feats.feature_names, dtype=object),
                dtype=h5py.string_dtype(),
            )
        attrs = {
            "format": FEATURE_FORMAT,
            "format_version": FEATURE_FORMAT_VERSION,
            "slide_id": feats.slide_id,
            "patient_id": feats.patient_id,
            "encoder": feats.encoder,
            "encoder_version": feats.encoder_version,
            "magnification": float(feats.magnification),
            "base_magnification": float(feats.base_magnification),
            "patch_size": int(feats.patch_size),
            "size_level0": int(feats.size_level0),
            "level": int(feats.level),
            "mpp": float(feats.mpp),
            "survlib_version": __version__,
        }
        for key, value in feats.extra.items():
            if key in attrs:
                raise FeatureFileError(f"extra attribute {key!r} would overwrite a standard one")
            attrs[key] = value
        for key, value in attrs.items():
            h5.attrs[key] = value
    with atomic_write(path, mode="wb") as fh:
        fh.write(buffer.getbuffer())
    return path


def read_features(path: str | os.PathLike[str], **metadata: Any) -> SlideFeatures:
    """Read a feature file written by :func:`write_features`, or a CLAM-style h5 file.

    A CLAM-style file has ``features`` and ``coords`` datasets but not survlib's metadata;
    give what is missing as keyword arguments (``encoder=``, ``encoder_version=``,
    ``magnification=``, ``patch_size=``, ``level=``, ``size_level0=``; ``slide_id`` defaults
    to the file name). Keywords override what the file says only where the file is silent;
    a conflicting value is an error.

    Raises:
        FeatureFileError: the file is missing or malformed, or metadata is missing/conflicting.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FeatureFileError(f"{path}: feature file not found")
    try:
        with h5py.File(path, "r") as h5:
            if "features" not in h5 or "coords" not in h5:
                raise FeatureFileError(
                    f"{path}: needs 'features' and 'coords' datasets, has {sorted(h5)}"
                )
            features = h5["features"][()]
            coords = h5["coords"][()]
            attrs = {k: _plain(v) for k, v in h5.attrs.items()}
            coord_attrs = {k: _plain(v) for k, v in h5["coords"].attrs.items()}
            names = (
                tuple(
                    s.decode() if isinstance(s, bytes) else str(s) for s in h5["feature_names"][()]
                )
                if "feature_names" in h5
                else None
            )
    except FeatureFileError:
        raise
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        raise FeatureFileError(
            f"{path}: not a readable HDF5 feature file (corrupt or truncated: {exc})"
        ) from exc
    if features.ndim == 3 and features.shape[0] == 1:  # CLAM sometimes stores [1, N, D]
        features = features[0]
    if coords.ndim == 3 and coords.shape[0] == 1:
        coords = coords[0]

    # Fill from CLAM's coords attributes where survlib's are missing.
    if "level" not in attrs and "patch_level" in coord_attrs:
        attrs["level"] = coord_attrs["patch_level"]
    attrs.setdefault("slide_id", path.stem)
    for key, value in metadata.items():
        if key in attrs and attrs[key] != value and key != "slide_id":
            raise FeatureFileError(f"{path}: file says {key}={attrs[key]!r}, caller says {value!r}")
        attrs[key] = value
    if (
        "size_level0" not in attrs
        and coord_attrs.get("patch_level") == 0
        and "patch_size" in coord_attrs
    ):  # CLAM: patch_size pixels at level patch_level; at level 0 that is the footprint
        attrs["size_level0"] = coord_attrs["patch_size"]
    missing = [k for k in _REQUIRED_ATTRS if k not in attrs]
    if missing:
        raise FeatureFileError(
            f"{path}: missing metadata {missing}; pass them to read_features(..., "
            + ", ".join(f"{k}=..." for k in missing)
            + ")"
        )
    known = {
        f
        for f in SlideFeatures.__dataclass_fields__
        if f not in ("features", "coords", "feature_names", "extra")
    }
    skip = {"format", "format_version"}
    extra = {k: v for k, v in attrs.items() if k not in known and k not in skip}
    return SlideFeatures(
        features=features,
        coords=coords,
        feature_names=names,
        extra=extra,
        slide_id=str(attrs["slide_id"]),
        encoder=str(attrs["encoder"]),
        encoder_version=str(attrs["encoder_version"]),
        magnification=float(attrs["magnification"]),
        patch_size=int(attrs["patch_size"]),
        level=int(attrs["level"]),
        size_level0=int(attrs["size_level0"]),
        base_magnification=float(attrs.get("base_magnification", float("nan"))),
        mpp=float(attrs.get("mpp", float("nan"))),
        patient_id=str(attrs.get("patient_id", "")),
    )


def _unsupported_reason(path: Path, exc: Exception) -> str:
    """Why OpenSlide refused ``path``: a TIFF that does not parse is usually truncated."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
        size = path.stat().st_size
    except OSError:
        head, size = b"", -1
    if head in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return (
            f"a TIFF file that cannot be parsed ({size} bytes): truncated or corrupt "
            f"(an incomplete download or copy?); OpenSlide said: {exc}"
        )
    return f"not a whole-slide image format OpenSlide supports ({exc})"


def _plain(value: Any) -> Any:
    """An h5py attribute as a plain Python value."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


# ============================================================================ many slides

#: File suffixes :func:`encode_slides` picks up when given a folder (OpenSlide's formats).
SLIDE_SUFFIXES = (".svs", ".tif", ".tiff", ".ndpi", ".vms", ".vmu", ".scn", ".mrxs", ".svslide",
                  ".bif")

_ENCODERS: dict[tuple[str, str], PatchEncoder] = {}


def _worker_encoder(encoder: str | PatchEncoder, kwargs: dict[str, Any]) -> PatchEncoder:
    """The encoder a task uses: built once per process from its name (weights load once)."""
    if not isinstance(encoder, str):
        return encoder
    from survlib.parallel import PROCESS_LOCK

    key = (encoder, repr(sorted(kwargs.items())))
    with PROCESS_LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = get_encoder(encoder, **kwargs)
        return _ENCODERS[key]


def _features_match(path: Path, enc: PatchEncoder, magnification: float, patch_size: int) -> bool:
    """Whether ``path`` is a complete feature file of this encoder, magnification and size."""
    import h5py

    try:
        with h5py.File(path, "r") as h5:
            attrs = {k: _plain(v) for k, v in h5.attrs.items()}
            complete = "features" in h5 and "coords" in h5
    except OSError:
        return False
    return (
        complete
        and attrs.get("encoder") == enc.name
        and str(attrs.get("encoder_version")) == str(enc.version)
        and math.isclose(float(attrs.get("magnification", math.nan)), float(magnification))
        and int(attrs.get("patch_size", -1)) == int(patch_size)
    )


def _encode_slide_task(
    slide_path: str,
    out_path: str,
    encoder: str | PatchEncoder,
    encoder_kwargs: dict[str, Any],
    options: dict[str, Any],
) -> dict[str, Any]:
    """Encode one slide into one feature file (skipped when a matching file exists)."""
    import time

    import h5py

    start = time.perf_counter()
    out = Path(out_path)
    row: dict[str, Any] = {"slide": slide_path, "features": out_path, "status": "encoded",
                           "n_patches": 0, "seconds": 0.0, "error": ""}
    try:
        enc = _worker_encoder(encoder, encoder_kwargs)
        if not options["overwrite"] and out.is_file() and _features_match(
            out, enc, options["magnification"], options["patch_size"]
        ):
            with h5py.File(out, "r") as h5:
                row.update(status="skipped", n_patches=int(h5["features"].shape[0]))
            return row
        with Slide(slide_path, base_magnification=options["base_magnification"]) as slide:
            mask = tissue_mask(slide, downsample=options["mask_downsample"])
            grid = tile_grid(slide, magnification=options["magnification"],
                             patch_size=options["patch_size"], mask=mask,
                             min_tissue=options["min_tissue"])
            feats = extract_features(slide, grid, enc, batch_size=options["batch_size"],
                                     patient_id=options["patient_id"], progress=False)
        write_features(out, feats)
        row["n_patches"] = len(feats)
    except Exception as exc:  # noqa: BLE001 - recorded; the other slides go on
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    row["seconds"] = time.perf_counter() - start
    return row


def encode_slides(
    slides: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    executor: Any = None,
    encoder: str | PatchEncoder = "handcrafted",
    encoder_kwargs: dict[str, Any] | None = None,
    magnification: float = 20.0,
    patch_size: int = 256,
    min_tissue: float = 0.5,
    mask_downsample: float = 32.0,
    base_magnification: float | None = None,
    batch_size: int = 32,
    patient_ids: dict[str, str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Any:
    """Encode many slides, one task per slide, into ``out_dir/<slide stem>.h5``; resumable.

    Each task runs the single-slide pipeline (:func:`tissue_mask`, :func:`tile_grid`,
    :func:`extract_features`) and :func:`write_features` (atomic: an interrupted run leaves
    the previous file or none, never half of one). A slide whose feature file already exists
    with the same encoder, encoder version, magnification and patch size is skipped, so
    re-running the same call after an interruption encodes only what is missing. A slide that
    fails (missing, corrupt, no tissue...) is recorded with its error; the others go on.

    Args:
        slides: a folder (every file with a suffix in :data:`SLIDE_SUFFIXES`) or a list of
            slide paths. Slide ids (and output names) are the file stems; they must be unique.
        out_dir: folder of the feature files (created).
        executor: ``None`` (serial), a :class:`concurrent.futures.Executor` or a
            :class:`distributed.Client` (see :mod:`survlib.parallel`).
        encoder: a name for :func:`get_encoder` (each worker process builds it once, so
            UNI's weights load once per worker) or an encoder object (sent to the workers).
        encoder_kwargs: keyword arguments for :func:`get_encoder` (``weights=``, ``device=``).
        magnification, patch_size, min_tissue: the tiling (:func:`tile_grid`).
        mask_downsample: thumbnail downsample of :func:`tissue_mask`.
        base_magnification: level-0 magnification for slides that do not record it.
        batch_size: patches per encoder call.
        patient_ids: optional slide id -> patient id, stored in the files.
        overwrite: re-encode even slides whose files match.
        progress: a progress bar over slides.

    Returns:
        A DataFrame, one row per slide in input order: ``slide``, ``slide_id``, ``features``
        (path), ``status`` (``"encoded"``, ``"skipped"`` or ``"failed"``), ``n_patches``,
        ``seconds``, ``error``.
    """
    import pandas as pd

    from survlib import parallel

    if isinstance(slides, str | os.PathLike):
        folder = Path(slides)
        if not folder.is_dir():
            raise ValueError(f"slides={str(slides)!r} is not a folder; pass a folder or a list "
                             "of slide paths")
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in SLIDE_SUFFIXES)
        if not paths:
            raise ValueError(f"slides={str(slides)!r}: no slide files ({', '.join(SLIDE_SUFFIXES)})")
    else:
        paths = [Path(p) for p in slides]
        if not paths:
            raise ValueError("slides is empty: pass a folder or a list of slide paths")
    seen: dict[str, Path] = {}
    for p in paths:
        if p.stem in seen:
            raise ValueError(f"slides {seen[p.stem]} and {p} share the id {p.stem!r}; "
                             "their feature files would collide")
        seen[p.stem] = p
    if int(patch_size) < 1 or float(magnification) <= 0:
        raise ValueError(f"patch_size must be >= 1 and magnification > 0, got "
                         f"patch_size={patch_size}, magnification={magnification}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pool = parallel.check_executor(executor)
    parallel.check_picklable(encoder, pool, "encoder")
    ids = patient_ids or {}
    tasks = []
    for p in paths:
        options = {"magnification": float(magnification), "patch_size": int(patch_size),
                   "min_tissue": float(min_tissue), "mask_downsample": float(mask_downsample),
                   "base_magnification": base_magnification, "batch_size": int(batch_size),
                   "patient_id": str(ids.get(p.stem, "")), "overwrite": bool(overwrite)}
        tasks.append((str(p), str(out / f"{p.stem}.h5"), encoder, dict(encoder_kwargs or {}),
                      options))
    futures = [parallel.submit(pool, _encode_slide_task, *task, retries=1) for task in tasks]
    rows = []
    try:
        for future in tqdm(futures, desc="slides", disable=not progress, leave=False):
            rows.append(future.result())
    except BaseException:
        parallel.cancel(pool, futures)
        raise
    table = pd.DataFrame(rows, columns=["slide", "features", "status", "n_patches", "seconds",
                                        "error"])
    table.insert(1, "slide_id", [p.stem for p in paths])
    failed = table[table["status"] == "failed"]
    if len(failed):
        import warnings

        warnings.warn(f"encode_slides: {len(failed)} of {len(table)} slide(s) failed: "
                      + "; ".join(f"{s}: {e}" for s, e in zip(failed["slide_id"], failed["error"])),
                      RuntimeWarning, stacklevel=2)
    return table


@dataclass(frozen=True)
class PatientBag:
    """All patches of one patient (the union of their slides' bags).

    Attributes:
        patient_id: the patient.
        features: ``float32[N, D]``.
        coords: ``int64[N, 2]`` level-0 coordinates within each patch's own slide.
        slide_index: ``int64[N]`` which of ``slide_ids`` each patch comes from.
        slide_ids: the slides, in order.
        encoder, encoder_version, magnification, patch_size: shared by all slides.
    """

    patient_id: str
    features: np.ndarray
    coords: np.ndarray
    slide_index: np.ndarray
    slide_ids: tuple[str, ...]
    encoder: str
    encoder_version: str
    magnification: float
    patch_size: int

    def __len__(self) -> int:
        return int(len(self.features))


def patient_bag(
    slides: Sequence[SlideFeatures],
    patient_id: str | None = None,
    *,
    max_patches: int | None = None,
    seed: int = 0,
) -> PatientBag:
    """Combine one patient's slides into one bag (the policy in the module docstring).

    Patches of all slides are concatenated in slide order; ``slide_index`` records the
    source. Slides must agree on encoder, encoder version, magnification and patch size.
    With ``max_patches``, a uniform random subset (``np.random.default_rng(seed)``, order
    kept) of the whole bag is returned.

    Raises:
        ValueError: no slides, slides of different patients, or incompatible features.
    """
    if not slides:
        raise ValueError("patient_bag: no slides given")
    first = slides[0]
    pids = {s.patient_id for s in slides if s.patient_id}
    if len(pids) > 1:
        raise ValueError(f"patient_bag: slides belong to several patients {sorted(pids)}")
    pid = patient_id if patient_id is not None else (pids.pop() if pids else first.slide_id)
    for s in slides[1:]:
        for key in ("encoder", "encoder_version", "magnification", "patch_size"):
            if getattr(s, key) != getattr(first, key):
                raise ValueError(
                    f"patient_bag({pid!r}): slide {s.slide_id!r} has {key}={getattr(s, key)!r} "
                    f"but {first.slide_id!r} has {getattr(first, key)!r}; "
                    "features are not comparable"
                )
        if s.features.shape[1] != first.features.shape[1]:
            raise ValueError(f"patient_bag({pid!r}): feature dimensions differ")
    features = np.concatenate([s.features for s in slides])
    coords = np.concatenate([s.coords for s in slides])
    slide_index = np.concatenate([np.full(len(s), i, dtype=np.int64) for i, s in enumerate(slides)])
    if max_patches is not None and len(features) > max_patches:
        keep = np.sort(
            np.random.default_rng(seed).choice(len(features), max_patches, replace=False)
        )
        features, coords, slide_index = features[keep], coords[keep], slide_index[keep]
    return PatientBag(
        patient_id=pid,
        features=features,
        coords=coords,
        slide_index=slide_index,
        slide_ids=tuple(s.slide_id for s in slides),
        encoder=first.encoder,
        encoder_version=first.encoder_version,
        magnification=first.magnification,
        patch_size=first.patch_size,
    )


# ============================================================================ heat maps


def score_heatmap(
    scores: np.ndarray,
    coords: np.ndarray,
    size_level0: int,
    shape: tuple[int, int],
    downsample: tuple[float, float],
) -> np.ndarray:
    """Paint per-patch scores onto a thumbnail-sized grid.

    Each patch covers ``[x, x+s) x [y, y+s)`` at level 0, i.e. thumbnail pixels
    ``[x/dx, (x+s)/dx) x [y/dy, (y+s)/dy)``; overlapping patches are averaged and pixels under
    no patch are NaN (shown transparent).

    Args:
        scores: ``float[N]`` (attention, risk, a class probability...).
        coords: ``int[N, 2]`` level-0 ``(x, y)``.
        size_level0: patch footprint at level 0.
        shape: ``(h, w)`` of the thumbnail.
        downsample: level-0 pixels per thumbnail pixel ``(x, y)``.

    Returns:
        ``float[h, w]``.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    coords = np.asarray(coords).reshape(-1, 2)
    if len(scores) != len(coords):
        raise ValueError(f"score_heatmap: {len(scores)} scores for {len(coords)} patches")
    h, w = shape
    total = np.zeros((h, w))
    count = np.zeros((h, w))
    dsx, dsy = downsample
    for s, (x, y) in zip(scores, coords):
        x0, y0 = int(np.floor(x / dsx)), int(np.floor(y / dsy))
        x1 = max(x0 + 1, int(np.ceil((x + size_level0) / dsx)))
        y1 = max(y0 + 1, int(np.ceil((y + size_level0) / dsy)))
        total[y0:y1, x0:x1] += s
        count[y0:y1, x0:x1] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def plot_heatmap(
    thumbnail: np.ndarray,
    heat: np.ndarray,
    *,
    ax: Axes | None = None,
    alpha: float = 0.5,
    cmap: str = "coolwarm",
    title: str | None = None,
    label: str = "score",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Axes:
    """Show ``heat`` (from :func:`score_heatmap`) over the thumbnail, red = high, blue = low.

    ``vmin``/``vmax`` fix the colour scale (default: the range of the scores).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(thumbnail)
    image = ax.imshow(
        np.ma.masked_invalid(heat),
        cmap=cmap,
        alpha=alpha,
        interpolation="nearest",
        vmin=vmin,
        vmax=vmax,
    )
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=label)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_top_patches(
    slide: Slide,
    grid: TileGrid,
    scores: np.ndarray,
    *,
    k: int = 8,
    ncols: int = 4,
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """A gallery of the ``k`` highest-scoring patches, read at the grid's magnification.

    Args:
        slide, grid: where the patches are.
        scores: ``float[N]`` aligned with ``grid.coords``.
        k: number of patches.
        ncols: gallery columns.
        labels: optional text per patch (``len == N``) shown under the score.
        title: figure title.
    """
    import matplotlib.pyplot as plt

    scores = np.asarray(scores, dtype=np.float64).ravel()
    if len(scores) != len(grid):
        raise ValueError(f"plot_top_patches: {len(scores)} scores for {len(grid)} patches")
    k = min(k, len(scores))
    order = np.argsort(-scores, kind="stable")[:k]
    nrows = max(1, math.ceil(k / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.2 * ncols, 2.4 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, i in zip(axes.ravel(), order):
        x, y = grid.coords[i]
        ax.imshow(read_patch(slide, grid, x, y))
        text = f"{scores[i]:.2f}"
        if labels is not None:
            text += f"  {labels[i]}"
        ax.set_title(text, fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
